"""Time series from CSV/TSV through pandas: target columns, covariates, an
optional parsed time column, and the checks that keep a series honest (numbers,
missing values, order, duplicates and gaps), each failing with one line that
names the file, the line and the column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnkit.data.tables import read_frame
from rnnkit.errors import DataError

FILLS = ("none", "interpolate", "ffill")
TIME_NAMES = ("date", "time", "timestamp", "datetime", "month", "ds", "week", "day")
ORDERS = ("error", "sort")
DUPLICATES = ("error", "mean", "last")


@dataclass
class Series:
    """A regular series read from ``path``; row ``i`` came from file line ``lines[i]``
    (-1 for a row that --fill inserted into a gap).

    - ``targets``: ``(time, len(target_names))`` float64, what is forecast.
    - ``past``: ``(time, len(past_names))``, covariates known only up to the forecast origin.
    - ``future``: ``(time, len(future_names))``, covariates known ahead (e.g. a holiday flag).
    - ``time``: the parsed time column, or None; ``frequency``: its pandas alias (``"h"``,
      ``"MS"``), or None.
    """

    path: str
    targets: np.ndarray
    target_names: list[str]
    past: np.ndarray
    past_names: list[str]
    future: np.ndarray
    future_names: list[str]
    time: pd.DatetimeIndex | None
    frequency: str | None
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)


def read_table(path) -> pd.DataFrame:
    """The CSV/TSV/JSONL file (``.gz`` too) as strings, so that every check can quote the
    file; each row's line number is in ``frame.attrs["lines"]``."""
    return read_frame(path)


def _line(frame: pd.DataFrame, row: int) -> int:
    lines = frame.attrs.get("lines")
    return int(lines[row]) if lines is not None else row + 2


def _columns(frame: pd.DataFrame, path, names, role: str) -> list[str]:
    for name in names:
        if name not in frame.columns:
            raise DataError(
                f"{path}: no {role} column {name!r}; the columns are "
                f"{', '.join(map(str, frame.columns))}"
            )
    return list(names)


def numeric_columns(frame: pd.DataFrame, path, names) -> np.ndarray:
    """Float columns; an empty cell (or NA/NaN) is missing, anything else must be a number."""
    result = np.empty((len(frame), len(names)))
    for j, name in enumerate(names):
        text = frame[name].str.strip()
        empty = text.isin(["", "NA", "NaN", "nan", "N/A", "null"])
        values = pd.to_numeric(text.where(~empty), errors="coerce")
        bad = (values.isna() & ~empty) | ~np.isfinite(values.fillna(0).to_numpy())
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise DataError(
                f"{path} line {_line(frame, row)}, column {name!r}: expected a finite number, "
                f"found {text.iloc[row]!r}"
            )
        result[:, j] = values.to_numpy(dtype=float)
    return result


def _parse_time(frame: pd.DataFrame, path, column: str) -> pd.DatetimeIndex:
    text = frame[column].str.strip()
    try:
        time = pd.to_datetime(text, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError) as error:  # e.g. mixed time zones
        raise DataError(
            f"{path}, column {column!r}: the times cannot be read together ({error})"
        ) from None
    if time.isna().any():
        row = int(np.argmax(time.isna().to_numpy()))
        raise DataError(
            f"{path} line {_line(frame, row)}, column {column!r}: expected a date/time, found "
            f"{text.iloc[row]!r}"
        )
    return pd.DatetimeIndex(time)


def _order(time: pd.DatetimeIndex, lines: np.ndarray, path, order: str) -> np.ndarray:
    """Row order by time: an error for unsorted rows unless ``order == "sort"``."""
    backwards = np.flatnonzero(np.diff(time.asi8) < 0)
    if backwards.size and order == "error":
        i = backwards[0] + 1
        raise DataError(
            f"{path} line {lines[i]}: time {time[i]} comes before the previous row's "
            f"{time[i - 1]}; "
            f"rows must be in time order (or pass --order sort)"
        )
    return np.argsort(time.asi8, kind="stable")


def _deduplicate(time, lines, columns: list[np.ndarray], path, duplicates: str):
    repeated = time.duplicated(keep=False)
    if not repeated.any():
        return time, lines, columns
    if duplicates == "error":
        first = int(np.argmax(repeated))
        second = first + 1 + int(np.argmax(time[first + 1 :] == time[first]))
        raise DataError(
            f"{path} lines {lines[first]} and {lines[second]}: duplicate time {time[first]} "
            f"(pass --duplicates mean or last to merge them)"
        )
    keep = ~time.duplicated(keep="last")
    merged = []
    for values in columns:
        if duplicates == "mean" and values.shape[1]:
            values = (
                pd.DataFrame(values).groupby(time.asi8, sort=False).transform("mean").to_numpy()
            )
        merged.append(values[keep])
    return time[keep], lines[keep], merged


