"""rnnkit: recurrent neural networks on sequential data, readable and fast.

This module re-exports the public names and defines nothing itself.
"""

from rnnkit.data.audio import AudioConfig  # noqa: E402
from rnnkit.errors import (  # noqa: E402
    ConfigError,
    DataError,
    MissingExtra,
    OutputError,
    ResumeMismatch,
    RnnkitError,
    RunFolderError,
    TrainingDiverged,
)
from rnnkit.models import (  # noqa: E402
    ClassifierConfig,
    CTCConfig,
    CTCRecognizer,
    Forecaster,
    ForecasterConfig,
    LanguageModel,
    LanguageModelConfig,
    PianoRollModel,
    PianoRollModelConfig,
    SequenceClassifier,
)
from rnnkit.nn import (  # noqa: E402
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    MinGRU,
    MinLSTM,
    Recurrent,
    RNNCell,
    detach_state,
)
from rnnkit.tasks.classifier import (  # noqa: E402
    ClassifyDataConfig,
    load_classifier,
    train_classifier,
)
from rnnkit.tasks.forecast import ForecastDataConfig, train_forecaster  # noqa: E402
from rnnkit.tasks.forecast_run import ForecastRun, load_forecaster  # noqa: E402
from rnnkit.tasks.language_model import (  # noqa: E402
    TextDataConfig,
    load_language_model,
    train_language_model,
)
from rnnkit.tasks.lm_scoring import CacheConfig, DynamicConfig  # noqa: E402
from rnnkit.tasks.music import MusicDataConfig, MusicRun, load_music_model, train_music  # noqa: E402
from rnnkit.tasks.speech import (  # noqa: E402
    SpeechDataConfig,
    SpeechRun,
    load_speech_classifier,
    train_speech_classifier,
)
from rnnkit.tasks.transcribe import (  # noqa: E402
    TranscribeDataConfig,
    TranscriberRun,
    load_transcriber,
    train_transcriber,
)
from rnnkit.train import TrainConfig  # noqa: E402
from rnnkit.version import __version__  # noqa: E402

__all__ = [
    "RnnkitError",
    "ConfigError",
    "DataError",
    "MissingExtra",
    "OutputError",
    "ResumeMismatch",
    "RunFolderError",
    "TrainingDiverged",
    "RNN",
    "LSTM",
    "GRU",
    "MinGRU",
    "MinLSTM",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "Recurrent",
    "detach_state",
    "LanguageModel",
    "LanguageModelConfig",
    "TextDataConfig",
    "CacheConfig",
    "DynamicConfig",
    "TrainConfig",
    "train_language_model",
    "load_language_model",
    "SequenceClassifier",
    "ClassifierConfig",
    "ClassifyDataConfig",
    "train_classifier",
    "load_classifier",
    "Forecaster",
    "ForecasterConfig",
    "ForecastDataConfig",
    "ForecastRun",
    "train_forecaster",
    "load_forecaster",
    "PianoRollModel",
    "PianoRollModelConfig",
    "MusicDataConfig",
    "MusicRun",
    "train_music",
    "load_music_model",
    "AudioConfig",
    "SpeechDataConfig",
    "SpeechRun",
    "train_speech_classifier",
    "load_speech_classifier",
    "CTCRecognizer",
    "CTCConfig",
    "TranscribeDataConfig",
    "TranscriberRun",
    "train_transcriber",
    "load_transcriber",
    "__version__",
]
