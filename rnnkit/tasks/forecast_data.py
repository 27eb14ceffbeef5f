"""Forecasting data: which columns of which CSV, and how the series is cleaned,
split, scaled and sized for the model. Shared by training
(:mod:`rnnkit.tasks.forecast`) and the trained run (:mod:`rnnkit.tasks.forecast_run`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rnnkit.data.forecasting import read_configured_series
from rnnkit.data.series import DUPLICATES, FILLS, ORDERS, Series
from rnnkit.data.timeline import SCALERS, Scaler, calendar_features, split_rows
from rnnkit.errors import DataError
from rnnkit.fields import AT_LEAST_ONE, NON_NEGATIVE, check_fields
from rnnkit.metrics.forecasting import mase_scale
from rnnkit.models.baselines import infer_season
from rnnkit.models.forecaster import ForecasterConfig
from rnnkit.tasks.common import Recipe


@dataclass
class ForecastDataConfig:
    """Which columns of which CSV, how they are cleaned, split, scaled and windowed."""

    data: str | None = None
    """CSV or TSV file (.gz too) with one row per time step."""
    target: str = ""
    """Column(s) to forecast, comma-separated (several: a multivariate forecast)."""
    time_column: str = "auto"
    """Column with the timestamps; auto: the first named date, time, timestamp, datetime, month, ds,
    week or day; none: no time column."""
    covariates: str = ""
    """Comma-separated columns observed up to the forecast origin only (past covariates)."""
    future_covariates: str = ""
    """Comma-separated columns known ahead (planned events, prices); forecasting then needs their
    next --horizon values."""
    calendar: bool = False
    """Add calendar features of the timestamps (hour, weekday, day, month) as known-future
    covariates."""
    fill: str = "none"
    """Missing values and missing timestamps: none (an error), interpolate (linear) or ffill (carry
    the last value)."""
    order: str = "error"
    """Rows out of time order: error, or sort (by time, stable)."""
    duplicates: str = "error"
    """Rows with the same time: error, mean (average them) or last (keep the last)."""
    split: str = "0.7,0.1,0.2"
    """Chronological train/val/test: fractions, two boundaries where val and test begin (rows or
    times), or ett (12/4/4 months)."""
    scaler: str = "standard"
    """Per-column scaling fitted on the training rows only: standard, minmax or none."""
    stride: int = 1
    """Steps between the origins of consecutive training windows."""
    eval_stride: int = 1
    """Steps between the forecast origins of validation and backtest windows (rolling origin)."""
    batch_size: int = 64
    """Windows per batch."""
    season: int = 0
    """Seasonal period for seasonal naive and MASE; 0: from the time step (hourly 24, monthly 12,
    ...) or the autocorrelation."""

    BOUNDS = {
        "fill": FILLS,
        "order": ORDERS,
        "duplicates": DUPLICATES,
        "scaler": SCALERS,
        "stride": AT_LEAST_ONE,
        "eval_stride": AT_LEAST_ONE,
        "batch_size": AT_LEAST_ONE,
        "season": NON_NEGATIVE,
    }

    def __post_init__(self):
        check_fields(self)


def future_features(series: Series, data: ForecastDataConfig) -> tuple[np.ndarray, list[str]]:
    """The known-future covariates of ``series``: its own plus calendar features; and their
    names."""
    future, names = series.future, list(series.future_names)
    if data.calendar:
        if series.time is None:
            raise DataError(f"{series.path}: --calendar needs a time column")
        calendar, calendar_names = calendar_features(series.time, series.frequency)
        future, names = np.concatenate([future, calendar], 1), names + calendar_names
    return future, names


def read_forecast_series(data: ForecastDataConfig, path) -> Series:
    """The series in ``path`` with the columns and cleaning that ``data`` names."""
    return read_configured_series(asdict(data), path)


def prepare_series(data: ForecastDataConfig, model: ForecasterConfig, series: Series):
    """Splits, fits the scaler on the training rows and sizes the model to the data."""
    future, future_names = future_features(series, data)
    values = np.concatenate([series.targets, series.past, future], 1)
    spans = split_rows(len(series), data.split, series.time, series.frequency)
    scaler = Scaler.fit(values[slice(*spans["train"])], data.scaler)
    model.targets, model.past_covariates = series.targets.shape[1], series.past.shape[1]
    model.future_covariates = future.shape[1]
    season = data.season or infer_season(
        series.targets[slice(*spans["train"])], series.frequency, model.lookback
    )
    derived = {
        "spans": spans,
        "scaling": asdict(scaler),
        "season": season,
        "future_names": future_names,
        "mase_scale": mase_scale(series.targets[slice(*spans["train"])], season).tolist(),
    }
    return scaler.transform(values), derived


def split_columns(scaled: np.ndarray, model: ForecasterConfig):
    targets, past = model.targets, model.targets + model.past_covariates
    return scaled[:, :targets], scaled[:, targets:past], scaled[:, past:]


# Steps, not epochs: a monthly series makes 2 batches per epoch, ETTh1 about 125.
RECIPE = Recipe(
    "forecast",
    ForecastDataConfig,
    ForecasterConfig,
    train_defaults={"max_steps": 1000, "eval_every": 100},
)
