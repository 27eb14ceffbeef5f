"""The GRU of Cho et al. (2014) as first written, where the reset gate multiplies the state
*before* the recurrent product. Keras calls it ``reset_after=False`` (its default before
TensorFlow 2); torch and cuDNN compute the other form (:func:`rnnkit.nn.cells.gru_step`), so
this one runs the reference loop.

Weights are named and shaped as :class:`rnnkit.nn.GRU`'s (gates r, z, n), so the two forms
load each other's state_dicts; they compute different functions of the same numbers.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.nn.cells import CellKind
from rnnkit.nn.recurrent import Recurrent


def gru_reset_before_step(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """GRU step with the reset gate before the recurrent product (Cho et al. 2014, eq. 5-8)::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    ``x`` is ``(batch, input)``, ``h`` is ``(batch, hidden)``; returns ``h_t``.
    """
    return gru_reset_before_update(F.linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh)


def gru_reset_before_update(projected: Tensor, h: Tensor, weight_hh, bias_hh=None) -> Tensor:
    """:func:`gru_reset_before_step` given ``projected = W_ih x_t + b_ih`` (batch, 3*hidden)."""
    input_r, input_z, input_n = projected.chunk(3, dim=-1)
    weight_r, weight_z, weight_n = weight_hh.chunk(3, dim=0)
    bias_r, bias_z, bias_n = bias_hh.chunk(3) if bias_hh is not None else (None, None, None)
    r = torch.sigmoid(input_r + F.linear(h, weight_r, bias_r))
    z = torch.sigmoid(input_z + F.linear(h, weight_z, bias_z))
    n = torch.tanh(input_n + F.linear(r * h, weight_n, bias_n))
    return (1 - z) * n + z * h


GRU_RESET_BEFORE_KIND = CellKind(
    "GRU (reset before)",
    3,
    gru_reset_before_step,
    gru_reset_before_update,
    None,  # no torch kernel computes this form: the reference loop runs
    paired=False,
    cudnn_mode="GRU",
    fold_hidden_bias=False,
)


class GRUResetBefore(Recurrent):
    """Multi-layer GRU; each step is :func:`gru_reset_before_step`.

    State is ``h`` of shape ``(num_layers*directions, batch, hidden_size)``. See
    :class:`rnnkit.nn.Recurrent` for the call and the shapes; ``lengths`` work as there.
    """

    kind = GRU_RESET_BEFORE_KIND
