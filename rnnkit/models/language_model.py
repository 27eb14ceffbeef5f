"""The recurrent language model: Embedding -> RNN/LSTM/GRU -> dropout -> Linear."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.nn import make_recurrent


@dataclass
class LanguageModelConfig:
    """The language model's shape."""

    vocab_size: int = 0
    """Number of token ids; set from the vocabulary when training."""
    cell: str = "lstm"
    """Recurrent cell: rnn (tanh), rnn_relu, lstm, gru, mingru or minlstm."""
    embedding_size: int = 64
    """Width of the token embeddings."""
    hidden_size: int = 256
    """Width of each recurrent layer's state."""
    num_layers: int = 1
    """Number of stacked recurrent layers."""
    dropout: float = 0.0
    """Dropout on the embeddings, between layers and before the output layer (Zaremba et al.
    2014)."""
    tie_weights: bool = False
    """Share the embedding and output matrices (Press & Wolf 2017); needs embedding_size ==
    hidden_size."""


class LanguageModel(nn.Module):
    """Next-token model over a vocabulary.

    ``forward(tokens, state=None) -> (logits, state)``: ``tokens`` int64
    ``(batch, time)``, ``logits`` ``(batch, time, vocab_size)``, ``state`` as the
    recurrent layer's (carry it across batches for truncated BPTT).

    ``step(tokens, state) -> (logits, state)`` advances one token per row,
    ``tokens (batch,)`` -> ``logits (batch, vocab_size)``, in O(1) work: the
    state is carried, the prefix is never re-run.
    """

    def __init__(self, config: LanguageModelConfig):
        super().__init__()
        if config.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2; got {config.vocab_size}")
        if config.tie_weights and config.embedding_size != config.hidden_size:
            raise ValueError(
                f"tie_weights needs embedding_size == hidden_size; got {config.embedding_size} "
                f"and {config.hidden_size}"
            )
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.recurrent = make_recurrent(
            config.cell,
            config.embedding_size,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embedding.weight

    def forward(self, tokens: Tensor, state=None):
        x = self.dropout(self.embedding(tokens))
        output, state = self.recurrent(x, state)
        return self.head(self.dropout(output)), state

    def stepper(self, logit_bias: Tensor | None = None):
        """``run(tokens (batch,), state) -> (logits (batch, vocab_size), state)`` for
        generation loops: eval-mode :meth:`step` with the per-call work done once.

        Embedding then the first layer's input projection is a per-token
        constant, so it becomes a lookup table ``(vocab_size, gates*hidden)``
        and each token costs one row lookup instead of two matrix products.
        ``logit_bias (vocab_size,)`` is added to every step's logits (a sampler
        bans tokens with -inf there). Make a new stepper after the weights change.
        """
        table = self.recurrent.input_projection(self.embedding.weight)
        if table is None:  # a custom cell: no table, but still one step per token
            layers, embed = self.recurrent.stepper(), self.embedding
        else:
            layers = self.recurrent.stepper(projected_input=True)
            embed = functools.partial(F.embedding, weight=table)
        head_weight, head_bias = self.head.weight, self.head.bias
        if logit_bias is not None:
            head_bias = head_bias + logit_bias

        def run(tokens, state):
            output, state = layers(embed(tokens), state)
            return F.linear(output, head_weight, head_bias), state

        return run

    def step(self, tokens: Tensor, state=None):
        output, state = self.recurrent.step(self.dropout(self.embedding(tokens)), state)
        return self.head(output), state
