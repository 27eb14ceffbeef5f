"""Classifiers' export folders on onnxruntime: text, numeric sequences and speech.

Each does what its torch run does before the model (:class:`~rnnkit.tasks.classifier.
ClassifierRun`, :class:`~rnnkit.tasks.speech.SpeechRun`): the same tokenizer and
vocabulary, the same standardisation, the same audio features (:mod:`rnnkit.data.spectra`,
tested against the torch features), then one graph call per batch of similar lengths.
"""

from __future__ import annotations

import numpy as np

from rnnkit.data.spectra import AudioConfig, SpectralFeatures, resample_array
from rnnkit.data.wav import read_samples
from rnnkit.data.words import TextEncoder
from rnnkit.errors import DataError
from rnnkit.io import parse_list
from rnnkit.metrics.calibration import with_temperature
from rnnkit.runtime.session import Export, length_batches, pad_rows
from rnnkit.sampling import softmax


class ExportedClassifier(Export):
    """``predict(inputs) -> [{"label", "probabilities"}]``: ``inputs`` are texts, or arrays
    ``(time, features)`` for a numeric-sequence model."""

    task = "classify"
    batch_size = 256

    def __init__(self, folder, description: dict, threads: int = 0):
        super().__init__(folder, description, threads)
        data = self.config["data"]
        self.labels = list(data["labels"])
        saved = data.get("text_encoder", data.get("encoder"))
        self.encoder = TextEncoder.from_dict(saved) if isinstance(saved, dict) else None
        statistics = data.get("statistics") or {}
        self.mean = np.asarray(statistics.get("mean", 0.0), np.float32)
        self.std = np.asarray(statistics.get("std", 1.0), np.float32)

    def encode(self, inputs) -> list[np.ndarray]:
        """Token ids ``(tokens,)`` of texts, or standardised ``(time, features)`` sequences."""
        if self.encoder is not None:
            return [np.asarray(row, np.int64) for row in self.encoder.ids(inputs)]
        sequences = [np.asarray(sequence, np.float32) for sequence in inputs]
        for index, sequence in enumerate(sequences):
            if sequence.ndim != 2 or sequence.shape[1] != self.mean.size or not len(sequence):
                raise DataError(
                    f"input {index}: expected a (time, {self.mean.size}) sequence; "
                    f"got shape {sequence.shape}"
                )
        return [(sequence - self.mean) / self.std for sequence in sequences]

    def probabilities(self, rows: list[np.ndarray]) -> np.ndarray:
        """Class probabilities ``(n, classes)`` of encoded rows, in order."""
        result = np.zeros((len(rows), len(self.labels)), np.float32)
        dtype = np.int64 if self.encoder is not None else np.float32
        for batch in length_batches([len(row) for row in rows], self.batch_size):
            padded, lengths = pad_rows([rows[i] for i in batch], dtype)
            result[batch] = self.run({"inputs": padded, "lengths": lengths})["probabilities"]
        temperature = (self.config.get("calibration") or {}).get("temperature", 1.0)
        return with_temperature(result, temperature)  # as the torch run, after --calibrate

    def labelled(self, probabilities: np.ndarray) -> list[dict]:
        return [
            {
                "label": self.labels[int(row.argmax())],
                "probabilities": dict(zip(self.labels, map(float, row))),
            }
            for row in probabilities
        ]

    def predict(self, inputs) -> list[dict]:
        return self.labelled(self.probabilities(self.encode(list(inputs))))


class ExportedSpeechClassifier(ExportedClassifier):
    """``predict(paths) -> [{"file", "label", "probabilities"}]`` of WAV files, scored at the
    run's test speeds as :class:`rnnkit.tasks.speech.SpeechRun` scores them."""

    task = "speech"
    batch_size = 64

    def __init__(self, folder, description: dict, threads: int = 0):
        super().__init__(folder, description, threads)
        self.audio = AudioConfig(**self.config["audio"])
        self.features = SpectralFeatures(self.audio)
        self.test_speeds = parse_list(self.config["data"].get("test_speeds", "1.0"), float)
        """Speeds each recording is scored at (test-time augmentation), as the run does."""

    def waveform(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return resample_array(samples, sample_rate, self.audio.sample_rate)

    def probabilities_of_waves(self, waves: list[np.ndarray]) -> np.ndarray:
        total = 0.0
        for speed in self.test_speeds:
            hundredths = round(speed * 100)
            features = [
                self.features.extract(
                    resample_array(wave, hundredths, 100) if hundredths != 100 else wave
                )
                for wave in waves
            ]
            total = total + np.log(np.maximum(self.probabilities(features), 1e-12))
        return softmax(total / len(self.test_speeds))

    def predict(self, paths) -> list[dict]:
        paths = list(paths)
        waves = [self.waveform(*read_samples(path)) for path in paths]
        rows = self.labelled(self.probabilities_of_waves(waves))
        return [{"file": str(path), **row} for path, row in zip(paths, rows)]
