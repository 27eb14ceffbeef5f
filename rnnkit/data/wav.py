"""WAV files in and out, in plain Python and numpy (no torchaudio, no libsndfile; no torch,
so that the onnxruntime path reads WAVs too). Resampling is in :mod:`rnnkit.data.audio`.

:func:`read_wav` returns ``(samples, sample_rate)``: ``samples`` is float32
``(time,)`` in [-1, 1], the channels averaged (mixed down to mono). It reads the
RIFF/WAVE encodings that recorders and converters write: integer PCM with 8
(unsigned), 16, 24 or 32 bits, IEEE float with 32 or 64 bits, plain or in a
WAVE_FORMAT_EXTENSIBLE header. Anything else gets a one-line error naming the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from rnnkit.data.files import check_file
from rnnkit.errors import DataError
from rnnkit.io import atomic_write

PCM, FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
ENCODING_NAMES = {
    0x0002: "MS ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0055: "MP3",
}
# Writers that stream audio cannot know the data size in advance and leave one of these.
UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def _chunks(path: Path, data: bytes):
    """``(chunk id, offset of its body, declared size)`` of each RIFF chunk."""
    offset = 12
    while offset + 8 <= len(data):
        name, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        yield name, offset + 8, size
        offset += 8 + size + (size & 1)  # chunks are padded to an even size


def _format(path: Path, body: bytes):
    if len(body) < 16:
        raise DataError(
            f"{path}: corrupt WAV: the 'fmt ' chunk has {len(body)} bytes; expected at least 16"
        )
    tag, channels, rate, _, block, bits = struct.unpack_from("<HHIIHH", body)
    if tag == EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack_from("<H", body, 24)[0]  # the first two bytes of the sub-format GUID
    if tag not in (PCM, FLOAT):
        name = ENCODING_NAMES.get(tag, "an unknown encoding")
        raise DataError(
            f"{path}: unsupported WAV encoding {name} (format tag 0x{tag:04x}); "
            "expected PCM (8, 16, 24 or 32 bits) or IEEE float (32 or 64 bits)"
        )
    allowed = (8, 16, 24, 32) if tag == PCM else (32, 64)
    if bits not in allowed:
        kind = "PCM" if tag == PCM else "float"
        raise DataError(
            f"{path}: unsupported WAV sample size: {kind} with {bits} bits; expected "
            f"{', '.join(map(str, allowed))}"
        )
    if channels < 1 or rate < 1 or block != channels * bits // 8:
        raise DataError(
            f"{path}: corrupt WAV header: {channels} channels, {rate} Hz, {block} bytes per frame"
        )
    return tag, channels, rate, bits


def _decode(raw: bytes, tag: int, bits: int) -> np.ndarray:
    if tag == FLOAT:
        return np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
    if bits == 8:  # 8-bit WAV is unsigned, centred on 128
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128) / 128
    if bits == 24:  # little-endian triplets: put each in the top of an int32
        triplets = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = (triplets[:, 0] << 8) | (triplets[:, 1] << 16) | (triplets[:, 2] << 24)
        return values.astype(np.float32) / 2**31
    dtype = "<i2" if bits == 16 else "<i4"
    return np.frombuffer(raw, dtype=dtype).astype(np.float32) / 2 ** (bits - 1)


def read_wav(path):
    """``(samples (time,) float32 tensor, sample_rate)`` of a WAV file, mixed down to mono."""
    import torch  # here, not at the top: the onnxruntime path reads WAVs without torch

    samples, rate = read_samples(path)
    return torch.from_numpy(samples), rate


def read_samples(path) -> tuple[np.ndarray, int]:
    """``(samples (time,) float32 array, sample_rate)`` of a WAV file, mixed down to mono."""
    path = check_file(path, "a WAV file")
    if path.suffix.lower() not in (".wav", ".wave"):
        raise DataError(
            f"{path}: unsupported audio format {path.suffix or '(no extension)'!r}; rnnkit reads "
            f"WAV files (convert first, e.g. ffmpeg -i {path.name} {path.stem}.wav)"
        )
    data = path.read_bytes()
    if not data:
        raise DataError(f"{path}: empty file; expected a WAV (RIFF/WAVE) file")
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DataError(
            f"{path}: not a WAV file: expected 'RIFF....WAVE' at the start, found {data[:12]!r}"
        )
    header = None
    for name, start, size in _chunks(path, data):
        if name == b"fmt ":
            header = _format(path, data[start : start + size])
        elif name == b"data":
            if header is None:
                raise DataError(
                    f"{path}: corrupt WAV: the audio data comes before its 'fmt ' chunk"
                )
            return _samples(path, data, start, size, *header)
    missing = "'data'" if header else "'fmt '"
    raise DataError(f"{path}: corrupt or truncated WAV: no {missing} chunk")


def _samples(path: Path, data: bytes, start: int, size: int, tag, channels, rate, bits):
    available = len(data) - start
    if size > available and size not in UNKNOWN_SIZES:
        raise DataError(
            f"{path}: truncated WAV: the data chunk declares {size} bytes, the file holds "
            f"{available}"
        )
    if size in UNKNOWN_SIZES:
        size = available
    frame = channels * bits // 8
    frames = size // frame
    if frames == 0:
        raise DataError(f"{path}: no audio samples (the data chunk is empty)")
    values = _decode(data[start : start + frames * frame], tag, bits).reshape(frames, channels)
    if not np.isfinite(values).all():
        raise DataError(f"{path}: the float samples include NaN or infinity")
    return values.mean(1, dtype=np.float32), rate


def write_wav(path, samples, sample_rate: int) -> None:
    """Writes mono 16-bit PCM (``samples``, an array or a CPU tensor ``(time,)`` in [-1, 1], are
    clipped), via a temp file and a rename."""
    path = Path(path)
    values = np.asarray(samples.detach() if hasattr(samples, "detach") else samples, np.float32)
    pcm = np.round(np.clip(values, -1, 1) * 32767).astype("<i2").tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        PCM,
        1,
        sample_rate,
        2 * sample_rate,
        2,
        16,
        b"data",
        len(pcm),
    )
    atomic_write(path, header + pcm)
