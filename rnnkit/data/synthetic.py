"""Synthetic long-range problems with a length knob T, generated from a seed.

- **Adding** (Hochreiter & Schmidhuber 1997, experiment 4, in the form of Le et
  al. 2015): each step has a value drawn from U(0, 1) and a marker; one marker
  sits in the first half of the sequence and one in the second; the target is
  the sum of the two marked values. Always answering 1 scores the variance of
  that sum, 2/12 = 0.1667, the baseline MSE.
- **Copy memory** (Arjovsky et al. 2016, section 4.1): 10 symbols from 1..8,
  then T - 1 blanks (0), a delimiter (9) and 10 more blanks; the output must be
  blank for the first T + 10 steps and then repeat the 10 symbols. Answering
  blanks and then guessing uniformly scores 10 log(8) / (T + 20) nats per step,
  the baseline cross-entropy.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

ADDING_BASELINE_MSE = 2 / 12
COPY_SYMBOLS, COPY_MEMORY = 8, 10
COPY_VOCABULARY = COPY_SYMBOLS + 2  # blank 0, symbols 1..8, delimiter 9


def adding_problem(batch: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``inputs (batch, length, 2)`` (value, marker) and ``targets (batch,)``."""
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2; got {length}")
    values = torch.rand(batch, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, length, (batch,), generator=generator)
    markers = torch.zeros(batch, length)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return torch.stack([values, markers], dim=-1), targets


def copy_memory(batch: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``inputs (batch, length + 20)`` and ``targets (batch, length + 20)``, int64 tokens."""
    if length < 1:
        raise ValueError(f"the copy problem needs length >= 1; got {length}")
    total = length + 2 * COPY_MEMORY
    symbols = torch.randint(1, COPY_SYMBOLS + 1, (batch, COPY_MEMORY), generator=generator)
    inputs = torch.zeros(batch, total, dtype=torch.long)
    inputs[:, :COPY_MEMORY] = symbols
    inputs[:, COPY_MEMORY + length - 1] = COPY_SYMBOLS + 1
    targets = torch.zeros(batch, total, dtype=torch.long)
    targets[:, -COPY_MEMORY:] = symbols
    return inputs, targets


def copy_baseline(length: int) -> float:
    """Cross-entropy per step of answering blanks, then guessing among the 8 symbols."""
    return COPY_MEMORY * math.log(COPY_SYMBOLS) / (length + 2 * COPY_MEMORY)
