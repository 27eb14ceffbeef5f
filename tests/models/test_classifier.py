"""The classifier: padding never changes a row's result, for every pooling and cell."""

import pytest
import torch

from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier


def _model(**options):
    torch.manual_seed(0)
    config = ClassifierConfig(
        **{"vocab_size": 50, "num_classes": 3, "embedding_size": 8, "hidden_size": 12, **options}
    )
    return SequenceClassifier(config).double().eval()


def _batch():
    generator = torch.Generator().manual_seed(1)
    lengths = torch.tensor([7, 3, 5, 1])
    tokens = torch.randint(2, 50, (4, 7), generator=generator)
    tokens[torch.arange(7) >= lengths[:, None]] = 0
    return tokens, lengths


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize(
    "cell,bidirectional,layers",
    [("lstm", True, 2), ("gru", False, 1), ("rnn", True, 1), ("mingru", True, 1)],
)
def test_batch_with_lengths_equals_each_row_alone(pooling, cell, bidirectional, layers):
    model = _model(pooling=pooling, cell=cell, bidirectional=bidirectional, num_layers=layers)
    tokens, lengths = _batch()
    together = model(tokens, lengths)
    for row, length in enumerate(lengths.tolist()):
        alone = model(tokens[row : row + 1, :length])
        assert torch.allclose(together[row], alone[0], atol=1e-10), (pooling, cell, row)


def test_lengths_run_the_fused_kernel():
    model = _model(cell="lstm", bidirectional=True)
    model(*_batch())
    assert model.recurrent.last_path == "fused"


def test_padding_without_lengths_changes_results():
    # The check above is not vacuous: ignoring lengths does change the padded rows.
    model = _model(pooling="mean")
    tokens, lengths = _batch()
    assert not torch.allclose(model(tokens, lengths)[1], model(tokens)[1])


def test_numeric_input_and_shapes():
    torch.manual_seed(0)
    model = SequenceClassifier(ClassifierConfig(input_size=4, num_classes=5, hidden_size=6)).eval()
    logits = model(torch.randn(3, 9, 4), torch.tensor([9, 2, 5]))
    assert logits.shape == (3, 5)
    assert not hasattr(model, "embedding")


def test_frozen_embeddings_and_pretrained_rows():
    model = _model(freeze_embeddings=True)
    assert not model.embedding.weight.requires_grad
    vectors = torch.randn(2, 8, dtype=torch.float64)
    model.load_pretrained(vectors, torch.tensor([5, 7]))
    assert torch.equal(model.embedding.weight[5], vectors[0]) and torch.equal(
        model.embedding.weight[7], vectors[1]
    )


def test_config_errors():
    with pytest.raises(ValueError) as error:
        ClassifierConfig(pooling="sum")
    assert (
        str(error.value) == "pooling must be one of 'last', 'mean', 'max', 'attention'; got 'sum'"
    )
    with pytest.raises(ValueError) as error:
        SequenceClassifier(ClassifierConfig(vocab_size=10, input_size=3))
    assert str(error.value) == (
        "set exactly one of vocab_size (text) and input_size (numeric sequences); got 10 and 3"
    )


def test_word_dropout_only_in_training():
    model = _model(word_dropout=0.5, embedding_dropout=0.0, dropout=0.0)
    tokens, lengths = _batch()
    seen = []
    model.recurrent.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
    model.train()
    model(tokens, lengths)
    unknown = model.embedding.weight[1]
    replaced = (seen[0] == unknown).all(-1) & (tokens != 0)
    assert 0 < replaced.sum() < (tokens != 0).sum()  # some words, never padding, became <unk>
    model.eval()
    assert torch.equal(model(tokens, lengths), model(tokens, lengths))
