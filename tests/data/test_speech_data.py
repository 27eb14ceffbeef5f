"""Recordings from folders and manifests, their splits, and joined sequences."""

import pytest
import torch

from rnnkit.data.speech import (
    Recording,
    draw_sequences,
    join_recordings,
    pattern_regex,
    read_manifest,
    read_recordings,
    scan_folder,
    split_recordings,
)
from rnnkit.data.wav import write_wav
from rnnkit.errors import DataError


def make_folder(folder, speakers=("ann", "bob", "cy"), labels=("0", "1"), indices=range(4)):
    folder.mkdir(parents=True, exist_ok=True)
    for speaker in speakers:
        for label in labels:
            for index in indices:
                write_wav(folder / f"{label}_{speaker}_{index}.wav", torch.zeros(80), 8000)
    return folder


def test_pattern_fields_and_errors():
    match = pattern_regex("{label}_{speaker}_{index}.wav").match("7_jackson_32.wav")
    assert match.groupdict() == {"label": "7", "speaker": "jackson", "index": "32"}
    assert (
        pattern_regex("{speaker}-{any}-{label}.WAV").match("ann-take2-yes.wav").group("label")
        == "yes"
    )
    with pytest.raises(
        DataError,
        match=r"pattern '\{digit\}.wav': unknown field \{digit\}; expected \{label\}, "
        r"\{speaker\}, \{index\}, \{any\}$",
    ):
        pattern_regex("{digit}.wav")
    with pytest.raises(DataError, match=r"pattern '\{speaker\}.wav': needs a \{label\} field$"):
        pattern_regex("{speaker}.wav")


def test_folder_scan_reads_labels_and_names_a_file_that_does_not_fit(tmp_path):
    folder = make_folder(tmp_path / "rec")
    recordings = scan_folder(folder)
    assert len(recordings) == 24 and recordings[0] == Recording(
        folder / "0_ann_0.wav", "0", "ann", 0
    )
    write_wav(folder / "stray.wav", torch.zeros(10), 8000)
    with pytest.raises(
        DataError,
        match=r"stray.wav: the file name does not fit the pattern "
        r"'\{label\}_\{speaker\}_\{index\}.wav' \(set --pattern\)$",
    ):
        scan_folder(folder)
    with pytest.raises(DataError, match="empty: no .wav files found$"):
        scan_folder(make_folder(tmp_path / "empty", speakers=()))


def test_manifest_paths_are_relative_and_errors_name_the_line(tmp_path):
    make_folder(tmp_path / "audio", speakers=("ann",), indices=range(2))
    manifest = tmp_path / "list.csv"
    manifest.write_text(
        "path,label,speaker,split\naudio/0_ann_0.wav,zero,ann,test\naudio/1_ann_1.wav,one,ann,\n"
    )
    recordings = read_recordings(manifest, "ignored")
    assert [(r.path, r.label, r.speaker, r.split) for r in recordings] == [
        (tmp_path / "audio/0_ann_0.wav", "zero", "ann", "test"),
        (tmp_path / "audio/1_ann_1.wav", "one", "ann", None),
    ]
    manifest.write_text("path,label\naudio/0_ann_0.wav,zero\naudio/missing.wav,one\n")
    with pytest.raises(
        DataError, match=rf"list.csv: line 3: no such file {tmp_path}/audio/missing.wav$"
    ):
        read_manifest(manifest)
    manifest.write_text("file,label\naudio/0_ann_0.wav,zero\n")
    with pytest.raises(
        DataError,
        match=r"list.csv: no column 'path'; a manifest needs path and label \(found: file, "
        r"label\)$",
    ):
        read_manifest(manifest)
    manifest.write_text("path,label,split\naudio/0_ann_0.wav,zero,dev\n")
    with pytest.raises(DataError, match="line 2: split must be train, valid or test; found 'dev'$"):
        read_manifest(manifest)


def test_index_split_is_fsdds_standard_split(tmp_path):
    recordings = scan_folder(make_folder(tmp_path / "r", indices=range(10)))
    parts = split_recordings(recordings, test_indices="0-4", valid_fraction=0.2, seed=3)
    assert {r.index for r in parts["test"]} == set(range(5)) and len(parts["test"]) == 30
    assert all(r.index >= 5 for r in parts["train"] + parts["valid"]) and len(parts["valid"]) == 6
    paths = [r.path for part in parts.values() for r in part]
    assert len(paths) == len(set(paths)) == 60
    assert (
        split_recordings(recordings, valid_fraction=0.2, seed=3) == parts
    )  # seeded; auto picks index


def test_speaker_split_holds_out_whole_speakers(tmp_path):
    recordings = scan_folder(make_folder(tmp_path / "r"))
    parts = split_recordings(recordings, test_speakers="bob, cy")
    assert {r.speaker for r in parts["test"]} == {"bob", "cy"}
    assert {r.speaker for r in parts["train"] + parts["valid"]} == {"ann"}
    with pytest.raises(
        DataError, match=r"test speakers 'dan': expected names among the speakers \(ann, bob, cy\)$"
    ):
        split_recordings(recordings, test_speakers="dan")


def test_column_and_random_splits(tmp_path):
    make_folder(tmp_path / "a", speakers=("ann",), indices=range(5))
    rows = [
        f"a/{label}_ann_{i}.wav,{label},{'test' if i == 0 else 'valid' if i == 1 else ''}"
        for label in "01"
        for i in range(5)
    ]
    (tmp_path / "m.csv").write_text("path,label,split\n" + "\n".join(rows) + "\n")
    parts = split_recordings(read_manifest(tmp_path / "m.csv"))
    assert [len(parts[n]) for n in ("train", "valid", "test")] == [6, 2, 2]
    random = split_recordings(
        read_manifest(tmp_path / "m.csv"), split="random", test_fraction=0.3, valid_fraction=0.0
    )
    assert [len(random[n]) for n in ("train", "valid", "test")] == [7, 0, 3]
    with pytest.raises(DataError, match="split 'index' needs an {index} in the file-name pattern$"):
        split_recordings(read_manifest(tmp_path / "m.csv"), split="index")


def test_joined_recordings_keep_order_and_gaps_in_range():
    waves = [torch.full((100,), 0.5), torch.full((50,), -0.5)]
    joined = join_recordings(
        waves, 1000, torch.Generator().manual_seed(0), (0.01, 0.02), noise=1e-3
    )
    loud = (joined.abs() > 0.4).nonzero().flatten()
    assert len(loud) == 150 and joined[loud[0]] > 0 and joined[loud[-1]] < 0
    assert 150 + 3 * 10 <= len(joined) <= 150 + 3 * 20
    sequences = draw_sequences(200, 7, 2, 5, torch.Generator().manual_seed(0))
    assert {len(s) for s in sequences} == {2, 3, 4, 5} and all(
        0 <= i < 7 for s in sequences for i in s
    )
    with pytest.raises(DataError, match="1 <= min_words <= max_words; got 3 and 2$"):
        draw_sequences(1, 7, 3, 2, torch.Generator())
