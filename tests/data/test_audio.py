"""Speech features against librosa (the reference, a test-only dependency),
deltas, utterance normalisation, SpecAugment and speed perturbation."""

import numpy as np
import pytest
import torch

from rnnkit.data.audio import (
    AudioConfig,
    FeatureExtractor,
    TrainingFeatures,
    add_noise,
    change_speed,
    deltas,
    mel_filterbank,
    power_spectrogram,
    spec_augment,
)
from rnnkit.data.spectra import warp_frequencies
from rnnkit.data.wav import read_wav

librosa = pytest.importorskip(
    "librosa", reason="librosa is the reference for the features (pip install -e '.[dev]')"
)


@pytest.fixture
def recording(shared_data):
    return read_wav(shared_data / "fsdd" / "recordings" / "7_jackson_32.wav")


@pytest.mark.parametrize(
    "rate,fft,bands,low,high",
    [(8000, 256, 40, 0.0, None), (16000, 512, 64, 20.0, 7600.0), (22050, 1024, 128, 0.0, 11025.0)],
)
def test_mel_filterbank_matches_librosa(rate, fft, bands, low, high):
    ours = mel_filterbank(rate, fft, bands, low, high)
    reference = librosa.filters.mel(sr=rate, n_fft=fft, n_mels=bands, fmin=low, fmax=high)
    assert ours.shape == reference.shape
    assert np.abs(ours.numpy() - reference).max() < 1e-6 * reference.max()


