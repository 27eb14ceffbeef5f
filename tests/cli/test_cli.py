"""The CLI as a user runs it: train, generate, evaluate, errors and Ctrl-C."""

import json
import signal
import subprocess
import sys
import time

import pytest

from rnnkit.cli import main
from rnnkit.data import BUNDLED_CORPUS

TINY = [
    "--batch-size",
    "4",
    "--seq-len",
    "16",
    "--hidden-size",
    "16",
    "--embedding-size",
    "8",
    "--eval-every",
    "5",
    "--no-progress",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    text = folder / "text.txt"
    text.write_text(BUNDLED_CORPUS.read_text()[:5000])
    out = folder / "run"
    assert (
        main(
            [
                "train",
                "lm",
                "--data",
                str(text),
                "--out",
                str(out),
                "--max-steps",
                "10",
                "--sample-length",
                "20",
                *TINY,
            ]
        )
        == 0
    )
    return out, text


def test_train_writes_the_run_folder(trained, capsys):
    out, _ = trained
    names = {p.name for p in out.iterdir()}
    pair = json.loads((out / "state.json").read_text())["files"]
    assert pair == {
        "weights": "last-10-" + pair["weights"][8:],
        "state": "state-10-" + pair["state"][9:],
    }
    assert {
        "config.json",
        "model.safetensors",
        pair["weights"],
        "state.json",
        pair["state"],
        "metrics.jsonl",
        "learning_curve.png",
        "tensorboard",
    } <= names
    assert not {n for n in names if n.startswith((".", "last.", "state."))} - {"state.json"}
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "lm" and config["model"]["hidden_size"] == 16
    assert len(config["data"]["vocabulary"]["characters"]) + 1 == config["model"]["vocab_size"]


def test_generate_is_seeded_and_batched(trained, capsys):
    out, _ = trained
    assert main(["generate", str(out), "--prompt", "ROMEO:", "--length", "40", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert main(["generate", str(out), "--prompt", "ROMEO:", "--length", "40", "--seed", "3"]) == 0
    assert capsys.readouterr().out == first and len(first.rstrip("\n")) >= 40
    assert (
        main(
            [
                "generate",
                str(out),
                "--length",
                "10",
                "--num-samples",
                "3",
                "--top-k",
                "5",
                "--top-p",
                "0.9",
                "--temperature",
                "0.7",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.count("--- sample") == 3


def test_evaluate_json(trained, capsys):
    out, text = trained
    assert main(["evaluate", str(out), "--data", str(text), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {"loss", "bits_per_char", "perplexity", "chars", "unknown_chars"}
    assert abs(metrics["bits_per_char"] * 0.6931471805599453 - metrics["loss"]) < 1e-9


def _error(argv, capsys):
    assert main(argv) == 2
    return capsys.readouterr().err.strip()


def test_bad_files_get_one_line_errors(tmp_path, capsys, trained):
    out, _ = trained
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    base = ["train", "lm", "--out", str(tmp_path / "x"), "--max-steps", "1", *TINY]
    assert (
        _error([*base, "--data", str(empty)], capsys)
        == f"rnnkit: error: {empty}: the file is empty; expected UTF-8 text"
    )
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert _error([*base, "--data", str(binary)], capsys) == (
        f"rnnkit: error: {binary}: line 3, column 1: found a NUL byte; expected UTF-8 text, not a "
        "binary file"
    )
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    assert _error([*base, "--data", str(latin)], capsys) == (
        f"rnnkit: error: {latin}: line 1, column 4: byte 0xe9 is not valid UTF-8; expected UTF-8 "
        "text"
    )
    short = tmp_path / "short.txt"
    short.write_text("To be, or not to be: that is the question. Whether 'tis no\n")
    assert _error([*base, "--data", str(short)], capsys) == (
        f"rnnkit: error: {short}: the training split has 53 tokens; one batch of 4 streams x 16 "
        "steps needs at least 68: "
        "use a longer file or a smaller --batch-size/--seq-len"
    )
    assert _error(["generate", str(out), "--prompt", "ü€"], capsys) == (
        "rnnkit: error: the prompt has characters the model never saw in training: 'ü€'"
    )
    assert (
        _error(["generate", str(tmp_path / "none")], capsys)
        == f"rnnkit: error: {tmp_path / 'none'}: no such run folder"
    )


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["train", "lm", "--help"])
    text = capsys.readouterr().out
    assert (
        "examples:" in text
        and "--hidden-size" in text
        and "Width of each recurrent layer's state" in text
    )


def _losses_by_step(folder) -> dict[int, float]:
    """step -> training loss; a step logged twice (run again after a kill) keeps the later."""
    records = map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())
    return {r["step"]: r["train_loss"] for r in records if "train_loss" in r}


def _train_command(out, text, *flags) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rnnkit.cli",
        "train",
        "lm",
        "--data",
        str(text),
        "--out",
        str(out),
        *TINY[:-3],  # the sizes, with validation every 10 steps
        "--eval-every",
        "10",
        "--precision",
        "fp32",
        "--sample-length",
        "0",
        # a constant rate after warm-up: the schedule must not depend on --max-steps, which
        # differs between the unbroken run and the one that is stopped
        "--decay",
        "none",
        *flags,
    ]


def _interrupt(out, text, sig, after_step: int) -> subprocess.CompletedProcess:
    """Starts a long training, sends ``sig`` once ``after_step`` steps are logged."""
    process = subprocess.Popen(
        _train_command(out, text, "--max-steps", "100000", "--no-progress"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        logged = (out / "metrics.jsonl").exists() and _losses_by_step(out)
        if logged and max(logged) >= after_step:
            break
        time.sleep(0.05)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_resume_after_a_real_signal_gives_the_losses_of_an_unbroken_run(tmp_path, sig):
    """Every step's loss after ``--resume`` equals the unbroken run's: Ctrl-C saves where it
    stops; a kill loses the steps after the last checkpoint, and the resumed run does them
    again. Same machine, same threads and fp32 on both sides, so the same arithmetic; the
    tolerance only spares the comparison a JSON round trip of the floats."""
    text = tmp_path / "text.txt"
    text.write_text(BUNDLED_CORPUS.read_text()[:5000])
    whole = subprocess.run(
        _train_command(tmp_path / "whole", text, "--max-steps", "40", "--no-progress"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert whole.returncode == 0, whole.stderr
    expected = _losses_by_step(tmp_path / "whole")
    assert sorted(expected) == list(range(1, 41))
    out = tmp_path / "broken"
    stopped = _interrupt(out, text, sig, after_step=14)
    if sig == signal.SIGINT:
        assert stopped.returncode == 130, stopped.stderr
        assert "interrupted at step" in stopped.stderr and "--resume" in stopped.stderr
        state = json.loads((out / "state.json").read_text())
        assert state["counters"]["stopped_because"] == "interrupted"
    else:
        assert stopped.returncode == -signal.SIGKILL
    resumed = subprocess.run(
        _train_command(out, text, "--resume", "--max-steps", "40", "--no-progress"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "state.json").read_text())["counters"]["step"] == 40
    losses = _losses_by_step(out)
    assert sorted(losses) == sorted(expected)
    assert [losses[step] for step in sorted(losses)] == pytest.approx(
        [expected[step] for step in sorted(expected)], rel=1e-6
    )


def test_resume_refuses_a_data_file_whose_content_changed(trained, tmp_path, capsys):
    import shutil

    run, text = trained
    copy, data = tmp_path / "run", tmp_path / "text.txt"
    shutil.copytree(run, copy)
    shutil.copy(text, data)
    config = json.loads((copy / "config.json").read_text())
    config["data"]["data"] = str(data)
    (copy / "config.json").write_text(json.dumps(config))
    data.write_text(text.read_text().replace("e", "E", 1))  # one character changed
    assert main(["train", "lm", "--out", str(copy), "--resume", "--max-steps", "12"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"rnnkit: error: {data}: changed since {copy} was trained; resuming needs the same data"
    )
