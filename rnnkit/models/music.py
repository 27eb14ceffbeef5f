"""The piano-roll model: an RNN over time steps and an output that, by default, models
the keys of one step conditionally on each other (a MADE, or the NADE of RNN-NADE;
Boulanger-Lewandowski et al. 2012), or one independent Bernoulli per key (that paper's
"RNN" baseline, and Chung et al. 2014's RNN/LSTM/GRU comparison)."""

from __future__ import annotations

import math
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
    output: str = "made"
    """made, nade or independent. made and nade condition each key of a step on the keys below
    it (MADE, Germain et al. 2015; NADE as in RNN-NADE, Boulanger-Lewandowski et al. 2012);
    independent is one sigmoid per key. made is the recipe: on JSB it scores far lower NLL than
    independent, in two matrix products per step; nade trains several times slower (its hidden
    state per key is a (steps, keys, units) tensor)."""
    output_size: int = 300
    """Hidden units of the made or nade output."""

    BOUNDS = {
        "output": ("made", "nade", "independent"),
        "output_size": WIDTH,
        "keys": Range(1, 128),
        "cell": CELLS,
        "hidden_size": WIDTH,
        "num_layers": DEPTH,
        "dropout": PROBABILITY,
    }

    def __post_init__(self):
        check_fields(self)


class _ConditionalOutput(nn.Module):
    """The parameters NADE and MADE share: ``b(h)`` and ``c(h)``, linear in the RNN's features,
    and the weights into (``W``, units x keys) and out of (``V``, keys x units) the hidden
    layer; each subclass initialises ``W`` and ``V`` its own way."""

    def __init__(self, hidden_size: int, keys: int, units: int):
        super().__init__()
        self.visible_bias = nn.Linear(hidden_size, keys)  # b(h)
        self.hidden_bias = nn.Linear(hidden_size, units)  # c(h)
        self.weight_in = nn.Parameter(torch.empty(units, keys))  # W
        self.weight_out = nn.Parameter(torch.empty(keys, units))  # V


class NadeOutput(_ConditionalOutput):
    """The keys of one step, each conditioned on the keys below it and on the RNN's features
    ``h`` (NADE, Larochelle & Murray 2011; conditioned as in RNN-NADE)::

        a_k = c(h) + W[:, :k] x_{<k}            (hidden pre-activations for key k)
        p(x_k = 1 | x_{<k}, h) = sigmoid(b_k(h) + V_k . sigmoid(a_k))

    ``c`` and ``b`` are linear in ``h``. The NLL of a step is the sum of the keys' binary
    cross-entropies under these conditional logits, so training scores a whole step in one
    pass (an exclusive cumulative sum over the keys); sampling goes key by key.
    """

    def __init__(self, hidden_size: int, keys: int, units: int):
        super().__init__(hidden_size, keys, units)
        bound = 1.0 / math.sqrt(units)
        nn.init.uniform_(self.weight_in, -bound, bound)
        nn.init.uniform_(self.weight_out, -bound, bound)

    def forward(self, features: Tensor, frames: Tensor) -> Tensor:
        """``features (..., hidden)``, ``frames (..., keys)`` of 0/1 -> conditional logits
        ``(..., keys)``. Computed in the weights' precision, outside autocast: the sums run
        over up to 128 keys."""
        with torch.autocast(features.device.type, enabled=False):
            dtype = self.weight_in.dtype
            features, frames = features.to(dtype), frames.to(dtype)
            added = frames.unsqueeze(-1) * self.weight_in.t()  # (..., keys, units)
            before = torch.cumsum(added, dim=-2) - added  # only the keys below each key
            hidden = torch.sigmoid(self.hidden_bias(features).unsqueeze(-2) + before)
            return self.visible_bias(features) + (hidden * self.weight_out).sum(-1)

    def sample(self, features: Tensor, temperature: float, uniform: Tensor) -> Tensor:
        """One step ``(batch, keys)`` of 0/1 for ``features (batch, hidden)``, key by key from
        the lowest: on where ``uniform`` falls below the key's tempered probability."""
        features = features.to(self.weight_in.dtype)
        pre_activation = self.hidden_bias(features)
        visible = self.visible_bias(features)
        uniform = uniform.to(features.device)
        keys = []
        for key in range(visible.shape[-1]):
            logit = visible[:, key] + torch.sigmoid(pre_activation) @ self.weight_out[key]
            on = (uniform[:, key] < torch.sigmoid(logit / temperature)).to(features.dtype)
            keys.append(on)
            pre_activation = pre_activation + on[:, None] * self.weight_in[:, key]
        return torch.stack(keys, dim=-1)


