"""One parameter budget for every cell: the lab compares cells at equal size."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from rnnkit.train import Counters, TrainConfig


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


def budgeted_training(config, seed: int, eval_every: int) -> TrainConfig:
    """``compare --task lm|music``: every cell trains under the same time budget."""
    return TrainConfig(
        learning_rate=config.rate(),
        time_budget=config.time_budget,
        max_steps=config.steps,
        seed=seed,
        clip_norm=config.clip_norm,
        device=config.device,
        precision=config.precision,
        progress=False,
        eval_every=eval_every,
    )


def budgeted_row(
    length,
    cell: str,
    seed: int,
    model: torch.nn.Module,
    counters: Counters,
    metric: float,
    baseline: float,
    folder: Path,
) -> dict:
    """One row of a time-budgeted comparison (lm, music): no solved mark, no gradient decay."""
    return {
        "T": length,
        "cell": cell,
        "seed": seed,
        "hidden_size": model.config.hidden_size,
        "parameters": parameter_count(model),
        "seconds_per_1k_steps": 1000 * counters.elapsed / max(counters.step, 1),
        "metric": metric,
        "baseline": baseline,
        "solved": "-",
        "gradient_decay_per_100_steps": math.nan,
        "_folder": folder,
    }
