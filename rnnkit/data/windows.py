"""From a series to training examples: (lookback, horizon) windows as tensors. The splits,
scalers and calendar features are in :mod:`rnnkit.data.timeline`."""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.errors import DataError


def window_origins(
    span: tuple[int, int], lookback: int, horizon: int, stride: int = 1, history_from: int = 0
) -> np.ndarray:
    """Forecast origins ``t`` (first forecast row) whose horizon ``[t, t+horizon)``
    lies in ``span`` and whose lookback ``[t-lookback, t)`` starts at or after
    ``history_from``: validation and test windows may look back into earlier splits
    (the convention of the ETT papers), training windows only into training rows."""
    first = max(span[0], history_from + lookback)
    last = span[1] - horizon
    if stride < 1:
        raise DataError(f"stride must be a positive int; got {stride}")
    return np.arange(first, last + 1, stride)


class Windows:
    """Batches of windows gathered from whole-series tensors, without copies per epoch.

    ``batch(origins)`` -> ``(history (B, L, targets), past (B, L, P), future (B, L+H, F),
    actual (B, H, targets))``, all float32 and scaled.
    """

    def __init__(
        self,
        targets: np.ndarray,
        past: np.ndarray,
        future: np.ndarray,
        lookback: int,
        horizon: int,
        device="cpu",
    ):
        as_tensor = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)  # noqa: E731
        self.targets, self.past, self.future = (
            as_tensor(targets),
            as_tensor(past),
            as_tensor(future),
        )
        self.lookback, self.horizon = lookback, horizon
        self.offsets = torch.arange(-lookback, horizon, device=device)

    def batch(self, origins) -> tuple[torch.Tensor, ...]:
        rows = torch.as_tensor(origins, device=self.offsets.device)[:, None] + self.offsets
        history, actual = (
            self.targets[rows[:, : self.lookback]],
            self.targets[rows[:, self.lookback :]],
        )
        return history, self.past[rows[:, : self.lookback]], self.future[rows], actual
