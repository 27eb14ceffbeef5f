"""WAV reading of every supported encoding against the values written, the
one-line errors, and resampling against the analytic signal."""

import math
import struct

import numpy as np
import pytest
import torch

from rnnkit.data.audio import resample
from rnnkit.data.wav import read_wav, write_wav
from rnnkit.errors import DataError


def wav_bytes(
    frames: np.ndarray,
    rate: int,
    tag: int,
    bits: int,
    extensible: bool = False,
    data_size=None,
    channels=None,
) -> bytes:
    channels = channels or frames.shape[1]
    raw = frames.tobytes()
    block = channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block, block, bits
    )
    if (
        extensible
    ):  # cbSize, valid bits, channel mask, then the sub-format GUID, which starts with the tag
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + bytes(14)
    size = len(raw) if data_size is None else data_size
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"LIST" + struct.pack("<I", 3) + b"abc\0"
    chunks += b"data" + struct.pack("<I", size) + raw
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


@pytest.fixture
def signal():
    generator = np.random.default_rng(0)
    return generator.uniform(-0.9, 0.9, size=(50, 2))


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
@pytest.mark.parametrize("extensible", [False, True])
def test_pcm_of_every_width_reads_back_the_values_mixed_to_mono(tmp_path, signal, bits, extensible):
    scale = 2 ** (bits - 1)
    integers = np.round(signal * (scale - 1)).astype(np.int64)
    if bits == 8:
        frames = (integers + 128).astype(np.uint8)
    elif bits == 24:
        little = integers.astype("<i4").view(np.uint8).reshape(*integers.shape, 4)[..., :3]
        frames = np.ascontiguousarray(little).reshape(len(integers), -1)
    else:
        frames = integers.astype("<i2" if bits == 16 else "<i4")
    path = tmp_path / "x.wav"
    path.write_bytes(wav_bytes(frames, 16000, 1, bits, extensible, channels=2))
    samples, rate = read_wav(path)
    assert rate == 16000 and samples.dtype == torch.float32 and samples.shape == (50,)
    expected = (integers / scale).mean(1)
    assert np.abs(samples.numpy() - expected).max() < 1e-6


@pytest.mark.parametrize("dtype", ["<f4", "<f8"])
def test_float_wav_reads_back_exactly(tmp_path, signal, dtype):
    path = tmp_path / "x.wav"
    path.write_bytes(wav_bytes(signal[:, :1].astype(dtype), 44100, 3, 8 * np.dtype(dtype).itemsize))
    samples, rate = read_wav(path)
    assert rate == 44100 and np.allclose(samples.numpy(), signal[:, 0].astype(np.float32))


def test_streamed_size_reads_what_is_there_and_write_wav_round_trips(tmp_path, signal):
    path = tmp_path / "s.wav"
    frames = np.round(signal[:, :1] * 32767).astype("<i2")
    path.write_bytes(wav_bytes(frames, 8000, 1, 16, data_size=0xFFFFFFFF))
    samples, _ = read_wav(path)
    assert len(samples) == 50
    write_wav(tmp_path / "w.wav", samples, 8000)
    again, rate = read_wav(tmp_path / "w.wav")
    assert rate == 8000 and torch.abs(again - samples).max() < 1 / 32767 + 1e-7
    assert not list(tmp_path.glob("*.tmp"))


def test_fsdd_file_matches_pythons_wave_module(shared_data):
    import wave

    path = shared_data / "fsdd" / "recordings" / "7_jackson_32.wav"
    with wave.open(str(path)) as handle:
        expected = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2") / 32768
        rate = handle.getframerate()
    samples, got_rate = read_wav(path)
    assert got_rate == rate == 8000 and np.array_equal(samples.numpy(), expected.astype(np.float32))


def errors():
    good = wav_bytes(np.zeros((10, 1), dtype="<i2"), 8000, 1, 16)
    return {
        "empty.wav": (b"", "empty file; expected a WAV (RIFF/WAVE) file"),
        "text.wav": (
            b"hello, this is not audio",
            "not a WAV file: expected 'RIFF....WAVE' at the start, found b'hello, this '",
        ),
        "alaw.wav": (
            wav_bytes(np.zeros((10, 1), dtype=np.uint8), 8000, 6, 8),
            "unsupported WAV encoding A-law (format tag 0x0006); "
            "expected PCM (8, 16, 24 or 32 bits) or "
            "IEEE float (32 or 64 bits)",
        ),
        "pcm12.wav": (
            wav_bytes(np.zeros((10, 1), dtype="<i2"), 8000, 1, 12).replace(
                struct.pack("<HHIIHH", 1, 1, 8000, 8000 * 1, 1, 12),
                struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 12),
            ),
            "unsupported WAV sample size: PCM with 12 bits; expected 8, 16, 24, 32",
        ),
        "nodata.wav": (good[: good.index(b"data")], "corrupt or truncated WAV: no 'data' chunk"),
        "short.wav": (
            good[:-6],
            "truncated WAV: the data chunk declares 20 bytes, the file holds 14",
        ),
        "silent.wav": (
            wav_bytes(np.zeros((0, 1), dtype="<i2"), 8000, 1, 16),
            "no audio samples (the data chunk is empty)",
        ),
    }


@pytest.mark.parametrize(
    "name",
    ["empty.wav", "text.wav", "alaw.wav", "pcm12.wav", "nodata.wav", "short.wav", "silent.wav"],
)
def test_bad_wavs_get_one_line_errors_naming_the_file(tmp_path, name):
    content, message = errors()[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_wav(path)
    assert str(caught.value) == f"{path}: {message}"


def test_other_formats_and_missing_files_are_named(tmp_path):
    (tmp_path / "a.mp3").write_bytes(b"ID3")
    with pytest.raises(
        DataError,
        match=r"a.mp3: unsupported audio format '.mp3'; rnnkit reads WAV files \(convert "
        r"first, e.g. ffmpeg -i a.mp3 a.wav\)$",
    ):
        read_wav(tmp_path / "a.mp3")
    with pytest.raises(DataError, match="nope.wav: no such file$"):
        read_wav(tmp_path / "nope.wav")


@pytest.mark.parametrize("old,new", [(16000, 8000), (8000, 16000), (44100, 8000), (8000, 22050)])
def test_resampling_a_tone_matches_the_tone_sampled_at_the_new_rate(old, new):
    seconds, frequency = 0.5, 440.0
    tone = torch.sin(
        2 * math.pi * frequency * torch.arange(int(old * seconds), dtype=torch.float64) / old
    )
    result = resample(tone.float(), old, new)
    assert result.shape == (math.ceil(len(tone) * new / old),)
    expected = torch.sin(
        2 * math.pi * frequency * torch.arange(len(result), dtype=torch.float64) / new
    )
    edge = new // 50  # the ends see the zero padding
    assert (result[edge:-edge] - expected[edge:-edge]).abs().max() < 2e-3


def test_resampling_removes_what_the_new_rate_cannot_hold():
    tone = torch.sin(
        2 * math.pi * 3000 * torch.arange(16000) / 16000
    )  # above 4 kHz audio's highest, 2 kHz
    result = resample(tone, 16000, 4000)
    assert result[100:-100].abs().max() < 0.02
    assert torch.equal(resample(tone, 16000, 16000), tone)
