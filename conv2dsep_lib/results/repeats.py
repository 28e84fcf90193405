"""Excerpts as repeats: the median over a track's excerpts, then over tracks, with its spread.

SiSEC reports museval's numbers as a median over a track's frames, then a median over
tracks.  A study here has a third level, the excerpts of a track (several offsets into
one song), which are repeats of one measurement, not settings.  So:

1. per track, the median over its excerpts (NaN-aware: an excerpt whose number is
   undefined, e.g. a silent estimate, does not count);
2. over tracks, the median of those medians, their 25th-75th percentiles (IQR), and a
   **bootstrap 95 % interval** of the median: tracks resampled with replacement
   (:data:`N_BOOTSTRAP` times, a fixed seed, so a report is reproducible), the 2.5th and
   97.5th percentiles of the resampled medians.

With one track the interval and the IQR are that track's value: :attr:`Spread.n_tracks`
says so, and a figure draws no band for it.  Every number keeps the label of what it
summarises (oracle / blind / floor); this module only counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from ..core.errors import ParameterError

__all__ = ["N_BOOTSTRAP", "Spread", "track_medians", "spread_over_tracks", "agreement"]

#: Bootstrap resamples of the tracks.
N_BOOTSTRAP = 2000
#: Default seed of the bootstrap (reports are reproducible).
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Spread:
    """A median over tracks of per-track medians over excerpts, and its uncertainty.

    Attributes
    ----------
    median : float
        Median over tracks (``nan`` if no track has a finite value).
    q25, q75 : float
        25th / 75th percentile over tracks (linear interpolation).
    ci_low, ci_high : float
        Bootstrap interval of the median over tracks (*level*, default 95 %).
    n_tracks : int
        Tracks with a finite value.
    n_excerpts : int
        Finite excerpt values over all tracks.
    level : float
        The interval's coverage.
    """

    median: float
    q25: float
    q75: float
    ci_low: float
    ci_high: float
    n_tracks: int
    n_excerpts: int
    level: float = 0.95

    def text(self, *, unit: str = "dB", digits: int = 2) -> str:
        """``"4.31 dB [95 % CI 3.90, 4.80; 3 tracks, 9 excerpts]"``."""
        if self.n_tracks == 0:
            return "n/a (no finite value)"
        f = f"{{:.{digits}f}}"
        tracks = f"{self.n_tracks} track{'s' if self.n_tracks != 1 else ''}"
        excerpts = f"{self.n_excerpts} excerpt{'s' if self.n_excerpts != 1 else ''}"
        if self.n_tracks == 1:
            return f"{f.format(self.median)} {unit} [1 track, {excerpts}: no interval]"
        return (
            f"{f.format(self.median)} {unit} [{100 * self.level:.0f} % CI {f.format(self.ci_low)}, "
            f"{f.format(self.ci_high)}; {tracks}, {excerpts}]"
        )


def _finite(values: Sequence[float]) -> np.ndarray:
    a = np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return a[np.isfinite(a)]


def track_medians(values: Mapping[str, Sequence[Optional[float]]]) -> dict:
    """Per track, the median over its excerpts' finite values (tracks without one left out).

    Parameters
    ----------
    values : mapping of str -> sequence of float or None
        Track name -> one value per excerpt.

    Returns
    -------
    dict of str -> float
    """
    out = {}
    for track, vals in values.items():
        finite = _finite(vals)
        if finite.size:
            out[track] = float(np.median(finite))
    return out


def spread_over_tracks(
    values: Mapping[str, Sequence[Optional[float]]],
    *,
    level: float = 0.95,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = BOOTSTRAP_SEED,
) -> Spread:
    """Median over tracks of the median over each track's excerpts, with IQR and bootstrap CI.

    Parameters
    ----------
    values : mapping of str -> sequence of float or None
        Track name -> one value per excerpt (``None``/``nan``/``inf`` do not count).
    level : float in (0, 1)
        Coverage of the interval.
    n_bootstrap : int >= 1
    seed : int

    Returns
    -------
    Spread
    """
    if not 0.0 < level < 1.0:
        raise ParameterError(f"level={level!r} is invalid: allowed a number between 0 and 1")
    if n_bootstrap < 1:
        raise ParameterError(f"n_bootstrap={n_bootstrap!r} is invalid: allowed an integer >= 1")
    medians = np.array(list(track_medians(values).values()), dtype=np.float64)
    n_excerpts = int(sum(_finite(v).size for v in values.values()))
    if medians.size == 0:
        nan = math.nan
        return Spread(nan, nan, nan, nan, nan, 0, n_excerpts, level)
    median = float(np.median(medians))
    q25, q75 = (float(q) for q in np.percentile(medians, [25, 75]))
    if medians.size == 1:
        lo = hi = median
    else:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, medians.size, size=(n_bootstrap, medians.size))
        boot = np.median(medians[picks], axis=1)
        alpha = (1.0 - level) / 2.0
        lo, hi = (float(q) for q in np.percentile(boot, [100 * alpha, 100 * (1 - alpha)]))
    return Spread(median, q25, q75, lo, hi, int(medians.size), n_excerpts, level)


def agreement(per_track: Mapping[str, float], test) -> "tuple[int, int]":
    """How many tracks' values pass *test* (a callable ``float -> bool``), of how many.

    Parameters
    ----------
    per_track : mapping of str -> float
        E.g. :func:`track_medians` of a difference.
    test : callable

    Returns
    -------
    (agree, total) : (int, int)
    """
    finite = {k: v for k, v in per_track.items() if v is not None and math.isfinite(v)}
    return sum(1 for v in finite.values() if test(v)), len(finite)
