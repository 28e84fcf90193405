"""The common yardstick: every k and greedy prefix measured in the same views (issue 13, item 1)."""

import json

import numpy as np
import pytest

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.method.experiments import TargetFingerprints, run_greedy, run_progressive
from conv2dsep_lib.method.fingerprint import fingerprint, fingerprint_db, fingerprint_distance
from conv2dsep_lib.method.transforms import stft
from conv2dsep_lib.method.yardstick import (
    _FAMILY,
    _POOLS,
    Yardstick,
    _family_points,
    _pooled_points,
    measure_yardstick,
)
from conv2dsep_lib.results.record import (
    ProgressiveStep,
    RunRecord,
    best_by_loss_key,
    loss_vs_quality,
)
from conv2dsep_lib.run.experiment import build_record, run_experiment
from conv2dsep_lib.scoring.scores import Scores
from conv2dsep_lib.sources.audio import AudioPair


@pytest.fixture
def mags(voice_band, small_config):
    voice, band = voice_band
    mix = np.abs(stft(voice + band, config=small_config)).astype(float)
    voc = np.abs(stft(voice, config=small_config)).astype(float)
    return mix, voc


@pytest.fixture(scope="module")
def exp():
    import conftest

    config = Config(duration=1.2, num_iterations=20)
    vocal, band = conftest._voice_and_band(config.sr, config.n_samples, 2)
    pair = AudioPair(mixture=vocal + band, vocal=vocal, sr=config.sr, source={"mixture": "m.wav"})
    return run_experiment(pair, config=config, n_slices=4, greedy=True, baselines=False, bss=False)


def test_shared_passes_equal_the_views(mags):
    mix, _ = mags
    fam = _family_points(mix, list(_FAMILY), 400)
    assert sorted(fam) == sorted(_FAMILY)
    for v, fp in fam.items():
        ref = fingerprint(mix, v, n_points=400)
        assert np.abs(fp - ref).max() <= 1e-13 * np.abs(ref).max(), v
    for shape in ((1025, 26), (1024, 25), (7, 5)):  # odd and even sizes: the edge padding
        W = np.abs(np.random.default_rng(0).standard_normal(shape))
        for v in _POOLS:
            assert np.array_equal(_pooled_points(W, v, 4), fingerprint(W, v, n_points=4)), (shape, v)


def test_yardstick_is_the_fingerprint_distance(mags, small_config):
    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    state = run_progressive(mix, targets, n_slices=3, config=small_config)[-1].magnitude
    y = measure_yardstick(state, targets, config=small_config)
    assert y.mean_19 == pytest.approx(fingerprint_distance(state, voc, config=small_config), abs=1e-9)
    assert y.raw == pytest.approx(fingerprint_distance(state, voc, config=small_config, views=[0]), abs=1e-9)
    # known fingerprints are used as given (and give the same number when they are right)
    known = {5: fingerprint_db(state, 5, config=small_config)}
    assert measure_yardstick(state, targets, config=small_config, known=known).mean_19 == pytest.approx(
        y.mean_19, abs=1e-9
    )
    wrong = {5: known[5] + 10.0}
    assert measure_yardstick(state, targets, config=small_config, known=wrong).mean_19 != pytest.approx(
        y.mean_19, abs=1e-3
    )


def test_yardstick_can_fail(mags, small_config):
    """It is a distance: 0 for the vocal itself, larger for the mixture than for the vocal."""
    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    itself = measure_yardstick(voc, targets, config=small_config)
    assert itself.raw == 0.0 and itself.mean_19 == pytest.approx(0.0, abs=1e-12)  # shared passes: ~1e-28
    far = measure_yardstick(mix, targets, config=small_config)
    assert far.raw > 1.0 and far.mean_19 > 1.0


def test_greedy_prefix_yardsticks_match_a_direct_measure(mags, small_config):
    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    g = run_greedy(mix, targets, n_slices=4, config=small_config, yardstick=True)
    assert len(g.yardsticks) == 4
    for k in range(1, 5):
        state = run_progressive(mix, targets, n_slices=k, config=small_config, sequence=g.sequence)[-1]
        direct = fingerprint_distance(state.magnitude, voc, config=small_config)
        assert g.yardsticks[k - 1].mean_19 == pytest.approx(direct, abs=1e-9)


