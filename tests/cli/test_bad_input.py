"""Bad input at the command line: one line from rnnkit that names the flag, the file or the
folder, never a traceback and never a silent acceptance."""

import json

import pytest

from rnnkit.cli import main
from rnnkit.data import BUNDLED_CORPUS
from tests.cli.test_cli import TINY as CLI_TINY

TINY = [*CLI_TINY, "--sample-length", "0"]


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "text.txt"
    path.write_text(BUNDLED_CORPUS.read_text()[:4000])
    return path


def error_of(capsys, argv) -> str:
    """The one line ``rnnkit: error: ...`` that ``argv`` prints, with exit status 2."""
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    assert status == 2, f"{argv} exited {status}"
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


def test_flags_out_of_range_name_the_flag(tmp_path, text, capsys):
    lm = ["train", "lm", "--data", str(text), "--out", str(tmp_path / "r")]
    cases = [
        (lm + ["--seq-len", "-4"], "rnnkit: error: --seq-len must be >= 2; got -4"),
        (
            lm + ["--learning-rate", "nan"],
            "rnnkit: error: --learning-rate must be a finite number; got nan",
        ),
        (lm + ["--hidden-size", "0"], "rnnkit: error: --hidden-size must be in [1, 65536]; got 0"),
        (
            lm + ["--cell", "lstn"],
            "rnnkit: error: --cell must be one of 'rnn', 'lstm', 'gru', "
            "'mingru', 'minlstm', 'rnn_relu'; got 'lstn'",
        ),
        (
            [
                "train",
                "forecast",
                "--data",
                str(text),
                "--out",
                str(tmp_path / "f"),
                "--horizon",
                "0",
            ],
            "rnnkit: error: --horizon must be in [1, 1048576]; got 0",
        ),
        (
            [
                "train",
                "classify",
                "--train",
                str(text),
                "--out",
                str(tmp_path / "c"),
                "--dev-fraction",
                "1.5",
            ],
            "rnnkit: error: --dev-fraction must be in (0, 1); got 1.5",
        ),
    ]
    for argv, expected in cases:
        assert error_of(capsys, argv) == expected
    assert not (tmp_path / "r").exists(), "nothing is written for a refused command"


def test_command_arguments_are_checked(tmp_path, capsys):
    for argv, flag, expected in [
        (["generate", "runs/x", "--length", "-5"], "--length", "must be in [1, 10000000]; got -5"),
        (["generate", "runs/x", "--temperature", "inf"], "--temperature", "expected a finite"),
        (["predict", "runs/x", "a", "--top-k", "0"], "--top-k", "must be >= 1; got 0"),
        (["generate", "runs/x", "--top-p", "0"], "--top-p", "must be in (0, 1]; got 0"),
        (["generate", "runs/x", "--seed", "-1"], "--seed", "must be in [0, 4294967295]; got -1"),
        (
            ["evaluate", "runs/x", "--data", "a", "--cache-lambda", "2"],
            "--cache-lambda",
            "must be in [0, 1]; got 2",
        ),
    ]:
        line = error_of(capsys, argv)
        assert f"argument {flag}: {expected}" in line, line


def test_files_and_folders_in_the_wrong_place(tmp_path, text, capsys):
    (tmp_path / "file").write_text("x")
    line = error_of(
        capsys,
        [
            "train",
            "lm",
            "--data",
            str(text),
            "--out",
            str(tmp_path / "file"),
            "--max-steps",
            "1",
            *TINY,
        ],
    )
    assert (
        line == f"rnnkit: error: {tmp_path / 'file'}: is a file, not a folder; give --out a "
        "new folder or a run folder"
    )
    line = error_of(
        capsys,
        [
            "train",
            "lm",
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "r"),
            "--max-steps",
            "1",
            *TINY,
        ],
    )
    assert line == f"rnnkit: error: {tmp_path}: is a directory; expected a UTF-8 text file (or .gz)"


@pytest.fixture(scope="module")
def run(tmp_path_factory, text):
    out = tmp_path_factory.mktemp("resume") / "run"
    assert (
        main(["train", "lm", "--data", str(text), "--out", str(out), "--max-steps", "5", *TINY])
        == 0
    )
    return out


