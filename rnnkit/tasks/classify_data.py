"""The classifier's data: where the labelled examples come from (:class:`ClassifyDataConfig`),
and their preparation for training: read, split, encoded (a tokenizer and vocabulary, or
standardised numbers), with pretrained word vectors when asked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnkit.data.embeddings import read_embeddings
from rnnkit.data.examples import LabelSet, hold_out, is_numeric, read_examples
from rnnkit.data.sequences import standardise
from rnnkit.data.words import TextEncoder
from rnnkit.errors import DataError
from rnnkit.fields import AT_LEAST_ONE, Range, check_fields
from rnnkit.models.classifier import ClassifierConfig


@dataclass
class ClassifyDataConfig:
    """Where the labelled examples come from and how they are encoded and batched."""

    train: str | None = None
    """Training file: CSV, TSV or JSONL text; or numeric sequences in .ts, .npz, or CSV with
    --sequence-column."""
    dev: str | None = None
    """Validation file in the same format; default: hold out --dev-fraction of the training file."""
    dev_fraction: float = 0.1
    """Share of the training file held out for validation when --dev is not given (seeded)."""
    text_column: str | None = None
    """Column (or JSON key) with the text; default: the first of text, sentence, review, content."""
    label_column: str | None = None
    """Column (or JSON key) with the label; default: the first of label, labels, sentiment, class,
    target."""
    sequence_column: str | None = None
    """Numeric CSV in long format (one row per time step): the column that names each sequence."""
    tokenizer: str = "word"
    """word (regex words and punctuation) or bpe (byte-pair subwords trained on the training texts;
    needs tokenizers)."""
    lowercase: bool = True
    """Lowercase text before tokenizing."""
    text_normalizer: str = "none"
    """none, or social: tweets' mentions, URLs, hashtags, emoticons, emoji, elongations and
    capitals normalised before tokenizing (saved in the run; predict, export and serve apply
    it too)."""
    min_freq: int = 1
    """Keep words seen at least this often in training; rarer ones become <unk>."""
    max_vocab: int | None = None
    """Keep at most this many words (the most frequent), <pad> and <unk> included."""
    bpe_vocab_size: int = 8000
    """Subword vocabulary size for --tokenizer bpe."""
    embeddings: str | None = None
    """Pretrained word vectors to start from: GloVe .txt, word2vec .txt/.bin or fastText .vec
    (streamed)."""
    embeddings_format: str = "auto"
    """auto (by file name), text, or word2vec-binary."""
    batch_size: int = 64
    """Examples per batch (batches group examples of similar length)."""
    encoder: str | None = None
    """A word-level language model run folder (rnnkit train lm --tokenizer word): the
    classifier takes its vocabulary and starts its embedding and recurrent layers from it
    (ULMFiT, Howard & Ruder 2018); text only."""

    class_weights: bool = False
    """Weight the loss by inverse class frequency (for imbalanced data)."""
    calibrate: bool = False
    """After training, fit a temperature on the dev set so that the probabilities mean what
    they say (Guo et al. 2017); saved in the run, used by predict, evaluate, export and serve."""

    BOUNDS = {
        "dev_fraction": Range(0, 1, low_open=True, high_open=True),
        "tokenizer": ("word", "bpe"),
        "text_normalizer": ("none", "social"),
        "min_freq": AT_LEAST_ONE,
        "max_vocab": Range(3),  # <pad>, <unk> and a word
        "bpe_vocab_size": Range(3),
        "embeddings_format": ("auto", "text", "word2vec-binary"),
        "batch_size": AT_LEAST_ONE,
    }

    def __post_init__(self):
        if isinstance(self.encoder, dict):  # a run folder from before --encoder: not a path
            self.encoder = None
        check_fields(self)



def prepare(data: ClassifyDataConfig, model: ClassifierConfig, seed: int, start_encoder=None):
    """Reads, splits and encodes the data; fits the encoder or scaler on the training part
    (or takes a language model's, ``start_encoder``)."""
    numeric = is_numeric(data.train, data.sequence_column)
    options = (numeric, data.text_column, data.label_column, data.sequence_column)
    train = read_examples(data.train, *options)
    dev = read_examples(data.dev, *options) if data.dev else None
    if dev is None:
        train, dev = hold_out(train, data.dev_fraction, seed)
    labels = LabelSet.from_labels(train.labels)
    encoder = statistics = None
    if numeric and start_encoder is not None:
        raise DataError(f"{data.train}: --encoder starts text classifiers; this file is numeric")
    if numeric:
        train.inputs, statistics = standardise(train.inputs)
        dev.inputs = standardise(dev.inputs, statistics)[0]
        model.input_size, model.vocab_size = train.inputs[0].shape[-1], 0
    elif start_encoder is not None:
        encoder = start_encoder.text_encoder
        train.inputs, dev.inputs = encoder.encode(train.inputs), encoder.encode(dev.inputs)
        model.vocab_size, model.input_size = len(encoder.vocabulary), 0
        model.bidirectional = False
        for name, value in start_encoder.shape.items():
            setattr(model, name, value)
    else:
        encoder = TextEncoder.fit(
            train.inputs,
            data.tokenizer,
            data.lowercase,
            data.min_freq,
            data.max_vocab,
            data.bpe_vocab_size,
            data.text_normalizer,
        )
        train.inputs, dev.inputs = encoder.encode(train.inputs), encoder.encode(dev.inputs)
        model.vocab_size, model.input_size = len(encoder.vocabulary), 0
    model.num_classes = len(labels.names)
    return (
        (train.inputs, labels.encode(train)),
        (dev.inputs, labels.encode(dev)),
        labels,
        encoder,
        statistics,
    )


def pretrained(data: ClassifyDataConfig, model: ClassifierConfig, encoder: TextEncoder, log):
    words = encoder.vocabulary.tokens[2:]
    match = read_embeddings(data.embeddings, words, data.embeddings_format)
    log(match.report(words))
    model.embedding_size = match.dimension
    rows = torch.tensor([encoder.vocabulary.index[w] for w in match.vectors], dtype=torch.long)
    vectors = (
        torch.from_numpy(np.stack(list(match.vectors.values())))
        if match.vectors
        else torch.empty(0, match.dimension)
    )
    return rows, vectors
