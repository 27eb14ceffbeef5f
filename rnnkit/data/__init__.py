"""Floor 2: plain data in, tensors out. Tokenizers, vocabularies and batching; no models.

The names below load on first use (PEP 562), so that the torch-free modules here
(``files``, ``tables``, ``words``, the tokenizers) import without torch: the onnxruntime
path (:mod:`rnnkit.runtime`) reads data through them on machines that have no torch.
"""

import importlib

_HOMES = {
    "CharTokenizer": "text",
    "read_text": "text",
    "split_text": "text",
    "BUNDLED_CORPUS": "text",
    "WordTokenizer": "tokens",
    "BPETokenizer": "tokens",
    "read_lines": "tokens",
    "StreamBatches": "streams",
}

__all__ = list(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'rnnkit.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"rnnkit.data.{_HOMES[name]}"), name)
