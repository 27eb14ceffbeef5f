"""Gate-bias initialisations that help gated layers remember from the first step.

The layers start exactly as ``torch.nn`` does (uniform weights and biases), so
that seeded runs match torch. For long-range problems that default forgets
fast: an LSTM's forget gate starts near sigmoid(0) = 0.5, so a gradient that
flows back t steps through the cell state shrinks like 0.5^t. These functions
change only the gate biases, in place:

- :func:`forget_bias_` sets the LSTM forget-gate bias to a constant (1 in
  Gers et al. 2000 and Jozefowicz et al. 2015).
- :func:`chrono_init_` (Tallec & Ollivier 2018, "Can recurrent neural networks
  warp time?", section 4) draws the forget bias as log(U(1, T_max - 1)) and sets
  the input bias to its negative, so that the layer's memory spans time scales
  up to ``max_length``. For a GRU the same is done to the update gate z, which
  keeps the old state when it is near 1 (``h' = (1 - z) * n + z * h``).

Both work on :class:`rnnkit.LSTM`/:class:`rnnkit.GRU` and on ``torch.nn.LSTM``/
``torch.nn.GRU`` (same parameter names and gate order: LSTM i, f, g, o; GRU r, z, n).
"""

from __future__ import annotations

import torch
from torch import nn


def _biases(layer: nn.Module):
    """``(bias_ih, bias_hh)`` of every layer and direction."""
    names = [n for n, _ in layer.named_parameters() if n.startswith("bias_ih")]
    if not names:
        raise ValueError(
            f"{type(layer).__name__} has no input-hidden biases (bias_ih_l0...) to initialise"
        )
    return [
        (getattr(layer, n), getattr(layer, n.replace("bias_ih", "bias_hh"), None)) for n in names
    ]


def _gates(layer: nn.Module) -> int:
    kind = getattr(
        layer, "kind", None
    )  # rnnkit layers name their cell kind; torch.nn layers have .mode
    name = getattr(kind, "name", None) or getattr(layer, "mode", None) or type(layer).__name__
    gates = {"LSTM": 4, "GRU": 3}.get(str(name).upper())
    if gates is None:
        raise ValueError(
            f"gate initialisation needs an LSTM or GRU layer; got {type(layer).__name__}"
        )
    return gates


def forget_bias_(layer: nn.Module, value: float = 1.0) -> nn.Module:
    """Sets every LSTM forget-gate bias (``b_if + b_hf``) to ``value``."""
    if _gates(layer) != 4:
        raise ValueError("forget_bias_ needs an LSTM layer")
    with torch.no_grad():
        for bias_ih, bias_hh in _biases(layer):
            hidden = bias_ih.numel() // 4
            bias_ih[hidden : 2 * hidden] = value
            if bias_hh is not None:
                bias_hh[hidden : 2 * hidden] = 0.0
    return layer


def chrono_init_(
    layer: nn.Module, max_length: int, generator: torch.Generator | None = None
) -> nn.Module:
    """Chrono initialisation for time scales up to ``max_length`` steps (see the module
    docstring)."""
    if max_length < 3:
        raise ValueError(f"max_length must be at least 3; got {max_length}")
    gates = _gates(layer)
    with torch.no_grad():
        for bias_ih, bias_hh in _biases(layer):
            hidden = bias_ih.numel() // gates
            uniform = torch.rand(hidden, generator=generator, device="cpu") * (max_length - 2) + 1
            keep = uniform.log().to(bias_ih)
            # LSTM (i, f, g, o): forget = log(u), input = -log(u). GRU (r, z, n): update z = log(u).
            targets = {hidden: keep, 0: -keep} if gates == 4 else {hidden: keep}
            for start, value in targets.items():
                bias_ih[start : start + hidden] = value
                if bias_hh is not None:
                    bias_hh[start : start + hidden] = 0.0
    return layer
