"""Shared fixtures: seeded synthetic spectrograms and signals (no files needed)."""

import numpy as np
import pytest

from conv2dsep_lib.core.config import Config


@pytest.fixture
def config():
    return Config()


@pytest.fixture
def small_config():
    """A fast config: 1.2 s at 22050 Hz, 1025 bins, 26 frames."""
    return Config(duration=1.2, num_iterations=20)


def _voice_and_band(sr, n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    f0 = 220 * 2 ** ((3 * np.sin(2 * np.pi * 0.7 * t) + 0.4 * np.sin(2 * np.pi * 5.5 * t)) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(h * phase) / h for h in range(1, 12)) * 0.3
    voice *= 0.6 + 0.4 * np.sin(2 * np.pi * 1.5 * t) ** 2
    beat = (np.arange(n) % (sr // 4)) < sr // 40
    drums = rng.standard_normal(n) * beat * 0.4
    chord = sum(np.sin(2 * np.pi * f * t) for f in (130.8, 164.8, 196.0)) * 0.15
    return voice.astype(np.float32), (drums + chord).astype(np.float32)


@pytest.fixture
def voice_band(small_config):
    """(vocal, accompaniment) mono float32 of ``small_config.n_samples`` samples."""
    return _voice_and_band(small_config.sr, small_config.n_samples, 0)


@pytest.fixture
def write_pair(tmp_path):
    """Write a mixture/vocal pair (stereo or mono, any rate) and return their paths."""
    import soundfile as sf

    def _write(
        *, sr=44100, seconds=5.0, stereo_mix=True, stereo_vocal=True, seed=0, subdir="pair", ext="wav"
    ):
        n = int(sr * seconds)
        voice, band = _voice_and_band(sr, n, seed)
        mix = voice + band
        d = tmp_path / subdir
        d.mkdir(parents=True, exist_ok=True)
        m = np.stack([mix, 0.9 * mix], 1) if stereo_mix else mix
        v = np.stack([voice, 0.9 * voice], 1) if stereo_vocal else voice
        mp, vp = d / f"stereo_mixture.{ext}", d / f"isolated_vocal.{ext}"
        sf.write(mp, m, sr)
        sf.write(vp, v, sr)
        return mp, vp

    return _write


@pytest.fixture(autouse=True, scope="session")
def _private_baseline_cache(tmp_path_factory):
    """The baseline cache of the tests is their own (not the user's ~/.cache/conv2dsep)."""
    import os

    old = os.environ.get("CONV2DSEP_CACHE")
    os.environ["CONV2DSEP_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("CONV2DSEP_CACHE", None)
    else:
        os.environ["CONV2DSEP_CACHE"] = old
