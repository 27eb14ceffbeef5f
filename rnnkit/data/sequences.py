"""Labelled numeric sequences ``(time, features)`` from UEA/UCR ``.ts``, NumPy
``.npz`` and long-format CSV files, and per-feature standardisation.

Every reader returns ``(sequences, labels)``: a list of float32 tensors
``(time_i, features)`` (lengths may differ) and a list of label strings (None
where the file has no labels).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from rnnkit.data.files import check_file, read_text
from rnnkit.data.tables import read_rows
from rnnkit.errors import DataError

NUMERIC_SUFFIXES = (".ts", ".npz")


def read_sequences(path, label_column=None, sequence_column=None, feature_columns=None):
    """Dispatches on the file type: ``.ts``, ``.npz``, or CSV/TSV (long format)."""
    path = check_file(path, "a .ts, .npz, CSV or TSV file")
    if path.suffix.lower() == ".ts":
        return read_ts(path)
    if path.suffix.lower() == ".npz":
        return read_npz(path)
    return read_long_table(path, sequence_column or "id", label_column, feature_columns)


def _ts_series(path, number, line, dimensions, has_labels):
    fields = line.split(":")
    label = fields.pop().strip() if has_labels else None
    if dimensions is not None and len(fields) != dimensions:
        raise DataError(
            f"{path}: line {number}: expected {dimensions} dimensions separated by ':', "
            f"found {len(fields)}"
        )
    try:
        channels = [[float(v) for v in field.split(",")] for field in fields]
    except ValueError:
        raise DataError(
            f"{path}: line {number}: expected comma-separated numbers; missing values ('?') "
            "and timestamps are not supported"
        ) from None
    for dimension, values in enumerate(channels, 1):
        bad = next((v for v in values if not math.isfinite(v)), None)
        if bad is not None:
            raise DataError(
                f"{path}: line {number}, dimension {dimension}: expected finite numbers, "
                f"found {bad}"
            )
    if len({len(c) for c in channels}) != 1:
        raise DataError(
            f"{path}: line {number}: the dimensions have different lengths "
            f"({', '.join(str(len(c)) for c in channels)}); each dimension needs one value per step"
        )
    return torch.tensor(channels, dtype=torch.float32).T.contiguous(), label


def read_ts(path):
    """The sktime/UEA ``.ts`` format: ``@`` header tags, then after ``@data`` one
    series per line, dimensions separated by ``:``, values by ``,``, the class
    label last."""
    path = check_file(path, "a .ts file")
    dimensions, has_labels, in_data = None, False, False
    sequences, labels = [], []
    for number, line in enumerate(read_text(path).split("\n"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            tag, _, value = line.partition(" ")
            tag = tag.lower()
            if tag == "@dimensions":
                dimensions = _whole_number(path, number, "@dimensions", value)
            elif tag == "@classlabel":
                words = value.split()
                if not words or words[0].lower() not in ("true", "false"):
                    raise DataError(
                        f"{path}: line {number}: @classLabel must be true (then the labels) or "
                        f"false; got {value!r}"
                    )
                has_labels = words[0].lower() == "true"
            elif tag == "@timestamps" and value.strip().lower() == "true":
                raise DataError(f"{path}: line {number}: timestamped .ts files are not supported")
            in_data = tag == "@data"
            continue
        sequence, label = _ts_series(path, number, line, dimensions, has_labels)
        sequences.append(sequence)
        labels.append(label)
    if not sequences:
        raise DataError(f"{path}: no series after @data; expected a UEA/UCR .ts file")
    return sequences, labels if has_labels else None


def _whole_number(path, number: int, tag: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise DataError(
            f"{path}: line {number}: {tag} must be a positive whole number; got {text!r}"
        )
    return value


def _load_npz(path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``x``, ``y`` and ``lengths`` as stored, never unpickling (``allow_pickle=False``)."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            if not hasattr(arrays, "files"):
                raise DataError(f"{path}: holds one .npy array; expected an .npz archive")
            if "x" not in arrays.files:
                found = ", ".join(arrays.files) or "no arrays"
                raise DataError(f"{path}: no array named 'x'; found {found}")
            return tuple(
                arrays[name] if name in arrays.files else None for name in ("x", "y", "lengths")
            )
    except DataError:
        raise
    except Exception as error:  # zipfile, numpy and OS errors: all mean "not an .npz we read"
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{path}: not a readable .npz archive ({detail})") from None


def read_npz(path):
    """Arrays ``x`` ``(n, time)`` or ``(n, time, features)``, optional ``y (n,)`` and
    ``lengths (n,)`` (steps past a row's length are padding)."""
    x, y, lengths = _load_npz(path)
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path}: x must hold numbers; found dtype {x.dtype}")
    if x.ndim not in (2, 3) or x.shape[0] < 1 or x.shape[1] < 1:
        raise DataError(
            f"{path}: x must have shape (n, time) or (n, time, features) with n and time at "
            f"least 1; found {x.shape}"
        )
    x = x.astype(np.float32)
    if lengths is None:
        lengths = np.full(len(x), x.shape[1])
    elif lengths.dtype.kind not in "iu":
        raise DataError(f"{path}: lengths must be whole numbers; found dtype {lengths.dtype}")
    if y is not None and y.dtype.kind not in "biufU":
        raise DataError(f"{path}: y must hold numbers or strings; found dtype {y.dtype}")
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise DataError(
            f"{path}: x must have shape (n, time) or (n, time, features); found {x.shape}"
        )
    for name, array in (("y", y), ("lengths", lengths)):
        if array is not None and array.shape != (len(x),):
            raise DataError(
                f"{path}: {name} must have shape ({len(x)},) to match x; found {array.shape}"
            )
    if np.any(lengths < 1) or np.any(lengths > x.shape[1]):
        raise DataError(f"{path}: lengths must lie in 1..{x.shape[1]}")
    real = np.arange(x.shape[1])[None, :] < lengths[:, None]  # padding may hold anything
    bad = np.argwhere(~np.isfinite(x).all(-1) & real)
    if len(bad):
        row, step = bad[0]
        raise DataError(
            f"{path}: x[{row}, {step}] is not a finite number ({x[row, step].tolist()}); "
            "NaN and infinity are not values a model can learn from"
        )
    sequences = [torch.from_numpy(x[i, : int(n)].copy()) for i, n in enumerate(lengths)]
    return sequences, None if y is None else [str(v) for v in y.tolist()]


