"""Floor 2: the one trainer and the one checkpoint format; they know nothing about any task."""

from rnnkit.train.checkpoint import RunFolder
from rnnkit.train.config import TrainConfig
from rnnkit.train.trainer import (
    Counters,
    Trainer,
    TrainingTask,
    best_metric,
    resolve_device,
)

__all__ = [
    "RunFolder",
    "TrainConfig",
    "Trainer",
    "TrainingTask",
    "Counters",
    "best_metric",
    "resolve_device",
]