def infer_frequency(time: pd.DatetimeIndex) -> str | None:
    """The series' pandas frequency alias, read from gap-free stretches so that a
    few missing timestamps do not hide it; None if the steps are irregular."""
    if len(time) < 3:
        return None
    guesses = []
    for start in (0, len(time) // 3, 2 * len(time) // 3, max(0, len(time) - 25)):
        piece = time[start : start + 25]
        if len(piece) >= 3:
            guesses.append(pd.infer_freq(piece))
    guesses = [g for g in guesses if g]
    return max(set(guesses), key=guesses.count) if guesses else None


def _fill_gaps(time, lines, columns, frequency: str, path, fill: str):
    """Missing timestamps of a regular series become rows of missing values
    (then filled like any others), or an error without --fill."""
    full = pd.date_range(time[0], time[-1], freq=frequency)
    if len(full) == len(time) and (full == time).all():
        return time, lines, columns
    missing = full.difference(time)
    if fill == "none" or len(full) < len(time) or not len(missing):
        where = f"the first is {missing[0]}" if len(missing) else "the times are off the grid"
        raise DataError(
            f"{path}: {len(missing)} timestamps missing from the {frequency} grid ({where}); "
            f"pass --fill interpolate or --fill ffill to fill them"
        )
    position = full.get_indexer(time)
    grown = []
    for values in columns:
        filled = np.full((len(full), values.shape[1]), np.nan)
        filled[position] = values
        grown.append(filled)
    new_lines = np.full(len(full), -1)
    new_lines[position] = lines
    return full, new_lines, grown


def _fill_missing(values: np.ndarray, names, lines, path, fill: str) -> np.ndarray:
    missing = np.isnan(values)
    if not missing.any():
        return values
    if fill == "none":
        row, column = np.argwhere(missing)[0]
        where = f"line {lines[row]}" if lines[row] >= 0 else "a missing timestamp"
        raise DataError(
            f"{path} {where}, column {names[column]!r}: missing value "
            f"(pass --fill interpolate or --fill ffill)"
        )
    frame = pd.DataFrame(values)
    if fill == "interpolate":  # linear between neighbours; the ends take the nearest value
        frame = frame.interpolate(limit_direction="both")
    else:  # carry the last value forward; leading gaps take the first value
        frame = frame.ffill().bfill()
    if frame.isna().any().any():
        column = int(np.argmax(frame.isna().any().to_numpy()))
        raise DataError(f"{path}, column {names[column]!r}: has no values at all")
    return frame.to_numpy()


def read_series(
    path,
    targets,
    time_column=None,
    past=(),
    future=(),
    fill="none",
    order="error",
    duplicates="error",
) -> Series:
    """Reads the columns of a series from a CSV/TSV file; see :class:`Series`.

    ``time_column``: a column name, None (rows are in file order), or ``"auto"``: the
    first column named date, time, timestamp, datetime, month, ds, week or day.
    Rows must be in time order with unique times unless ``order``/``duplicates``
    say what to do; missing values (and timestamps missing from the inferred grid)
    are an error unless ``fill`` is ``interpolate`` or ``ffill``.
    """
    for name, value, allowed in (
        ("fill", fill, FILLS),
        ("order", order, ORDERS),
        ("duplicates", duplicates, DUPLICATES),
    ):
        if value not in allowed:
            raise DataError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    frame = read_table(path)
    groups = [
        _columns(frame, path, names, role)
        for names, role in ((targets, "target"), (past, "covariate"), (future, "future covariate"))
    ]
    if not groups[0]:
        raise DataError(
            f"{path}: no target column given; the columns are {', '.join(map(str, frame.columns))}"
        )
    if time_column == "auto":
        time_column = next(
            (name for name in frame.columns if str(name).strip().lower() in TIME_NAMES), None
        )
    lines = np.asarray(frame.attrs["lines"])  # each row's line in the file
    columns = [numeric_columns(frame, path, names) for names in groups]
    time = frequency = None
    if time_column:
        _columns(frame, path, [time_column], "time")
        time = _parse_time(frame, path, time_column)
        rows = _order(time, lines, path, order)
        time, lines, columns = time[rows], lines[rows], [values[rows] for values in columns]
        time, lines, columns = _deduplicate(time, lines, columns, path, duplicates)
        frequency = infer_frequency(time)
        if frequency is not None:
            time, lines, columns = _fill_gaps(time, lines, columns, frequency, path, fill)
    columns = [
        _fill_missing(values, names, lines, path, fill) for values, names in zip(columns, groups)
    ]
    return Series(
        str(path),
        columns[0],
        groups[0],
        columns[1],
        groups[1],
        columns[2],
        groups[2],
        time,
        frequency,
        lines,
    )
