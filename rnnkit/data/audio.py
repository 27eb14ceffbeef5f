"""Speech features in torch: log-mel spectrograms and MFCCs, deltas, per-utterance
normalisation and SpecAugment masking.

The maths follows librosa's defaults, and the tests check it against librosa:
a centred STFT of a Hann window (zero-padded at the ends), the power spectrum,
Slaney's mel filterbank with area normalisation, ``10 log10`` clipped 80 dB below
the loudest bin, and for MFCCs an orthonormal DCT-II of that (Davis &
Mermelstein 1980). Deltas are the HTK regression over +-2 frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.data.wav import read_wav, resample
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


def hz_to_mel(hz: Tensor) -> Tensor:
    """Slaney's mel scale (the Auditory Toolbox's): linear below 1 kHz, logarithmic above."""
    linear = hz * 3 / 200
    return torch.where(
        hz >= 1000, 15 + torch.log(hz.clamp_min(1e-10) / 1000) * 27 / math.log(6.4), linear
    )


def mel_to_hz(mel: Tensor) -> Tensor:
    return torch.where(mel >= 15, 1000 * torch.exp((mel - 15) * math.log(6.4) / 27), mel * 200 / 3)


def mel_filterbank(
    sample_rate: int, fft_size: int, mel_bands: int, low: float = 0.0, high: float | None = None
) -> Tensor:
    """Triangular filters ``(mel_bands, fft_size // 2 + 1)`` on the mel scale, each
    scaled to unit area (Slaney's normalisation, so wide filters do not dominate)."""
    high = sample_rate / 2 if high is None else high
    if not 0 <= low < high <= sample_rate / 2:
        raise ValueError(
            f"mel filters need 0 <= min_frequency < max_frequency <= {sample_rate / 2:g} Hz "
            f"(half the sample rate); got {low:g} and {high:g}"
        )
    bins = torch.linspace(0, sample_rate / 2, fft_size // 2 + 1, dtype=torch.float64)
    edges = mel_to_hz(
        torch.linspace(
            *hz_to_mel(torch.tensor([low, high], dtype=torch.float64)),
            mel_bands + 2,
            dtype=torch.float64,
        )
    )
    widths = edges.diff()
    ramps = edges[:, None] - bins[None]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    triangles = torch.minimum(rising, falling).clamp_min(0)
    return (triangles * (2 / (edges[2:] - edges[:-2]))[:, None]).float()


def dct_matrix(coefficients: int, size: int) -> Tensor:
    """Rows of the orthonormal DCT-II: ``dct_matrix(k, n) @ x`` is scipy's ``dct(x,
    norm='ortho')[:k]``."""
    n = torch.arange(size, dtype=torch.float64)
    k = torch.arange(coefficients, dtype=torch.float64)[:, None]
    matrix = torch.cos(math.pi / size * (n + 0.5) * k) * math.sqrt(2 / size)
    matrix[0] /= math.sqrt(2)
    return matrix.float()


def power_spectrogram(samples: Tensor, config: AudioConfig) -> Tensor:
    """``|STFT|^2`` of ``samples (time,)``: ``(fft_size // 2 + 1, frames)``, frames = 1 + time //
    hop."""
    window = torch.hann_window(config.window, periodic=True, device=samples.device)
    spectrum = torch.stft(
        samples.float(),
        config.fft_size,
        config.hop,
        config.window,
        window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    return spectrum.real**2 + spectrum.imag**2


def power_to_db(power: Tensor, floor: float = 1e-10, top_db: float = 80.0) -> Tensor:
    """``10 log10(power)``, clipped ``top_db`` below its maximum so that silence
    (digital zeros) does not produce huge negative values."""
    db = 10 * torch.log10(power.clamp_min(floor))
    return torch.maximum(db, db.max() - top_db)


def deltas(features: Tensor, width: int = 2) -> Tensor:
    """Time derivatives of ``features (frames, n)`` by the HTK regression formula
    ``d_t = sum_n n (c_{t+n} - c_{t-n}) / (2 sum_n n^2)``, edges repeated."""
    padded = torch.cat([features[:1].expand(width, -1), features, features[-1:].expand(width, -1)])
    weights = torch.arange(-width, width + 1, dtype=features.dtype, device=features.device)
    weights = weights / (weights**2).sum()
    return F.conv1d(padded.T[:, None], weights[None, None])[:, 0].T


class FeatureExtractor:
    """``extract(samples, sample_rate) -> (frames, config.size)``, or ``read(path)``; builds
    the filterbank and DCT once per config."""

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
        if self.dct is not None and config.mfcc_coefficients > config.mel_bands:
            raise ValueError(
                f"mfcc_coefficients ({config.mfcc_coefficients}) cannot exceed mel_bands "
                f"({config.mel_bands})"
            )

    def read(self, path) -> Tensor:
        return self.extract(*read_wav(path))

    def waveform(self, samples: Tensor, sample_rate: int) -> Tensor:
        """``samples`` at the config's sample rate."""
        return resample(samples, sample_rate, self.config.sample_rate)

    def extract(self, samples: Tensor, sample_rate: int | None = None) -> Tensor:
        """Feature frames ``(frames, size)`` of ``samples (time,)`` (already at the config's rate if
        ``sample_rate`` is None)."""
        if sample_rate is not None:
            samples = self.waveform(samples, sample_rate)
        mel = self.filterbank @ power_spectrogram(samples, self.config)
        static = power_to_db(mel)
        if self.dct is not None:
            static = self.dct @ static
        frames = [static.T]
        for _ in range(self.config.deltas):
            frames.append(deltas(frames[-1]))
        result = torch.cat(frames, dim=1)
        if self.config.normalise == "utterance":
            # Cepstral mean and variance normalisation per recording: removes the
            # channel (microphone, level) that differs between speakers and rooms.
            result = (result - result.mean(0)) / result.std(0, correction=0).clamp_min(1e-5)
        return result.contiguous()


def spec_augment(
    features: Tensor,
    generator: torch.Generator,
    time_masks: int = 2,
    time_width: int = 10,
    feature_masks: int = 2,
    feature_width: int = 8,
) -> Tensor:
    """SpecAugment's masking (Park et al. 2019, section 2) of ``features (frames, n)``:
    ``time_masks`` runs of up to ``time_width`` frames (at most a fifth of the
    recording each) and ``feature_masks`` runs of up to ``feature_width`` feature
    channels are set to 0, the mean after utterance normalisation. Returns a copy."""
    result = features.clone()
    frames, channels = features.shape
    for count, width, size, axis in (
        (time_masks, time_width, frames, 0),
        (feature_masks, feature_width, channels, 1),
    ):
        limit = min(width, size // 5 if axis == 0 else size)
        for _ in range(count if limit > 0 else 0):
            length = int(torch.randint(0, limit + 1, (), generator=generator))
            start = int(torch.randint(0, size - length + 1, (), generator=generator))
            result.narrow(axis, start, length).zero_()
    return result


def change_speed(samples: Tensor, speed: float) -> Tensor:
    """``samples`` played ``speed`` times as fast (tempo and pitch together): the
    speed perturbation of Ko et al. (2015), which varies the speaker's apparent
    vocal tract and rate. ``speed`` is rounded to hundredths, which keeps the resampling kernel
    small."""
    hundredths = round(speed * 100)
    if hundredths <= 0:
        raise ValueError(f"speed must be positive; got {speed}")
    return resample(samples, hundredths, 100)


def add_noise(
    samples: Tensor, lowest_snr: float, generator: torch.Generator, highest_snr: float = 40.0
) -> Tensor:
    """``samples`` plus white noise at a signal-to-noise ratio drawn uniformly between
    ``lowest_snr`` and ``highest_snr`` dB: recordings made elsewhere have other noise floors."""
    snr = lowest_snr + (highest_snr - lowest_snr) * float(torch.rand((), generator=generator))
    power = samples.pow(2).mean().clamp_min(1e-10)
    noise = torch.randn(samples.shape, generator=generator) * (power / 10 ** (snr / 10)).sqrt()
    return samples + noise


class TrainingFeatures:
    """``(waveform, generator) -> features``: a random speed from ``speeds``, white
    noise (:func:`add_noise`) if ``noise_snr`` is set, the features, then
    ``mask(features, generator)`` (e.g. :func:`spec_augment`) if given.
    Fresh every epoch, so the model never sees the same variant twice."""

    def __init__(
        self, extractor: FeatureExtractor, speeds=(1.0,), mask=None, noise_snr: float | None = None
    ):
        self.extractor, self.speeds, self.mask, self.noise_snr = (
            extractor,
            tuple(speeds),
            mask,
            noise_snr,
        )

    def __call__(self, samples: Tensor, generator: torch.Generator) -> Tensor:
        speed = self.speeds[int(torch.randint(len(self.speeds), (), generator=generator))]
        if speed != 1:
            samples = change_speed(samples, speed)
        if self.noise_snr is not None:
            samples = add_noise(samples, self.noise_snr, generator)
        features = self.extractor.extract(samples)
        return self.mask(features, generator) if self.mask is not None else features
