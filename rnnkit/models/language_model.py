"""The recurrent language model: Embedding -> RNN/LSTM/GRU -> dropout -> Linear."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.nn import make_recurrent


@dataclass
class LanguageModelConfig:
    """The language model's shape."""

    vocab_size: int = 0
    """Number of token ids; set from the vocabulary when training."""
    cell: str = "lstm"
    """Recurrent cell: rnn (tanh), rnn_relu, lstm or gru."""
    embedding_size: int = 64
    """Width of the token embeddings."""
    hidden_size: int = 256
    """Width of each recurrent layer's state."""
    num_layers: int = 1
    """Number of stacked recurrent layers."""
    dropout: float = 0.0
    """Dropout on the embeddings, between layers and before the output layer (Zaremba et al. 2014)."""
    tie_weights: bool = False
    """Share the embedding and output matrices (Press & Wolf 2017); needs embedding_size == hidden_size."""


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
                f"tie_weights needs embedding_size == hidden_size; got {config.embedding_size} and {config.hidden_size}"
            )
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.recurrent = make_recurrent(config.cell, config.embedding_size, config.hidden_size,
                                        num_layers=config.num_layers, dropout=config.dropout)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embedding.weight
        self._projection_cache = None

    def forward(self, tokens: Tensor, state=None):
        x = self.dropout(self.embedding(tokens))
        output, state = self.recurrent(x, state)
        return self.head(self.dropout(output)), state

    def _input_projection_table(self) -> Tensor | None:
        """``W_ih_l0 e_v + b_ih_l0`` for every token ``v``: ``(vocab_size, gates*hidden)``.

        Embedding then input projection is a per-token constant, so generation
        looks it up instead of multiplying; rebuilt whenever the weights change.
        """
        if self.recurrent._why_not_fused() is not None:
            return None
        weight_ih, _, bias_ih, _ = self.recurrent._weights_of(0, 0)
        versions = (self.embedding.weight._version, weight_ih._version,
                    None if bias_ih is None else bias_ih._version, weight_ih.data_ptr())
        if self._projection_cache is None or self._projection_cache[0] != versions:
            table = F.linear(self.embedding.weight, weight_ih, bias_ih)
            self._projection_cache = (versions, table)
        return self._projection_cache[1]

    @torch.no_grad()
    def step(self, tokens: Tensor, state=None):
        table = None if self.training else self._input_projection_table()
        if table is None:
            output, state = self.recurrent.step(self.dropout(self.embedding(tokens)), state)
        else:
            output, state = self.recurrent.step(None, state, projected=table[tokens])
        return self.head(output), state
