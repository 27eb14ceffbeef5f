"""Keras layers as torch modules with the same outputs: ``build_keras_model(layers)``.

Each Keras layer becomes a step ``(x, mask) -> (x, mask)``; the mask is Keras' (from
``Embedding(mask_zero=True)`` or ``Masking``), carried as rnnkit's ``lengths`` through the
recurrent layers, so masked rows must be right-padded. The weights are converted exactly:

- LSTM: Keras' gates come in torch's order (i, f, c, o); its one bias becomes ``bias_ih`` and
  ``bias_hh`` is zero.
- GRU: Keras orders the gates z, r, h and torch r, z, n. ``reset_after=True`` carries an input
  and a recurrent bias, as torch does; ``reset_after=False`` is Cho et al.'s first form, run by
  :class:`rnnkit.nn.reset_before.GRUResetBefore`.
- Dense: ``weight = kernel.T``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.errors import DataError
from rnnkit.nn import GRU, LSTM, RNN
from rnnkit.nn.reset_before import GRUResetBefore

ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "gelu": F.gelu,
    "exponential": torch.exp,
    "relu6": F.relu6,
    "hard_sigmoid": lambda x: F.relu6(x + 3) / 6,  # Keras 3's definition
    "mish": F.mish,
}
RECURRENT = ("SimpleRNN", "LSTM", "GRU")
SUPPORTED = (
    "Embedding, Masking, SimpleRNN, LSTM, GRU, Bidirectional, Dropout, SpatialDropout1D, "
    "Dense, TimeDistributed(Dense), Activation, GlobalAveragePooling1D, GlobalMaxPooling1D"
)


class KerasModel(nn.Module):
    """A Keras model's chain of layers in torch.

    ``forward(inputs) -> outputs``: ``inputs`` ``(batch, time)`` token ids for a model that
    starts with an Embedding, else ``(batch, time, features)`` floats; ``outputs`` as Keras
    gives them: ``(batch, units)`` after a pooled or last-step layer, ``(batch, time,
    units)`` when the last layer returns sequences."""

    def __init__(self, steps: list[nn.Module], takes_ids: bool):
        super().__init__()
        self.steps, self.takes_ids = nn.ModuleList(steps), takes_ids

    def forward(self, inputs: Tensor) -> Tensor:
        x, mask = inputs, None
        for step in self.steps:
            x, mask = step(x, mask)
        return x


def build_keras_model(layers) -> KerasModel:
    """The torch model of ``layers`` (:class:`rnnkit.data.keras_files.KerasLayer`), or a
    one-line :class:`DataError` naming the first layer that cannot be converted."""
    steps = [_step(layer) for layer in layers]
    takes_ids = bool(layers) and layers[0].kind == "Embedding"
    return KerasModel([s for s in steps if s is not None], takes_ids).eval()


def _refuse(layer, why: str) -> DataError:
    return DataError(
        f"layer {layer.position} {layer.name!r} ({layer.kind}): {why}; supported: {SUPPORTED}"
    )


def _step(layer) -> nn.Module | None:
    kind, config = layer.kind, layer.config
    if kind in ("Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout"):
        return None  # no-ops at inference
    if kind == "Embedding":
        return EmbeddingStep(layer)
    if kind == "Masking":
        return MaskingStep(float(config.get("mask_value", 0.0)))
    if kind in RECURRENT or kind == "Bidirectional":
        return RecurrentStep(layer)
    if kind == "Dense":
        return DenseStep(layer, config, layer.weights)
    if kind == "TimeDistributed":
        inner = config["layer"]
        if inner["class_name"] != "Dense":
            raise _refuse(layer, f"wraps a {inner['class_name']}; only Dense can be wrapped")
        return DenseStep(layer, inner["config"], layer.weights)
    if kind == "Activation":
        return ActivationStep(_activation(layer, config.get("activation", "linear")))
    if kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        if config.get("data_format", "channels_last") != "channels_last":
            raise _refuse(layer, "data_format channels_first is not supported")
        return PoolingStep(kind == "GlobalMaxPooling1D", bool(config.get("keepdims", False)))
    raise _refuse(layer, "this layer is not supported")


def _activation(layer, name) -> callable:
    if isinstance(name, dict):  # a serialised activation: {"class_name": ..., "config": ...}
        name = name.get("config", {}).get("name", name.get("class_name"))
    if name not in ACTIVATIONS:
        raise _refuse(layer, f"activation {name!r} is not supported ({', '.join(ACTIVATIONS)})")
    return ACTIVATIONS[name]


def _tensor(array) -> Tensor:
    return torch.from_numpy(array.copy()).float()


class EmbeddingStep(nn.Module):
    def __init__(self, layer):
        super().__init__()
        (table,) = layer.weights
        self.embedding = nn.Embedding.from_pretrained(_tensor(table), freeze=False)
        self.mask_zero = bool(layer.config.get("mask_zero", False))

    def forward(self, ids: Tensor, mask):
        return self.embedding(ids.long()), (ids != 0) if self.mask_zero else mask


class MaskingStep(nn.Module):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, x: Tensor, mask):
        keep = (x != self.value).any(dim=-1)
        return x * keep.unsqueeze(-1).to(x.dtype), keep  # Keras zeroes the masked steps


class DenseStep(nn.Module):
    def __init__(self, layer, config: dict, weights: list):
        super().__init__()
        kernel = weights[0]
        self.linear = nn.Linear(kernel.shape[0], kernel.shape[1], bias=len(weights) > 1)
        with torch.no_grad():
            self.linear.weight.copy_(_tensor(kernel).T)
            if len(weights) > 1:
                self.linear.bias.copy_(_tensor(weights[1]))
        self.activation = _activation(layer, config.get("activation", "linear"))

    def forward(self, x: Tensor, mask):
        return self.activation(self.linear(x)), mask


class ActivationStep(nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x: Tensor, mask):
        return self.function(x), mask


class PoolingStep(nn.Module):
    """GlobalAveragePooling1D (over the unmasked steps, as Keras) or GlobalMaxPooling1D."""

    def __init__(self, maximum: bool, keepdims: bool):
        super().__init__()
        self.maximum, self.keepdims = maximum, keepdims

    def forward(self, x: Tensor, mask):
        if self.maximum:
            pooled = x.amax(dim=1, keepdim=self.keepdims)
        elif mask is None:
            pooled = x.mean(dim=1, keepdim=self.keepdims)
        else:
            weights = mask.to(x.dtype).unsqueeze(-1)
            pooled = (x * weights).sum(1, keepdim=self.keepdims)
            pooled = pooled / weights.sum(1, keepdim=self.keepdims).clamp_min(1)
        return pooled, None


def _gates(array, units: int, order) -> Tensor:
    """Keras' gate blocks (along the last axis) in torch's ``order`` of Keras' indices."""
    blocks = [_tensor(array[..., g * units : (g + 1) * units]) for g in range(len(order))]
    return torch.cat([blocks[g] for g in order], dim=-1)


