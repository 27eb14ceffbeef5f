"""Word-level text: a regex tokenizer, an optional BPE tokenizer and the vocabulary.

Both tokenizers turn a string into a list of token strings; the
:class:`Vocabulary` turns those into ids. Each saves itself as a plain dict,
which goes into the run folder's ``config.json``.
"""

from __future__ import annotations

import re
from collections import Counter

from rnnkit.data.text import long_tensor
from rnnkit.data.social import MARKER_PATTERN, NORMALIZERS, normalize
from rnnkit.errors import DataError, require

# Words (with inner apostrophes: "don't"), clitics written apart ("'s" in
# tokenized corpora such as SST), and every other non-space character alone.
WORD_PATTERN = r"\w+(?:'\w+)*|'\w+|[^\w\s]"


class WordTokenizer:
    """Splits text into words and punctuation with a regular expression.

    ``split("Don't stop!") -> ["don't", "stop", "!"]`` with ``lowercase=True``.
    """

    def __init__(
        self,
        lowercase: bool = True,
        pattern: str = WORD_PATTERN,
        strip: str = "",
        normalizer: str = "none",
    ):
        """``strip``: a regular expression of what is deleted before splitting (Keras'
        TextVectorization deletes punctuation, then splits at white space); ``normalizer``:
        ``social`` normalises tweets first (:mod:`rnnkit.data.social`), and its markers stay
        one token each."""
        if normalizer not in NORMALIZERS:
            raise DataError(f"text_normalizer must be one of {', '.join(NORMALIZERS)}")
        self.lowercase, self.pattern, self.strip = lowercase, pattern, strip
        self.normalizer = normalizer
        marked = MARKER_PATTERN + pattern if normalizer == "social" else pattern
        self._regex = re.compile(marked)
        self._strip = re.compile(strip) if strip else None

    def split(self, text: str) -> list[str]:
        text = normalize(text, self.normalizer)
        text = text.lower() if self.lowercase else text
        if self._strip is not None:
            text = self._strip.sub("", text)
        return self._regex.findall(text)

    def to_dict(self) -> dict:
        saved = {"type": "word", "lowercase": self.lowercase, "pattern": self.pattern}
        if self.strip:  # old runs have neither key
            saved["strip"] = self.strip
        if self.normalizer != "none":
            saved["normalizer"] = self.normalizer
        return saved


class SubwordTokenizer:
    """Byte-pair encoding (Sennrich et al. 2016) through the ``tokenizers`` library,
    trained on the training texts only. ``split`` returns the subword strings."""

    def __init__(self, tokenizer, lowercase: bool):
        self.tokenizer, self.lowercase = tokenizer, lowercase

    @staticmethod
    def library():
        return require("tokenizers")

    @classmethod
    def train(cls, texts, vocab_size: int, lowercase: bool = True) -> "SubwordTokenizer":
        lib = cls.library()
        tokenizer = lib.Tokenizer(lib.models.BPE(unk_token="<unk>"))
        tokenizer.pre_tokenizer = lib.pre_tokenizers.Whitespace()
        trainer = lib.trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=["<pad>", "<unk>"], show_progress=False
        )
        tokenizer.train_from_iterator(
            (t.lower() if lowercase else t for t in texts), trainer=trainer
        )
        return cls(tokenizer, lowercase)

    def split(self, text: str) -> list[str]:
        return self.tokenizer.encode(text.lower() if self.lowercase else text).tokens

    def to_dict(self) -> dict:
        return {"type": "bpe", "lowercase": self.lowercase, "tokenizer": self.tokenizer.to_str()}

    @classmethod
    def from_dict(cls, data: dict) -> "SubwordTokenizer":
        return cls(cls.library().Tokenizer.from_str(data["tokenizer"]), data["lowercase"])


def tokenizer_from_dict(data: dict):
    if data["type"] == "bpe":
        return SubwordTokenizer.from_dict(data)
    return WordTokenizer(
        data["lowercase"], data["pattern"], data.get("strip", ""), data.get("normalizer", "none")
    )


class Vocabulary:
    """Token strings <-> ids. Id 0 is ``<pad>`` and id 1 is ``<unk>`` (any token
    not kept when the vocabulary was built)."""

    PAD, UNK = "<pad>", "<unk>"

    def __init__(self, tokens):
        self.tokens = [self.PAD, self.UNK] + [t for t in tokens if t not in (self.PAD, self.UNK)]
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, token_lists, min_freq: int = 1, max_size: int | None = None) -> "Vocabulary":
        """The tokens seen at least ``min_freq`` times, most frequent first (ties
        in string order, so ids are deterministic), at most ``max_size`` of them
        counting ``<pad>`` and ``<unk>``."""
        counts = Counter(token for tokens in token_lists for token in tokens)
        kept = sorted(
            (t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t)
        )
        if max_size is not None:
            kept = kept[: max(0, max_size - 2)]
        return cls(kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens) -> list[int]:
        return [self.index.get(t, 1) for t in tokens]

    def to_dict(self) -> dict:
        return {"tokens": self.tokens[2:]}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        return cls(data["tokens"])


class TextEncoder:
    """Tokenizer + vocabulary: ``ids(texts) -> [[int]]``, ``encode(texts) -> [int64 tensor
    (tokens,)]``.

    A text with no tokens at all becomes one ``<unk>``, so that every example
    has at least one step."""

    def __init__(self, tokenizer, vocabulary: Vocabulary):
        self.tokenizer, self.vocabulary = tokenizer, vocabulary

    @classmethod
    def fit(
        cls,
        texts,
        tokenizer: str = "word",
        lowercase: bool = True,
        min_freq: int = 1,
        max_size: int | None = None,
        bpe_vocab_size: int = 8000,
        normalizer: str = "none",
    ) -> "TextEncoder":
        if tokenizer == "bpe":
            if normalizer != "none":
                raise DataError("--text-normalizer social works with --tokenizer word")
            splitter = SubwordTokenizer.train(texts, bpe_vocab_size, lowercase)
        elif tokenizer == "word":
            splitter = WordTokenizer(lowercase, normalizer=normalizer)
        else:
            raise DataError(f"tokenizer must be word or bpe; got {tokenizer!r}")
        vocabulary = Vocabulary.build((splitter.split(t) for t in texts), min_freq, max_size)
        return cls(splitter, vocabulary)

    def ids(self, texts) -> list[list[int]]:
        """Each text's token ids (``[1]``, one ``<unk>``, for a text with no tokens). An empty
        or blank text is an error naming its place: there is nothing to classify."""
        rows = []
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"input {index} is empty ({text!r}); give a text to classify")
            rows.append(self.vocabulary.encode(self.tokenizer.split(text)) or [1])
        return rows

    def encode(self, texts) -> list:
        """Each text's ids as an int64 tensor ``(tokens,)``."""
        return [long_tensor(row) for row in self.ids(texts)]

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_dict(), "vocabulary": self.vocabulary.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "TextEncoder":
        return cls(tokenizer_from_dict(data["tokenizer"]), Vocabulary.from_dict(data["vocabulary"]))
