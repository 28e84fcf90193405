"""Fingerprints: the SPEC's interpolation grid, dB conversion, expansion back."""

import librosa
import numpy as np
import pytest

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.method.fingerprint import expand_points, fingerprint, fingerprint_db, fingerprint_distance
from conv2dsep_lib.method.views import apply_view


@pytest.fixture
def S():
    return np.abs(np.random.default_rng(3).standard_normal((1025, 12))) ** 2


def test_fingerprint_is_np_interp_per_window(S):
    fp = fingerprint(S, 5, n_points=400)
    F = apply_view(S, 5)
    pts = np.linspace(0, 1024, 400)
    ref = np.stack([np.interp(pts, np.arange(1025), F[:, w]) for w in range(S.shape[1])], 1)
    assert fp.shape == (400, 12)
    np.testing.assert_allclose(fp, ref, atol=1e-12)


def test_fingerprint_db_is_librosa_per_window(S):
    cfg = Config()
    fpdb = fingerprint_db(S, 1, config=cfg)
    fp = fingerprint(S, 1, n_points=400)
    ref = np.stack([librosa.amplitude_to_db(fp[:, w], ref=1.0, amin=1e-8) for w in range(12)], 1)
    np.testing.assert_allclose(fpdb, ref, atol=1e-9)


def test_expand_is_np_interp_back(S):
    E = np.random.default_rng(0).standard_normal((400, 12))
    up = expand_points(E, n_bins=1025)
    pts = np.linspace(0, 1024, 400)
    ref = np.stack([np.interp(np.arange(1025), pts, E[:, w]) for w in range(12)], 1)
    np.testing.assert_allclose(up, ref, atol=1e-12)


def test_expand_of_constant_is_constant():
    np.testing.assert_allclose(expand_points(np.full((400, 3), -6.0), n_bins=1025), -6.0)


def test_fingerprint_distance(S):
    cfg = Config()
    assert fingerprint_distance(S, S, config=cfg) == 0.0
    assert fingerprint_distance(S * 2, S, config=cfg) > 1.0
    # a uniform gain of 2 is ~6.02 dB in every view, except where floors clip
    d = fingerprint_distance(S * 2, S, config=cfg, views=[0])
    assert abs(d - (20 * np.log10(2)) ** 2) < 0.5
