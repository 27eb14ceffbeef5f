"""MetricsLog: per-step records are held and written together, nothing is lost or reordered."""

import json

import pytest

from rnnkit.train.progress import MetricsLog


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_training_records_are_written_together_and_validations_at_once(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("rnnkit.train.progress.time.monotonic", lambda: clock[0])
    log = MetricsLog(tmp_path, tensorboard=False, fresh=True)
    log.log(1, train_loss=2.5, train_lr=0.1)
    log.log(2, train_loss=2.25, train_lr=0.1)
    assert not (tmp_path / "metrics.jsonl").exists()  # held: less than a second has passed
    log.log(2, val_loss=2.0)  # a validation is written at once, after what was held
    assert [r["step"] for r in _lines(tmp_path / "metrics.jsonl")] == [1, 2, 2]
    log.log(3, train_loss=2.0)
    clock[0] += MetricsLog.FLUSH_SECONDS
    log.log(4, train_loss=1.75)  # a second later: both written
    assert [r.get("train_loss") for r in _lines(tmp_path / "metrics.jsonl")][-2:] == [2.0, 1.75]
    log.log(5, train_loss=1.5)
    assert log.read()[-1] == {"step": 5, "train_loss": 1.5}  # read sees what is held
    log.log(6, train_loss=1.25)
    log.close()
    assert [r["step"] for r in _lines(tmp_path / "metrics.jsonl")] == [1, 2, 2, 3, 4, 5, 6]


def test_tensorboard_gets_every_held_scalar(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = MetricsLog(tmp_path, fresh=True)
    for step in range(1, 6):
        log.log(step, train_loss=1.0 / step, train_note="text is not a scalar")
    log.log(5, val_loss=0.5)
    log.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2, 3, 4, 5]
    assert [e.value for e in events.Scalars("val/loss")] == [0.5]
    assert sorted(events.Tags()["scalars"]) == ["train/loss", "val/loss"]
