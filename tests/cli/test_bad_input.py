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
