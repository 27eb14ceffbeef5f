"""Naive, seasonal naive, the inferred season and the closed-form linear baseline."""

import numpy as np
import pytest
import torch

from rnnkit.models.baselines import LinearBaseline, infer_season, naive, seasonal_naive


def test_naive_and_seasonal_naive_by_hand():
    history = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]]).unsqueeze(-1)
    assert naive(history, 3)[0, :, 0].tolist() == [5.0, 5.0, 5.0]
    assert seasonal_naive(history, 5, 2)[0, :, 0].tolist() == [4.0, 5.0, 4.0, 5.0, 4.0]
    assert seasonal_naive(history, 2, 1)[0, :, 0].tolist() == [5.0, 5.0]
    with pytest.raises(ValueError, match=r"season \(6\) must be between 1 and the lookback \(5\)"):
        seasonal_naive(history, 2, 6)


@pytest.mark.parametrize(
    ("frequency", "season"),
    [
        ("h", 24),
        ("MS", 12),
        ("ME", 12),
        ("D", 7),
        ("15min", 96),
        ("W-SUN", 52),
        ("QS-OCT", 4),
        ("2h", 12),
    ],
)
def test_season_from_the_calendar(frequency, season):
    assert infer_season(np.zeros((10, 1)), frequency, limit=1000) == season


def test_season_from_the_autocorrelation_and_capped_by_the_lookback():
    generator = np.random.default_rng(0)
    series = (
        np.sin(2 * np.pi * np.arange(500) / 10)
        + 0.05 * generator.normal(size=500)
        + 0.01 * np.arange(500)
    )
    assert infer_season(series[:, None], None, limit=100) == 10
    assert (
        infer_season(generator.normal(size=(500, 1)).cumsum(0), None, limit=100) == 1
    )  # a random walk
    assert infer_season(np.zeros((10, 1)), "h", limit=12) == 12


def test_linear_baseline_extrapolates_lines_and_sines_exactly():
    """Any series obeying a linear recurrence (lines, sinusoids) is forecast exactly
    by some linear map of the lookback; the fit must find it."""
    time = torch.arange(300, dtype=torch.float64)
    series = torch.stack([0.5 * time - 3, torch.sin(2 * torch.pi * time / 17)], 1)
    starts = torch.arange(0, 300 - 30)
    windows = series[starts[:, None] + torch.arange(30)]
    pairs = [(windows[:200, :20], windows[:200, 20:])]
    baseline = LinearBaseline().fit(pairs, [(windows[200:, :20], windows[200:, 20:])])
    assert baseline.weight.shape == (21, 10)
    torch.testing.assert_close(baseline(windows[200:, :20]), windows[200:, 20:], atol=1e-3, rtol=0)


def _m4(shared_data, frequency: str):
    """M4's wide files: one row per series, its id then its values, right-padded."""
    import pandas as pd

    folder = shared_data / "m4"
    train, test = (
        pd.read_csv(folder / f"{frequency}-{part}.csv", index_col=0) for part in ("train", "test")
    )
    return [row.dropna().to_numpy() for _, row in train.iterrows()], test.to_numpy()


@pytest.mark.parametrize(
    "frequency,season,horizon,published",
    # the organisers' scores (M4-methods' Evaluation and Ranks.xlsx): sMAPE, MASE of Naive2,
    # sNaive and Theta, rounded to 3 decimals
    [
        ("Hourly", 24, 48, ((18.383, 2.395), (13.912, 1.193), (18.138, 2.455))),
        # m = 1: Naive2 is Naive is sNaive
        ("Weekly", 1, 13, ((9.161, 2.777), (9.161, 2.777), (9.093, 2.637))),
    ],
)
def test_naive2_seasonal_naive_and_theta_give_m4s_published_scores(
    shared_data, frequency, season, horizon, published
):
    from rnnkit.metrics.forecasting import mase_scale, owa, smape
    from rnnkit.models.baselines import naive2, theta

    trains, tests = _m4(shared_data, frequency)
    assert len(trains) == {"Hourly": 414, "Weekly": 359}[frequency]
    scores = {"naive2": [], "snaive": [], "theta": []}
    for train, actual in zip(trains, tests):
        scale = mase_scale(train[:, None], season)[0]
        history = torch.tensor(train)[None, :, None]
        forecasts = {
            "naive2": naive2(train, horizon, season),
            "snaive": seasonal_naive(history, horizon, season)[0, :, 0].numpy(),
            "theta": theta(train, horizon, season),
        }
        for name, forecast in forecasts.items():
            scores[name].append((smape(forecast, actual), np.abs(forecast - actual).mean() / scale))
    for name, expected in zip(("naive2", "snaive", "theta"), published):
        mean_smape, mean_mase = np.mean(scores[name], axis=0)
        assert (round(mean_smape, 3), round(mean_mase, 3)) == expected, name
    naive2_scores = np.mean(scores["naive2"], axis=0)
    assert owa(*naive2_scores, *naive2_scores) == 1.0
    published_owa = {"Hourly": 1.006, "Weekly": 0.971}[frequency]  # Theta's
    assert round(owa(*np.mean(scores["theta"], axis=0), *naive2_scores), 3) == published_owa
