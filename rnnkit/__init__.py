"""rnnkit: recurrent neural networks on sequential data, readable and fast.

This module re-exports the public names and defines nothing itself. They load on first use
(PEP 562): ``rnnkit`` and its torch-free parts (the onnxruntime path of export folders, the
readers) then import on a machine without torch, and ``rnnkit --help`` starts fast.
"""

import importlib

HOMES = {
    "RnnkitError": "rnnkit.errors",
    "from_keras": "rnnkit.tasks.keras_import",
    "KerasModel": "rnnkit.models.keras_layers",
    "ConfigError": "rnnkit.errors",
    "DataError": "rnnkit.errors",
    "MissingExtra": "rnnkit.errors",
    "OutputError": "rnnkit.errors",
    "ResumeMismatch": "rnnkit.errors",
    "RunFolderError": "rnnkit.errors",
    "TrainingDiverged": "rnnkit.errors",
    "RNN": "rnnkit.nn",
    "LSTM": "rnnkit.nn",
    "GRU": "rnnkit.nn",
    "MinGRU": "rnnkit.nn",
    "MinLSTM": "rnnkit.nn",
    "RNNCell": "rnnkit.nn",
    "LSTMCell": "rnnkit.nn",
    "GRUCell": "rnnkit.nn",
    "Recurrent": "rnnkit.nn",
    "detach_state": "rnnkit.nn",
    "LanguageModel": "rnnkit.models",
    "LanguageModelConfig": "rnnkit.models",
    "TextDataConfig": "rnnkit.tasks.lm_data",
    "CacheConfig": "rnnkit.tasks.lm_scoring",
    "DynamicConfig": "rnnkit.tasks.lm_scoring",
    "TrainConfig": "rnnkit.train",
    "train_language_model": "rnnkit.tasks.language_model",
    "load_language_model": "rnnkit.tasks.language_model",
    "SequenceClassifier": "rnnkit.models",
    "ClassifierConfig": "rnnkit.models",
    "ClassifyDataConfig": "rnnkit.tasks.classify_data",
    "train_classifier": "rnnkit.tasks.classifier",
    "load_classifier": "rnnkit.tasks.classifier",
    "Forecaster": "rnnkit.models",
    "ForecasterConfig": "rnnkit.models",
    "ForecastDataConfig": "rnnkit.tasks.forecast",
    "ForecastRun": "rnnkit.tasks.forecast_run",
    "train_forecaster": "rnnkit.tasks.forecast",
    "load_forecaster": "rnnkit.tasks.forecast_run",
    "PianoRollModel": "rnnkit.models",
    "PianoRollModelConfig": "rnnkit.models",
    "MusicDataConfig": "rnnkit.tasks.music",
    "MusicRun": "rnnkit.tasks.music",
    "train_music": "rnnkit.tasks.music",
    "load_music_model": "rnnkit.tasks.music",
    "AudioConfig": "rnnkit.data.audio",
    "SpeechDataConfig": "rnnkit.tasks.speech",
    "SpeechRun": "rnnkit.tasks.speech",
    "train_speech_classifier": "rnnkit.tasks.speech",
    "load_speech_classifier": "rnnkit.tasks.speech",
    "CTCRecognizer": "rnnkit.models",
    "CTCConfig": "rnnkit.models",
    "TranscribeDataConfig": "rnnkit.tasks.transcribe",
    "TranscriberRun": "rnnkit.tasks.transcribe",
    "train_transcriber": "rnnkit.tasks.transcribe",
    "load_transcriber": "rnnkit.tasks.transcribe",
    "__version__": "rnnkit.version",
    "load": "rnnkit.opening",
    "export_run": "rnnkit.export",
}
"""Each public name -> the module that defines it."""

__all__ = list(HOMES)


def __getattr__(name: str):
    if name not in HOMES:
        raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(HOMES[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted([*globals(), *HOMES])
