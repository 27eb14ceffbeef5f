"""ULMFiT: a classifier started from a word LM, discriminative rates and gradual unfreezing."""

import pytest
import torch

from rnnkit.errors import DataError
from rnnkit.models import LanguageModelConfig
from rnnkit.models.classifier import ClassifierConfig
from rnnkit.tasks.classifier import ClassifyDataConfig, train_classifier
from rnnkit.tasks.language_model import TextDataConfig, train_language_model
from rnnkit.train import TrainConfig
from tests.tasks.test_classifier_task import _write_reviews


@pytest.fixture(scope="module")
def word_lm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transfer")
    reviews = _write_reviews(folder / "reviews.tsv", 300, 1)
    text = folder / "text.txt"
    text.write_text(
        "".join(line.split("\t")[0] + "\n" for line in reviews.read_text().splitlines())
    )
    run, _ = train_language_model(
        folder / "lm",
        TextDataConfig(data=str(text), tokenizer="word", batch_size=4, seq_len=10),
        LanguageModelConfig(embedding_size=8, hidden_size=12, num_layers=2, weight_drop=0.2),
        TrainConfig(max_steps=10, progress=False),
    )
    return folder, run


def _classify_recording_rates(folder, name, steps, unfreeze_every):
    """Trains with rate 1e-2 halved per group down; returns the run and each step's rates."""
    rates = {}

    def look(trainer, loss):
        rates[trainer.counters.step] = [group["lr"] for group in trainer.optimizer.param_groups]

    run, _, _ = _classify(
        folder,
        name,
        on_step=look,
        steps=steps,
        learning_rate=1e-2,
        layer_lr_decay=2.0,
        unfreeze_every=unfreeze_every,
        decay="none",
    )
    return run, rates


def _classify(folder, name, on_step=None, steps=6, **train_options):
    data = ClassifyDataConfig(
        train=str(_write_reviews(folder / "train.tsv", 200, 0)),
        batch_size=16,
        encoder=str(folder / "lm"),
    )
    options = dict(max_steps=steps, eval_every=100, progress=False, warmup_steps=0)
    options.update(train_options)
    return train_classifier(
        folder / name,
        data,
        ClassifierConfig(),
        TrainConfig(**options),
        log=lambda message: None,
        on_step=on_step,
    )


def test_the_classifier_starts_from_the_language_model(word_lm):
    folder, lm = word_lm
    run, rates = _classify_recording_rates(folder, "frozen", steps=3, unfreeze_every=100)
    config = run.config_of("model")
    assert (config.cell, config.embedding_size, config.hidden_size, config.num_layers) == (
        "lstm",
        8,
        12,
        2,
    )
    assert not config.bidirectional
    # The vocabulary is the language model's: the same ids for the same words.
    assert run.encoder.vocabulary.tokens == lm.tokenizer.tokens
    # Only the top group (the output layer) has trained: the embedding and both recurrent
    # layers are still exactly the language model's.
    torch.testing.assert_close(run.model.embedding.weight, lm.model.embedding.weight)
    for name, value in lm.model.recurrent.state_dict().items():
        torch.testing.assert_close(run.model.recurrent.state_dict()[name], value)
    assert rates[1] == rates[3] == [1e-2, 0.0, 0.0, 0.0]


def test_gradual_unfreezing_and_discriminative_rates(word_lm):
    folder, lm = word_lm
    run, rates = _classify_recording_rates(folder, "thawing", steps=7, unfreeze_every=2)
    # Step s (1-based) ran with the rates of step index s - 1: one more group every 2 steps,
    # each group half as fast as the one above.
    assert rates[1] == [1e-2, 0.0, 0.0, 0.0]
    assert rates[3] == [1e-2, 5e-3, 0.0, 0.0]
    assert rates[5] == [1e-2, 5e-3, 2.5e-3, 0.0]
    assert rates[7] == [1e-2, 5e-3, 2.5e-3, 1.25e-3]
    assert not torch.equal(run.model.embedding.weight, lm.model.embedding.weight)


def test_encoder_errors_are_one_line(tmp_path, word_lm):
    folder, _ = word_lm
    char = tmp_path / "char"
    text = tmp_path / "text.txt"
    text.write_text("some characters to read " * 40)
    train_language_model(
        char,
        TextDataConfig(data=str(text), batch_size=2, seq_len=8),
        LanguageModelConfig(embedding_size=4, hidden_size=4),
        TrainConfig(max_steps=1, progress=False),
    )
    data = ClassifyDataConfig(
        train=str(_write_reviews(tmp_path / "t.tsv", 50, 0)), encoder=str(char)
    )
    with pytest.raises(DataError) as error:
        train_classifier(tmp_path / "run", data, log=lambda message: None)
    assert str(error.value) == (
        f"{char}: --encoder needs a word-level language model (rnnkit train lm --tokenizer "
        "word); this one reads char tokens"
    )
