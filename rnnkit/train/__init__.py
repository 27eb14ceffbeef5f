"""Layer 1: the one trainer and the one checkpoint format; they know nothing about any task."""

from rnnkit.train.checkpoint import RunFolder
from rnnkit.train.config import TrainConfig
from rnnkit.train.trainer import Counters, Trainer, resolve_device

__all__ = ["RunFolder", "TrainConfig", "Trainer", "Counters", "resolve_device"]
