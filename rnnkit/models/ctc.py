"""A CTC recogniser (Graves et al. 2006): feature frames -> stacked frames ->
(bi)RNN/LSTM/GRU -> Linear -> log-probabilities over the tokens and a blank; and
its decoders, greedy (best path) and prefix beam search."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.decode import BLANK, beam_decode
from rnnkit.fields import COUNT, DEPTH, PROBABILITY, WIDTH, Range, check_fields
from rnnkit.nn import make_recurrent
from rnnkit.nn.registry import CELLS
from rnnkit.nn.lengths import length_mask


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
        return self.stacked_log_probs(x, lengths), lengths

    def stacked_log_probs(self, stacked: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``log_probs (batch, steps, classes)`` of frames already stacked ``(batch, steps,
        frame_stacking * features)``: the part of :meth:`forward` after the stacking, which
        the export's graph runs (its caller stacks the frames, so the time axis stays
        dynamic)."""
        output, _ = self.recurrent(stacked, lengths=lengths)
        return torch.log_softmax(self.head(self.dropout(output)).float(), dim=-1)


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


__all__ = ["CTCConfig", "CTCRecognizer", "beam_decode", "greedy_decode"]
