"""``rnnkit compare``: each cell at each length under one parameter budget,
trained by the shared trainer, measured side by side.

For every length T the table has, per cell: its width and parameter count
(each cell gets the width whose parameter count is nearest the budget set by
an LSTM of ``hidden_size``), seconds per 1,000 training steps, the final
validation metric against the problem's trivial baseline, and whether the
problem was solved. It is printed and saved as markdown, CSV, JSON and PNG,
next to the gradient diagnostics of every trained model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from rnnkit.io import parse_list
from rnnkit.lab import gradients
from rnnkit.lab.budget import matched_width, parameter_count
from rnnkit.lab.lm import compare_language_models
from rnnkit.lab.music import compare_music
from rnnkit.lab.problems import (
    ProblemModel,
    ProblemModelConfig,
    ProblemTask,
    GATE_INITS,
    baseline,
    parse_cells,
    solved,
)
from rnnkit.lab.report import save_tables
from rnnkit.errors import ConfigError
from rnnkit.fields import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, WIDTH, check_fields
from rnnkit.train import RunFolder, TrainConfig, Trainer, resolve_device

TASKS = ("adding", "copy", "lm", "music")


STEPS_PER_TIME_STEP = 5
"""Default training steps per unit of sequence length, from 1,000 steps up."""


@dataclass
class CompareConfig:
    """What ``rnnkit compare`` trains and measures."""

    task: str = "adding"
    """adding, copy (synthetic long-range problems), lm (char LM on a corpus) or music (piano rolls,
    test NLL per step); lm and music train under a time budget per cell."""
    cells: str = "rnn,lstm,gru"
    """Comma-separated cells: rnn, rnn_relu, lstm, gru, mingru, minlstm."""
    lengths: str = "100,200,400"
    """Comma-separated sequence lengths T (adding and copy)."""
    hidden_size: int = 128
    """Width of the LSTM that sets the parameter budget; every other cell gets the width nearest
    that count."""
    steps: int | None = None
    """Training steps per cell and length (adding and copy); default max(1000, 5 x T): the
    plateau before the adding problem's drop lengthens with T (at T = 400, given 2,000 steps,
    the LSTM left it between steps 400 and 800 in three seeds; given 1,000 it stayed on it).
    lm and music: at most this many steps, within the time budget (default: the budget alone)."""
    batch_size: int = 32
    """Sequences per training step."""
    learning_rate: float | None = None
    """Peak learning rate (AdamW, warm-up, cosine decay); default 1e-2 for adding and copy (the
    adding problem's plateau needs a high one), 2e-3 for lm and music."""
    clip_norm: float = 1.0
    """Gradient-norm clipping; 0 turns it off."""
    gate_init: str = "chrono"
    """Gate biases of LSTM/GRU: torch, forget1 or chrono (Tallec & Ollivier 2018)."""
    seeds: str = "0"
    """Comma-separated seeds; each cell and length is trained once per seed."""
    time_budget: float = 60.0
    """lm and music: seconds of training per cell."""
    data: str | None = None
    """lm: UTF-8 text to train on (default: the bundled tiny Shakespeare); music: a piano-roll file
    (.mat/.json, required)."""
    device: str = "auto"
    """cpu, cuda, or auto."""
    precision: str = "auto"
    """auto (bf16 where the hardware has native bfloat16), fp32 or bf16, as for training."""

    BOUNDS = {
        "task": TASKS,
        "hidden_size": WIDTH,
        "steps": AT_LEAST_ONE,
        "batch_size": AT_LEAST_ONE,
        "learning_rate": POSITIVE,
        "clip_norm": NON_NEGATIVE,
        "gate_init": GATE_INITS,
        "time_budget": POSITIVE,
    }

    def __post_init__(self):
        check_fields(self)
        TrainConfig(device=self.device, precision=self.precision)
        for name in ("lengths", "seeds"):
            if not self.parsed(name) or min(self.parsed(name)) < (1 if name == "lengths" else 0):
                raise ConfigError(
                    name, f"must be comma-separated whole numbers; got {getattr(self, name)!r}"
                )
        parse_cells(self.cells)

    def rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 2e-3 if self.task in ("lm", "music") else 1e-2

    def steps_for(self, length: int) -> int:
        return self.steps if self.steps is not None else max(1000, STEPS_PER_TIME_STEP * length)

    def parsed(self, name: str, kind=int) -> list:
        return parse_list(
            getattr(self, name), kind, name, "100,200,400" if kind is int else "rnn,lstm"
        )


def _train_problem(
    config: CompareConfig, cell: str, length: int, width: int, seed: int, out: Path, log
) -> dict:
    model_config = ProblemModelConfig(config.task, cell, width, config.gate_init, length)
    torch.manual_seed(seed)
    model = ProblemModel(model_config)
    steps = config.steps_for(length)
    train = TrainConfig(
        learning_rate=config.rate(),
        max_steps=steps,
        clip_norm=config.clip_norm,
        eval_every=max(steps // 10, 1),
        seed=seed,
        device=config.device,
        precision=config.precision,
        progress=False,
        warmup_steps=min(100, steps // 10),
        weight_decay=0.0,
    )
    device = resolve_device(config.device)
    task = ProblemTask(config.task, length, config.batch_size, seed, device)
    folder = RunFolder(out / "runs" / f"{config.task}-T{length}-{cell}-seed{seed}")
    saved = {"task": "lab", "model": asdict(model_config), "train": asdict(train)}
    trainer = Trainer(model, task, folder, train, on_start=lambda: folder.write_config(saved))
    counters = trainer.fit()
    folder.load_model(model)  # the best weights
    model.eval()
    with (
        torch.no_grad(),
        trainer.autocast(),
    ):  # in the training precision: bf16-trained models differ in fp32
        final = task.evaluate(model)
    norms = gradients.gradient_by_distance(model, config.task, length, seed=seed)
    log(
        f"{config.task} T={length} {cell} seed {seed}: loss {final['loss']:.4g} "
        f"(baseline {baseline(config.task, length):.4g}) in {counters.elapsed:.0f} s"
    )
    return {
        "T": length,
        "cell": cell,
        "seed": seed,
        "hidden_size": width,
        "parameters": parameter_count(model),
        "seconds_per_1k_steps": 1000 * counters.elapsed / max(counters.step, 1),
        "metric": final["loss"],
        "baseline": baseline(config.task, length),
        "solved": solved(config.task, final),
        "gradient_decay_per_100_steps": gradients.decay_per_100_steps(norms),
        "_norms": norms,
        "_folder": folder.path,
    }


def compare(config: CompareConfig, out, log=print) -> list[dict]:
    """Runs the comparison into the folder ``out``; returns one row per run."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cells, seeds = config.parsed("cells", str), config.parsed("seeds")
    if config.task == "lm":
        rows = compare_language_models(config, cells, seeds, out, log)
    elif config.task == "music":
        rows = compare_music(config, cells, seeds, out, log)
    else:
        rows = []
        for length in config.parsed("lengths"):
            budget = parameter_count(
                ProblemModel(ProblemModelConfig(config.task, "lstm", config.hidden_size))
            )
            for cell in cells:
                width = matched_width(
                    lambda w: ProblemModel(ProblemModelConfig(config.task, cell, w)), budget
                )
                rows += [
                    _train_problem(config, cell, length, width, seed, out, log) for seed in seeds
                ]
            _plot_length(rows, length, config, out)
    save_tables(rows, config, out, log)
    return rows


def _plot_length(rows, length, config: CompareConfig, out: Path) -> None:
    """Per length: dloss/dh_t by distance for each trained cell, and its gradient norm over
    training."""
    mine = [r for r in rows if r["T"] == length and r["seed"] == rows[-1]["seed"]]
    gradients.plot_gradient_by_distance(
        {r["cell"]: r["_norms"] for r in mine},
        out / f"gradients_T{length}.png",
        f"{config.task}, T={length}: gradient reaching h_t (trained models)",
    )
    curves = {row["cell"]: gradients.norms_over_training(row["_folder"]) for row in mine}
    gradients.plot_gradient_norms(
        curves,
        out / f"grad_norms_T{length}.png",
        f"{config.task}, T={length}: gradient norm during training (clip at {config.clip_norm:g})",
    )
