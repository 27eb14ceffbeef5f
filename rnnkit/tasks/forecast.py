"""Forecasting: a CSV series -> split, scaler fitted on train, windows ->
forecaster (+ the linear baseline) -> trainer -> run folder. Loading, forecasting
and backtesting a trained run are in :mod:`rnnkit.tasks.forecast_run`."""

from __future__ import annotations

import numpy as np

from rnnkit.data.windows import Windows, window_origins
from rnnkit.errors import DataError
from rnnkit.models.baselines import LinearBaseline
from rnnkit.models.forecaster import Forecaster, ForecasterConfig
from rnnkit.tasks.common import fit, start_run
from rnnkit.tasks.forecast_data import (
    RECIPE,
    ForecastDataConfig,
    prepare_series,
    read_forecast_series,
    split_columns,
)
from rnnkit.tasks.forecast_run import ForecastRun
from rnnkit.train import RunFolder, TrainConfig
from rnnkit.train.checkpoint import save_tensors
from rnnkit.train.distributed import processes


class ForecastTask:
    """Forecasting as the trainer sees it (:class:`rnnkit.train.TrainingTask`)."""

    unit = "windows"

    def __init__(self, windows: Windows, train_origins, val_origins, batch_size: int, seed: int):
        self.windows, self.train_origins, self.val_origins = windows, train_origins, val_origins
        self.batch_size, self.seed = batch_size, seed

    def batches(self, epoch: int):
        generator = np.random.default_rng([self.seed, epoch])
        order = self.train_origins[generator.permutation(len(self.train_origins))]
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def loss(self, model, batch, carry):
        history, past, future, actual = self.windows.batch(batch)
        teacher = actual if model.training else None
        return model.loss(model(history, past, future, teacher), actual), None, len(batch)

    def evaluate(self, model) -> dict:
        ranks = processes()  # under torchrun each rank scores its share of the windows
        mine = self.val_origins[ranks.rows(len(self.val_origins))]
        total = {"loss": 0.0, "mse": 0.0, "mae": 0.0}
        for start in range(0, len(mine), 512):
            origins = mine[start : start + 512]
            history, past, future, actual = self.windows.batch(origins)
            forecast = model(history, past, future)
            point = model.point(forecast).float()
            total["loss"] += model.loss(forecast, actual).item() * len(origins)
            total["mse"] += (point - actual).square().mean().item() * len(origins)
            total["mae"] += (point - actual).abs().mean().item() * len(origins)
        summed = ranks.reduce(list(total.values()), self.windows.offsets.device)
        return {name: value / len(self.val_origins) for name, value in zip(total, summed)}


def train_forecaster(
    out,
    data: ForecastDataConfig | None = None,
    model: ForecasterConfig | None = None,
    train: TrainConfig | None = None,
    resume: bool = False,
    on_step=None,
):
    """Trains a forecaster into ``out``; returns ``(ForecastRun, Counters)``. The
    linear baseline is fitted alongside and saved as ``baseline.safetensors``."""
    start = start_run(RECIPE, out, data, model, train, resume)
    data, model = start.data, start.model
    if not data.data:
        raise DataError("no data file: set ForecastDataConfig.data (--data)")
    series = read_forecast_series(data, data.data)
    scaled, derived = prepare_series(data, model, series)
    windows = Windows(*split_columns(scaled, model), model.lookback, model.horizon, start.device)
    spans = derived["spans"]
    train_origins = window_origins(
        spans["train"], model.lookback, model.horizon, data.stride, spans["train"][0]
    )
    val_origins = window_origins(spans["valid"], model.lookback, model.horizon, data.eval_stride)
    for name, origins, span in (
        ("training", train_origins, spans["train"]),
        ("validation", val_origins, spans["valid"]),
    ):
        if not len(origins):
            raise DataError(
                f"{data.data}: the {name} rows [{span[0]}, {span[1]}) hold no window of lookback "
                f"{model.lookback} + horizon {model.horizon}; use a shorter --lookback or "
                f"--horizon, or change --split"
            )
    if not resume and processes().is_main:
        start.folder.path.mkdir(parents=True, exist_ok=True)
        _fit_baseline(windows, train_origins, val_origins, start.folder)
    derived.update(
        columns={"targets": series.target_names, "past": series.past_names},
        frequency=series.frequency,
    )
    task = ForecastTask(windows, train_origins, val_origins, data.batch_size, start.train.seed)
    counters = fit(
        start,
        lambda: Forecaster(model),
        task,
        files={"data": data.data},
        derived=derived,
        on_step=on_step,
    )
    return ForecastRun.load(out, device=start.train.device), counters


def _fit_baseline(windows: Windows, train_origins, val_origins, folder: RunFolder) -> None:
    def pairs(origins):
        for start in range(0, len(origins), 4096):
            history, _, _, actual = windows.batch(origins[start : start + 4096])
            yield history.cpu(), actual.cpu()

    baseline = LinearBaseline().fit(pairs(train_origins), pairs(val_origins))
    save_tensors(folder.file("baseline.safetensors"), {"weight": baseline.weight.contiguous()})
