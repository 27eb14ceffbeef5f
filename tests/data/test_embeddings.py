"""Pretrained vectors: GloVe, word2vec text and binary, fastText .vec, streamed."""

import struct

import numpy as np
import pytest

from rnnkit.data.embeddings import read_embeddings
from rnnkit.errors import DataError

VECTORS = {
    "the": [0.1, 0.2, 0.3],
    "Good": [1.0, -1.0, 0.5],
    "film": [0.0, 0.25, -0.75],
    "zebra": [9, 9, 9],
}
VOCABULARY = ["the", "good", "film", "plot"]


def _text_lines():
    return "".join(f"{w} {' '.join(str(x) for x in v)}\n" for w, v in VECTORS.items())


def _check(match):
    assert match.dimension == 3 and match.words_in_file == 4
    assert set(match.vectors) == {"the", "good", "film"}
    np.testing.assert_array_equal(
        match.vectors["good"], np.float32(VECTORS["Good"])
    )  # lowercase fallback
    assert match.lowercase_words == {"good"}
    assert match.report(VOCABULARY).endswith(
        "3-d, 4 words read; 3 of 4 vocabulary words found (75.0%, 1 by lowercase); "
        "not found, e.g.: plot"
    )


def test_glove_text_without_header(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(_text_lines())
    _check(read_embeddings(path, VOCABULARY))


def test_word2vec_text_and_fasttext_vec_with_header(tmp_path):
    for name in ("vectors.txt", "wiki.vec"):
        path = tmp_path / name
        path.write_text("4 3\n" + _text_lines())
        _check(read_embeddings(path, VOCABULARY))


def test_word2vec_binary(tmp_path):
    path = tmp_path / "vectors.bin"
    body = b"".join(w.encode() + b" " + struct.pack("<3f", *v) + b"\n" for w, v in VECTORS.items())
    path.write_bytes(b"4 3\n" + body)
    _check(read_embeddings(path, VOCABULARY))
    path.write_bytes(b"4 3\n" + body[:-7])
    with pytest.raises(DataError) as error:
        read_embeddings(path, VOCABULARY)
    assert str(error.value) == f"{path}: word 4 has 1 of its 3 values; the file is truncated"


def test_exact_match_beats_lowercase_match(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("Good 1 1\ngood 2 2\n")
    match = read_embeddings(path, ["good"])
    assert match.vectors["good"].tolist() == [2, 2] and not match.lowercase_words


def test_only_vocabulary_words_are_parsed(tmp_path):
    # A broken line for a word nobody asked for is never parsed: the file is streamed, not loaded.
    path = tmp_path / "glove.txt"
    path.write_text("the 1 2 3\nunused 1 2 x y z\nfilm 4 5 6\n")
    assert set(read_embeddings(path, ["the", "film"]).vectors) == {"the", "film"}
    with pytest.raises(DataError) as error:
        read_embeddings(path, ["unused"])
    assert str(error.value) == f"{path}: line 2: expected a word and 3 numbers, found 5 numbers"
