"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").

Their gates read only the input, never the previous state, so a whole layer
is one matrix product over all time steps followed by the linear recurrence
``h_t = a_t * h_{t-1} + b_t``, which :mod:`rnnkit.nn.scan` computes in about
2*sqrt(T) sequential operations instead of T. They run in the same generic
layer as the LSTM and GRU: layers, directions, lengths and state are shared.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.nn.cells import CellKind
from rnnkit.nn import minscan
from rnnkit.nn.gates import mingru_coefficients, minlstm_coefficients, positive  # noqa: F401
from rnnkit.nn.lengths import length_mask
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.scan import linear_scan


def _update(coefficients):
    def update(projected, h, weight_hh=None, bias_hh=None):
        a, b = coefficients(projected)
        return a * h + b

    return update


def _step(coefficients):
    update = _update(coefficients)

    def step(x, h, weight_ih, weight_hh=None, bias_ih=None, bias_hh=None):
        return update(F.linear(x, weight_ih, bias_ih), h)

    return step


def scan_direction(kind, x, state, weights, has_bias, lengths):
    """One layer and direction: one matrix product for all steps, then the scan.

    Steps past a row's length get ``a = 1, b = 0``, which keeps the state, so
    the final state is each row's state at its own last step. On a CPU the gates and
    the scan run as one compiled pass (:mod:`rnnkit.nn.minscan`) where it built."""
    weight_ih, _, bias_ih, _ = weights
    if minscan.why_not(x) is None:
        projected = torch.matmul(x, weight_ih.t())
        return minscan.fused_scan(kind.name, projected, bias_ih, state, lengths)
    a, b = kind.coefficients(F.linear(x, weight_ih, bias_ih))
    if lengths is not None:
        active = length_mask(lengths, x.shape[1], x.device).unsqueeze(-1)
        a, b = torch.where(active, a, torch.ones_like(a)), b * active
    h = linear_scan(a, b, state)
    output = h if lengths is None else h * active
    return output, h[:, -1]


def _kind(name: str, gates: int, coefficients) -> CellKind:
    return CellKind(
        name,
        gates,
        _step(coefficients),
        _update(coefficients),
        None,
        paired=False,
        cudnn_mode="",
        hidden_weights=False,
        sequence=scan_direction,
        fast_path="scan",
        coefficients=coefficients,
    )


MINGRU_KIND = _kind("MinGRU", 2, mingru_coefficients)
MINLSTM_KIND = _kind("MinLSTM", 3, minlstm_coefficients)

# Below this many steps the plain loop is as fast as the scan and simpler.
SCAN_MIN_STEPS = 8


class _MinRecurrent(Recurrent):
    def _choose_without_kernel(self, x: Tensor) -> tuple[str, str]:
        if x.shape[1] < SCAN_MIN_STEPS:
            return "reference", f"{x.shape[1]} steps < {SCAN_MIN_STEPS}: the step loop is as fast"
        why_not_compiled = minscan.why_not(x)
        if why_not_compiled is None:
            return "scan", f"compiled gates+scan pass per layer and direction ({x.shape[1]} steps)"
        return "scan", (
            f"two-level eager scan per layer and direction ({x.shape[1]} steps); "
            f"not compiled: {why_not_compiled}"
        )


class MinGRU(_MinRecurrent):
    """Multi-layer minGRU; equations in :func:`mingru_coefficients`.

    Parameters per layer and direction: ``weight_ih_l{k}`` ``(2*hidden, input)``
    (gate rows, then candidate rows) and ``bias_ih_l{k}`` ``(2*hidden,)``; there
    are no hidden-to-hidden weights. Call and shapes as :class:`Recurrent`:
    ``layer(x (batch, time, input), state h_0 (layers*directions, batch, hidden),
    lengths) -> (output (batch, time, directions*hidden), h_n)``.
    ``impl`` is "scan" (parallel), "reference" (the step loop) or "auto" (scan
    from 8 steps on).
    """

    kind = MINGRU_KIND


class MinLSTM(_MinRecurrent):
    """Multi-layer minLSTM; equations in :func:`minlstm_coefficients`.

    Parameters per layer and direction: ``weight_ih_l{k}`` ``(3*hidden, input)``
    (forget, input, candidate rows) and ``bias_ih_l{k}`` ``(3*hidden,)``. Its
    state is ``h`` alone. Call, shapes and ``impl`` as :class:`MinGRU`.
    """

    kind = MINLSTM_KIND
