"""A language model's data: where the text comes from and how it is cut
(:class:`TextDataConfig`), and its loading: a character, word or subword tokenizer learnt on
the training part, and the training and validation ids (word and subword files streamed
line by line, never held as a list of tokens)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data import (
    BUNDLED_CORPUS,
    BPETokenizer,
    CharTokenizer,
    WordTokenizer,
    read_lines,
    read_text,
    split_text,
)
from rnnkit.data.tokens import SPECIALS
from rnnkit.errors import DataError, check_choice
from rnnkit.fields import AT_LEAST_ONE, Range, check_fields
from rnnkit.io import parse_list

TOKENIZERS = ("char", "word", "bpe")


@dataclass
class TextDataConfig:
    """Where the text comes from, how it becomes tokens and how it is cut into batches."""

    data: str | None = None
    """UTF-8 text file to train on (.gz is read directly); default: the bundled tiny
    Shakespeare."""
    valid: str | None = None
    """Validation file; default: the --split fraction of --data."""
    test: str | None = None
    """Test file, scored once after training (test_metrics.json)."""
    split: str = "0.9,0.05,0.05"
    """Contiguous train,validation[,test] fractions of --data, in file order (without
    --valid)."""
    tokenizer: str = "char"
    """char; word (whitespace-separated words, <eos> at each line's end, <unk> for rare
    words); or bpe (byte-pair encoding via the tokenizers package)."""
    max_vocab: int | None = None
    """word: keep at most this many ids (most frequent words first); bpe: the vocabulary size
    (default 8000)."""
    min_freq: int = 1
    """word and bpe: keep only tokens seen at least this often in training."""
    batch_size: int | None = None
    """Parallel streams per batch (default: 64 for char, 32 for word and bpe)."""
    seq_len: int | None = None
    """Time steps per batch: how far back truncated BPTT reaches (default: 100 for char, 35
    for word and bpe)."""
    variable_seq_len: bool | None = None
    """Draw each batch's length around seq_len (N(seq_len, 5), and N(seq_len/2, 5) one time
    in 20), so that every token is sometimes early and sometimes late in a window (Merity et
    al. 2017; default: on for word and bpe)."""

    BOUNDS = {
        "tokenizer": TOKENIZERS,
        "max_vocab": Range(4),  # 3 special tokens and a word
        "min_freq": AT_LEAST_ONE,
        "batch_size": AT_LEAST_ONE,
        "seq_len": Range(2),  # one step of input and its next token at least
    }

    def __post_init__(self):
        check_choice("tokenizer", self.tokenizer, TOKENIZERS)
        # The recipes' batching: characters as char-rnn; words as Zaremba et al. and AWD-LSTM.
        defaults = (64, 100, False) if self.tokenizer == "char" else (32, 35, True)
        for name, value in zip(("batch_size", "seq_len", "variable_seq_len"), defaults):
            if getattr(self, name) is None:
                setattr(self, name, value)
        check_fields(self)
        parse_split(self.split)


def parse_split(text: str) -> tuple[float, ...]:
    try:
        return tuple(parse_list(text, float, "split", "0.9,0.05,0.05"))
    except ValueError as error:
        raise DataError(str(error)) from None


def _split_lines(path: Path, fractions) -> tuple[list, ...]:
    """Line ranges of a contiguous train/validation/test split of a text file by lines."""
    count = sum(1 for _ in read_lines(path))
    train_end = round(count * fractions[0])
    valid_end = train_end + round(count * fractions[1])
    return (0, train_end), (train_end, valid_end), (valid_end, count)


def _lines(path: Path, span=None):
    lines = read_lines(path)
    return lines if span is None else itertools.islice(lines, *span)


def build_tokenizer(data: TextDataConfig, lines):
    if data.tokenizer == "word":
        return WordTokenizer.from_lines(lines, data.max_vocab, data.min_freq)
    return BPETokenizer.from_lines(lines, data.max_vocab, data.min_freq)


def _load_tokens(data: TextDataConfig, path: Path):
    """Word and subword data: the tokenizer learnt from the training lines; every file
    streamed line by line."""
    fractions = parse_split(data.split) + (0.0,) * (3 - len(parse_split(data.split)))
    train_span, valid_span = (None, None)
    if not data.valid:
        train_span, valid_span, _ = _split_lines(path, fractions)
    tokenizer = build_tokenizer(data, _lines(path, train_span))
    train_ids = tokenizer.encode_lines(_lines(path, train_span))
    if data.valid:
        valid_path = Path(data.valid)
        valid_ids = tokenizer.encode_file(valid_path)
    else:
        valid_path, valid_ids = path, tokenizer.encode_lines(_lines(path, valid_span))
    if tokenizer.vocab_size <= len(SPECIALS) or train_ids.numel() == 0:
        raise DataError(f"{path}: has no tokens after tokenisation; expected text")
    if valid_ids.numel() < 3:
        raise DataError(
            f"{valid_path}: the validation text has {valid_ids.numel()} tokens; it needs at "
            "least 3 (use a longer file or a larger validation fraction in --split)"
        )
    return tokenizer, train_ids, valid_ids


def load_data(data: TextDataConfig):
    path = Path(data.data) if data.data else BUNDLED_CORPUS
    if data.tokenizer != "char":
        return (path, *_load_tokens(data, path))
    text = read_text(path)
    if data.valid:
        train_text, valid_text = text, read_text(data.valid)
    else:
        train_text, valid_text, _ = split_text(text, parse_split(data.split))
    if len(valid_text) < 3:
        raise DataError(
            f"{data.valid or path}: the validation text has {len(valid_text)} characters; "
            f"use a longer file or a larger validation fraction in --split"
        )
    tokenizer = CharTokenizer.from_text(train_text)
    return path, tokenizer, tokenizer.encode(train_text), tokenizer.encode(valid_text)
