"""Probabilities that mean what they say: the expected calibration error and temperature
scaling (Guo et al. 2017), in numpy, for the torch run and the onnxruntime export alike.

Temperature scaling divides the logits by one number T fitted on validation data; the
probabilities are the softmax of ``log(p) / T``, the same thing computed from the
probabilities themselves (``log p`` is the logits less a constant per row), so an export
that outputs probabilities is calibrated exactly as its run. The argmax never changes.
"""

from __future__ import annotations

import math

import numpy as np

SMALLEST = 1e-30
"""Probabilities below this are taken as this before the log (float32 underflows to 0)."""


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(probabilities) / temperature)`` per row, ``(n, classes)`` float."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.maximum(np.asarray(probabilities, np.float64), SMALLEST)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=-1, keepdims=True)).astype(np.asarray(probabilities).dtype)


def negative_log_likelihood(probabilities: np.ndarray, targets: np.ndarray) -> float:
    rows = np.arange(len(targets))
    return float(-np.log(np.maximum(probabilities[rows, targets], SMALLEST)).mean())


def fit_temperature(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """The temperature in [0.05, 20] of the least negative log-likelihood of ``targets``
    (golden-section search on log T: the likelihood is unimodal in it)."""
    probabilities = np.asarray(probabilities, np.float64)
    targets = np.asarray(targets)

    def loss(log_t: float) -> float:
        return negative_log_likelihood(with_temperature(probabilities, math.exp(log_t)), targets)

    low, high = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    for _ in range(60):
        if loss_a < loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2)


def expected_calibration_error(
    probabilities: np.ndarray, targets: np.ndarray, bins: int = 15
) -> float:
    """ECE (Naeini et al. 2015; Guo et al. 2017): the confidence of the predicted class
    against its accuracy, in ``bins`` equal-width bins of confidence, weighted by the share
    of examples in each."""
    probabilities, targets = np.asarray(probabilities), np.asarray(targets)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == targets
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        inside = which == index
        if inside.any():
            error += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(error)