class MadeOutput(_ConditionalOutput):
    """The keys of one step, each conditioned on the keys below it and on the RNN's features
    ``h``, through one masked hidden layer (MADE, Germain et al. 2015)::

        u = relu(c(h) + (W * M_in) x),   p(x_k = 1 | x_{<k}, h) = sigmoid(b_k(h) + (V * M_out)_k u)

    Hidden unit ``m`` has a degree ``d_m`` in 1..keys-1 (round robin) and reads the keys below
    it (``M_in[m, j] = j < d_m``); key ``k`` reads the units of degree at most ``k``
    (``M_out[k, m] = d_m <= k``), so key ``k`` depends on keys ``0..k-1`` only. Unlike NADE's
    per-key hidden states, training costs two matrix products per step of music.
    """

    def __init__(self, hidden_size: int, keys: int, units: int):
        super().__init__(hidden_size, keys, units)
        nn.init.uniform_(self.weight_in, -1 / math.sqrt(keys), 1 / math.sqrt(keys))
        nn.init.uniform_(self.weight_out, -1 / math.sqrt(units), 1 / math.sqrt(units))
        degrees = torch.arange(units) % max(keys - 1, 1) + 1
        # Not saved: the masks follow from the sizes, and state_dicts stay weights only.
        self.register_buffer("mask_in", (torch.arange(keys) < degrees[:, None]).float(), False)
        self.register_buffer("mask_out", (degrees <= torch.arange(keys)[:, None]).float(), False)

    def forward(self, features: Tensor, frames: Tensor) -> Tensor:
        """``features (..., hidden)``, ``frames (..., keys)`` of 0/1 -> conditional logits
        ``(..., keys)``."""
        frames = frames.to(features.dtype)
        hidden = F.relu(
            self.hidden_bias(features) + F.linear(frames, self.weight_in * self.mask_in)
        )
        return self.visible_bias(features) + F.linear(hidden, self.weight_out * self.mask_out)

    def sample(self, features: Tensor, temperature: float, uniform: Tensor) -> Tensor:
        """One step ``(batch, keys)`` of 0/1 for ``features (batch, hidden)``, key by key from
        the lowest: on where ``uniform`` falls below the key's tempered probability."""
        keys = self.weight_out.shape[0]
        frame = features.new_zeros(features.shape[0], keys)
        uniform = uniform.to(features.device)
        for key in range(keys):  # key k's logit reads only the keys already drawn
            logit = self(features, frame)[:, key]
            frame[:, key] = (uniform[:, key] < torch.sigmoid(logit / temperature)).to(frame.dtype)
        return frame


OUTPUTS = {"nade": NadeOutput, "made": MadeOutput}


class PianoRollModel(nn.Module):
    """``forward(rolls, state=None, lengths=None, targets=None) -> (logits, state)``:
    ``rolls`` ``(batch, time, keys)`` of 0/1, ``logits`` ``(batch, time, keys)``, where step
    ``t``'s logits are the model's belief about step ``t + 1``: one sigmoid per key, or with
    the NADE output each key's conditional logit given ``targets`` (the next steps, shaped like
    ``rolls``), which it then needs.

    ``features``/``step_features`` give the RNN's output, and ``sample_next(features,
    temperature, uniform)`` draws the next step from it, for either output; ``step(roll,
    state) -> (logits, state)`` advances one step of the independent output, ``(batch, keys)``
    -> ``(batch, keys)``. Each is O(1) work per step: generation carries the state.
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
        if config.output in OUTPUTS:
            self.head = OUTPUTS[config.output](config.hidden_size, config.keys, config.output_size)
        else:
            self.head = nn.Linear(config.hidden_size, config.keys)

    def features(self, rolls: Tensor, state=None, lengths=None):
        output, state = self.recurrent(self.dropout(rolls), state, lengths)
        return self.dropout(output), state

    def forward(self, rolls: Tensor, state=None, lengths=None, targets=None):
        features, state = self.features(rolls, state, lengths)
        if self.config.output == "independent":
            return self.head(features), state
        if targets is None:
            raise ValueError(
                f"the {self.config.output} output scores given steps: pass targets (the next steps)"
            )
        return self.head(features, targets), state

    def step_features(self, roll: Tensor, state=None):
        return self.recurrent.step(roll, state)

    def step(self, roll: Tensor, state=None):
        if self.config.output != "independent":
            raise ValueError("step() gives the independent output's logits; use step_features")
        output, state = self.recurrent.step(roll, state)
        return self.head(output), state

    def sample_next(self, features: Tensor, temperature: float, uniform: Tensor) -> Tensor:
        """The next step ``(batch, keys)`` of 0/1 drawn from ``features (batch, hidden)``."""
        if self.config.output in OUTPUTS:
            return self.head.sample(features, temperature, uniform)
        return sample_step(self.head(features), temperature, uniform)


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
