"""Sequence classification: a labelled file (text or numeric sequences) ->
tokenizer/vocabulary or standardisation -> length buckets -> classifier ->
trainer -> run folder; and back: predict and evaluate."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from rnnkit.data.buckets import LoadedBatches, PaddedBatches, bucket_batches, pad_sequences
from rnnkit.data.examples import Examples, LabelSet, is_numeric, read_examples
from rnnkit.data.sequences import standardise
from rnnkit.data.words import TextEncoder
from rnnkit.errors import DataError
from rnnkit.metrics import (
    classification_report,
    confusion_matrix,
    plot_confusion_matrix,
)
from rnnkit.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    with_temperature,
)
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.tasks.classify_data import ClassifyDataConfig, prepare, pretrained
from rnnkit.tasks.common import Recipe, Run, fit, start_run
from rnnkit.tasks.transfer import read_encoder, start_from
from rnnkit.train import TrainConfig
from rnnkit.train.distributed import processes


class ClassifierTask:
    """Classification as the trainer sees it (:class:`rnnkit.train.TrainingTask`). ``train``
    and ``dev`` are ``(inputs, label ids)``; ``augment(sequence, generator)``, if given,
    changes each training sequence as its batch is built (see :class:`PaddedBatches`), in
    ``workers`` DataLoader processes when that is more than 0."""

    unit = "examples"
    higher_is_better = ("accuracy", "macro_f1", "macro_recall")

    def __init__(
        self,
        train,
        dev,
        num_classes,
        batch_size,
        seed,
        device,
        class_weights: bool,
        augment=None,
        workers: int = 0,
    ):
        self.train, self.dev, self.num_classes, self.augment = train, dev, num_classes, augment
        self.batch_size, self.seed, self.device, self.workers = batch_size, seed, device, workers
        self.weight = None
        if class_weights:  # "balanced" weights: n / (classes * count)
            counts = torch.bincount(train[1], minlength=num_classes).float()
            self.weight = (counts.sum() / (num_classes * counts.clamp_min(1))).to(device)
        self._lengths = [len(x) for x in train[0]]

    def batches(self, epoch: int):
        indices = bucket_batches(
            self._lengths, self.batch_size, shuffle=True, seed=self.seed, epoch=epoch
        )
        made_here = self.workers == 0
        batches = PaddedBatches(
            self.train[0],
            self.train[1],
            indices,
            self.device if made_here else "cpu",
            transform=self.augment,
            seed=self.seed * 100_003 + epoch,
        )
        return batches if made_here else LoadedBatches(batches, self.workers, self.device)

    def loss(self, model, batch, carry):
        inputs, lengths, labels = batch
        logits = model(inputs, lengths)
        return F.cross_entropy(logits.float(), labels, weight=self.weight), None, len(labels)

    def evaluate(self, model) -> dict:
        ranks = processes()  # under torchrun each rank scores its share of the examples
        mine = self.dev[0][ranks.rows(len(self.dev[0]))]
        probabilities = predict_probabilities(model, mine, self.batch_size, self.device)
        probabilities = ranks.gather_rows(probabilities)
        report = report_of(probabilities, self.dev[1], range(self.num_classes))
        return {
            "loss": report["loss"],
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "macro_recall": report["macro_recall"],
        }


def report_of(probabilities, targets, names, plot=None, title: str = "") -> dict:
    """:func:`classification_report` of class probabilities ``(n, classes)`` against
    targets ``(n,)``, with the mean cross-entropy as ``loss``; the confusion matrix
    also goes to ``plot`` (a PNG) if given."""
    matrix = confusion_matrix(targets, probabilities.argmax(1), len(names))
    report = classification_report(matrix, names)
    report["loss"] = F.nll_loss(probabilities.clamp_min(1e-12).log(), targets).item()
    report["ece"] = expected_calibration_error(probabilities.numpy(), targets.numpy())
    if plot is not None:
        plot_confusion_matrix(matrix, names, plot, title)
    return report


def predict_probabilities(model, inputs, batch_size: int, device) -> torch.Tensor:
    """Class probabilities ``(n, num_classes)`` in input order, batched by length."""
    order = (
        bucket_batches([len(x) for x in inputs], batch_size, shuffle=False) if len(inputs) else []
    )
    result = torch.empty(len(inputs), model.config.num_classes)
    model.eval()
    with torch.no_grad():
        for rows in order:
            padded, lengths = pad_sequences([inputs[i] for i in rows])
            result[rows] = torch.softmax(model(padded.to(device), lengths).float(), -1).cpu()
    return result


RECIPE = Recipe(
    "classify",
    ClassifyDataConfig,
    ClassifierConfig,
    # SST-2 without external embeddings, as measured in BENCHMARKS.md: 86% dev in 5.4 minutes.
    model_defaults={
        "num_layers": 2,
        "hidden_size": 128,
        "embedding_size": 128,
        "embedding_dropout": 0.5,
    },
    # Accuracy is what classification users compare; --select-by loss changes it.
    train_defaults={"weight_decay": 0.1, "epochs": 10.0, "select_by": "accuracy"},
)


TRANSFER_RECIPE = Recipe(
    "classify",
    ClassifyDataConfig,
    ClassifierConfig,
    # ULMFiT's schedule (Howard & Ruder 2018): the top group first and one more every 500
    # steps (about half an SST-2 epoch), each group 2.6 times slower than the one above, and a
    # slanted triangle (a short warm-up, then a linear decay to 1/32).
    model_defaults={"pooling": "max", "embedding_dropout": 0.1, "dropout": 0.3},
    train_defaults={
        "weight_decay": 0.01,
        "epochs": 5.0,
        "select_by": "accuracy",
        "learning_rate": 4e-3,
        "layer_lr_decay": 2.6,
        "unfreeze_every": 500,
        "warmup_steps": 300,
        "decay": "linear",
        "min_lr_ratio": 1 / 32,
    },
)


def recipe_for(data: ClassifyDataConfig | None) -> Recipe:
    """The measured recipe: from scratch, or from a language model (``--encoder``)."""
    return TRANSFER_RECIPE if data is not None and data.encoder else RECIPE


class ClassifierRun(Run):
    """A trained classifier with its encoder and labels: predict and evaluate from Python.

    >>> run = rnnkit.load_classifier("runs/sst2")
    >>> run.predict(["a gorgeous, witty film"])
    [{'label': '1', 'probabilities': {'0': 0.03, '1': 0.97}}]
    """

    recipe, network = RECIPE, SequenceClassifier

    def __init__(self, model, config, folder, device):
        super().__init__(model, config, folder, device)
        data = config["data"]
        self.labels = LabelSet(data["labels"])
        # Run folders written before --encoder existed keep the text encoder under "encoder".
        saved = data.get("text_encoder", data.get("encoder"))
        self.encoder = TextEncoder.from_dict(saved) if isinstance(saved, dict) else None
        self.statistics = data["statistics"]

    def encode(self, examples: Examples) -> list:
        if self.encoder is not None:
            return self.encoder.encode(examples.inputs)
        return standardise(examples.inputs, self.statistics)[0]

    def read_examples(self, path, labels_required: bool = True) -> Examples:
        data = self.config["data"]
        numeric = self.encoder is None
        if is_numeric(path, data["sequence_column"]) != numeric:
            kind = "numeric sequences" if numeric else "text"
            raise DataError(f"{path}: this model classifies {kind}; the file holds the other kind")
        return read_examples(
            path,
            numeric,
            data["text_column"],
            data["label_column"],
            data["sequence_column"],
            labels_required,
        )

    def probabilities(self, inputs: list) -> torch.Tensor:
        """Class probabilities ``(n, classes)`` of encoded inputs, in the training precision,
        at the run's fitted temperature (if ``--calibrate`` fitted one)."""
        with self.inference():
            raw = predict_probabilities(self.model, inputs, 256, self.device)
        temperature = (self.config.get("calibration") or {}).get("temperature", 1.0)
        return torch.from_numpy(with_temperature(raw.numpy(), temperature))

    def predict(self, inputs) -> list[dict]:
        """``inputs``: texts, or float tensors ``(time, features)`` for numeric models."""
        examples = Examples(list(inputs), None, [], "input")
        probabilities = self.probabilities(self.encode(examples))
        return [
            {
                "label": self.labels.names[int(row.argmax())],
                "probabilities": dict(zip(self.labels.names, map(float, row))),
            }
            for row in probabilities
        ]

    def evaluate(self, path, plot=None) -> dict:
        """Accuracy, macro-F1, per-class precision/recall and the confusion matrix on a labelled
        file."""
        examples = self.read_examples(path)
        return report_of(
            self.probabilities(self.encode(examples)),
            self.labels.encode(examples),
            self.labels.names,
            plot,
            f"{self.folder.path.name} on {path}",
        )


