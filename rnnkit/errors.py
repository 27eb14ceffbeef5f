"""Floor 0: rnnkit's own exceptions: one line, naming the file, the place, what was
expected and what was found."""


class RnnkitError(Exception):
    """Base class of rnnkit's errors."""


class DataError(RnnkitError, ValueError):
    """A data file or value is not what rnnkit expected."""


class RunFolderError(RnnkitError, ValueError):
    """A run folder is missing, incomplete or from another task."""


class TrainingDiverged(RnnkitError, RuntimeError):
    """The loss became NaN or infinite."""


def check_choice(name: str, value, choices) -> None:
    """A one-line ``ValueError`` unless ``value`` is one of ``choices``. (``rnnkit.nn`` has
    its own copy: it imports nothing else of rnnkit.)"""
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