def read_long_table(path, sequence_column: str, label_column=None, feature_columns=None):
    """One row per time step: a sequence id column, feature columns (default: all
    the others) and an optional label column; rows keep their order within a sequence."""
    columns, rows = read_rows(path)
    for needed in [sequence_column] + ([label_column] if label_column else []):
        if needed not in columns:
            raise DataError(f"{path}: no column {needed!r}; found columns: {', '.join(columns)}")
    features = feature_columns or [c for c in columns if c not in (sequence_column, label_column)]
    if not features:
        raise DataError(f"{path}: no feature columns besides {sequence_column!r}")
    if not rows:
        raise DataError(f"{path}: has a header but no rows")
    steps: dict[str, list] = {}
    labels: dict[str, str] = {}
    for number, row in rows:
        key = str(row[sequence_column])
        try:
            values = [float(row[c]) for c in features]
        except (TypeError, ValueError, KeyError):
            raise DataError(
                f"{path}: line {number}: expected numbers in columns {', '.join(features)}"
            ) from None
        for column, value in zip(features, values):
            if not math.isfinite(value):
                raise DataError(
                    f"{path}: line {number}, column {column!r}: expected a finite number, "
                    f"found {row[column]!r}"
                )
        steps.setdefault(key, []).append(values)
        if label_column:
            label = str(row[label_column]).strip()
            if labels.setdefault(key, label) != label:
                raise DataError(
                    f"{path}: line {number}: sequence {key!r} has label {label!r} here and "
                    f"{labels[key]!r} before; a sequence has one label"
                )
    sequences = [torch.tensor(v, dtype=torch.float32) for v in steps.values()]
    return sequences, [labels[k] for k in steps] if label_column else None


def standardise(sequences, statistics=None):
    """Per-feature ``(x - mean) / std``; the statistics come from ``sequences``
    unless given (fit on the training set, reuse them everywhere else)."""
    if statistics is None:
        stacked = torch.cat(sequences)
        statistics = {
            "mean": stacked.mean(0).tolist(),
            "std": stacked.std(0).nan_to_num(1.0).clamp_min(1e-8).tolist(),
        }
    mean, std = torch.tensor(statistics["mean"]), torch.tensor(statistics["std"])
    if sequences and sequences[0].shape[-1] != mean.numel():
        raise DataError(
            f"the sequences have {sequences[0].shape[-1]} features; the model expects "
            f"{mean.numel()}"
        )
    return [(s - mean) / std for s in sequences], statistics
