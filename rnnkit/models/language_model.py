"""The recurrent language model: Embedding -> RNN/LSTM/GRU -> dropout -> Linear (or an
adaptive softmax), with the AWD-LSTM regularisers (Merity et al. 2017) as options."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.fields import (
    COUNT,
    DEPTH,
    NON_NEGATIVE,
    PROBABILITY,
    WIDTH,
    check_fields,
)
from rnnkit.nn import locked_dropout, make_recurrent
from rnnkit.nn.registry import CELLS

PROBABILITIES = (
    "dropout",
    "embedding_dropout",
    "input_dropout",
    "layer_dropout",
    "output_dropout",
    "weight_drop",
)


@dataclass
class LanguageModelConfig:
    """The language model's shape and its regularisers."""

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
    """Per-element dropout on the embeddings, between layers and before the output layer
    (Zaremba et al. 2014)."""
    tie_weights: bool = False
    """Share the embedding and output matrices (Press & Wolf 2017; Inan et al. 2017); when
    hidden_size differs, a linear map from hidden_size to embedding_size comes first."""
    embedding_dropout: float = 0.0
    """Drop whole words: rows of the embedding matrix, per batch (Gal & Ghahramani 2016)."""
    input_dropout: float = 0.0
    """Locked dropout on the embeddings: one mask per sequence, the same at every step."""
    layer_dropout: float = 0.0
    """Locked dropout between recurrent layers."""
    output_dropout: float = 0.0
    """Locked dropout on the last layer's output."""
    weight_drop: float = 0.0
    """DropConnect on the hidden-to-hidden matrices, drawn once per batch so that the fused
    kernel still runs (Merity et al. 2017)."""
    activation_penalty: float = 0.0
    """AR: this times the mean square of the (dropped) last-layer outputs is added to the
    training loss."""
    temporal_penalty: float = 0.0
    """TAR: this times the mean square change of the last-layer outputs between steps is added
    to the training loss."""
    adaptive_cutoffs: str = ""
    """Adaptive softmax (Grave et al. 2017) with these comma-separated cluster cutoffs, e.g.
    2000,10000 (token ids are most frequent first); empty: the full softmax."""

    BOUNDS = {
        "vocab_size": COUNT,
        "cell": CELLS,
        "embedding_size": WIDTH,
        "hidden_size": WIDTH,
        "num_layers": DEPTH,
        **dict.fromkeys(PROBABILITIES, PROBABILITY),
        "activation_penalty": NON_NEGATIVE,
        "temporal_penalty": NON_NEGATIVE,
    }

    def __post_init__(self):
        check_fields(self)
        if self.dropout > 0 and self.locked:
            raise ValueError(
                "dropout (per element) and the locked dropouts (input_dropout, layer_dropout, "
                "output_dropout) are alternatives; set one kind"
            )
        self.cutoffs()

    @property
    def locked(self) -> bool:
        return any((self.input_dropout, self.layer_dropout, self.output_dropout))

    def cutoffs(self) -> list[int]:
        """The adaptive softmax's cutoffs, checked: increasing, inside the vocabulary."""
        if not self.adaptive_cutoffs.strip():
            return []
        try:
            cutoffs = [int(part) for part in self.adaptive_cutoffs.split(",")]
        except ValueError:
            raise ValueError(
                f"adaptive_cutoffs must be comma-separated integers such as 2000,10000; "
                f"got {self.adaptive_cutoffs!r}"
            ) from None
        top = self.vocab_size if self.vocab_size else math.inf
        if cutoffs != sorted(set(cutoffs)) or cutoffs[0] < 1 or cutoffs[-1] >= top:
            raise ValueError(
                f"adaptive_cutoffs must increase, each between 1 and the vocabulary size - 1 "
                f"({self.vocab_size - 1 if self.vocab_size else 'vocab_size - 1'}); "
                f"got {self.adaptive_cutoffs!r}"
            )
        return cutoffs


