"""The models a server holds, by name, and what each endpoint asks of them.

A model is a run folder (torch) or an export folder (onnxruntime), loaded by
:func:`rnnkit.opening.load`; both kinds have the same methods, so the endpoints do not care
which. Every function here is synchronous: the app runs them in worker threads."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.data.wav import read_samples
from rnnkit.errors import RnnkitError
from rnnkit.opening import load
from rnnkit.runtime import is_export_folder
from rnnkit.serve.limits import LimitExceeded, ServeLimits


@dataclass
class Served:
    """One loaded model: its ``name`` (the folder's name), ``task``, ``runtime`` and object."""

    name: str
    task: str
    runtime: str
    model: object
    folder: Path

    def describe(self) -> dict:
        return {
            "name": self.name,
            "task": self.task,
            "runtime": self.runtime,
            "folder": str(self.folder),
        }


def load_models(folders, device: str = "auto") -> dict[str, Served]:
    """name -> :class:`Served` for each run or export folder; names must differ."""
    models = {}
    if any(str(folder) == "" for folder in folders):
        raise RnnkitError("an empty folder name; give run or export folders")
    for folder in map(Path, folders):
        name = folder.resolve().name
        if name in models:
            raise RnnkitError(
                f"{folder}: two models are named {name!r}; give folders distinct names"
            )
        export = is_export_folder(folder)
        model = load(folder, device=device)
        task = model.task if export else model.config["task"]
        models[name] = Served(name, task, "onnxruntime" if export else "torch", model, folder)
    return models


MEDIA_SUFFIXES = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/vnd.wave": ".wav",
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
}
"""The suffix an upload named without one is read by, from the media type of its part."""


class UploadedFile:
    """Uploaded bytes in a temporary file with the upload's suffix (the readers take paths);
    errors name the upload, not the temporary path."""

    def __init__(self, data: bytes, filename: str, suffixes: tuple[str, ...], media: str = ""):
        suffix = Path(filename or "").suffix.lower()
        self.filename = filename or "upload"
        if suffix not in suffixes:  # a name without the suffix: the part's media type says
            suffix = MEDIA_SUFFIXES.get(media.split(";")[0].strip().lower(), suffix)
        if suffix not in suffixes:
            found = suffix or "no suffix"
            raise RnnkitError(
                f"{self.filename}: expected a {' or '.join(suffixes)} file; got {found!r}"
            )
        self.handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
        self.handle.write(data)
        self.handle.close()
        self.path = Path(self.handle.name)

    def __enter__(self) -> "UploadedFile":
        return self

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)

    def rename_in(self, error: Exception) -> RnnkitError:
        return RnnkitError(str(error).replace(str(self.path), self.filename))


def check_wav_length(path: Path, filename: str, limits: ServeLimits) -> None:
    samples, rate = read_samples(path)
    seconds = len(samples) / rate
    if seconds > limits.max_wav_seconds:
        raise LimitExceeded(
            "max_wav_seconds",
            f"{filename}: {seconds:.1f} s of audio; the limit is {limits.max_wav_seconds:g} s "
            "(--max-wav-seconds)",
            413,
        )


def alphabet(served: Served) -> list[str] | None:
    """The characters a character LM reads (id 0, the unknown character, is none of them);
    None for word and subword models, which read any text."""
    codec = served.model.codec
    return codec.tokenizer.characters[1:] if codec.kind == "char" else None


def takes_json_history(served: Served) -> bool:
    """A forecaster whose history alone is its input (no known-future covariates, which come
    with times or their own file): it takes a JSON body; the others take a CSV upload."""
    return served.model.frame.future == 0


def forecast_json(served: Served, rows: list) -> dict:
    """The forecast after ``rows`` (the history, oldest first, as the schema checked it)."""
    frame = served.model.frame
    history = np.asarray(rows, dtype=np.float32)[-frame.lookback :]
    targets = len(frame.target_names)
    past = history[:, targets:] if frame.past else None
    forecast = served.model.predict(history[:, :targets], past)
    columns = frame.columns_of(forecast)
    return {
        "forecast": {name: [_finite(v) for v in values] for name, values in columns.items()},
        "history": {
            name: history[:, j].astype(float).tolist()
            for j, name in enumerate(frame.target_names)
        },
    }


def _finite(value) -> float | None:
    return float(value) if math.isfinite(value) else None


def numeric_inputs(served: Served, inputs: list) -> list[np.ndarray]:
    """Numeric sequences ``(time, features)`` checked for shape and finiteness, one error per
    bad input naming it."""
    features = len(served.model.config["data"]["statistics"]["mean"])
    arrays = []
    for index, value in enumerate(inputs):
        try:
            array = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise RnnkitError(f"inputs[{index}]: expected a list of rows of {features} numbers")
        if array.ndim != 2 or array.shape[1] != features or array.shape[0] == 0:
            raise RnnkitError(
                f"inputs[{index}]: expected (time, {features}) numbers; got shape {array.shape}"
            )
        if not np.isfinite(array).all():
            raise RnnkitError(f"inputs[{index}]: holds NaN or infinity")
        arrays.append(array)
    return arrays


def is_numeric_classifier(served: Served) -> bool:
    data = served.model.config["data"]
    return served.task == "classify" and not isinstance(
        data.get("text_encoder", data.get("encoder")), dict
    )


def predict_inputs(served: Served, inputs: list) -> list[dict]:
    """Labels and probabilities of ``inputs`` (texts or checked numeric arrays)."""
    if is_numeric_classifier(served) and served.runtime == "torch":
        import torch  # a torch run's classifier takes tensors

        inputs = [torch.from_numpy(array) for array in inputs]
    return served.model.predict(inputs)


def finite_forecast(table) -> dict:
    """A forecast DataFrame as JSON-ready columns (times as ISO strings)."""
    columns = {}
    for name in table.columns:
        values = table[name]
        if name == "time":
            columns[name] = [stamp.isoformat() for stamp in values]
        else:
            columns[name] = [None if not math.isfinite(v) else float(v) for v in values]
    return columns
