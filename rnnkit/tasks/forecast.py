"""Forecasting: a CSV series -> split, scaler fitted on train, windows ->
forecaster (+ the linear baseline) -> trainer -> run folder. Loading, forecasting
and backtesting a trained run are in :mod:`rnnkit.tasks.forecast_run`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

import rnnkit
from rnnkit.data.series import Series, read_series
from rnnkit.data.windows import Scaler, Windows, calendar_features, split_rows, window_origins
from rnnkit.errors import DataError
from rnnkit.metrics.forecasting import mase_scale
from rnnkit.models.baselines import LinearBaseline, infer_season
from rnnkit.models.forecaster import Forecaster, ForecasterConfig
from rnnkit.tasks.common import check_unchanged, sha256, starting_configs
from rnnkit.train import RunFolder, TrainConfig, Trainer, resolve_device
from rnnkit.train.checkpoint import save_tensors

TASK = "forecast"


@dataclass
class ForecastDataConfig:
    """Which columns of which CSV, how they are cleaned, split, scaled and windowed."""

    data: str | None = None
    """CSV or TSV file (.gz too) with one row per time step."""
    target: str = ""
    """Column(s) to forecast, comma-separated (several: a multivariate forecast)."""
    time_column: str = "auto"
    """Column with the timestamps; auto: the first named date, time, timestamp, datetime, month, ds, week or day; none: no time column."""
    covariates: str = ""
    """Comma-separated columns observed up to the forecast origin only (past covariates)."""
    future_covariates: str = ""
    """Comma-separated columns known ahead (planned events, prices); forecasting then needs their next --horizon values."""
    calendar: bool = False
    """Add calendar features of the timestamps (hour, weekday, day, month) as known-future covariates."""
    fill: str = "none"
    """Missing values and missing timestamps: none (an error), interpolate (linear) or ffill (carry the last value)."""
    order: str = "error"
    """Rows out of time order: error, or sort (by time, stable)."""
    duplicates: str = "error"
    """Rows with the same time: error, mean (average them) or last (keep the last)."""
    split: str = "0.7,0.1,0.2"
    """Chronological train/val/test: fractions, two boundaries where val and test begin (rows or times), or ett (12/4/4 months)."""
    scaler: str = "standard"
    """Per-column scaling fitted on the training rows only: standard, minmax or none."""
    stride: int = 1
    """Steps between the origins of consecutive training windows."""
    eval_stride: int = 1
    """Steps between the forecast origins of validation and backtest windows (rolling origin)."""
    batch_size: int = 64
    """Windows per batch."""
    season: int = 0
    """Seasonal period for seasonal naive and MASE; 0: from the time step (hourly 24, monthly 12, ...) or the autocorrelation."""


def columns(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def features(series: Series, data: ForecastDataConfig) -> tuple[np.ndarray, np.ndarray]:
    """The known-future covariates of ``series``: its own plus calendar features; and their names."""
    future, names = series.future, list(series.future_names)
    if data.calendar:
        if series.time is None:
            raise DataError(f"{series.path}: --calendar needs a time column")
        calendar, calendar_names = calendar_features(series.time, series.frequency)
        future, names = np.concatenate([future, calendar], 1), names + calendar_names
    return future, names


def read(data: ForecastDataConfig, path) -> Series:
    time_column = None if data.time_column == "none" else data.time_column
    return read_series(path, columns(data.target), time_column, columns(data.covariates),
                       columns(data.future_covariates), data.fill, data.order, data.duplicates)


class ForecastTask:
    """What the trainer needs (see :mod:`rnnkit.train.trainer`)."""

    unit = "windows"

    def __init__(self, windows: Windows, train_origins, val_origins, batch_size: int, seed: int):
        self.windows, self.train_origins, self.val_origins = windows, train_origins, val_origins
        self.batch_size, self.seed = batch_size, seed

    def batches(self, epoch: int):
        generator = np.random.default_rng([self.seed, epoch])
        order = self.train_origins[generator.permutation(len(self.train_origins))]
        return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def loss(self, model, batch, carry):
        history, past, future, actual = self.windows.batch(batch)
        teacher = actual if model.training else None
        return model.loss(model(history, past, future, teacher), actual), None, len(batch)

    def evaluate(self, model) -> dict:
        total = {"loss": 0.0, "mse": 0.0, "mae": 0.0}
        for start in range(0, len(self.val_origins), 512):
            origins = self.val_origins[start:start + 512]
            history, past, future, actual = self.windows.batch(origins)
            forecast = model(history, past, future)
            point = model.point(forecast).float()
            total["loss"] += model.loss(forecast, actual).item() * len(origins)
            total["mse"] += (point - actual).square().mean().item() * len(origins)
            total["mae"] += (point - actual).abs().mean().item() * len(origins)
        return {name: value / len(self.val_origins) for name, value in total.items()}


def prepare(data: ForecastDataConfig, model: ForecasterConfig, series: Series):
    """Splits, fits the scaler on the training rows and sizes the model to the data."""
    future, future_names = features(series, data)
    values = np.concatenate([series.targets, series.past, future], 1)
    spans = split_rows(len(series), data.split, series.time, series.frequency)
    scaler = Scaler.fit(values[slice(*spans["train"])], data.scaler)
    model.targets, model.past_covariates = series.targets.shape[1], series.past.shape[1]
    model.future_covariates = future.shape[1]
    season = data.season or infer_season(series.targets[slice(*spans["train"])], series.frequency, model.lookback)
    derived = {"spans": spans, "scaling": asdict(scaler), "season": season, "future_names": future_names,
               "mase_scale": mase_scale(series.targets[slice(*spans["train"])], season).tolist()}
    return scaler.transform(values), derived


def split_columns(scaled: np.ndarray, model: ForecasterConfig):
    targets, past = model.targets, model.targets + model.past_covariates
    return scaled[:, :targets], scaled[:, targets:past], scaled[:, past:]


def train_forecaster(out, data: ForecastDataConfig | None = None, model: ForecasterConfig | None = None,
                     train: TrainConfig | None = None, resume: bool = False, on_step=None):
    """Trains a forecaster into ``out``; returns ``(ForecastRun, Counters)``. The
    linear baseline is fitted alongside and saved as ``baseline.safetensors``."""
    from rnnkit.tasks.forecast_run import load_forecaster

    folder = RunFolder(out)
    data, model, train = starting_configs(folder, TASK, ForecastDataConfig, ForecasterConfig, data, model, train, resume)
    if resume:
        check_unchanged(folder, TASK, {"data": data.data})
    if not data.data:
        raise DataError("no data file: set ForecastDataConfig.data (--data)")
    series = read(data, data.data)
    scaled, derived = prepare(data, model, series)
    windows = Windows(*split_columns(scaled, model), model.lookback, model.horizon, resolve_device(train.device))
    spans = derived["spans"]
    train_origins = window_origins(spans["train"], model.lookback, model.horizon, data.stride, spans["train"][0])
    val_origins = window_origins(spans["valid"], model.lookback, model.horizon, data.eval_stride)
    for name, origins, span in (("training", train_origins, spans["train"]), ("validation", val_origins, spans["valid"])):
        if not len(origins):
            raise DataError(f"{data.data}: the {name} rows [{span[0]}, {span[1]}) hold no window of lookback "
                            f"{model.lookback} + horizon {model.horizon}; use a shorter --lookback or --horizon, "
                            f"or change --split")
    torch.manual_seed(train.seed)
    network = Forecaster(model)
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.write_config({"task": TASK, "rnnkit_version": rnnkit.__version__, "model": asdict(model),
                         "data": {**asdict(data), **derived, "sha256": {"data": sha256(data.data)},
                                  "columns": {"targets": series.target_names, "past": series.past_names},
                                  "frequency": series.frequency},
                         "train": asdict(train)})
    if not resume:
        _fit_baseline(windows, train_origins, val_origins, folder)
    trainer = Trainer(network, ForecastTask(windows, train_origins, val_origins, data.batch_size, train.seed),
                      folder, train)
    trainer.on_step = on_step
    counters = trainer.fit(resume=resume)
    return load_forecaster(out, device=train.device), counters


def _fit_baseline(windows: Windows, train_origins, val_origins, folder: RunFolder) -> None:
    def pairs(origins):
        for start in range(0, len(origins), 4096):
            history, _, _, actual = windows.batch(origins[start:start + 4096])
            yield history.cpu(), actual.cpu()

    baseline = LinearBaseline().fit(pairs(train_origins), pairs(val_origins))
    save_tensors(folder.file("baseline.safetensors"), {"weight": baseline.weight.contiguous()})
