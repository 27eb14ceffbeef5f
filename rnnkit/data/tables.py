"""Rows of labelled text from CSV, TSV and JSONL files, with one-line errors
that name the file, the line and the column."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rnnkit.errors import DataError

TEXT_COLUMNS = ("text", "sentence", "review", "content")
LABEL_COLUMNS = ("label", "labels", "sentiment", "class", "target")
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".txt": "txt"}


def table_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise DataError(
            f"{path}: unknown file type {suffix!r}; expected one of {', '.join(TABLE_FORMATS)}"
        )
    return TABLE_FORMATS[suffix]


def _read_bytes(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path}: byte {error.start} is not valid UTF-8; expected a UTF-8 text file"
        ) from None


def read_rows(path) -> tuple[list[str], list[tuple[int, dict]]]:
    """``(columns, [(line_number, row_dict), ...])`` of a CSV, TSV or JSONL file.

    TSV is read without quoting (tabs never appear inside fields, and quote
    characters are ordinary text, as in GLUE); CSV uses standard quoting.
    """
    path = Path(path)
    kind, text = table_format(path), _read_bytes(path)
    if kind == "jsonl":
        return _jsonl_rows(path, text)
    if kind == "txt":
        return ["text"], [
            (n, {"text": line}) for n, line in enumerate(text.splitlines(), 1) if line.strip()
        ]
    options = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if kind == "tsv" else {}
    reader = csv.reader(io.StringIO(text, newline=""), **options)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(
            f"{path}: the file is empty; expected a header line with column names"
        ) from None
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise DataError(
                f"{path}: line {reader.line_num}: expected {len(header)} fields "
                f"({', '.join(header)}), found {len(values)}"
            )
        rows.append((reader.line_num, dict(zip(header, values))))
    return header, rows


def _jsonl_rows(path: Path, text: str):
    rows, columns = [], {}
    for number, line in enumerate(text.splitlines(), 1):
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
