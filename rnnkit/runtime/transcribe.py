"""A CTC transcriber's export folder on onnxruntime: WAV files -> transcripts."""

from __future__ import annotations

import math

import numpy as np

from rnnkit.data.spectra import AudioConfig, SpectralFeatures, resample_array
from rnnkit.data.wav import read_samples
from rnnkit.decode import beam_decode, best_path
from rnnkit.runtime.session import Export, length_batches, pad_rows


def stack_frames(features: np.ndarray, stacking: int) -> np.ndarray:
    """``(frames, n) -> (ceil(frames / k), k n)``: each step joins ``k`` frames, zeros filling
    the last, as :meth:`rnnkit.models.ctc.CTCRecognizer.stack` does inside the torch model."""
    frames, size = features.shape
    steps = math.ceil(frames / stacking)
    padded = np.zeros((steps * stacking, size), np.float32)
    padded[:frames] = features
    return padded.reshape(steps, stacking * size)


class ExportedTranscriber(Export):
    """``transcribe(paths, beam_width) -> [{"file", "text", "tokens"[, "log_probability"]}]``
    as :class:`rnnkit.tasks.transcribe.TranscriberRun` returns them."""

    task = "transcribe"

    def __init__(self, folder, description: dict, threads: int = 0):
        super().__init__(folder, description, threads)
        self.labels = list(self.config["data"]["labels"])
        self.audio = AudioConfig(**self.config["audio"])
        self.features = SpectralFeatures(self.audio)
        self.stacking = int(self.config["model"].get("frame_stacking", 1))
        self.separator = "" if all(len(name) == 1 for name in self.labels) else " "

    def log_probs(self, features: list[np.ndarray]) -> list[np.ndarray]:
        """Each utterance's ``(steps, tokens + 1)`` log-probabilities, in order."""
        stacked = [stack_frames(f, self.stacking) for f in features]
        results = [None] * len(stacked)
        for batch in length_batches([len(s) for s in stacked], 32):
            padded, lengths = pad_rows([stacked[i] for i in batch], np.float32)
            log_probs = self.run({"stacked": padded, "lengths": lengths})["log_probs"]
            for row, index in enumerate(batch):
                results[index] = log_probs[row, : lengths[row]]
        return results

    def transcribe(self, paths, beam_width: int = 8) -> list[dict]:
        paths = list(paths)
        features = []
        for path in paths:
            samples, rate = read_samples(path)
            wave = resample_array(samples, rate, self.audio.sample_rate)
            features.append(self.features.extract(wave))
        output = []
        for path, log_probs in zip(paths, self.log_probs(features)):
            if beam_width <= 1:
                ids, log_probability = best_path(log_probs), None
            else:
                ids, log_probability = beam_decode(log_probs, beam_width)
            tokens = [self.labels[i - 1] for i in ids]
            entry = {"file": str(path), "text": self.separator.join(tokens), "tokens": tokens}
            if log_probability is not None:
                entry["log_probability"] = log_probability
            output.append(entry)
        return output
