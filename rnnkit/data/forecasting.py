"""A trained forecaster's inputs and outputs, without torch: the series of a file read and
scaled as in training, the known-future covariates, and the model's scaled forecast back in
the original units as a table. The run (:class:`rnnkit.tasks.forecast_run.ForecastRun`,
torch) and the export (:mod:`rnnkit.runtime.forecast`, onnxruntime) both forecast through
:class:`ForecastFrame`, with their own model call in between."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from rnnkit.data.series import Series, numeric_columns, read_series, read_table
from rnnkit.data.timeline import Scaler, calendar_features, future_times
from rnnkit.errors import DataError
from rnnkit.io import parse_list
from rnnkit.metrics.forecasting import plot_forecasts

ScaledModel = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``model(history (1, lookback, targets), past (1, lookback, past), future (1, lookback +
horizon, future)) -> scaled forecast (horizon, targets[, quantiles])``, all float32."""


def read_configured_series(data: dict, path) -> Series:
    """The series in ``path`` with the columns and cleaning that the data config ``data``
    names (a :class:`~rnnkit.tasks.forecast_data.ForecastDataConfig` as a dict)."""
    time_column = None if data["time_column"] == "none" else data["time_column"]
    return read_series(
        path,
        parse_list(data["target"]),
        time_column,
        parse_list(data["covariates"]),
        parse_list(data["future_covariates"]),
        data["fill"],
        data["order"],
        data["duplicates"],
    )


class ForecastFrame:
    """``forecast(path, model, future_path) -> DataFrame`` for the run's saved config."""

    def __init__(self, saved: dict):
        self.data, model = saved["data"], saved["model"]
        self.scaler = Scaler(**self.data["scaling"])
        self.lookback, self.horizon = model["lookback"], model["horizon"]
        self.targets, self.past = model["targets"], model["past_covariates"]
        self.future = model["future_covariates"]
        self.levels = parse_list(model.get("quantiles", ""), float)
        self.target_names = self.data["columns"]["targets"]

    def read(self, path) -> Series:
        """The series in ``path`` read as in training; its targets must be the model's."""
        series = read_configured_series(self.data, path)
        if series.target_names != self.target_names:
            raise DataError(f"{path}: this model forecasts {self.target_names}")
        return series

    def scaled_inputs(self, history, past=None, future=None) -> tuple[np.ndarray, ...]:
        """Arrays in original units, ``history (lookback, targets)``, ``past (lookback,
        past_covariates)``, ``future (lookback + horizon, future_covariates)`` -> the model's
        scaled inputs, each with a batch axis of 1."""
        width = self.targets + self.past + self.future
        values = np.zeros((self.lookback + self.horizon, width), dtype=np.float32)
        values[: self.lookback, : self.targets] = history
        if past is not None:
            values[: self.lookback, self.targets : self.targets + self.past] = past
        if future is not None:
            values[:, self.targets + self.past :] = future
        scaled = self.scaler.transform(values).astype(np.float32)
        split = self.targets + self.past
        return (
            scaled[None, : self.lookback, : self.targets],
            scaled[None, : self.lookback, self.targets : split],
            scaled[None, :, split:],
        )

    def unscale(self, forecast: np.ndarray) -> np.ndarray:
        """Scaled ``(..., targets[, quantiles])`` -> original units."""
        shift = np.asarray(self.scaler.shift[: self.targets])
        scale = np.asarray(self.scaler.scale[: self.targets])
        if self.levels:
            return forecast * scale[:, None] + shift[:, None]
        return forecast * scale + shift

    def middle_level(self) -> int:
        """Index of the quantile level nearest 0.5: the point forecast of a quantile model."""
        return min(range(len(self.levels)), key=lambda i: abs(self.levels[i] - 0.5))

    def future_covariates(self, series: Series, times, future_path) -> np.ndarray:
        """The known-future covariates over lookback + horizon rows: the series' own, then
        ``horizon`` rows of ``future_path``, and the calendar features."""
        own = series.future[-self.lookback :]
        if series.future_names:
            if future_path is None:
                raise DataError(
                    f"this model uses known-future covariates {series.future_names}: give "
                    f"their next {self.horizon} values with --future FILE"
                )
            ahead = read_table(future_path)
            missing = [n for n in series.future_names if n not in ahead.columns]
            if missing or len(ahead) < self.horizon:
                raise DataError(
                    f"{future_path}: needs columns {series.future_names} with {self.horizon} "
                    f"rows; found columns {list(ahead.columns)} with {len(ahead)} rows"
                )
            rows = numeric_columns(ahead.iloc[: self.horizon], future_path, series.future_names)
            own = np.concatenate([own, rows])
        else:
            own = np.zeros((self.lookback + self.horizon, 0))
        if self.data["calendar"]:
            every = series.time[-self.lookback :].append(times)
            own = np.concatenate([own, calendar_features(every, series.frequency)[0]], 1)
        return own

    def forecast(self, path, model: ScaledModel, future_path=None) -> pd.DataFrame:
        """The ``horizon`` steps after the end of the series in ``path``: one column per
        target (and per quantile level: ``OT_q0.9``), with the times when known."""
        series = self.read(path)
        if len(series) < self.lookback:
            raise DataError(
                f"{path}: has {len(series)} rows; forecasting needs the last {self.lookback} "
                "(the lookback)"
            )
        times = None
        if series.time is not None:
            times = future_times(series.time, series.frequency, self.horizon)
        future = self.future_covariates(series, times, future_path)
        history, past = series.targets[-self.lookback :], series.past[-self.lookback :]
        forecast = self.unscale(model(*self.scaled_inputs(history, past, future)))
        table = {} if times is None else {"time": times}
        return pd.DataFrame({**table, **self.columns_of(forecast)})

    def columns_of(self, forecast: np.ndarray) -> dict[str, np.ndarray]:
        """A forecast ``(horizon, targets[, quantiles])`` as columns: one per target (its
        middle quantile for a quantile model) and one per quantile level (``OT_q0.9``)."""
        columns = {}
        for j, name in enumerate(self.target_names):
            if self.levels:
                columns[name] = forecast[:, j, self.middle_level()]
                columns.update(
                    {f"{name}_q{q:g}": forecast[:, j, k] for k, q in enumerate(self.levels)}
                )
            else:
                columns[name] = forecast[:, j]
        return columns

    def input_columns(self) -> list[str]:
        """The columns of a history row: the targets, then the past covariates."""
        return self.target_names + list(self.data["columns"].get("past", []))

    def plot(self, path, table: pd.DataFrame, png, title: str) -> None:
        """The last lookback of each target (at most four) and ``table``, the forecast after
        it, with its interval when the model has quantiles."""
        series = self.read(path)
        axis = series.time if series.time is not None else np.arange(len(series))
        ahead = (
            table["time"] if "time" in table else np.arange(len(series), len(series) + self.horizon)
        )
        panels = []
        for j, name in enumerate(series.target_names[:4]):
            levels = [f"{name}_q{q:g}" for q in self.levels]
            panels.append(
                {
                    "history_time": axis[-self.lookback :],
                    "history": series.targets[-self.lookback :, j],
                    "time": ahead,
                    "forecast": table[name].to_numpy(),
                    "low": table[levels[0]].to_numpy() if levels else None,
                    "high": table[levels[-1]].to_numpy() if levels else None,
                    "label": name,
                }
            )
        plot_forecasts(panels, png, title)
