"""Several training processes: torchrun + DDP (gloo on this CPU) against one process.

Each test starts real processes through the command line, as a user would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.data import BUNDLED_CORPUS
from rnnkit.train.distributed import Processes

TORCHRUN = [
    sys.executable,
    "-m",
    "torch.distributed.run",
    "--standalone",
    "--nproc-per-node",
    "2",
    "-m",
    "rnnkit",
]
ALONE = [sys.executable, "-m", "rnnkit"]


def _run(command, timeout=240):
    environment = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=environment
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _validation(folder: Path, name: str) -> list[float]:
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [r[name] for r in records if name in r]


def _complete_lines(path: Path) -> int:
    """Lines written so far by a run that is still writing (the last may be partial)."""
    return path.read_text().count("\n") if path.exists() else 0


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, read from /proc (no pgrep needed)."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("this test reads processes from /proc, which this system lacks")
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def _processes_naming(text: str) -> list[int]:
    """The processes whose command line holds ``text``, read from /proc (as ``pgrep -f``)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def _losses(folder: Path) -> list[float]:
    return [
        json.loads(line)["train_loss"]
        for line in (folder / "metrics.jsonl").read_text().splitlines()
        if "train_loss" in line
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "text.txt"
    path.write_text(BUNDLED_CORPUS.read_text()[:30000])
    return path


def _lm(out, corpus, steps=20):
    return [
        "train",
        "lm",
        "--data",
        str(corpus),
        "--out",
        str(out),
        "--hidden-size",
        "32",
        "--batch-size",
        "8",
        "--seq-len",
        "32",
        "--max-steps",
        str(steps),
        "--eval-every",
        "10",
        "--sample-length",
        "0",
        "--seed",
        "3",
        "--no-progress",
        # exact comparisons: in bf16 (auto on CPUs with AVX-512 BF16) the losses differ by ~2e-5
        "--precision",
        "fp32",
    ]


@pytest.fixture(scope="module")
def two_process_lm(tmp_path_factory, corpus):
    """The LM trained 20 steps by two processes (no decay, so that the schedule does not depend
    on the limit): one launch that two tests read."""
    out = tmp_path_factory.mktemp("two") / "run"
    _run(TORCHRUN + _lm(out, corpus) + ["--decay", "none"])
    return out


def test_two_processes_follow_one_process_on_the_lm(tmp_path, corpus, two_process_lm):
    _run(ALONE + _lm(tmp_path / "one", corpus) + ["--decay", "none"])
    one, two = _losses(tmp_path / "one"), _losses(two_process_lm)
    assert len(one) == len(two) == 20
    assert np.abs(np.array(one) - np.array(two)).max() < 1e-5
    # Validation is sharded over the ranks (streams) and summed: the same numbers.
    one, two = (_validation(folder, "val_loss") for folder in (tmp_path / "one", two_process_lm))
    assert len(one) == len(two) == 2 and np.abs(np.array(one) - np.array(two)).max() < 1e-5
    config = json.loads((two_process_lm / "config.json").read_text())
    assert config["data"]["batch_size"] == 8  # the global batch


def test_two_processes_follow_one_process_on_the_classifier(tmp_path, shared_data):
    lines = (shared_data / "sst2" / "dev.tsv").read_text().splitlines()
    train, dev = tmp_path / "train.tsv", tmp_path / "dev.tsv"
    train.write_text("\n".join(lines[:301]) + "\n")
    dev.write_text("\n".join(lines[:1] + lines[301:401]) + "\n")

    def command(out):
        return [
            "train",
            "classify",
            "--train",
            str(train),
            "--dev",
            str(dev),
            "--out",
            str(out),
            "--max-steps",
            "20",
            "--eval-every",
            "10",
            "--batch-size",
            "30",
            "--hidden-size",
            "16",
            "--embedding-size",
            "16",
            "--num-layers",
            "1",
            "--dropout",
            "0",
            "--embedding-dropout",
            "0",
            "--no-progress",
            "--precision",
            "fp32",
        ]

    _run(ALONE + command(tmp_path / "one"))
    _run(TORCHRUN + command(tmp_path / "two"))
    one, two = _losses(tmp_path / "one"), _losses(tmp_path / "two")
    assert len(one) == len(two) == 20
    assert np.abs(np.array(one) - np.array(two)).max() < 1e-5
    for name in ("val_loss", "val_accuracy"):  # sharded examples, gathered probabilities
        one, two = (_validation(tmp_path / run, name) for run in ("one", "two"))
        assert len(one) == len(two) == 2 and np.abs(np.array(one) - np.array(two)).max() < 1e-5


def _resume(out, steps):
    return [
        "train",
        "lm",
        "--out",
        str(out),
        "--resume",
        "--max-steps",
        str(steps),
        "--sample-length",
        "0",
        "--no-progress",
    ]


def test_two_processes_resume_exactly_and_one_process_goes_on(
    tmp_path, corpus, two_process_lm
):
    """Stopped by --max-steps 10 and resumed to 20, against the unbroken run."""
    _run(TORCHRUN + _lm(tmp_path / "split", corpus, steps=10) + ["--decay", "none"])
    _run(TORCHRUN + _resume(tmp_path / "split", 20))
    whole, split = _losses(two_process_lm), _losses(tmp_path / "split")
    assert np.abs(np.array(whole) - np.array(split)).max() < 1e-6
    # Checkpointed by two processes, resumed by one: the global batch is the same.
    _run(ALONE + _resume(tmp_path / "split", 25))
    assert len(_losses(tmp_path / "split")) == 25


@pytest.mark.parametrize("task", ["forecast", "music", "speech", "transcribe"])
def test_every_task_trains_on_two_processes(tmp_path, task, shared_data, fsdd_slice):
    commands = {
        "forecast": [
            "--data",
            str(shared_data / "classic_timeseries" / "airline-passengers.csv"),
            "--target",
            "Passengers",
            "--lookback",
            "24",
            "--horizon",
            "6",
            "--hidden-size",
            "8",
            "--segment-length",
            "6",
        ],
        "music": [
            "--data",
            str(shared_data / "jsb_chorales" / "jsb-chorales-quarter.json"),
            "--hidden-size",
            "16",
        ],
        "speech": ["--data", str(fsdd_slice), "--test-indices", "0-2", "--hidden-size", "16"],
        "transcribe": [
            "--data",
            str(fsdd_slice),
            "--test-indices",
            "0-2",
            "--hidden-size",
            "16",
            "--epoch-sequences",
            "16",
            "--valid-sequences",
            "8",
            "--test-sequences",
            "8",
            "--batch-size",
            "8",
            "--workers",
            "1",
        ],
    }
    out = tmp_path / task
    _run(
        TORCHRUN
        + [
            "train",
            task,
            "--out",
            str(out),
            "--max-steps",
            "4",
            "--eval-every",
            "2",
            "--no-progress",
            *commands[task],
        ],
        timeout=400,
    )
    state = json.loads((out / "state.json").read_text())
    assert state["counters"]["step"] == 4 and state["counters"]["world_size"] == 2
    assert (out / "model.safetensors").is_file() and len(_losses(out)) == 4


def test_a_killed_rank_ends_the_run_with_a_message(tmp_path, corpus):
    """``rnnkit train ... --nproc-per-node 2`` as a user starts it; one rank is killed."""
    out = tmp_path / "run"
    command = ALONE + _lm(out, corpus, steps=100000) + ["--nproc-per-node", "2"]
    launcher = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _complete_lines(out / "metrics.jsonl") < 3:
        time.sleep(0.5)
    (torchrun,) = _children(launcher.pid)
    workers = _children(torchrun)
    assert len(workers) == 2, workers
    os.kill(workers[-1], signal.SIGKILL)
    _, stderr = launcher.communicate(timeout=120)
    assert launcher.returncode != 0
    assert stderr.splitlines()[-1].startswith(
        f"rnnkit: error: a training process failed (torchrun exited with {launcher.returncode}; "
    ), stderr[-3000:]


def test_a_global_batch_is_shared_in_equal_rows():
    batch = (torch.arange(10).view(5, 2), torch.arange(5), [0, 1, 2, 3, 4], np.arange(5))
    parts = [Processes(rank, 2).shard(batch) for rank in range(2)]
    assert [p[1].tolist() for p in parts] == [[0, 1, 2], [3, 4]]
    assert [p[2] for p in parts] == [[0, 1, 2], [3, 4]]
    assert torch.equal(torch.cat([p[0] for p in parts]), batch[0])
    assert np.array_equal(np.concatenate([p[3] for p in parts]), batch[3])
    assert Processes(0, 1).shard(batch) is batch


def test_ctrl_c_on_the_launcher_saves_once_and_every_rank_stops(tmp_path, corpus):
    """``rnnkit train ... --nproc-per-node 2`` as a user starts it; Ctrl-C reaches the
    whole process group, as a terminal sends it."""
    out = tmp_path / "run"
    command = ALONE + _lm(out, corpus, steps=100000) + ["--nproc-per-node", "2"]
    launcher = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _complete_lines(out / "metrics.jsonl") < 3:
        time.sleep(0.3)
    os.killpg(launcher.pid, signal.SIGINT)
    _, stderr = launcher.communicate(timeout=120)
    assert (out / "state.json").is_file(), stderr[-3000:]
    step = json.loads((out / "state.json").read_text())["counters"]["step"]
    assert step == len(_losses(out)) >= 3, stderr[-3000:]  # saved where both ranks stopped
    assert stderr.count(f"interrupted at step {step}; saved {out}") == 1, stderr[-3000:]
    assert _processes_naming(str(out)) == []  # no rank is left running


def test_a_nan_on_any_rank_makes_every_rank_stop():
    """The per-step all-reduce carries each rank's loss sum: one NaN makes the global loss
    NaN on every rank, and each raises TrainingDiverged at the same step."""
    import math

    from rnnkit.train import Counters, Trainer

    class TwoRanks(Processes):
        def reduce(self, values, device, op=None):
            other_rank = [3.0, float("nan"), 0.0, 0.0]  # items, loss sum, Ctrl-C, clock
            return [mine + theirs for mine, theirs in zip(values, other_rank)]

    trainer = Trainer.__new__(Trainer)
    trainer.processes, trainer.stop_requested, trainer.counters = TwoRanks(0, 2), False, Counters()
    trainer.device = torch.device("cpu")
    value, total, weight = trainer._agree(torch.tensor(0.5), 5, 12.0)
    assert math.isnan(value) and total == 8 and weight == 5 * 2 / 8
    assert trainer.counters.elapsed == 12.0 and trainer.stop_requested is False
