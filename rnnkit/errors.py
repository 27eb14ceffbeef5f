"""rnnkit's own exceptions: one line, naming the file, the place, what was
expected and what was found."""


class RnnkitError(Exception):
    """Base class of rnnkit's errors."""


class DataError(RnnkitError, ValueError):
    """A data file or value is not what rnnkit expected."""


class RunFolderError(RnnkitError, ValueError):
    """A run folder is missing, incomplete or from another task."""


class TrainingDiverged(RnnkitError, RuntimeError):
    """The loss became NaN or infinite."""
