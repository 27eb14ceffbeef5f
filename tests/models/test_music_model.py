"""The piano-roll model: one-shot forward against step-by-step, and sampling."""

import pytest
import torch

from rnnkit.models.music import PianoRollModel, PianoRollModelConfig, sample_step
from rnnkit.sampling import UniformNoise


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "mingru"])
def test_stepping_matches_the_one_shot_forward(cell):
    torch.manual_seed(0)
    model = PianoRollModel(
        PianoRollModelConfig(cell=cell, hidden_size=24, num_layers=2, dropout=0.2)
    ).eval()
    rolls = (torch.rand(3, 12, 88) < 0.1).float()
    together, _ = model(rolls)
    state, steps = None, []
    for t in range(12):
        logits, state = model.step(rolls[:, t], state)
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), together, atol=1e-5, rtol=0)


def test_sampling_follows_the_probabilities_and_the_temperature():
    noise = UniformNoise(0, (20000, 2))
    logits = torch.full((20000, 2), 0.0)
    logits[:, 1] = 2.0  # sigmoid(2) = 0.881
    draws = sample_step(logits, 1.0, torch.from_numpy(noise[0]))
    assert draws[:, 0].mean().item() == pytest.approx(0.5, abs=0.02)
    assert draws[:, 1].mean().item() == pytest.approx(0.881, abs=0.01)
    cooler = sample_step(logits, 0.5, torch.from_numpy(noise[1]))  # sigmoid(4) = 0.982
    assert cooler[:, 1].mean().item() == pytest.approx(0.982, abs=0.005)
