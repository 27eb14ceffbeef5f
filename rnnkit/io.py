"""The one place that writes files and figures, and reads comma-separated lists.

Every file rnnkit writes goes to a temporary name beside its destination and is
then renamed (``os.replace`` is atomic on POSIX and Windows), so a crash, a
full disk or Ctrl-C never leaves half a file where a whole one is expected.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from rnnkit.errors import OutputError


def atomic_write(path, data: bytes) -> Path:
    """Writes ``data`` to ``path`` through a temporary file and a rename; returns the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{path.parent}: cannot create the folder ({error.strerror})") from None
    # The process id keeps two writers (say, two training processes) off each other's file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:  # a full disk (ENOSPC), no permission, a file where a folder goes
        raise OutputError(
            f"{path}: could not be written ({error.strerror or error}); "
            "the previous version, if any, is unchanged"
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_text(path, text: str) -> Path:
    return atomic_write(path, text.encode("utf-8"))


def replace_folder(staging, destination) -> Path:
    """Moves the complete folder ``staging`` to ``destination`` by renames, replacing the
    folder there (the caller checks that it may), so that a crash leaves either the old
    folder or the new one, never a mix."""
    staging, destination = Path(staging), Path(destination)
    old = destination.with_name(f".{destination.name}.{os.getpid()}.old")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():
            os.replace(destination, old)
        os.replace(staging, destination)
    except OSError as error:
        if old.exists() and not destination.exists():
            os.replace(old, destination)
        raise OutputError(
            f"{destination}: could not be written ({error.strerror or error}); "
            "the previous version, if any, is unchanged"
        ) from None
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    return destination


def write_json(path, payload, indent: int = 2) -> Path:
    return write_text(
        path, json.dumps(payload, indent=indent, ensure_ascii=False, default=float) + "\n"
    )


def new_figure(rows: int = 1, columns: int = 1, **options):
    """``(figure, axes)`` from matplotlib's file-only (Agg) backend: rnnkit never opens a window."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot.subplots(rows, columns, **options)


def save_figure(figure, path, dpi: int = 100) -> Path:
    """Saves ``figure`` as a PNG at ``path`` (temporary name, then rename) and closes it."""
    import io

    from matplotlib import pyplot

    buffer = io.BytesIO()
    try:
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=dpi)
    finally:
        pyplot.close(figure)
    return atomic_write(path, buffer.getvalue())


def parse_list(text, kind=str, name: str = "the list", example: str = "a,b,c") -> list:
    """``"a, b,,c"`` -> ``[kind("a"), kind("b"), kind("c")]``: comma-separated, blanks
    skipped; a part that ``kind`` cannot read is a one-line ``ValueError`` naming ``name``."""
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        parts = [str(part).strip() for part in text]
    else:
        parts = [part.strip() for part in str(text).split(",")]
    try:
        return [kind(part) for part in parts if part]
    except ValueError:
        what = {int: "integers", float: "numbers"}.get(kind, "values")
        raise ValueError(
            f"{name} must be comma-separated {what} such as {example}; got {text!r}"
        ) from None
