"""Forecast accuracy: MAE, MSE, RMSE, sMAPE and MASE, overall and per horizon
step, and the plots (forecast windows, error by horizon). Arrays in, numbers out.

Every array is ``(windows, horizon, targets)``; overall numbers average over all
three axes, "per step" numbers over windows and targets.
"""

from __future__ import annotations

import numpy as np

from rnnkit.io import new_figure, save_figure


def mase_scale(train: np.ndarray, season: int) -> np.ndarray:
    """MASE's denominator per target column (Hyndman & Koehler 2006): the in-sample
    mean absolute error of the seasonal naive forecast on the training rows."""
    season = season if len(train) > season else 1
    scale = np.abs(train[season:] - train[:-season]).mean(0)
    return np.where(scale > 0, scale, 1.0)


def smape(forecast: np.ndarray, actual: np.ndarray, axis=None) -> np.ndarray:
    """Symmetric MAPE in percent, 0..200 (Makridakis 1993; the M4 definition); 0/0 counts as 0."""
    denominator = np.abs(forecast) + np.abs(actual)
    ratio = np.divide(
        2 * np.abs(forecast - actual),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return 100 * ratio.mean(axis)


def forecast_metrics(
    forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray, axis=None
) -> dict:
    """MAE, MSE, RMSE, sMAPE and MASE (``scale`` from :func:`mase_scale`), over
    ``axis`` (None: one number each; ``(0, 2)``: one per horizon step)."""
    error = forecast - actual
    mse = np.square(error).mean(axis)
    return {
        "mae": np.abs(error).mean(axis),
        "mse": mse,
        "rmse": np.sqrt(mse),
        "smape": smape(forecast, actual, axis),
        "mase": (np.abs(error) / scale).mean(axis),
    }


def scaled_metrics(forecast: np.ndarray, actual: np.ndarray, axis=None) -> dict:
    """MSE and MAE on scaled values: what the ETT papers report."""
    error = forecast - actual
    return {"scaled_mse": np.square(error).mean(axis), "scaled_mae": np.abs(error).mean(axis)}


def plot_forecasts(panels: list[dict], path, title: str) -> None:
    """One panel per window: ``{"history_time", "history", "time", "actual", "forecast",
    "low", "high", "label"}`` (1-D arrays; ``actual``/``low``/``high`` may be None)."""
    figure, axes = new_figure(len(panels), 1, figsize=(9, 2.6 * len(panels)), squeeze=False)
    for axis, panel in zip(axes[:, 0], panels):
        axis.plot(panel["history_time"], panel["history"], color="0.4", label="history")
        if panel.get("actual") is not None:
            axis.plot(panel["time"], panel["actual"], color="black", label="actual")
        if panel.get("low") is not None:
            axis.fill_between(
                panel["time"],
                panel["low"],
                panel["high"],
                color="tab:blue",
                alpha=0.25,
                label="interval",
            )
        axis.plot(panel["time"], panel["forecast"], color="tab:blue", label="forecast")
        axis.set_title(panel["label"], fontsize=9)
        axis.legend(fontsize=7, loc="upper left")
    figure.suptitle(title)
    save_figure(figure, path)


def plot_error_by_horizon(
    errors: dict[str, np.ndarray], path, title: str, metric: str = "MAE"
) -> None:
    """``errors``: model name -> error per horizon step, one line each."""
    figure, axis = new_figure(figsize=(7, 4))
    for name, values in errors.items():
        axis.plot(np.arange(1, len(values) + 1), values, label=name)
    axis.set_xlabel("steps ahead")
    axis.set_ylabel(metric)
    axis.set_title(title)
    axis.legend()
    save_figure(figure, path)


def owa(smape_value: float, mase_value: float, naive2_smape: float, naive2_mase: float) -> float:
    """M4's overall weighted average: the mean of sMAPE and MASE, each relative to Naive2's,
    from the averages over the series (not per series)."""
    return 0.5 * (smape_value / naive2_smape + mase_value / naive2_mase)
