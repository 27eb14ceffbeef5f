"""What schemathesis sends as the files the API takes: a real WAV recording and a real CSV
history, drawn at random (a random byte string is no recording: it is rightly refused).

The suite registers them itself (tests/serve/test_contract.py); for the command line:
``SCHEMATHESIS_HOOKS=tests.serve.schemathesis_hooks st run URL/openapi.json --checks all``.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import schemathesis
from hypothesis import strategies as st


@st.composite
def wav_files(draw) -> bytes:
    """16-bit mono PCM of 0.1 to 1.5 s at a common rate, noise at a random loudness."""
    rate = draw(st.sampled_from([8000, 16000, 22050]))
    seconds = draw(st.floats(0.1, 1.5))
    seed = draw(st.integers(0, 2**32 - 1))
    loudness = draw(st.floats(0.0, 0.9))
    samples = np.random.default_rng(seed).uniform(-1, 1, int(rate * seconds)) * loudness
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


@st.composite
def csv_histories(draw, column: str = "OT", rows: tuple[int, int] = (48, 120)) -> bytes:
    """An hourly CSV history (``date`` and ``column``), long enough for a lookback of 48."""
    count = draw(st.integers(*rows))
    values = draw(
        st.lists(
            st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
            min_size=count,
            max_size=count,
        )
    )
    start = np.datetime64("2020-01-01T00:00") + np.timedelta64(draw(st.integers(0, 10**5)), "h")
    lines = [f"date,{column}"]
    lines += [f"{start + np.timedelta64(i, 'h')},{value!r}" for i, value in enumerate(values)]
    return ("\n".join(lines) + "\n").encode()


schemathesis.openapi.media_type("audio/wav", wav_files())
schemathesis.openapi.media_type("text/csv", csv_histories())
