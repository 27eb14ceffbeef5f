"""A music model's export folder on onnxruntime: piano rolls generated one step at a time."""

from __future__ import annotations

import numpy as np

from rnnkit.runtime.session import Export
from rnnkit.sampling import UniformNoise


class ExportedMusicModel(Export):
    """``generate(length, prime, temperature, seed) -> roll (steps, keys)`` as
    :meth:`rnnkit.tasks.music.MusicRun.generate`: the same seed writes the same piece.

    A graph with a ``frame`` input (the made and nade outputs) conditions each key on the keys
    below it: each new step is drawn key by key, one call per key from the same state."""

    task = "music"

    def __init__(self, folder, description: dict, threads: int = 0):
        super().__init__(folder, description, threads)
        names = [entry["name"] for entry in self.graph["inputs"][1:]]
        self.conditional = "frame" in names
        self.state_names = [name for name in names if name != "frame"]
        self.layers, _, self.hidden = self.input_shape("h0")
        self.keys = self.input_shape("inputs")[1]

    def step(self, roll: np.ndarray, state: list[np.ndarray], frame=None):
        feeds = {"inputs": roll.astype(np.float32), **dict(zip(self.state_names, state))}
        if self.conditional:
            feeds["frame"] = np.zeros_like(feeds["inputs"]) if frame is None else frame
        logits, *state = self.session.run(self.output_names, feeds)
        return logits, state

    def _draw(self, previous, state, uniform, temperature):
        """The next step after ``previous`` and the state after ``previous``."""
        if not self.conditional:
            logits, state = self.step(previous, state)
            return (uniform < _probabilities(logits, temperature)).astype(np.float32), state
        frame = np.zeros((1, self.keys), np.float32)
        for key in range(self.keys):
            logits, after = self.step(previous, state, frame)
            frame[:, key] = uniform[:, key] < _probabilities(logits[:, key], temperature)
        return frame, after

    def generate(self, length: int, prime=None, temperature: float = 1.0, seed=None):
        """``length`` new steps after ``prime`` (a piano roll, or None for a fresh start from
        silence); returns the prime followed by the new steps."""
        if temperature <= 0:
            raise ValueError(f"temperature must be positive; got {temperature}")
        noise = UniformNoise(seed, (1, self.keys))
        state = [np.zeros((self.layers, 1, self.hidden), np.float32) for _ in self.state_names]
        opening = [np.zeros((1, self.keys), np.float32)]  # the silent start frame
        if prime is not None:
            opening += [np.asarray(row, np.float32)[None] for row in prime]
        for roll in opening[:-1]:
            _, state = self.step(roll, state)
        previous, new = opening[-1], []
        for index in range(length):
            previous, state = self._draw(previous, state, noise[index], temperature)
            new.append(previous)
        kept = [np.asarray(prime, np.float32)] if prime is not None else []
        return np.concatenate(kept + new) if new or kept else np.zeros((0, self.keys), np.float32)


def _probabilities(logits: np.ndarray, temperature: float) -> np.ndarray:
    return 1 / (1 + np.exp(-logits.astype(np.float32) / np.float32(temperature)))
