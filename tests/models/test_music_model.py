"""The piano-roll model: one-shot forward against step-by-step, and sampling."""

import itertools

import pytest
import torch
from torch.nn import functional as F

from rnnkit.models.music import PianoRollModel, PianoRollModelConfig, sample_step
from rnnkit.sampling import UniformNoise


@pytest.mark.parametrize("output", ["independent", "made"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "mingru"])
def test_stepping_matches_the_one_shot_forward(cell, output):
    torch.manual_seed(0)
    config = PianoRollModelConfig(
        cell=cell, hidden_size=24, num_layers=2, dropout=0.2, output=output, output_size=40
    )
    model = PianoRollModel(config).eval()
    rolls = (torch.rand(3, 12, 88) < 0.1).float()
    targets = (torch.rand(3, 12, 88) < 0.1).float()
    together, _ = model(rolls, targets=targets)
    state, steps = None, []
    for t in range(12):
        if output == "independent":
            logits, state = model.step(rolls[:, t], state)
        else:
            features, state = model.step_features(rolls[:, t], state)
            logits = model.head(features, targets[:, t])
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


def _conditional_model(output, keys=6):
    torch.manual_seed(7)
    config = PianoRollModelConfig(keys=keys, hidden_size=16, output=output, output_size=12)
    return PianoRollModel(config).double().eval()


@pytest.mark.parametrize("output", ["made", "nade"])
def test_the_conditional_output_is_a_distribution_over_whole_steps(output):
    """Summed over all 2^keys steps, the conditional logits give probability one; each key's
    logit depends only on the keys below it."""
    model = _conditional_model(output)
    features, _ = model.features((torch.rand(1, 4, 6) < 0.5).double())
    frames = torch.tensor(list(itertools.product([0.0, 1.0], repeat=6)), dtype=torch.float64)
    logits = model.head(features[0, 2].expand(len(frames), -1), frames)
    nll = F.binary_cross_entropy_with_logits(logits, frames, reduction="none").sum(-1)
    assert abs(torch.exp(-nll).sum().item() - 1) < 1e-12
    flipped = frames.clone()
    flipped[:, 3] = 1 - flipped[:, 3]
    changed = model.head(features[0, 2].expand(len(frames), -1), flipped) != logits
    assert not changed[:, :4].any() and changed[:, 4:].any()


@pytest.mark.parametrize("output", ["made", "nade"])
def test_conditional_sampling_draws_steps_with_their_probabilities(output):
    model = _conditional_model(output, keys=4)
    features, _ = model.features((torch.rand(1, 3, 4) < 0.5).double())
    feature = features[0, -1]
    frames = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)), dtype=torch.float64)
    logits = model.head(feature.expand(len(frames), -1), frames)
    probabilities = torch.exp(
        -F.binary_cross_entropy_with_logits(logits, frames, reduction="none").sum(-1)
    )
    draws = 40000
    uniform = torch.from_numpy(UniformNoise(3, (draws, 4))[0]).double()
    sampled = model.sample_next(feature.expand(draws, -1), 1.0, uniform)
    codes = (sampled * torch.tensor([8.0, 4.0, 2.0, 1.0], dtype=torch.float64)).sum(-1).long()
    frequencies = torch.bincount(codes, minlength=16).double() / draws
    assert (frequencies - probabilities).abs().max() < 0.01


def test_the_conditional_output_needs_the_next_steps_and_has_no_independent_step():
    model = _conditional_model("made")
    rolls = torch.zeros(1, 3, 6, dtype=torch.float64)
    with pytest.raises(ValueError, match="^the made output scores given steps: pass targets"):
        model(rolls)
    with pytest.raises(ValueError, match="^step\\(\\) gives the independent output's logits"):
        model.step(rolls[:, 0])
    features, state = model.step_features(rolls[:, 0])
    assert features.shape == (1, 16)
