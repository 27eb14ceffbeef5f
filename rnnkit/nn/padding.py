"""Variable lengths on the padded fused kernel, by freezing the state at padded steps.

A right-padded batch through the padded kernel gives exact outputs before
each row's end (they do not depend on what follows), but the state keeps
changing over the padding, and a backward direction would read the padding
first. Both are fixed with one extra input feature, 1 at padded steps and 0
elsewhere, whose weight column saturates the gates that keep the state:

- LSTM (gates i, f, g, o): f = sigmoid(... + S) = 1 and i = sigmoid(... - S) = 0,
  so c_t = c_{t-1};
- GRU (gates r, z, n): z = sigmoid(... + S) = 1, so h_t = (1 - z) n + z h_{t-1} = h_{t-1}.

With S = 1e4 the saturated sigmoids are exactly 1 and 0 (in float64, float32
and bfloat16) and their derivatives exactly 0, so the frozen steps are exact in
the forward pass and in the gradients: no parameter receives anything from
them. At real steps the feature is 0 and changes nothing.

That makes one bidirectional kernel call per layer exact for right-padded
rows: the forward direction freezes after each row's end, and the backward
direction, which reads the padding first, stays at its initial state until
the row's last step. For the LSTM that needs the initial state to be zero
(during the frozen steps h = o * tanh(c_0), which is h_0 = 0 only when c_0 = 0);
the GRU keeps any initial state. Cells that cannot be frozen (the tanh/ReLU RNN)
use the per-direction path in :mod:`rnnkit.nn.paths`.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.nn.lengths import length_mask

SATURATE = 1e4
FROZEN_GATES = {"LSTM": {0: -SATURATE, 1: SATURATE}, "GRU": {1: SATURATE}}
"""Per cell kind: gate index -> the value its weight column adds at padded steps."""


def can_freeze(kind, state_given: bool) -> bool:
    return kind.name in FROZEN_GATES and not (kind.paired and state_given)


def _column(kind, weight_ih: Tensor) -> Tensor:
    """The extra input column that saturates the keeping gates, ``(gates*hidden, 1)``."""
    hidden = weight_ih.shape[0] // kind.gates
    column = weight_ih.new_zeros(weight_ih.shape[0], 1)
    for gate, value in FROZEN_GATES[kind.name].items():
        column[gate * hidden : (gate + 1) * hidden] = value
    return column


def _augment(weight_ih: Tensor, column: Tensor) -> Tensor:
    """``weight_ih`` with the extra column appended."""
    return torch.cat([weight_ih, column], dim=1)


def frozen_direction(kind, x: Tensor, state, weights, has_bias: bool, active: Tensor):
    """One layer and direction over the padded batch, its state frozen past each row's end."""
    flag = (~active).to(x.dtype).unsqueeze(-1)
    hx = tuple(s.unsqueeze(0) for s in state) if kind.paired else state.unsqueeze(0)
    result = kind.fused(
        torch.cat([x, flag], dim=-1),
        hx,
        [_augment(weights[0], _column(kind, weights[0])), *weights[1:]],
        has_bias,
        1,
        0.0,
        torch.is_grad_enabled(),
        False,
        True,
    )
    final = tuple(s.squeeze(0) for s in result[1:])
    return result[0], (final if kind.paired else final[0])


def frozen_stack(
    kind,
    x: Tensor,
    state,
    layer_weights,
    has_bias: bool,
    lengths: Tensor,
    dropout: float,
    training: bool,
    bidirectional: bool,
):
    """All layers, one fused (bi)directional call each; ``state`` is the layer's
    ``(layers*directions, batch, hidden)`` state (a pair for the LSTM, zero)."""
    batch, time = x.shape[:2]
    lengths = lengths.to(x.device)
    active = length_mask(lengths, time)
    flag = (~active).to(x.dtype).unsqueeze(-1)
    rows, last = torch.arange(batch, device=x.device), lengths - 1
    directions = 2 if bidirectional else 1
    column = _column(kind, layer_weights[0][0])  # every layer has gates*hidden rows
    finals = []
    for layer, weights in enumerate(layer_weights):
        per_direction = len(weights) // directions
        augmented = []
        for start in range(0, len(weights), per_direction):
            augmented += [
                _augment(weights[start], column),
                *weights[start + 1 : start + per_direction],
            ]
        span = slice(layer * directions, (layer + 1) * directions)
        hx = tuple(s[span] for s in state) if kind.paired else state[span]
        result = kind.fused(
            torch.cat([x, flag], dim=-1),
            hx,
            augmented,
            has_bias,
            1,
            0.0,
            torch.is_grad_enabled(),
            bidirectional,
            True,
        )
        output = result[0]
        if kind.paired:
            # The LSTM's h keeps moving over the frozen steps (h = o * tanh(c) with a fresh o):
            # the forward direction's h is read at each row's end; the backward one ends at step 0.
            h = result[1].clone()
            h[0] = output[rows, last, : h.shape[-1]]
            finals.append((h, result[2]))
        else:
            finals.append(result[1])
        # The next layer needs no masking: whatever it reads at padded steps, its gates stay
        # saturated there.
        x = output
        if layer < len(layer_weights) - 1 and dropout > 0:
            x = F.dropout(x, dropout, training)
    x = x * active.unsqueeze(-1)
    if kind.paired:
        return x, (torch.cat([f[0] for f in finals]), torch.cat([f[1] for f in finals]))
    return x, torch.cat(finals)
