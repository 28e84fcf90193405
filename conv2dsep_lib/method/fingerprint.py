"""Fingerprints: a view resampled to ``n_points`` per window, in dB.

For view *k* and magnitude ``S`` [shape=(n_bins, n_frames)], ``F = view_k(S)``; every
window (column) is interpolated linearly from the ``n_bins`` bin positions onto
``n_points`` evenly spaced positions over the same range
(``np.linspace(0, n_bins - 1, n_points)``), giving ``n_points x n_frames``.  In dB:
``amplitude_to_db(F, ref=1.0, amin=amin)`` one window at a time (see
:mod:`conv2dsep_lib.core.config` for the per-window top-dB floor).

Both directions are fixed linear maps, precomputed once per grid as gather indices
and weights (:class:`Resampler`), so a fingerprint of any number of windows is two
gathers and an add.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Union

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from .transforms import to_db
from .views import VIEWS, View, apply_view, get_view

__all__ = [
    "Resampler",
    "resampler",
    "fingerprint",
    "fingerprint_db",
    "expand_points",
    "fingerprint_distance",
]


@dataclass(frozen=True)
class Resampler:
    """Linear interpolation between ``n_bins`` bins and ``n_points`` points.

    Attributes
    ----------
    n_bins, n_points : int
    down_lo, down_w : np.ndarray [shape=(n_points,)]
        Point ``j`` = ``(1 - w) * bins[lo] + w * bins[lo + 1]``.
    up_lo, up_w : np.ndarray [shape=(n_bins,)]
        Bin ``b`` = ``(1 - w) * points[lo] + w * points[lo + 1]`` (``np.interp``).
    """

    n_bins: int
    n_points: int
    down_lo: np.ndarray
    down_w: np.ndarray
    up_lo: np.ndarray
    up_w: np.ndarray

    def down(self, F: np.ndarray) -> np.ndarray:
        """Bins to points along axis -2: [shape=(..., n_bins, T)] -> (..., n_points, T)."""
        lo, w = self.down_lo, self.down_w[:, None]
        a = F[..., lo, :]
        return a + w * (F[..., lo + 1, :] - a)

    def up(self, E: np.ndarray) -> np.ndarray:
        """Points to bins along axis -2: [shape=(..., n_points, T)] -> (..., n_bins, T)."""
        E = np.asarray(E, dtype=np.float64)
        a = np.take(E, self.up_lo, axis=-2)
        b = np.take(E, self.up_lo + 1, axis=-2)
        np.subtract(b, a, out=b)  # a + w * (b - a), in place (the same numbers)
        np.multiply(b, self.up_w[:, None], out=b)
        return np.add(a, b, out=a)


def _segments(src: np.ndarray, dst: np.ndarray):
    """Left index and weight of each *dst* position inside the *src* grid."""
    lo = np.clip(np.searchsorted(src, dst, side="right") - 1, 0, len(src) - 2)
    w = (dst - src[lo]) / (src[lo + 1] - src[lo])
    return lo.astype(np.intp), np.clip(w, 0.0, 1.0)


@lru_cache(maxsize=16)
def resampler(n_bins: int, n_points: int) -> Resampler:
    """The cached :class:`Resampler` for a grid (``n_bins >= 2``, ``n_points >= 2``)."""
    bins = np.arange(n_bins, dtype=np.float64)
    points = np.linspace(0.0, n_bins - 1, n_points)
    d_lo, d_w = _segments(bins, points)
    u_lo, u_w = _segments(points, bins)
    for a in (d_lo, d_w, u_lo, u_w):
        a.setflags(write=False)
    return Resampler(n_bins, n_points, d_lo, d_w, u_lo, u_w)


def fingerprint(S: np.ndarray, view: Union[int, str, View], *, n_points: int) -> np.ndarray:
    """Linear-amplitude fingerprint of one view.

    Parameters
    ----------
    S : np.ndarray [shape=(..., n_bins, n_frames)]
        Magnitude spectrogram.
    view : int, str or View
    n_points : int >= 2

    Returns
    -------
    fp : np.ndarray [shape=(..., n_points, n_frames)], non-negative
    """
    F = apply_view(S, view)
    return resampler(F.shape[-2], n_points).down(F)


def fingerprint_db(S: np.ndarray, view: Union[int, str, View], *, config: Config) -> np.ndarray:
    """Fingerprint in dB, ``amplitude_to_db(ref=1, amin)`` per window.

    Parameters
    ----------
    S : np.ndarray [shape=(..., n_bins, n_frames)]
    view : int, str or View
    config : Config

    Returns
    -------
    fp_db : np.ndarray [shape=(..., n_points, n_frames)]
    """
    fp = fingerprint(S, view, n_points=config.n_points)
    return to_db(fp, amin=config.amin, top_db=config.top_db, axis=-2)


def expand_points(E: np.ndarray, *, n_bins: int) -> np.ndarray:
    """Interpolate per-window curves from ``n_points`` points back to ``n_bins`` bins.

    Parameters
    ----------
    E : np.ndarray [shape=(..., n_points, n_frames)]
    n_bins : int

    Returns
    -------
    np.ndarray [shape=(..., n_bins, n_frames)]
    """
    return resampler(n_bins, E.shape[-2]).up(E)


def fingerprint_distance(
    estimate_mag: np.ndarray,
    target_mag: Optional[np.ndarray] = None,
    *,
    config: Config,
    views=None,
    target_fps=None,
) -> float:
    """Mean squared dB distance of two magnitudes' fingerprints, averaged over views.

    A yardstick common to all views (unlike the seed's step loss, which is measured
    in the view just optimised): ``mean_k mean((fp_k(estimate) - fp_k(target))**2)``
    over all 19 views by default.

    Parameters
    ----------
    estimate_mag, target_mag : np.ndarray [shape=(n_bins, n_frames)]
    config : Config
    views : sequence of int or str, optional
    target_fps : mapping view index -> np.ndarray [shape=(n_points, n_frames)], optional
        Precomputed target fingerprints in dB (e.g.
        :class:`conv2dsep_lib.method.experiments.TargetFingerprints`), used instead of
        *target_mag*.

    Returns
    -------
    float
        dB².
    """
    if target_fps is None and target_mag is None:
        raise ParameterError("fingerprint_distance needs target_mag or target_fps")
    views = VIEWS if views is None else [get_view(v) for v in views]
    total = 0.0
    for v in views:
        if target_fps is not None:
            target = target_fps[v.index]
        else:
            assert target_mag is not None
            target = fingerprint_db(target_mag, v, config=config)
        d = fingerprint_db(estimate_mag, v, config=config) - target
        total += float(np.mean(d * d))
    return total / len(views)
