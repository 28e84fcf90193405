"""Tests of :mod:`conv2dsep_lib.separators` (the baselines) on a seeded synthetic mixture."""

from __future__ import annotations

import numpy as np
import pytest

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.scoring.metrics import si_sdr
from conv2dsep_lib.separators import registry
from conv2dsep_lib.separators.base import Kind, Mixture, Reference, Separator
from conv2dsep_lib.separators.classic import _hpss_kernels, repet_width
from conv2dsep_lib.separators.registry import (
    BASELINE_KINDS,
    BASELINES,
    baseline_estimate,
    compute_baselines,
    separate,
)

NAMES = ("mixture", "oracle_irm", "oracle_ibm", "repet_sim", "hpss", "bandpass", "learned")
KINDS = {
    "mixture": "floor",
    "oracle_irm": "oracle",
    "oracle_ibm": "oracle",
    "repet_sim": "blind",
    "hpss": "blind",
    "bandpass": "blind",
    "learned": "blind",
}


def synthetic_mixture(sr, n, seed=0):
    """(mixture, vocal): harmonic "voice" with vibrato + drum-like bursts + a chord."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    notes = np.array([220.0, 247.0, 262.0, 294.0, 330.0, 294.0])
    idx = np.minimum((t / 0.5).astype(int), len(notes) - 1)
    f0 = notes[idx] * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))  # vibrato
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = 0.3 * sum(0.6**k * np.sin((k + 1) * phase) for k in range(8))
    voice *= (t % 0.5) < 0.45  # short gaps between notes
    drums = np.zeros(n)
    burst = int(0.12 * sr)
    for start in range(0, n - burst, int(0.25 * sr)):
        drums[start : start + burst] += rng.standard_normal(burst) * np.exp(-np.arange(burst) / (0.02 * sr))
    chord = sum(
        0.1 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in (130.8, 164.8, 196.0, 261.6)
    )
    mixture = voice + 0.5 * drums + chord
    return mixture.astype(np.float32), voice.astype(np.float32)


@pytest.fixture(scope="module")
def cfg():
    return Config(duration=3.0)


@pytest.fixture(scope="module")
def pair(cfg):
    # an odd length (not a multiple of the hop) checks istft's length= handling
    return synthetic_mixture(cfg.sr, cfg.n_samples + 7)


@pytest.fixture(scope="module")
def results(pair, cfg):
    mixture, vocal = pair
    return compute_baselines(mixture, vocal, config=cfg)


def test_baselines_table_names_and_kinds():
    assert tuple(name for name, _ in BASELINES) == NAMES
    assert dict(BASELINES) == KINDS
    assert dict(BASELINE_KINDS) == KINDS


def test_compute_baselines_labels_and_shapes(results, pair):
    mixture, _ = pair
    assert tuple(results) == NAMES
    for name, est in results.items():
        assert BASELINE_KINDS[name] == KINDS[name]
        assert isinstance(est, np.ndarray), name
        assert est.dtype == np.float32 and est.shape == mixture.shape, name
        assert np.isfinite(est).all(), name
        assert np.abs(est).max() > 0, name


def test_mixture_floor_is_the_mixture(results, pair):
    np.testing.assert_array_equal(results["mixture"], pair[0])


def test_oracle_masks_beat_the_floor_clearly(results, pair):
    mixture, vocal = pair
    floor = si_sdr(vocal, results["mixture"])
    for name in ("oracle_irm", "oracle_ibm"):
        assert si_sdr(vocal, results[name]) > floor + 6.0, name


def test_hpss_improves_on_the_floor(results, pair):
    # not a requirement of a blind baseline in general, but on this mixture (sustained
    # chord + broadband bursts + a vibrato voice) the two stages should each work
    mixture, vocal = pair
    assert si_sdr(vocal, results["hpss"]) > si_sdr(vocal, mixture) + 1.0


def test_baseline_estimate_matches_compute_baselines(results, pair, cfg):
    mixture, vocal = pair
    for name in ("oracle_ibm", "hpss"):
        np.testing.assert_array_equal(baseline_estimate(name, mixture, vocal, config=cfg), results[name])


def test_blind_baselines_do_not_need_the_vocal(results, pair, cfg):
    mixture, _ = pair
    out = compute_baselines(mixture, None, config=cfg, names=["mixture", "hpss"])
    assert tuple(out) == ("mixture", "hpss")
    np.testing.assert_array_equal(out["hpss"], results["hpss"])
    with pytest.raises(ParameterError, match="vocal=None is invalid for oracle"):
        baseline_estimate("oracle_irm", mixture, None, config=cfg)


def test_oracle_irm_of_a_solo_vocal_reconstructs_it(pair, cfg):
    _, vocal = pair
    est = baseline_estimate("oracle_irm", vocal, vocal, config=cfg)  # mask == 1
    np.testing.assert_allclose(est, vocal, atol=1e-4)


def test_unknown_name_lists_the_allowed_names(pair, cfg):
    mixture, vocal = pair
    for call in (
        lambda: baseline_estimate("wiener", mixture, vocal, config=cfg),
        lambda: compute_baselines(mixture, vocal, config=cfg, names=["hpss", "wiener"]),
    ):
        with pytest.raises(ParameterError, match="'wiener' is unknown") as info:
            call()
        for name in NAMES:
            assert name in str(info.value)


def test_input_errors(pair, cfg):
    mixture, vocal = pair
    with pytest.raises(ParameterError, match=r"mixture has shape \(2, 10\): allowed a mono 1-D array"):
        baseline_estimate("hpss", np.zeros((2, 10)), None, config=cfg)
    with pytest.raises(
        ParameterError,
        match=rf"vocal length {len(vocal) - 1} differs from mixture length "
        rf"{len(mixture)}",
    ):
        baseline_estimate("oracle_ibm", mixture, vocal[:-1], config=cfg)
    bad = mixture.copy()
    bad[5] = np.nan
    with pytest.raises(
        ParameterError,
        match=r"mixture has 1 NaN/inf samples \(the first at index 5: nan\): "
        r"allowed finite samples only",
    ):
        baseline_estimate("mixture", bad, vocal, config=cfg)


def test_repet_width_rule():
    cfg = Config()  # 4.7 s: 100 frames; 2 s = 42 frames
    assert repet_width(cfg.n_frames, config=cfg) == 42
    assert repet_width(30, config=cfg) == 13  # (30 - 1) // 2 - 1
    assert repet_width(5, config=cfg) == 1
    with pytest.raises(ParameterError, match="4 STFT frames, too few for repet_sim"):
        repet_width(4, config=cfg)


def test_repet_sim_on_a_short_clip(pair, cfg):
    mixture, _ = pair
    short = mixture[: 6 * cfg.hop_length]  # 7 frames -> width 2
    est = baseline_estimate("repet_sim", short, None, config=cfg)
    assert est.shape == short.shape and np.isfinite(est).all()


def test_hpss_kernels_at_default_config():
    assert _hpss_kernels(Config()) == ((21, 3), (5, 19))


def test_a_blind_separator_never_receives_the_reference(pair, cfg, monkeypatch):
    def takes_reference(mixture, reference):
        raise AssertionError("never called")

    with pytest.raises(TypeError, match=r"blind separator 'x' must take \(mixture\) and nothing else"):
        Separator("x", Kind.BLIND, takes_reference, "d")
    mixture_audio, vocal_audio = pair
    mixture, reference = Mixture(mixture_audio, cfg), Reference(vocal_audio, cfg)
    seen = []

    def blind(mixture):
        seen.append(mixture)
        return mixture.audio

    spy = Separator("repet_sim", Kind.BLIND, blind, "d")
    with monkeypatch.context() as m:
        m.setattr(registry, "get_separator", lambda name: spy)
        assert separate("repet_sim", mixture, reference) is mixture_audio  # blind() takes one argument
    assert len(seen) == 1 and seen[0] is mixture
    # the registered blind separator runs without a reference, and ignores one when given
    est = separate("repet_sim", mixture)
    assert est.shape == mixture_audio.shape and np.isfinite(est).all()
    np.testing.assert_array_equal(separate("repet_sim", mixture, reference), est)
    for name in ("oracle_irm", "oracle_ibm", "conv2d_fingerprint"):
        with pytest.raises(ParameterError, match=f"{name} is an oracle separator: it needs the true vocal"):
            separate(name, mixture)


def test_bandpass_floor_keeps_the_voice_band_and_removes_the_rest(cfg):
    """The blind floor: 1 kHz passes, 50 Hz and 9 kHz are removed (zero phase: no delay)."""
    from conv2dsep_lib.separators.bandpass import BAND_HZ

    sr = cfg.sr
    t = np.arange(2 * sr) / sr
    inside, low, high = (np.sin(2 * np.pi * f * t).astype(np.float32) for f in (1000.0, 50.0, 9000.0))
    out = baseline_estimate("bandpass", inside + low + high, None, config=cfg)
    core = slice(sr // 2, 3 * sr // 2)
    assert BAND_HZ == (200.0, 5000.0)
    assert np.corrcoef(out[core], inside[core])[0, 1] > 0.999
    assert np.abs(out[core] - inside[core]).max() < 0.02


def test_every_registered_baseline_has_its_place_in_the_run_order():
    """A run queues its baselines in BASELINE_ORDER (the longest first, the oracle masks before
    the other blind ones); a baseline registered later must be given its place there."""
    from conv2dsep_lib.run.experiment import BASELINE_ORDER

    registered = {name for baselines in registry.TARGET_BASELINES.values() for name, _ in baselines}
    assert registered <= set(BASELINE_ORDER), registered - set(BASELINE_ORDER)
    assert len(set(BASELINE_ORDER)) == len(BASELINE_ORDER)
    assert (
        BASELINE_ORDER.index("learned")
        < BASELINE_ORDER.index("oracle_irm")
        < BASELINE_ORDER.index("repet_sim")
    )
