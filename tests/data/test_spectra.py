"""The numpy features (the onnxruntime path's) against the torch features (the run's), on
real recordings, and the numpy resampler against the torch one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.data.audio import FeatureExtractor, resample
from rnnkit.data.spectra import AudioConfig, SpectralFeatures, resample_array
from rnnkit.data.wav import read_samples


@pytest.fixture
def recordings(shared_data):
    folder = shared_data / "fsdd" / "recordings"
    return [read_samples(folder / name) for name in ("7_jackson_32.wav", "0_yweweler_11.wav")]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"features": "log_mel", "mel_bands": 40, "deltas": 0},
        {"sample_rate": 16000, "mel_bands": 40, "window_ms": 20, "hop_ms": 5},
        {"normalise": "none", "min_frequency": 100.0, "max_frequency": 3800.0, "deltas": 1},
    ],
)
def test_numpy_features_match_the_torch_features(recordings, options):
    config = AudioConfig(**options)
    ours, theirs = SpectralFeatures(config), FeatureExtractor(config)
    for samples, rate in recordings:
        expected = theirs.extract(torch.from_numpy(samples), rate).numpy()
        actual = ours.extract(samples, rate)
        assert actual.shape == expected.shape and actual.dtype == np.float32
        # torch's STFT runs in float32, numpy's in float64: measured differences are 1e-7 to
        # 3e-6 of the features' range; 1e-5 of it leaves room, and a wrong window, filter or
        # frame offset moves them by 1e-2 of it or more.
        scale = np.abs(expected).max()
        assert np.abs(actual - expected).max() < 1e-5 * scale


@pytest.mark.parametrize("old,new", [(8000, 16000), (16000, 8000), (44100, 8000), (100, 110)])
def test_numpy_resampling_matches_torch(old, new):
    samples = np.random.default_rng(0).standard_normal(3001).astype(np.float32)
    expected = resample(torch.from_numpy(samples), old, new).numpy()
    actual = resample_array(samples, old, new)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() < 1e-5
