"""An export folder opened on onnxruntime: ``export.json`` read and checked, one session.

Nothing under :mod:`rnnkit.runtime` imports torch (a test runs it with a ``torch`` that
raises on import): an export folder runs where only numpy and onnxruntime are installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np

from rnnkit.errors import RunFolderError, require

FORMAT = "rnnkit-export/1"
"""The export folder format this rnnkit writes and reads."""
DESCRIPTION = "export.json"


def is_export_folder(path) -> bool:
    """True when ``path`` names a folder holding ``export.json``; any other string (a text
    of 20,000 words, a name with a NUL) is simply not one."""
    try:
        return (Path(path) / DESCRIPTION).is_file()
    except (OSError, ValueError):
        return False


def read_description(folder) -> dict:
    """``export.json`` of ``folder``, checked: one-line errors name the file and the problem."""
    path = Path(folder) / DESCRIPTION
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{folder}: not an export folder (no {DESCRIPTION})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunFolderError(f"{path}: unreadable ({error})") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        found = description.get("format") if isinstance(description, dict) else None
        raise RunFolderError(f"{path}: format must be {FORMAT!r}; found {found!r}")
    for key in ("task", "graph", "run"):
        if key not in description:
            raise RunFolderError(f"{path}: has no {key!r} entry")
    return description


class Export:
    """An export folder loaded for inference: ``description`` (export.json), ``config`` (the
    run's config.json), ``run(feeds) -> {output name: array}``.

    Each task subclasses it with the preprocessing its run does in torch."""

    task: ClassVar[str]

    def __init__(self, folder, description: dict, threads: int = 0):
        ort = require("onnxruntime", "running an export folder")
        self.folder, self.description = Path(folder), description
        self.config = description["run"]
        self.graph = description["graph"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: onnxruntime's default, one per core
        options.log_severity_level = 3  # errors only: no warnings on the user's terminal
        model = self.folder / self.graph["file"]
        try:
            self.session = ort.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own types for a corrupt file
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise RunFolderError(f"{model}: cannot be loaded by onnxruntime ({message})") from None
        self.output_names = [output["name"] for output in self.graph["outputs"]]
        self.name = self.folder.resolve().name

    def run(self, feeds: dict) -> dict:
        outputs = self.session.run(self.output_names, feeds)
        return dict(zip(self.output_names, outputs))

    def input_shape(self, name: str) -> list:
        for entry in self.graph["inputs"]:
            if entry["name"] == name:
                return entry["shape"]
        raise KeyError(name)


def pad_rows(rows: list[np.ndarray], dtype) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ``(batch, longest, ...)`` of ``dtype`` (zeros past each row) and the
    lengths ``(batch,)`` int64."""
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    shape = (len(rows), int(lengths.max()), *np.shape(rows[0])[1:])
    padded = np.zeros(shape, dtype=dtype)
    for index, row in enumerate(rows):
        padded[index, : len(row)] = row
    return padded, lengths


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Row indices grouped by similar length (so little padding is computed), in order of
    length; every row once."""
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
