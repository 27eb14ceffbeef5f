"""The task scaffold (rnnkit.tasks.common): what resuming refuses, and how it says so."""

from __future__ import annotations

import pytest

from rnnkit.errors import RunFolderError
from rnnkit.tasks.classify_data import ClassifyDataConfig
from rnnkit.tasks.common import RunStart, _check_unchanged
from rnnkit.train import RunFolder, TrainConfig


def test_a_changed_fingerprint_names_the_data_of_any_task(tmp_path):
    """A data config without a ``data`` field (the classifier's is ``train``) is named by its
    own file: this read ``start.data.data`` and failed with an AttributeError."""
    from rnnkit.tasks.classifier import RECIPE

    folder = RunFolder(tmp_path / "run")
    folder.prepare()
    folder.write_config({"task": RECIPE.task, "data": {"sha256": {}, "labels": ["a", "b"]}})
    start = RunStart(
        RECIPE, folder, ClassifyDataConfig(train="reviews.tsv"), None, TrainConfig(), {}, True
    )
    with pytest.raises(RunFolderError) as error:
        _check_unchanged(start, {}, {"labels": ["a", "b", "c"]})
    assert str(error.value) == (
        f"reviews.tsv: the data changed since {folder.path} was trained (labels ['a', 'b', "
        "'c'], was ['a', 'b']); resuming needs the same data"
    )
    _check_unchanged(start, {}, {"labels": ["a", "b"]})  # the same: nothing to refuse
