"""Excerpts as repeats: median over excerpts, then over tracks, IQR and bootstrap interval."""

import math

import numpy as np
import pytest

from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.results.repeats import agreement, spread_over_tracks, track_medians


def test_two_tracks_by_three_excerpts_by_hand():
    values = {"a": [1.0, 5.0, 3.0], "b": [10.0, None, 14.0]}  # b's second excerpt undefined
    assert track_medians(values) == {"a": 3.0, "b": 12.0}
    s = spread_over_tracks(values, n_bootstrap=4000, seed=1)
    assert s.median == 7.5  # median of (3, 12)
    assert (s.q25, s.q75) == (5.25, 9.75)  # linear percentiles of (3, 12)
    assert (s.n_tracks, s.n_excerpts) == (2, 5)
    # resampling two tracks gives medians 3 (both a), 7.5 (a and b) or 12 (both b):
    # P(3) = P(12) = 1/4 > 2.5 %, so the 95 % interval is the whole range [3, 12]
    assert (s.ci_low, s.ci_high) == (3.0, 12.0)
    assert "95 % CI 3.00, 12.00; 2 tracks, 5 excerpts" in s.text()


def test_the_interval_narrows_with_more_tracks_and_is_reproducible():
    rng = np.random.default_rng(0)
    few = {f"t{i}": list(rng.normal(5.0, 2.0, 3)) for i in range(4)}
    many = {f"t{i}": list(rng.normal(5.0, 2.0, 3)) for i in range(60)}
    s_few, s_many = spread_over_tracks(few), spread_over_tracks(many)
    assert s_few.ci_low <= s_few.median <= s_few.ci_high
    assert s_many.ci_high - s_many.ci_low < s_few.ci_high - s_few.ci_low
    assert abs(s_many.median - 5.0) < 1.0
    assert spread_over_tracks(many) == s_many  # fixed seed


def test_one_track_has_no_interval_and_says_so():
    s = spread_over_tracks({"only": [2.0, 4.0, 9.0]})
    assert (s.median, s.ci_low, s.ci_high, s.q25, s.q75) == (4.0, 4.0, 4.0, 4.0, 4.0)
    assert s.n_tracks == 1 and "1 track, 3 excerpts: no interval" in s.text()


def test_no_finite_value_and_bad_options():
    s = spread_over_tracks({"a": [None, float("nan")], "b": [float("inf")]})
    assert s.n_tracks == 0 and math.isnan(s.median) and s.text().startswith("n/a")
    with pytest.raises(ParameterError, match="level"):
        spread_over_tracks({"a": [1.0]}, level=1.5)
    with pytest.raises(ParameterError, match="n_bootstrap"):
        spread_over_tracks({"a": [1.0]}, n_bootstrap=0)


def test_agreement_counts_finite_tracks():
    assert agreement({"a": 1.0, "b": -2.0, "c": float("nan")}, lambda d: d > 0) == (1, 2)
