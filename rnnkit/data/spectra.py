"""Speech features in numpy: what :mod:`rnnkit.data.audio` computes in torch, for the
onnxruntime path (:mod:`rnnkit.runtime`), which has no torch. The matrices (mel filterbank,
DCT, resampling kernels) are built here once and shared by both, and a test checks that the
two give the same frames.

The maths follows librosa's defaults (see :mod:`rnnkit.data.audio`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.fields import NON_NEGATIVE, POSITIVE, Range, check_fields

FEATURES = ("mfcc", "log_mel")


@dataclass
class AudioConfig:
    """How audio becomes feature frames ``(frames, features)``; saved with the model."""

    sample_rate: int = 8000
    """Rate (Hz) every recording is resampled to before its features are computed."""
    features: str = "mfcc"
    """mfcc (cepstral coefficients of the log-mel spectrum) or log_mel (the log-mel spectrum
    itself)."""
    mel_bands: int = 23
    """Mel filters between --min-frequency and --max-frequency (23 is Kaldi's default for 8 kHz
    speech; 40 or more suit 16 kHz and log_mel features)."""
    mfcc_coefficients: int = 13
    """Cepstral coefficients kept for --features mfcc, c0 included (13 is the classic choice: higher
    ones carry pitch detail, which varies between speakers)."""
    window_ms: float = 25.0
    """Analysis window (Hann) length in milliseconds."""
    hop_ms: float = 10.0
    """Step between frames in milliseconds (10 ms gives 100 frames per second)."""
    min_frequency: float = 0.0
    """Lowest mel filter edge in Hz."""
    max_frequency: float | None = None
    """Highest mel filter edge in Hz; default: half the sample rate."""
    deltas: int = 2
    """Append time derivatives: 0 none, 1 deltas, 2 deltas and delta-deltas."""
    normalise: str = "utterance"
    """utterance (each feature to zero mean and unit variance over the recording) or none."""

    BOUNDS = {
        "sample_rate": Range(1000, 192_000),
        "features": FEATURES,
        "mel_bands": Range(1, 256),
        "mfcc_coefficients": Range(1, 256),
        "window_ms": Range(1, 1000),
        "hop_ms": Range(0.1, 1000),
        "min_frequency": NON_NEGATIVE,
        "max_frequency": POSITIVE,
        "deltas": Range(0, 2),
        "normalise": ("utterance", "none"),
    }

    def __post_init__(self):
        check_fields(self)
        nyquist = self.sample_rate / 2
        top = self.max_frequency if self.max_frequency is not None else nyquist
        if not self.min_frequency < top <= nyquist:
            raise ConfigError(
                "max_frequency",
                f"must lie above min_frequency ({self.min_frequency:g} Hz) and at most half "
                f"the sample rate ({nyquist:g} Hz); got {top:g}",
            )
        if self.features == "mfcc" and self.mfcc_coefficients > self.mel_bands:
            raise ConfigError(
                "mfcc_coefficients",
                f"must be at most mel_bands ({self.mel_bands}); got {self.mfcc_coefficients}",
            )

    @property
    def window(self) -> int:
        return max(2, round(self.sample_rate * self.window_ms / 1000))

    @property
    def hop(self) -> int:
        return max(1, round(self.sample_rate * self.hop_ms / 1000))

    @property
    def fft_size(self) -> int:
        return 2 ** math.ceil(math.log2(self.window))

    @property
    def size(self) -> int:
        """Features per frame."""
        static = self.mfcc_coefficients if self.features == "mfcc" else self.mel_bands
        return static * (1 + self.deltas)


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (the Auditory Toolbox's): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    logarithmic = 15 + np.log(np.maximum(hz, 1e-10) / 1000) * 27 / math.log(6.4)
    return np.where(hz >= 1000, logarithmic, hz * 3 / 200)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15, 1000 * np.exp((mel - 15) * math.log(6.4) / 27), mel * 200 / 3)


def warp_frequencies(hz: np.ndarray, factor: float, nyquist: float, boundary: float = 0.6):
    """Vocal-tract-length warp of frequencies ``hz`` (Jaitly & Hinton 2013, eq. 1): scaled by
    ``factor`` up to ``boundary * nyquist * min(factor, 1) / factor``, then the straight line
    that keeps the Nyquist frequency in place, so the warped axis still spans 0..nyquist."""
    knee = boundary * nyquist * min(factor, 1.0) / factor
    hz = np.asarray(hz, dtype=np.float64)
    above = nyquist - (nyquist - factor * knee) / (nyquist - knee) * (nyquist - hz)
    return np.where(hz <= knee, hz * factor, above)


def mel_filterbank(
    sample_rate: int,
    fft_size: int,
    mel_bands: int,
    low: float = 0.0,
    high: float | None = None,
    warp: float = 1.0,
) -> np.ndarray:
    """Triangular filters float32 ``(mel_bands, fft_size // 2 + 1)`` on the mel scale, each
    scaled to unit area (Slaney's normalisation, so wide filters do not dominate). ``warp``
    other than 1 moves the energy of each FFT bin to :func:`warp_frequencies` of it: a
    speaker with a vocal tract ``1 / warp`` times as long (VTLP)."""
    high = sample_rate / 2 if high is None else high
    if not 0 <= low < high <= sample_rate / 2:
        raise ValueError(
            f"mel filters need 0 <= min_frequency < max_frequency <= {sample_rate / 2:g} Hz "
            f"(half the sample rate); got {low:g} and {high:g}"
        )
    bins = np.linspace(0, sample_rate / 2, fft_size // 2 + 1)
    if warp != 1.0:
        bins = warp_frequencies(bins, warp, sample_rate / 2)
    edges = mel_to_hz(np.linspace(*hz_to_mel(np.array([low, high])), mel_bands + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    triangles = np.maximum(np.minimum(rising, falling), 0)
    return (triangles * (2 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def dct_matrix(coefficients: int, size: int) -> np.ndarray:
    """Rows of the orthonormal DCT-II, float32 ``(coefficients, size)``: ``dct_matrix(k, n) @
    x`` is scipy's ``dct(x, norm='ortho')[:k]``."""
    n = np.arange(size, dtype=np.float64)
    k = np.arange(coefficients, dtype=np.float64)[:, None]
    matrix = np.cos(math.pi / size * (n + 0.5) * k) * math.sqrt(2 / size)
    matrix[0] /= math.sqrt(2)
    return matrix.astype(np.float32)


@functools.lru_cache(maxsize=32)
def sinc_kernels(old: int, new: int, zero_crossings: int, rolloff: float) -> tuple:
    """``(kernels float32 (new, taps), width)``: one Hann-windowed sinc low-pass kernel per
    output phase (Smith, "Digital Audio Resampling"; the kernel torchaudio's ``resample``
    uses). Cached: speed perturbation resamples every training recording with the same few
    ratios."""
    cutoff = min(old, new) * rolloff  # just under the lower Nyquist rate, so nothing aliases
    width = math.ceil(zero_crossings * old / cutoff)
    taps = np.arange(-width, width + old, dtype=np.float64)[None] / old
    t = (-np.arange(new, dtype=np.float64)[:, None] / new + taps) * cutoff
    t = np.clip(t, -zero_crossings, zero_crossings)
    window = np.cos(t * math.pi / zero_crossings / 2) ** 2
    t = t * math.pi
    with np.errstate(invalid="ignore", divide="ignore"):
        sinc = np.where(t == 0, 1.0, np.sin(t) / t)
    return (sinc * window * cutoff / old).astype(np.float32), width


def rates_in_lowest_terms(old_rate: int, new_rate: int) -> tuple[int, int]:
    divisor = math.gcd(old_rate, new_rate)
    return old_rate // divisor, new_rate // divisor


def resample_array(samples: np.ndarray, old_rate: int, new_rate: int) -> np.ndarray:
    """:func:`rnnkit.data.audio.resample` of a mono ``samples (time,)`` in numpy."""
    if old_rate == new_rate:
        return samples
    old, new = rates_in_lowest_terms(old_rate, new_rate)
    kernels, width = sinc_kernels(old, new, 6, 0.99)
    length = samples.shape[-1]
    padded = np.pad(samples.astype(np.float32), (width, width + old))
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernels.shape[1])[::old]
    phases = windows @ kernels.T  # row k, column p: output sample new * k + p
    return phases.reshape(-1)[: math.ceil(new * length / old)]


class SpectralFeatures:
    """``extract(samples (time,), sample_rate) -> float32 (frames, config.size)`` in numpy:
    the same frames as :class:`rnnkit.data.audio.FeatureExtractor`."""

    def __init__(self, config: AudioConfig):
        self.config = config
        self.filterbank = mel_filterbank(
            config.sample_rate,
            config.fft_size,
            config.mel_bands,
            config.min_frequency,
            config.max_frequency,
        )
        self.dct = (
            dct_matrix(config.mfcc_coefficients, config.mel_bands)
            if config.features == "mfcc"
            else None
        )
        # torch.hann_window(periodic=True), zero-padded to the FFT size in the middle.
        window = np.hanning(config.window + 1)[:-1]
        left = (config.fft_size - config.window) // 2
        self.window = np.zeros(config.fft_size)
        self.window[left : left + config.window] = window

    def power_spectrogram(self, samples: np.ndarray) -> np.ndarray:
        """``|STFT|^2``: ``(fft_size // 2 + 1, frames)``, frames = 1 + time // hop, centred
        with zero padding (torch.stft's ``center=True, pad_mode="constant"``)."""
        config, size = self.config, self.config.fft_size
        padded = np.pad(samples.astype(np.float64), (size // 2, size // 2))
        frames = 1 + (len(padded) - size) // config.hop
        starts = np.arange(frames) * config.hop
        windows = padded[starts[:, None] + np.arange(size)] * self.window
        spectrum = np.fft.rfft(windows, axis=1)
        return (spectrum.real**2 + spectrum.imag**2).T.astype(np.float32)

    def extract(self, samples: np.ndarray, sample_rate: int | None = None) -> np.ndarray:
        if sample_rate is not None:
            samples = resample_array(samples, sample_rate, self.config.sample_rate)
        mel = self.filterbank @ self.power_spectrogram(samples)
        static = 10 * np.log10(np.maximum(mel, 1e-10))
        static = np.maximum(static, static.max() - 80.0)
        if self.dct is not None:
            static = self.dct @ static
        frames = [static.T]
        for _ in range(self.config.deltas):
            frames.append(deltas(frames[-1]))
        result = np.concatenate(frames, axis=1)
        if self.config.normalise == "utterance":
            spread = np.maximum(result.std(0), 1e-5)
            result = (result - result.mean(0)) / spread
        return result.astype(np.float32)


def deltas(features: np.ndarray, width: int = 2) -> np.ndarray:
    """HTK regression deltas of ``features (frames, n)`` over +-``width`` frames, edges
    repeated (:func:`rnnkit.data.audio.deltas`)."""
    padded = np.concatenate(
        [np.repeat(features[:1], width, 0), features, np.repeat(features[-1:], width, 0)]
    )
    weights = np.arange(-width, width + 1, dtype=np.float64)
    weights /= (weights**2).sum()
    frames = len(features)
    return sum(w * padded[i : i + frames] for i, w in enumerate(weights)).astype(np.float32)
