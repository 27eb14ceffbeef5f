"""Every reader, one contract: a file loads, or it raises rnnkit's own one-line error naming
the file; never another exception. Plus what the readers share: one table reader for
classification, forecasting, sequences and manifests (BOM, delimiters, UTF-16, gzip), NaN and
infinity refused on read, and one message per missing extra."""

import gzip
import io
import json
import random
import struct
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data.embeddings import read_embeddings
from rnnkit.data.files import read_text
from rnnkit.data.music import read_piano_rolls
from rnnkit.data.sequences import read_long_table, read_npz, read_ts
from rnnkit.data.series import read_series
from rnnkit.data.speech import read_manifest
from rnnkit.data.tables import read_labelled_text, read_records
from rnnkit.data.tokens import read_lines
from rnnkit.data.wav import read_wav
from rnnkit.errors import DataError, MissingExtra, RnnkitError
from rnnkit.train.checkpoint import load_tensors

# -- one table reader ---------------------------------------------------------------------


def test_classification_and_forecasting_read_the_same_bom_semicolon_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufefftext;label;value\r\ngood;1;2,5\r\nbad;0;3\r\n".encode())
    # (the decimal comma is a quoted-free field here: the delimiter is ';')
    assert read_labelled_text(path)[:2] == (["good", "bad"], ["1", "0"])
    series = read_series(path, ["label"], time_column=None)
    assert series.targets[:, 0].tolist() == [1.0, 0.0] and series.lines.tolist() == [2, 3]


def test_utf16_gzip_and_old_mac_line_ends(tmp_path):
    text = "text,label\rcafé,1\rnaïve,0\r"
    (tmp_path / "u.csv").write_bytes(text.encode("utf-16"))
    (tmp_path / "g.csv.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("u.csv", "g.csv.gz"):
        assert read_labelled_text(tmp_path / name) == (["café", "naïve"], ["1", "0"], [2, 3])


def test_table_errors_are_one_line_and_name_the_place(tmp_path):
    cases = {
        "dup.csv": (b"a,a\n1,2\n", "line 1: column 'a' appears twice"),
        "short.csv": (b"a,b\n1\n", "line 2: expected 2 fields (a, b), found 1"),
        "nul.csv": (b"a,b\n1,\x00\n", "line 2, column 3: found a NUL byte"),
        "latin.csv": (b"a,b\n1,\xe9\n", "line 2, column 3: byte 0xe9 is not valid UTF-8"),
        "bad.jsonl": (b'{"a": 1}\n[1]\n', "line 2: expected a JSON object, found list"),
        "broken.csv.gz": (b"\x1f\x8b\x08\x00garbage", "is not a readable gzip file"),
    }
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DataError) as caught:
            read_records(tmp_path / name)
        assert str(caught.value).startswith(str(tmp_path / name)), str(caught.value)
        assert expected in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(DataError, match=r"folder: is a directory; expected a CSV, TSV or JSONL"):
        (tmp_path / "folder").mkdir()
        read_labelled_text(tmp_path / "folder")


# -- NaN and infinity are refused on read ------------------------------------------------


def test_non_finite_values_name_the_line_and_column(tmp_path):
    series = tmp_path / "s.csv"
    series.write_text("t,y\n1,1.0\n2,inf\n")
    with pytest.raises(DataError, match=r"s.csv line 3, column 'y': expected a finite number, "):
        read_series(series, ["y"], time_column=None)
    series.write_text("t,y\n1,1.0\n2,nan\n")  # NaN is a missing value: --fill decides
    with pytest.raises(DataError, match=r"line 3, column 'y': missing value \(pass --fill"):
        read_series(series, ["y"], time_column=None)
    assert read_series(series, ["y"], None, fill="ffill").targets[:, 0].tolist() == [1.0, 1.0]
    long = tmp_path / "l.csv"
    long.write_text("id,x,label\na,1,p\na,-inf,p\n")
    with pytest.raises(DataError, match=r"l.csv: line 3, column 'x': expected a finite number"):
        read_long_table(long, "id", "label")
    ts = tmp_path / "a.ts"
    ts.write_text("@problemName a\n@classLabel true 0 1\n@data\n1,NaN,3:0\n")
    with pytest.raises(DataError, match=r"a.ts: line 4, dimension 1: expected finite numbers"):
        read_ts(ts)
    x = np.zeros((2, 3), dtype=np.float32)
    x[1, 1] = np.nan
    np.savez(tmp_path / "a.npz", x=x, lengths=np.array([3, 3]))
    with pytest.raises(DataError, match=r"a.npz: x\[1, 1\] is not a finite number"):
        read_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", x=x, lengths=np.array([3, 1]))  # NaN in padding: fine
    assert len(read_npz(tmp_path / "b.npz")[0]) == 2


def test_ts_header_errors_name_the_line(tmp_path):
    """Found by benchmarks/fuzz.py: an empty @classLabel was an IndexError."""
    ts = tmp_path / "a.ts"
    ts.write_text("@problemName a\n@classLabel\n@data\n1,2:0\n")
    with pytest.raises(DataError, match=r"a.ts: line 2: @classLabel must be true \(then the "):
        read_ts(ts)
    ts.write_text("@dimensions two\n@data\n1,2\n")
    with pytest.raises(DataError, match=r"line 1: @dimensions must be a positive whole number"):
        read_ts(ts)


def test_npz_never_unpickles(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([[1], [2]], dtype=object))
    with pytest.raises(DataError, match=r"o.npz: not a readable .npz archive \(.*pickle"):
        read_npz(tmp_path / "o.npz")


# -- optional extras ----------------------------------------------------------------------


