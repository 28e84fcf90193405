"""Tests of :mod:`conv2dsep_lib.scoring.metrics` on seeded synthetic signals."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.scoring.bsseval import BssEvalV4, gram_from_spectra, museval_gram, museval_spectra
from conv2dsep_lib.scoring.metrics import (
    _bss_medians,
    as_channels_first,
    as_samples_channels,
    bss_eval_v4,
    si_sdr,
    si_sdr_improvement,
)
from conv2dsep_lib.scoring.pair import separation_metrics
from conv2dsep_lib.scoring.scores import Scores

SR = 8000  # BSS Eval cost grows with the sample count; 8 kHz keeps the tests fast


def harmonic(n, sr=SR, f0=220.0, seed=0):
    """A harmonic tone with a slow vibrato, plus a little noise (seeded)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    f = f0 * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.0 * t))
    ph = 2 * np.pi * np.cumsum(f) / sr
    y = sum(0.5**k * np.sin((k + 1) * ph) for k in range(6))
    return 0.3 * y + 0.01 * rng.standard_normal(n)


def noise(n, seed=1, scale=0.1):
    return scale * np.random.default_rng(seed).standard_normal(n)


def orthogonal_noise(ref, snr_db, seed=2):
    """Zero-mean noise orthogonal to ``ref`` and to DC, at ``snr_db`` below ``ref``."""
    r = ref - ref.mean()
    w = np.random.default_rng(seed).standard_normal(len(ref))
    basis = np.stack([np.ones_like(r) / np.sqrt(len(r)), r / np.linalg.norm(r)])
    w = w - basis.T @ (basis @ w)
    return w * np.linalg.norm(r) / np.linalg.norm(w) * 10 ** (-snr_db / 20)


# -------------------------------------------------------------- channel order
def test_channel_helpers_shapes_and_round_trip():
    y = np.arange(10.0)
    assert as_channels_first(y).shape == (1, 10)
    assert as_samples_channels(y).shape == (10, 1)
    st = np.stack([y, -y])  # (2, 10) librosa layout
    assert as_channels_first(st).shape == (2, 10)
    assert as_channels_first(st.T).shape == (2, 10)
    assert as_samples_channels(st).shape == (10, 2)
    np.testing.assert_array_equal(as_channels_first(as_samples_channels(st)), st)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 4), ()])
def test_channel_helpers_refuse_ambiguous_or_bad_shapes(shape):
    with pytest.raises(ParameterError, match=re_escape(str(shape))):
        as_channels_first(np.zeros(shape))


def re_escape(s):
    import re

    return re.escape(s)


# ---------------------------------------------------------------------- SI-SDR
def test_si_sdr_scaled_copy_is_very_high():
    ref = harmonic(SR)
    assert si_sdr(ref, 0.3 * ref) > 100
    assert si_sdr(ref, -2.0 * ref) > 100  # the gain may be negative too
    ref32 = ref.astype(np.float32)
    assert si_sdr(ref32, np.float32(0.3) * ref32) > 100
    # the cap is -10 log10(eps), so an exact copy is large but finite
    assert math.isfinite(si_sdr(ref, ref))
    assert si_sdr(ref, ref, eps=1e-6) == pytest.approx(60.0)


@pytest.mark.parametrize("snr_db", [10.0, 0.0, -5.0])
def test_si_sdr_equals_snr_of_orthogonal_noise(snr_db):
    ref = harmonic(2 * SR)
    est = ref + orthogonal_noise(ref, snr_db)
    assert abs(si_sdr(ref, est) - snr_db) < 0.1
    # scale invariance
    assert abs(si_sdr(ref, 7.0 * est) - snr_db) < 0.1


