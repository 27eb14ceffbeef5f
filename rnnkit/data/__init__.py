"""Floor 2: plain data in, tensors out. Tokenizers, vocabularies and batching; no models."""

from rnnkit.data.streams import StreamBatches
from rnnkit.data.text import BUNDLED_CORPUS, CharTokenizer, read_text, split_text

__all__ = ["CharTokenizer", "read_text", "split_text", "BUNDLED_CORPUS", "StreamBatches"]
