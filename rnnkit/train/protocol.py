"""What the trainer (:mod:`rnnkit.train.trainer`) and a task agree on: the task's protocol,
the counters saved for exact resume, the best score's sign, the device and the optimizer a
config asks for."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import torch

from rnnkit.train.config import TrainConfig
from rnnkit.train.distributed import processes


class TrainingTask(Protocol):
    """What the trainer needs from a task."""

    unit: ClassVar[str]
    """What the items of :meth:`loss` are called in the progress line ("chars", "examples")."""

    def batches(self, epoch: int) -> Sequence:
        """The batches of one epoch, indexable so that a resumed run picks up at the exact
        batch. Under torchrun every rank gets the global batch and trains on its rows."""

    def loss(self, model: torch.nn.Module, batch, carry) -> tuple[torch.Tensor, Any, int]:
        """``(mean loss of the batch, state to carry into the next batch or None, items
        covered)``."""

    def evaluate(self, model: torch.nn.Module) -> dict:
        """Validation metrics with a ``loss`` key (lower is better). A task may also name,
        in a ``higher_is_better`` tuple, the metrics that ``TrainConfig.select_by`` may
        choose; and, if it carries a state between batches, the state's batch axis in
        ``carry_batch_dim``, so that several processes can share it."""


@dataclass
class Counters:
    """Where training stands; saved in ``state.json`` for exact resume."""

    step: int = 0
    epoch: int = 0
    batch_index: int = 0
    elapsed: float = 0.0
    best_score: float = math.inf
    """The best validation ``select_by`` metric as a number where lower is better
    (the loss itself, or minus an accuracy); see :func:`best_metric`."""
    best_step: int = -1
    evals_without_improvement: int = 0
    stopped_because: str = ""
    last_eval: dict = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when available, else the CPU; under torchrun, this rank's own GPU."""
    return processes().device(name)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, or plain SGD for NT-ASGD (whose averaging the trainer adds). With discriminative
    learning rates or gradual unfreezing, one parameter group per layer group of the model
    (``model.layer_groups()``, top first), each with its ``lr_scale`` and ``start_step``."""
    groups = model.parameters()
    if config.layer_lr_decay != 1 or config.unfreeze_every:
        if not hasattr(model, "layer_groups"):
            raise ValueError(
                f"layer_lr_decay and unfreeze_every need a model with layer groups; "
                f"{type(model).__name__} has none"
            )
        groups = [
            {
                "params": parameters,
                "lr_scale": config.layer_lr_decay**-depth,
                "start_step": depth * config.unfreeze_every,
            }
            for depth, parameters in enumerate(model.layer_groups())
        ]
    if config.optimizer == "ntasgd":
        return torch.optim.SGD(groups, lr=config.learning_rate, weight_decay=config.weight_decay)
    return torch.optim.AdamW(groups, lr=config.learning_rate, weight_decay=config.weight_decay)


def best_metric(counters: Counters, config: TrainConfig) -> float:
    """The best validation value of ``config.select_by`` in its own sign (an accuracy, a loss)."""
    return counters.best_score if config.select_by == "loss" else -counters.best_score
