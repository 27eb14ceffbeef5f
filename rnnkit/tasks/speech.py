"""Spoken-word classification: WAV files (a folder by file-name pattern, or a
manifest) -> features (:mod:`rnnkit.data.audio`) -> the sequence classifier with
lengths and SpecAugment -> trainer -> run folder; and back: predict and evaluate,
with accuracy per speaker."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import torch

from rnnkit.data.audio import (
    AudioConfig,
    FeatureExtractor,
    TrainingFeatures,
    change_speed,
    spec_augment,
)
from rnnkit.data.examples import LabelSet
from rnnkit.data.speech import SPLITS, Recording, read_recordings, split_recordings
from rnnkit.data.wav import read_wav
from rnnkit.errors import ConfigError, DataError, RunFolderError
from rnnkit.fields import AT_LEAST_ONE, NON_NEGATIVE, Range, check_fields
from rnnkit.io import parse_list
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.tasks.classifier import ClassifierTask, predict_probabilities, report_of
from rnnkit.tasks.common import Recipe, Run, fit, start_run
from rnnkit.train import TrainConfig


@dataclass
class SpeechDataConfig:
    """Where the recordings come from, how they are split, and how training batches are
    augmented."""

    data: str | None = None
    """A folder of .wav files labelled by --pattern, or a CSV manifest with columns
    path,label[,speaker][,split]."""
    pattern: str = "{label}_{speaker}_{index}.wav"
    """File-name pattern of a folder's recordings: fields {label}, {speaker}, {index} and {any}."""
    split: str = "auto"
    """Which recordings are the test set: index (--test-indices), speakers (--test-speakers), column
    (the manifest's split column), random (--test-fraction), or auto (the first that applies, in
    that order: speakers, column, index, random)."""
    test_indices: str = "0-4"
    """File-name indices of the test recordings for --split index (FSDD's standard split is 0-4)."""
    test_speakers: str | None = None
    """Comma-separated speakers held out for testing (a speaker-independent split)."""
    test_fraction: float = 0.1
    """Share of the recordings tested on for --split random (seeded)."""
    valid_fraction: float = 0.1
    """Share of the remaining recordings held out for validation (seeded)."""
    batch_size: int = 32
    """Recordings per batch (batches group recordings of similar length)."""
    speeds: str = "0.85,0.9,0.95,1.0,1.05,1.1,1.15"
    """Speed perturbation (Ko et al. 2015): each training recording plays at one of these speeds,
    drawn afresh each epoch; 1.0 turns it off."""
    noise_snr: float = 15.0
    """Add white noise to each training recording at a random signal-to-noise ratio between this and
    40 dB; 0 turns it off."""
    vtlp: float = 0.1
    """Vocal-tract-length perturbation (Jaitly & Hinton 2013): each training recording's
    frequency axis is warped by a factor drawn from [1 - vtlp, 1 + vtlp]; 0 turns it off."""
    test_speeds: str = "0.9,1.0,1.1"
    """Test-time augmentation: score each recording at these speeds and average the
    log-probabilities (e.g. 0.9,1.0,1.1); 1.0 scores it once."""
    time_masks: int = 3
    """SpecAugment: time masks per training recording (0 turns them off)."""
    time_mask_width: int = 10
    """SpecAugment: longest time mask, in frames."""
    feature_masks: int = 2
    """SpecAugment: feature-channel masks per training recording (0 turns them off)."""
    feature_mask_width: int = 8
    """SpecAugment: widest feature mask, in channels."""
    ensemble: int = 1
    """Models trained (the run folder's, then members/1, members/2, ... with seeds seed + 1,
    seed + 2, ...) and scored together: their log-probabilities averaged. Each member takes
    a whole training run."""
    workers: int = 0
    """DataLoader worker processes that compute the next batches' augmented features while
    the model trains; 0 computes them in the training process. The batches are the same
    with any number of workers (each is seeded by its index), so resume stays exact."""

    BOUNDS = {
        "split": SPLITS,
        "test_fraction": Range(0, 1, low_open=True, high_open=True),
        "valid_fraction": Range(0, 1, low_open=True, high_open=True),
        "batch_size": AT_LEAST_ONE,
        "noise_snr": NON_NEGATIVE,
        "vtlp": Range(0, 0.5, high_open=True),
        "time_masks": NON_NEGATIVE,
        "time_mask_width": NON_NEGATIVE,
        "feature_masks": NON_NEGATIVE,
        "feature_mask_width": NON_NEGATIVE,
        "ensemble": Range(1, 32),
        "workers": Range(0, 256),
    }

    def __post_init__(self):
        check_fields(self)
        self.speed_list(), self.test_speed_list()

    def speed_list(self) -> list[float]:
        return _speeds("speeds", self.speeds)

    def test_speed_list(self) -> list[float]:
        return _speeds("test_speeds", self.test_speeds)

    def mask(self):
        """SpecAugment as ``mask(features, generator)``, or None when it is off."""
        if not (self.time_masks or self.feature_masks):
            return None
        return partial(
            spec_augment,
            time_masks=self.time_masks,
            time_width=self.time_mask_width,
            feature_masks=self.feature_masks,
            feature_width=self.feature_mask_width,
        )

    def waveform_transform(self, extractor: FeatureExtractor) -> TrainingFeatures:
        """``(waveform, generator) -> features``, with the speed perturbation and masks."""
        return TrainingFeatures(
            extractor, self.speed_list(), self.mask(), self.noise_snr or None, self.vtlp
        )

    def training_inputs(self, extractor: FeatureExtractor, waves: list[torch.Tensor]):
        """``(inputs, transform)`` for :class:`ClassifierTask`: without speed perturbation
        or noise, the features (computed once) and the masks; else the waveforms and
        :meth:`waveform_transform`, which computes features afresh for every batch."""
        if self.speed_list() == [1.0] and not self.noise_snr and not self.vtlp:
            return [extractor.extract(w) for w in waves], self.mask()
        return waves, self.waveform_transform(extractor)

    def split_of(self, recordings: list[Recording], seed: int) -> dict[str, list[Recording]]:
        return split_recordings(
            recordings,
            self.split,
            self.test_indices,
            self.test_speakers,
            self.test_fraction,
            self.valid_fraction,
            seed,
        )


