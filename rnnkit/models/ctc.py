"""A CTC recogniser (Graves et al. 2006): feature frames -> stacked frames ->
(bi)RNN/LSTM/GRU -> Linear -> log-probabilities over the tokens and a blank; and
its decoders, greedy (best path) and prefix beam search."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.fields import COUNT, DEPTH, PROBABILITY, WIDTH, Range, check_fields
from rnnkit.nn import make_recurrent
from rnnkit.nn.registry import CELLS
from rnnkit.nn.lengths import length_mask

BLANK = 0


@dataclass
class CTCConfig:
    """The recogniser's shape."""

    input_size: int = 0
    """Features per frame; set from the audio features."""
    num_tokens: int = 0
    """Output tokens (e.g. the ten digits), the blank not included; set from the training labels."""
    cell: str = "lstm"
    """Recurrent cell: rnn (tanh), rnn_relu, lstm, gru, mingru or minlstm."""
    hidden_size: int = 192
    """Width of each recurrent layer's state, per direction."""
    num_layers: int = 2
    """Number of stacked recurrent layers."""
    bidirectional: bool = True
    """Read each utterance in both directions (the whole file is available before decoding)."""
    frame_stacking: int = 2
    """Join this many consecutive frames into one step (Sak et al. 2015): fewer, wider steps run
    faster."""
    dropout: float = 0.3
    """Dropout between layers and before the output layer."""
    input_dropout: float = 0.1
    """Dropout on the input features."""

    BOUNDS = {
        "input_size": COUNT,
        "num_tokens": COUNT,
        "cell": CELLS,
        "hidden_size": WIDTH,
        "num_layers": DEPTH,
        "frame_stacking": Range(1, 64),
        "dropout": PROBABILITY,
        "input_dropout": PROBABILITY,
    }

    def __post_init__(self):
        check_fields(self)


class CTCRecognizer(nn.Module):
    """``forward(features, lengths=None) -> (log_probs, lengths)``.

    ``features`` is float ``(batch, frames, input_size)``, right-padded, with
    ``lengths (batch,)``; ``log_probs`` is ``(batch, steps, num_tokens + 1)``
    with the blank at index 0 and ``steps = ceil(frames / frame_stacking)``, and
    the returned ``lengths`` count steps. Padding never changes a row's result.
    """

    def __init__(self, config: CTCConfig):
        super().__init__()
        if config.input_size < 1 or config.num_tokens < 1:
            raise ValueError(
                f"set input_size and num_tokens; got {config.input_size} and {config.num_tokens}"
            )
        self.config = config
        self.input_dropout = nn.Dropout(config.input_dropout)
        self.recurrent = make_recurrent(
            config.cell,
            config.input_size * config.frame_stacking,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout,
            bidirectional=config.bidirectional,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(
            config.hidden_size * (2 if config.bidirectional else 1), config.num_tokens + 1
        )

    def stack(self, features: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor]:
        """``(batch, frames, n) -> (batch, steps, k n)`` and step lengths; zero frames fill each
        row's last step."""
        k = self.config.frame_stacking
        batch, frames, size = features.shape
        if lengths is None:
            lengths = torch.full((batch,), frames, dtype=torch.long)
        steps = math.ceil(frames / k)
        # Zero each row past its end: its last step may join real frames with
        # padding, which must read the same whatever the batch is padded with.
        valid = length_mask(lengths, frames, features.device)
        features = F.pad(features * valid[..., None], (0, 0, 0, steps * k - frames))
        return features.reshape(batch, steps, k * size), (lengths.cpu() + k - 1) // k

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, lengths = self.stack(self.input_dropout(features), lengths)
        output, _ = self.recurrent(x, lengths=lengths)
        return torch.log_softmax(self.head(self.dropout(output)).float(), dim=-1), lengths


def greedy_decode(log_probs: Tensor, lengths: Tensor | None = None) -> list[list[int]]:
    """Best-path decoding of ``log_probs (batch, steps, classes)``: the likeliest class
    per step, repeats merged, blanks dropped. Tokens are returned as class ids (1..)."""
    best = log_probs.argmax(-1).cpu()
    results = []
    for row, path in enumerate(best):
        path = path[: int(lengths[row])] if lengths is not None else path
        merged = torch.unique_consecutive(path)
        results.append([int(c) for c in merged if c != BLANK])
    return results


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def _extend(beams: dict, frame: list[float], candidates: list[int]) -> dict:
    """One step of prefix beam search: every prefix's probability of ending in a
    blank (``b``) or in its last token (``nb``), for the next frame."""
    grown: dict = {}

    def add(prefix, blank, token):
        old = grown.get(prefix, (-math.inf, -math.inf))
        grown[prefix] = (_log_add(old[0], blank), _log_add(old[1], token))

    for prefix, (blank, token) in beams.items():
        total = _log_add(blank, token)
        add(prefix, total + frame[BLANK], -math.inf)  # a blank keeps the prefix
        for c in candidates:
            if prefix and c == prefix[-1]:
                add(prefix, -math.inf, token + frame[c])  # a repeat without a blank between merges
                add(prefix + (c,), -math.inf, blank + frame[c])  # after a blank it is a new token
            else:
                add(prefix + (c,), -math.inf, total + frame[c])
    return grown


def beam_decode(
    log_probs: Tensor, beam_width: int = 8, prune: float = -12.0
) -> tuple[list[int], float]:
    """CTC prefix beam search (Graves 2012, section 7.5; Hannun et al. 2014) of one
    utterance's ``log_probs (steps, classes)``: the labelling with the highest
    total probability over all its alignments among ``beam_width`` kept prefixes,
    and that log-probability. Tokens below ``prune`` (log-probability) at a step are not tried."""
    rows = log_probs.detach().float().cpu().tolist()
    beams = {(): (0.0, -math.inf)}
    for frame in rows:
        candidates = [c for c in range(1, len(frame)) if frame[c] > prune]
        grown = _extend(beams, frame, candidates)
        ranked = sorted(grown.items(), key=lambda item: _log_add(*item[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    prefix, (blank, token) = max(beams.items(), key=lambda item: _log_add(*item[1]))
    return list(prefix), _log_add(blank, token)
