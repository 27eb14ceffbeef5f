"""``rnnkit compare --task music``: the piano-roll model with each cell at one
parameter budget and the same time budget, scored by test NLL per step (Chung
et al. 2014, Table 2's setting, measured)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnkit.data.music import read_piano_rolls
from rnnkit.errors import DataError
from rnnkit.lab.budget import budgeted_row, budgeted_training, matched_width, parameter_count
from rnnkit.models.music import PianoRollModel, PianoRollModelConfig
from rnnkit.tasks.music import MusicDataConfig, train_music


def marginal_baseline(splits: dict) -> float:
    """NLL per step of the test steps (2 on, as scored) under independent keys that are
    on with their training frequency: the loss of a model that ignores context."""
    train = np.concatenate(splits["train"]).astype(np.float64)
    rate = np.clip(train.mean(0), 1e-4, 1 - 1e-4)
    test = np.concatenate([piece[1:] for piece in splits["test"]]).astype(np.float64)
    return float(-(test * np.log(rate) + (1 - test) * np.log(1 - rate)).sum(1).mean())


def compare_music(config, cells, seeds, out: Path, log) -> list[dict]:
    if not config.data:
        raise DataError(
            "compare --task music needs --data: a piano-roll file such as JSB_Chorales.mat"
        )
    splits = read_piano_rolls(config.data)
    if "test" not in splits or "train" not in splits:
        raise DataError(f"{config.data}: needs train and test pieces")
    baseline = marginal_baseline(splits)

    def shaped(cell: str, width: int) -> PianoRollModelConfig:
        # Chung et al.'s (2014) setting: one sigmoid per key, so the cells are compared alone
        return PianoRollModelConfig(cell=cell, hidden_size=width, output="independent")

    budget = parameter_count(PianoRollModel(shaped("lstm", config.hidden_size)))
    data = MusicDataConfig(data=str(config.data), batch_size=8)
    rows = []
    for cell in cells:
        width = matched_width(lambda w: PianoRollModel(shaped(cell, w)), budget)
        for seed in seeds:
            train = budgeted_training(config, seed, eval_every=100)
            folder = out / "runs" / f"music-{cell}-seed{seed}"
            run, counters = train_music(folder, data, shaped(cell, width), train)
            test = run.evaluate(config.data, "test")["loss"]
            log(f"music {cell} seed {seed}: test {test:.4f} nats/step after {counters.step} steps")
            rows.append(
                budgeted_row("pieces", cell, seed, run.model, counters, test, baseline, folder)
            )
    return rows
