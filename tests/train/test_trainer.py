"""The trainer on a small char LM: exact resume, seeds, NaN guard, limits, bf16."""

import json
import math

import pytest
import torch

from rnnkit.data import BUNDLED_CORPUS
from rnnkit.errors import TrainingDiverged
from rnnkit.models import LanguageModelConfig
from rnnkit.tasks.language_model import TextDataConfig, train_language_model
from rnnkit.train import TrainConfig

MODEL = LanguageModelConfig(
    cell="lstm", embedding_size=8, hidden_size=16, num_layers=2, dropout=0.2
)


@pytest.fixture
def small_text(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text(
        BUNDLED_CORPUS.read_text()[:600]
    )  # 9 batches of 4 streams per epoch: 8x16 steps and 1x6
    return path


def _train(out, text, **train_options):
    data = TextDataConfig(data=str(text), batch_size=4, seq_len=16)
    options = dict(max_steps=20, eval_every=5, warmup_steps=3, progress=False, seed=0)
    options.update(train_options)
    on_step = options.pop("on_step", None)
    return train_language_model(
        out, data, LanguageModelConfig(**vars(MODEL)), TrainConfig(**options), on_step=on_step
    )


def _losses(folder):
    return [
        r["train_loss"]
        for r in map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())
        if "train_loss" in r
    ]


def test_resume_after_ctrl_c_is_bit_identical(tmp_path, small_text):
    _train(tmp_path / "whole", small_text)

    def interrupt(trainer, loss):
        if trainer.counters.step == 7:  # mid-epoch, between validations
            trainer.stop_requested = True

    _, counters = _train(tmp_path / "split", small_text, on_step=interrupt)
    assert counters.stopped_because == "interrupted" and counters.step == 7
    assert len(_losses(tmp_path / "split")) == 7
    from rnnkit.tasks.language_model import train_language_model as resume_training

    _, counters = resume_training(
        tmp_path / "split", resume=True, train=TrainConfig(max_steps=20, progress=False)
    )
    assert counters.step == 20 and counters.epoch >= 2  # crossed epoch boundaries
    whole, split = _losses(tmp_path / "whole"), _losses(tmp_path / "split")
    assert len(whole) == len(split) == 20
    assert whole == split  # bit-identical, not merely close


def test_same_seed_same_run_other_seed_other_run(tmp_path, small_text):
    _train(tmp_path / "a", small_text, max_steps=6)
    _train(tmp_path / "b", small_text, max_steps=6)
    _train(tmp_path / "c", small_text, max_steps=6, seed=1)
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")
    assert _losses(tmp_path / "a") != _losses(tmp_path / "c")


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, small_text):
    saved = {}

    def poison(trainer, loss):
        if trainer.counters.step == 6:  # after the validation save at step 5
            saved.update({p.name: p.read_bytes() for p in (tmp_path / "run").glob("*.safetensors")})
            with torch.no_grad():
                trainer.model.head.bias.fill_(float("nan"))

    with pytest.raises(TrainingDiverged) as error:
        _train(tmp_path / "run", small_text, on_step=poison)
    assert str(error.value) == (
        f"the training loss became nan at step 7; stopped without saving, so the last good "
        f"checkpoint in {tmp_path / 'run'} is intact (try a lower --learning-rate)"
    )
    assert saved and all(
        (tmp_path / "run" / name).read_bytes() == data for name, data in saved.items()
    )


def test_limits_epochs_and_early_stopping(tmp_path, small_text):
    _, counters = _train(tmp_path / "epochs", small_text, max_steps=None, epochs=2)
    assert counters.epoch == 2 and counters.step == 18
    _, counters = _train(
        tmp_path / "early",
        small_text,
        max_steps=200,
        eval_every=1,
        learning_rate=0.5,
        early_stopping=2,
    )
    assert counters.stopped_because == "no improvement in 2 validations"
    assert (tmp_path / "early" / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_bf16_trains_close_to_fp32(tmp_path, small_text):
    options = dict(max_steps=48, eval_every=16, learning_rate=1e-2)
    _, fp32 = _train(tmp_path / "fp32", small_text, precision="fp32", **options)
    _, bf16 = _train(tmp_path / "bf16", small_text, precision="bf16", **options)
    # it learned: an untrained model scores about ln(vocab) = ln(46) = 3.83; measured 3.09 after
    # these 48 steps in either precision (16 steps left it at 3.75)
    assert bf16.last_eval["loss"] < math.log(46) - 0.4, bf16.last_eval
    assert abs(bf16.last_eval["loss"] - fp32.last_eval["loss"]) < 0.05


def test_a_new_run_in_an_old_folder_starts_clean_metrics(tmp_path, small_text):
    _train(tmp_path / "run", small_text, max_steps=6)
    _train(tmp_path / "run", small_text, max_steps=4)
    assert len(_losses(tmp_path / "run")) == 4
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    events = list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1


def test_gradient_norm_is_logged_before_clipping(tmp_path, small_text):
    _train(tmp_path / "run", small_text, max_steps=3, clip_norm=1e-6)
    records = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    norms = [r["train_grad_norm"] for r in records if "train_grad_norm" in r]
    assert len(norms) == 3 and min(norms) > 1e-3  # the norm before clipping, not the clipped 1e-6


def test_without_tensorboard_training_says_where_the_metrics_go(
    tmp_path, small_text, monkeypatch, capsys
):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if the extra were missing
    _train(tmp_path / "run", small_text, max_steps=2, progress=True)
    err = capsys.readouterr().err
    assert (
        f"metrics go to {tmp_path / 'run' / 'metrics.jsonl'} (TensorBoard is off: "
        "TensorBoard event files need tensorboard: pip install 'rnnkit[tensorboard]')" in err
    )
    assert not (tmp_path / "run" / "tensorboard").exists()
    assert len(_losses(tmp_path / "run")) == 2
