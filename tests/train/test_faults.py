"""Fault injection: training killed with SIGKILL at random moments (mid-checkpoint included)
leaves a folder that loads, generates and resumes; a NaN mid-run stops the run with the last
good checkpoint intact."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rnnkit.data import BUNDLED_CORPUS
from tests.cli.test_cli import TINY
from rnnkit.errors import TrainingDiverged
from rnnkit.tasks.language_model import TextDataConfig, load_language_model, train_language_model
from rnnkit.train import TrainConfig
from rnnkit.models import LanguageModelConfig

# A checkpoint at every step, so that many kills land inside a save.
COMMAND = [
    "train",
    "lm",
    *TINY,
    "--eval-every",
    "1",
    "--sample-length",
    "0",
    "--max-steps",
    "100000",
]


def _step(out: Path) -> int:
    try:
        return json.loads((out / "state.json").read_text())["counters"]["step"]
    except (OSError, ValueError, KeyError):
        return -1


def kill_once(out: Path, text: Path, rng: random.Random, during_startup: bool = False) -> dict:
    """Starts (or resumes) the training and kills it with SIGKILL: at a random moment of its
    start-up, or a random 0-1.5 s after it has made progress (with a save at every step, often
    inside one). Then, if the folder holds a run (config.json), it must load and generate;
    the next call resumes it, and a folder that cannot resume fails there."""
    resume = (out / "config.json").is_file()
    argv = [sys.executable, "-m", "rnnkit", *COMMAND, "--data", str(text), "--out", str(out)]
    before = _step(out)
    process = subprocess.Popen(
        argv + (["--resume"] if resume else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if during_startup:
        delay = rng.uniform(0.2, 2.0)
    else:
        waited = time.monotonic()
        while _step(out) <= before and process.poll() is None:
            if time.monotonic() - waited > 120:
                break
            time.sleep(0.05)
        delay = rng.uniform(0.0, 1.5)
    try:
        process.wait(timeout=delay)
        stderr = process.stderr.read()
        raise AssertionError(f"training exited by itself ({process.returncode}): {stderr[-2000:]}")
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
    outcome = {"resumed": resume, "run": (out / "config.json").is_file(), "step": _step(out)}
    if outcome["run"]:
        run = load_language_model(out)
        text = run.generate("T", 8, seed=0)  # 8 characters of the corpus' alphabet, reproducibly
        outcome["generated"] = (
            len(text) == 8
            and not run.codec.unknown(text)
            and text == load_language_model(out).generate("T", 8, seed=0)
        )
    return outcome


def test_sigkill_at_random_moments_leaves_a_folder_that_loads_and_resumes(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text(BUNDLED_CORPUS.read_text()[:20_000])
    rng = random.Random(0)
    outcomes = [kill_once(tmp_path / "run", text, rng, during_startup=True)]
    outcomes += [kill_once(tmp_path / "run", text, rng) for _ in range(5)]
    runs = [o for o in outcomes if o["run"]]
    assert len(runs) >= 5 and all(o["generated"] for o in runs), outcomes
    assert sum(o["resumed"] for o in outcomes) >= 4, outcomes
    steps = [o["step"] for o in runs]
    assert steps == sorted(steps) and steps[-1] > steps[0], f"each resume went on: {steps}"
    leftovers = [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]
    assert all(name == ".lock" or name.endswith(".tmp") for name in leftovers), leftovers


def test_a_nan_mid_run_stops_it_with_the_last_good_checkpoint_intact(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text(BUNDLED_CORPUS.read_text()[:4000])
    data = TextDataConfig(data=str(text), batch_size=4, seq_len=16)
    model = LanguageModelConfig(hidden_size=16, embedding_size=8)

    def poison(trainer, loss):
        if trainer.counters.step == 7:
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(math.nan)

    with pytest.raises(TrainingDiverged, match=r"the training loss became nan at step 8; stopped"):
        train_language_model(
            tmp_path / "run",
            data,
            model,
            TrainConfig(max_steps=20, eval_every=3, progress=False),
            on_step=poison,
        )
    assert json.loads((tmp_path / "run" / "state.json").read_text())["counters"]["step"] == 6
    run = load_language_model(tmp_path / "run")
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    _, counters = train_language_model(
        tmp_path / "run", train=TrainConfig(max_steps=9), resume=True
    )
    assert counters.step == 9
    assert not os.path.exists(tmp_path / "run" / ".lock")
