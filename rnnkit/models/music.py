"""The piano-roll model: an RNN over time steps with an independent Bernoulli
output per key (the RNN-NADE paper's "RNN" baseline; Boulanger-Lewandowski et
al. 2012, and Chung et al. 2014's RNN/LSTM/GRU comparison)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.fields import DEPTH, PROBABILITY, WIDTH, Range, check_fields
from rnnkit.nn import make_recurrent
from rnnkit.nn.registry import CELLS


@dataclass
class PianoRollModelConfig:
    """The piano-roll model's shape."""

    keys: int = 88
    """Keys per step (88: MIDI pitches 21 to 108)."""
    cell: str = "lstm"
    """Recurrent cell: rnn (tanh), rnn_relu, lstm, gru, mingru or minlstm."""
    hidden_size: int = 256
    """Width of each recurrent layer's state."""
    num_layers: int = 1
    """Number of stacked recurrent layers."""
    dropout: float = 0.3
    """Dropout on the inputs, between layers and before the output layer."""

    BOUNDS = {
        "keys": Range(1, 128),
        "cell": CELLS,
        "hidden_size": WIDTH,
        "num_layers": DEPTH,
        "dropout": PROBABILITY,
    }

    def __post_init__(self):
        check_fields(self)


class PianoRollModel(nn.Module):
    """``forward(rolls, state=None, lengths=None) -> (logits, state)``: ``rolls``
    ``(batch, time, keys)`` of 0/1, ``logits`` ``(batch, time, keys)``, where step ``t``'s
    logits are the model's belief about step ``t + 1`` (one sigmoid per key).

    ``step(roll, state) -> (logits, state)`` advances one step, ``(batch, keys)`` ->
    ``(batch, keys)``, in O(1) work: generation carries the state.
    """

    def __init__(self, config: PianoRollModelConfig):
        super().__init__()
        self.config = config
        self.recurrent = make_recurrent(
            config.cell,
            config.keys,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.keys)

    def forward(self, rolls: Tensor, state=None, lengths=None):
        output, state = self.recurrent(self.dropout(rolls), state, lengths)
        return self.head(self.dropout(output)), state

    def step(self, roll: Tensor, state=None):
        output, state = self.recurrent.step(roll, state)
        return self.head(output), state


def nll_per_step(logits: Tensor, targets: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Negative log-likelihood of the ``targets`` under independent Bernoullis:
    summed over the keys, then over the steps where ``mask`` is true. Returns the
    total and the number of steps, so that a split's NLL per step is the sum of the
    totals over the sum of the counts (every step of the split weighs the same)."""
    per_key = F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="none")
    per_step = per_key.sum(-1)
    return (per_step * mask).sum(), mask.sum()


def sample_step(logits: Tensor, temperature: float, uniform: Tensor) -> Tensor:
    """Draws each key on or off from its sigmoid, sharpened (temperature < 1) or
    flattened (> 1) by dividing the logits by the temperature: on where ``uniform`` (draws in
    [0, 1), shaped like ``logits``) falls below the probability."""
    probabilities = torch.sigmoid(logits.float() / temperature)
    return (uniform.to(probabilities.device) < probabilities).float()