def _speeds(name: str, text: str) -> list[float]:
    try:
        speeds = parse_list(text, float)
    except ValueError:
        speeds = []
    if not speeds or not all(0.25 <= speed <= 4 for speed in speeds):
        raise ConfigError(
            name, f"must be comma-separated speeds in [0.25, 4], e.g. 0.9,1.0,1.1; got {text!r}"
        )
    return speeds


def encode_labels(recordings: list[Recording], labels: LabelSet) -> torch.Tensor:
    for recording in recordings:
        if recording.label not in labels.index:
            raise DataError(
                f"{recording.path}: label {recording.label!r} is not among the training labels "
                f"({', '.join(labels.names)})"
            )
    return torch.tensor([labels.index[r.label] for r in recordings], dtype=torch.long)


def per_speaker(recordings: list[Recording], correct: torch.Tensor) -> dict[str, dict]:
    """Accuracy and count per speaker (recordings without one count as '?')."""
    table: dict[str, list[int]] = {}
    for recording, right in zip(recordings, correct.tolist()):
        table.setdefault(recording.speaker or "?", []).append(right)
    return {
        name: {"accuracy": sum(v) / len(v), "support": len(v)} for name, v in sorted(table.items())
    }


RECIPE = Recipe(
    "speech",
    SpeechDataConfig,
    ClassifierConfig,
    # Speech-sized settings for the shared classifier (its own defaults suit word embeddings).
    model_defaults={
        "hidden_size": 128,
        "dropout": 0.3,
        "embedding_dropout": 0.1,
        "pooling": "mean",
    },
    # FSDD has ~2,400 training recordings: 80 epochs take ~3 minutes here; validation
    # every 200 steps is about every 2-3 epochs.
    train_defaults={"epochs": 80.0, "eval_every": 200, "select_by": "accuracy"},
    extra_configs={"audio": AudioConfig},
)


