"""Progressive and greedy experiments on magnitudes."""

import numpy as np
import pytest

from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.method.experiments import TargetFingerprints, run_greedy, run_progressive, slice_step
from conv2dsep_lib.method.transforms import stft
from conv2dsep_lib.run.experiment import make_scorer


@pytest.fixture
def mags(voice_band, small_config):
    voice, band = voice_band
    mix = np.abs(stft(voice + band, config=small_config)).astype(float)
    voc = np.abs(stft(voice, config=small_config)).astype(float)
    return mix, voc


def test_progressive_is_one_pass_of_prefixes(mags, small_config):
    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    steps = run_progressive(mix, targets, n_slices=4, config=small_config)
    assert [s.view for s in steps] == [1, 2, 3, 4]
    # running 1..k from the mixture (the seed's way) gives the same k-th state
    for k in (1, 3):
        again = run_progressive(mix, targets, n_slices=k, config=small_config)
        np.testing.assert_allclose(again[-1].magnitude, steps[k - 1].magnitude)
        assert again[-1].loss == steps[k - 1].loss


def test_step_reduces_loss_and_moves_toward_vocal(mags, small_config):
    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    step = slice_step(mix, 1, targets, config=small_config)
    from conv2dsep_lib.method.fingerprint import fingerprint_db

    before = np.mean((fingerprint_db(mix, 1, config=small_config) - targets[1]) ** 2)
    assert step.loss < before
    assert step.loss_curve.shape == (small_config.num_iterations,)
    assert step.magnitude.shape == mix.shape and np.all(step.magnitude > 0)


def test_greedy_reuses_prefix_and_matches_rerun(mags, small_config):
    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    g = run_greedy(mix, targets, n_slices=4, config=small_config)
    assert sorted(g.sequence) == [1, 2, 3, 4]
    assert g.n_steps == 4 + 3 + 2 + 1
    # the chosen slice at each position has the lowest step loss among candidates
    for pos, cands in enumerate(g.candidates):
        assert g.losses[pos] == min(v[1] for v in cands.values())
    # re-running the greedy order from the mixture reproduces its losses
    rerun = run_progressive(mix, targets, n_slices=4, config=small_config, sequence=g.sequence)
    np.testing.assert_allclose([s.loss for s in rerun], g.losses, atol=1e-9)
    assert 1 <= g.best_prefix <= 4 and g.scores[g.best_prefix - 1] == min(g.scores)


def test_greedy_by_si_sdr_and_fingerprint(mags, small_config, voice_band):
    mix, voc = mags
    voice, band = voice_band
    X = stft(voice + band, config=small_config)
    targets = TargetFingerprints(voc, config=small_config)
    for name in ("si_sdr", "fingerprint"):
        scorer = make_scorer(name, config=small_config, targets=targets, mixture_stft=X, vocal=voice)
        g = run_greedy(mix, targets, n_slices=3, config=small_config, scorer=scorer, score_name=name)
        assert g.score == name and sorted(g.sequence) == [1, 2, 3]
        for pos, cands in enumerate(g.candidates):
            assert g.scores[pos] == min(v[0] for v in cands.values())
    with pytest.raises(ParameterError, match="allowed step_loss"):
        make_scorer("nope", config=small_config, targets=targets)


def test_bad_slice_count(mags, small_config):
    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    with pytest.raises(ParameterError, match="n_slices=19"):
        run_progressive(mix, targets, n_slices=19, config=small_config)


def test_fingerprint_score_is_the_mean_distance_over_all_views(mags, small_config):
    from conv2dsep_lib.method.fingerprint import fingerprint_distance

    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    step = slice_step(mix, 2, targets, config=small_config)
    scorer = make_scorer("fingerprint", config=small_config, targets=targets)
    assert abs(scorer(step) - fingerprint_distance(step.magnitude, voc, config=small_config)) < 1e-9


def test_greedy_hands_every_prefix_with_its_known_fingerprints(mags, small_config):
    from conv2dsep_lib.method.fingerprint import fingerprint_db

    mix, voc = mags
    targets = TargetFingerprints(voc, config=small_config)
    seen = []
    g = run_greedy(
        mix,
        targets,
        n_slices=3,
        config=small_config,
        on_prefix=lambda k, W, known: seen.append((k, W.copy(), known)),
    )
    assert [k for k, _, _ in seen] == [1, 2, 3]
    for k, W, known in seen:
        assert set(known) == set(range(1, 4)) - set(g.sequence[:k])  # the views still to try
        for view, fp in known.items():
            np.testing.assert_array_equal(fp, fingerprint_db(W, view, config=small_config))
    rerun = run_progressive(mix, targets, n_slices=3, config=small_config, sequence=g.sequence)
    for (k, W, _), state in zip(seen, rerun):
        np.testing.assert_allclose(W, state.magnitude)
    assert g.yardsticks == []  # measured only when asked
