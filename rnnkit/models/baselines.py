"""Forecasting baselines that every forecaster is measured against.

All take ``history (batch, lookback, targets)`` and return ``(batch, horizon, targets)``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

# The season that a calendar frequency implies: the cycle a seasonal naive forecast repeats.
SEASONS = {"min": None, "h": 24, "D": 7, "B": 5, "W": 52, "M": 12, "Q": 4}


def naive(history: Tensor, horizon: int) -> Tensor:
    """Every future step is the last observed value."""
    return history[:, -1:].expand(-1, horizon, -1)


def seasonal_naive(history: Tensor, horizon: int, season: int) -> Tensor:
    """Every future step repeats the value one season earlier (Hyndman & Athanasopoulos, Sec.
    5.2)."""
    if not 1 <= season <= history.shape[1]:
        raise ValueError(
            f"season ({season}) must be between 1 and the lookback ({history.shape[1]})"
        )
    rows = history.shape[1] - season + torch.arange(horizon, device=history.device) % season
    return history[:, rows]


def infer_season(values: np.ndarray, frequency: str | None, limit: int) -> int:
    """The seasonal period: from the calendar frequency when there is one (hourly
    -> 24, daily -> 7, monthly -> 12, ...; sub-hourly -> one day), else the lag
    with the strongest autocorrelation of the differenced first column (1 if none
    is clear). Never more than ``limit`` (the lookback)."""
    season = None
    if frequency:
        import pandas as pd

        offset = pd.tseries.frequencies.to_offset(frequency)
        base = "".join(ch for ch in offset.rule_code.split("-")[0] if ch.isalpha())
        base = {"MS": "M", "ME": "M", "QS": "Q", "QE": "Q", "T": "min", "H": "h"}.get(base, base)
        if base in ("min", "s"):
            step = pd.Timedelta(offset)
            season = int(pd.Timedelta(days=1) / step) if step <= pd.Timedelta(hours=1) else None
        else:
            season = SEASONS.get(base)
            if base == "h" and offset.n > 1:
                season = max(1, 24 // offset.n)
    if season is None:
        season = _autocorrelation_peak(values[:, 0], limit)
    return max(1, min(season, limit))


def _autocorrelation_peak(series: np.ndarray, limit: int) -> int:
    change = np.diff(series)
    change = change - change.mean()
    lags = range(2, min(limit, len(change) // 3) + 1)
    if not len(change) or change.std() == 0 or not lags:
        return 1
    correlations = np.array([np.corrcoef(change[:-lag], change[lag:])[0, 1] for lag in lags])
    if correlations.max() <= 0.3:
        return 1
    # Multiples of the season correlate as well as the season itself: take the
    # shortest lag within 10 % of the best.
    return lags[int(np.argmax(correlations >= 0.9 * correlations.max()))]


class LinearBaseline:
    """A linear map from the lookback to the horizon, shared by all target columns
    (DLinear, Zeng et al. 2023, with its trend/seasonal split folded in: that
    split is itself linear in the lookback, so the least-squares map over the raw
    lookback contains it). It is fitted in closed form by ridge regression rather
    than by SGD, with the ridge strength picked on validation windows."""

    STRENGTHS = (1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)

    def __init__(self, weight: Tensor | None = None):
        self.weight = weight  # (lookback + 1, horizon), the last row is the bias

    @staticmethod
    def _design(history: Tensor) -> Tensor:
        rows = history.transpose(1, 2).reshape(-1, history.shape[1]).double()
        return torch.cat([rows, torch.ones(len(rows), 1, dtype=rows.dtype, device=rows.device)], 1)

    def fit(self, train_batches, val_batches) -> LinearBaseline:
        """``*_batches``: iterables of ``(history, actual)`` scaled tensors."""
        gram = cross = None
        for history, actual in train_batches:
            x, y = (
                self._design(history),
                actual.transpose(1, 2).reshape(-1, actual.shape[1]).double(),
            )
            gram = x.T @ x if gram is None else gram + x.T @ x
            cross = x.T @ y if cross is None else cross + x.T @ y
        val = list(val_batches)
        scale = gram.diagonal().mean()
        best = None
        for strength in self.STRENGTHS:
            ridge = torch.eye(len(gram), dtype=gram.dtype) * strength * scale
            ridge[-1, -1] = 0  # the bias is not shrunk
            weight = torch.linalg.solve(gram + ridge, cross)
            error = (
                sum(((self._apply(weight, h) - a) ** 2).sum().item() for h, a in val)
                if val
                else 0.0
            )
            if best is None or error < best[0]:
                best = (error, weight)
        self.weight = best[1]
        return self

    def _apply(self, weight: Tensor, history: Tensor) -> Tensor:
        batch, _, targets = history.shape
        output = (self._design(history) @ weight).reshape(batch, targets, -1).transpose(1, 2)
        return output.to(history.dtype)

    def __call__(self, history: Tensor) -> Tensor:
        return self._apply(self.weight, history)


def seasonality_test(values: np.ndarray, season: int) -> bool:
    """M4's test (``SeasonalityTest`` in the organisers' R code): seasonal when the
    autocorrelation at lag ``season`` passes the 90% limit 1.645 / sqrt(n) * sqrt(1 + 2 *
    sum of the squared autocorrelations below that lag). Never with fewer than three seasons."""
    n = len(values)
    if season < 2 or n < 3 * season:
        return False
    centred = values - values.mean()
    denominator = np.dot(centred, centred)
    if denominator == 0:
        return False
    acf = np.array([np.dot(centred[k:], centred[:-k]) for k in range(1, season + 1)]) / denominator
    limit = 1.645 / np.sqrt(n) * np.sqrt(1 + 2 * np.sum(acf[: season - 1] ** 2))
    return bool(abs(acf[season - 1]) > limit)


def multiplicative_indices(values: np.ndarray, season: int) -> np.ndarray:
    """The seasonal index of each position in the cycle, ``(season,)``, position 0 being the
    series' first value: R's ``decompose(type = "multiplicative")``. A centred moving average
    (a 2 x season one for an even season) is the trend; each position's index is the mean of
    value / trend over the cycles where the trend exists, then the indices are scaled to mean 1."""
    n = len(values)
    if season % 2 == 0:
        weights = np.r_[0.5, np.ones(season - 1), 0.5] / season
    else:
        weights = np.ones(season) / season
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(values, weights, mode="valid")
    ratio = values / trend
    padded = np.r_[ratio, np.full(-n % season, np.nan)].reshape(-1, season)
    figure = np.nanmean(padded, axis=0)
    return figure / figure.mean()


def naive2(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """M4's Naive2 benchmark for one series: the last value carried forward on seasonally
    adjusted data (classical multiplicative decomposition, when :func:`seasonality_test`
    says the series is seasonal), then seasonalised again. ``values (n,)`` -> ``(horizon,)``."""
    values = np.asarray(values, dtype=np.float64)
    if not seasonality_test(values, season):
        return np.full(horizon, values[-1])
    indices = multiplicative_indices(values, season)
    last = values[-1] / indices[(len(values) - 1) % season]
    return last * indices[(len(values) + np.arange(horizon)) % season]


def _adjusted(values: np.ndarray, horizon: int, season: int):
    """M4's seasonal adjustment: ``(adjusted values, the indices of the next horizon steps)``."""
    if not seasonality_test(values, season):
        return values, np.ones(horizon)
    indices = multiplicative_indices(values, season)
    n = len(values)
    return values / indices[np.arange(n) % season], indices[(n + np.arange(horizon)) % season]