def test_resume_refuses_changed_model_flags_and_lists_them(run, text, capsys):
    line = error_of(
        capsys,
        [
            "train",
            "lm",
            "--data",
            str(text),
            "--out",
            str(run),
            "--resume",
            "--hidden-size",
            "32",
            "--seed",
            "3",
            "--max-steps",
            "8",
        ],
    )
    assert line == (
        f"rnnkit: error: {run}: resuming continues the saved run, but --hidden-size 32 (the run "
        "has 16), --seed 3 (the run has 0); drop them, or train into a new folder"
    )
    assert json.loads((run / "state.json").read_text())["counters"]["step"] == 5


def test_resume_says_what_it_changed(run, text, capsys, tmp_path):
    moved = tmp_path / "moved.txt"  # the same data under another name is the same data
    moved.write_bytes(text.read_bytes())
    assert (
        main(
            [
                "train",
                "lm",
                "--data",
                str(moved),
                "--out",
                str(run),
                "--resume",
                "--learning-rate",
                "0.001",
                "--max-steps",
                "7",
                "--no-progress",
                "--sample-length",
                "0",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "resuming with learning_rate 0.001 (the run had 0.002)" in err
    assert "resuming with max_steps 7 (the run had 5)" in err
    assert json.loads((run / "state.json").read_text())["counters"]["step"] == 7


def test_a_config_that_no_longer_fits_the_weights(run, capsys, tmp_path):
    config = json.loads((run / "config.json").read_text())
    config["model"]["hidden_size"] = 24
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in run.iterdir():
        if path.is_file():
            (broken / path.name).write_bytes(path.read_bytes())
    (broken / "config.json").write_text(json.dumps(config))
    line = error_of(capsys, ["generate", str(broken), "--length", "5"])
    assert line.startswith(
        f"rnnkit: error: {broken / 'model.safetensors'}: the weights do not "
        "fit the model config.json describes: "
    )


LONG_NAME = "x" * 5000
"""Longer than any file system's name limit (255 bytes a part, 4096 a path)."""
LONG_TEXT = " ".join(["good"] * 20000)


def test_empty_and_overlong_paths_get_one_line_on_every_command(runs, tmp_path, capsys):
    cases = [
        (["predict", "", "hello"], "rnnkit: error: an empty folder name; give a run folder"),
        (["serve", ""], "rnnkit: error: an empty folder name; give run or export folders"),
        (
            ["train", "lm", "--data", "", "--out", str(tmp_path / "r")],
            "rnnkit: error: --data is an empty file name; give a file, or leave it out",
        ),
        (
            ["predict", str(runs["speech"]), ""],
            "rnnkit: error: an empty file name; expected a WAV file",
        ),
        (
            ["transcribe", str(runs["transcribe"]), LONG_NAME],
            f"rnnkit: error: {LONG_NAME[:57]}...: not a usable file name (File name too long); "
            "expected a WAV file",
        ),
        (
            ["evaluate", str(runs["lm"]), "--data", LONG_NAME],
            f"rnnkit: error: {LONG_NAME[:57]}...: not a usable file name (File name too long); "
            "expected a UTF-8 text file (or .gz)",
        ),
        (
            ["predict", LONG_NAME, "hello"],
            f"rnnkit: error: {LONG_NAME[:77]}...: File name too long",
        ),
        (
            ["export", str(runs["lm"]), "--out", LONG_NAME],
            f"rnnkit: error: {LONG_NAME[:77]}...: File name too long",
        ),
    ]
    for argv, expected in cases:
        assert error_of(capsys, argv) == expected, argv


def test_texts_are_inputs_never_file_names(runs, capsys):
    """An empty text is refused in one line; a text of 20,000 words is answered (it is never
    looked up as a path: 'File name too long' was the old answer)."""
    for name in ("classify", "word_lm", "lm"):
        assert error_of(capsys, ["predict", str(runs[name]), "a fine film", ""]).startswith(
            "rnnkit: error: "
        )
    assert error_of(capsys, ["predict", str(runs["classify"]), "ok", " "]) == (
        "rnnkit: error: input 1 is empty (' '); give a text to classify"
    )
    assert error_of(capsys, ["predict", str(runs["word_lm"]), ""]) == (
        "rnnkit: error: the text is empty (''); give a text to continue"
    )
    for name in ("classify", "word_lm"):
        assert main(["predict", str(runs[name]), LONG_TEXT, "--json"]) == 0
        (line,) = capsys.readouterr().out.splitlines()
        assert json.loads(line)["input"] == LONG_TEXT
