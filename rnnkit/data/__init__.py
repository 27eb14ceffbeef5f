"""Floor 2: plain data in, tensors out. Tokenizers, vocabularies and batching; no models."""

from rnnkit.data.streams import StreamBatches
from rnnkit.data.text import BUNDLED_CORPUS, CharTokenizer, read_text, split_text
from rnnkit.data.tokens import BPETokenizer, WordTokenizer, read_lines

__all__ = [
    "CharTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "read_text",
    "read_lines",
    "split_text",
    "BUNDLED_CORPUS",
    "StreamBatches",
]