def ses_fit(values: np.ndarray, rounds: int = 4) -> tuple[float, float]:
    """Simple exponential smoothing's ``(alpha, final level)`` at the least in-sample MSE of the
    one-step forecasts (R's ``ses``: ETS(A,N,N) with ``opt.crit = "mse"``, alpha in [1e-4,
    0.9999], the initial level optimised too). For each alpha the best initial level has a
    closed form (the fitted values are linear in it); alpha is searched on a grid refined
    ``rounds`` times, the levels of every candidate computed in one linear scan."""
    from rnnkit.nn.scan import linear_scan

    y = torch.as_tensor(values, dtype=torch.float64)
    low, high = 1e-4, 0.9999
    best = (np.inf, low, 0.0)
    for _ in range(rounds):
        alphas = torch.linspace(low, high, 64, dtype=torch.float64)
        keep = (1 - alphas)[None, None, :].expand(1, len(y), -1).contiguous()
        levels = linear_scan(keep, alphas[None, None, :] * y[None, :, None], y.new_zeros(1, 64))[0]
        fitted = torch.cat([torch.zeros(1, 64, dtype=torch.float64), levels[:-1]])  # l0 = 0
        weight = (1 - alphas)[None, :] ** torch.arange(len(y), dtype=torch.float64)[:, None]
        residual = y[:, None] - fitted
        start = (weight * residual).sum(0) / (weight * weight).sum(0)  # the best l0 per alpha
        mse = ((residual - weight * start) ** 2).mean(0)
        index = int(torch.argmin(mse))
        if float(mse[index]) < best[0]:
            final = levels[-1, index] + (1 - alphas[index]) ** len(y) * start[index]
            best = (float(mse[index]), float(alphas[index]), float(final))
        step = (high - low) / 63
        low, high = max(1e-4, best[1] - step), min(0.9999, best[1] + step)
    return best[1], best[2]


def theta(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """M4's Theta benchmark for one series (``Theta.classic`` in the organisers' R code;
    Assimakopoulos & Nikolopoulos 2000): on the seasonally adjusted series, the mean of the
    linear trend's extrapolation (theta line 0) and simple exponential smoothing of the
    theta line 2 (twice the series less the trend), then seasonalised again."""
    values = np.asarray(values, dtype=np.float64)
    adjusted, ahead = _adjusted(values, horizon, season)
    n = len(adjusted)
    t = np.arange(1, n + 1, dtype=np.float64)
    slope, intercept = np.polyfit(t, adjusted, 1)
    line_in = intercept + slope * t
    line_out = intercept + slope * np.arange(n + 1, n + horizon + 1)
    _, level = ses_fit(2 * adjusted - line_in)
    return (0.5 * level + 0.5 * line_out) * ahead
