"""``rnnkit diagnose``: gradient diagnostics for a trained lab model or for fresh cells.

- For a run folder written by ``rnnkit compare``: dloss/dh_t by distance for
  the trained weights next to the same model freshly initialised, and the
  gradient norm over its training.
- For ``--cells``: each cell freshly initialised, then trained for a few
  hundred steps twice, with and without gradient clipping, to show the
  gradient norm over training both ways.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from rnnkit.errors import RunFolderError
from rnnkit.fields import AT_LEAST_ONE, NON_NEGATIVE, WIDTH, Range, check_fields
from rnnkit.io import parse_list, write_json
from rnnkit.lab import gradients
from rnnkit.lab.problems import (
    GATE_INITS,
    PROBLEMS,
    ProblemModel,
    ProblemModelConfig,
    ProblemTask,
    parse_cells,
)
from rnnkit.train import RunFolder, TrainConfig, Trainer, resolve_device


@dataclass
class DiagnoseConfig:
    """Fresh cells to diagnose (when no run folder is given)."""

    cells: str = "rnn,lstm,gru"
    """Comma-separated cells: rnn, rnn_relu, lstm, gru, mingru, minlstm."""
    problem: str = "adding"
    """adding or copy."""
    length: int = 200
    """Sequence length T."""
    hidden_size: int = 128
    """Width of every cell's state."""
    steps: int = 300
    """Training steps for the gradient-norm runs (each cell twice: clipped and not)."""
    clip_norm: float = 1.0
    """Clipping threshold of the clipped run."""
    gate_init: str = "chrono"
    """Gate biases of LSTM/GRU: torch, forget1 or chrono."""
    seed: int = 0
    """Seed for weights and data."""

    BOUNDS = {
        "problem": PROBLEMS,
        "length": AT_LEAST_ONE,
        "hidden_size": WIDTH,
        "steps": AT_LEAST_ONE,
        "clip_norm": NON_NEGATIVE,
        "gate_init": GATE_INITS,
        "seed": Range(0, 2**32 - 1),
    }

    def __post_init__(self):
        check_fields(self)
        parse_cells(self.cells)


def diagnose_run(folder, out=None, log=print) -> dict:
    """Gradient diagnostics of a ``compare`` run folder; returns the decay per 100 steps."""
    folder = RunFolder(folder)
    config = folder.read_config()
    if config.get("task") != "lab":
        raise RunFolderError(
            f"{folder.path}: holds a {config.get('task')!r} model; 'rnnkit diagnose' reads the "
            "run folders of 'rnnkit compare' (runs/<problem>-T<length>-<cell>-seed<seed>)"
        )
    model_config = ProblemModelConfig(**config["model"])
    torch.manual_seed(config["train"]["seed"])
    fresh = ProblemModel(model_config)
    trained = ProblemModel(model_config)
    folder.load_model(trained)
    length, problem = model_config.max_length, model_config.problem
    curves = {
        "trained": gradients.gradient_by_distance(trained, problem, length),
        "fresh": gradients.gradient_by_distance(fresh, problem, length),
    }
    out = Path(out or folder.path)
    out.mkdir(parents=True, exist_ok=True)
    title = f"{model_config.cell}, {problem} T={length}"
    gradients.plot_gradient_by_distance(
        curves, out / "gradients.png", f"{title}: gradient reaching h_t"
    )
    gradients.plot_gradient_norms(
        {model_config.cell: gradients.norms_over_training(folder.path)},
        out / "grad_norms.png",
        f"{title}: gradient norm during training",
    )
    decay = {name: gradients.decay_per_100_steps(norms) for name, norms in curves.items()}
    for name, value in decay.items():
        log(f"{title} ({name}): dloss/dh_t shrinks {value:.3g}x over 100 steps")
    log(f"saved {out / 'gradients.png'} and {out / 'grad_norms.png'}")
    return decay


def diagnose_cells(config: DiagnoseConfig, out, log=print, device: str = "auto") -> dict:
    """Fresh cells: gradient by distance at initialisation, and gradient norms over short runs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cells = parse_list(config.cells)
    at_init, norms, decay = {}, {}, {}
    for cell in cells:
        model_config = ProblemModelConfig(
            config.problem, cell, config.hidden_size, config.gate_init, config.length
        )
        torch.manual_seed(config.seed)
        at_init[cell] = gradients.gradient_by_distance(
            ProblemModel(model_config), config.problem, config.length
        )
        decay[cell] = gradients.decay_per_100_steps(at_init[cell])
        log(f"{cell} at initialisation: dloss/dh_t shrinks {decay[cell]:.3g}x over 100 steps")
        for clip in (config.clip_norm, 0.0):
            torch.manual_seed(config.seed)
            model = ProblemModel(model_config)
            train = TrainConfig(
                max_steps=config.steps,
                clip_norm=clip,
                eval_every=config.steps,
                seed=config.seed,
                progress=False,
                device=device,
                warmup_steps=0,
                weight_decay=0.0,
            )
            task = ProblemTask(
                config.problem,
                config.length,
                32,
                config.seed,
                resolve_device(device),
                validation_size=100,
            )
            folder = out / "runs" / f"{cell}-{'clip' if clip else 'noclip'}"
            Trainer(model, task, RunFolder(folder), train).fit()
            norms[f"{cell}, {'clip ' + format(clip, 'g') if clip else 'no clipping'}"] = (
                gradients.norms_over_training(folder)
            )
    title = f"{config.problem}, T={config.length}"
    gradients.plot_gradient_by_distance(
        at_init, out / "gradients_at_init.png", f"{title}: gradient reaching h_t at initialisation"
    )
    gradients.plot_gradient_norms(
        norms, out / "grad_norms.png", f"{title}: gradient norm over {config.steps} steps"
    )
    write_json(
        out / "diagnose.json",
        {
            "config": asdict(config),
            "decay_per_100_steps": decay,
            "gradient_by_distance": {k: v.tolist() for k, v in at_init.items()},
            "grad_norms": norms,
        },
    )
    log(
        f"saved {out / 'gradients_at_init.png'}, {out / 'grad_norms.png'} and "
        f"{out / 'diagnose.json'}"
    )
    return decay
