"""Defaults are the measured recipes: what a user gets from the command line and
from Python when giving only the data."""

from __future__ import annotations

import io

import pytest

from rnnkit.cli import _parser
from rnnkit.cli.arguments import build_config, train_config
from rnnkit.tasks import classifier, music
from rnnkit.tasks.common import start_run
from rnnkit.tasks.language_model import load_language_model


def _parse(argv):
    return _parser().parse_args(argv)


def test_classify_defaults_are_the_sst2_recipe(capsys):
    args = _parse(["train", "classify", "--train", "t.tsv", "--out", "runs/x"])
    model = build_config(classifier.ClassifierConfig, args, classifier.RECIPE.model_defaults)
    train = train_config(args, classifier.RECIPE)
    # BENCHMARKS.md: --num-layers 2 --hidden-size 128 --embedding-size 128 --embedding-dropout 0.5
    # --weight-decay 0.1 --epochs 10, selected by accuracy
    assert (model.num_layers, model.hidden_size, model.embedding_size) == (2, 128, 128)
    assert (model.embedding_dropout, model.dropout, model.bidirectional) == (0.5, 0.5, True)
    assert (train.weight_decay, train.epochs, train.select_by, train.learning_rate) == (
        0.1,
        10.0,
        "accuracy",
        2e-3,
    )
    assert "no limit given: training for 10 epochs" in capsys.readouterr().err
    # Python gets the same recipe when it gives only the data.
    start = start_run(classifier.RECIPE, "runs/x", classifier.ClassifyDataConfig(train="t.tsv"))
    assert start.model == model and start.train == train


def test_a_given_limit_replaces_the_recipes_limits():
    args = _parse(["train", "classify", "--train", "t.tsv", "--out", "x", "--max-steps", "50"])
    train = train_config(args, classifier.RECIPE)
    assert (train.max_steps, train.epochs, train.weight_decay) == (50, None, 0.1)


def test_music_stops_at_the_jsb_steps_or_the_time_budget(capsys):
    train = train_config(_parse(["train", "music", "--data", "x.mat", "--out", "x"]), music.RECIPE)
    assert (train.max_steps, train.time_budget, train.eval_every) == (12000, 900.0, 100)
    assert "12000 steps or 900 s, whichever comes first" in capsys.readouterr().err
    assert music.MusicTask.unit == "frames"  # time steps of music, not training steps


def test_help_shows_the_recipe_defaults(capsys):
    with pytest.raises(SystemExit):
        _parse(["train", "classify", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--num-layers INT Number of stacked recurrent layers. (default: 2)" in shown
    assert "(default: 10.0 when no other limit is given)" in shown


class CountingStream(io.StringIO):
    flushes = 0

    def flush(self):
        self.flushes += 1
        super().flush()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from rnnkit.data import BUNDLED_CORPUS
    from rnnkit.models import LanguageModelConfig
    from rnnkit.tasks.language_model import TextDataConfig, train_language_model
    from rnnkit.train import TrainConfig

    folder = tmp_path_factory.mktemp("tiny")
    text = folder / "text.txt"
    text.write_text(BUNDLED_CORPUS.read_text()[:20000])
    run, _ = train_language_model(
        folder / "run",
        TextDataConfig(data=str(text), batch_size=8, seq_len=32),
        LanguageModelConfig(hidden_size=16),
        TrainConfig(max_steps=3, progress=False),
    )
    return run


def test_streamed_generation_is_the_returned_text_flushed_per_line(tiny_run):
    stream = CountingStream()
    text = tiny_run.generate("\n", 400, seed=3, stream=stream)
    assert (
        stream.getvalue()
        == text
        == load_language_model(tiny_run.folder.path).generate("\n", 400, seed=3)
    )
    assert stream.flushes == text.count("\n")
