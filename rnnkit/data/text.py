"""Reading text files and the character tokenizer."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rnnkit.data.files import read_text
from rnnkit.errors import DataError

BUNDLED_CORPUS = Path(__file__).resolve().parent / "corpora" / "tinyshakespeare.txt"


def split_text(text: str, fractions=(0.9, 0.05, 0.05)) -> tuple[str, str, str]:
    """Contiguous train/validation/test split by character counts, in file order.

    ``fractions`` has two or three entries (a missing test fraction is 0) that
    sum to 1; the split is deterministic.
    """
    fractions = tuple(float(f) for f in fractions) + (0.0,) * (3 - len(fractions))
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise DataError(
            f"split fractions must be 2 or 3 non-negative numbers summing to 1; got {fractions}"
        )
    train_end = round(len(text) * fractions[0])
    valid_end = train_end + round(len(text) * fractions[1])
    return text[:train_end], text[train_end:valid_end], text[valid_end:]


def long_tensor(ids):
    """An int64 tensor of ``ids`` (a list or an ``array("q")``). torch is imported here, not
    at the top: the onnxruntime path (:mod:`rnnkit.runtime`) uses these tokenizers' ``ids``
    on machines without torch."""
    import torch

    if not isinstance(ids, list):
        return torch.frombuffer(ids, dtype=torch.long).clone() if ids else torch.empty(0).long()
    return torch.tensor(ids, dtype=torch.long)


class CharTokenizer:
    """Maps characters to ids and back; the vocabulary is the training text's characters.

    Id 0 is reserved for characters not seen in training: ``encode`` maps them
    to it (and counts them in ``unknown_count``), and generation never samples
    it. The vocabulary is saved with the model (``to_dict``/``from_dict``).
    """

    UNKNOWN = "\ufffd"
    kind = "char"

    def __init__(self, characters):
        self.characters = [self.UNKNOWN] + [c for c in characters if c != self.UNKNOWN]
        self.index = {c: i for i, c in enumerate(self.characters)}
        self.unknown_count = 0

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        # Sorted by frequency, then code point, so ids are deterministic.
        counts = Counter(text)
        return cls(sorted(counts, key=lambda c: (-counts[c], c)))

    @property
    def vocab_size(self) -> int:
        return len(self.characters)

    def ids(self, text: str) -> list[int]:
        """``text`` -> ids; unseen characters become id 0 (counted in ``unknown_count``)."""
        self.unknown_count = sum(1 for c in text if c not in self.index)
        return [self.index.get(c, 0) for c in text]

    def encode(self, text: str):
        """``text`` -> int64 tensor ``(len(text),)``; unseen characters become id 0."""
        return long_tensor(self.ids(text))

    def encode_file(self, path):
        return self.encode(read_text(path))

    def decode(self, ids) -> str:
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        return "".join(self.characters[i] for i in ids)

    def unknown_characters(self, text: str) -> list[str]:
        return sorted({c for c in text if c not in self.index})

    def to_dict(self) -> dict:
        return {"type": "char", "characters": self.characters[1:]}

    @classmethod
    def from_dict(cls, data: dict) -> "CharTokenizer":
        return cls(data["characters"])
