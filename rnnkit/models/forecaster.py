"""Recurrent forecasters: a lookback window in, all ``horizon`` future steps out.

Three ways to turn a recurrent layer into a multi-step forecaster:

- ``segment``: SegRNN (Lin et al. 2023). The lookback is cut into segments of
  ``segment_length`` steps; each segment is embedded (Linear + ReLU) and is one
  step of the RNN, so a 336-step lookback costs 14 recurrent steps. Decoding is
  parallel: every future segment starts from the encoder's final state and takes
  one recurrent step whose input is a learned position (plus channel) embedding.
- ``direct``: the RNN reads every lookback step; one linear head maps its final
  output to all horizon steps at once (the "MIMO" strategy of Taieb et al. 2012).
- ``autoregressive``: an encoder RNN, then a decoder RNN that starts from its
  state and is fed its own previous forecast. Training feeds it the true previous
  value instead (teacher forcing), which keeps training to one fused call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.fields import AT_LEAST_ONE, COUNT, DEPTH, PROBABILITY, WIDTH, Range, check_fields
from rnnkit.io import parse_list
from rnnkit.nn import make_recurrent
from rnnkit.nn.checks import check_choice
from rnnkit.nn.registry import CELLS

ARCHITECTURES = ("segment", "direct", "autoregressive")
NORMALISATIONS = ("last", "mean", "none")
LOSSES = ("mse", "mae")


@dataclass
class ForecasterConfig:
    """The forecaster's shape and loss."""

    architecture: str = "segment"
    """segment (SegRNN: lookback segments are the RNN's steps, horizon segments decoded in
    parallel), direct (one head for all horizon steps) or autoregressive (a decoder fed its own
    forecasts)."""
    cell: str = "gru"
    """Recurrent cell: rnn (tanh), rnn_relu, lstm, gru, mingru or minlstm."""
    hidden_size: int = 256
    """Width of the recurrent state (and of the segment embeddings)."""
    num_layers: int = 1
    """Number of stacked recurrent layers."""
    dropout: float = 0.0
    """Dropout between recurrent layers and before the output layer."""
    lookback: int = 96
    """Past steps the model sees (L)."""
    horizon: int = 24
    """Future steps it forecasts at once (H)."""
    segment_length: int = 24
    """Steps per segment for --architecture segment; must divide the lookback."""
    channel_independent: bool = True
    """Forecast each target column as its own series with shared weights (as SegRNN and PatchTST
    do); off: one model row sees all targets together."""
    normalise: str = "last"
    """Per-window normalisation: last (subtract the last observed value, SegRNN's choice), mean
    (subtract the window mean, divide by its std; RevIN without the affine part) or none."""
    loss: str = "mse"
    """Training loss for point forecasts: mse or mae (ignored with --quantiles)."""
    quantiles: str = ""
    """Comma-separated quantile levels such as 0.1,0.5,0.9: train with the pinball loss and forecast
    these quantiles (intervals); the point forecast is the level nearest 0.5."""
    targets: int = 1
    """Number of target columns; set from the data."""
    past_covariates: int = 0
    """Number of covariates observed only up to the forecast origin; set from the data."""
    future_covariates: int = 0
    """Number of covariates known ahead (calendar features, ...); set from the data."""

    BOUNDS = {
        "architecture": ARCHITECTURES,
        "cell": CELLS,
        "hidden_size": WIDTH,
        "num_layers": DEPTH,
        "dropout": PROBABILITY,
        "lookback": Range(1, 1 << 20),
        "horizon": Range(1, 1 << 20),
        "segment_length": Range(1, 1 << 20),
        "normalise": NORMALISATIONS,
        "loss": LOSSES,
        "targets": AT_LEAST_ONE,
        "past_covariates": COUNT,
        "future_covariates": COUNT,
    }

    def __post_init__(self):
        check_fields(self)
        try:
            self.levels()
        except ValueError as error:
            raise ConfigError("quantiles", str(error).removeprefix("quantiles ")) from None

    def levels(self) -> list[float]:
        levels = parse_list(self.quantiles, float, "quantiles", "0.1,0.5,0.9")
        if any(not 0 < q < 1 for q in levels) or levels != sorted(set(levels)):
            raise ValueError(
                f"quantiles must be increasing levels in (0, 1); got {self.quantiles!r}"
            )
        return levels


