"""Accuracy, macro-F1, macro recall, per-class precision and recall, and the confusion
matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnkit.io import new_figure, save_figure


def confusion_matrix(targets, predictions, num_classes: int) -> np.ndarray:
    """``matrix[true, predicted]`` counts, ``(num_classes, num_classes)``."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(targets), np.asarray(predictions)), 1)
    return matrix


def classification_report(matrix: np.ndarray, labels) -> dict:
    """Accuracy, macro-F1, macro recall and per-class precision, recall, F1 and support.

    A class that is never predicted has precision 0 (and one with no examples
    recall 0), as in scikit-learn's ``zero_division=0``; macro-F1 averages every
    class's F1 with equal weight, and macro recall every class's recall (the balanced
    accuracy: SemEval-2017 Task 4A's and TweetEval's sentiment score, Rosenthal et al. 2017).
    """
    true_positives = np.diag(matrix).astype(float)
    predicted, support = matrix.sum(0), matrix.sum(1)
    precision = np.divide(
        true_positives, predicted, out=np.zeros_like(true_positives), where=predicted > 0
    )
    recall = np.divide(
        true_positives, support, out=np.zeros_like(true_positives), where=support > 0
    )
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    per_class = {
        str(label): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    return {
        "accuracy": float(true_positives.sum() / max(matrix.sum(), 1)),
        "macro_f1": float(f1.mean()),
        "macro_recall": float(recall.mean()),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
        "labels": [str(x) for x in labels],
    }


def plot_confusion_matrix(matrix: np.ndarray, labels, path, title: str = "") -> Path:
    """A PNG heat map of ``matrix`` (rows: true label, columns: predicted) with counts."""
    size = max(4.0, 0.6 * len(labels) + 2)
    figure, axes = new_figure(figsize=(size, size * 0.85))
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(labels))
    axes.set_xticks(ticks, [str(x) for x in labels], rotation=45, ha="right")
    axes.set_yticks(ticks, [str(x) for x in labels])
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    peak = matrix.max() if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(
            column,
            row,
            str(count),
            ha="center",
            va="center",
            color="white" if count > peak / 2 else "black",
        )
    return save_figure(figure, path, dpi=120)
