"""Evaluation metrics: numbers in, numbers (and plots) out. No models."""

from rnnkit.metrics.classification import (
    classification_report,
    confusion_matrix,
    plot_confusion_matrix,
)

__all__ = ["confusion_matrix", "classification_report", "plot_confusion_matrix"]
