"""Reading text, splitting it, the char tokenizer and the BPTT streams."""

import pytest
import torch

from rnnkit.data import BUNDLED_CORPUS, CharTokenizer, StreamBatches, read_text, split_text
from rnnkit.errors import DataError


def test_read_text_errors_name_the_file_and_place(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(DataError, match=f"^{missing}: no such file$"):
        read_text(missing)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=f"^{empty}: the file is empty; expected UTF-8 text$"):
        read_text(empty)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("first line\nna\xefve".encode("latin-1"))
    with pytest.raises(DataError) as error:
        read_text(latin)
    assert (
        str(error.value)
        == f"{latin}: line 2, column 3: byte 0xef is not valid UTF-8; expected UTF-8 text"
    )
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"ab\ncd\x00ef")
    with pytest.raises(DataError) as error:
        read_text(binary)
    assert (
        str(error.value)
        == f"{binary}: line 2, column 3: found a NUL byte; expected UTF-8 text, not a binary file"
    )


def test_read_text_strips_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffhé".encode("utf-8"))
    assert read_text(path) == "hé"


def test_bundled_corpus_is_tiny_shakespeare():
    text = read_text(BUNDLED_CORPUS)
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:")


def test_split_is_contiguous_and_configurable():
    text = "".join(chr(65 + i % 26) for i in range(1000))
    train, valid, test = split_text(text)
    assert (len(train), len(valid), len(test)) == (900, 50, 50)
    assert train + valid + test == text
    train, valid, test = split_text(text, (0.9, 0.1))
    assert (len(train), len(valid), len(test)) == (900, 100, 0)
    with pytest.raises(
        DataError,
        match=r"^split fractions must be 2 or 3 non-negative numbers summing to 1; got \(0.5, "
        r"0.2, 0.0\)$",
    ):
        split_text(text, (0.5, 0.2))


def test_char_tokenizer_round_trip_and_unknown_id():
    tokenizer = CharTokenizer.from_text("hello world")
    assert tokenizer.characters[0] == CharTokenizer.UNKNOWN
    assert tokenizer.characters[1] == "l"  # most frequent first
    ids = tokenizer.encode("hello")
    assert tokenizer.decode(ids) == "hello"
    assert tokenizer.encode("hex").tolist()[-1] == 0 and tokenizer.unknown_count == 1
    assert tokenizer.unknown_characters("hexz") == ["x", "z"]
    again = CharTokenizer.from_dict(tokenizer.to_dict())
    assert again.characters == tokenizer.characters


def test_streams_are_contiguous_across_batches():
    ids = torch.arange(1000)
    batches = StreamBatches(ids, batch_size=4, seq_len=10)
    per_stream = 999 // 4
    assert len(batches) == per_stream // 10 + 1  # 24 full windows and a last one of 9 steps
    first_inputs, first_targets = batches[0]
    second_inputs, _ = batches[1]
    assert torch.equal(first_targets, first_inputs + 1)
    assert torch.equal(second_inputs[:, 0], first_inputs[:, -1] + 1)  # row b continues row b
    assert torch.equal(first_inputs[:, 0], torch.arange(4) * per_stream)
    shifted = StreamBatches(ids, batch_size=4, seq_len=10, offset=3)
    assert shifted[0][0][0, 0].item() == 3


def test_streams_too_short_error():
    with pytest.raises(DataError) as error:
        StreamBatches(torch.arange(50), batch_size=8, seq_len=10, name="notes.txt")
    assert str(error.value) == (
        "notes.txt has 50 tokens; one batch of 8 streams x 10 steps needs at least 88: "
        "use a longer file or a smaller --batch-size/--seq-len"
    )
