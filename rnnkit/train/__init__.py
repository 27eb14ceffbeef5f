"""Floor 2: the one trainer and the one checkpoint format; they know nothing about any task."""

from rnnkit.train.checkpoint import RunFolder
from rnnkit.train.config import TrainConfig
from rnnkit.train.protocol import Counters, TrainingTask, best_metric, resolve_device
from rnnkit.train.trainer import Trainer

__all__ = [
    "RunFolder",
    "TrainConfig",
    "Trainer",
    "TrainingTask",
    "Counters",
    "best_metric",
    "resolve_device",
]