def test_run_records_every_k_and_prefix_on_the_yardstick(exp):
    rec = build_record(exp)
    for p in rec.progressive:
        assert p.yardstick == exp.yardsticks[f"k={p.n_slices}"]
    assert len(rec.greedy.yardsticks) == 4
    assert rec.greedy.best_prefix.yardstick == rec.greedy.yardsticks[rec.greedy.best_prefix.n_slices - 1]
    # the run's own yardstick equals fingerprint_distance of the estimate's magnitude (kept: the shown one)
    from conv2dsep_lib.run.outputs import estimate_magnitude

    vocal_mag = np.abs(stft(exp.pair.vocal, config=exp.config)).astype(float)
    direct = fingerprint_distance(estimate_magnitude(exp, exp.shown), vocal_mag, config=exp.config)
    assert exp.yardsticks[exp.shown].mean_19 == pytest.approx(direct, abs=1e-9)
    # JSON: typed fields, a round trip
    data = json.loads(json.dumps(rec.to_json(), allow_nan=False))
    assert set(data["progressive"][0]["yardstick"]) == {"raw", "mean_19"}
    assert len(data["greedy"]["yardsticks"]) == 4 and "yardstick" in data["greedy"]["best_prefix"]
    assert data["loss_vs_quality"]["loss"] == "yardstick.mean_19"
    assert data["comparison"]["lower_loss_by"] == "yardstick.mean_19"
    assert RunRecord.from_json(data).to_json() == data


def test_best_by_loss_uses_the_yardstick_not_the_step_loss(exp):
    rec = build_record(exp)
    cands = {e.key: e for e in rec.estimates() if e.method != "greedy"}
    best = rec.best_by_loss()
    assert best.yardstick.mean_19 == min(e.yardstick.mean_19 for e in cands.values())
    assert best.key == exp.shown
    lq = rec.loss_vs_quality
    ys = [p.yardstick.mean_19 for p in rec.progressive]
    assert lq.best_k_by_loss == int(np.argmin(ys)) + 1
    assert lq.best_k_by_step_loss == int(np.argmin([p.loss for p in rec.progressive])) + 1
    c = rec.comparison
    want = "greedy" if rec.greedy.yardstick.mean_19 < rec.progressive[-1].yardstick.mean_19 else "original"
    assert c.lower_loss == want


def _step(k, loss, mean_19, si):
    return ProgressiveStep(
        n_slices=k,
        sequence=(),
        loss=loss,
        step_losses=(),
        loss_curve=(),
        metrics=Scores(si_sdr=si, si_sdr_i=0.0),
        yardstick=Yardstick(raw=mean_19, mean_19=mean_19),
    )


def test_loss_vs_quality_ranks_the_yardstick_and_keeps_the_step_loss_beside():
    # step loss lowest at k=3 (measured in view 3); the yardstick lowest at k=1, where SI-SDR is best
    steps = [_step(1, 9.0, 10.0, 8.0), _step(2, 5.0, 20.0, 6.0), _step(3, 1.0, 30.0, 4.0)]
    lq = loss_vs_quality(steps)
    assert (lq.loss, lq.best_k_by_loss, lq.best_k_by_si_sdr, lq.agree) == ("yardstick.mean_19", 1, 1, True)
    assert lq.spearman_loss_vs_si_sdr == pytest.approx(-1.0)
    assert lq.best_k_by_step_loss == 3 and lq.step_loss_spearman_vs_si_sdr == pytest.approx(1.0)
    # an old record (no yardstick) falls back to the step loss, and says so
    old = [ProgressiveStep(**{**s.__dict__, "yardstick": None}) for s in steps]
    assert (loss_vs_quality(old).loss, loss_vs_quality(old).best_k_by_loss) == ("step_loss", 3)
    assert best_by_loss_key({"a": float("nan"), "b": 2.0, "c": 1.0}) == "c"


def test_run_yardsticks_equal_the_fingerprint_greedy_scores():
    """Through the whole run (jobs on two lanes): greedy by "fingerprint" scores every prefix with
    fingerprint_distance itself, so its scores are the prefixes' yardsticks."""
    import conftest

    config = Config(duration=1.2, num_iterations=20, greedy_score="fingerprint")
    vocal, band = conftest._voice_and_band(config.sr, config.n_samples, 4)
    pair = AudioPair(mixture=vocal + band, vocal=vocal, sr=config.sr, source={"mixture": "m.wav"})
    run = run_experiment(pair, config=config, n_slices=3, greedy=True, baselines=False, bss=False)
    np.testing.assert_allclose(
        [y.mean_19 for y in run.greedy.yardsticks], run.greedy.scores, rtol=0, atol=1e-9
    )


