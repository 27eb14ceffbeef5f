"""One parameter budget for every cell: the lab compares cells at equal size."""

from __future__ import annotations

import torch


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def matched_width(build, budget: int, largest: int = 4096) -> int:
    """The width whose model (``build(width)``) has the parameter count nearest ``budget``."""
    low, high = 1, largest
    while low < high:  # the first width at or above the budget (counts grow with width)
        middle = (low + high) // 2
        if parameter_count(build(middle)) < budget:
            low = middle + 1
        else:
            high = middle
    candidates = [w for w in (low - 1, low) if w >= 1]
    return min(candidates, key=lambda w: abs(parameter_count(build(w)) - budget))
