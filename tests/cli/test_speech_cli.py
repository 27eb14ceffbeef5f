"""``rnnkit train speech|transcribe``, ``predict``, ``transcribe`` and ``evaluate``
on speech runs, as a user runs them, with their one-line errors."""

import json

import pytest

from rnnkit.cli import main
from rnnkit.tasks.transcribe import load_transcriber

TINY = [
    "--test-indices",
    "0-2",
    "--hidden-size",
    "8",
    "--max-steps",
    "4",
    "--eval-every",
    "2",
    "--no-progress",
]


@pytest.fixture(scope="module")
def runs(fsdd_slice, tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech")
    speech, ctc = folder / "speech", folder / "ctc"
    assert main(["train", "speech", "--data", str(fsdd_slice), "--out", str(speech), *TINY]) == 0
    assert (
        main(
            [
                "train",
                "transcribe",
                "--data",
                str(fsdd_slice),
                "--out",
                str(ctc),
                "--epoch-sequences",
                "16",
                "--valid-sequences",
                "8",
                "--test-sequences",
                "8",
                "--num-layers",
                "1",
                *TINY,
            ]
        )
        == 0
    )
    return speech, ctc


def test_train_prints_the_test_report_per_speaker(runs, capsys, fsdd_slice):
    speech, _ = runs
    assert main(["evaluate", str(speech), "--data", str(fsdd_slice), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["per_speaker"]) == ["jackson", "nicolas", "theo"] and report["labels"] == [
        "0",
        "1",
        "2",
    ]
    assert main(["evaluate", str(speech), "--data", str(fsdd_slice)]) == 0
    printed = capsys.readouterr().out
    assert (
        printed.startswith(f"{fsdd_slice} (test): accuracy ") and "accuracy per speaker:" in printed
    )
    assert (
        "jackson    " in printed and " 9\n" in printed
    )  # support as a count: 3 digits x indices 0-2


def test_predict_gives_each_files_label_and_probabilities(runs, capsys, fsdd_slice):
    speech, _ = runs
    files = [fsdd_slice / "0_theo_3.wav", fsdd_slice / "2_jackson_0.wav"]
    assert main(["predict", str(speech), *map(str, files), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in rows] == list(map(str, files))
    assert all(set(r["probabilities"]) == {"0", "1", "2"} and r["label"] in "012" for r in rows)
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-5 for r in rows)
    assert main(["predict", str(speech), str(files[0]), "--test-speeds", "0.9,1.1"]) == 0
    label, probability, name = capsys.readouterr().out.strip().split("\t")
    assert label in "012" and 0 < float(probability) <= 1 and name == str(files[0])
    assert main(["predict", str(speech), str(files[0]), "--test-speeds", "fast"]) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: --test-speeds must be comma-separated speeds in [0.25, 4], "
        "e.g. 0.9,1.0,1.1; got 'fast'\n"
    )


def test_transcribe_prints_digit_strings(runs, capsys):
    _, ctc = runs
    example = ctc / "example_test.wav"
    assert main(["transcribe", str(ctc), str(example), "--json", "--beam-width", "4"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["file"] == str(example) and set(result["text"]) <= set("012")
    assert main(["transcribe", str(ctc), str(example)]) == 0
    assert capsys.readouterr().out.endswith(f"\t{example}\n")
    said = (ctc / "example_test.txt").read_text().strip()
    assert 2 <= len(said) <= 5 and set(said) <= set("012")


def test_evaluate_scores_greedy_and_beam_decoding(runs, capsys, fsdd_slice):
    _, ctc = runs
    assert (
        main(["evaluate", str(ctc), "--data", str(fsdd_slice), "--json", "--beam-width", "3"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    run = load_transcriber(ctc)
    sequences = run.sequences(fsdd_slice, "test")
    assert report == {"greedy": run.evaluate(sequences, 1), "beam": run.evaluate(sequences, 3)}
    assert report["beam"]["sequences"] == 8


def test_errors_are_one_line(runs, capsys, tmp_path):
    speech, ctc = runs
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    cases = [
        (
            ["predict", str(speech), str(broken)],
            f"{broken}: corrupt or truncated WAV: no 'fmt ' chunk",
        ),
        (
            ["transcribe", str(speech), str(broken)],
            f"{speech}: holds a 'speech' model; expected a 'transcribe' model",
        ),
        (
            ["predict", str(ctc), str(broken)],
            f"{ctc}: holds a 'transcribe' model, which 'rnnkit predict' does not know; use "
            "'rnnkit transcribe'",
        ),
        (
            ["predict", str(speech), "--input", str(broken)],
            f"{speech}: classifies recordings; give WAV files as arguments (no --input)",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        assert capsys.readouterr().err == f"rnnkit: error: {message}\n"