class SpeechRun(Run):
    """A trained spoken-word classifier: ``predict(paths)`` and ``evaluate(recordings)``.

    >>> run = rnnkit.load_speech_classifier("runs/fsdd")
    >>> run.predict(["7_jackson_32.wav"])
    [{'file': '7_jackson_32.wav', 'label': '7', 'probabilities': {'0': 0.0, ..., '7': 0.99, ...}}]
    """

    recipe, network = RECIPE, SequenceClassifier

    def __init__(self, model, config, folder, device):
        super().__init__(model, config, folder, device)
        self.labels = LabelSet(config["data"]["labels"])
        self.audio = self.config_of("audio")
        self.extractor = FeatureExtractor(self.audio)
        self.test_speeds = self.config_of("data").test_speed_list()
        """Speeds each recording is scored at (test-time augmentation); [1.0] scores it as it is."""
        self.members = [model, *(m.model for m in self._load_members(device))]
        """The ensemble's models: this folder's, then those of ``members/1``, ... (--ensemble)."""

    def _load_members(self, device) -> list[SpeechRun]:
        wanted = self.config["data"].get("ensemble", 1)
        folders = [self.folder.path / "members" / str(k) for k in range(1, wanted)]
        missing = [str(f) for f in folders if not (f / "model.safetensors").is_file()]
        if missing:
            raise RunFolderError(
                f"{self.folder.path}: an ensemble of {wanted} models, but {missing[0]} has no "
                f"trained model; finish it with --resume"
            )
        return [SpeechRun.load(folder, str(device)) for folder in folders]

    def probabilities(self, paths) -> torch.Tensor:
        """Class probabilities ``(n, classes)`` of WAV files: the softmax of the mean
        log-probability over :attr:`test_speeds` and the ensemble's :attr:`members`."""
        waves = [self.extractor.waveform(*read_wav(path)) for path in paths]
        total = 0
        for speed in self.test_speeds:
            features = [
                self.extractor.extract(change_speed(w, speed) if speed != 1 else w) for w in waves
            ]
            for model in self.members:
                with self.inference():
                    probabilities = predict_probabilities(model, features, 64, self.device)
                total = total + probabilities.clamp_min(1e-12).log()
        return torch.softmax(total / (len(self.test_speeds) * len(self.members)), dim=1)

    def predict(self, paths) -> list[dict]:
        """Label and class probabilities of each WAV file in ``paths``."""
        paths = list(paths)
        rows = self.probabilities(paths)
        return [
            {
                "file": str(path),
                "label": self.labels.names[int(row.argmax())],
                "probabilities": dict(zip(self.labels.names, map(float, row))),
            }
            for path, row in zip(paths, rows)
        ]

    def evaluate(self, recordings: list[Recording], plot=None, title: str = "") -> dict:
        """:func:`rnnkit.metrics.classification_report` of the recordings, plus ``per_speaker``
        accuracy."""
        if not recordings:
            raise DataError("no recordings to evaluate")
        targets = encode_labels(recordings, self.labels)
        probabilities = self.probabilities([r.path for r in recordings])
        report = report_of(probabilities, targets, self.labels.names, plot, title)
        report["per_speaker"] = per_speaker(recordings, probabilities.argmax(1) == targets)
        return report

    def split(self, source=None, split: str = "test") -> list[Recording]:
        """The recordings of one split of ``source`` (default: the training data), split as in
        training."""
        data = self.config_of("data")
        recordings = read_recordings(source or data.data, data.pattern)
        seed = self.config["data"].get("split_seed", self.config["train"]["seed"])
        return data.split_of(recordings, seed)[split]


def _prepare(data: SpeechDataConfig, extractor: FeatureExtractor, seed: int):
    """The split recordings, their labels, the training inputs and transform, and the features of
    the rest."""
    parts = data.split_of(read_recordings(data.data, data.pattern), seed)
    for name in ("train", "valid"):
        if not parts[name]:
            raise DataError(
                f"{data.data}: the {name} split is empty; check --split and the fractions"
            )
    labels = LabelSet.from_labels(r.label for r in parts["train"])
    if len(labels.names) < 2:
        raise DataError(
            f"{data.data}: the training recordings have {len(labels.names)} label; need at least 2"
        )
    waves = [extractor.waveform(*read_wav(r.path)) for r in parts["train"]]
    inputs, transform = data.training_inputs(extractor, waves)
    return parts, labels, inputs, transform, [extractor.read(r.path) for r in parts["valid"]]


