"""Forecast metrics against hand-computed values."""

import numpy as np
import pytest

from rnnkit.metrics.forecasting import forecast_metrics, mase_scale, scaled_metrics, smape


def test_metrics_by_hand():
    actual = np.array([[[2.0], [4.0]], [[1.0], [0.0]]])  # 2 windows, horizon 2, 1 target
    forecast = np.array([[[3.0], [4.0]], [[1.0], [2.0]]])
    scale = np.array([0.5])
    metrics = forecast_metrics(forecast, actual, scale)
    assert metrics["mae"] == pytest.approx(0.75) and metrics["mse"] == pytest.approx(1.25)
    assert metrics["rmse"] == pytest.approx(np.sqrt(1.25)) and metrics["mase"] == pytest.approx(1.5)
    # sMAPE terms: 2*1/5, 0, 0, 2*2/2 -> mean 0.6 -> 60 %
    assert metrics["smape"] == pytest.approx(60.0)
    per_step = forecast_metrics(forecast, actual, scale, axis=(0, 2))
    assert per_step["mae"].tolist() == [0.5, 1.0] and per_step["mse"].tolist() == [0.5, 2.0]
    assert scaled_metrics(forecast, actual)["scaled_mse"] == pytest.approx(1.25)


def test_smape_counts_zero_over_zero_as_zero():
    assert smape(np.zeros(3), np.zeros(3)) == 0.0
    assert smape(np.array([1.0]), np.array([-1.0])) == pytest.approx(200.0)


def test_mase_scale_is_the_in_sample_seasonal_naive_error():
    train = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0], [7.0, 5.0]])
    assert mase_scale(train, 1).tolist() == [
        2.0,
        1.0,
    ]  # (1 + 2 + 3) / 3; a constant column keeps scale 1
    assert mase_scale(train, 2).tolist() == [4.0, 1.0]  # (3 + 5) / 2
    assert mase_scale(train, 10).tolist() == [2.0, 1.0]  # season longer than the data: non-seasonal