def test_a_missing_extra_names_the_pip_install(tmp_path, monkeypatch):
    (tmp_path / "a.mid").write_bytes(b"MThd")
    monkeypatch.setitem(sys.modules, "mido", None)  # as if the music extra were not installed
    with pytest.raises(MissingExtra) as caught:
        read_piano_rolls(tmp_path / "a.mid")
    assert str(caught.value) == (
        f"reading {tmp_path / 'a.mid'}: MIDI files need mido: pip install 'rnnkit[music]'"
    )
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    from rnnkit.data.tokens import BPETokenizer

    with pytest.raises(MissingExtra, match=r"^BPE tokenization need tokenizers: pip install "):
        BPETokenizer.from_lines(["a b"], 10)


# -- fuzzing: load or raise our error, never anything else --------------------------------


def _wav(body: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(body))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(body))
        + body
    )


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(
        buffer, x=np.ones((2, 3, 1), dtype=np.float32), y=np.array([0, 1]), lengths=np.array([3, 2])
    )
    return buffer.getvalue()


def _midi() -> bytes:
    import mido

    track = mido.MidiTrack(
        [
            mido.Message("note_on", note=60, velocity=80, time=0),
            mido.Message("note_off", note=60, velocity=0, time=480),
        ]
    )
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _safetensors() -> bytes:
    import torch
    from safetensors.torch import save

    return save({"weight": torch.arange(6.0).reshape(2, 3)}, metadata={"step": "1"})


SEEDS = {
    "csv": b"text,label\ngood,1\nbad,0\n",
    "tsv": b"sentence\tlabel\nfine\t1\n",
    "jsonl": b'{"text": "a", "label": 1}\n',
    "series": b"date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n",
    "long": b"id,x,label\na,1,p\na,2,p\nb,3,q\n",
    "ts": b"@problemName a\n@dimensions 1\n@classLabel true 0 1\n@data\n1,2,3:0\n",
    "manifest": b"path,label\nx.wav,1\n",
    "wav": _wav(b"\x00\x01" * 20),
    "json": json.dumps({"train": [[[60], [62, 64]]]}).encode(),
    "text": b"hello world\nsecond line\n",
    "embeddings": b"2 3\ngood 0.1 0.2 0.3\nbad 0.4 0.5 0.6\n",
    "npz": _npz(),
    "midi": _midi(),
    "safetensors": _safetensors(),
}


INSERTS = [
    b",",
    b";",
    b"\t",
    b'"',
    b"\n",
    b"\r",
    b"nan",
    b"inf",
    b"-",
    b"\x00",
    b"\xff",
    b"{",
    b":",
    b"?",
    b"1e999",
    "\ufeff".encode(),
    b"@data",
    b"-1",
    b"99999999999",
]
"""What the mutations insert: delimiters, quotes, line ends, NUL, invalid UTF-8, non-finite
numbers, a BOM, header tags and huge numbers."""


def mutate(seed: bytes, rng: random.Random) -> bytes:
    """A seed file with random bytes flipped, inserted, deleted or repeated, or the file cut."""
    raw = bytearray(seed)
    for _ in range(rng.randint(1, 8)):
        action = rng.choice(["flip", "insert", "delete", "cut", "junk", "repeat"])
        position = rng.randint(0, max(len(raw) - 1, 0))
        if action == "flip" and raw:
            raw[position] = rng.randint(0, 255)
        elif action == "insert":
            raw[position:position] = rng.choice(INSERTS)
        elif action == "delete" and raw:
            del raw[position : position + rng.randint(1, 4)]
        elif action == "cut":
            del raw[position:]
        elif action == "repeat":
            raw[position:position] = raw[position : position + rng.randint(1, 16)] * 3
        else:
            raw[position:position] = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 8)))
    return bytes(raw)


READERS = {
    "csv": ("a.csv", lambda p: read_labelled_text(p)),
    "tsv": ("a.tsv", lambda p: read_labelled_text(p)),
    "jsonl": ("a.jsonl", lambda p: read_labelled_text(p)),
    "series": ("s.csv", lambda p: read_series(p, ["y"], "auto")),
    "long": ("l.csv", lambda p: read_long_table(p, "id", "label")),
    "ts": ("a.ts", read_ts),
    "manifest": ("m.csv", read_manifest),
    "wav": ("a.wav", read_wav),
    "json": ("r.json", read_piano_rolls),
    "text": ("t.txt", lambda p: (read_text(p), list(read_lines(p)))),
    "embeddings": ("e.txt", lambda p: read_embeddings(p, ["good", "bad"])),
    "npz": ("a.npz", read_npz),
    "midi": ("a.mid", read_piano_rolls),
    "safetensors": ("w.safetensors", load_tensors),
}


def check_reader(kind: str, folder, raw: bytes):
    """Reads ``raw`` as a ``kind`` file: returns normally or raises an RnnkitError."""
    name, reader = READERS[kind]
    path = folder / name
    path.write_bytes(raw)
    (folder / "x.wav").write_bytes(SEEDS["wav"])
    try:
        reader(path)
    except RnnkitError as error:
        assert "\n" not in str(error), f"{kind}: a message of several lines: {error}"


@pytest.mark.parametrize("kind", sorted(READERS))
def test_fuzzed_files_load_or_raise_our_error(kind, tmp_path_factory):
    folder = tmp_path_factory.mktemp(kind)

    # derandomize: the same 60 mutations on every run, so a CI result does not depend on luck;
    # benchmarks/fuzz.py searches at random, for as long as it is given
    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        # hypothesis draws the seed of the mutation (and shrinks it when a case fails)
        check_reader(kind, folder, mutate(SEEDS[kind], random.Random(data.draw(st.integers()))))

    run()
