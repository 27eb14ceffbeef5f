"""Sampling: filters against hand-computed cases, seeds, greedy decoding."""

import math

import pytest
import torch

from rnnkit.generate import filter_logits, sample
from rnnkit.models import LanguageModel, LanguageModelConfig


def test_top_k_and_top_p_keep_the_right_tokens():
    probabilities = torch.tensor([[0.5, 0.2, 0.15, 0.1, 0.05]])
    logits = probabilities.log()
    kept = lambda out: torch.isfinite(out[0]).nonzero().flatten().tolist()  # noqa: E731
    assert kept(filter_logits(logits, top_k=2)) == [0, 1]
    assert kept(filter_logits(logits, top_p=0.5)) == [0]  # 0.5 alone reaches 0.5
    assert kept(filter_logits(logits, top_p=0.6)) == [0, 1]  # needs 0.5 + 0.2
    assert kept(filter_logits(logits, top_p=0.86)) == [0, 1, 2, 3]
    assert kept(filter_logits(logits, banned=(0,))) == [1, 2, 3, 4]
    scaled = filter_logits(logits, temperature=0.5)
    assert math.isclose(scaled[0, 0].item(), 2 * math.log(0.5), rel_tol=1e-6)


def _model():
    torch.manual_seed(0)
    return LanguageModel(LanguageModelConfig(vocab_size=6, embedding_size=4, hidden_size=8)).eval()


def test_seeded_samples_repeat_and_banned_tokens_never_appear():
    model = _model()
    prompt = torch.tensor([[1, 2, 3]] * 4)
    first = sample(model, prompt, 50, seed=7, banned=(0,))
    again = sample(model, prompt, 50, seed=7, banned=(0,))
    other = sample(model, prompt, 50, seed=8, banned=(0,))
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert (first != 0).all()
    assert not all(torch.equal(first[0], row) for row in first[1:])  # the batch's samples differ


def test_greedy_decoding_follows_the_one_shot_forward():
    model = _model()
    prompt = torch.tensor([[1, 2]])
    out = sample(model, prompt, 10, temperature=0)
    sequence = torch.cat([prompt, out], dim=1)
    logits, _ = model(sequence)
    assert torch.equal(logits[0, 1:-1].argmax(-1), out[0])


def test_sampling_argument_errors():
    with pytest.raises(ValueError, match="^top_p must lie in \\(0, 1\\]; got 1.5$"):
        sample(_model(), torch.tensor([[1]]), 3, top_p=1.5)
    with pytest.raises(
        ValueError,
        match="^temperature must be >= 0 \\(0 = always the most likely token\\); got -1$",
    ):
        sample(_model(), torch.tensor([[1]]), 3, temperature=-1)