GRU_ORDER = (1, 0, 2)  # torch's r, z, n from Keras' z, r, h


def _recurrent_layer(layer, kind: str, config: dict, weights: list) -> nn.Module:
    """One direction of a Keras SimpleRNN, LSTM or GRU (``kind``, its ``config``) as an rnnkit
    layer with its weights; ``layer`` is the Keras layer it belongs to, for messages."""
    if config.get("stateful"):
        raise _refuse(layer, "stateful recurrent layers are not supported")
    if config.get("return_state"):
        raise _refuse(layer, "return_state is not supported")
    units, bias = int(config["units"]), bool(config.get("use_bias", True))
    activation = config.get("activation", "tanh")
    if kind == "SimpleRNN":
        if activation not in ("tanh", "relu"):
            raise _refuse(layer, f"SimpleRNN's activation {activation!r}: tanh or relu is")
        module, order = RNN(weights[0].shape[0], units, nonlinearity=activation, bias=bias), (0,)
    else:
        recurrent = config.get("recurrent_activation", "sigmoid")
        if (activation, recurrent) != ("tanh", "sigmoid"):
            raise _refuse(
                layer, f"activations {activation!r}/{recurrent!r}: the cell runs tanh/sigmoid"
            )
        if kind == "LSTM":
            module, order = LSTM(weights[0].shape[0], units, bias=bias), (0, 1, 2, 3)
        elif config.get("reset_after", True):
            module, order = GRU(weights[0].shape[0], units, bias=bias), GRU_ORDER
        else:
            module, order = GRUResetBefore(weights[0].shape[0], units, bias=bias), GRU_ORDER
    with torch.no_grad():
        module.weight_ih_l0.copy_(_gates(weights[0], units, order).T)
        module.weight_hh_l0.copy_(_gates(weights[1], units, order).T)
        if bias:
            both = weights[2].reshape(-1, weights[2].shape[-1])  # (1 or 2, gates * units)
            module.bias_ih_l0.copy_(_gates(both[0], units, order))
            hidden = both[1] if len(both) > 1 else 0 * both[0]
            module.bias_hh_l0.copy_(_gates(hidden, units, order))
    return module.eval()


