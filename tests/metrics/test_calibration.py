"""Temperature scaling and the expected calibration error (rnnkit.metrics.calibration)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    with_temperature,
)


def _softmax(logits):
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def _overconfident(seed: int, n: int = 4000, classes: int = 3, sharpness: float = 3.0):
    """Labels drawn from softmax(logits), predictions from softmax(sharpness * logits): a
    model too sure of itself by a temperature of ``sharpness``."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (n, classes))
    targets = np.array([rng.choice(classes, p=p) for p in _softmax(logits)])
    return _softmax(sharpness * logits), targets, logits


def test_the_temperature_divides_the_logits():
    probabilities, _, logits = _overconfident(0, n=50)
    for temperature in (0.5, 1.0, 3.0):
        expected = _softmax(3.0 * logits / temperature)
        assert np.abs(with_temperature(probabilities, temperature) - expected).max() < 1e-12
    assert (with_temperature(probabilities, 2.5).argmax(1) == probabilities.argmax(1)).all()


def test_the_fitted_temperature_is_the_likeliest_and_undoes_overconfidence():
    probabilities, targets, _ = _overconfident(1)
    temperature = fit_temperature(probabilities, targets)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 2001))
    losses = [negative_log_likelihood(with_temperature(probabilities, t), targets) for t in grid]
    assert temperature == pytest.approx(grid[int(np.argmin(losses))], rel=5e-3)
    assert temperature == pytest.approx(3.0, rel=0.15)  # the sharpness it was made with
    before = expected_calibration_error(probabilities, targets)
    after = expected_calibration_error(with_temperature(probabilities, temperature), targets)
    assert before > 0.1 and after < 0.03


def test_ece_against_a_loop_over_the_examples():
    rng = np.random.default_rng(2)
    probabilities = _softmax(rng.normal(0, 2, (300, 4)))
    targets = rng.integers(0, 4, 300)
    confidence, predicted = probabilities.max(1), probabilities.argmax(1)
    total = 0.0
    for low in np.linspace(0, 1, 16)[:-1]:
        high = low + 1 / 15
        inside = [(c, p == t) for c, p, t in zip(confidence, predicted, targets) if low < c <= high]
        if inside:
            gap = abs(np.mean([c for c, _ in inside]) - np.mean([ok for _, ok in inside]))
            total += len(inside) / 300 * gap
    assert expected_calibration_error(probabilities, targets) == pytest.approx(total, abs=1e-12)
