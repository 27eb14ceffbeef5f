"""Pretrained word vectors: GloVe text, word2vec text and binary, fastText ``.vec``.

The file is streamed: each line (or binary record) is read once and parsed only
when its word is in the vocabulary, so a multi-gigabyte file costs one pass and
the memory of the vectors kept, never the whole file.

- GloVe: ``word v1 ... vd`` per line, no header.
- word2vec text and fastText ``.vec``: the same lines after a ``count dim`` header.
- word2vec binary (``.bin``): a ``count dim`` header line, then per word its
  UTF-8 bytes, a space, and ``dim`` little-endian float32 values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.data.files import check_file
from rnnkit.errors import DataError


@dataclass
class EmbeddingMatch:
    """The vectors found for a vocabulary and how well the file covers it."""

    path: str
    dimension: int
    vectors: dict = field(default_factory=dict)
    """vocabulary word -> numpy float32 vector (dimension,)"""
    words_in_file: int = 0
    lowercase_words: set = field(default_factory=set)
    """vocabulary words found only through their lowercase form"""

    def report(self, vocabulary_words) -> str:
        missing = [w for w in vocabulary_words if w not in self.vectors]
        total = len(vocabulary_words)
        found = total - len(missing)
        examples, by_lowercase = ", ".join(missing[:8]), len(self.lowercase_words)
        return (
            f"embeddings {self.path}: {self.dimension}-d, {self.words_in_file:,} words read; "
            f"{found:,} of {total:,} vocabulary words found ({100 * found / max(total, 1):.1f}%"
            f"{f', {by_lowercase:,} by lowercase' if by_lowercase else ''})"
            f"{f'; not found, e.g.: {examples}' if missing else ''}"
        )


def _header(first: list[str]) -> tuple[int, int] | None:
    if len(first) == 2 and all(part.isdigit() for part in first):
        return int(first[0]), int(first[1])
    return None


def _wanted_keys(words) -> tuple[set, dict]:
    """Exact words, plus a lowercase fallback for a cased file and an uncased vocabulary."""
    exact = set(words)
    lower: dict[str, list[str]] = {}
    for word in words:
        lower.setdefault(word.lower(), []).append(word)
    return exact, lower


def read_embeddings(path, words, file_format: str = "auto") -> EmbeddingMatch:
    """Vectors for ``words`` from ``path``; ``file_format`` is auto, text or word2vec-binary."""
    path = check_file(path, "an embeddings file (GloVe/word2vec text or binary)")
    if file_format == "auto":
        file_format = "word2vec-binary" if path.suffix.lower() == ".bin" else "text"
    if file_format not in ("text", "word2vec-binary"):
        raise DataError(
            f"embeddings format must be auto, text or word2vec-binary; got {file_format!r}"
        )
    words = list(words)
    with open(path, "rb") as handle:
        if file_format == "text":
            return _read_text(path, handle, words)
        return _read_binary(path, handle, words)


def _keep(match: EmbeddingMatch, word: str, wanted, parse) -> None:
    exact, lower = wanted
    if word in exact:
        match.vectors[word] = parse()
        match.lowercase_words.discard(word)
        return
    for vocabulary_word in lower.get(word.lower(), ()):
        if vocabulary_word not in match.vectors:  # an exact match, read later, replaces this one
            match.vectors[vocabulary_word] = parse()
            match.lowercase_words.add(vocabulary_word)


def _finite(path, index: int, vector: np.ndarray) -> np.ndarray:
    if not np.isfinite(vector).all():
        raise DataError(f"{path}: word {index + 1}'s vector has NaN or infinity")
    return vector


def _parse_line(path, number, parts, dimension):
    if len(parts) != dimension + 1:
        raise DataError(
            f"{path}: line {number}: expected a word and {dimension} numbers, "
            f"found {len(parts) - 1} numbers"
        )
    try:
        vector = np.array(parts[1:], dtype=np.float32)
    except ValueError:
        raise DataError(
            f"{path}: line {number}: expected {dimension} numbers after {parts[0]!r}"
        ) from None
    if not np.isfinite(vector).all():
        raise DataError(f"{path}: line {number}: the vector of {parts[0]!r} has NaN or infinity")
    return vector


def _read_text(path: Path, handle, words) -> EmbeddingMatch:
    wanted, match = _wanted_keys(words), None
    for number, raw in enumerate(handle, 1):
        try:
            parts = raw.decode("utf-8").rstrip("\r\n").rstrip(" ").split(" ")
        except UnicodeDecodeError:
            raise DataError(
                f"{path}: line {number}: not UTF-8 text; for word2vec binary files use a .bin "
                "name or --embeddings-format word2vec-binary"
            ) from None
        if match is None:
            header = _header(parts)
            match = EmbeddingMatch(str(path), header[1] if header else len(parts) - 1)
            if header:
                continue
        if parts == [""]:
            continue
        match.words_in_file += 1
        _keep(match, parts[0], wanted, lambda: _parse_line(path, number, parts, match.dimension))
    if match is None or match.dimension < 1:
        raise DataError(f"{path}: the file is empty; expected word vectors")
    return match


def _read_binary(path: Path, handle, words) -> EmbeddingMatch:
    header = _header(handle.readline().decode("utf-8", "replace").split())
    if header is None:
        raise DataError(f"{path}: line 1: expected a word2vec header 'count dimension'")
    count, dimension = header
    match, wanted, size = EmbeddingMatch(str(path), dimension), _wanted_keys(words), 4 * dimension
    for index in range(count):
        word = bytearray()
        while (byte := handle.read(1)) != b" ":
            if not byte:
                raise DataError(
                    f"{path}: ends after {index} of the {count} words its header promises"
                )
            if byte != b"\n" or word:  # records may be separated by a newline
                word += byte
        data = handle.read(size)
        if len(data) != size:
            raise DataError(
                f"{path}: word {index + 1} has {len(data) // 4} of its {dimension} values; "
                "the file is truncated"
            )
        match.words_in_file += 1
        _keep(
            match,
            word.decode("utf-8", "replace"),
            wanted,
            lambda: _finite(path, index, np.frombuffer(data, "<f4").copy()),
        )
    return match
