"""Strategy 3 against a plain per-window, per-iteration loop; the other strategies."""

import librosa
import numpy as np
import pytest

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.method.strategies import (
    optimise_eq,
    strategy1_linear_gain,
    strategy2_direct_ratio,
    strategy3_db_descent,
    strategy4_linear_loss,
)


def seed_loop(mix_fp, voc_fp, *, num_iterations, learning_rate, clip_db, amin=1e-8):
    """The seed's snippet, loop for loop: per window, per iteration, dB inside the loop."""
    n_points, n_windows = mix_fp.shape
    eq = [np.zeros(n_points) for _ in range(n_windows)]
    for w in range(n_windows):
        mixture_fp_db = librosa.amplitude_to_db(mix_fp[:, w], ref=1.0, amin=amin)
        for _ in range(num_iterations):
            vocal_fp_db = librosa.amplitude_to_db(voc_fp[:, w], ref=1.0, amin=amin)
            adjusted = mixture_fp_db + eq[w]
            gradient = 2 * (adjusted - vocal_fp_db)
            eq[w] = eq[w] - learning_rate * gradient
            eq[w] = np.clip(eq[w], -clip_db, clip_db)
    E = np.stack(eq, axis=1)
    m = np.stack([librosa.amplitude_to_db(mix_fp[:, w], ref=1.0, amin=amin) for w in range(n_windows)], 1)
    v = np.stack([librosa.amplitude_to_db(voc_fp[:, w], ref=1.0, amin=amin) for w in range(n_windows)], 1)
    return E, float(np.mean((m + E - v) ** 2)), m, v


@pytest.fixture
def fingerprints():
    rng = np.random.default_rng(1)
    mix = np.abs(rng.standard_normal((400, 30))) ** 3 * 10
    voc = mix * np.abs(rng.standard_normal((400, 30))) ** 2 * 0.3
    voc[:40, 3] = 0.0  # silent points hit amin and the top-dB floor
    return mix, voc


@pytest.mark.parametrize(
    "lr,iters,clip", [(0.01, 100, 20.0), (0.1, 40, 6.0), (0.5, 10, 20.0), (0.8, 25, 10.0), (0.01, 1, 20.0)]
)
def test_strategy3_matches_seed_loop(fingerprints, lr, iters, clip):
    mix, voc = fingerprints
    E_ref, loss_ref, m, v = seed_loop(mix, voc, num_iterations=iters, learning_rate=lr, clip_db=clip)
    res = strategy3_db_descent(m, v, num_iterations=iters, learning_rate=lr, clip_db=clip)
    assert np.max(np.abs(res.eq_db - E_ref)) < 1e-6
    assert abs(res.loss - loss_ref) < 1e-6
    assert res.loss_curve.shape == (iters,)
    assert abs(res.loss_curve[-1] - res.loss) < 1e-9


def test_strategy3_loss_curve_matches_iteration_by_iteration(fingerprints):
    mix, voc = fingerprints
    _, _, m, v = seed_loop(mix, voc, num_iterations=1, learning_rate=0.01, clip_db=20)
    res = strategy3_db_descent(m, v, num_iterations=60, learning_rate=0.03, clip_db=8.0)
    e = np.zeros_like(m)
    for t in range(60):
        e = np.clip(e - 0.03 * 2 * ((m + e) - v), -8.0, 8.0)
        assert abs(res.loss_curve[t] - np.mean((m + e - v) ** 2)) < 1e-6


def test_strategy3_is_monotone_and_clipped(fingerprints):
    mix, voc = fingerprints
    m, v = 20 * np.log10(mix + 1e-8), 20 * np.log10(voc + 1e-8)
    res = strategy3_db_descent(m, v, num_iterations=100, learning_rate=0.01, clip_db=20.0)
    assert np.all(np.diff(res.loss_curve) <= 1e-12)
    assert np.max(np.abs(res.eq_db)) <= 20.0 + 1e-12


@pytest.mark.parametrize("strategy", [1, 2, 3, 4])
def test_every_strategy_reduces_loss_within_clip(fingerprints, strategy):
    mix, voc = fingerprints
    m, v = 20 * np.log10(mix + 1e-8), 20 * np.log10(voc + 1e-8)
    cfg = Config(strategy=strategy, num_iterations=50)
    res = optimise_eq(m, v, config=cfg)
    start = float(np.mean((m - v) ** 2))
    assert res.eq_db.shape == m.shape
    assert np.all(np.isfinite(res.loss_curve)) and res.loss_curve.shape == (50,)
    assert np.max(np.abs(res.eq_db)) <= cfg.clip_db + 1e-9
    assert res.loss <= start + 1e-9


def test_direct_ratio_is_strategy3_fixed_point(fingerprints):
    mix, voc = fingerprints
    m, v = 20 * np.log10(mix + 1e-8), 20 * np.log10(voc + 1e-8)
    direct = strategy2_direct_ratio(m, v, num_iterations=5, learning_rate=0.01, clip_db=20)
    long_run = strategy3_db_descent(m, v, num_iterations=5000, learning_rate=0.01, clip_db=20)
    assert np.max(np.abs(direct.eq_db - long_run.eq_db)) < 1e-6


def test_linear_gain_barely_moves_quiet_points(fingerprints):
    """Strategy 1's documented weakness: the gradient scales with amplitude squared."""
    mix, voc = fingerprints
    m, v = 20 * np.log10(mix + 1e-8), 20 * np.log10(voc + 1e-8)
    res = strategy1_linear_gain(m, v, num_iterations=100, learning_rate=0.01, clip_db=20)
    quiet = mix < np.percentile(mix, 10)
    assert np.max(np.abs(res.eq_db[quiet])) < 0.5
    res4 = strategy4_linear_loss(m, v, num_iterations=100, learning_rate=0.01, clip_db=20)
    assert np.all(np.isfinite(res4.eq_db))
