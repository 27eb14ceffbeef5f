"""Floor 1: evaluation metrics. Numbers in, numbers (and plots) out; no models."""

from rnnkit.metrics.classification import (
    classification_report,
    confusion_matrix,
    plot_confusion_matrix,
)

__all__ = ["confusion_matrix", "classification_report", "plot_confusion_matrix"]