class Forecaster(nn.Module):
    """``forward(history, past=None, future=None, teacher=None) -> forecast``.

    - ``history``: ``(batch, lookback, targets)``, scaled target values.
    - ``past``: ``(batch, lookback, past_covariates)`` or None.
    - ``future``: ``(batch, lookback + horizon, future_covariates)`` or None.
    - ``teacher``: ``(batch, horizon, targets)``, the true future; only the
      autoregressive decoder uses it, in training.
    - ``forecast``: ``(batch, horizon, targets)``, or ``(batch, horizon, targets,
      quantiles)`` when the config has quantile levels.
    """

    def __init__(self, config: ForecasterConfig):
        super().__init__()
        check_choice("architecture", config.architecture, ARCHITECTURES)
        check_choice("normalise", config.normalise, NORMALISATIONS)
        check_choice("loss", config.loss, LOSSES)
        self.config, c = config, config
        self.levels = c.levels()
        self.width = 1 if c.channel_independent else c.targets  # target columns per model row
        outputs = self.width * max(1, len(self.levels))
        inputs = self.width + c.past_covariates + c.future_covariates
        hidden = c.hidden_size
        options = dict(num_layers=c.num_layers, dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(c.dropout)
        if c.architecture == "segment":
            if c.lookback % c.segment_length:
                raise ValueError(
                    f"segment_length ({c.segment_length}) must divide lookback ({c.lookback})"
                )
            segments = math.ceil(c.horizon / c.segment_length)
            self.embed = nn.Sequential(nn.Linear(c.segment_length * inputs, hidden), nn.ReLU())
            self.encoder = make_recurrent(c.cell, hidden, hidden, **options)
            self.position = nn.Parameter(torch.randn(segments, hidden))
            self.channel = (
                nn.Parameter(torch.randn(c.targets, hidden)) if c.channel_independent else None
            )
            self.future_embed = (
                nn.Linear(c.segment_length * c.future_covariates, hidden)
                if c.future_covariates
                else None
            )
            self.head = nn.Linear(hidden, c.segment_length * outputs)
        else:
            self.encoder = make_recurrent(c.cell, inputs, hidden, **options)
            if c.architecture == "direct":
                self.head = nn.Linear(hidden + c.horizon * c.future_covariates, c.horizon * outputs)
            else:
                self.decoder = make_recurrent(
                    c.cell, self.width + c.future_covariates, hidden, **options
                )
                self.head = nn.Linear(hidden, outputs)

    def forward(
        self,
        history: Tensor,
        past: Tensor | None = None,
        future: Tensor | None = None,
        teacher: Tensor | None = None,
    ) -> Tensor:
        c = self.config
        batch = history.shape[0]
        history, offset, spread = self._normalise(history)
        rows = self._rows(history)
        past, future = self._covariates(past), self._covariates(future)
        if teacher is not None:
            teacher = self._rows((teacher - offset) / spread)
        run = {
            "segment": self._segment,
            "direct": self._direct,
            "autoregressive": self._autoregressive,
        }
        output = run[c.architecture](rows, past, future, teacher)  # (rows, horizon, width, levels)
        if c.channel_independent:
            output = output.reshape(batch, c.targets, c.horizon, -1).transpose(1, 2)
        output = output * spread.unsqueeze(-1) + offset.unsqueeze(-1)
        if not self.levels:
            return output.squeeze(-1)
        # Separate heads can cross (a 0.9 level below the 0.5); sorting them is the
        # monotone rearrangement of Chernozhukov et al. 2010, which never increases the pinball
        # loss.
        return output.sort(-1).values

    def _normalise(self, history: Tensor):
        """Per-window normalisation; its inverse is applied to the forecast."""
        if (
            self.config.normalise == "last"
        ):  # SegRNN Sec. 3.3: forecast the change from the last value
            return history - history[:, -1:], history[:, -1:], torch.ones_like(history[:, -1:])
        if (
            self.config.normalise == "mean"
        ):  # RevIN (Kim et al. 2022) without the learned affine part
            mean, std = (
                history.mean(1, keepdim=True),
                history.std(1, keepdim=True, unbiased=False) + 1e-5,
            )
            return (history - mean) / std, mean, std
        return history, torch.zeros_like(history[:, -1:]), torch.ones_like(history[:, -1:])

    def _rows(self, values: Tensor) -> Tensor:
        """``(batch, time, targets)`` -> model rows: one per column when channel-independent."""
        if not self.config.channel_independent:
            return values
        batch, time, targets = values.shape
        return values.transpose(1, 2).reshape(batch * targets, time, 1)

    def _covariates(self, values: Tensor | None) -> Tensor | None:
        if values is None or values.shape[-1] == 0:
            return None
        return (
            values.repeat_interleave(self.config.targets, 0)
            if self.config.channel_independent
            else values
        )

    def _inputs(self, rows: Tensor, past, future) -> Tensor:
        lookback = self.config.lookback
        parts = [rows] + [
            p for p in (past, None if future is None else future[:, :lookback]) if p is not None
        ]
        return torch.cat(parts, -1) if len(parts) > 1 else rows

    def _segment(self, rows, past, future, teacher) -> Tensor:
        c, count = self.config, rows.shape[0]
        segments = self.embed(
            self._inputs(rows, past, future).reshape(count, c.lookback // c.segment_length, -1)
        )
        _, state = self.encoder(segments)
        queries = self.position.expand(count, -1, -1)  # (rows, future segments, hidden)
        if self.channel is not None:
            queries = queries + self.channel.repeat(count // c.targets, 1).unsqueeze(1)
        if self.future_embed is not None:
            ahead = future[:, c.lookback :]
            missing = (
                queries.shape[1] * c.segment_length - c.horizon
            )  # last segment may run past the horizon
            ahead = (
                torch.cat([ahead, ahead[:, -1:].expand(-1, missing, -1)], 1) if missing else ahead
            )
            queries = queries + self.future_embed(ahead.reshape(count, queries.shape[1], -1))
        segments = queries.shape[1]
        # Parallel multi-step decoding (SegRNN Sec. 3.2): every future segment is one
        # recurrent step from the same encoder state, so the batch of steps is rows x segments.
        repeat = lambda s: s.repeat_interleave(segments, 1)  # noqa: E731
        state = tuple(map(repeat, state)) if isinstance(state, tuple) else repeat(state)
        output, _ = self.encoder(queries.reshape(count * segments, 1, -1), state)
        output = self.head(self.dropout(output)).reshape(
            count, segments * c.segment_length, self.width, -1
        )
        return output[:, : c.horizon]

    def _direct(self, rows, past, future, teacher) -> Tensor:
        c, count = self.config, rows.shape[0]
        output, _ = self.encoder(self._inputs(rows, past, future))
        features = self.dropout(output[:, -1])
        if future is not None:
            features = torch.cat([features, future[:, c.lookback :].reshape(count, -1)], -1)
        return self.head(features).reshape(count, c.horizon, self.width, -1)

    def _autoregressive(self, rows, past, future, teacher) -> Tensor:
        c, count = self.config, rows.shape[0]
        _, state = self.encoder(self._inputs(rows, past, future))
        ahead = (
            future[:, c.lookback :] if future is not None else rows.new_zeros(count, c.horizon, 0)
        )
        previous = rows[:, -1]
        if teacher is not None:  # teacher forcing: the true previous values, all steps in one call
            fed = torch.cat([previous.unsqueeze(1), teacher[:, :-1]], 1)
            output, _ = self.decoder(torch.cat([fed, ahead], -1), state)
            return self.head(self.dropout(output)).reshape(count, c.horizon, self.width, -1)
        middle = self._middle_level()
        steps = []
        for step in range(c.horizon):  # O(1) per step: the decoder's state is carried
            output, state = self.decoder.step(torch.cat([previous, ahead[:, step]], -1), state)
            value = self.head(output).reshape(count, self.width, -1)
            previous = value[..., middle]
            steps.append(value)
        return torch.stack(steps, 1)

    def point(self, forecast: Tensor) -> Tensor:
        """The point forecast ``(batch, horizon, targets)``: the level nearest 0.5 of a quantile
        forecast."""
        return forecast[..., self._middle_level()] if self.levels else forecast

    def _middle_level(self) -> int:
        """Index of the quantile level nearest 0.5 (0 without levels)."""
        return (
            min(range(len(self.levels)), key=lambda i: abs(self.levels[i] - 0.5))
            if self.levels
            else 0
        )

    def loss(self, forecast: Tensor, actual: Tensor) -> Tensor:
        """MSE, MAE, or with quantile levels the pinball loss (Koenker & Bassett 1978) averaged over
        levels."""
        forecast = forecast.float()
        if self.levels:
            levels = torch.tensor(self.levels, device=forecast.device)
            error = actual.unsqueeze(-1) - forecast
            return torch.maximum(levels * error, (levels - 1) * error).mean()
        error = forecast - actual
        return error.abs().mean() if self.config.loss == "mae" else error.square().mean()