def test_mel_spectrogram_matches_librosa(recording):
    samples, rate = recording
    config = AudioConfig()
    ours = mel_filterbank(rate, config.fft_size, 40) @ power_spectrogram(samples, config)
    reference = librosa.feature.melspectrogram(
        y=samples.numpy(),
        sr=rate,
        n_fft=config.fft_size,
        hop_length=config.hop,
        win_length=config.window,
        n_mels=40,
    )
    assert ours.shape == reference.shape == (40, 1 + len(samples) // config.hop)
    assert np.abs(ours.numpy() - reference).max() < 1e-5 * reference.max()


@pytest.mark.parametrize("features", ["mfcc", "log_mel"])
def test_static_features_match_librosa(recording, features):
    samples, rate = recording
    config = AudioConfig(features=features, deltas=0, normalise="none", mfcc_coefficients=13)
    ours = FeatureExtractor(config).extract(samples)
    mel = librosa.feature.melspectrogram(
        y=samples.numpy(),
        sr=rate,
        n_fft=config.fft_size,
        hop_length=config.hop,
        win_length=config.window,
        n_mels=config.mel_bands,
    )
    reference = librosa.power_to_db(mel, top_db=80.0)
    if features == "mfcc":
        reference = librosa.feature.mfcc(S=reference, n_mfcc=13)
    assert ours.shape == reference.T.shape == (mel.shape[1], config.size)
    assert np.abs(ours.numpy() - reference.T).max() < 1e-3


def test_deltas_match_librosa_and_the_regression_formula():
    torch.manual_seed(0)
    features = torch.randn(30, 6, dtype=torch.float64)
    reference = librosa.feature.delta(features.T.numpy(), width=5, mode="nearest").T
    ours = deltas(features)
    assert np.abs(ours.numpy() - reference).max() < 1e-10
    t = 10  # by hand: sum_n n (c[t+n] - c[t-n]) / (2 * (1 + 4))
    by_hand = ((features[t + 1] - features[t - 1]) + 2 * (features[t + 2] - features[t - 2])) / 10
    assert torch.allclose(ours[t], by_hand)


def test_extractor_resamples_stacks_deltas_and_normalises(recording):
    samples, rate = recording
    config = AudioConfig(sample_rate=16000, deltas=2)
    extractor = FeatureExtractor(config)
    features = extractor.extract(samples, rate)
    assert features.shape[1] == config.size == 39  # 13 MFCCs, deltas, delta-deltas
    upsampled = extractor.waveform(samples, rate)
    assert (
        len(upsampled) == 2 * len(samples) and features.shape[0] == 1 + len(upsampled) // config.hop
    )
    assert (
        features.mean(0).abs().max() < 1e-4
        and (features.std(0, correction=0) - 1).abs().max() < 1e-3
    )
    static = FeatureExtractor(AudioConfig(sample_rate=16000, deltas=0, normalise="none")).extract(
        samples, rate
    )
    first = deltas(static)
    raw = FeatureExtractor(AudioConfig(sample_rate=16000, normalise="none")).extract(samples, rate)
    assert torch.allclose(raw, torch.cat([static, first, deltas(first)], 1), atol=1e-4)


def test_tiny_and_silent_inputs_give_finite_frames():
    extractor = FeatureExtractor(AudioConfig())
    for samples in (torch.zeros(1), torch.zeros(4000), torch.randn(7)):
        features = extractor.extract(samples)
        assert features.shape == (1 + len(samples) // 80, 39) and torch.isfinite(features).all()


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="features must be one of 'mfcc', 'log_mel'; got 'mel'"):
        AudioConfig(features="mel")
    with pytest.raises(
        ValueError,
        match=r"^max_frequency must lie above min_frequency \(0 Hz\) and at most half the "
        r"sample rate \(4000 Hz\); got 5000$",
    ):
        AudioConfig(max_frequency=5000.0)
    with pytest.raises(
        ValueError, match=r"^mfcc_coefficients must be at most mel_bands \(23\); got 50$"
    ):
        AudioConfig(mfcc_coefficients=50)


def test_spec_augment_zeroes_bounded_runs_and_is_seeded():
    features = torch.randn(100, 40) + 5
    masked = spec_augment(
        features,
        torch.Generator().manual_seed(1),
        time_masks=2,
        time_width=10,
        feature_masks=2,
        feature_width=8,
    )
    zero_rows = (masked == 0).all(1).sum().item()
    zero_columns = (masked == 0).all(0).sum().item()
    assert 0 < zero_rows <= 20 and 0 < zero_columns <= 16
    kept = masked != 0
    assert torch.equal(masked[kept], features[kept])
    again = spec_augment(features, torch.Generator().manual_seed(1), 2, 10, 2, 8)
    assert torch.equal(masked, again)
    short = spec_augment(features[:4], torch.Generator().manual_seed(1), 2, 10, 0, 8)
    assert torch.equal(short, features[:4])  # a fifth of 4 frames is no frame at all


def test_speed_changes_duration_and_pitch_together():
    rate = 8000
    tone = torch.sin(2 * np.pi * 500 * torch.arange(rate) / rate)
    fast = change_speed(tone, 1.25)
    assert len(fast) == rate * 4 // 5
    spectrum = torch.fft.rfft(fast[1000:-1000]).abs()
    peak = spectrum.argmax().item() * rate / (len(fast) - 2000)
    assert abs(peak - 625) < 5
    transform = TrainingFeatures(FeatureExtractor(AudioConfig()), speeds=(0.9, 1.1))
    lengths = {len(transform(tone, torch.Generator().manual_seed(seed))) for seed in range(8)}
    assert lengths == {1 + len(change_speed(tone, s)) // 80 for s in (0.9, 1.1)}


def test_noise_lands_between_the_signal_to_noise_ratios():
    tone = torch.sin(2 * np.pi * 300 * torch.arange(8000) / 8000)
    for seed in range(5):
        noisy = add_noise(tone, 10.0, torch.Generator().manual_seed(seed), highest_snr=20.0)
        snr = 10 * torch.log10(tone.pow(2).mean() / (noisy - tone).pow(2).mean())
        assert 9.8 < snr < 20.2
    same = add_noise(tone, 10.0, torch.Generator().manual_seed(3))
    assert torch.equal(same, add_noise(tone, 10.0, torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("factor", [0.9, 0.95, 1.05, 1.12])
def test_vtlp_warp_scales_below_the_knee_and_keeps_both_ends(factor):
    nyquist = 4000.0
    hz = np.linspace(0, nyquist, 4001)
    warped = warp_frequencies(hz, factor, nyquist)
    knee = 0.6 * nyquist * min(factor, 1) / factor
    assert warped[0] == 0 and warped[-1] == pytest.approx(nyquist)
    assert np.allclose(warped[hz <= knee], hz[hz <= knee] * factor)
    assert np.all(np.diff(warped) > 0)  # one to one: no two bins land on one frequency
    step = np.abs(np.diff(warped)).max()
    assert step < 1.0 * max(factor, 1) + 0.5  # continuous at the knee: no jump
    assert np.array_equal(warp_frequencies(hz, 1.0, nyquist), hz)


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_a_warped_filterbank_hears_a_tone_where_the_scaled_tone_would_be(factor):
    rate, config = 8000, AudioConfig(features="log_mel", mel_bands=40)
    time = torch.arange(rate) / rate
    extractor = FeatureExtractor(config)
    for hz in (400.0, 900.0, 1500.0):
        tone = torch.sin(2 * np.pi * hz * time)
        scaled = torch.sin(2 * np.pi * hz * factor * time)
        heard = extractor.warped_filterbank(factor) @ power_spectrogram(tone, config)
        expected = extractor.filterbank @ power_spectrogram(scaled, config)
        assert heard.sum(1).argmax() == expected.sum(1).argmax()
        assert (
            heard.sum(1).argmax()
            != (extractor.filterbank @ power_spectrogram(tone, config)).sum(1).argmax()
        )
    assert extractor.warped_filterbank(1.0) is extractor.filterbank
    assert extractor.warped_filterbank(factor) is extractor.warped_filterbank(factor + 1e-4)


def test_vtlp_draws_a_warp_per_recording_and_is_seeded(recording):
    samples, rate = recording
    extractor = FeatureExtractor(AudioConfig())
    waveform = extractor.waveform(samples, rate)
    plain = TrainingFeatures(extractor)(waveform, torch.Generator().manual_seed(0))
    assert torch.equal(plain, extractor.extract(waveform))
    warping = TrainingFeatures(extractor, vtlp=0.1)
    draws = [warping(waveform, torch.Generator().manual_seed(seed)) for seed in range(4)]
    assert all(d.shape == plain.shape and not torch.allclose(d, plain, atol=1e-3) for d in draws)
    assert not torch.allclose(draws[0], draws[1], atol=1e-3)
    assert torch.equal(draws[2], warping(waveform, torch.Generator().manual_seed(2)))
