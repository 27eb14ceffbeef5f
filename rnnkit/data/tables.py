"""The one table reader: CSV, TSV and JSONL (``.gz`` too), shared by classification,
forecasting, numeric sequences and speech manifests, with one set of one-line errors that
name the file, the line and the column.

- Text: UTF-8 with or without a BOM, or UTF-16 with its BOM; any line ends (see
  :mod:`rnnkit.data.files`).
- CSV: the delimiter is sniffed from the header line (``,`` ``;`` tab ``|``: semicolons are
  common where the decimal mark is a comma), with standard quoting.
- TSV: tabs, no quoting (quote characters are ordinary text, as in GLUE).
- JSONL: one JSON object per line.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rnnkit.data.files import check_file, decode_text, read_bytes
from rnnkit.errors import DataError

TEXT_COLUMNS = ("text", "sentence", "review", "content")
LABEL_COLUMNS = ("label", "labels", "sentiment", "class", "target")
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".txt": "txt"}
DELIMITERS = (",", ";", "\t", "|")
MAX_FIELD = 1 << 24
"""Longest field the CSV reader takes (16 MiB; Python's default of 128 KiB cuts long texts)."""

csv.field_size_limit(MAX_FIELD)


def table_format(path: Path) -> str:
    name = Path(path).name.lower().removesuffix(".gz")
    suffix = Path(name).suffix
    if suffix not in TABLE_FORMATS:
        raise DataError(
            f"{path}: unknown file type {suffix!r}; expected one of "
            f"{', '.join(TABLE_FORMATS)} (or the same ending in .gz)"
        )
    return TABLE_FORMATS[suffix]


def read_table_text(path) -> str:
    """The table file as text (see :mod:`rnnkit.data.files`)."""
    return decode_text(path, read_bytes(path, "a CSV, TSV or JSONL file"))


def sniff_delimiter(header: str) -> str:
    """The first of ``DELIMITERS`` the header line contains (``,`` if none)."""
    return next((d for d in DELIMITERS if d in header), ",")


def read_records(path) -> tuple[list[str], list[int], list[list]]:
    """``(columns, line_numbers, rows)``: each row a list of values in column order (text
    for CSV and TSV, JSON values for JSONL, None where a JSONL object lacks the key)."""
    path = check_file(path, "a CSV, TSV or JSONL file")
    kind, text = table_format(path), read_table_text(path)
    if kind == "jsonl":
        columns, numbered = _jsonl_rows(path, text)
        return (
            columns,
            [n for n, _ in numbered],
            [[row.get(c) for c in columns] for _, row in numbered],
        )
    if kind == "txt":
        lines = [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
        return ["text"], [n for n, _ in lines], [[line] for _, line in lines]
    if kind == "tsv":
        options = {"delimiter": "\t", "quoting": csv.QUOTE_NONE}
    else:
        options = {"delimiter": sniff_delimiter(text.split("\n", 1)[0])}
    reader = csv.reader(io.StringIO(text, newline=""), **options)
    try:
        header = next(reader)
        while not any(name.strip() for name in header):  # blank lines before the header
            header = next(reader)
    except StopIteration:
        raise DataError(
            f"{path}: the file is empty; expected a header line with column names"
        ) from None
    except csv.Error as error:
        raise DataError(f"{path}: line {reader.line_num}: {error}") from None
    header = [name.strip() for name in header]
    _check_header(path, header)
    numbers, rows = [], []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise DataError(
                    f"{path}: line {reader.line_num}: expected {len(header)} fields "
                    f"({', '.join(header)}), found {len(values)}"
                )
            numbers.append(reader.line_num)
            rows.append(values)
    except csv.Error as error:
        raise DataError(f"{path}: line {reader.line_num}: {error}") from None
    return header, numbers, rows


def _check_header(path, header: list[str]) -> None:
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path}: line 1: column {name!r} appears twice in the header")
        seen.add(name)


def read_rows(path) -> tuple[list[str], list[tuple[int, dict]]]:
    """``(columns, [(line_number, row_dict), ...])`` of a CSV, TSV or JSONL file."""
    columns, numbers, rows = read_records(path)
    return columns, [(n, dict(zip(columns, values))) for n, values in zip(numbers, rows)]


def read_frame(path):
    """The table as a pandas DataFrame of strings (an empty string where a value is missing),
    with each row's line number in ``frame.attrs["lines"]``."""
    import numpy as np
    import pandas as pd

    columns, numbers, rows = read_records(path)
    if not rows:
        raise DataError(f"{path}: has a header but no rows")
    text = [
        ["" if v is None else v if isinstance(v, str) else json.dumps(v) for v in row]
        for row in rows
    ]
    frame = pd.DataFrame(text, columns=columns, dtype=str)
    frame.attrs["lines"] = np.asarray(numbers)
    return frame


def _jsonl_rows(path: Path, text: str):
    rows, columns = [], {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(
                f"{path}: line {number}, column {error.colno}: not valid JSON ({error.msg})"
            ) from None
        if not isinstance(row, dict):
            raise DataError(
                f"{path}: line {number}: expected a JSON object, found {type(row).__name__}"
            )
        columns.update(dict.fromkeys(row))
        rows.append((number, {k: v for k, v in row.items()}))
    return list(columns), rows


def pick_column(path, columns, wanted: str | None, guesses, what: str, flag: str) -> str:
    """``wanted`` if it is a column; without one, the first of ``guesses`` present."""
    if wanted is not None:
        if wanted not in columns:
            raise DataError(
                f"{path}: no {what} column {wanted!r}; found columns: "
                f"{', '.join(map(str, columns))}"
            )
        return wanted
    for guess in guesses:
        if guess in columns:
            return guess
    raise DataError(
        f"{path}: no {what} column; expected one of {', '.join(guesses)}, found "
        f"{', '.join(map(str, columns)) or 'none'} (choose one with {flag})"
    )


def _field(path, number, row, column, what) -> str:
    value = row.get(column)
    if value is None:
        raise DataError(f"{path}: line {number}: the {what} ({column!r}) is missing")
    value = str(value).strip()
    if not value:
        raise DataError(f"{path}: line {number}: the {what} ({column!r}) is empty")
    return value


def read_labelled_text(path, text_column=None, label_column=None, labels_required: bool = True):
    """``(texts, labels, line_numbers)`` from a table; ``labels`` is None when the
    file has no label column and ``labels_required`` is False."""
    columns, rows = read_rows(path)
    if not rows:
        raise DataError(f"{path}: has no rows; expected at least one example")
    text_column = pick_column(path, columns, text_column, TEXT_COLUMNS, "text", "--text-column")
    has_label = (
        label_column in columns if label_column else any(c in columns for c in LABEL_COLUMNS)
    )
    labels = None
    if labels_required or has_label:
        label_column = pick_column(
            path, columns, label_column, LABEL_COLUMNS, "label", "--label-column"
        )
        labels = [_field(path, n, row, label_column, "label") for n, row in rows]
    texts = [_field(path, n, row, text_column, "text") for n, row in rows]
    return texts, labels, [n for n, _ in rows]
