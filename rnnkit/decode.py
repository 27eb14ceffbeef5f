"""CTC decoding without torch: best path and prefix beam search over log-probabilities
``(steps, classes)`` (class 0 is the blank), for the torch model and the onnxruntime export
alike."""

from __future__ import annotations

import math

import numpy as np

BLANK = 0


def best_path(log_probs) -> list[int]:
    """Greedy decoding of one utterance's ``log_probs (steps, classes)``: the likeliest class
    per step, repeats merged, blanks dropped; class ids (1..)."""
    path = np.asarray(log_probs).argmax(-1).tolist()
    return [c for i, c in enumerate(path) if c != BLANK and (i == 0 or c != path[i - 1])]


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def _extend(beams: dict, frame: list[float], candidates: list[int]) -> dict:
    """One step of prefix beam search: every prefix's probability of ending in a
    blank (``b``) or in its last token (``nb``), for the next frame."""
    grown: dict = {}

    def add(prefix, blank, token):
        old = grown.get(prefix, (-math.inf, -math.inf))
        grown[prefix] = (_log_add(old[0], blank), _log_add(old[1], token))

    for prefix, (blank, token) in beams.items():
        total = _log_add(blank, token)
        add(prefix, total + frame[BLANK], -math.inf)  # a blank keeps the prefix
        for c in candidates:
            if prefix and c == prefix[-1]:
                add(prefix, -math.inf, token + frame[c])  # a repeat without a blank between merges
                add(prefix + (c,), -math.inf, blank + frame[c])  # after a blank it is a new token
            else:
                add(prefix + (c,), -math.inf, total + frame[c])
    return grown


def beam_decode(log_probs, beam_width: int = 8, prune: float = -12.0) -> tuple[list[int], float]:
    """CTC prefix beam search (Graves 2012, section 7.5; Hannun et al. 2014) of one
    utterance's ``log_probs (steps, classes)`` (an array or a CPU tensor): the labelling with
    the highest total probability over all its alignments among ``beam_width`` kept
    prefixes, and that log-probability. Tokens below ``prune`` (log-probability) at a step
    are not tried."""
    rows = np.asarray(log_probs.detach() if hasattr(log_probs, "detach") else log_probs)
    rows = rows.astype(np.float64).tolist()
    beams = {(): (0.0, -math.inf)}
    for frame in rows:
        candidates = [c for c in range(1, len(frame)) if frame[c] > prune]
        grown = _extend(beams, frame, candidates)
        ranked = sorted(grown.items(), key=lambda item: _log_add(*item[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    prefix, (blank, token) = max(beams.items(), key=lambda item: _log_add(*item[1]))
    return list(prefix), _log_add(blank, token)
