"""``rnnkit import-keras MODEL --out RUN``: a Keras text classifier becomes an ordinary rnnkit
classifier run folder (``SequenceClassifier`` weights, ``config.json``, a model card), so that
``predict``, ``evaluate``, ``export``, ``serve`` and ``rnnkit.load`` work on it as on a
trained run.

A classifier here is Keras' usual shape: ``Embedding``, then one cell kind stacked (all
bidirectional with ``concat``, or none), the last returning its final state or pooled by
``GlobalAveragePooling1D``/``GlobalMaxPooling1D``, then ``Dense`` with a softmax over classes
(or one sigmoid unit: two classes, exactly, as ``softmax([0, z]) = [1 - s(z), s(z)]``).
Dropout layers may sit anywhere. Other models convert with ``rnnkit.from_keras`` to a torch
module; the importer says so in one line.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

import torch

from rnnkit.cards import write_model_card
from rnnkit.data.files import check_file
from rnnkit.data.keras_files import read_keras_model
from rnnkit.data.words import TextEncoder, Vocabulary, WordTokenizer
from rnnkit.errors import DataError
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.tasks.classify_data import ClassifyDataConfig
from rnnkit.tasks.keras_import import convert
from rnnkit.tasks.keras_lm import import_language_model, language_model_shape
from rnnkit.train import RunFolder, TrainConfig
from rnnkit.version import __version__

KERAS_STRIP = r"[!\"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~']"
"""What Keras' TextVectorization deletes by default ("lower_and_strip_punctuation") before it
splits at white space."""
NO_OPS = ("Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout")
POOLING = {"GlobalAveragePooling1D": "mean", "GlobalMaxPooling1D": "max"}


def import_keras(path, out, vocabulary=None, labels: str | None = None) -> Path:
    """Writes the classifier run folder ``out`` for the Keras model in ``path``; returns it.
    ``vocabulary``: a file of one token per line in id order, as TextVectorization's
    ``get_vocabulary()`` gives it (id 0 padding, id 1 [UNK]); ``labels``: the class names in
    output order, comma-separated (default 0, 1, ...)."""
    model_file = read_keras_model(path)
    keras_model = convert(model_file)  # every layer converts, or one line names the first
    shape = classifier_shape(model_file.layers)
    if shape is None:
        lm = language_model_shape(model_file.layers)
        if lm is not None:
            return import_language_model(path, out, keras_model, lm, vocabulary)
        raise DataError(
            f"{path}: not a text classifier or next-character model of the shapes "
            "import-keras writes as a run (Embedding, one cell kind stacked, then final state "
            "or global pooling and Dense, or Dense at every step); rnnkit.from_keras(path) "
            "gives it as a torch module with the same outputs"
        )
    config, head = shape
    names = _labels(labels, config.num_classes, path)
    encoder = _encoder(vocabulary, config.vocab_size, path)
    model = SequenceClassifier(config)
    _copy_weights(model, keras_model, head)
    _check_outputs(model, keras_model, config.vocab_size, path)
    return _write_run(Path(out), model, config, names, encoder, path)


def classifier_shape(layers) -> tuple[ClassifierConfig, str] | None:
    """``(ClassifierConfig, head kind)`` when ``layers`` are a classifier rnnkit runs, else
    None. The head kind is ``softmax`` or ``sigmoid``."""
    core = [layer for layer in layers if layer.kind not in NO_OPS]
    if len(core) < 3 or core[0].kind != "Embedding":
        return None
    recurrent = []
    while len(recurrent) + 1 < len(core) and _cell(core[len(recurrent) + 1]) is not None:
        recurrent.append(core[len(recurrent) + 1])
    rest = core[1 + len(recurrent) :]
    cells = {_cell(layer) for layer in recurrent}
    if not recurrent or len(cells) != 1:
        return None
    cell, units, bidirectional = next(iter(cells))
    sequences = [_cell_config(layer).get("return_sequences", False) for layer in recurrent]
    if not all(sequences[:-1]):
        return None
    pooling = "last"
    if sequences[-1]:
        if not rest or rest[0].kind not in POOLING:
            return None
        pooling, rest = POOLING[rest[0].kind], rest[1:]
    if len(rest) != 1 or rest[0].kind != "Dense":
        return None
    dense = rest[0].config
    classes, activation = int(dense["units"]), dense.get("activation", "linear")
    if not dense.get("use_bias", True):
        return None
    if classes == 1 and activation == "sigmoid":
        head, classes = "sigmoid", 2
    elif classes >= 2 and activation == "softmax":
        head = "softmax"
    else:
        return None
    embedding = core[0].config
    config = ClassifierConfig(
        num_classes=classes,
        vocab_size=int(embedding["input_dim"]),
        cell=cell,
        embedding_size=int(embedding["output_dim"]),
        hidden_size=units,
        num_layers=len(recurrent),
        bidirectional=bidirectional,
        pooling=pooling,
        dropout=0.0,
        embedding_dropout=0.0,
    )
    return config, head


def _cell_config(layer) -> dict:
    return layer.config["layer"]["config"] if layer.kind == "Bidirectional" else layer.config


def _cell(layer) -> tuple | None:
    """``(rnnkit cell, units, bidirectional)`` of a recurrent layer rnnkit's classifier runs
    (with biases), else None."""
    if layer.kind == "Bidirectional":
        if layer.config.get("merge_mode", "concat") != "concat":
            return None
        kind = layer.config["layer"]["class_name"]
    else:
        kind = layer.kind
    config = _cell_config(layer)
    if kind == "SimpleRNN":
        cell = {"tanh": "rnn", "relu": "rnn_relu"}.get(config.get("activation", "tanh"))
    elif kind == "LSTM":
        cell = "lstm"
    elif kind == "GRU" and config.get("reset_after", True):
        cell = "gru"
    else:
        return None
    if cell is None or not config.get("use_bias", True):
        return None
    return cell, int(config["units"]), layer.kind == "Bidirectional"


def _copy_weights(model: SequenceClassifier, keras_model, head: str) -> None:
    """The converted Keras weights into the classifier's own names."""
    from rnnkit.models.keras_layers import DenseStep, EmbeddingStep, RecurrentStep

    steps = list(keras_model.steps)
    recurrent = [step for step in steps if isinstance(step, RecurrentStep)]
    (embedding,) = [step for step in steps if isinstance(step, EmbeddingStep)]
    (dense,) = [step for step in steps if isinstance(step, DenseStep)]
    state = {"embedding.weight": embedding.embedding.weight}
    for index, step in enumerate(recurrent):
        for suffix, layer in (("", step.forward_layer), ("_reverse", step.backward_layer)):
            if layer is None:
                continue
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                state[f"recurrent.{name}_l{index}{suffix}"] = getattr(layer, f"{name}_l0")
    weight, bias = dense.linear.weight, dense.linear.bias
    if head == "sigmoid":  # softmax over [0, z] is [1 - sigmoid(z), sigmoid(z)]
        weight = torch.cat([torch.zeros_like(weight), weight])
        bias = torch.cat([torch.zeros_like(bias), bias])
    state.update({"head.weight": weight, "head.bias": bias})
    model.load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=True)
    model.eval()


