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

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.data import spectra
from rnnkit.data.spectra import AudioConfig
from rnnkit.data.wav import read_wav


def mel_filterbank(
    sample_rate: int, fft_size: int, mel_bands: int, low: float = 0.0, high: float | None = None
) -> Tensor:
    """:func:`rnnkit.data.spectra.mel_filterbank` as a tensor ``(mel_bands, fft_size // 2 + 1)``."""
    return torch.from_numpy(spectra.mel_filterbank(sample_rate, fft_size, mel_bands, low, high))


def resample(
    samples: Tensor, old_rate: int, new_rate: int, zero_crossings: int = 6, rolloff: float = 0.99
) -> Tensor:
    """Band-limited resampling of ``samples (..., time)`` from ``old_rate`` to ``new_rate``
    Hz; the result has ``ceil(time * new_rate / old_rate)`` samples."""
    if old_rate == new_rate:
        return samples
    old, new = spectra.rates_in_lowest_terms(old_rate, new_rate)
    kernels, width = spectra.sinc_kernels(old, new, zero_crossings, rolloff)
    shape, length = samples.shape[:-1], samples.shape[-1]
    padded = F.pad(samples.reshape(-1, 1, length).float(), (width, width + old))
    # A strided convolution evaluates every output phase at once: row p of the
    # result holds the outputs new*k + p for k = 0, 1, ...
    weights = torch.from_numpy(kernels)[:, None].to(samples.device)
    phases = F.conv1d(padded, weights, stride=old)
    output = phases.transpose(1, 2).reshape(len(padded), -1)[:, : math.ceil(new * length / old)]
    return output.reshape(*shape, -1)


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
        # The matrices of the numpy twin (the onnxruntime path's), so the two cannot drift.
        twin = spectra.SpectralFeatures(config)
        self.filterbank = torch.from_numpy(twin.filterbank)
        self.dct = None if twin.dct is None else torch.from_numpy(twin.dct)
        self._warped: dict[int, Tensor] = {}

    def warped_filterbank(self, warp: float) -> Tensor:
        """The mel filterbank for a vocal-tract-length warp ``warp`` (rounded to hundredths;
        :func:`rnnkit.data.spectra.mel_filterbank`), built once per value."""
        hundredths = round(warp * 100)
        if hundredths == 100:
            return self.filterbank
        if hundredths not in self._warped:
            config = self.config
            self._warped[hundredths] = torch.from_numpy(
                spectra.mel_filterbank(
                    config.sample_rate,
                    config.fft_size,
                    config.mel_bands,
                    config.min_frequency,
                    config.max_frequency,
                    hundredths / 100,
                )
            )
        return self._warped[hundredths]

    def read(self, path) -> Tensor:
        return self.extract(*read_wav(path))

    def waveform(self, samples: Tensor, sample_rate: int) -> Tensor:
        """``samples`` at the config's sample rate."""
        return resample(samples, sample_rate, self.config.sample_rate)

    def extract(self, samples: Tensor, sample_rate: int | None = None, warp: float = 1.0) -> Tensor:
        """Feature frames ``(frames, size)`` of ``samples (time,)`` (already at the config's rate if
        ``sample_rate`` is None), with the frequency axis warped by ``warp`` (VTLP; 1 is none)."""
        if sample_rate is not None:
            samples = self.waveform(samples, sample_rate)
        mel = self.warped_filterbank(warp) @ power_spectrogram(samples, self.config)
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
    noise (:func:`add_noise`) if ``noise_snr`` is set, the features with the frequency
    axis warped by a factor drawn from ``1 +- vtlp`` (Jaitly & Hinton 2013) if ``vtlp`` is set,
    then ``mask(features, generator)`` (e.g. :func:`spec_augment`) if given.
    Fresh every epoch, so the model never sees the same variant twice."""

    def __init__(
        self,
        extractor: FeatureExtractor,
        speeds=(1.0,),
        mask=None,
        noise_snr: float | None = None,
        vtlp: float = 0.0,
    ):
        self.extractor, self.speeds, self.mask = extractor, tuple(speeds), mask
        self.noise_snr, self.vtlp = noise_snr, vtlp

    def __call__(self, samples: Tensor, generator: torch.Generator) -> Tensor:
        speed = self.speeds[int(torch.randint(len(self.speeds), (), generator=generator))]
        if speed != 1:
            samples = change_speed(samples, speed)
        if self.noise_snr is not None:
            samples = add_noise(samples, self.noise_snr, generator)
        warp = 1.0
        if self.vtlp:
            warp = 1 + self.vtlp * (2 * float(torch.rand((), generator=generator)) - 1)
        features = self.extractor.extract(samples, warp=warp)
        return self.mask(features, generator) if self.mask is not None else features
