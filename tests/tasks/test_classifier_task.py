"""Classification end to end: learn, save/load/predict, resume, embeddings, numeric sequences."""

import json
import random

import pytest
import torch

from rnnkit.errors import DataError
from rnnkit.models.classifier import ClassifierConfig
from rnnkit.tasks.classifier import (
    ClassifierTask,
    ClassifyDataConfig,
    load_classifier,
    train_classifier,
)
from rnnkit.train import TrainConfig

POSITIVE, NEGATIVE = ["great", "superb", "moving", "fun"], ["dull", "awful", "boring", "flat"]
FILLER = [
    "the",
    "film",
    "a",
    "plot",
    "was",
    "and",
    "acting",
    "story",
    "it",
    "is",
    "quite",
    "ending",
]


def _write_reviews(path, count, seed, labels=("pos", "neg")):
    rng = random.Random(seed)
    lines = ["text\tlabel"]
    for _ in range(count):
        label = rng.choice(labels)
        words = rng.choices(FILLER, k=rng.randint(2, 12))
        words.insert(
            rng.randint(0, len(words)), rng.choice(POSITIVE if label == "pos" else NEGATIVE)
        )
        lines.append(f"{' '.join(words)}\t{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


SMALL = dict(embedding_size=16, hidden_size=16, dropout=0.1, embedding_dropout=0.1)


def _train(tmp_path, name="run", data=None, model=None, **train_options):
    data = data or ClassifyDataConfig(
        train=str(_write_reviews(tmp_path / "train.tsv", 400, 0)), batch_size=16
    )
    # fp32 on every CPU: --precision auto trains in bf16 where the CPU has AVX-512 BF16 and in
    # fp32 elsewhere, and the accuracy floors below must hold on both kinds
    options = dict(
        max_steps=60,
        eval_every=20,
        warmup_steps=5,
        progress=False,
        seed=0,
        learning_rate=1e-2,
        precision="fp32",
    )
    options.update(train_options)
    on_step = options.pop("on_step", None)
    return train_classifier(
        tmp_path / name,
        data,
        model or ClassifierConfig(**SMALL),
        TrainConfig(**options),
        log=lambda message: None,
        on_step=on_step,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The default small training, once for the tests that only read it: ``(folder, run,
    report)``."""
    root = tmp_path_factory.mktemp("classify")
    run, _, report = _train(root)
    return root / "run", run, report


def test_learns_saves_loads_and_predicts_identically(trained, tmp_path):
    folder, run, report = trained
    assert (
        report["accuracy"] >= 0.95 and sum(c["support"] for c in report["per_class"].values()) == 40
    )
    assert (folder / "confusion_dev.png").is_file()
    texts = ["a great film", "the plot was dull and flat", "superb"]
    first = run.predict(texts)
    assert [r["label"] for r in first] == ["pos", "neg", "pos"]
    again = load_classifier(folder).predict(texts)
    assert again == first  # bit-identical probabilities after a reload (the same code path)
    config = json.loads((folder / "config.json").read_text())
    assert config["task"] == "classify" and config["data"]["labels"] == ["neg", "pos"]


def test_evaluate_reports_metrics_and_rejects_unknown_labels(trained, tmp_path):
    _, run, _ = trained
    test_file = _write_reviews(tmp_path / "test.tsv", 100, 5)
    report = run.evaluate(test_file, plot=tmp_path / "cm.png")
    assert report["accuracy"] >= 0.95 and (tmp_path / "cm.png").is_file()
    assert sum(map(sum, report["confusion_matrix"])) == 100
    neutral = _write_reviews(tmp_path / "neutral.tsv", 30, 6, labels=("pos", "neutral"))
    with pytest.raises(DataError) as error:
        run.evaluate(neutral)
    assert "label 'neutral' was not among the training labels (neg, pos)" in str(error.value)
    assert str(error.value).startswith(f"{neutral}: line ")


def test_resume_is_bit_identical(trained, tmp_path):
    # the trained fixture is the whole run: the same data, model and steps as "split" below

    def interrupt(trainer, loss):
        if trainer.counters.step == 33:  # mid-epoch (23 batches per epoch), between validations
            trainer.stop_requested = True

    _, counters, _ = _train(tmp_path, "split", on_step=interrupt)
    assert counters.stopped_because == "interrupted"
    _, counters, _ = train_classifier(
        tmp_path / "split",
        resume=True,
        train=TrainConfig(max_steps=60, progress=False),
        log=lambda message: None,
    )
    assert counters.step == 60
    whole, split = (
        load_classifier(folder).model.state_dict() for folder in (trained[0], tmp_path / "split")
    )
    assert all(torch.equal(whole[k], split[k]) for k in whole)


def test_class_weights_are_balanced():
    labels = torch.tensor([0, 0, 0, 1])
    task = ClassifierTask(
        ([torch.ones(1)] * 4, labels), None, 2, 2, 0, torch.device("cpu"), class_weights=True
    )
    assert torch.allclose(task.weight, torch.tensor([4 / 6, 2.0]))  # n / (classes * count)


def test_pretrained_embeddings_are_loaded_and_can_stay_frozen(tmp_path):
    vectors = {
        word: [random.Random(i).uniform(-1, 1) for _ in range(6)] for i, word in enumerate(POSITIVE)
    }
    glove = tmp_path / "glove.txt"
    glove.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()))
    data = ClassifyDataConfig(
        train=str(_write_reviews(tmp_path / "train.tsv", 200, 0)), embeddings=str(glove)
    )
    messages = []
    run, _, _ = train_classifier(
        tmp_path / "run",
        data,
        ClassifierConfig(**SMALL, freeze_embeddings=True),
        TrainConfig(max_steps=5, progress=False),
        log=messages.append,
    )
    assert run.model.config.embedding_size == 6
    assert "4 of 20 vocabulary words found (20.0%)" in messages[0]
    vocabulary = run.encoder.vocabulary
    for word, vector in vectors.items():
        assert torch.allclose(
            run.model.embedding.weight[vocabulary.index[word]], torch.tensor(vector)
        )


def test_numeric_sequences_from_a_ts_file(tmp_path):
    rng = random.Random(0)
    lines = ["@dimensions 2", "@classLabel true up down", "@data"]
    for _ in range(200):
        label = rng.choice(["up", "down"])
        steps = rng.randint(5, 15)
        slope = 1 if label == "up" else -1
        first = ",".join(f"{slope * t / steps + rng.gauss(0, 0.3):.3f}" for t in range(steps))
        second = ",".join(f"{rng.gauss(0, 1):.3f}" for _ in range(steps))
        lines.append(f"{first}:{second}:{label}")
    path = tmp_path / "trend.ts"
    path.write_text("\n".join(lines) + "\n")
    data = ClassifyDataConfig(train=str(path), batch_size=16)
    run, _, report = _train(
        tmp_path, data=data, model=ClassifierConfig(**SMALL, cell="gru", pooling="mean")
    )
    assert run.model.config.input_size == 2 and run.encoder is None
    assert report["accuracy"] >= 0.9
    assert run.predict([torch.tensor([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])])[0]["label"] == "up"


def test_select_by_accuracy_keeps_the_most_accurate_weights(tmp_path):
    _, counters, report = _train(tmp_path, select_by="accuracy")
    records = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    accuracies = {r["step"]: r["val_accuracy"] for r in records if "val_accuracy" in r}
    assert counters.best_step == max(accuracies, key=lambda step: (accuracies[step], -step))
    assert -counters.best_score == max(accuracies.values())
    with pytest.raises(ValueError) as error:
        _train(tmp_path, "other", select_by="perplexity")
    assert (
        str(error.value)
        == "select_by must be one of loss, accuracy, macro_f1, macro_recall for this task; "
        "got 'perplexity'"
    )