def start_speech_run(recipe: Recipe, out, data, audio, model, train, resume: bool):
    """:func:`start_run` for the speech tasks, whose data config must name the recordings."""
    start = start_run(recipe, out, data, model, train, resume, audio=audio)
    if not start.data.data:
        raise DataError(
            f"no recordings: set {recipe.data_config.__name__}.data "
            "(--data FOLDER or --data manifest.csv)"
        )
    return start


def speech_fingerprint(labels: LabelSet, parts: dict) -> tuple[dict, dict]:
    """``(derived, fingerprint)`` for :func:`fit`: the labels, and the split sizes,
    which must not change between a run and its resumption."""
    return {"labels": labels.names}, {"counts": {name: len(part) for name, part in parts.items()}}


def train_speech_classifier(
    out,
    data: SpeechDataConfig | None = None,
    audio: AudioConfig | None = None,
    model: ClassifierConfig | None = None,
    train: TrainConfig | None = None,
    resume: bool = False,
    on_step=None,
):
    """Trains a spoken-word classifier into ``out`` (with --ensemble K, K of them); returns
    ``(SpeechRun, Counters, test report)`` (the report is :meth:`SpeechRun.evaluate` on the
    test split, or None if it is empty; the counters are the first model's, or those of the
    model that Ctrl-C interrupted: then the members after it are not trained, and an
    unfinished ensemble returns ``(None, counters, None)``; --resume finishes it)."""
    start = start_speech_run(RECIPE, out, data, audio, model, train, resume)
    counters, test = _train_one(start, start.train.seed, on_step)
    for member in range(1, start.data.ensemble):
        if counters.stopped_because == "interrupted":
            return None, counters, None
        folder = start.folder.path / "members" / str(member)
        # The same split as the first model (split_seed), so that no member trains on
        # the ensemble's test recordings; each member its own weights, order and noise.
        member_start = start_speech_run(
            RECIPE,
            folder,
            replace(start.data, ensemble=1),
            start.extras["audio"],
            replace(start.model),
            replace(start.train, seed=start.train.seed + member),
            resume and (folder / "state.json").is_file(),
        )
        member_counters, _ = _train_one(member_start, start.train.seed, on_step)
        if member_counters.stopped_because == "interrupted":
            counters = member_counters
    if counters.stopped_because == "interrupted" and start.data.ensemble > 1:
        return None, counters, None
    run = SpeechRun.load(out, device=start.train.device)
    report = None
    if test:
        report = run.evaluate(
            test, start.folder.file("confusion_test.png"), f"{start.folder.path.name}: test"
        )
    return run, counters, report


def _train_one(start, split_seed: int, on_step):
    """Trains one model of a run into ``start.folder``; returns ``(Counters, test
    recordings)``."""
    data, model = start.data, start.model
    parts, labels, inputs, transform, valid = _prepare(
        data, FeatureExtractor(start.extras["audio"]), split_seed
    )
    model.input_size, model.vocab_size = start.extras["audio"].size, 0
    model.num_classes = len(labels.names)
    targets = {name: encode_labels(part, labels) for name, part in parts.items()}
    task = ClassifierTask(
        (inputs, targets["train"]),
        (valid, targets["valid"]),
        model.num_classes,
        data.batch_size,
        start.train.seed,
        start.device,
        False,
        augment=transform,
        workers=data.workers,
    )
    derived, fingerprint = speech_fingerprint(labels, parts)
    counters = fit(
        start,
        lambda: SequenceClassifier(model),
        task,
        derived={**derived, "split_seed": split_seed},
        fingerprint=fingerprint,
        on_step=on_step,
    )
    return counters, parts["test"]


def load_speech_classifier(folder, device: str = "auto") -> SpeechRun:
    """Loads the best weights of a speech run folder with its labels and feature settings."""
    return SpeechRun.load(folder, device)