def test_si_sdr_symmetric_and_matches_correlation_formula():
    ref = harmonic(SR)
    est = ref + noise(SR, scale=0.2) + 0.5  # DC offset: removed by zero-mean
    rho = np.corrcoef(ref, est)[0, 1]
    expected = 10 * np.log10(rho**2 / (1 - rho**2))
    assert si_sdr(ref, est) == pytest.approx(expected, abs=1e-9)
    assert si_sdr(est, ref) == pytest.approx(si_sdr(ref, est), abs=1e-9)
    assert si_sdr(ref, est) == pytest.approx(si_sdr(ref, est - 0.5), abs=1e-9)


def test_si_sdr_unrelated_signals_is_very_low():
    assert si_sdr(noise(SR, seed=3), noise(SR, seed=4)) < -20


def test_si_sdr_multichannel_flattens_and_accepts_both_layouts():
    ref = np.stack([harmonic(SR), harmonic(SR, f0=330.0)])
    est = ref + np.stack([noise(SR, seed=5), noise(SR, seed=6)])

    # each channel is zero-meaned, then the channels are one concatenated signal
    def zm(y):
        return (y - y.mean(axis=1, keepdims=True)).ravel()

    assert si_sdr(ref, est) == pytest.approx(si_sdr(zm(ref), zm(est)), abs=1e-9)
    assert si_sdr(ref.T, est.T) == pytest.approx(si_sdr(ref, est), abs=1e-12)


def test_si_sdr_shape_mismatch_names_both_shapes():
    with pytest.raises(ParameterError, match=r"\(100,\).*\(99,\)"):
        si_sdr(np.ones(100), np.ones(99))


def test_si_sdr_refuses_nan_and_inf():
    ref = harmonic(100)
    bad = ref.copy()
    bad[7] = np.nan
    with pytest.raises(
        ParameterError, match=re_escape("estimate has 1 NaN/inf samples (the first at index (0, 7): nan)")
    ):
        si_sdr(ref, bad)
    bad[7] = np.inf
    with pytest.raises(
        ParameterError, match=re_escape("reference has 1 NaN/inf samples (the first at index (0, 7): inf)")
    ):
        si_sdr(bad, ref)


@pytest.mark.parametrize("silent", [np.zeros(500), np.full(500, 0.25)])
def test_si_sdr_silent_reference_is_an_error(silent):
    with pytest.raises(ParameterError, match="reference is silent: SI-SDR is undefined"):
        si_sdr(silent, harmonic(500))


@pytest.mark.parametrize("silent", [np.zeros(500), np.full(500, -0.1)])
def test_si_sdr_silent_estimate_is_nan_without_warnings(silent):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(si_sdr(harmonic(500), silent))
        assert math.isnan(si_sdr_improvement(harmonic(500), silent, harmonic(500) + noise(500)))


@pytest.mark.parametrize("eps", [-1e-3, 1.0, float("nan"), "0.1", True])
def test_si_sdr_refuses_bad_eps(eps):
    with pytest.raises(ParameterError, match="eps="):
        si_sdr(harmonic(100), harmonic(100), eps=eps)


def test_si_sdr_improvement_is_the_difference():
    ref = harmonic(SR)
    mix = ref + noise(SR, scale=0.3)
    est = ref + noise(SR, scale=0.05, seed=9)
    assert si_sdr_improvement(ref, est, mix) == pytest.approx(si_sdr(ref, est) - si_sdr(ref, mix))