def test_a_long_input_is_measured_exactly_on_evenly_spaced_blocks_of_windows():
    """Above MAX_FRAMES windows: the blocks' fingerprints are exactly the whole spectrogram's
    columns (margins cover the widest kernel, pooling stays aligned), so the yardstick equals
    the distance computed from whole-spectrogram fingerprints on those windows."""
    from conv2dsep_lib.core.config import Config
    from conv2dsep_lib.method.fingerprint import fingerprint_db
    from conv2dsep_lib.method.yardstick import MAX_FRAMES, measure_yardstick, yardstick_frames

    config = Config()
    rng = np.random.default_rng(5)
    n_frames = 2 * MAX_FRAMES + 37  # odd: the last pooled column is a half pair
    W = (np.abs(rng.standard_normal((config.n_bins, n_frames))) ** 2).astype(np.float32)
    V = (np.abs(rng.standard_normal((config.n_bins, n_frames))) ** 2).astype(np.float32)
    blocks = yardstick_frames(n_frames)
    assert len(blocks) == 8 and blocks[0][0] == 0 and blocks[-1][1] >= n_frames - 1
    assert all(a % 2 == 0 and b - a == 64 for a, b in blocks)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(blocks, blocks[1:]))  # no window twice
    cols = np.concatenate([np.arange(a, b) for a, b in blocks])
    targets = {v: fingerprint_db(V, v, config=config) for v in range(19)}
    per_view = []
    for v in range(19):
        d = fingerprint_db(W, v, config=config)[:, cols] - targets[v][:, cols]
        per_view.append(float(np.mean(d * d)))
    ys = measure_yardstick(W, targets, config=config)
    assert ys.frames == len(cols) == 512
    np.testing.assert_allclose(ys.raw, per_view[0], rtol=1e-9)
    np.testing.assert_allclose(ys.mean_19, np.mean(per_view), rtol=1e-9)
    # from the vocal's magnitude (a run's TargetFingerprints): its blocks only, the same numbers
    from_vocal = measure_yardstick(W, TargetFingerprints(V, config=config), config=config)
    np.testing.assert_allclose(from_vocal.mean_19, ys.mean_19, rtol=1e-9)
    # a known fingerprint (whole-length, as a slice step gives it) is used on the blocks' windows
    known = {5: fingerprint_db(W, 5, config=config)}
    assert measure_yardstick(W, targets, config=config, known=known).mean_19 == pytest.approx(
        ys.mean_19, rel=1e-12
    )
    # short inputs: every window, no `frames` in the record
    short = measure_yardstick(W[:, :100], {v: t[:, :100] for v, t in targets.items()}, config=config)
    assert short.frames is None and "frames" not in short.to_json()


def test_a_run_drops_the_vocal_fingerprints_once_the_method_and_its_yardsticks_are_done(monkeypatch):
    """The rest of the evaluation (scoring, baselines) runs without the vocal's fingerprints held
    (~150 MB on a 3-minute song).  One lane: the queued jobs run in order after the method."""
    import weakref

    import conftest

    from conv2dsep_lib.run import experiment as run_exp
    from conv2dsep_lib.scoring.pair import PairScorer

    made, alive_at_score = [], []

    class Recorded(TargetFingerprints):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    real_score = PairScorer.score

    def score(self, estimate):
        alive_at_score.append(made[0]() is not None)
        return real_score(self, estimate)

    monkeypatch.setenv("CONV2DSEP_THREADS", "1")
    monkeypatch.setattr(run_exp, "TargetFingerprints", Recorded)
    monkeypatch.setattr(PairScorer, "score", score)
    config = Config(duration=1.2, num_iterations=20)
    vocal, band = conftest._voice_and_band(config.sr, config.n_samples, 3)
    pair = AudioPair(mixture=vocal + band, vocal=vocal, sr=config.sr, source={"mixture": "m.wav"})
    run = run_experiment(pair, config=config, n_slices=4, greedy=True, baselines=False, bss=False)
    assert len(made) == 1 and len(alive_at_score) == len(run.estimates) == 6
    assert alive_at_score[-1] is False  # the last estimates are scored after the last yardstick
    assert set(run.yardsticks) >= {"k=1", "k=2", "k=3", "k=4"}
