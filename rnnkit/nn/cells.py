"""Recurrent cells written as their equations.

Each cell computes one time step. The maths lives in plain functions
(``rnn_step``, ``lstm_step``, ``gru_step``) so that the cells here and the
reference path of :class:`rnnkit.nn.Recurrent` run the very same code.

Parameter names, shapes and gate order match ``torch.nn.RNNCell``,
``torch.nn.LSTMCell`` and ``torch.nn.GRUCell``, so their state_dicts load
into each other with ``strict=True``.

Each layer's cell is described once, by a :class:`CellKind` at the end of this
module: its equation, the torch kernel that computes the same thing over a
whole sequence, and how its state and gates are laid out.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.nn import paths
from rnnkit.nn.checks import check_cell_input, check_choice

NONLINEARITIES = ("tanh", "relu")


def _affine(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    return F.linear(x, weight, bias)


def _recurrent_term(
    projected: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None
) -> Tensor:
    """``projected + W_hh h + b_hh``; one fused multiply-add when ``b_hh`` is already
    folded into ``projected`` (see :meth:`rnnkit.nn.Recurrent.input_projection`)."""
    if bias_hh is None:
        return torch.addmm(projected, h, weight_hh.t())
    return projected + _affine(h, weight_hh, bias_hh)


def rnn_step(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh"):
    """Elman step: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    ``x`` is ``(batch, input)``, ``h`` is ``(batch, hidden)``; returns ``h_t``.
    """
    return rnn_update(_affine(x, weight_ih, bias_ih), h, weight_hh, bias_hh, nonlinearity)


def rnn_update(projected, h, weight_hh, bias_hh=None, nonlinearity="tanh"):
    """:func:`rnn_step` given ``projected = W_ih x_t + b_ih`` (batch, hidden)."""
    pre = _recurrent_term(projected, h, weight_hh, bias_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_step(x, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """LSTM step (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    Gates are stacked in torch's order i, f, g, o::

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    ``state`` is ``(h, c)``, each ``(batch, hidden)``; returns ``(h_t, c_t)``.
    """
    return lstm_update(_affine(x, weight_ih, bias_ih), state, weight_hh, bias_hh)


def lstm_update(projected, state, weight_hh, bias_hh=None):
    """:func:`lstm_step` given ``projected = W_ih x_t + b_ih`` (batch, 4*hidden).

    The input projection does not depend on the state, so callers may compute
    it for many steps at once, or look it up per token when generating.
    """
    h, c = state
    gates = _recurrent_term(projected, h, weight_hh, bias_hh)
    # One sigmoid over all four blocks (g's is unused): fewer kernel calls per step.
    i, f, _, o = torch.sigmoid(gates).chunk(4, dim=-1)
    g = torch.tanh(gates[:, 2 * c.shape[-1] : 3 * c.shape[-1]])
    c_new = torch.addcmul(f * c, i, g)  # f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new


def gru_step(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """GRU step (Cho et al. 2014), in torch's (and cuDNN's) variant.

    Gates are stacked in the order r, z, n. The reset gate multiplies the
    hidden part of the candidate *including its bias* ``b_hn``; that is what
    cuDNN computes, so it is what ``torch.nn.GRU`` computes too::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    ``x`` is ``(batch, input)``, ``h`` is ``(batch, hidden)``; returns ``h_t``.
    """
    return gru_update(_affine(x, weight_ih, bias_ih), h, weight_hh, bias_hh)


def gru_update(projected, h, weight_hh, bias_hh=None):
    """:func:`gru_step` given ``projected = W_ih x_t + b_ih`` (batch, 3*hidden)."""
    input_r, input_z, input_n = projected.chunk(3, dim=-1)
    hidden_r, hidden_z, hidden_n = _affine(h, weight_hh, bias_hh).chunk(3, dim=-1)
    r = torch.sigmoid(input_r + hidden_r)
    z = torch.sigmoid(input_z + hidden_z)
    n = torch.tanh(input_n + r * hidden_n)
    return (1 - z) * n + z * h


class _CellBase(nn.Module):
    """Holds ``weight_ih (gates*hidden, input)``, ``weight_hh (gates*hidden, hidden)``
    and the two biases ``(gates*hidden,)``, initialised like torch: U(-1/sqrt(hidden),
    1/sqrt(hidden))."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))
            self.bias_hh = nn.Parameter(torch.empty(rows))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def _zeros(self, x: Tensor) -> Tensor:
        return x.new_zeros(x.shape[0], self.hidden_size)

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(_CellBase):
    """Elman RNN cell: one time step.

    Equations::

        h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)      (nonlinearity="tanh")
        h_t = relu(W_xh x_t + W_hh h_{t-1} + b_h)      (nonlinearity="relu")

    with ``W_xh = weight_ih`` and ``b_h = bias_ih + bias_hh``. The output
    projection ``y_t = W_hy h_t + b_y`` belongs to the model that uses the
    cell (e.g. the language model's head), not to the cell.

    Shapes: ``x_t (batch, input_size)``, ``state h_{t-1} (batch, hidden_size)``
    or None for zeros. Returns ``(h_t, h_t)``: the output and the new state.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ):
        check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias)

    def forward(self, x: Tensor, state: Tensor | None = None):
        check_cell_input(self, x, state, pair=False)
        h = self._zeros(x) if state is None else state
        h = rnn_step(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        return h, h

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"


class LSTMCell(_CellBase):
    """LSTM cell: one time step. The equations are those of :func:`lstm_step`.

    Shapes: ``x_t (batch, input_size)``; ``state`` is ``(h, c)``, each
    ``(batch, hidden_size)``, or None for zeros. Returns ``(h_t, (h_t, c_t))``.
    """

    gates = 4

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None):
        check_cell_input(self, x, state, pair=True)
        if state is None:
            state = (self._zeros(x), self._zeros(x))
        h, c = lstm_step(x, state, *self._weights())
        return h, (h, c)


class GRUCell(_CellBase):
    """GRU cell: one time step. The equations are those of :func:`gru_step`.

    Shapes: ``x_t (batch, input_size)``, ``state h_{t-1} (batch, hidden_size)``
    or None for zeros. Returns ``(h_t, h_t)``.
    """

    gates = 3

    def forward(self, x: Tensor, state: Tensor | None = None):
        check_cell_input(self, x, state, pair=False)
        h = self._zeros(x) if state is None else state
        h = gru_step(x, h, *self._weights())
        return h, h


@dataclass(frozen=True)
class CellKind:
    """What the generic layer needs to know about a cell.

    ``step(x, state, weight_ih, weight_hh, bias_ih, bias_hh) -> state`` is the
    cell's equation and ``update(projected, state, weight_hh, bias_hh) -> state``
    the same given ``projected = W_ih x + b_ih``; ``fused`` is the torch kernel that computes the
    same thing
    over a whole sequence (``torch.lstm`` etc.), or None; ``paired`` says the
    state is ``(h, c)``; ``cudnn_mode`` names the kernel for cuDNN's weight layout.
    """

    name: str
    gates: int
    step: Callable
    update: Callable
    fused: Callable | None
    paired: bool
    cudnn_mode: str
    fold_hidden_bias: bool = True
    """b_hh is added outside every gate, so it can be folded into the input term (not so in the
    GRU's n gate)."""
    hidden_weights: bool = True
    """The gates read the previous state through ``weight_hh``; minGRU/minLSTM have none."""
    sequence: Callable | None = None
    """Runs one layer and direction over a whole sequence fast: ``(kind, x, state, weights,
    has_bias, lengths)``."""
    fast_path: str = "fused"
    """The name of the fast path in ``impl`` and ``last_path``: "fused" (torch kernels) or
    "scan"."""
    coefficients: Callable | None = None
    """For linear-recurrence cells: ``projected -> (a, b)`` of ``h_t = a_t * h_{t-1} + b_t``."""


LSTM_KIND = CellKind(
    "LSTM",
    4,
    lstm_step,
    lstm_update,
    torch.lstm,
    paired=True,
    cudnn_mode="LSTM",
    sequence=paths.fused_direction,
)
GRU_KIND = CellKind(
    "GRU",
    3,
    gru_step,
    gru_update,
    torch.gru,
    paired=False,
    cudnn_mode="GRU",
    fold_hidden_bias=False,
    sequence=paths.fused_direction,
)
RNN_KINDS = {
    name: CellKind(
        "RNN",
        1,
        functools.partial(rnn_step, nonlinearity=name),
        functools.partial(rnn_update, nonlinearity=name),
        fused,
        False,
        f"RNN_{name.upper()}",
        sequence=paths.fused_direction,
    )
    for name, fused in (("tanh", torch.rnn_tanh), ("relu", torch.rnn_relu))
}
