"""A series' time line, without torch: chronological splits, scalers fitted on the training
rows only, calendar features and the timestamps after the end. The forecaster's run (torch)
and its export (onnxruntime) both use them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnkit.errors import DataError
from rnnkit.io import parse_list

SCALERS = ("standard", "minmax", "none")
SPLITS = ("train", "valid", "test")


def split_rows(
    length: int, spec: str, time: pd.DatetimeIndex | None = None, frequency: str | None = None
) -> dict[str, tuple[int, int]]:
    """Row ranges ``[start, end)`` of train, valid and test, in time order.

    ``spec``: fractions (``"0.7,0.1,0.2"``, the rest goes unused); two
    boundaries where val and test begin, as row numbers (``"8640,11520"``) or
    times (``"1959-01,1960-01"``; test then runs to the end); or ``"ett"``: 12,
    4 and 4 months of 30 days, the convention of Informer (Zhou et al. 2021) and
    the papers that compare with it, which leaves the rest unused.
    """
    parts = parse_list(spec)
    if spec.strip() == "ett":
        if time is None or len(time) < 2:
            raise DataError("--split ett needs a --time-column with a regular step")
        month = pd.Timedelta(days=30) / (time[1] - time[0])
        edges = [round(k * month) for k in (12, 16, 20)]
        bounds = (0, *edges)
    elif len(parts) == 3:
        try:
            fractions = [float(p) for p in parts]
        except ValueError:
            raise DataError(
                f"--split {spec!r}: expected three fractions such as 0.7,0.1,0.2"
            ) from None
        if min(fractions) < 0 or sum(fractions) > 1 + 1e-9 or fractions[0] == 0:
            raise DataError(
                f"--split {spec!r}: fractions must be >= 0, with train > 0, and sum to at most 1"
            )
        cut = np.cumsum(fractions)
        bounds = (0, *(int(round(c * length)) for c in cut))
    elif len(parts) == 2:
        bounds = (0, *(_boundary(p, time, spec) for p in parts), length)
    else:
        raise DataError(
            f"--split {spec!r}: expected fractions (0.7,0.1,0.2), two boundaries "
            f"(rows or times where val and test begin) or ett"
        )
    if not all(a < b for a, b in zip(bounds, bounds[1:])) or bounds[-1] > length:
        raise DataError(
            f"--split {spec!r}: gives empty or out-of-range parts {list(bounds)} for {length} rows"
        )
    return {name: (bounds[i], bounds[i + 1]) for i, name in enumerate(SPLITS)}


def _boundary(text: str, time, spec: str) -> int:
    if text.lstrip("-").isdigit():
        return int(text)
    if time is None:
        raise DataError(f"--split {spec!r}: time boundaries need a --time-column")
    try:
        moment = pd.Timestamp(text)
    except ValueError:
        raise DataError(
            f"--split {spec!r}: {text!r} is neither a row number nor a date/time"
        ) from None
    return int(time.searchsorted(moment))


@dataclass
class Scaler:
    """Per-column affine scaling fitted on training rows: ``(x - shift) / scale``."""

    kind: str
    shift: list[float]
    scale: list[float]

    @classmethod
    def fit(cls, values: np.ndarray, kind: str) -> Scaler:
        if kind not in SCALERS:
            raise DataError(f"scaler must be one of {', '.join(SCALERS)}; got {kind!r}")
        columns = values.shape[1]
        if kind == "standard":
            shift, scale = values.mean(0), values.std(0)
        elif kind == "minmax":
            shift, scale = values.min(0), values.max(0) - values.min(0)
        else:
            shift, scale = np.zeros(columns), np.ones(columns)
        scale = np.where(
            scale > 0, scale, 1.0
        )  # a constant column stays put instead of dividing by 0
        return cls(kind, [float(v) for v in shift], [float(v) for v in scale])

    def transform(self, values):
        return (values - np.asarray(self.shift)) / np.asarray(self.scale)

    def inverse(self, values):
        """Back to the original units; works on arrays whose last axis is the columns."""
        return values * np.asarray(self.scale) + np.asarray(self.shift)


def calendar_features(
    time: pd.DatetimeIndex, frequency: str | None
) -> tuple[np.ndarray, list[str]]:
    """Known-future covariates from the timestamps, each in [-0.5, 0.5] as in
    Informer's ``timeF`` encoding. Cycles that the series' step cannot resolve are
    left out (an hourly series gets hour, weekday, day of month and day of year; a
    monthly one gets the month)."""
    step = (time[1] - time[0]) if len(time) > 1 else pd.Timedelta(days=1)
    features = {
        "hour": (time.hour / 23.0, step < pd.Timedelta(days=1)),
        "weekday": (time.dayofweek / 6.0, step < pd.Timedelta(days=7)),
        "day_of_month": ((time.day - 1) / 30.0, step < pd.Timedelta(days=28)),
        "day_of_year": ((time.dayofyear - 1) / 365.0, step < pd.Timedelta(days=28)),
        "month": ((time.month - 1) / 11.0, pd.Timedelta(days=28) <= step < pd.Timedelta(days=365)),
    }
    chosen = [name for name, (_, use) in features.items() if use]
    values = (
        np.stack([np.asarray(features[n][0], dtype=float) - 0.5 for n in chosen], axis=1)
        if chosen
        else np.zeros((len(time), 0))
    )
    return values, [f"calendar_{n}" for n in chosen]


def future_times(time: pd.DatetimeIndex, frequency: str | None, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` timestamps after the last one, on the series' grid."""
    if frequency is None:
        raise DataError(
            "cannot tell the series' time step (irregular timestamps), "
            "so its future times are unknown"
        )
    return pd.date_range(time[-1], periods=horizon + 1, freq=frequency)[1:]