def train_classifier(
    out,
    data: ClassifyDataConfig | None = None,
    model: ClassifierConfig | None = None,
    train: TrainConfig | None = None,
    resume: bool = False,
    log=print,
    on_step=None,
):
    """Trains a classifier into the run folder ``out``; returns ``(ClassifierRun, Counters,
    dev_report)``.

    ``dev_report`` is :meth:`ClassifierRun.evaluate`'s report for the best
    weights on the validation set; its confusion matrix is also saved as
    ``confusion_dev.png``. ``log`` receives messages such as the embeddings' coverage.
    Configs not given are the measured SST-2 recipe (:data:`RECIPE`).
    """
    start = start_run(recipe_for(data), out, data, model, train, resume)
    data, model = start.data, start.model
    if not data.train:
        raise DataError("no training file: set ClassifyDataConfig.train (--train)")
    language_model = read_encoder(data.encoder) if data.encoder else None
    if language_model is not None and data.embeddings:
        raise DataError("--encoder and --embeddings both start the embedding; give one")
    train_set, dev_set, labels, encoder, statistics = prepare(
        data, model, start.train.seed, language_model
    )
    vectors = pretrained(data, model, encoder, log) if data.embeddings and not resume else None
    if language_model is not None and not resume:
        log(language_model.describe(data.encoder))

    def build_network():
        network = SequenceClassifier(model)
        if vectors is not None:
            network.load_pretrained(vectors[1], vectors[0])
        if language_model is not None and not resume:
            start_from(network, language_model)
        return network

    task = ClassifierTask(
        train_set,
        dev_set,
        model.num_classes,
        data.batch_size,
        start.train.seed,
        start.device,
        data.class_weights,
    )
    derived = {
        "labels": labels.names,
        "text_encoder": encoder.to_dict() if encoder else None,
        "statistics": statistics,
    }
    counters = fit(
        start,
        build_network,
        task,
        files={"train": data.train, "dev": data.dev},
        derived=derived,
        on_step=on_step,
    )
    run = ClassifierRun.load(out, device=start.train.device)
    if data.calibrate:
        calibrate(run, dev_set, log)
    report = report_of(
        run.probabilities(dev_set[0]),
        dev_set[1],
        run.labels.names,
        start.folder.file("confusion_dev.png"),
        f"{start.folder.path.name}: dev",
    )
    return run, counters, report


def calibrate(run: ClassifierRun, dev_set, log=print) -> dict:
    """Fits the temperature of ``run`` on the encoded dev set ``(inputs, label ids)`` and saves
    it in the run's config (with the dev set's calibration error before and after)."""
    run.config.pop("calibration", None)
    raw = run.probabilities(dev_set[0]).numpy()
    targets = dev_set[1].numpy()
    temperature = fit_temperature(raw, targets)
    calibration = {
        "temperature": temperature,
        "dev_ece_before": expected_calibration_error(raw, targets),
        "dev_ece_after": expected_calibration_error(with_temperature(raw, temperature), targets),
    }
    run.config["calibration"] = calibration
    run.folder.write_config(run.config)
    log(
        f"calibrated on the dev set: temperature {temperature:.3f}; expected calibration error "
        f"{calibration['dev_ece_before']:.4f} -> {calibration['dev_ece_after']:.4f}"
    )
    return calibration


def load_classifier(folder, device: str = "auto") -> ClassifierRun:
    """Loads the best weights of a classification run folder with its labels and encoder."""
    return ClassifierRun.load(folder, device)
