"""The long-range problems as trainable tasks: a small model per problem and
what the shared trainer needs (batches, loss, evaluate)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.data.synthetic import (
    ADDING_BASELINE_MSE,
    COPY_MEMORY,
    COPY_SYMBOLS,
    COPY_VOCABULARY,
    adding_problem,
    copy_baseline,
    copy_memory,
)
from rnnkit.errors import ConfigError
from rnnkit.io import parse_list
from rnnkit.fields import AT_LEAST_ONE, WIDTH, check_fields
from rnnkit.nn import make_recurrent
from rnnkit.nn.registry import CELLS
from rnnkit.nn.init import chrono_init_, forget_bias_

PROBLEMS = ("adding", "copy")
GATE_INITS = ("torch", "forget1", "chrono")


def parse_cells(text: str) -> list[str]:
    """``"rnn, lstm"`` -> ["rnn", "lstm"], each a known cell."""
    cells = parse_list(text)
    if not cells or any(cell not in CELLS for cell in cells):
        raise ConfigError(
            "cells", f"must be comma-separated cells among {', '.join(CELLS)}; got {text!r}"
        )
    return cells


@dataclass
class ProblemModelConfig:
    """A recurrent layer with the input and output each problem needs."""

    problem: str = "adding"
    """adding (regression on the last step) or copy (a symbol per step)."""
    cell: str = "lstm"
    """Recurrent cell: rnn (tanh), rnn_relu, lstm, gru, mingru or minlstm."""
    hidden_size: int = 128
    """Width of the recurrent state."""
    gate_init: str = "chrono"
    """Gate biases of LSTM/GRU: torch (as torch.nn), forget1 (LSTM forget bias 1) or chrono (Tallec
    & Ollivier 2018)."""
    max_length: int = 100
    """Longest time scale for chrono initialisation: the problem's length."""

    BOUNDS = {
        "problem": PROBLEMS,
        "cell": CELLS,
        "hidden_size": WIDTH,
        "gate_init": GATE_INITS,
        "max_length": AT_LEAST_ONE,
    }

    def __post_init__(self):
        check_fields(self)


class ProblemModel(nn.Module):
    """``forward(inputs) -> (predictions, hidden)``.

    adding: ``inputs (batch, T, 2)`` -> ``predictions (batch,)`` read from the last step.
    copy: ``inputs (batch, T + 20)`` tokens -> ``predictions (batch, T + 20, 9)`` logits.
    ``hidden (batch, time, hidden_size)`` is the layer's output h_t, for gradient diagnostics.
    """

    def __init__(self, config: ProblemModelConfig):
        super().__init__()
        self.config = config
        width = 2 if config.problem == "adding" else COPY_VOCABULARY
        self.recurrent = make_recurrent(config.cell, width, config.hidden_size)
        self.head = nn.Linear(
            config.hidden_size, 1 if config.problem == "adding" else COPY_SYMBOLS + 1
        )
        if config.cell in ("lstm", "gru") and config.gate_init == "chrono":
            chrono_init_(self.recurrent, max(config.max_length, 3))
        elif config.cell == "lstm" and config.gate_init == "forget1":
            forget_bias_(self.recurrent, 1.0)

    def features(self, inputs: Tensor) -> Tensor:
        """The recurrent layer's input ``(batch, time, features)``."""
        if self.config.problem == "copy":
            return F.one_hot(
                inputs, COPY_VOCABULARY
            ).float()  # no embedding: the same input for every cell
        return inputs

    def readout(self, hidden: Tensor) -> Tensor:
        """Predictions from the layer's outputs ``(batch, time, hidden_size)``."""
        if self.config.problem == "adding":
            return self.head(hidden[:, -1]).squeeze(-1)
        return self.head(hidden)

    def forward(self, inputs: Tensor):
        hidden, _ = self.recurrent(self.features(inputs))
        return self.readout(hidden), hidden


def problem_loss(problem: str, predictions: Tensor, targets: Tensor) -> Tensor:
    """MSE (adding) or cross-entropy per step (copy), in float32."""
    if problem == "adding":
        return F.mse_loss(predictions.float(), targets)
    return F.cross_entropy(
        predictions.float().reshape(-1, predictions.shape[-1]), targets.reshape(-1)
    )


def baseline(problem: str, length: int) -> float:
    return ADDING_BASELINE_MSE if problem == "adding" else copy_baseline(length)


def solved(problem: str, metrics: dict) -> bool:
    """adding: MSE below 0.01 (the TCN paper's bar); copy: the 10 symbols recalled with >= 99%
    accuracy."""
    return metrics["loss"] < 0.01 if problem == "adding" else metrics["accuracy"] >= 0.99


def generate(problem: str, batch: int, length: int, generator: torch.Generator):
    return (adding_problem if problem == "adding" else copy_memory)(batch, length, generator)


class _GeneratedBatches:
    """Batch ``i`` of an epoch is drawn from a generator seeded by (seed, epoch, i),
    so any batch can be made again: resume needs no stored data."""

    def __init__(self, problem, length, batch_size, seed, epoch, count, device):
        self.args = problem, length, batch_size
        self.seed, self.epoch, self.count, self.device = seed, epoch, count, device

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        problem, length, batch_size = self.args
        generator = torch.Generator().manual_seed(
            (self.seed * 1_000_003 + self.epoch) * 1_000_033 + index
        )
        return tuple(t.to(self.device) for t in generate(problem, batch_size, length, generator))


class ProblemTask:
    """What the trainer needs for one problem at one length (see :mod:`rnnkit.train.trainer`)."""

    unit = "sequences"
    higher_is_better = ("accuracy",)

    def __init__(
        self,
        problem: str,
        length: int,
        batch_size: int,
        seed: int,
        device,
        steps_per_epoch: int = 1000,
        validation_size: int = 1000,
    ):
        self.problem, self.length, self.batch_size = problem, length, batch_size
        self.seed, self.device, self.steps_per_epoch = seed, device, steps_per_epoch
        generator = torch.Generator().manual_seed(
            10_007 + seed
        )  # held-out sequences, never trained on
        self.validation = [
            t.to(device) for t in generate(problem, validation_size, length, generator)
        ]

    def batches(self, epoch: int):
        return _GeneratedBatches(
            self.problem,
            self.length,
            self.batch_size,
            self.seed,
            epoch,
            self.steps_per_epoch,
            self.device,
        )

    def loss(self, model, batch, carry):
        inputs, targets = batch
        predictions, _ = model(inputs)
        return problem_loss(self.problem, predictions, targets), None, len(inputs)

    def evaluate(self, model) -> dict:
        inputs, targets = self.validation
        predictions = torch.cat([model(chunk)[0] for chunk in inputs.split(250)])
        metrics = {"loss": problem_loss(self.problem, predictions, targets).item()}
        if self.problem == "copy":
            recalled = predictions[:, -COPY_MEMORY:].argmax(-1) == targets[:, -COPY_MEMORY:]
            metrics["accuracy"] = recalled.float().mean().item()
        return metrics