# -------------------------------------------------------------------- BSS Eval
# museval.evaluate is the ground truth, but ``import museval`` fails without
# ffmpeg/ffprobe on PATH: museval imports musdb -> stempeg, which only *checks* that
# the two executables exist (shutil.which) at import time; museval.evaluate never
# calls them.  So the reference run happens in a subprocess whose PATH starts with a
# temp dir of tiny do-nothing stand-in scripts named ffmpeg/ffprobe -- unless real
# ones are installed, in which case PATH is left alone.  Arrays go in and out
# through .npz files.
_MUSEVAL_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import museval

    data = np.load(sys.argv[1])
    out = {}
    for case in data["cases"]:
        sdr, isr, sir, sar = museval.evaluate(
            data[case + "_ref"], data[case + "_est"],
            win=int(data["win"]), hop=int(data["win"]), mode="v4",
        )
        out.update({case + "_sdr": sdr, case + "_isr": isr,
                    case + "_sir": sir, case + "_sar": sar})
    np.savez(sys.argv[2], **out)
    """
)


def _museval_env(tmp_path):
    # museval on one BLAS thread, as ours: LAPACK's parallel LU rounds differently with the
    # thread count (museval's numbers move by ~5e-5 dB on music between 1 and 2 threads)
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return env
    bindir = tmp_path / "fake-ffmpeg-bin"
    bindir.mkdir()
    for tool in ("ffmpeg", "ffprobe"):
        if os.name == "nt":
            (bindir / f"{tool}.bat").write_text("@exit /b 0\n")
        else:
            path = bindir / tool
            path.write_text("#!/bin/sh\nexit 0\n")
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    return env


def museval_script(script, tmp_path, **arrays):
    """Run *script* (``sys.argv[1]``: an ``.npz`` of *arrays*, ``sys.argv[2]``: an ``.npz`` it
    writes) with museval in a subprocess (see above); return what it wrote."""
    infile, outfile = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(infile, **arrays)
    proc = subprocess.run(
        [sys.executable, "-c", script, str(infile), str(outfile)],
        env=_museval_env(tmp_path),
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return np.load(outfile)


def run_museval(arrays, tmp_path):
    """``museval.evaluate`` on *arrays* (``cases``, ``win``, ``<case>_ref``, ``<case>_est``) in a
    subprocess (see above); returns its ``<case>_sdr/isr/sir/sar`` arrays."""
    return museval_script(_MUSEVAL_SCRIPT, tmp_path, **arrays)


def _bss_cases():
    n = int(3.5 * SR)
    vocal = harmonic(n)
    acc = noise(n, scale=0.2) + 0.1 * np.sin(2 * np.pi * 110 * np.arange(n) / SR)
    est_v = vocal + 0.3 * acc
    est_v[SR : 2 * SR] = 0.0  # one silent window -> NaN in both sources
    est_a = acc + 0.1 * vocal
    mono_ref = np.stack([vocal, acc])[:, :, None]
    mono_est = np.stack([est_v, est_a])[:, :, None]
    # (museval calls a source silent where its channels *sum* to zero: avoid x, -x)
    st_ref = np.stack([np.stack([vocal, 0.5 * vocal], -1), np.stack([acc, -0.5 * acc], -1)])
    st_est = np.stack([np.stack([est_v, 0.4 * est_v + 0.01 * acc], -1), np.stack([est_a, -0.3 * est_a], -1)])
    st_est = st_est[:, : n - 300]  # shorter estimates: museval zero-pads them
    return {"mono": (mono_ref, mono_est), "stereo": (st_ref, st_est)}


HUGE_DB = 100.0


@pytest.mark.parametrize("exact_correlations", [True, False], ids=["museval-D", "block-D"])
def test_bss_eval_v4_matches_museval_evaluate(tmp_path, monkeypatch, exact_correlations):
    # short signals take museval's own arithmetic for the estimates' correlations D; a song
    # takes block FFTs (forced here by a zero limit), which must agree too
    from conv2dsep_lib.scoring import bsseval

    if not exact_correlations:
        monkeypatch.setattr(bsseval, "EXACT_CORRELATIONS_FFT", 0)
    cases = _bss_cases()
    arrays = {"cases": np.array(list(cases)), "win": np.array(SR)}
    for name, (ref, est) in cases.items():
        arrays[name + "_ref"], arrays[name + "_est"] = ref, est
    expected = run_museval(arrays, tmp_path)
    compared = 0
    for name, (ref, est) in cases.items():
        got = bss_eval_v4(ref, est, sr=SR)
        for key in ("sdr", "isr", "sir", "sar"):
            want = expected[f"{name}_{key}"]
            assert got[key].shape == want.shape == (2, 3)
            assert np.array_equal(np.isnan(got[key]), np.isnan(want))
            # A ratio above 100 dB (a residual at the level of float rounding, e.g. the ISR of
            # a source that its own filter reproduces exactly) is numerically undefined: museval
            # itself moves it by dB with the BLAS thread count.  Both must say "above 100 dB".
            huge = np.isfinite(want) & (np.abs(want) > HUGE_DB)
            assert np.all(np.abs(got[key][huge]) > HUGE_DB), (name, key)
            ok = np.isfinite(want) & ~huge
            np.testing.assert_allclose(got[key][ok], want[ok], rtol=0, atol=1e-6)
            compared += int(ok.sum())
        assert np.isfinite(got["sdr"][:, [0, 2]]).all()
    assert compared >= 25  # most numbers are ordinary ones, compared at 1e-6 dB
    mono = bss_eval_v4(*cases["mono"], sr=SR)
    assert np.isnan(mono["sdr"][:, 1]).all()  # the silent window, both sources


def test_bss_eval_v4_errors():
    ref = np.stack([harmonic(SR), noise(SR)])
    with pytest.raises(ParameterError, match="estimate source 1 is silent"):
        bss_eval_v4(ref, np.stack([harmonic(SR), np.zeros(SR)]), sr=SR)
    with pytest.raises(ParameterError, match="sr=0"):
        bss_eval_v4(ref, ref, sr=0)
    with pytest.raises(ParameterError, match="window_s=-1"):
        bss_eval_v4(ref, ref, sr=SR, window_s=-1)
    with pytest.raises(ParameterError, match="allowed the same number of sources"):
        bss_eval_v4(ref, ref[:1], sr=SR)
    with pytest.raises(ParameterError, match=r"shape \(8000,\)"):
        bss_eval_v4(ref[0], ref[0], sr=SR)


def test_silent_estimate_fallback_reproduces_the_joint_numbers():
    # A source's criteria depend only on the references and its own estimate, so
    # evaluating it with every estimate slot holding its own estimate (the fallback
    # used when another estimate is all zero) gives museval's joint numbers.
    n = 2 * SR
    refs = np.stack([harmonic(n), noise(n)])[:, :, None]
    est0 = harmonic(n) + 0.3 * noise(n, seed=11)
    joint = bss_eval_v4(refs, np.stack([est0, noise(n, seed=12)])[:, :, None], sr=SR)
    fallback = _bss_medians(BssEvalV4(refs, window=SR), np.stack([est0, np.zeros(n)])[:, :, None])
    for k, key in enumerate(("sdr", "isr", "sir", "sar")):
        assert fallback[0, k] == pytest.approx(np.median(joint[key][0]), abs=1e-9)
    assert np.isnan(fallback[1]).all()


# --------------------------------------------------------- separation_metrics
@pytest.fixture(scope="module")
def sep_signals():
    n = int(2.5 * SR)
    vocal = harmonic(n).astype(np.float32)
    acc = (noise(n, scale=0.2) + 0.1 * np.sin(2 * np.pi * 110 * np.arange(n) / SR)).astype(np.float32)
    mixture = vocal + acc
    estimate = vocal + 0.25 * acc + 0.02 * noise(n, seed=7).astype(np.float32)
    return vocal, estimate, mixture


def test_separation_metrics_keys_are_finite_floats(sep_signals):
    vocal, estimate, mixture = sep_signals
    m = separation_metrics(vocal, estimate, mixture, sr=SR)
    assert isinstance(m, Scores)
    keys = ("si_sdr", "si_sdr_i", "sdr", "sir", "sar", "isr")
    for key in keys:
        assert type(getattr(m, key)) is float and math.isfinite(getattr(m, key)), key
    assert set(m.accompaniment.to_json()) == {"si_sdr", "sdr", "sir", "sar", "isr"}
    assert m.accompaniment.si_sdr_i is None and m.accompaniment.accompaniment is None
    for key, value in m.accompaniment.to_json().items():
        assert type(getattr(m.accompaniment, key)) is float and math.isfinite(value), key
    assert m.si_sdr_i == pytest.approx(si_sdr(vocal, estimate) - si_sdr(vocal, mixture), abs=1e-9)
    assert m.accompaniment.si_sdr == pytest.approx(
        si_sdr(mixture.astype(float) - vocal, mixture.astype(float) - estimate), abs=1e-9
    )
    assert m.si_sdr_i > 5 and m.sdr > 5
    assert set(m.to_json()) == {*keys, "accompaniment"}
    json.dumps(m.to_json())  # JSON-able


def test_separation_metrics_bss_matches_bss_eval_v4_medians(sep_signals):
    vocal, estimate, mixture = (np.asarray(x, dtype=np.float64) for x in sep_signals)
    m = separation_metrics(vocal, estimate, mixture, sr=SR)
    frames = bss_eval_v4(np.stack([vocal, mixture - vocal]), np.stack([estimate, mixture - estimate]), sr=SR)
    for key in ("sdr", "sir", "sar", "isr"):
        assert m.value(key) == pytest.approx(np.nanmedian(frames[key][0]), abs=1e-9)
        assert m.accompaniment.value(key) == pytest.approx(np.nanmedian(frames[key][1]), abs=1e-9)


def test_separation_metrics_without_bss_has_si_sdr_keys_only(sep_signals):
    m = separation_metrics(*sep_signals, sr=SR, bss=False)
    assert all(getattr(m, k) is None for k in ("sdr", "sir", "sar", "isr"))
    assert math.isfinite(m.si_sdr) and math.isfinite(m.si_sdr_i)
    assert set(m.to_json()) == {"si_sdr", "si_sdr_i", "accompaniment"}
    assert set(m.to_json()["accompaniment"]) == {"si_sdr"}


def test_separation_metrics_mixture_floor_does_not_crash(sep_signals):
    vocal, _, mixture = sep_signals
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = separation_metrics(vocal, mixture, mixture, sr=SR)
    assert m.si_sdr_i == 0.0
    assert math.isfinite(m.sdr)  # vocal side still evaluated
    acc = m.accompaniment
    assert all(math.isnan(acc.value(k)) for k in ("si_sdr", "sdr", "sir", "sar", "isr"))  # zero estimate
    assert m.to_json()["accompaniment"] == dict.fromkeys(("si_sdr", "sdr", "sir", "sar", "isr"))


def test_separation_metrics_all_windows_silent_is_nan_without_warnings(sep_signals):
    vocal, _, mixture = sep_signals
    estimate = np.zeros_like(vocal)
    estimate[-SR // 4 :] = vocal[-SR // 4 :]  # only in the tail, after the last 1 s window
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = separation_metrics(vocal, estimate, mixture, sr=SR)
    assert math.isfinite(m.si_sdr)
    assert all(math.isnan(m.value(k)) for k in ("sdr", "sir", "sar", "isr"))


def test_separation_metrics_errors(sep_signals):
    vocal, estimate, mixture = sep_signals
    with pytest.raises(ParameterError, match="vocal is silent"):
        separation_metrics(np.zeros_like(vocal), estimate, mixture, sr=SR)
    with pytest.raises(ParameterError, match=r"accompaniment \(mixture - vocal\) is silent"):
        separation_metrics(vocal, estimate, vocal, sr=SR)
    with pytest.raises(ParameterError, match=r"\(19999,\)"):
        separation_metrics(vocal, estimate[:-1], mixture, sr=SR)
    bad = estimate.copy()
    bad[3] = np.nan
    with pytest.raises(
        ParameterError, match=re_escape("estimate has 1 NaN/inf samples (the first at index (0, 3): nan)")
    ):
        separation_metrics(vocal, bad, mixture, sr=SR)


# ---------------------------------------------------------------------- Scores
def test_scores_json_round_trip_keeps_nan_and_not_computed_apart():
    undefined = float("nan")  # a fresh nan object, as a computation gives, not math.nan
    assert math.isnan(undefined) and undefined is not math.nan
    s = Scores(si_sdr=12.5, si_sdr_i=undefined, sdr=7.25, accompaniment=Scores(si_sdr=float("nan"), sir=3.0))
    js = s.to_json()
    # nan (computed, undefined) is null; None (not computed) is an absent key
    assert js == {
        "si_sdr": 12.5,
        "si_sdr_i": None,
        "sdr": 7.25,
        "accompaniment": {"si_sdr": None, "sir": 3.0},
    }
    assert "sir" not in js and "sar" not in js and "isr" not in js
    assert "si_sdr_i" not in js["accompaniment"] and "accompaniment" not in js["accompaniment"]
    back = Scores.from_json(json.loads(json.dumps(js)))
    assert back == s and hash(back) == hash(s)
    assert math.isnan(back.si_sdr_i) and math.isnan(back.accompaniment.si_sdr)
    assert back.sir is None and back.accompaniment.si_sdr_i is None
    # nan and not-computed stay different; so do different numbers
    assert back != Scores.from_json({**js, "si_sdr_i": 0.0})
    assert Scores(si_sdr=1.0, sdr=None) != Scores(si_sdr=1.0, sdr=float("nan"))
    assert Scores.from_json(None) is None


def test_scores_round_trip_of_a_real_result_with_nan(sep_signals):
    vocal, _, mixture = sep_signals
    m = separation_metrics(vocal, mixture, mixture, sr=SR)  # accompaniment estimate is zero
    assert math.isnan(m.accompaniment.si_sdr) and math.isnan(m.accompaniment.sdr)
    assert Scores.from_json(m.to_json()) == m
    assert m.to_json()["accompaniment"]["si_sdr"] is None and "si_sdr_i" not in m.to_json()["accompaniment"]


def test_pair_scorer_gives_the_same_numbers_from_two_threads_at_once(sep_signals):
    """A run scores its estimates on two threads; every number must equal a lone call's.

    (scipy.linalg's ``lu_solve`` once returned wrong distortion filters when two threads
    called it at once, and solves that overlapped under a shared one-BLAS-thread limit gave
    other numbers than a lone call -- the scorer's solves take turns.)"""
    import threading

    from conv2dsep_lib.scoring.pair import PairScorer

    vocal, mixture = sep_signals[0], sep_signals[-1]
    rng = np.random.default_rng(3)
    estimates = [
        (a * vocal + (1 - a) * mixture + 0.01 * rng.standard_normal(vocal.shape)).astype(np.float32)
        for a in np.linspace(0.1, 0.9, 8)
    ]
    scorer = PairScorer(vocal, mixture, sr=SR).prepare()
    alone = [scorer.score(e).to_json() for e in estimates]
    for _ in range(3):
        together: list = [None] * len(estimates)

        def work(indices):
            for i in indices:
                together[i] = scorer.score(estimates[i]).to_json()

        threads = [threading.Thread(target=work, args=(range(k, len(estimates), 2),)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert together == alone
    assert alone[0] == separation_metrics(vocal, estimates[0], mixture, sr=SR).to_json()


_MUSEVAL_TWO_FFTS = textwrap.dedent(
    """
    import sys
    import numpy as np
    import museval
    import museval.metrics

    data = np.load(sys.argv[1])
    out = {}
    for tag in ("", "np_"):
        if tag:  # museval's own arithmetic with numpy's FFT in place of scipy.fftpack's
            class NumpyFFT:
                fft = staticmethod(lambda x, n=None, axis=-1: np.fft.fft(x, n=n, axis=axis))
                ifft = staticmethod(lambda x, n=None, axis=-1: np.fft.ifft(x, n=n, axis=axis))
            museval.metrics.scipy.fftpack = NumpyFFT
        sdr, isr, sir, sar = museval.evaluate(data["ref"], data["est"], win=int(data["win"]),
                                              hop=int(data["win"]), mode="v4")
        out.update({tag + "sdr": sdr, tag + "isr": isr, tag + "sir": sir, tag + "sar": sar})
        if not tag:
            out["G"] = museval.metrics._compute_reference_correlations(data["ref"], 512)[0]
    np.savez(sys.argv[2], **out)
    """
)


def test_bss_eval_v4_on_a_song_matches_museval_at_1e_6_db(tmp_path):
    """On music the references are band-limited and correlated, and BSS Eval's 512-lag filter
    solve is ill-conditioned: a last-bit change of the Gram matrix ``G`` moves ISR/SIR/SAR by
    ~1e-4 dB (museval itself moves that much when its FFT library is swapped for numpy's, the
    same arithmetic).  So ``G`` is museval's bit for bit, the solve is museval's call on one BLAS
    thread, and every number is within 1e-6 dB of museval's (SDR, which needs no filter, 1e-9)."""
    from conv2dsep_lib.sources.song import synthesize_song

    song = synthesize_song(seed=3, sr=SR, duration=4.0)
    vocal = song.vocal.mean(axis=0).astype(np.float64)
    acc = song.instrumental.mean(axis=0).astype(np.float64)
    est = vocal + 0.3 * acc + 1e-3 * noise(len(vocal), seed=5)
    refs = np.stack([vocal, acc])[:, :, None]
    ests = np.stack([est, vocal + acc - est])[:, :, None]
    want = museval_script(_MUSEVAL_TWO_FFTS, tmp_path, ref=refs, est=ests, win=np.array(SR))
    assert np.array_equal(museval_gram(refs), want["G"])  # bit for bit
    got = bss_eval_v4(refs, ests, sr=SR)
    np.testing.assert_allclose(got["sdr"], want["sdr"], rtol=0, atol=1e-9)
    for key in ("isr", "sir", "sar"):
        ok = np.isfinite(want[key]) & (np.abs(want[key]) < HUGE_DB)
        assert ok.sum() >= 3, key
        spread = float(np.max(np.abs(want["np_" + key][ok] - want[key][ok])))
        ours = float(np.max(np.abs(got[key][ok] - want[key][ok])))
        assert ours <= 1e-6, (key, ours, spread)
    moved = max(float(np.nanmax(np.abs(want["np_" + k] - want[k]))) for k in ("sir", "sar"))
    assert moved > 1e-6, "museval moved nothing with numpy's FFT: the music is not ill-conditioned here"


_MUSEVAL_GRAM = textwrap.dedent(
    """
    import sys
    import numpy as np
    import museval.metrics

    refs = np.load(sys.argv[1])["refs"]
    np.savez(sys.argv[2], G=museval.metrics._compute_reference_correlations(refs, 512)[0])
    """
)


def test_gram_from_spectra_is_museval_bit_for_bit_on_stereo_sources(tmp_path):
    """The Gram matrix built one pair at a time from the spectra alone (in-place inverse FFTs,
    only the 2 L - 1 lags kept: what a whole song's run does) is museval's, bit for bit, on
    three correlated stereo sources -- every pair order and channel combination."""
    rng = np.random.default_rng(11)
    refs = rng.standard_normal((3, 3 * SR, 2))
    refs[1] += 0.6 * refs[0]  # correlated, as music's sources are
    refs[2, :, 1] = 0.5 * refs[2, :, 0] + 0.1 * refs[1, :, 1]
    want = museval_script(_MUSEVAL_GRAM, tmp_path, refs=refs)["G"]
    assert want.shape == (3, 3, 2, 2, 512, 512)
    assert np.array_equal(gram_from_spectra(museval_spectra(refs)), want)
    assert np.array_equal(museval_gram(refs), want)
