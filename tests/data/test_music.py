"""Piano rolls from the benchmark files and MIDI, MIDI out, and the errors."""

import json

import numpy as np
import pytest

from rnnkit.data.music import read_midi, read_piano_rolls, roll_from_pitches, write_midi
from rnnkit.errors import DataError


def test_jsb_json_and_mat_hold_the_same_pieces(shared_data):
    from_json = read_piano_rolls(shared_data / "jsb_chorales/jsb-chorales-quarter.json")
    from_mat = read_piano_rolls(shared_data / "jsb_chorales/JSB_Chorales.mat")
    assert [len(from_json[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    assert sum(len(p) for p in from_mat["train"]) == 13807
    for split in ("train", "valid", "test"):
        assert all(np.array_equal(a, b) for a, b in zip(from_json[split], from_mat[split]))
    first = from_json["train"][0]
    assert first.shape == (len(first), 88) and np.flatnonzero(first[0]).tolist() == [
        60 - 21,
        72 - 21,
        79 - 21,
        88 - 21,
    ]


def test_nottingham_counts(shared_data):
    pieces = read_piano_rolls(shared_data / "nottingham/Nottingham.mat")
    assert [len(pieces[s]) for s in ("train", "valid", "test")] == [694, 173, 170]
    assert sum(len(p) for p in pieces["test"]) == 44463


def test_midi_round_trip(tmp_path):
    roll = np.zeros((8, 88), dtype=np.float32)
    roll[0:4, 60 - 21] = 1  # a held C4 over 4 steps
    roll[2:3, 64 - 21] = 1
    roll[5:8, [48 - 21, 67 - 21]] = 1
    write_midi(roll, tmp_path / "piece.mid", steps_per_quarter=2)
    again = read_midi(tmp_path / "piece.mid", steps_per_quarter=2)
    assert np.array_equal(again, roll)
    assert read_piano_rolls(tmp_path / "piece.mid", steps_per_quarter=2)["train"][0].shape == (
        8,
        88,
    )


def test_bad_files_get_one_line(tmp_path):
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd\x00\x00")
    with pytest.raises(DataError, match=r"broken.mid: not a readable MIDI file \("):
        read_midi(broken)
    wrong = tmp_path / "pieces.json"
    wrong.write_text(json.dumps({"train": [[[60, 200]]]}))
    with pytest.raises(DataError) as error:
        read_piano_rolls(wrong)
    assert (
        str(error.value)
        == f"{wrong}: train piece 0, step 0: expected MIDI pitches from 21 to 108, found 200"
    )
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(DataError) as error:
        read_piano_rolls(text)
    assert (
        str(error.value)
        == f"{text}: expected a .mat or .json piano-roll file, a .mid file or a folder of them"
    )
    assert roll_from_pitches([[21], [108]], "x").sum() == 2
