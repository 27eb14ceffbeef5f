"""Token streams for language models: the line reader, the word and BPE tokenizers."""

import gzip

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rnnkit.data import BPETokenizer, WordTokenizer, read_lines
from rnnkit.data.tokens import tokenizer_from_dict
from rnnkit.errors import DataError

LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00\ufeff"))


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(LINE, min_size=1, max_size=8),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=8, max_size=8),
    bom=st.booleans(),
    compressed=st.booleans(),
)
def test_read_lines_returns_the_lines_whatever_their_ends(
    tmp_path_factory, lines, ends, bom, compressed
):
    # "\r" ending an empty line followed by "\n" is one "\r\n": the same bytes, so skip it.
    assume(
        not any(
            end == "\r" and following == "" and next_end == "\n"
            for end, following, next_end in zip(ends, lines[1:], ends[1:])
        )
    )
    text = "".join(line + end for line, end in zip(lines, ends))
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    folder = tmp_path_factory.mktemp("lines")
    path = folder / ("text.txt.gz" if compressed else "text.txt")
    path.write_bytes(gzip.compress(data) if compressed else data)
    assert list(read_lines(path)) == lines


def test_read_lines_errors_name_the_file_line_and_column(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(DataError, match=f"^{folder}: is a directory; expected a UTF-8 text"):
        list(read_lines(folder))
    with pytest.raises(DataError, match=f"^{tmp_path / 'no.txt'}: no such file$"):
        list(read_lines(tmp_path / "no.txt"))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("one\r\ntwo\rna\xefve\n".encode("latin-1"))
    with pytest.raises(DataError) as error:
        list(read_lines(latin))
    assert str(error.value) == (
        f"{latin}: line 3, column 3: byte 0xef is not valid UTF-8; expected UTF-8 text"
    )
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"ab\ncd\x00")
    with pytest.raises(DataError, match=f"^{binary}: line 2, column 3: found a NUL byte"):
        list(read_lines(binary))
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(gzip.compress(b"some words\n" * 100)[:40])
    with pytest.raises(DataError, match=f"^{broken}: is not a readable gzip file"):
        list(read_lines(broken))


def test_word_tokenizer_follows_the_ptb_convention(shared_data):
    train = shared_data / "ptb" / "ptb.train.txt.gz"
    tokenizer = WordTokenizer.from_lines(read_lines(train))
    # PTB's 10,000 words (<unk> and <eos> among them) and our <pad>; the token counts are
    # those of torchtext and the dataset README.
    assert tokenizer.vocab_size == 10_001
    assert tokenizer.encode_file(train).numel() == 929_589
    valid = tokenizer.encode_file(shared_data / "ptb" / "ptb.valid.txt")
    assert valid.numel() == 73_760 and tokenizer.unknown_count == 0
    assert tokenizer.decode(valid[:5]) == "consumers may want to move"
    assert tokenizer.tokens[:4] == ["<pad>", "<unk>", "<eos>", "the"]


def test_word_vocabulary_limits_and_unknown_words(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("a a a b b c\nb a d\n", encoding="utf-8")
    tokenizer = WordTokenizer.from_lines(read_lines(path), max_vocab=5)
    assert tokenizer.tokens == ["<pad>", "<unk>", "<eos>", "a", "b"]
    assert WordTokenizer.from_lines(read_lines(path), min_freq=2).tokens[3:] == ["a", "b"]
    ids = tokenizer.encode("a zz c\nb")
    assert ids.tolist() == [3, 1, 1, 2, 4] and tokenizer.unknown_count == 2
    assert tokenizer.unknown_words("a zz c") == ["c", "zz"]
    assert tokenizer.decode(ids) == "a <unk> <unk>\nb"
    again = tokenizer_from_dict(tokenizer.to_dict())
    assert again.tokens == tokenizer.tokens
    assert torch.equal(again.encode_file(path), tokenizer.encode_file(path))


def test_bpe_round_trips_text_and_saves_itself(tmp_path):
    path = tmp_path / "text.txt"
    lines = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 20
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tokenizer = BPETokenizer.from_lines(read_lines(path), vocab_size=40)
    ids = tokenizer.encode_file(path)
    assert (ids == 2).sum() == len(lines)  # one <eos> per line
    assert tokenizer.decode(ids[: ids.tolist().index(2)]) == lines[0]
    again = tokenizer_from_dict(tokenizer.to_dict())
    assert torch.equal(again.encode("the cat sat\n"), tokenizer.encode("the cat sat\n"))
    assert tokenizer.vocab_size <= 40
