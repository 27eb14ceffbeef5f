"""Transcription errors: edit distance and the token (digit, word) error rate."""

from __future__ import annotations


def edit_distance(reference, hypothesis) -> int:
    """Levenshtein distance: the fewest substitutions, deletions and insertions that turn
    ``reference`` into ``hypothesis`` (any sequences of comparable items)."""
    previous = list(range(len(hypothesis) + 1))
    for i, wanted in enumerate(reference, 1):
        current = [i]
        for j, got in enumerate(hypothesis, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (wanted != got))
            )
        previous = current
    return previous[-1]


def error_rate(references, hypotheses) -> float:
    """Total edit distance over total reference length (the word error rate of ASR,
    here per token): insertions count, so it can exceed 1."""
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    tokens = sum(len(r) for r in references)
    if tokens == 0:
        raise ValueError("the references hold no tokens")
    return sum(edit_distance(r, h) for r, h in zip(references, hypotheses)) / tokens
