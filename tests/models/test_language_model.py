"""The language model: one-shot forward equals step-by-step generation."""

import pytest
import torch

from rnnkit.models import LanguageModel, LanguageModelConfig


@pytest.mark.parametrize("cell", ["rnn", "rnn_relu", "lstm", "gru"])
def test_step_logits_equal_one_shot_forward(cell):
    check_step_equals_forward(cell, dropout=0.3)


@pytest.mark.parametrize(
    "options",
    [
        {"tie_weights": True, "embedding_size": 6, "input_dropout": 0.2, "weight_drop": 0.3},
        {
            "adaptive_cutoffs": "4,8",
            "hidden_size": 16,
            "layer_dropout": 0.2,
            "output_dropout": 0.2,
        },
    ],
    ids=["tied-projected-awd", "adaptive"],
)
def test_step_equals_forward_with_the_awd_options(options):
    check_step_equals_forward("lstm", **options)


def check_step_equals_forward(cell, **options):
    torch.manual_seed(0)
    model = (
        LanguageModel(
            LanguageModelConfig(
                **{
                    "vocab_size": 11,
                    "cell": cell,
                    "embedding_size": 6,
                    "hidden_size": 8,
                    "num_layers": 2,
                    **options,
                }
            )
        )
        .double()
        .eval()
    )
    tokens = torch.randint(0, 11, (3, 20))
    logits, final = model(tokens)
    if model.adaptive:  # log-probabilities: each row sums to 1
        torch.testing.assert_close(logits.exp().sum(-1), torch.ones(3, 20).double())
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
    assert not hasattr(model, "projection")


def test_weight_tying_with_a_wider_state_projects_down_first():
    torch.manual_seed(0)
    config = LanguageModelConfig(vocab_size=9, embedding_size=4, hidden_size=8, tie_weights=True)
    model = LanguageModel(config).double().eval()
    assert model.head.weight is model.embedding.weight
    tokens = torch.randint(0, 9, (2, 5))
    logits, _ = model(tokens)
    output, _ = model.recurrent(model.embedding(tokens))
    expected = output @ model.projection.weight.T @ model.embedding.weight.T + model.head.bias
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-12)


def small(**options) -> LanguageModel:
    torch.manual_seed(0)
    config = {"vocab_size": 13, "embedding_size": 8, "hidden_size": 8, "num_layers": 2}
    return LanguageModel(LanguageModelConfig(**{**config, **options})).double()


def test_the_token_loss_is_the_negative_log_probability_of_each_target():
    tokens, targets = torch.randint(0, 13, (2, 2, 7))
    for model in (small(), small(adaptive_cutoffs="3,9", hidden_size=16)):
        model.eval()
        (loss, penalty), _ = model(tokens, None, targets)
        logits, _ = model(tokens)
        expected = -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        torch.testing.assert_close(loss.double(), expected, rtol=1e-5, atol=1e-5)
        assert penalty == 0.0  # AR and TAR act only in training


def test_activation_penalties_follow_merity_et_al():
    model = small(activation_penalty=2.0, temporal_penalty=1.0, output_dropout=0.5).train()
    tokens, targets = torch.randint(0, 13, (2, 3, 6))
    torch.manual_seed(5)
    (_, penalty), _ = model(tokens, None, targets)
    torch.manual_seed(5)
    features, output, _ = model.features(tokens)
    expected = 2.0 * features.pow(2).mean() + 1.0 * (output[:, 1:] - output[:, :-1]).pow(2).mean()
    torch.testing.assert_close(penalty.double(), expected)


def test_locked_dropout_keeps_one_mask_for_every_step():
    model = small(input_dropout=0.5).train()
    embedded = model._embed(torch.randint(0, 13, (4, 9)))
    dropped = embedded == 0
    assert dropped.any() and not dropped.all()
    assert (dropped == dropped[:, :1]).all()  # the same features are dropped at every step


def test_embedding_dropout_drops_whole_words():
    model = small(embedding_dropout=0.5).train()
    tokens = torch.tensor([[1, 2, 1, 2, 3, 1]])
    rows = model._embed(tokens)[0]
    zero = (rows == 0).all(-1)
    assert zero.any() and not zero.all()
    assert zero[0] == zero[2] == zero[5] and zero[1] == zero[3]  # a word is dropped everywhere
    assert ((rows == 0).any(-1) == zero).all()  # and only whole


def test_weight_drop_runs_the_fused_kernel_on_dropped_matrices_with_gradients():
    model = small(weight_drop=0.5).float().train()
    tokens, targets = torch.randint(0, 13, (2, 3, 6))
    torch.manual_seed(1)
    (loss, _), _ = model(tokens, None, targets)
    assert model.recurrent.last_path == "fused"
    loss.mean().backward()
    assert model.recurrent.weight_hh_l1.grad.abs().sum() > 0
    weight = model.recurrent.weight_hh_l0.detach().clone()
    torch.manual_seed(1)  # the same mask, by hand
    dropped = torch.nn.functional.dropout(weight, 0.5)
    model.eval()
    with torch.no_grad():
        expected = torch.func.functional_call(
            model.recurrent,
            {
                "weight_hh_l0": dropped,
                "weight_hh_l1": torch.nn.functional.dropout(model.recurrent.weight_hh_l1, 0.5),
            },
            (model.embedding(tokens),),
        )[0]
        plain = model.recurrent(model.embedding(tokens))[0]
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        actual = model._recur(model.embedding(tokens), None)[0]
    torch.testing.assert_close(actual, expected)
    assert not torch.allclose(actual, plain)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"input_dropout": 1.0}, "^input_dropout must be in \\[0, 1\\); got 1.0$"),
        ({"weight_drop": -0.1}, "^weight_drop must be in \\[0, 1\\)"),
        ({"activation_penalty": float("nan")}, "^activation_penalty must be a finite number"),
        ({"dropout": 0.2, "output_dropout": 0.2}, "^dropout \\(per element\\) and the locked"),
        ({"adaptive_cutoffs": "9,3"}, "^adaptive_cutoffs must increase"),
        ({"adaptive_cutoffs": "a,b"}, "^adaptive_cutoffs must be comma-separated integers"),
        ({"adaptive_cutoffs": "3,13"}, "^adaptive_cutoffs must increase, each between 1 and"),
    ],
)
def test_config_errors_name_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        LanguageModelConfig(vocab_size=13, **options)


def test_tying_and_the_adaptive_softmax_cannot_be_combined():
    with pytest.raises(ValueError, match="^tie_weights and adaptive_cutoffs cannot be combined"):
        small(tie_weights=True, adaptive_cutoffs="4")
    with pytest.raises(ValueError) as error:
        small(adaptive_cutoffs="4,8")
    assert str(error.value) == (
        "adaptive_cutoffs: 2 tail clusters shrink the width by 4 each, so they need at least "
        "16 features; got 8"
    )
