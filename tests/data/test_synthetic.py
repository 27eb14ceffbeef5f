"""The adding and copy problems: layout and baselines."""

import math

import torch
from torch.nn import functional as F

from rnnkit.data.synthetic import ADDING_BASELINE_MSE, adding_problem, copy_baseline, copy_memory


def test_adding_problem_layout_and_baseline():
    inputs, targets = adding_problem(20000, 50, torch.Generator().manual_seed(0))
    values, markers = inputs[..., 0], inputs[..., 1]
    assert inputs.shape == (20000, 50, 2) and markers.sum(1).eq(2).all()
    assert markers[:, :25].sum(1).eq(1).all() and markers[:, 25:].sum(1).eq(1).all()
    assert torch.allclose((values * markers).sum(1), targets)
    assert abs(F.mse_loss(torch.ones_like(targets), targets).item() - ADDING_BASELINE_MSE) < 0.005


def test_copy_memory_layout_and_baseline():
    inputs, targets = copy_memory(4, 30, torch.Generator().manual_seed(0))
    assert inputs.shape == targets.shape == (4, 50)
    assert inputs[:, :10].ge(1).all() and inputs[:, :10].le(8).all()
    assert inputs[:, 10:39].eq(0).all() and inputs[:, 39].eq(9).all() and inputs[:, 40:].eq(0).all()
    assert targets[:, :40].eq(0).all() and torch.equal(targets[:, 40:], inputs[:, :10])
    # The baseline strategy: certain blanks, then uniform over the 8 symbols.
    logits = torch.full((4, 50, 9), -1e9)
    logits[:, :40, 0] = 0
    logits[:, 40:, 1:] = 0
    loss = F.cross_entropy(logits.reshape(-1, 9), targets.reshape(-1)).item()
    assert math.isclose(loss, copy_baseline(30), rel_tol=1e-6)
    assert math.isclose(copy_baseline(30), 10 * math.log(8) / 50)
