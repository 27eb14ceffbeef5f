"""The server's limits: every size a request can carry has one, with a flag, and a request
over one gets a 413 or 422 that names it."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.fields import AT_LEAST_ONE, Range, check_fields


@dataclass
class ServeLimits:
    """Limits of ``rnnkit serve`` (each is a flag: ``--max-body-bytes`` and so on)."""

    max_body_bytes: int = 1_048_576
    """Largest JSON request body (bytes)."""
    max_upload_bytes: int = 16_777_216
    """Largest CSV or WAV upload (bytes)."""
    max_prompt_chars: int = 4000
    """Longest prompt of /v1/generate."""
    max_length: int = 2000
    """Most tokens one /v1/generate request may ask for."""
    max_inputs: int = 256
    """Most inputs in one /v1/predict request."""
    max_input_chars: int = 10_000
    """Longest text among /v1/predict's inputs."""
    max_top_k: int = 100
    """Most next words one /v1/predict request may ask for."""
    max_wav_seconds: float = 60.0
    """Longest recording /v1/predict and /v1/transcribe accept."""
    batching: bool = True
    """Join concurrent /v1/predict requests into one model call (--no-batching: one call
    per request)."""
    batch_window_ms: float = 2.0
    """Under load, how long a batch may wait for requests still on their way (a lone request
    never waits; 0: never wait)."""
    max_batch_inputs: int = 256
    """Most inputs one batched model call takes."""
    workers: int = 8
    """Threads that run the models, so that one long request does not hold up the others."""

    BOUNDS = {
        "max_body_bytes": Range(64, 1 << 30),
        "max_upload_bytes": Range(64, 1 << 31),
        "max_prompt_chars": AT_LEAST_ONE,
        "max_length": AT_LEAST_ONE,
        "max_inputs": AT_LEAST_ONE,
        "max_input_chars": AT_LEAST_ONE,
        "max_top_k": AT_LEAST_ONE,
        "max_wav_seconds": Range(0.1, 3600),
        "batch_window_ms": Range(0, 1000),
        "max_batch_inputs": AT_LEAST_ONE,
        "workers": Range(1, 256),
    }

    def __post_init__(self):
        check_fields(self)


class LimitExceeded(Exception):
    """A request over one of :class:`ServeLimits`: ``status`` 413 (a size in bytes) or 422."""

    def __init__(self, limit: str, message: str, status: int = 422):
        super().__init__(message)
        self.limit, self.status = limit, status
