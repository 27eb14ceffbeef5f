"""The language model: one-shot forward equals step-by-step generation."""

import pytest
import torch

from rnnkit.models import LanguageModel, LanguageModelConfig


@pytest.mark.parametrize("cell", ["rnn", "rnn_relu", "lstm", "gru"])
def test_step_logits_equal_one_shot_forward(cell):
    torch.manual_seed(0)
    model = (
        LanguageModel(
            LanguageModelConfig(
                vocab_size=11, cell=cell, embedding_size=6, hidden_size=8, num_layers=2, dropout=0.3
            )
        )
        .double()
        .eval()
    )
    tokens = torch.randint(0, 11, (3, 20))
    logits, final = model(tokens)
    for name, step in (("step", model.step), ("stepper", model.stepper())):
        state, steps = None, []
        for t in range(tokens.shape[1]):
            step_logits, state = step(tokens[:, t], state)
            steps.append(step_logits)
        torch.testing.assert_close(torch.stack(steps, 1), logits, rtol=0, atol=1e-12, msg=name)


def test_weight_tying():
    model = LanguageModel(
        LanguageModelConfig(vocab_size=9, embedding_size=8, hidden_size=8, tie_weights=True)
    )
    assert model.head.weight is model.embedding.weight
    with pytest.raises(
        ValueError, match="^tie_weights needs embedding_size == hidden_size; got 4 and 8$"
    ):
        LanguageModel(
            LanguageModelConfig(vocab_size=9, embedding_size=4, hidden_size=8, tie_weights=True)
        )
