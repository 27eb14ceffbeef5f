"""A Keras next-character model as an rnnkit language-model run folder (``import-keras``):
``Embedding``, one unidirectional cell kind stacked with ``return_sequences``, then ``Dense``
(or ``TimeDistributed(Dense)``) over the characters at every step.

rnnkit's character models keep id 0 for a character never seen in training (it is read but
never generated); Keras' have no such id. So the run's ids are Keras' plus one, and id 0
gets a zero embedding and a logit of -10,000 (it never takes probability): the run's
next-character probabilities are Keras' softmax over its own outputs.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from rnnkit.cards import write_model_card
from rnnkit.data.files import check_file
from rnnkit.data.text import CharTokenizer
from rnnkit.errors import DataError
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig
from rnnkit.tasks.lm_data import TextDataConfig
from rnnkit.train import RunFolder, TrainConfig
from rnnkit.version import __version__

NO_OPS = ("Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout")
CELLS = {"SimpleRNN": "rnn", "LSTM": "lstm", "GRU": "gru"}
NEVER = -1e4
"""The logit of id 0 (an unseen character), which Keras' model does not have."""


def language_model_shape(layers) -> LanguageModelConfig | None:
    """The LanguageModelConfig of a Keras next-token model rnnkit runs, else None."""
    core = [layer for layer in layers if layer.kind not in NO_OPS]
    if len(core) < 3 or core[0].kind != "Embedding":
        return None
    recurrent, head = core[1:-1], core[-1]
    specs = {_cell(layer) for layer in recurrent}
    if not recurrent or len(specs) != 1 or None in specs:
        return None
    dense = head.config["layer"]["config"] if head.kind == "TimeDistributed" else head.config
    if head.kind not in ("Dense", "TimeDistributed") or (
        head.kind == "TimeDistributed" and head.config["layer"]["class_name"] != "Dense"
    ):
        return None
    vocab = int(core[0].config["input_dim"])
    activation = dense.get("activation", "linear")
    if int(dense["units"]) != vocab or activation not in ("softmax", "log_softmax", "linear"):
        return None
    if not dense.get("use_bias", True):
        return None
    cell, units = next(iter(specs))
    return LanguageModelConfig(
        vocab_size=vocab + 1,
        cell=cell,
        embedding_size=int(core[0].config["output_dim"]),
        hidden_size=units,
        num_layers=len(recurrent),
    )


def _cell(layer) -> tuple | None:
    config = layer.config
    if layer.kind not in CELLS or not config.get("return_sequences", False):
        return None
    if not config.get("use_bias", True) or config.get("go_backwards"):
        return None
    if layer.kind == "GRU" and not config.get("reset_after", True):
        return None
    cell = CELLS[layer.kind]
    if layer.kind == "SimpleRNN":
        cell = {"tanh": "rnn", "relu": "rnn_relu"}.get(config.get("activation", "tanh"))
    return None if cell is None else (cell, int(config["units"]))


def import_language_model(path, out, keras_model, config: LanguageModelConfig, vocabulary):
    """Writes the language-model run folder ``out``; returns it."""
    characters = read_characters(vocabulary, config.vocab_size - 1, path)
    model = LanguageModel(config).eval()
    _copy_weights(model, keras_model)
    _check_outputs(model, keras_model, path)
    tokenizer = CharTokenizer(characters)
    if tokenizer.characters[1:] != characters:
        raise DataError(f"{vocabulary}: holds {CharTokenizer.UNKNOWN!r}, rnnkit's unknown mark")
    return _write_run(Path(out), model, config, tokenizer, path)


def read_characters(vocabulary, size: int, path) -> list[str]:
    """The characters in Keras' id order: a JSON list (any character, the line end too) or a
    file of one character per line."""
    if vocabulary is None:
        raise DataError(
            f"{path}: a .keras file carries no vocabulary; give --vocabulary FILE (the "
            "characters in id order: a JSON list, or one per line)"
        )
    text = check_file(vocabulary, "a JSON list or a text file").read_text(encoding="utf-8")
    if str(vocabulary).endswith(".json"):
        try:
            characters = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(f"{vocabulary}: line {error.lineno}: not JSON ({error.msg})") from None
    else:
        characters = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    if not isinstance(characters, list) or not all(
        isinstance(c, str) and len(c) == 1 for c in characters
    ):
        raise DataError(f"{vocabulary}: expected one character per entry (a character model)")
    if len(characters) != size or len(set(characters)) != size:
        raise DataError(
            f"{vocabulary}: {len(set(characters))} distinct characters of {len(characters)}; "
            f"the model's Embedding takes {size} ids"
        )
    return characters


def _copy_weights(model: LanguageModel, keras_model) -> None:
    from rnnkit.models.keras_layers import DenseStep, EmbeddingStep, RecurrentStep

    steps = list(keras_model.steps)
    (embedding,) = [s for s in steps if isinstance(s, EmbeddingStep)]
    (dense,) = [s for s in steps if isinstance(s, DenseStep)]
    table = embedding.embedding.weight
    state = {"embedding.weight": torch.cat([torch.zeros_like(table[:1]), table])}
    for index, step in enumerate(s for s in steps if isinstance(s, RecurrentStep)):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            state[f"recurrent.{name}_l{index}"] = getattr(step.forward_layer, f"{name}_l0")
    weight, bias = dense.linear.weight, dense.linear.bias
    state["head.weight"] = torch.cat([torch.zeros_like(weight[:1]), weight])
    state["head.bias"] = torch.cat([torch.full_like(bias[:1], NEVER), bias])
    model.load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=True)


def _check_outputs(model, keras_model, path) -> None:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size - 1, (3, 9), generator=generator)
    with torch.no_grad():
        ours = torch.softmax(model(ids + 1)[0].float(), dim=-1)[..., 1:]
        theirs = torch.softmax(keras_model.steps[-1].linear(_features(keras_model, ids)), -1)
    difference = (ours - theirs).abs().max().item()
    if difference > 1e-5:
        raise DataError(f"{path}: the run would answer differently from Keras ({difference:.2g})")


def _features(keras_model, ids):
    """The Keras model's input to its last Dense (its logits come from there)."""
    x, mask = ids, None
    for step in list(keras_model.steps)[:-1]:
        x, mask = step(x, mask)
    return x


def _write_run(out: Path, model, config, tokenizer: CharTokenizer, source) -> Path:
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: exists and is not empty; give --out a new folder")
    folder = RunFolder(out)
    folder.prepare()
    data = asdict(TextDataConfig())
    data.update(vocabulary=tokenizer.to_dict(), keras=str(source), sha256={})
    saved = {
        "task": "lm",
        "rnnkit_version": __version__,
        "model": asdict(config),
        "data": data,
        "train": asdict(TrainConfig(precision="fp32")),
    }
    folder.save_model(model)
    folder.write_config(saved)
    write_model_card(out, saved, {}, "run folder")
    return out
