"""Token streams for language models: text files read line by line (plain or gzip), and the
word and BPE tokenizers, which save themselves with the run.

Files are streamed: a 100 MB corpus is counted and encoded one line at a time into a
compact int64 array, never into a Python list of every token.
"""

from __future__ import annotations

import gzip
from array import array
from collections import Counter
from collections.abc import Iterator

from rnnkit.data.files import GZIP_ERRORS, check_file, decode_utf8, gzip_error, normalise_line_ends
from rnnkit.data.text import CharTokenizer, long_tensor
from rnnkit.data.words import SubwordTokenizer

PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"
SPECIALS = (PAD, UNK, EOS)
EOS_ID = SPECIALS.index(EOS)
"""Ids 0, 1 and 2 of the word and BPE vocabularies. ``<pad>`` is never scored nor sampled;
``<eos>`` ends every line (the PTB convention of Mikolov et al. 2010)."""


def read_lines(path) -> Iterator[str]:
    """The lines of a UTF-8 text file, plain or gzip (``.gz``), without their ends.

    ``\\n``, ``\\r\\n`` and ``\\r`` all end a line; a leading BOM is dropped. Errors are one
    line that names the file and the line."""
    path = check_file(path)
    opener = gzip.open if path.suffix == ".gz" else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            for raw in handle:
                raw = raw[:-1] if raw.endswith(b"\n") else raw
                raw = raw[:-1] if raw.endswith(b"\r") else raw
                for piece in raw.split(b"\r"):  # old Mac line ends inside a \n-line
                    number += 1
                    line = decode_utf8(path, piece, first_line=number)
                    yield line[1:] if number == 1 and line.startswith("\ufeff") else line
    except GZIP_ERRORS as error:
        raise gzip_error(path, error) from None


class WordTokenizer:
    """Whitespace-separated words with ``<eos>`` at each line's end (as PTB is written).

    Words outside the vocabulary become ``<unk>``; ``unknown_count`` says how many the last
    :meth:`encode` or :meth:`encode_file` met."""

    kind = "word"

    def __init__(self, words):
        self.tokens = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.unknown_count = 0

    @classmethod
    def from_lines(cls, lines, max_vocab: int | None = None, min_freq: int = 1) -> WordTokenizer:
        """The words of ``lines`` seen at least ``min_freq`` times, most frequent first (ties
        in string order), at most ``max_vocab`` ids in all (the three specials included)."""
        counts = Counter()
        for line in lines:
            counts.update(line.split())
        kept = sorted(
            (w for w, n in counts.items() if n >= min_freq and w not in SPECIALS),
            key=lambda w: (-counts[w], w),
        )
        if max_vocab is not None:
            kept = kept[: max(0, max_vocab - len(SPECIALS))]
        return cls(kept)

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        """Tokens of ``text``; each line but an unfinished last one ends with ``<eos>``."""
        lines = normalise_line_ends(text).split("\n")
        tokens = []
        for number, line in enumerate(lines):
            tokens.extend(line.split())
            if number < len(lines) - 1:
                tokens.append(EOS)
        return tokens

    def _ids(self, words, counter: list[int]) -> list[int]:
        ids = [self.index.get(w, 1) for w in words]
        counter[0] += sum(1 for w, i in zip(words, ids) if i == 1 and w != UNK)
        return ids

    def ids(self, text: str) -> list[int]:
        """Ids of ``text``'s tokens; unknown words become ``<unk>`` (counted in
        ``unknown_count``)."""
        counter = [0]
        ids = self._ids(self.split(text), counter)
        self.unknown_count = counter[0]
        return ids

    def encode(self, text: str):
        return long_tensor(self.ids(text))

    def encode_lines(self, lines):
        """Ids of ``lines`` (an iterable, streamed), ``<eos>`` after each."""
        ids, counter = array("q"), [0]
        for line in lines:
            ids.extend(self._ids(line.split(), counter))
            ids.append(2)
        self.unknown_count = counter[0]
        return long_tensor(ids)

    def encode_file(self, path):
        return self.encode_lines(read_lines(path))

    def unknown_words(self, text: str) -> list[str]:
        return sorted({w for w in self.split(text) if w not in self.index})

    def decode(self, ids) -> str:
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        words = [self.tokens[i] for i in ids]
        return " ".join(words).replace(f" {EOS} ", "\n").replace(EOS, "\n")

    def to_dict(self) -> dict:
        return {"type": "word", "words": self.tokens[len(SPECIALS) :]}

    @classmethod
    def from_dict(cls, data: dict) -> WordTokenizer:
        return cls(data["words"])


