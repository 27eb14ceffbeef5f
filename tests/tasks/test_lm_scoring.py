"""The neural cache and dynamic evaluation (rnnkit.tasks.lm_scoring) against references written
token by token in float64, on a seeded random model."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.models.language_model import LanguageModel, LanguageModelConfig
from rnnkit.tasks.lm_scoring import CacheConfig, DynamicConfig, cache_losses, dynamic_losses

VOCAB = 12


@pytest.fixture
def model():
    torch.manual_seed(0)
    config = LanguageModelConfig(
        vocab_size=VOCAB, embedding_size=8, hidden_size=16, num_layers=1, dropout=0.0
    )
    return LanguageModel(config).double().eval()


@pytest.fixture
def ids():
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, VOCAB, (47,), generator=generator)
    ids[[5, 20]] = 0  # id 0 (padding, an unknown token) is read but never scored
    return ids


def _cache_reference(model, ids, config: CacheConfig) -> tuple[float, int]:
    """Grave et al. (2017) eq. 2-3, one token at a time over the whole stream: the state of
    every earlier position i within the window votes theta * h_t . h_i for the word after it."""
    with torch.no_grad():
        features, _, _ = model.features(ids[:-1].unsqueeze(0))
        logits = model.head(features[0]).double()
    states, targets = features[0].double(), ids[1:]
    total, count = 0.0, 0
    for t in range(len(targets)):
        p_model = torch.softmax(logits[t], -1)[targets[t]].item()
        earlier = list(range(max(0, t - config.window), t))
        if earlier:
            scores = torch.stack([config.theta * states[t] @ states[i] for i in earlier])
            attention = torch.softmax(scores, 0)
            cache = sum(a.item() for a, i in zip(attention, earlier) if targets[i] == targets[t])
            p = (1 - config.weight) * p_model + config.weight * cache
        else:
            p = p_model
        if targets[t] != 0:
            total, count = total - math.log(p), count + 1
    return total, count


@pytest.mark.parametrize("window,seq_len", [(7, 10), (500, 100), (1, 3)])
def test_the_cache_equals_a_token_by_token_reference(model, ids, window, seq_len):
    config = CacheConfig(window=window, theta=0.9, weight=0.3)
    total, count = cache_losses(model, ids, config, seq_len=seq_len)
    expected, expected_count = _cache_reference(model, ids, config)
    assert count == expected_count == 44  # 46 targets, 2 of them id 0
    # the cache runs in float32 (the states and the attention, as on a GPU), the reference in
    # float64: a sum of 44 terms of size ~2.5 agrees to about 1e-7 relative
    assert total == pytest.approx(expected, rel=1e-6)


def test_a_cache_of_weight_zero_is_the_model_alone(model, ids):
    total, count = cache_losses(model, ids, CacheConfig(weight=0.0), seq_len=10)
    with torch.no_grad():
        (losses, _), _ = model(ids[:-1].unsqueeze(0), None, ids[1:].unsqueeze(0))
    assert total == pytest.approx(losses[0][ids[1:] != 0].sum().item(), rel=1e-6)  # float32


def test_a_repeated_text_is_scored_better_with_the_cache(model):
    phrase = torch.tensor([3, 7, 1, 9, 4, 4, 2, 8])
    ids = phrase.repeat(6)
    static, _ = cache_losses(model, ids, CacheConfig(weight=0.0))
    cached, _ = cache_losses(model, ids, CacheConfig(window=100, theta=5.0, weight=0.5))
    assert cached < 0.9 * static  # measured 0.86 of it


def _static_loss(model, ids) -> float:
    with torch.no_grad():
        (losses, _), _ = model(ids[:-1].unsqueeze(0), None, ids[1:].unsqueeze(0))
    return losses[0][ids[1:] != 0].sum().item()


def _dynamic_reference(model, ids, config: DynamicConfig) -> float:
    """Krause et al. (2018) section 5 by hand: score a segment, then one SGD step on its loss,
    then pull every weight back towards the trained one by ``decay``."""
    import copy

    adapted = copy.deepcopy(model)
    trained = {name: p.detach().clone() for name, p in adapted.named_parameters()}
    total, state = 0.0, None
    for start in range(0, len(ids) - 1, config.seq_len):
        stop = min(start + config.seq_len, len(ids) - 1)
        inputs, targets = ids[start:stop].unsqueeze(0), ids[start + 1 : stop + 1].unsqueeze(0)
        (losses, _), state = adapted(inputs, state, targets)
        loss = losses[targets != 0].sum()
        total += loss.item()
        gradients = torch.autograd.grad(loss, list(adapted.parameters()), allow_unused=True)
        with torch.no_grad():
            for (name, p), g in zip(adapted.named_parameters(), gradients):
                moved = p - config.learning_rate * g if g is not None else p.clone()
                p.copy_(moved + config.decay * (trained[name] - moved))
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    return total


def test_dynamic_evaluation_equals_a_reference_and_leaves_the_model_alone(model, ids):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = DynamicConfig(learning_rate=0.05, decay=0.02, seq_len=9)
    total, count = dynamic_losses(model, ids, config)
    assert count == 44
    assert total == pytest.approx(_dynamic_reference(model, ids, config), rel=1e-9)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    # scored before it learns: the first segment's loss is the trained model's
    first, _ = dynamic_losses(model, ids[:10], config)
    assert first == pytest.approx(_static_loss(model, ids[:10]), rel=1e-12)


def test_dynamic_evaluation_learns_a_repeated_text(model):
    ids = torch.tensor([3, 7, 1, 9, 4, 4, 2, 8]).repeat(8)
    adapted, _ = dynamic_losses(model, ids, DynamicConfig(learning_rate=0.1, decay=0.0, seq_len=8))
    assert adapted < 0.92 * _static_loss(model, ids)  # measured 0.886 of it
