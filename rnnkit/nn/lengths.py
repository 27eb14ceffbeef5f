"""Right-padded batches: which steps of each row are real."""

from __future__ import annotations

import torch
from torch import Tensor


def length_mask(lengths: Tensor, time: int, device=None) -> Tensor:
    """``(batch, time)`` bool, True at the first ``lengths[row]`` steps of each row."""
    device = lengths.device if device is None else device
    return torch.arange(time, device=device) < lengths.to(device).unsqueeze(1)
