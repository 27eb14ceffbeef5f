"""Splits, scalers, calendar features and windows."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.data.timeline import Scaler, calendar_features, future_times, split_rows
from rnnkit.data.windows import Windows, window_origins
from rnnkit.errors import DataError


def test_ett_split_is_12_4_4_months_of_hours():
    time = pd.date_range("2016-07-01", periods=17420, freq="h")
    assert split_rows(17420, "ett", time) == {
        "train": (0, 8640),
        "valid": (8640, 11520),
        "test": (11520, 14400),
    }
    quarter_hours = pd.date_range("2016-07-01", periods=69680, freq="15min")
    assert split_rows(69680, "ett", quarter_hours)["test"] == (46080, 57600)


def test_fraction_row_and_time_boundaries():
    assert split_rows(100, "0.7,0.1,0.2") == {
        "train": (0, 70),
        "valid": (70, 80),
        "test": (80, 100),
    }
    assert split_rows(100, "60,80") == {"train": (0, 60), "valid": (60, 80), "test": (80, 100)}
    months = pd.date_range("1949-01-01", periods=144, freq="MS")
    assert split_rows(144, "1959-01,1960-01", months) == {
        "train": (0, 120),
        "valid": (120, 132),
        "test": (132, 144),
    }


def test_bad_splits_say_what_was_expected():
    with pytest.raises(DataError) as error:
        split_rows(100, "0.5")
    assert str(error.value) == (
        "--split '0.5': expected fractions (0.7,0.1,0.2), two boundaries "
        "(rows or times where val and test begin) or ett"
    )
    with pytest.raises(DataError) as error:
        split_rows(100, "80,60")
    assert (
        str(error.value)
        == "--split '80,60': gives empty or out-of-range parts [0, 80, 60, 100] for 100 rows"
    )
    with pytest.raises(DataError, match="needs a --time-column"):
        split_rows(100, "ett")


def test_scalers_are_fitted_on_the_rows_given_and_invert():
    generator = np.random.default_rng(0)
    values = generator.normal(5, 3, size=(50, 2))
    standard = Scaler.fit(values[:30], "standard")
    assert np.allclose(standard.shift, values[:30].mean(0)) and np.allclose(
        standard.scale, values[:30].std(0)
    )
    assert np.allclose(standard.transform(values[:30]).mean(0), 0) and np.allclose(
        standard.inverse(standard.transform(values)), values
    )
    minmax = Scaler.fit(values[:30], "minmax")
    scaled = minmax.transform(values[:30])
    assert scaled.min() == pytest.approx(0) and scaled.max() == pytest.approx(1)
    constant = Scaler.fit(np.ones((5, 1)), "standard")
    assert constant.scale == [1.0] and constant.transform(np.ones((2, 1))).tolist() == [
        [0.0],
        [0.0],
    ]


def test_calendar_features_follow_the_time_step():
    hours = pd.date_range("2021-03-01", periods=48, freq="h")
    values, names = calendar_features(hours, "h")
    assert names == [
        "calendar_hour",
        "calendar_weekday",
        "calendar_day_of_month",
        "calendar_day_of_year",
    ]
    assert (
        values[0, 0] == -0.5
        and values[23, 0] == 0.5
        and values.min() >= -0.5
        and values.max() <= 0.5
    )
    months = pd.date_range("2021-01-01", periods=12, freq="MS")
    values, names = calendar_features(months, "MS")
    assert names == ["calendar_month"] and values[:, 0].tolist() == pytest.approx(
        np.linspace(-0.5, 0.5, 12)
    )
    assert list(future_times(months, "MS", 2).strftime("%Y-%m")) == ["2022-01", "2022-02"]


def test_window_origins_keep_horizons_inside_the_span():
    origins = window_origins((20, 50), lookback=10, horizon=5, stride=1)
    assert origins[0] == 20 and origins[-1] == 45  # the last horizon is rows 45..49
    assert (
        window_origins((0, 50), 10, 5, 1, history_from=0)[0] == 10
    )  # training: history inside the span
    assert window_origins((20, 50), 10, 5, stride=10).tolist() == [20, 30, 40]
    assert len(window_origins((0, 12), 10, 5)) == 0


def test_windows_gather_exactly_the_rows():
    values = np.arange(60, dtype=float).reshape(30, 2)
    windows = Windows(values, values[:, :1] * 10, values[:, 1:] * 100, lookback=4, horizon=3)
    history, past, future, actual = windows.batch(np.array([4, 10]))
    assert torch.equal(history[1], torch.tensor(values[6:10], dtype=torch.float32))
    assert torch.equal(actual[0], torch.tensor(values[4:7], dtype=torch.float32))
    assert torch.equal(past[0, :, 0], torch.tensor(values[0:4, 0] * 10, dtype=torch.float32))
    assert future.shape == (2, 7, 1) and future[1, -1, 0].item() == values[12, 1] * 100
