"""Any run folder -> its task's :class:`~rnnkit.tasks.common.Run`, by the task in its config."""

from __future__ import annotations

from rnnkit.errors import RunFolderError
from rnnkit.tasks.classifier import load_classifier
from rnnkit.tasks.forecast_run import load_forecaster
from rnnkit.tasks.language_model import load_language_model
from rnnkit.tasks.music import load_music_model
from rnnkit.tasks.speech import load_speech_classifier
from rnnkit.tasks.transcribe import load_transcriber
from rnnkit.train import RunFolder

LOADERS = {
    "lm": load_language_model,
    "classify": load_classifier,
    "forecast": load_forecaster,
    "music": load_music_model,
    "speech": load_speech_classifier,
    "transcribe": load_transcriber,
}


def load_run(folder, device: str = "auto"):
    """The run in ``folder`` loaded for use, whatever its task."""
    task = RunFolder(folder).read_config().get("task")
    if task not in LOADERS:
        raise RunFolderError(f"{folder}: holds a {task!r} model, which rnnkit does not know")
    return LOADERS[task](folder, device)
