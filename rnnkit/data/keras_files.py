"""Keras model files read without Keras: Keras 3's ``.keras`` archive (``config.json`` and
``model.weights.h5``, read with h5py) and the legacy HDF5 ``.h5`` file.

What comes out is neutral: the chain of layers from the input to the output, each with its
Keras class, config and weights (numpy, in the order of Keras' ``layer.weights``). The
conversion to torch is :mod:`rnnkit.models.keras_layers`.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.errors import DataError, require

MASK_HELPERS = {"NotEqual", "Any", "Equal", "Cast"}
"""Operations Keras 3 records in a functional graph to compute a Masking layer's mask: they
feed only ``mask=`` arguments, so the chain of layers skips them."""


@dataclass
class KerasLayer:
    """One layer of the chain: ``kind`` (Keras class name), ``name``, ``config``,
    ``weights`` (numpy arrays in ``layer.weights`` order) and ``position`` (0 = first)."""

    kind: str
    name: str
    config: dict
    position: int
    weights: list = field(default_factory=list)


@dataclass
class KerasFile:
    """A model file: its input's ``shape`` (without the batch) and ``dtype``, and the chain."""

    path: Path
    input_shape: tuple
    input_dtype: str
    layers: list[KerasLayer]


def read_keras_model(path) -> KerasFile:
    """The model in ``path`` (``.keras`` or ``.h5``), or a one-line error naming the file."""
    path = Path(path)
    require("h5py", f"reading {path}")
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected a .keras or .h5 Keras model")
    archive = zipfile.is_zipfile(path)
    config, weights = _read_archive(path) if archive else _read_legacy(path)
    input_shape, dtype, chain = _chain(path, config)
    stored = _archive_names(config) if archive else {}
    for layer in chain:
        layer.weights = weights(stored.get(layer.name, layer.name))
    return KerasFile(path, input_shape, dtype, chain)


def _archive_names(config: dict) -> dict[str, str]:
    """Layer name -> its group in a ``.keras`` archive's weights. Keras 3 names the groups
    after the layers' classes in snake case, numbered in order for repeats (``lstm``,
    ``lstm_1``), whatever the layers are called; operations (a mask's NotEqual) and a
    Sequential model's InputLayer have none."""
    body = config.get("config", {})
    sequential = config.get("class_name") == "Sequential"
    used: dict[str, int] = {}
    names = {}
    for entry in body.get("layers", []) if isinstance(body, dict) else body:
        kind = entry["class_name"]
        if kind in MASK_HELPERS or (sequential and kind == "InputLayer"):
            continue
        snake = _snake_case(kind)
        used[snake] = used.get(snake, -1) + 1
        names[entry["config"]["name"]] = snake if used[snake] == 0 else f"{snake}_{used[snake]}"
    return names


def _snake_case(name: str) -> str:
    """Keras' ``naming.to_snake_case``: SimpleRNN -> simple_rnn, GlobalMaxPooling1D ->
    global_max_pooling1d."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _read_archive(path: Path):
    import h5py

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            stored = archive.read("model.weights.h5")
    except (KeyError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a Keras 3 .keras archive ({error})") from None
    import io

    handle = h5py.File(io.BytesIO(stored), "r")

    def weights(name: str) -> list:
        group = handle.get(f"layers/{name}")
        return [] if group is None else _archive_vars(group)

    return config, weights


def _archive_vars(group) -> list:
    """A layer's variables in ``layer.weights`` order: the wrapped layer or cell first (an
    RNN's cell, a Bidirectional's forward then backward layer, a TimeDistributed's layer),
    then its own."""
    found = []
    for child in ("cell", "forward_layer", "backward_layer", "layer"):
        if child in group:
            found += _archive_vars(group[child])
    if "vars" in group:
        own = group["vars"]
        found += [np.asarray(own[key]) for key in sorted(own, key=int)]
    return found


def _read_legacy(path: Path):
    import h5py

    try:
        handle = h5py.File(path, "r")
        config = json.loads(_text(handle.attrs["model_config"]))
        stored = handle["model_weights"] if "model_weights" in handle else handle
    except (OSError, KeyError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not a Keras model file (.keras or .h5): {error}") from None

    def weights(name: str) -> list:
        if name not in stored:
            return []
        group = stored[name]
        return [np.asarray(group[_text(n)]) for n in group.attrs.get("weight_names", [])]

    return config, weights


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _chain(path: Path, config: dict) -> tuple[tuple, str, list[KerasLayer]]:
    """The layers from input to output, with the input's shape and dtype."""
    kind, body = config.get("class_name"), config.get("config", {})
    entries = body.get("layers", []) if isinstance(body, dict) else body
    if kind == "Sequential":
        ordered = list(entries)
    elif kind in ("Functional", "Model"):
        ordered = _functional_order(path, body)
    else:
        raise DataError(
            f"{path}: a {kind!r} model; Sequential and functional models can be imported"
        )
    shape, dtype = None, "float32"
    layers = []
    for entry in ordered:
        layer_config = entry.get("config", {})
        declared = layer_config.get("batch_shape") or layer_config.get("batch_input_shape")
        if declared and shape is None:
            shape, dtype = tuple(declared[1:]), layer_config.get("dtype", "float32")
            if isinstance(dtype, dict):  # Keras 3 dtype policies
                dtype = dtype.get("config", {}).get("name", "float32")
        if entry["class_name"] == "InputLayer":
            continue
        name = layer_config.get("name", f"layer_{len(layers)}")
        layers.append(KerasLayer(entry["class_name"], name, layer_config, len(layers)))
    if shape is None:
        raise DataError(f"{path}: the model has no input shape; build it on an Input first")
    return shape, str(dtype), layers


def _functional_order(path: Path, body: dict) -> list[dict]:
    """The layers of a functional model that is one chain: walked back from its one output
    along each layer's one input tensor."""
    by_name = {entry["config"]["name"]: entry for entry in body["layers"]}
    outputs, inputs = body.get("output_layers", []), body.get("input_layers", [])
    if _several(outputs) or _several(inputs):
        raise DataError(f"{path}: a model with several inputs or outputs; one of each is needed")
    name, chain = _first_name(outputs), []
    while True:
        entry = by_name[name]
        chain.append(entry)
        sources = _sources(entry)
        if entry["class_name"] == "InputLayer" or not sources:
            break
        if len(sources) > 1:
            raise DataError(
                f"{path}: layer {name!r} ({entry['class_name']}) joins {len(sources)} tensors; "
                "only a chain of layers (each taking the one before) can be imported"
            )
        name = sources[0]
    return list(reversed(chain))


def _several(names) -> bool:
    return bool(names) and isinstance(names[0], list) and len(names) > 1


def _first_name(names) -> str:
    return names[0][0] if isinstance(names[0], list) else names[0]


def _sources(entry: dict) -> list[str]:
    """The layers whose tensors a layer takes as arguments (not its ``mask=``)."""
    nodes = entry.get("inbound_nodes") or []
    if not nodes:
        return []
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        found = []
        _tensors(node.get("args", []), found)
        return found
    return [inbound[0] for inbound in node]  # Keras 2: [[name, node, tensor, kwargs], ...]


def _tensors(value, found: list) -> None:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        found.append(value["config"]["keras_history"][0])
    elif isinstance(value, (list, tuple)):
        for item in value:
            _tensors(item, found)
