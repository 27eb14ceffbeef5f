"""Starting a classifier from a trained word-level language model (ULMFiT, Howard & Ruder 2018).

The classifier takes the language model's vocabulary (the same ids), and its embedding and
recurrent layers start from the language model's weights; its own output layer starts fresh.
Discriminative learning rates, gradual unfreezing and the slanted triangular schedule are
:class:`~rnnkit.train.TrainConfig`'s ``layer_lr_decay``, ``unfreeze_every`` and its warm-up
with linear decay (see the classifier's ``TRANSFER_RECIPE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnkit.data.words import TextEncoder
from rnnkit.data.words import Vocabulary, WordTokenizer
from rnnkit.errors import DataError
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks.common import from_saved
from rnnkit.train import RunFolder

SHAPE = ("cell", "embedding_size", "hidden_size", "num_layers")
"""The classifier fields the language model decides."""


@dataclass
class Encoder:
    """A word LM's text encoder (its vocabulary), its shape and its weights."""

    text_encoder: TextEncoder
    shape: dict
    embedding: torch.Tensor
    recurrent: dict

    def describe(self, folder) -> str:
        shown = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in self.shape.items())
        return (
            f"starting from the language model {folder}: its "
            f"{len(self.text_encoder.vocabulary)}-word vocabulary, embedding and recurrent "
            f"layers ({shown}, one direction)"
        )


def read_encoder(folder) -> Encoder:
    """The encoder of a word-level ``rnnkit train lm`` run folder, with one-line errors."""
    run = RunFolder(folder)
    config = run.read_config("lm")
    vocabulary = config["data"]["vocabulary"]
    if vocabulary.get("type") != "word":
        raise DataError(
            f"{folder}: --encoder needs a word-level language model (rnnkit train lm "
            f"--tokenizer word); this one reads {vocabulary.get('type', 'char')} tokens"
        )
    model = LanguageModel(from_saved(LanguageModelConfig, config["model"]))
    run.load_model(model)
    # The same ids: <pad> 0 and <unk> 1 in both, then <eos> and the words in the LM's order;
    # and the same words: split at whitespace, case kept, as the language model read them.
    words = Vocabulary(["<eos>", *vocabulary["words"]])
    return Encoder(
        TextEncoder(WordTokenizer(lowercase=False, pattern=r"\S+"), words),
        {name: config["model"][name] for name in SHAPE},
        model.embedding.weight.detach().clone(),
        {k: v.detach().clone() for k, v in model.recurrent.state_dict().items()},
    )


def start_from(network, encoder: Encoder) -> None:
    """Copies the encoder's embedding and recurrent weights into a fresh classifier."""
    with torch.no_grad():
        network.embedding.weight.copy_(encoder.embedding)
    network.recurrent.load_state_dict(encoder.recurrent)
