"""The language model: one-shot forward equals step-by-step generation."""

import pytest
import torch

from rnnkit.models import LanguageModel, LanguageModelConfig


@pytest.mark.parametrize("cell", ["rnn", "rnn_relu", "lstm", "gru"])
def test_step_logits_equal_one_shot_forward(cell):
    torch.manual_seed(0)
    model = LanguageModel(LanguageModelConfig(vocab_size=11, cell=cell, embedding_size=6, hidden_size=8,
                                              num_layers=2, dropout=0.3)).double().eval()
    tokens = torch.randint(0, 11, (3, 20))
    logits, final = model(tokens)
    state, steps = None, []
    for t in range(tokens.shape[1]):
        step_logits, state = model.step(tokens[:, t], state)
        steps.append(step_logits)
    torch.testing.assert_close(torch.stack(steps, 1), logits, rtol=0, atol=1e-12)
    assert model._projection_cache is not None  # the lookup-table path ran


def test_projection_table_follows_weight_updates():
    torch.manual_seed(1)
    model = LanguageModel(LanguageModelConfig(vocab_size=7, hidden_size=5, embedding_size=4)).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    tokens = torch.randint(0, 7, (2, 6))
    model.eval()
    model.step(tokens[:, 0])  # fills the cache
    model.train()
    model(tokens)[0].sum().backward()
    optimizer.step()
    model.eval()
    torch.testing.assert_close(model.step(tokens[:, 0])[0], model(tokens[:, :1])[0][:, 0], rtol=0, atol=1e-12)


def test_weight_tying():
    model = LanguageModel(LanguageModelConfig(vocab_size=9, embedding_size=8, hidden_size=8, tie_weights=True))
    assert model.head.weight is model.embedding.weight
    with pytest.raises(ValueError, match="^tie_weights needs embedding_size == hidden_size; got 4 and 8$"):
        LanguageModel(LanguageModelConfig(vocab_size=9, embedding_size=4, hidden_size=8, tie_weights=True))
