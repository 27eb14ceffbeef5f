"""Gradient diagnostics: how far back a loss reaches, and the gradient norm over training.

Vanishing and exploding gradients (Bengio et al. 1994; Pascanu et al. 2013)
are about one quantity: the norm of dloss/dh_t as t moves away from the step
where the loss is read. For a tanh RNN that norm is a product of Jacobians
W_hh^T diag(1 - h^2), which shrinks geometrically when their norm is below 1;
the LSTM's cell state and the GRU's update gate give the gradient a path with
a factor near 1 per step when the gates choose to keep the state.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from rnnkit.io import new_figure, save_figure
from rnnkit.lab.problems import generate, problem_loss
from rnnkit.train.progress import MetricsLog


def gradient_by_distance(
    model, problem: str, length: int, batch: int = 64, seed: int = 0
) -> np.ndarray:
    """Mean over a batch of ||dloss/dh_t||, indexed by distance from the last step
    (``result[0]`` is the last step, ``result[d]`` is d steps before it).

    The loss is the problem's own: the adding problem reads only the last step,
    so every gradient reaching h_t has travelled back ``d`` steps."""
    device = next(model.parameters()).device
    inputs, targets = (
        t.to(device) for t in generate(problem, batch, length, torch.Generator().manual_seed(seed))
    )
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        # One step at a time, so that each h_t is a tensor of the graph: the fused
        # kernels keep the states between steps to themselves.
        x, state, states = model.features(inputs), None, []
        for t in range(x.shape[1]):
            h, state = model.recurrent.step(x[:, t], state)
            h.retain_grad()
            states.append(h)
        problem_loss(problem, model.readout(torch.stack(states, 1)), targets).backward()
    norms = torch.stack([h.grad.float().norm(dim=-1).mean(0) for h in states])  # (time,)
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return norms.flip(0).cpu().numpy()


def decay_per_100_steps(norms: np.ndarray) -> float:
    """How many times smaller dloss/dh_t is 110 steps back than 10 steps back (scaled
    to 100 steps when the sequence is shorter). The first steps are left out:
    next to the loss the gradient also arrives straight from the read-out, and a
    gated cell's first few steps back differ from its steady rate."""
    start = min(10, len(norms) // 4)
    span = min(100, len(norms) - 1 - start)
    if span <= 0:
        return 1.0
    ratio = float(norms[start]) / max(
        float(norms[start + span]), 1e-300
    )  # a vanished gradient is not a crash
    return math.exp(
        min(math.log(max(ratio, 1e-300)) * 100 / span, 700.0)
    )  # capped near 1e304, never inf


def _log_plot(lines: dict, path, title: str, xlabel: str, ylabel: str, **style) -> Path:
    """One PNG with a log-scale line per ``label -> (x, y)``, written to a temporary name, then
    renamed."""
    figure, axis = new_figure(figsize=(7, 4.2))
    for label, (x, y) in lines.items():
        axis.semilogy(x, y, label=label, **style)
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    return save_figure(figure, path, dpi=110)


def plot_gradient_by_distance(curves: dict, path, title: str) -> Path:
    """``curves``: label -> norms by distance. Log scale: geometric decay is a straight line."""
    lines = {
        label: (np.arange(len(norms)), np.maximum(norms, 1e-30)) for label, norms in curves.items()
    }
    return _log_plot(
        lines, path, title, "distance from the loss (steps back)", "mean ||dloss / dh_t||"
    )


def plot_gradient_norms(curves: dict, path, title: str) -> Path:
    """``curves``: label -> (steps, gradient norms before clipping)."""
    return _log_plot(
        curves,
        path,
        title,
        "training step",
        "global gradient norm (before clipping)",
        alpha=0.8,
        linewidth=0.8,
    )


def norms_over_training(folder) -> tuple[list, list]:
    """``(steps, gradient norms before clipping)`` logged in a run folder's metrics."""
    kept = [r for r in MetricsLog(folder).read() if "train_grad_norm" in r]
    return [r["step"] for r in kept], [r["train_grad_norm"] for r in kept]
