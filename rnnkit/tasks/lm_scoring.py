"""Two ways to score a text better than a fixed model does, both strictly causal: each token is
scored before anything learns from it.

- :func:`cache_losses`, the neural cache (Grave et al. 2017): the model's distribution is
  mixed with a distribution over the words that followed the most similar recent states;
- :func:`dynamic_losses`, dynamic evaluation (Krause et al. 2018): after each segment is
  scored, one SGD step on it adapts the weights to the recent history, with a decay that
  pulls them back towards the trained ones.

Both read the text as one stream (batch 1), in order, with the state carried, as the papers
do; each returns the summed loss in nats and the number of scored tokens.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from rnnkit.fields import AT_LEAST_ONE, FRACTION, NON_NEGATIVE, POSITIVE, PROBABILITY, check_fields
from rnnkit.nn import detach_state


@dataclass
class CacheConfig:
    """The neural cache; the defaults are Merity et al.'s for PTB (AWD-LSTM's pointer.py)."""

    window: int = 500
    """How many previous states the cache holds."""
    theta: float = 0.662
    """Flatness of the cache distribution: the similarity's inverse temperature."""
    weight: float = 0.1279
    """lambda: the cache's share of the mixture."""

    BOUNDS = {"window": AT_LEAST_ONE, "theta": NON_NEGATIVE, "weight": FRACTION}

    def __post_init__(self):
        check_fields(self)


def _segments(ids: torch.Tensor, seq_len: int):
    for start in range(0, ids.numel() - 1, seq_len):
        stop = min(start + seq_len, ids.numel() - 1)
        yield ids[start:stop].unsqueeze(0), ids[start + 1 : stop + 1].unsqueeze(0)


@torch.no_grad()
def cache_losses(model, ids: torch.Tensor, config: CacheConfig, seq_len: int = 100):
    """``(summed loss, scored tokens)`` of ``ids`` under the model mixed with the neural cache.

    Only the target's probability is needed, so the cache term is a softmax over the window
    of ``theta * h_t . h_i``, summed where the word after ``h_i`` equals the target."""
    model.eval()
    history = torch.empty(0, device=ids.device)
    followers = torch.empty(0, dtype=torch.long, device=ids.device)
    total, count, state = 0.0, 0, None
    for inputs, targets in _segments(ids, seq_len):
        features, _, state = model.features(inputs, state)
        token_loss = model.token_loss(features, targets)[0].double()
        features, targets = features[0].float(), targets[0]
        keys = torch.cat([history, features]) if history.numel() else features
        values = torch.cat([followers, targets])
        before = keys.shape[0] - features.shape[0]  # states from earlier segments
        scores = config.theta * features @ keys.T  # (time, before + time)
        position = torch.arange(features.shape[0], device=ids.device).unsqueeze(1) + before
        column = torch.arange(keys.shape[0], device=ids.device).unsqueeze(0)
        # h_t may attend to h_i for t - window <= i < t: the word after h_i is known by then.
        allowed = (column < position) & (column >= position - config.window)
        attention = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        attention = torch.nan_to_num(attention)  # the very first token has no history
        cache = (attention * (values.unsqueeze(0) == targets.unsqueeze(1))).sum(-1).double()
        weight = config.weight * allowed.any(-1).double()
        mixed = (1 - weight) * torch.exp(-token_loss) + weight * cache
        scored = targets != 0
        total += float(-torch.log(mixed[scored]).sum())
        count += int(scored.sum())
        history, followers = keys[-config.window :], values[-config.window :]
    return total, count


@dataclass
class DynamicConfig:
    """Dynamic evaluation by SGD with a decay towards the trained weights."""

    learning_rate: float = 0.005
    """SGD step on each segment's summed loss (0.005 was the best of 0.002-0.03 on PTB's
    validation text for the word recipe)."""
    decay: float = 0.001
    """Each step moves the weights this fraction of the way back to the trained ones."""
    seq_len: int = 20
    """Tokens per segment: scored, then learnt from."""

    BOUNDS = {"learning_rate": POSITIVE, "decay": PROBABILITY, "seq_len": AT_LEAST_ONE}

    def __post_init__(self):
        check_fields(self)


def dynamic_losses(model, ids: torch.Tensor, config: DynamicConfig):
    """``(summed loss, scored tokens)`` of ``ids`` with dynamic evaluation (SGD with a
    decay to the trained weights, Krause et al. 2018, section 5). The model is not
    changed: a copy adapts."""
    learning_rate, decay = config.learning_rate, config.decay
    adapted = copy.deepcopy(model).eval()
    trained = [p.detach().clone() for p in adapted.parameters()]
    total, count, state = 0.0, 0, None
    for inputs, targets in _segments(ids, config.seq_len):
        with torch.enable_grad():
            (token_loss, _), state = adapted(inputs, state, targets)
            scored = targets != 0
            loss = token_loss[scored].sum()
            adapted.zero_grad(set_to_none=True)
            loss.backward()
        total += float(loss.detach())
        count += int(scored.sum())
        with torch.no_grad():
            for parameter, start in zip(adapted.parameters(), trained):
                if parameter.grad is not None:
                    parameter.sub_(learning_rate * parameter.grad)
                parameter.add_(decay * (start - parameter))
        state = detach_state(state)
    return total, count