class BPETokenizer:
    """Byte-pair encoding (Sennrich et al. 2016) through the ``tokenizers`` library, trained on
    the training file; spaces are kept in the pieces (Metaspace), so decoding restores the
    text, and ``<eos>`` ends each line."""

    kind = "bpe"
    unknown_count = 0

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    @classmethod
    def from_lines(cls, lines, vocab_size: int | None = None, min_freq: int = 1) -> BPETokenizer:
        """Learns the merges from ``lines``; ``vocab_size`` defaults to 8000."""
        lib = SubwordTokenizer.library()
        tokenizer = lib.Tokenizer(lib.models.BPE(unk_token=UNK))
        tokenizer.pre_tokenizer = lib.pre_tokenizers.Metaspace()
        tokenizer.decoder = lib.decoders.Metaspace()
        trainer = lib.trainers.BpeTrainer(
            vocab_size=vocab_size or 8000,
            min_frequency=min_freq,
            special_tokens=list(SPECIALS),
            show_progress=False,
        )
        tokenizer.train_from_iterator(lines, trainer=trainer)
        return cls(tokenizer)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def _encode_lines(self, lines, ids: array) -> None:
        for encoding in self.tokenizer.encode_batch(lines):
            ids.extend(encoding.ids)
            ids.append(2)

    def ids(self, text: str) -> list[int]:
        lines = normalise_line_ends(text).split("\n")
        ids = array("q")
        self._encode_lines(lines[:-1], ids)
        if lines[-1]:
            ids.extend(self.tokenizer.encode(lines[-1]).ids)
        return ids.tolist()

    def encode(self, text: str):
        return long_tensor(self.ids(text))

    def encode_lines(self, lines):
        """Ids of ``lines`` (an iterable, streamed in chunks), ``<eos>`` after each."""
        ids, chunk = array("q"), []
        for line in lines:
            chunk.append(line)
            if len(chunk) == 10_000:
                self._encode_lines(chunk, ids)
                chunk = []
        self._encode_lines(chunk, ids)
        return long_tensor(ids)

    def encode_file(self, path):
        return self.encode_lines(read_lines(path))

    def unknown_words(self, text: str) -> list[str]:
        return []  # BPE spells any word it has the characters of

    def decode(self, ids) -> str:
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        lines, current = [], []
        for i in ids:
            if i == 2:
                lines.append(current)
                current = []
            else:
                current.append(i)
        lines.append(current)
        return "\n".join(self.tokenizer.decode(line, skip_special_tokens=False) for line in lines)

    def to_dict(self) -> dict:
        return {"type": "bpe", "tokenizer": self.tokenizer.to_str()}

    @classmethod
    def from_dict(cls, data: dict) -> BPETokenizer:
        return cls(SubwordTokenizer.library().Tokenizer.from_str(data["tokenizer"]))


TOKENIZER_CLASSES = {"char": CharTokenizer, "word": WordTokenizer, "bpe": BPETokenizer}


def tokenizer_from_dict(data: dict):
    """A language model's tokenizer from what ``to_dict`` saved in the run folder."""
    return TOKENIZER_CLASSES[data.get("type", "char")].from_dict(data)
