"""A trained forecaster with its scaler and baselines: forecast past the end of
a series, and backtest it by rolling origin next to the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from rnnkit.data.forecasting import ForecastFrame
from rnnkit.data.series import Series
from rnnkit.data.timeline import Scaler, split_rows
from rnnkit.data.windows import Windows, window_origins
from rnnkit.errors import DataError
from rnnkit.metrics.forecasting import (
    forecast_metrics,
    plot_error_by_horizon,
    plot_forecasts,
    scaled_metrics,
)
from rnnkit.models.baselines import LinearBaseline, naive, seasonal_naive
from rnnkit.models.forecaster import Forecaster, ForecasterConfig
from rnnkit.tasks.common import Run
from rnnkit.tasks.forecast_data import (
    RECIPE,
    future_features,
    split_columns,
)
from rnnkit.train.checkpoint import load_tensors


class ForecastRun(Run):
    """A trained forecaster, from Python.

    >>> run = rnnkit.load_forecaster("runs/etth1")
    >>> run.forecast("ETTh1.csv")          # a DataFrame: the next `horizon` rows
    >>> run.backtest("ETTh1.csv")["models"]["model"]["overall"]["scaled_mse"]
    """

    recipe, network = RECIPE, Forecaster

    def __init__(self, model: Forecaster, config: dict, folder, device):
        super().__init__(model, config, folder, device)
        self.baseline = LinearBaseline(load_tensors(folder.file("baseline.safetensors"))["weight"])
        self.data = self.config_of("data")
        self.scaler = Scaler(**config["data"]["scaling"])
        self.frame = ForecastFrame(config)
        self.season = config["data"]["season"]

    @property
    def model_config(self) -> ForecasterConfig:
        """The model's sizes: lookback, horizon, targets and covariates."""
        return self.model.config

    def read_series(self, path) -> Series:
        """The series in ``path`` read as in training; its targets must be the model's."""
        return self.frame.read(path)

    def _forecast(self, history, past, future) -> torch.Tensor:
        """Scaled forecasts ``(batch, horizon, targets[, quantiles])`` as float32 on the CPU."""
        with self.inference():
            return self.model(history, past, future).float().cpu()

    def _scaled_model(self, history, past, future) -> np.ndarray:
        """:data:`rnnkit.data.forecasting.ScaledModel`: one scaled forecast of arrays."""
        tensors = (torch.from_numpy(part).to(self.device) for part in (history, past, future))
        return self._forecast(*tensors)[0].numpy()

    def predict(
        self, history: np.ndarray, past: np.ndarray | None = None, future: np.ndarray | None = None
    ) -> np.ndarray:
        """Forecast from arrays in original units: ``history (lookback, targets)``,
        ``past (lookback, past_covariates)``, ``future (lookback + horizon,
        future_covariates)`` -> ``(horizon, targets[, quantiles])``."""
        scaled = self.frame.scaled_inputs(history, past, future)
        return self._unscale(self._scaled_model(*scaled))

    def _unscale(self, forecast: np.ndarray) -> np.ndarray:
        """Scaled ``(..., targets[, quantiles])`` -> original units."""
        return self.frame.unscale(forecast)

    def forecast(self, path, future_path=None) -> pd.DataFrame:
        """The ``horizon`` steps after the end of the series in ``path``: one column per
        target (and per quantile level: ``OT_q0.9``), with the times when known.
        Known-future covariate columns come from ``future_path`` (``horizon`` rows)."""
        return self.frame.forecast(path, self._scaled_model, future_path)

    def plot_forecast(self, path, table: pd.DataFrame, png) -> None:
        """The last lookback of each target and :meth:`forecast`'s ``table`` after it (with its
        interval)."""
        self.frame.plot(path, table, png, f"{self.folder.path.name}: forecast after {path}")

    def historical_forecasts(self, path, split: str = "test") -> dict:
        """Rolling-origin forecasts over the ``split`` rows of ``path``: origins every
        ``eval_stride`` steps, lookbacks reaching into earlier rows where needed.
        Returns ``origins (windows,)``, ``series``, and scaled ``(windows, horizon,
        targets)`` arrays: ``actual`` and ``forecasts[name]`` for the model, naive,
        seasonal naive and linear; ``quantiles`` adds the model's levels as a last axis."""
        sizes, series = self.model_config, self.read_series(path)
        future, _ = future_features(series, self.data)
        scaled = self.scaler.transform(np.concatenate([series.targets, series.past, future], 1))
        span = split_rows(len(series), self.data.split, series.time, series.frequency)[split]
        origins = window_origins(span, sizes.lookback, sizes.horizon, self.data.eval_stride)
        if not len(origins):
            raise DataError(
                f"{path}: the {split} rows [{span[0]}, {span[1]}) hold no window of lookback "
                f"{sizes.lookback} + horizon {sizes.horizon}"
            )
        windows = Windows(*split_columns(scaled, sizes), sizes.lookback, sizes.horizon, self.device)
        forecasts, actual, quantiles = self._backtest_forecasts(windows, origins)
        return {
            "origins": origins,
            "span": span,
            "series": series,
            "forecasts": forecasts,
            "actual": actual,
            "quantiles": quantiles,
        }

    def backtest(
        self, path, split: str = "test", plot=None, plot_errors=None, windows=None
    ) -> dict:
        """:meth:`historical_forecasts` scored: MAE, MSE, RMSE, sMAPE and MASE on the
        original scale, MSE and MAE on the scaled values, overall and per horizon
        step, for the model and each baseline. ``plot``: PNG of the ``windows``
        (indices into the backtest's windows, negative from the end; default: the
        first, middle and last); ``plot_errors``: PNG of the MAE by steps ahead."""
        result = self.historical_forecasts(path, split)
        scaled_actual, scale = result["actual"], np.asarray(self.config["data"]["mase_scale"])
        actual = self._unscale(scaled_actual)
        models = {}
        for name, forecast in result["forecasts"].items():
            original = self._unscale(forecast)
            models[name] = {
                "overall": _floats(
                    {
                        **forecast_metrics(original, actual, scale),
                        **scaled_metrics(forecast, scaled_actual),
                    }
                ),
                "per_step": _lists(
                    {
                        **forecast_metrics(original, actual, scale, (0, 2)),
                        **scaled_metrics(forecast, scaled_actual, (0, 2)),
                    }
                ),
            }
        report = {
            "split": split,
            "rows": list(result["span"]),
            "windows": len(result["origins"]),
            "horizon": self.model_config.horizon,
            "season": self.season,
            "models": models,
        }
        if plot:
            self._plot_windows(
                result["series"],
                result["origins"],
                result["forecasts"]["model"],
                result["quantiles"],
                plot,
                path,
                windows,
            )
        if plot_errors:
            plot_error_by_horizon(
                {n: np.asarray(m["per_step"]["mae"]) for n, m in models.items()},
                plot_errors,
                f"{path}: MAE by steps ahead ({split})",
            )
        return report

    def _backtest_forecasts(self, windows: Windows, origins):
        sizes = self.model_config
        names = ["model", "naive", "linear"] + (
            ["seasonal_naive"] if self.season <= sizes.lookback else []
        )
        parts = {name: [] for name in names}
        actuals, quantiles = [], []
        for start in range(0, len(origins), 1024):
            history, past, future, actual = windows.batch(origins[start : start + 1024])
            forecast = self._forecast(history, past, future)
            history = history.float().cpu()
            parts["model"].append(self.model.point(forecast))
            quantiles.append(forecast)
            parts["naive"].append(naive(history, sizes.horizon))
            parts["linear"].append(self.baseline(history))
            if "seasonal_naive" in parts:
                parts["seasonal_naive"].append(seasonal_naive(history, sizes.horizon, self.season))
            actuals.append(actual.cpu())
        joined = {name: torch.cat(chunks).numpy() for name, chunks in parts.items()}
        return joined, torch.cat(actuals).numpy(), torch.cat(quantiles).numpy()

    def _plot_windows(
        self, series: Series, origins, forecast, quantiles, path_png, path, windows=None
    ) -> None:
        sizes, panels = self.model_config, []
        pick = windows if windows is not None else sorted({0, len(origins) // 2, len(origins) - 1})
        for i in pick:
            if not -len(origins) <= i < len(origins):
                raise DataError(
                    f"window {i} does not exist: the backtest has {len(origins)} windows "
                    f"(0 to {len(origins) - 1})"
                )
        axis = series.time if series.time is not None else np.arange(len(series))
        original, bands = (
            self._unscale(forecast),
            self._unscale(quantiles) if self.model.levels else None,
        )
        for i in pick:
            t = origins[i]
            panels.append(
                {
                    "history_time": axis[t - sizes.lookback : t],
                    "history": series.targets[t - sizes.lookback : t, 0],
                    "time": axis[t : t + sizes.horizon],
                    "actual": series.targets[t : t + sizes.horizon, 0],
                    "forecast": original[i, :, 0],
                    "low": None if bands is None else bands[i, :, 0, 0],
                    "high": None if bands is None else bands[i, :, 0, -1],
                    "label": f"{series.target_names[0]}: window {i}, forecast from "
                    f"{str(axis[t]).removesuffix(' 00:00:00')}",
                }
            )
        plot_forecasts(panels, path_png, f"{self.folder.path.name} on {path}")


def _floats(metrics: dict) -> dict:
    return {k: float(v) for k, v in metrics.items()}


def _lists(metrics: dict) -> dict:
    return {k: [float(x) for x in v] for k, v in metrics.items()}


def load_forecaster(folder, device: str = "auto") -> ForecastRun:
    """Loads the best weights of a forecasting run folder with its scaler and linear baseline."""
    return ForecastRun.load(folder, device)
