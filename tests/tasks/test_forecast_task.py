"""Forecasting end to end: train, backtest next to the baselines, forecast past the
end, save/load bit-identity, exact resume, covariates and quantile intervals."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.errors import DataError
from rnnkit.models.forecaster import ForecasterConfig
from rnnkit.tasks.forecast import ForecastDataConfig, train_forecaster
from rnnkit.tasks.forecast_run import load_forecaster
from rnnkit.train import TrainConfig


def write_hourly(path, rows=700, seed=0):
    """Two hourly columns with a daily cycle, a trend and noise, plus a known-future 'event'
    column."""
    generator = np.random.default_rng(seed)
    time = pd.date_range("2021-01-01", periods=rows, freq="h")
    hour = np.arange(rows)
    event = (generator.random(rows) < 0.1).astype(float)
    frame = pd.DataFrame(
        {
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "load": 10
            + 3 * np.sin(2 * np.pi * hour / 24)
            + 0.002 * hour
            + 0.3 * generator.normal(size=rows)
            + 2 * event,
            "temp": 5 + np.cos(2 * np.pi * hour / 24) + 0.2 * generator.normal(size=rows),
            "event": event,
        }
    )
    frame.to_csv(path, index=False)
    return path


def small(architecture="segment", **options):
    return ForecasterConfig(
        architecture=architecture,
        lookback=48,
        horizon=24,
        segment_length=12,
        hidden_size=32,
        **options,
    )


def quick(steps=80, **options):
    return TrainConfig(
        max_steps=steps,
        eval_every=20,
        learning_rate=5e-3,
        warmup_steps=5,
        progress=False,
        precision="fp32",
        **options,
    )


def test_trains_beats_naive_and_round_trips_bit_identically(tmp_path):
    path = write_hourly(tmp_path / "series.csv")
    data = ForecastDataConfig(data=str(path), target="load,temp", batch_size=32)
    run, counters = train_forecaster(tmp_path / "run", data, small(), quick())
    assert counters.step == 80
    report = run.backtest(path, plot=tmp_path / "windows.png", plot_errors=tmp_path / "errors.png")
    assert (
        report["windows"] == 140 - 24 + 1
        and report["season"] == 24
        and report["rows"] == [560, 700]
    )
    models = report["models"]
    assert set(models) == {"model", "naive", "seasonal_naive", "linear"}
    assert models["model"]["overall"]["mase"] < models["naive"]["overall"]["mase"]
    assert len(models["model"]["per_step"]["mae"]) == 24
    assert (tmp_path / "windows.png").read_bytes()[:4] == b"\x89PNG"
    # The forecast after the end: the next 24 hours, identical after reloading.
    table = run.forecast(path)
    assert list(table.columns) == ["time", "load", "temp"] and len(table) == 24
    assert str(table["time"].iloc[0]) == "2021-01-30 04:00:00"
    again = load_forecaster(tmp_path / "run").forecast(path)
    pd.testing.assert_frame_equal(table, again, check_exact=True)


def test_predict_from_arrays_matches_the_historical_forecasts(tmp_path):
    path = write_hourly(tmp_path / "series.csv")
    data = ForecastDataConfig(data=str(path), target="load", batch_size=32, eval_stride=24)
    run, _ = train_forecaster(tmp_path / "run", data, small("direct", cell="lstm"), quick(30))
    result = run.historical_forecasts(path)
    assert result["origins"].tolist() == [560, 584, 608, 632, 656]
    history = pd.read_csv(path)[["load"]].to_numpy()[584 - 48 : 584]
    forecast = run.predict(history)
    assert forecast.shape == (24, 1)
    np.testing.assert_allclose(
        forecast, run._unscale(result["forecasts"]["model"][1]), rtol=0, atol=1e-5
    )
    np.testing.assert_allclose(
        run._unscale(result["actual"][1]),
        pd.read_csv(path)[["load"]].to_numpy()[584:608],
        rtol=0,
        atol=1e-5,
    )


def test_resume_is_bit_identical(tmp_path):
    path = write_hourly(tmp_path / "series.csv")
    data = ForecastDataConfig(data=str(path), target="load", batch_size=32)
    model = small(dropout=0.2, num_layers=2)
    straight, _ = train_forecaster(tmp_path / "straight", data, model, quick(40))

    def interrupt(trainer, loss):
        if trainer.counters.step == 13:
            trainer.stop_requested = True

    _, counters = train_forecaster(
        tmp_path / "cut", data, small(dropout=0.2, num_layers=2), quick(40), on_step=interrupt
    )
    assert counters.stopped_because == "interrupted" and counters.step == 13
    resumed, counters = train_forecaster(tmp_path / "cut", train=quick(40), resume=True)
    assert counters.step == 40
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name


def test_covariates_calendar_and_quantile_intervals(tmp_path):
    path = write_hourly(tmp_path / "series.csv")
    data = ForecastDataConfig(
        data=str(path),
        target="load",
        covariates="temp",
        future_covariates="event",
        calendar=True,
        batch_size=32,
    )
    run, _ = train_forecaster(
        tmp_path / "run", data, small("autoregressive", quantiles="0.1,0.5,0.9"), quick(40)
    )
    assert (
        run.model_config.past_covariates == 1 and run.model_config.future_covariates == 1 + 4
    )  # event + hour/weekday/day/year
    with pytest.raises(DataError) as error:
        run.forecast(path)
    assert str(error.value) == (
        "this model uses known-future covariates ['event']: give their next 24 values "
        "with --future FILE"
    )
    future = tmp_path / "future.csv"
    pd.DataFrame({"event": [0.0] * 24}).to_csv(future, index=False)
    table = run.forecast(path, future_path=future)
    assert list(table.columns) == ["time", "load", "load_q0.1", "load_q0.5", "load_q0.9"]
    assert (table["load_q0.1"] <= table["load"]).all() and (
        table["load"] <= table["load_q0.9"]
    ).all()
    assert table["load"].equals(table["load_q0.5"])


def test_too_short_splits_are_explained(tmp_path):
    path = write_hourly(tmp_path / "series.csv", rows=100)
    with pytest.raises(DataError) as error:
        train_forecaster(
            tmp_path / "run", ForecastDataConfig(data=str(path), target="load"), small(), quick(5)
        )
    assert str(error.value) == (
        f"{path}: the training rows [0, 70) hold no window of lookback 48 + horizon 24; "
        f"use a shorter --lookback or --horizon, or change --split"
    )
    path = write_hourly(tmp_path / "longer.csv", rows=200)
    with pytest.raises(DataError) as error:
        train_forecaster(
            tmp_path / "run", ForecastDataConfig(data=str(path), target="load"), small(), quick(5)
        )
    assert str(error.value).startswith(
        f"{path}: the validation rows [140, 160) hold no window of lookback 48 + "
    )