class LanguageModel(nn.Module):
    """Next-token model over a vocabulary.

    ``forward(tokens, state=None) -> (logits, state)``: ``tokens`` int64
    ``(batch, time)``, ``logits`` ``(batch, time, vocab_size)`` (log-probabilities with the
    adaptive softmax), ``state`` as the recurrent layer's (carry it across batches for
    truncated BPTT).

    ``forward(tokens, state, targets) -> ((token_loss, penalty), state)``: ``targets``
    ``(batch, time)``; ``token_loss`` float32 ``(batch, time)`` is each target's negative
    log-likelihood in nats, ``penalty`` the AR/TAR term (0 outside training). The adaptive
    softmax computes only what the targets need.

    ``step(tokens, state) -> (logits, state)`` advances one token per row,
    ``tokens (batch,)`` -> ``logits (batch, vocab_size)``, in O(1) work: the
    state is carried, the prefix is never re-run.
    """

    def __init__(self, config: LanguageModelConfig):
        super().__init__()
        if config.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2; got {config.vocab_size}")
        cutoffs = config.cutoffs()
        if config.tie_weights and cutoffs:
            raise ValueError("tie_weights and adaptive_cutoffs cannot be combined; choose one")
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.recurrent = make_recurrent(
            config.cell,
            config.embedding_size,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.layer_dropout if config.locked else config.dropout,
            **({"locked_dropout": True} if config.locked else {}),
        )
        self.dropout = nn.Dropout(config.dropout)
        features = config.hidden_size
        if config.tie_weights and config.embedding_size != config.hidden_size:
            self.projection = nn.Linear(config.hidden_size, config.embedding_size, bias=False)
            features = config.embedding_size
        if cutoffs and features < 4 ** len(cutoffs):
            raise ValueError(
                f"adaptive_cutoffs: {len(cutoffs)} tail clusters shrink the width by 4 each, so "
                f"they need at least {4 ** len(cutoffs)} features; got {features}"
            )
        if cutoffs:
            self.head = nn.AdaptiveLogSoftmaxWithLoss(
                features, config.vocab_size, cutoffs, div_value=4.0
            )
        else:
            self.head = nn.Linear(features, config.vocab_size)
            if config.tie_weights:
                # The shared matrix also makes the logits: N(0, 1) rows (nn.Embedding's
                # default) would start them far too confident, so it starts as AWD-LSTM's does.
                nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
                nn.init.zeros_(self.head.bias)
                self.head.weight = self.embedding.weight
        self._dropped_weights = [
            name for name, _ in self.recurrent.named_parameters() if name.startswith("weight_hh")
        ]

    @property
    def adaptive(self) -> bool:
        return isinstance(self.head, nn.AdaptiveLogSoftmaxWithLoss)

    def _embed(self, tokens: Tensor) -> Tensor:
        weight = self.embedding.weight
        p = self.config.embedding_dropout
        if self.training and p > 0:  # whole words: one mask entry per vocabulary row
            weight = weight * weight.new_empty(weight.shape[0], 1).bernoulli_(1 - p) / (1 - p)
        embedded = F.embedding(tokens, weight)
        if self.config.locked:
            return locked_dropout(embedded, self.config.input_dropout, self.training)
        return self.dropout(embedded)

    def _recur(self, x: Tensor, state):
        p = self.config.weight_drop
        if not (self.training and p > 0 and self._dropped_weights):
            return self.recurrent(x, state)
        # DropConnect on W_hh, once per batch: the layer runs its fused kernel on the dropped
        # matrices, which stay differentiable views of the parameters.
        dropped = {
            name: F.dropout(getattr(self.recurrent, name), p) for name in self._dropped_weights
        }
        return torch.func.functional_call(self.recurrent, dropped, (x, state))

    def features(self, tokens: Tensor, state=None):
        """``(features (batch, time, F), last-layer output before dropout, state)``: what the
        output layer reads, with the dropouts of training applied."""
        output, state = self._recur(self._embed(tokens), state)
        if self.config.locked:
            dropped = locked_dropout(output, self.config.output_dropout, self.training)
        else:
            dropped = self.dropout(output)
        if hasattr(self, "projection"):
            dropped = self.projection(dropped)
        return dropped, output, state

    def scores(self, features: Tensor) -> Tensor:
        """Logits ``(..., vocab_size)`` of features ``(..., F)`` (log-probabilities with the
        adaptive softmax)."""
        if self.adaptive:
            shape = features.shape[:-1]
            return self.head.log_prob(features.reshape(-1, features.shape[-1])).view(*shape, -1)
        return self.head(features)

    def token_loss(self, features: Tensor, targets: Tensor) -> Tensor:
        """Each target's negative log-likelihood, float32 ``targets.shape``."""
        flat = features.reshape(-1, features.shape[-1])
        if self.adaptive:
            return -self.head(flat, targets.reshape(-1)).output.float().view(targets.shape)
        logits = self.head(flat).float()
        return F.cross_entropy(logits, targets.reshape(-1), reduction="none").view(targets.shape)

    def penalty(self, features: Tensor, output: Tensor) -> Tensor | float:
        """AR on the dropped outputs plus TAR on the raw ones (Merity et al. 2017, section 4.6);
        0 outside training."""
        config, total = self.config, 0.0
        if not self.training:
            return total
        if config.activation_penalty:
            total = total + config.activation_penalty * features.float().pow(2).mean()
        if config.temporal_penalty and output.shape[1] > 1:
            change = (output[:, 1:] - output[:, :-1]).float()
            total = total + config.temporal_penalty * change.pow(2).mean()
        return total

    def forward(self, tokens: Tensor, state=None, targets: Tensor | None = None):
        features, output, state = self.features(tokens, state)
        if targets is None:
            return self.scores(features), state
        return (self.token_loss(features, targets), self.penalty(features, output)), state

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
        project = getattr(self, "projection", None)
        if self.adaptive:
            bias = 0.0 if logit_bias is None else logit_bias

            def head(features):
                return self.head.log_prob(features) + bias

        else:
            head_weight, head_bias = self.head.weight, self.head.bias
            if logit_bias is not None:
                head_bias = head_bias + logit_bias
            head = functools.partial(F.linear, weight=head_weight, bias=head_bias)

        def run(tokens, state):
            output, state = layers(embed(tokens), state)
            return head(output if project is None else project(output)), state

        return run

    def step(self, tokens: Tensor, state=None):
        output, state = self.recurrent.step(self._embed(tokens.unsqueeze(1)).squeeze(1), state)
        if self.config.locked:
            output = locked_dropout(
                output.unsqueeze(1), self.config.output_dropout, self.training
            ).squeeze(1)
        else:
            output = self.dropout(output)
        if hasattr(self, "projection"):
            output = self.projection(output)
        return self.scores(output), state
