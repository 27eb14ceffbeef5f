"""The graphs an export holds: plain ``nn.Module`` wrappers that torch.onnx traces.

Two kinds, as ONNX Runtime users need them (it keeps no state between calls):

- a **step graph** for models that run forward in time one step at a time (language and
  music models): ``(inputs, h0[, c0]) -> (outputs, hn[, cn])``, the state an explicit input
  and output, so a caller carries it between calls (generation, streaming);
- a **sequence graph** for models that read a whole sequence (classifiers, forecasters, CTC
  transcribers), with dynamic batch and time axes and each row's length as an input.

rnnkit's layers choose an execution path per call; the exporter needs one that ONNX has an
operator for. :func:`exportable` swaps each RNN/LSTM/GRU layer for the ``torch.nn`` layer
with the same ``state_dict`` (the parameter names match), run on a packed sequence when
lengths are given: torch.onnx turns that into ONNX's ``LSTM``/``GRU``/``RNN`` operators
with ``sequence_lens``, which stop each row at its own end exactly as rnnkit's layers do.
minGRU and minLSTM run their own parallel scan, which traces to plain tensor operators.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.nn import Recurrent

TORCH_LAYERS = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN_TANH": nn.RNN, "RNN_RELU": nn.RNN}


class PackedLayer(nn.Module):
    """A ``torch.nn`` RNN/LSTM/GRU called as rnnkit's layers are:
    ``layer(x, state=None, lengths=None) -> (output, final_state)``, batch first, with rows
    past their length zero in ``output`` and the final state taken at each row's end."""

    def __init__(self, layer: Recurrent):
        super().__init__()
        mode = layer.kind.cudnn_mode
        options = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
        self.layer = TORCH_LAYERS[mode](
            layer.input_size,
            layer.hidden_size,
            num_layers=layer.num_layers,
            bias=layer.bias,
            batch_first=True,
            bidirectional=layer.bidirectional,
            **options,
        )
        self.layer.load_state_dict(layer.state_dict())
        self.paired = layer.kind.paired

    def forward(self, x: Tensor, state=None, lengths: Tensor | None = None):
        if lengths is None:
            return self.layer(x, state)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, final = self.layer(packed, state)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
        return output, self._final_from_output(output, final, lengths)

    def _final_from_output(self, output: Tensor, final, lengths: Tensor):
        """The top layer's final ``h`` read from ``output`` (forward: each row's last step;
        backward: step 0), the same numbers as the RNN op's own. torch.onnx's peephole pass
        fails on a one-layer packed RNN whose returned state is used (``vector::
        _M_range_check``), so a one-layer graph never uses it for ``h``."""
        hidden = self.layer.hidden_size
        rows = torch.arange(output.shape[0], device=output.device)
        top = [output[rows, lengths.to(rows.device) - 1, :hidden]]
        if self.layer.bidirectional:
            top.append(output[:, 0, hidden:])
        h = final[0] if self.paired else final
        if self.layer.num_layers == 1:
            h = torch.stack(top)
        else:
            h = torch.cat([h[: -len(top)], torch.stack(top)])
        return (h, final[1]) if self.paired else h

    def step(self, x: Tensor, state=None):
        """One time step, ``(batch, input_size) -> (batch, hidden_size)``, as
        :meth:`rnnkit.nn.Recurrent.step` (an autoregressive decoder calls it)."""
        output, final = self.layer(x.unsqueeze(1), state)
        return output.squeeze(1), final


def exportable(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode whose RNN/LSTM/GRU layers are :class:`PackedLayer`."""
    model = copy.deepcopy(model).eval()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Recurrent) and child.kind.cudnn_mode in TORCH_LAYERS:
                setattr(parent, name, PackedLayer(child))
    return model


def state_names(paired: bool) -> tuple[list[str], list[str]]:
    """The state's input and output names: ``h0``/``hn``, and ``c0``/``cn`` for an LSTM."""
    return (["h0", "c0"], ["hn", "cn"]) if paired else (["h0"], ["hn"])


class StepGraph(nn.Module):
    """One step of a language or music model: ``(inputs (batch,) ids or (batch, keys),
    h0 (layers, batch, hidden)[, c0]) -> (logits (batch, classes), hn[, cn])``.

    A music model whose output conditions each key on the keys below it (``made``, ``nade``)
    takes one more input, ``frame (batch, keys)``: the keys of the next step drawn so far. Its
    logits are then each key's conditional logit given ``frame``; a sampler calls the graph
    once per key with the same inputs and state, and keeps the last call's new state."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = copy.deepcopy(model).eval()
        self.paired = self.model.recurrent.kind.paired
        self.conditional = getattr(self.model.config, "output", "independent") != "independent"

    def forward(self, inputs: Tensor, *rest: Tensor):
        if not self.conditional:
            logits, new = self.model.step(inputs, tuple(rest) if self.paired else rest[0])
        else:
            *state, frame = rest
            features, new = self.model.step_features(
                inputs, tuple(state) if self.paired else state[0]
            )
            logits = self.model.head(features, frame)
        return (logits.float(), *new) if self.paired else (logits.float(), new)


class ClassifierGraph(nn.Module):
    """``(inputs (batch, time) ids or (batch, time, features), lengths (batch,)) ->
    probabilities (batch, classes)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = exportable(model)

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        return torch.softmax(self.model(inputs, lengths).float(), dim=-1)


class TranscriberGraph(nn.Module):
    """``(stacked (batch, steps, frame_stacking * features), lengths (batch,)) -> log_probs
    (batch, steps, tokens + 1)``: the frames are stacked by the caller (see
    :func:`rnnkit.runtime.transcribe.stack_frames`), so that the graph's time axis stays
    dynamic; the rest is the model's own :meth:`~rnnkit.models.ctc.CTCRecognizer.
    stacked_log_probs`."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = exportable(model)

    def forward(self, stacked: Tensor, lengths: Tensor) -> Tensor:
        return self.model.stacked_log_probs(stacked, lengths)


class ForecasterGraph(nn.Module):
    """``(history (batch, lookback, targets)[, past][, future]) -> forecast (batch, horizon,
    targets[, quantiles])``, all scaled as in training (the scaler is in export.json)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = exportable(model)
        config = model.config
        self.has_past, self.has_future = config.past_covariates > 0, config.future_covariates > 0

    def forward(self, history: Tensor, *covariates: Tensor) -> Tensor:
        covariates = list(covariates)
        past = covariates.pop(0) if self.has_past else None
        future = covariates.pop(0) if self.has_future else None
        return self.model(history, past, future).float()
