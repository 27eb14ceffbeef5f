"""Numeric sequences: .ts, .npz and long CSV, and standardisation."""

import numpy as np
import pytest
import torch

from rnnkit.data.sequences import read_long_table, read_npz, read_sequences, read_ts, standardise
from rnnkit.errors import DataError

TS = """# a comment
@problemName Tiny
@timeStamps false
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b
@data
1,2,3:4,5,6:a
7,8:9,10:b
"""


def test_ts_variable_length_multivariate(tmp_path):
    path = tmp_path / "tiny.ts"
    path.write_text(TS)
    sequences, labels = read_ts(path)
    assert labels == ["a", "b"]
    assert sequences[0].tolist() == [[1, 4], [2, 5], [3, 6]] and sequences[1].tolist() == [
        [7, 9],
        [8, 10],
    ]


def test_ts_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.ts"
    path.write_text(TS.replace("7,8:9,10:b", "7,8:9:b"))
    with pytest.raises(DataError) as error:
        read_ts(path)
    assert str(error.value) == (
        f"{path}: line 10: the dimensions have different lengths (2, 1); "
        "each dimension needs one value per step"
    )
    path.write_text(TS.replace("7,8:9,10:b", "7,8:b"))
    with pytest.raises(DataError) as error:
        read_ts(path)
    assert str(error.value) == f"{path}: line 10: expected 2 dimensions separated by ':', found 1"


def test_npz_with_lengths(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(
        path,
        x=np.arange(12, dtype=np.float32).reshape(2, 3, 2),
        y=np.array([0, 1]),
        lengths=np.array([3, 1]),
    )
    sequences, labels = read_npz(path)
    assert (
        labels == ["0", "1"] and sequences[1].tolist() == [[6, 7]] and sequences[0].shape == (3, 2)
    )
    np.savez(path, x=np.zeros((2, 3)), y=np.array([0, 1, 2]))
    with pytest.raises(DataError) as error:
        read_npz(path)
    assert str(error.value) == f"{path}: y must have shape (2,) to match x; found (3,)"


def test_long_csv(tmp_path):
    path = tmp_path / "motion.csv"
    path.write_text("id,x,y,label\ns1,1,2,walk\ns1,3,4,walk\ns2,5,6,run\n")
    sequences, labels = read_sequences(path, "label", "id")
    assert labels == ["walk", "run"] and sequences[0].tolist() == [[1, 2], [3, 4]]
    path.write_text("id,x,y,label\ns1,1,2,walk\ns1,3,4,run\n")
    with pytest.raises(DataError) as error:
        read_long_table(path, "id", "label")
    assert (
        str(error.value)
        == f"{path}: line 3: sequence 's1' has label 'run' here and 'walk' before; a sequence has "
        "one label"
    )


def test_standardise_uses_training_statistics():
    train = [torch.tensor([[1.0, 10.0], [3.0, 30.0]])]
    scaled, statistics = standardise(train)
    assert torch.allclose(scaled[0].mean(0), torch.zeros(2))
    other, _ = standardise([torch.tensor([[2.0, 20.0]])], statistics)
    assert other[0].tolist() == [[0.0, 0.0]]


def _sktime_file(name):
    sktime = pytest.importorskip(
        "sktime", reason="sktime (a dev extra) holds the UEA/UCR test datasets"
    )
    from pathlib import Path

    return Path(sktime.__file__).parent / "datasets" / "data" / name.split("_")[0] / f"{name}.ts"


def test_real_japanese_vowels_and_basic_motions():
    sequences, labels = read_ts(_sktime_file("JapaneseVowels_TRAIN"))
    lengths = [len(s) for s in sequences]
    assert len(sequences) == 270 and min(lengths) == 7 and max(lengths) == 26
    assert sequences[0].shape[1] == 12 and sorted(set(labels)) == [str(i) for i in range(1, 10)]
    sequences, labels = read_ts(_sktime_file("BasicMotions_TEST"))
    assert (
        len(sequences) == 40
        and {s.shape for s in sequences} == {(100, 6)}
        and len(set(labels)) == 4
    )
