"""Classification metrics against hand-computed values."""

import numpy as np
import pytest

from rnnkit.metrics import classification_report, confusion_matrix, plot_confusion_matrix


def test_report_against_hand_computed_values(tmp_path):
    targets = [0, 0, 0, 1, 1, 2]
    predictions = [0, 0, 1, 1, 2, 1]
    matrix = confusion_matrix(targets, predictions, 3)
    assert matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 1, 0]]
    report = classification_report(matrix, ["neg", "neu", "pos"])
    assert report["accuracy"] == 0.5
    # neg: p = 1, r = 2/3, f1 = 0.8; neu: p = 1/3, r = 1/2, f1 = 0.4; pos: never right, f1 = 0
    assert report["per_class"]["neg"] == {
        "precision": 1.0,
        "recall": 2 / 3,
        "f1": 0.8,
        "support": 3,
    }
    assert abs(report["per_class"]["neu"]["f1"] - 0.4) < 1e-12
    assert report["per_class"]["pos"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert abs(report["macro_f1"] - 0.4) < 1e-12
    png = plot_confusion_matrix(matrix, ["neg", "neu", "pos"], tmp_path / "cm.png", "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_matches_scikit_learn_when_installed():
    # a dev extra: the reference implementation
    metrics = pytest.importorskip("sklearn.metrics", reason="the reference needs scikit-learn")

    rng = np.random.default_rng(0)
    targets, predictions = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    report = classification_report(confusion_matrix(targets, predictions, 4), range(4))
    assert abs(report["macro_f1"] - metrics.f1_score(targets, predictions, average="macro")) < 1e-12
    # macro recall is scikit-learn's balanced accuracy (and recall_score(average="macro"))
    balanced = metrics.balanced_accuracy_score(targets, predictions)
    assert abs(report["macro_recall"] - balanced) < 1e-12
    macro = metrics.recall_score(targets, predictions, average="macro")
    assert abs(report["macro_recall"] - macro) < 1e-12
    recalls = metrics.recall_score(targets, predictions, average=None)
    assert np.allclose([report["per_class"][str(i)]["recall"] for i in range(4)], recalls)