class RecurrentStep(nn.Module):
    """A Keras SimpleRNN, LSTM or GRU, or a Bidirectional one, with Keras' masking: a row's
    steps past its mask's end are skipped (the final output is the state at its last step)."""

    def __init__(self, layer):
        super().__init__()
        config = layer.config
        self.merge = None
        if layer.kind == "Bidirectional":
            inner = config["layer"]
            backward = config.get("backward_layer") or inner
            self.merge = config.get("merge_mode", "concat")
            if self.merge not in ("concat", "sum", "ave", "mul"):
                raise _refuse(layer, f"merge_mode {self.merge!r}: concat, sum, ave or mul are")
            half = len(layer.weights) // 2
            self.forward_layer = _recurrent_layer(
                layer, inner["class_name"], inner["config"], layer.weights[:half]
            )
            self.backward_layer = _recurrent_layer(
                layer, backward["class_name"], backward["config"], layer.weights[half:]
            )
            self.sequences = bool(inner["config"].get("return_sequences", False))
            self.zero_masked = True  # Bidirectional zeroes masked steps' outputs
        else:
            if config.get("go_backwards"):
                raise _refuse(layer, "go_backwards outside Bidirectional is not supported")
            self.forward_layer = _recurrent_layer(layer, layer.kind, config, layer.weights)
            self.backward_layer = None
            self.sequences = bool(config.get("return_sequences", False))
            self.zero_masked = bool(config.get("zero_output_for_mask", False))
        self.position, self.name = layer.position, layer.name

    def forward(self, x: Tensor, mask):
        from rnnkit.nn.paths import reverse_rows

        lengths = self._lengths(mask, x.shape[1])
        run = None if lengths is None else lengths.clamp_min(1)
        outputs, finals = [], []
        for direction, module in enumerate((self.forward_layer, self.backward_layer)):
            if module is None:
                continue
            inputs = reverse_rows(x, run) if direction else x
            output, state = module(inputs, lengths=run)
            outputs.append(reverse_rows(output, run) if direction else output)
            finals.append((state[0] if isinstance(state, tuple) else state)[-1])
        result = _merge(outputs if self.sequences else finals, self.merge)
        if lengths is None:
            return result, (mask if self.sequences else None)
        alive = (lengths > 0).to(result.dtype)
        if not self.sequences:
            return result * alive.unsqueeze(-1), None
        if not self.zero_masked:  # Keras repeats a row's last output over its masked steps
            last = result[torch.arange(len(run)), run - 1].unsqueeze(1)
            result = torch.where(mask.unsqueeze(-1), result, last)
        return result * alive.view(-1, 1, 1), mask

    def _lengths(self, mask, time: int) -> Tensor | None:
        if mask is None:
            return None
        lengths = mask.sum(dim=1)
        prefix = torch.arange(time, device=mask.device).unsqueeze(0) < lengths.unsqueeze(1)
        if not torch.equal(prefix, mask.bool()):
            row = int((prefix != mask.bool()).any(dim=1).nonzero()[0])
            raise DataError(
                f"layer {self.position} {self.name!r}: row {row}'s mask has a masked step before "
                "an unmasked one; masked (padding) steps must come at the end of each row"
            )
        return lengths


def _merge(parts: list[Tensor], mode: str | None) -> Tensor:
    if mode is None:
        return parts[0]
    if mode == "concat":
        return torch.cat(parts, dim=-1)
    if mode == "sum":
        return parts[0] + parts[1]
    if mode == "ave":
        return (parts[0] + parts[1]) / 2
    return parts[0] * parts[1]
