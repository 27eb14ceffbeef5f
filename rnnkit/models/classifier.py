"""The sequence classifier: (Embedding | numeric input) -> (bi)RNN/LSTM/GRU ->
pooling over time -> dropout -> Linear."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.fields import COUNT, DEPTH, PROBABILITY, WIDTH, Range, check_fields
from rnnkit.nn import make_recurrent
from rnnkit.nn.registry import CELLS
from rnnkit.nn.lengths import length_mask

POOLINGS = ("last", "mean", "max", "attention")


@dataclass
class ClassifierConfig:
    """The classifier's shape."""

    num_classes: int = 2
    """Number of classes; set from the training labels."""
    vocab_size: int = 0
    """Token ids for text input; set from the vocabulary (0 for numeric sequences)."""
    input_size: int = 0
    """Features per time step for numeric sequences; set from the data (0 for text)."""
    cell: str = "lstm"
    """Recurrent cell: rnn (tanh), rnn_relu, lstm, gru, mingru or minlstm."""
    embedding_size: int = 300
    """Width of the word embeddings (set from --embeddings when a file is given)."""
    hidden_size: int = 256
    """Width of each recurrent layer's state, per direction."""
    num_layers: int = 1
    """Number of stacked recurrent layers."""
    bidirectional: bool = True
    """Read each sequence in both directions and join the two."""
    pooling: str = "max"
    """How the outputs over time become one vector: last (final states), mean, max or attention."""
    dropout: float = 0.5
    """Dropout between layers and before the output layer (Srivastava et al. 2014)."""
    embedding_dropout: float = 0.3
    """Dropout on the embedded inputs, per feature (0 turns it off)."""
    word_dropout: float = 0.0
    """In training, replace each word by <unk> with this probability (Iyyer et al. 2015; Dai & Le
    2015)."""
    freeze_embeddings: bool = False
    """Keep the embedding matrix fixed (useful with pretrained vectors); default: fine-tune it."""

    BOUNDS = {
        "num_classes": Range(0),
        "vocab_size": COUNT,
        "input_size": COUNT,
        "cell": CELLS,
        "embedding_size": WIDTH,
        "hidden_size": WIDTH,
        "num_layers": DEPTH,
        "pooling": POOLINGS,
        "dropout": PROBABILITY,
        "embedding_dropout": PROBABILITY,
        "word_dropout": PROBABILITY,
    }

    def __post_init__(self):
        check_fields(self)


class SequenceClassifier(nn.Module):
    """One label per sequence.

    ``forward(inputs, lengths=None) -> logits (batch, num_classes)``, where
    ``inputs`` is int64 token ids ``(batch, time)`` (``vocab_size > 0``) or float
    features ``(batch, time, input_size)``, right-padded, and ``lengths``
    ``(batch,)`` gives each row's true length (None: every row is full length).
    Padding never changes a row's result: the recurrent layer stops each row at
    its own end, and the pooling ignores steps past it.
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        if (config.vocab_size > 0) == (config.input_size > 0):
            raise ValueError(
                "set exactly one of vocab_size (text) and input_size (numeric sequences); "
                f"got {config.vocab_size} and {config.input_size}"
            )
        if config.num_classes < 2:
            raise ValueError(f"num_classes must be at least 2; got {config.num_classes}")
        self.config = config
        width = config.input_size
        if config.vocab_size:
            self.embedding = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=0)
            self.embedding.weight.requires_grad_(not config.freeze_embeddings)
            width = config.embedding_size
        self.input_dropout = nn.Dropout(config.embedding_dropout)
        self.recurrent = make_recurrent(
            config.cell,
            width,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout,
            bidirectional=config.bidirectional,
        )
        features = config.hidden_size * (2 if config.bidirectional else 1)
        if config.pooling == "attention":
            # Additive attention over time (Bahdanau et al. 2015; Yang et al. 2016, eq. 5-7).
            self.attention = nn.Sequential(
                nn.Linear(features, features), nn.Tanh(), nn.Linear(features, 1)
            )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(features, config.num_classes)

    def load_pretrained(self, vectors: Tensor, rows: Tensor) -> None:
        """Copies ``vectors (n, embedding_size)`` into the embedding rows ``rows (n,)``."""
        with torch.no_grad():
            self.embedding.weight[rows] = vectors.to(self.embedding.weight)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """The parameters by depth, top first: the output layer (and attention), each
        recurrent layer from the top down, then the embedding (ULMFiT's layer groups)."""
        top = [p for name, p in self.named_parameters() if name.startswith(("head", "attention"))]
        groups = [top]
        for layer in reversed(range(self.config.num_layers)):
            groups.append(
                [
                    p
                    for name, p in self.recurrent.named_parameters()
                    if name.endswith((f"_l{layer}", f"_l{layer}_reverse"))
                ]
            )
        if self.config.vocab_size:
            groups.append([self.embedding.weight])
        return groups

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        if self.config.vocab_size and self.training and self.config.word_dropout > 0:
            # Id 1 is <unk>: the model learns to classify with words missing, as it must on new
            # text.
            dropped = torch.rand(inputs.shape, device=inputs.device) < self.config.word_dropout
            inputs = inputs.masked_fill(dropped & (inputs != 0), 1)
        x = self.embedding(inputs) if self.config.vocab_size else inputs
        output, state = self.recurrent(self.input_dropout(x), lengths=lengths)
        return self.head(self.dropout(self.pool(output, state, lengths)))

    def pool(self, output: Tensor, state, lengths: Tensor | None) -> Tensor:
        """``output (batch, time, features)`` -> ``(batch, features)``, over each row's valid
        steps."""
        pooling = self.config.pooling
        if pooling == "last":
            # The final state of the top layer: for a bidirectional layer, the
            # forward direction at each row's end and the backward one at step 0.
            h = state[0] if isinstance(state, tuple) else state
            directions = 2 if self.config.bidirectional else 1
            return torch.cat(list(h[-directions:]), dim=-1)
        batch, time = output.shape[:2]
        if lengths is None:
            valid = torch.ones(batch, time, 1, dtype=torch.bool, device=output.device)
        else:
            valid = length_mask(lengths, time, output.device)[..., None]
        if pooling == "mean":
            return (output * valid).sum(1) / valid.sum(1)
        if pooling == "max":
            return output.masked_fill(~valid, float("-inf")).amax(1)
        scores = self.attention(output).masked_fill(~valid, float("-inf"))
        return (torch.softmax(scores.float(), dim=1).to(output.dtype) * output).sum(1)