def _check_outputs(model, keras_model, vocab_size: int, path) -> None:
    """The run's probabilities against the converted Keras model's on random token rows
    (one at its full length each, as a text alone): they must agree to float32 rounding."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, vocab_size, (4, 7), generator=generator)
    with torch.no_grad():
        ours = torch.softmax(model(ids), dim=-1)
        theirs = keras_model(ids)
        if theirs.shape[-1] == 1:
            theirs = torch.cat([1 - theirs, theirs], dim=-1)
    difference = (ours - theirs).abs().max().item()
    if difference > 1e-5:
        raise DataError(f"{path}: the run would answer differently from Keras ({difference:.2g})")


def _labels(labels: str | None, classes: int, path) -> list[str]:
    names = [n.strip() for n in labels.split(",")] if labels else [str(i) for i in range(classes)]
    if len(names) != classes or len(set(names)) != classes or not all(names):
        raise DataError(
            f"--labels: the model of {path} has {classes} outputs; give {classes} distinct "
            f"names in output order; got {labels!r}"
        )
    return names


def _encoder(vocabulary, size: int, path) -> TextEncoder:
    """Keras' vocabulary (one token per line, id 0 padding, id 1 [UNK]) as rnnkit's: the same
    ids, and TextVectorization's default standardisation (lower case, punctuation deleted,
    split at white space)."""
    if vocabulary is None:
        raise DataError(
            f"{path}: a .keras file carries no vocabulary; give --vocabulary FILE (one token per "
            "line in id order, as TextVectorization.get_vocabulary() returns it)"
        )
    lines = check_file(vocabulary, "a text file").read_text(encoding="utf-8").split("\n")
    tokens = lines[:-1] if lines and lines[-1] == "" else lines
    if len(tokens) != size:
        raise DataError(
            f"{vocabulary}: {len(tokens)} tokens; the model's Embedding takes {size} ids"
        )
    kept = Vocabulary(tokens[2:])
    moved = [i for i, t in enumerate(tokens[2:], 2) if kept.index.get(t) != i]
    if moved:
        line = moved[0] + 1
        raise DataError(f"{vocabulary}: line {line}: {tokens[moved[0]]!r} repeats or is reserved")
    return TextEncoder(WordTokenizer(True, r"\S+", KERAS_STRIP), kept)


def _write_run(out: Path, model, config, names, encoder, source) -> Path:
    folder = RunFolder(out)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: exists and is not empty; give --out a new folder")
    folder.prepare()
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    data = asdict(ClassifyDataConfig())
    data.update(
        labels=names,
        text_encoder=encoder.to_dict(),
        statistics=None,
        sha256={"keras": digest},
        keras=str(source),
    )
    saved = {
        "task": "classify",
        "rnnkit_version": __version__,
        "model": asdict(config),
        "data": data,
        "train": asdict(TrainConfig(precision="fp32", select_by="accuracy")),
    }
    folder.save_model(model)
    folder.write_config(saved)  # last: a folder with a config is whole
    write_model_card(out, saved, {}, "run folder")
    return out
