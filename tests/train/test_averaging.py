"""NT-ASGD: the non-monotonic trigger, the running average, and exact resume."""

import json

import pytest
import torch

from rnnkit.train.averaging import IterateAverage
from tests.train.test_trainer import _losses, _train, small_text  # noqa: F401 (fixture)


def test_the_trigger_waits_for_a_validation_worse_than_the_best_long_ago():
    average = IterateAverage(nonmonotone=2)
    # 5, 4, 3 improve; 3.5 is not worse than the best of the validations more than 2 back (5).
    assert [average.observe(loss, step) for step, loss in enumerate([5, 4, 3, 3.5])] == [
        False,
        False,
        False,
        False,
    ]
    # Now history[:-2] = [5, 4]: 4.5 > 4 triggers.
    assert average.observe(4.5, 4) and average.started_at == 4
    assert not average.observe(9.0, 5)  # it starts once


def test_the_average_is_the_mean_of_the_iterates_since_the_trigger():
    model = torch.nn.Linear(3, 2)
    average = IterateAverage(nonmonotone=1)
    average.update(model)  # not started: nothing kept
    assert average.count == 0
    average.started_at = 0
    iterates = []
    for seed in range(4):
        torch.manual_seed(seed)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(torch.randn_like(parameter))
        iterates.append({k: v.clone() for k, v in model.state_dict().items()})
        average.update(model)
    current = {k: v.clone() for k, v in model.state_dict().items()}
    with average.swapped_in(model):
        for name, value in model.state_dict().items():
            expected = torch.stack([i[name] for i in iterates]).mean(0)
            torch.testing.assert_close(value, expected)
    for name, value in model.state_dict().items():
        assert torch.equal(value, current[name])  # and back afterwards


def test_ntasgd_trains_averages_and_resumes_exactly(tmp_path, small_text):  # noqa: F811
    options = dict(
        optimizer="ntasgd",
        learning_rate=5.0,
        clip_norm=0.25,
        warmup_steps=0,
        decay="none",
        nonmonotone=1,
        eval_every=2,
        max_steps=24,
    )
    _train(tmp_path / "whole", small_text, **options)
    state = json.loads((tmp_path / "whole" / "state.json").read_text())["counters"]
    averaging = state["averaging"]
    assert averaging["started_at"] is not None and averaging["count"] > 0

    def interrupt(trainer, loss):
        if trainer.counters.step == averaging["started_at"] + 3:  # averaging has begun
            trainer.stop_requested = True

    _train(tmp_path / "split", small_text, on_step=interrupt, **options)
    from rnnkit.tasks.language_model import train_language_model
    from rnnkit.train import TrainConfig

    train_language_model(
        tmp_path / "split", resume=True, train=TrainConfig(max_steps=24, progress=False)
    )
    assert _losses(tmp_path / "split") == _losses(tmp_path / "whole")
    whole = (tmp_path / "whole" / "model.safetensors").read_bytes()
    assert (tmp_path / "split" / "model.safetensors").read_bytes() == whole


def test_optimizer_choice_is_checked():
    from rnnkit.train import TrainConfig

    with pytest.raises(ValueError, match="^optimizer must be one of 'adamw', 'ntasgd'; got 'sgd'$"):
        TrainConfig(optimizer="sgd")
