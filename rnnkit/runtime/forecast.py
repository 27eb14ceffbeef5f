"""A forecaster's export folder on onnxruntime: a CSV's history -> the next ``horizon`` rows,
through the same :class:`~rnnkit.data.forecasting.ForecastFrame` as the torch run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnkit.data.forecasting import ForecastFrame
from rnnkit.runtime.session import Export


class ExportedForecaster(Export):
    """``forecast(path, future_path) -> DataFrame`` and ``predict(history, past, future)`` as
    :class:`rnnkit.tasks.forecast_run.ForecastRun` has them."""

    task = "forecast"

    def __init__(self, folder, description: dict, threads: int = 0):
        super().__init__(folder, description, threads)
        self.frame = ForecastFrame(self.config)
        self.input_names = [entry["name"] for entry in self.graph["inputs"]]

    def scaled_forecast(self, history, past, future) -> np.ndarray:
        """:data:`rnnkit.data.forecasting.ScaledModel` on onnxruntime."""
        parts = {"history": history, "past": past, "future": future}
        feeds = {name: parts[name].astype(np.float32) for name in self.input_names}
        return self.run(feeds)["forecast"][0]

    def predict(self, history, past=None, future=None) -> np.ndarray:
        """Arrays in original units -> ``(horizon, targets[, quantiles])`` in original units."""
        return self.frame.unscale(
            self.scaled_forecast(*self.frame.scaled_inputs(history, past, future))
        )

    def forecast(self, path, future_path=None) -> pd.DataFrame:
        return self.frame.forecast(path, self.scaled_forecast, future_path)

    def plot_forecast(self, path, table: pd.DataFrame, png) -> None:
        self.frame.plot(path, table, png, f"{self.name}: forecast after {path}")
