"""An export folder -> its task's runtime class."""

from __future__ import annotations

from rnnkit.errors import RunFolderError
from rnnkit.runtime.classify import ExportedClassifier, ExportedSpeechClassifier
from rnnkit.runtime.forecast import ExportedForecaster
from rnnkit.runtime.music import ExportedMusicModel
from rnnkit.runtime.session import read_description
from rnnkit.runtime.text import ExportedLanguageModel
from rnnkit.runtime.transcribe import ExportedTranscriber

CLASSES = {
    cls.task: cls
    for cls in (
        ExportedLanguageModel,
        ExportedClassifier,
        ExportedSpeechClassifier,
        ExportedTranscriber,
        ExportedForecaster,
        ExportedMusicModel,
    )
}


def open_export(folder, threads: int = 0):
    """The export in ``folder`` opened on onnxruntime, as its task's class."""
    description = read_description(folder)
    task = description["task"]
    if task not in CLASSES:
        raise RunFolderError(
            f"{folder}: a {task!r} export cannot run on onnxruntime here; "
            "use its run folder (torch)"
        )
    return CLASSES[task](folder, description, threads)
