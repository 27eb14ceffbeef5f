"""Floor 2: models built from the recurrent layers, each with a typed config."""

from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.models.ctc import CTCConfig, CTCRecognizer
from rnnkit.models.forecaster import Forecaster, ForecasterConfig
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig
from rnnkit.models.music import PianoRollModel, PianoRollModelConfig

__all__ = [
    "LanguageModel",
    "LanguageModelConfig",
    "SequenceClassifier",
    "ClassifierConfig",
    "Forecaster",
    "ForecasterConfig",
    "PianoRollModel",
    "PianoRollModelConfig",
    "CTCRecognizer",
    "CTCConfig",
]
