"""Sampling noise and filters in numpy, shared by the torch and onnxruntime paths.

Both paths draw the same noise from the same seed, so ``rnnkit generate RUN --seed 1`` and
``rnnkit generate EXPORT --seed 1`` write the same text: sampling is the Gumbel-max trick,
``argmax(logits / temperature + g)`` with ``g = -log(-log(u))``, which draws from the
softmax (Gumbel 1954; Maddison et al. 2014) in one add and one argmax. A music model turns
each key on where a uniform draw falls below its probability.
"""

from __future__ import annotations

import numpy as np


class UniformNoise:
    """``noise[step] -> float32 (*shape)`` in [0, 1): one draw per generation step from
    ``numpy.random.default_rng(seed)``, in chunks of steps (memory stays bounded)."""

    def __init__(self, seed: int | None, shape, chunk: int = 256):
        self.generator = np.random.default_rng(seed)
        self.shape, self.chunk = tuple(shape), chunk
        self.noise, self.start = None, 0

    def transform(self, uniform: np.ndarray) -> np.ndarray:
        return uniform

    def __getitem__(self, step: int) -> np.ndarray:
        if self.noise is None or step >= self.start + self.noise.shape[0]:
            uniform = self.generator.random((self.chunk, *self.shape), dtype=np.float32)
            self.noise, self.start = self.transform(uniform), step
        return self.noise[step - self.start]


class GumbelNoise(UniformNoise):
    """Gumbel noise ``-log(-log(u))`` per step: ``argmax(logits + noise[step])`` samples
    from ``softmax(logits)``."""

    def transform(self, uniform: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # u = 0 gives -inf: never chosen
            return -np.log(-np.log(uniform))


def filter_scores(scores: np.ndarray, top_k: int | None, top_p: float | None) -> np.ndarray:
    """``scores (batch, vocab)`` with the tokens outside the top ``k`` and outside the
    nucleus ``p`` (Holtzman et al. 2020) at -inf, as :func:`rnnkit.generate.filter_logits`."""
    scores = scores.astype(np.float32, copy=True)
    if top_k is not None and 0 < top_k < scores.shape[-1]:
        kth = -np.sort(-scores, axis=-1)[:, top_k - 1 : top_k]
        scores[scores < kth] = -np.inf
    if top_p is not None and 0 < top_p < 1:
        order = np.argsort(-scores, axis=-1, kind="stable")
        ordered = np.take_along_axis(scores, order, axis=-1)
        probabilities = softmax(ordered)
        drop = (np.cumsum(probabilities, axis=-1) - probabilities) >= top_p
        ordered[drop] = -np.inf
        np.put_along_axis(scores, order, ordered, axis=-1)
    return scores


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if temperature < 0:
        raise ValueError(
            f"temperature must be >= 0 (0 = always the most likely token); got {temperature}"
        )
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be a positive int; got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must lie in (0, 1]; got {top_p}")
