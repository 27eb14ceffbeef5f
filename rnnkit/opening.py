"""``rnnkit.load(path)``: any run folder or export folder, as the object that uses it."""

from __future__ import annotations

from rnnkit.runtime import is_export_folder, open_export


def load(path, device: str = "auto"):
    """The model in ``path``, ready to use: for a run folder, its task's run (torch, on
    ``device``: ``LanguageModelRun``, ``ClassifierRun``, ``ForecastRun``, ``MusicRun``,
    ``SpeechRun`` or ``TranscriberRun``); for an export folder, its onnxruntime twin with the
    same methods (``generate``, ``predict``, ``forecast``, ``transcribe``), without torch.

    >>> rnnkit.load("runs/shakespeare").generate("ROMEO:", 200, seed=1)
    >>> rnnkit.load("exports/sst2").predict(["a gorgeous, witty film"])
    """
    if is_export_folder(path):
        return open_export(path)
    from rnnkit.tasks.loading import load_run  # torch loads here, for a run folder only

    return load_run(path, device)
