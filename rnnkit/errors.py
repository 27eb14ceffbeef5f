"""Floor 0: rnnkit's own exceptions: one line, naming the file, the place, what was
expected and what was found; and the one place that says which extra a feature needs."""

from __future__ import annotations

import importlib


class RnnkitError(Exception):
    """Base class of rnnkit's errors. The message is always one line: a line break quoted from
    a file (a column name, a value) is shown as ``\\n``."""

    def __init__(self, *args):
        if args and isinstance(args[0], str):
            args = (args[0].replace("\r", "\\r").replace("\n", "\\n"), *args[1:])
        super().__init__(*args)


class DataError(RnnkitError, ValueError):
    """A data file or value is not what rnnkit expected."""


class RunFolderError(RnnkitError, ValueError):
    """A run folder is missing, incomplete, damaged or from another task."""


class ResumeMismatch(RunFolderError):
    """``--resume`` was given settings that differ from the run's: ``differences`` holds
    ``(field, given, saved)``."""

    def __init__(self, folder, differences: list):
        self.folder, self.differences = folder, differences
        super().__init__(self._text(lambda name: name))

    def _text(self, spell) -> str:
        listed = ", ".join(
            f"{spell(name)} {given!r} (the run has {saved!r})"
            for name, given, saved in self.differences
        )
        return (
            f"{self.folder}: resuming continues the saved run, but {listed}; drop "
            f"{'it' if len(self.differences) == 1 else 'them'}, or train into a new folder"
        )

    def as_flag(self) -> str:
        return self._text(lambda name: f"--{name.replace('_', '-')}")


class ConfigError(RnnkitError, ValueError):
    """A config field (a command-line flag) is out of range or of the wrong kind.

    ``field`` names it, so the command line can say ``--hidden-size`` where the Python
    API says ``hidden_size``; the message starts with the field's name."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field} {message}")
        self.field, self.detail = field, message

    def as_flag(self) -> str:
        return f"--{self.field.replace('_', '-')} {self.detail}"


class OutputError(RnnkitError, OSError):
    """A file could not be written (a full disk, no permission, a file where a folder goes)."""


class MissingExtra(RnnkitError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


class TrainingDiverged(RnnkitError, RuntimeError):
    """The loss became NaN or infinite."""


EXTRAS = {
    "tensorboard": ("tensorboard", "TensorBoard event files"),
    "tokenizers": ("subword", "BPE tokenization"),
    "mido": ("music", "MIDI files"),
    "scipy": ("music", "MATLAB .mat piano rolls"),
    "onnx": ("onnx", "ONNX export"),
    "onnxruntime": ("onnx", "export folders"),
    "fastapi": ("serve", "rnnkit serve"),
    "uvicorn": ("serve", "rnnkit serve"),
    "h5py": ("keras", "Keras model files"),
}
"""module -> (the pip extra that installs it, the feature that needs it)."""


def require(module: str, where: str = ""):
    """``import module``, or a :class:`MissingExtra` naming the extra:
    "reading x.mid: MIDI files need mido: pip install 'rnnkit[music]'"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra, feature = EXTRAS[module.split(".")[0]]
        prefix = f"{where}: " if where else ""
        raise MissingExtra(
            f"{prefix}{feature} need {module.split('.')[0]}: pip install 'rnnkit[{extra}]'"
        ) from None


def check_choice(name: str, value, choices) -> None:
    """A one-line :class:`ConfigError` unless ``value`` is one of ``choices``. (``rnnkit.nn``
    has its own copy: it imports nothing else of rnnkit.)"""
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ConfigError(name, f"must be one of {allowed}; got {value!r}")
