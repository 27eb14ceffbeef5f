"""The generic recurrent layer (the RNN, LSTM and GRU built on it: :mod:`rnnkit.nn.layers`).

One layer class runs any cell over time. It owns the stacking of layers,
the two directions, variable lengths and the state, and it chooses between
two execution paths that compute the same function:

- ``reference``: the cell's equation (``cell_step``) in a Python loop over time;
- ``fused``: torch's fused kernels (oneDNN on CPU, cuDNN on GPU).

Parameters are registered exactly as ``torch.nn.RNN/LSTM/GRU`` register them
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``,
``..._reverse``, in that order, with torch's initialisation), so state_dicts
load both ways with ``strict=True`` and a seeded layer starts from the same
weights as a seeded torch layer.
"""

from __future__ import annotations

import logging
import math
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.nn import padding, paths
from rnnkit.nn.cells import CellKind
from rnnkit.nn.checks import check_choice, check_layer_input, check_lengths, check_size, check_state
from rnnkit.nn.stepping import Stepping

logger = logging.getLogger(__name__)

Runner = Callable[[Tensor, object, "Tensor | None"], tuple]
"""``run(x, state, lengths) -> (output, final_state)``: one execution path, batch-first."""


class Recurrent(Stepping, nn.Module):
    """Runs a cell over time: ``layer(x, state=None, lengths=None) -> (output, final_state)``.

    Shapes (``D`` = 2 if bidirectional else 1, ``L`` = num_layers):

    - ``x``: ``(batch, time, input_size)``, or ``(time, batch, input_size)`` when
      ``batch_first=False``.
    - ``state``: None for zeros, else ``h_0`` of shape ``(L*D, batch, hidden_size)``,
      or ``(h_0, c_0)`` for cells with a cell state. Pass the returned state back
      in to carry it across calls (truncated BPTT); :func:`detach_state` cuts
      the graph between calls.
    - ``lengths``: None, or a 1-D int tensor ``(batch,)`` with 1 <= length <= time
      for right-padded rows. Each row then ends at its own last step: its final
      state is the state there, the backward direction starts there, and its
      outputs past that step are zero; the numbers equal running the row alone.
    - ``output``: ``(batch, time, D*hidden_size)`` (time first when ``batch_first=False``).
    - ``final_state``: like ``state``, the last layer's directions last.

    ``dropout`` between layers draws a new mask per element, as torch does; with
    ``locked_dropout=True`` it draws one mask per sequence and feature, shared by every
    time step (variational dropout, Gal & Ghahramani 2016; Merity et al. 2017). The
    layers then run one fused call each, so the mask can go between them.

    ``impl`` is ``"reference"``, ``"fused"`` or ``"auto"`` (fused whenever the
    computation is the same). After each call, ``last_path`` says which path ran
    and ``last_path_reason`` why.
    """

    kind: CellKind

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "auto",
        locked_dropout: bool = False,
    ):
        super().__init__()
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            check_size(name, value)
        check_choice("impl", impl, tuple(sorted(("auto", "reference", self.kind.fast_path))))
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"dropout must be a probability in [0, 1); got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.impl = bool(bidirectional), impl
        self.locked_dropout = bool(locked_dropout)
        self.last_path: str | None = None
        self.last_path_reason: str | None = None
        self._weight_names: list[str] = []
        self._register_weights()
        self.reset_parameters()
        if impl == self.kind.fast_path:
            self._fused_or_raise()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _register_weights(self) -> None:
        rows = self.kind.gates * self.hidden_size
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (rows, width)}
                if self.kind.hidden_weights:
                    shapes["weight_hh"] = (rows, self.hidden_size)
                if self.bias:
                    shapes.update(
                        bias_ih=(rows,),
                        **({"bias_hh": (rows,)} if self.kind.hidden_weights else {}),
                    )
                for name, shape in shapes.items():
                    self.register_parameter(name + suffix, nn.Parameter(torch.empty(shape)))
                    self._weight_names.append(name + suffix)

    def reset_parameters(self) -> None:
        """torch's initialisation: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def cell_step(self, x, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
        """One time step of the cell's equation. Override it to define a new
        cell; ``impl="auto"`` then runs the reference loop."""
        return self.kind.step(x, state, weight_ih, weight_hh, bias_ih, bias_hh)

    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._weight_names]

    def _weights_of(self, layer: int, direction: int) -> tuple:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction; None where
        absent."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(
            getattr(self, name + suffix, None)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        if self.kind.fused is not None:
            paths.flatten_for_cudnn(self.kind, self._flat_weights(), self)
        return result

    def flatten_parameters(self) -> None:
        """Compacts the weights for cuDNN (as ``torch.nn.LSTM.flatten_parameters``)."""
        paths.flatten_for_cudnn(self.kind, self._flat_weights(), self)

    def _why_not_fused(self) -> str | None:
        if self.kind.sequence is None:
            return f"{self.kind.name} has no {self.kind.fast_path} path"
        if type(self).cell_step is not Recurrent.cell_step:
            return (
                f"{type(self).__name__} overrides cell_step, so the {self.kind.fast_path} path "
                "would compute something else"
            )
        return None

    def _fused_or_raise(self) -> None:
        why = self._why_not_fused()
        if why is not None:
            raise ValueError(
                f"impl={self.kind.fast_path!r} is not possible: {why}; use impl='auto' or "
                "impl='reference'"
            )

    def _choose_path(
        self, x: Tensor, lengths: Tensor | None, state_given: bool
    ) -> tuple[Runner, str, str]:
        """Decides, once per call, how this call runs: ``(runner, path name, reason)``."""
        run, path, reason = self._choose_runner(x, lengths, state_given)
        if (
            path == "fused"
            and self.kind.name == "LSTM"
            and paths.bfloat16_autocast_on_cpu(x)
            and not paths.cpu_lstm_runs_bfloat16()
        ):
            return (
                paths.in_float32(run),
                path,
                reason + "; in float32: this CPU's oneDNN has no bfloat16 LSTM",
            )
        return run, path, reason

    def _choose_runner(
        self, x: Tensor, lengths: Tensor | None, state_given: bool
    ) -> tuple[Runner, str, str]:
        if self.impl == "reference":
            return self._reference_layers, "reference", "impl='reference' was asked for"
        why = self._why_not_fused()
        if why is not None:
            if self.impl != "auto":
                self._fused_or_raise()
            return self._reference_layers, "reference", why
        if self.kind.fused is None:
            path, reason = self._choose_without_kernel(x)
            run = self._reference_layers if path == "reference" else self._fast_layers
            return run, path, reason
        if self.locked_dropout and self.training and self.dropout > 0 and self.num_layers > 1:
            return self._fast_layers, "fused", "one fused call per layer: locked dropout between"
        if lengths is None:
            return (
                self._fused_stack,
                "fused",
                f"one torch.{self.kind.cudnn_mode.lower()} call over all layers",
            )
        if x.is_cuda:
            return self._fused_stack, "fused", "lengths: one packed cuDNN call over all layers"
        if padding.can_freeze(self.kind, state_given):
            return (
                self._frozen_stack,
                "fused",
                "lengths: one padded call per layer, padded steps frozen by saturated gates",
            )
        how = (
            "padded kernel, c frozen past each end"
            if self.kind.paired
            else "padded kernel, state read at each end"
        )
        return self._fast_layers, "fused", f"lengths: per layer and direction, {how}"

    def _choose_without_kernel(self, x: Tensor) -> tuple[str, str]:
        """The choice for cells whose fast path is not a torch kernel (the parallel scan)."""
        return self.kind.fast_path, f"{self.kind.fast_path} per layer and direction"

    def forward(self, x: Tensor, state=None, lengths=None):
        name = type(self).__name__
        check_layer_input(name, x, self.input_size, self.batch_first)
        if not self.batch_first:
            x = x.transpose(0, 1)
        batch, time = x.shape[0], x.shape[1]
        if lengths is not None:
            lengths = check_lengths(name, lengths, batch, time)
        run, self.last_path, self.last_path_reason = self._choose_path(
            x, lengths, state is not None
        )
        logger.debug("%s ran the %s path: %s", name, self.last_path, self.last_path_reason)
        output, final = run(x, self._initial_state(name, x, state), lengths)
        if not self.batch_first:
            output = output.transpose(0, 1)
        return output, final

    def _initial_state(self, name: str, x: Tensor, state):
        shape = (self.num_layers * self.num_directions, x.shape[0], self.hidden_size)
        if state is None:
            zeros = x.new_zeros(shape)
            return (zeros, zeros) if self.kind.paired else zeros
        check_state(name, state, shape, self.kind.paired)
        return tuple(state) if self.kind.paired else state

    def _fused_stack(self, x, state, lengths):
        # The kernels' "train" flag both enables dropout and keeps what backward
        # needs (cuDNN refuses backward without it), so dropout is zeroed outside
        # training and "train" follows autograd: gradients work in eval mode too.
        dropout = self.dropout if self.training else 0.0
        train = torch.is_grad_enabled()
        if lengths is not None:
            return paths.packed_stack(
                self.kind,
                x,
                state,
                self._flat_weights(),
                self.bias,
                lengths,
                self.num_layers,
                dropout,
                train,
                self.bidirectional,
            )
        result = self.kind.fused(
            x,
            state,
            self._flat_weights(),
            self.bias,
            self.num_layers,
            dropout,
            train,
            self.bidirectional,
            True,
        )
        return result[0], (tuple(result[1:]) if self.kind.paired else result[1])

    def _frozen_stack(self, x, state, lengths):
        weights = self._flat_weights()
        per_layer = len(weights) // self.num_layers
        layer_weights = [weights[i : i + per_layer] for i in range(0, len(weights), per_layer)]
        return padding.frozen_stack(
            self.kind,
            x,
            state,
            layer_weights,
            self.bias,
            lengths,
            self.dropout,
            self.training,
            self.bidirectional,
        )

    def _reference_layers(self, x, state, lengths):
        return self._layer_by_layer(x, state, lengths, fast=False)

    def _fast_layers(self, x, state, lengths):
        return self._layer_by_layer(x, state, lengths, fast=True)

    def _layer_by_layer(self, x, state, lengths, fast: bool):
        paired = self.kind.paired
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                start = tuple(s[index] for s in state) if paired else state[index]
                inputs = paths.reverse_rows(x, lengths) if direction else x
                weights = self._weights_of(layer, direction)
                if fast:
                    out, final = self.kind.sequence(
                        self.kind, inputs, start, weights, self.bias, lengths
                    )
                else:
                    out, final = paths.reference_direction(
                        self.cell_step, paired, inputs, start, weights, lengths
                    )
                outputs.append(paths.reverse_rows(out, lengths) if direction else out)
                finals.append(final)
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
            if layer < self.num_layers - 1 and self.dropout > 0:
                x = self._dropout_between_layers(x)
        if paired:
            return x, (torch.stack([f[0] for f in finals]), torch.stack([f[1] for f in finals]))
        return x, torch.stack(finals)

    def _dropout_between_layers(self, x: Tensor) -> Tensor:
        if not self.locked_dropout:
            return F.dropout(x, self.dropout, self.training)
        return locked_dropout(x, self.dropout, self.training)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        text += f", bias={self.bias}, batch_first={self.batch_first}, dropout={self.dropout}"
        text += f", bidirectional={self.bidirectional}, impl={self.impl!r}"
        return text + (", locked_dropout=True" if self.locked_dropout else "")


def locked_dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Dropout with one mask per sequence and feature, the same at every time step
    (Gal & Ghahramani 2016): ``x`` ``(batch, time, features)``, batch first."""
    if not training or p == 0:
        return x
    mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)
    return x * mask
