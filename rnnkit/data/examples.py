"""Labelled examples for classification: text or numeric sequences in, tensors out.

:class:`TextEncoder` (tokenizer + vocabulary) and :class:`LabelSet` are fitted
on the training file and saved with the model, so that evaluation and
prediction encode exactly as training did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnkit.data.sequences import NUMERIC_SUFFIXES, read_sequences
from rnnkit.data.tables import read_labelled_text
from rnnkit.errors import DataError


@dataclass
class Examples:
    """Inputs (texts, token ids ``(time,)`` or features ``(time, features)``), raw
    labels and where each came from."""

    inputs: list
    labels: list | None
    places: list
    """'line 12' or 'series 3': how errors name an example"""
    path: str


def read_examples(
    path,
    numeric: bool,
    text_column=None,
    label_column=None,
    sequence_column=None,
    labels_required: bool = True,
) -> Examples:
    """Examples whose inputs are strings (text files; encode them with a
    :class:`TextEncoder`) or float tensors ``(time, features)`` (numeric files)."""
    path = Path(path)
    if numeric:
        sequences, labels = read_sequences(path, label_column, sequence_column)
        if labels is None and labels_required:
            raise DataError(
                f"{path}: has no labels; training and evaluation need a label per sequence"
            )
        return Examples(
            sequences, labels, [f"series {i + 1}" for i in range(len(sequences))], str(path)
        )
    texts, labels, lines = read_labelled_text(path, text_column, label_column, labels_required)
    return Examples(texts, labels, [f"line {n}" for n in lines], str(path))


def is_numeric(path, sequence_column=None) -> bool:
    return Path(path).suffix.lower() in NUMERIC_SUFFIXES or sequence_column is not None


def _natural_key(label: str):
    # "2" before "10"; numbers before words.
    return (0, float(label), label) if re.fullmatch(r"-?\d+(\.\d+)?", label) else (1, 0.0, label)


class LabelSet:
    """Class names <-> class ids, in natural order ("2" before "10")."""

    def __init__(self, names):
        self.names = list(names)
        self.index = {name: i for i, name in enumerate(self.names)}

    @classmethod
    def from_labels(cls, labels) -> "LabelSet":
        return cls(sorted(set(labels), key=_natural_key))

    def encode(self, examples: Examples) -> torch.Tensor:
        ids = []
        for label, place in zip(examples.labels, examples.places):
            if label not in self.index:
                raise DataError(
                    f"{examples.path}: {place}: label {label!r} was not among the training labels "
                    f"({', '.join(self.names)})"
                )
            ids.append(self.index[label])
        return torch.tensor(ids, dtype=torch.long)


def hold_out(examples: Examples, fraction: float, seed: int) -> tuple[Examples, Examples]:
    """A seeded random ``fraction`` of ``examples`` as a validation set, the rest for training."""
    count = len(examples.labels)
    held = max(1, round(count * fraction))
    if not 0 < fraction < 1 or held >= count:
        raise DataError(
            f"{examples.path}: cannot hold out {fraction} of {count} examples for validation; "
            "give --dev or a dev fraction between 0 and 1"
        )
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed)).tolist()

    def subset(indices):
        return Examples(
            [examples.inputs[i] for i in indices],
            [examples.labels[i] for i in indices],
            [examples.places[i] for i in indices],
            examples.path,
        )

    return subset(sorted(order[held:])), subset(sorted(order[:held]))
