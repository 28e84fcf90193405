"""A common yardstick: the fingerprint distance of a working magnitude to the vocal in fixed views.

The seed's step loss of slice *k* is measured in view *k*, so the losses of two states (k = 3
and k = 8, or two greedy prefixes) are measured in different views and are not comparable.
The yardstick measures every state the same way:

* ``raw`` -- ``mean((fp_0(W) - fp_0(V))**2)``: the distance in the raw view (view 0, the
  magnitude itself resampled to ``n_points`` per window), dB²;
* ``mean_19`` -- the same distance averaged over all 19 views, dB² -- exactly
  :func:`~conv2dsep_lib.method.fingerprint.fingerprint_distance` with its defaults (the same
  arithmetic in the same order, so the same bits).

Cost: 19 views of one magnitude.  Three things keep it small (a run measures 8 progressive
states and 8 greedy prefixes of ``best --slices 8``):

* the vocal's fingerprints come from the run's
  :class:`~conv2dsep_lib.method.experiments.TargetFingerprints` (computed once per view);
* a fingerprint of the state that a later slice step computes anyway (the next step's ``m``,
  kept as :attr:`~conv2dsep_lib.method.experiments.StepResult.start_db`) is passed in *known*;
* the pooling views (17, 18) are resampled from the 2 x 2-pooled grid directly, without
  repeating it back to the full grid first (:func:`_pooled_points`; the same numbers);
* the nine 7 x 7 Gaussian-derivative views (diagonal up/down = ridges at +-45 degrees, the
  seven oriented edges) are all combinations of three separable products of one basis
  ``{g, r g, g2}`` (a Gaussian, its first and its zero-mean second derivative): three passes
  across time and five across frequency serve all nine (:func:`_family_points`), instead of 19
  rank-1 terms.  The same correlations summed in another order: equal to ~1e-15 relative, the
  yardstick to ~1e-12 dB² (``tests/test_yardstick.py``).

Measured on 1025 x 100 (a 2-core machine): ~17 ms a state view by view, ~10 ms so.

**Long inputs.**  The 19 views of a whole song cost ~1 s a state (they are passes over the
whole spectrogram) and ~250 MB of temporaries.  Above :data:`MAX_FRAMES` windows the
yardstick is therefore measured on :data:`N_BLOCKS` blocks of :data:`BLOCK_FRAMES`
consecutive windows, evenly spaced over the input and the same for every state: each block's
views are computed from the block and the :data:`MARGIN` windows on each side that the
largest kernel (9 wide) reaches, so every measured window's fingerprint is exactly column
*w* of the whole spectrogram's (pooling stays aligned: blocks and margins start on even
windows).  Up to :data:`MAX_FRAMES` windows (excerpts up to ~25 s at the default STFT) every
window is measured; :attr:`Yardstick.frames` says how many were.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Protocol, Tuple

import numpy as np
from scipy import ndimage

from ..core.config import N_VIEWS, Config
from .fingerprint import fingerprint_db, resampler
from .transforms import to_db
from .views import VIEWS, _frequency_operator

__all__ = [
    "Yardstick",
    "YARDSTICK_NOTE",
    "ViewFingerprints",
    "measure_yardstick",
    "yardstick_frames",
    "MAX_FRAMES",
]

#: Inputs up to this many windows are measured on every window.
MAX_FRAMES = 512
#: Longer inputs: this many blocks of :data:`BLOCK_FRAMES` consecutive windows.
N_BLOCKS = 8
BLOCK_FRAMES = 64
#: Windows each side of a block that its views read (the largest kernel is 9 windows wide;
#: even, so that 2 x 2 pooling stays aligned).
MARGIN = 4

#: What the yardstick is, in one line (figures, tables and ``results.json``'s schema note).
YARDSTICK_NOTE = (
    "yardstick: fingerprint distance of the working magnitude to the vocal, mean((fp(W) - fp(V))**2) "
    "in dB², in the raw view (raw) and averaged over all 19 views (mean_19) -- the same views for "
    "every k and every greedy prefix"
)


@dataclass(frozen=True)
class Yardstick:
    """The common yardstick of one state (lower = closer to the vocal's fingerprints).

    Attributes
    ----------
    raw : float
        dB², view 0 (the magnitude itself).
    mean_19 : float
        dB², the mean over all 19 views (what "best k by loss" compares).
    """

    raw: float
    mean_19: float
    frames: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        out = {"raw": _finite_or_none(self.raw), "mean_19": _finite_or_none(self.mean_19)}
        if self.frames is not None:
            out["frames"] = int(self.frames)  # measured on these many windows (a long input)
        return out

    @classmethod
    def from_json(cls, d: Optional[Mapping[str, Any]]) -> Optional["Yardstick"]:
        """``None`` for ``None`` (a record written before the yardstick existed)."""
        if d is None:
            return None
        frames = d.get("frames")
        return cls(
            raw=_nan_if_none(d.get("raw")),
            mean_19=_nan_if_none(d.get("mean_19")),
            frames=None if frames is None else int(frames),
        )


def _finite_or_none(x: float) -> Optional[float]:
    return float(x) if math.isfinite(x) else None


def _nan_if_none(x: Any) -> float:
    return math.nan if x is None else float(x)


class ViewFingerprints(Protocol):
    """Anything indexed by view (0..18) giving a dB fingerprint [shape=(n_points, n_frames)]:
    :class:`~conv2dsep_lib.method.experiments.TargetFingerprints`, or a dict."""

    def __getitem__(self, view: int) -> np.ndarray: ...


def measure_yardstick(
    magnitude: np.ndarray,
    targets: ViewFingerprints,
    *,
    config: Config,
    known: Optional[Mapping[int, Optional[np.ndarray]]] = None,
) -> Yardstick:
    """The yardstick of one working magnitude.

    Parameters
    ----------
    magnitude : np.ndarray [shape=(n_bins, n_frames)]
        The working magnitude ``W`` (a progressive state or a greedy prefix).
    targets : ViewFingerprints (view index -> np.ndarray [shape=(n_points, n_frames)])
        The vocal's dB fingerprints, e.g.
        :class:`~conv2dsep_lib.method.experiments.TargetFingerprints` (indexed 0..18).
    config : Config
        ``n_points``, ``amin``, ``top_db``.
    known : mapping view index -> np.ndarray [shape=(n_points, n_frames)], optional
        dB fingerprints of *magnitude* already computed (``fingerprint_db(magnitude, view)``,
        e.g. by the next slice step); the other views are computed here.

    Returns
    -------
    Yardstick
        ``mean_19`` equals ``fingerprint_distance(magnitude, config=config,
        target_fps=targets)``.
    """
    known = known or {}
    n_frames = np.shape(magnitude)[-1]
    if np.ndim(magnitude) == 2 and n_frames > MAX_FRAMES:
        return _measure_blocks(magnitude, targets, config=config, known=known)
    return _measure(magnitude, targets, config=config, known=known)


def yardstick_frames(n_frames: int) -> List[Tuple[int, int]]:
    """The ``(start, stop)`` windows the yardstick measures: ``[(0, n_frames)]`` up to
    :data:`MAX_FRAMES`, else :data:`N_BLOCKS` evenly spaced blocks of :data:`BLOCK_FRAMES`
    starting on even windows."""
    if n_frames <= MAX_FRAMES:
        return [(0, n_frames)]
    last = n_frames - BLOCK_FRAMES
    starts = [2 * int(round(i * last / (N_BLOCKS - 1) / 2)) for i in range(N_BLOCKS)]
    starts = [min(s, last - (last % 2)) for s in starts]
    return [(s, s + BLOCK_FRAMES) for s in starts]


def _measure_blocks(
    magnitude: np.ndarray,
    targets: "ViewFingerprints",
    *,
    config: Config,
    known: Mapping[int, Optional[np.ndarray]],
) -> Yardstick:
    """:func:`measure_yardstick` of a long input on :func:`yardstick_frames` (see the module
    docstring): each block's squared differences summed, then divided by the points measured."""
    n_frames = magnitude.shape[-1]
    blocks = yardstick_frames(n_frames)
    target_blocks = _target_blocks(targets, blocks, config=config)
    sums = np.zeros(N_VIEWS)
    count = 0
    for (start, stop), block_targets in zip(blocks, target_blocks):
        lo, hi = max(0, start - MARGIN), min(n_frames, stop + MARGIN)
        inner = slice(start - lo, stop - lo)
        patch = np.ascontiguousarray(magnitude[:, lo:hi])
        block_known = {v: fp[:, start:stop] for v, fp in known.items() if fp is not None}
        fps = _view_fingerprints(patch, config=config, known=block_known)
        for view in range(N_VIEWS):
            fp = block_known.get(view)
            if fp is None:
                fp = fps[view][:, inner]
            d = fp - block_targets[view]
            sums[view] += float(np.sum(d * d))
        count += (stop - start) * config.n_points
    dists = sums / count
    return Yardstick(raw=float(dists[0]), mean_19=float(dists.mean()), frames=sum(b - a for a, b in blocks))


_TARGET_BLOCKS: "weakref.WeakKeyDictionary[Any, List[Dict[int, np.ndarray]]]" = weakref.WeakKeyDictionary()
_TARGET_LOCK = threading.Lock()


def _target_blocks(
    targets: "ViewFingerprints", blocks: List[Tuple[int, int]], *, config: Config
) -> List[Dict[int, np.ndarray]]:
    """The vocal's fingerprints on the blocks' windows, per block and view.  From the vocal's
    magnitude when *targets* holds it (:class:`~conv2dsep_lib.method.experiments.TargetFingerprints`:
    computed on the blocks once per run and kept beside it, instead of 19 whole-song
    fingerprints, ~230 MB for 3 minutes), else sliced from *targets*."""
    vocal = getattr(targets, "magnitude", None)
    if vocal is None or np.ndim(vocal) != 2:
        return [{v: targets[v][:, a:b] for v in range(N_VIEWS)} for a, b in blocks]
    with _TARGET_LOCK:
        cached = _TARGET_BLOCKS.get(targets)
        if cached is None:
            n_frames = vocal.shape[-1]
            cached = []
            for start, stop in blocks:
                lo, hi = max(0, start - MARGIN), min(n_frames, stop + MARGIN)
                fps = _view_fingerprints(np.ascontiguousarray(vocal[:, lo:hi]), config=config, known={})
                cached.append({v: fp[:, start - lo : stop - lo] for v, fp in fps.items()})
            _TARGET_BLOCKS[targets] = cached
        return cached


def _view_fingerprints(
    magnitude: np.ndarray, *, config: Config, known: Mapping[int, Optional[np.ndarray]]
) -> Dict[int, np.ndarray]:
    """The dB fingerprints of *magnitude* in every view not in *known* (``None`` = compute)."""
    W = np.asarray(magnitude, dtype=np.float64)
    family = _family_points(W, [v for v in _FAMILY if known.get(v) is None], config.n_points)
    out: Dict[int, np.ndarray] = {}
    for view in range(N_VIEWS):
        if known.get(view) is not None:
            continue
        if view in family:
            out[view] = to_db(family.pop(view), amin=config.amin, top_db=config.top_db, axis=-2)
        elif view in _POOLS:
            out[view] = to_db(
                _pooled_points(W, view, config.n_points), amin=config.amin, top_db=config.top_db, axis=-2
            )
        else:
            out[view] = fingerprint_db(W, view, config=config)
    return out


def _measure(
    magnitude: np.ndarray,
    targets: "ViewFingerprints",
    *,
    config: Config,
    known: Mapping[int, Optional[np.ndarray]],
) -> Yardstick:
    """:func:`measure_yardstick` on every window."""
    W = np.asarray(magnitude, dtype=np.float64)
    family: Dict[int, np.ndarray] = {}
    if W.ndim == 2:
        family = _family_points(W, [v for v in _FAMILY if known.get(v) is None], config.n_points)
    total = 0.0
    raw = math.nan
    for view in range(N_VIEWS):
        fp = known.get(view)
        if fp is None and view in family:
            fp = to_db(family.pop(view), amin=config.amin, top_db=config.top_db, axis=-2)
        elif fp is None and view in _POOLS and W.ndim == 2:
            fp = to_db(
                _pooled_points(W, view, config.n_points), amin=config.amin, top_db=config.top_db, axis=-2
            )
        elif fp is None:
            fp = fingerprint_db(W, view, config=config)
        d = fp - targets[view]
        dist = float(np.mean(d * d))
        if view == 0:
            raw = dist
        total += dist
    return Yardstick(raw=raw, mean_19=total / N_VIEWS)


#: The views computed from shared separable passes (see the module docstring).
_FAMILY = (3, 4, 9, 10, 11, 12, 13, 14, 15)
#: A coefficient below this fraction of the kernel's largest entry is a rounding residue (an
#: edge kernel's mean, ~1e-18, subtracted by ``views._zero_mean``).
_NEGLIGIBLE = 1e-12


@lru_cache(maxsize=1)
def _family_terms() -> Optional[Tuple[np.ndarray, Dict[int, List[Tuple[int, int, float]]]]]:
    """The shared basis [shape=(3, 7)] and, per family view, its ``(freq, time, coefficient)``
    products: ``K = sum c * outer(basis[freq], basis[time])``.  ``None`` if a kernel is not in
    the basis's span (then every view is computed view by view)."""
    r = np.arange(7) - 3.0
    g = np.exp(-(r**2) / 2.0)
    g2 = (r**2 - 1.0) * g
    basis = np.stack([g, r * g, g2 - g2.mean()])  # (3, 7)
    pinv = np.linalg.pinv(basis.T)  # (3, 7)
    terms: Dict[int, List[Tuple[int, int, float]]] = {}
    for v in _FAMILY:
        K = VIEWS[v].kernel
        if K is None or K.shape != (7, 7):
            return None
        C = pinv @ K @ pinv.T
        C[np.abs(C) < _NEGLIGIBLE * np.abs(K).max()] = 0.0
        if np.abs(basis.T @ C @ basis - K).max() > 1e-13 * np.abs(K).max():
            return None
        terms[v] = [(i, j, float(C[i, j])) for i, j in zip(*np.nonzero(C))]
    return basis, terms


def _family_points(W: np.ndarray, views: List[int], n_points: int) -> Dict[int, np.ndarray]:
    """``fingerprint(W, v, n_points=n_points)`` (linear amplitude) for the family views *views*
    of one magnitude [shape=(n_bins, n_frames)], from shared passes:
    ``|sum c * correlate_f(correlate_t(W, b_time), b_freq)|``, resampled one view at a time
    in two reused full-size buffers (no allocation per view)."""
    spec = _family_terms()
    if spec is None or not views:
        return {}
    basis, terms = spec
    down = resampler(W.shape[-2], n_points).down
    across_time: Dict[int, np.ndarray] = {}
    products: Dict[Tuple[int, int], np.ndarray] = {}
    F, tmp = np.empty_like(W), np.empty_like(W)
    out: Dict[int, np.ndarray] = {}
    for v in views:
        for n, (i, j, c) in enumerate(terms[v]):
            if (i, j) not in products:
                if j not in across_time:
                    across_time[j] = ndimage.correlate1d(W, basis[j], axis=-1, mode="reflect")
                products[i, j] = _frequency_operator(basis[i].tobytes(), W.shape[0]) @ across_time[j]
            if n == 0:
                np.multiply(products[i, j], c, out=F)
            else:
                np.add(F, np.multiply(products[i, j], c, out=tmp), out=F)
        out[v] = down(np.abs(F, out=F))
    return out


#: The pooling views (see :func:`_pooled_points`).
_POOLS = (17, 18)


def _pooled_points(W: np.ndarray, view: int, n_points: int) -> np.ndarray:
    """``resampler(...).down(apply_view(W, view))`` for a pooling view, the same numbers.

    The view pools 2 x 2 (stride 2, edge-padded to even sizes) and repeats every pooled value
    over its 2 x 2 block; bin ``b`` of the repeated grid is pooled row ``b // 2`` and frame
    ``t`` pooled column ``t // 2``.  So the interpolation reads the pooled rows directly and
    the columns are repeated last, on ``n_points`` rows instead of ``n_bins``.  The pooling is
    ``views._pool``'s arithmetic: max of maxes, or the mean over time then over frequency
    (``((a + b) / 2 + (c + d) / 2) / 2``).
    """
    n_f, n_t = W.shape
    P = np.pad(W, [(0, n_f % 2), (0, n_t % 2)], mode="edge")
    a, b, c, d = P[0::2, 0::2], P[0::2, 1::2], P[1::2, 0::2], P[1::2, 1::2]
    if view == 17:
        pooled = np.maximum(np.maximum(a, b), np.maximum(c, d))
    else:
        pooled = ((a + b) / 2.0 + (c + d) / 2.0) / 2.0
    r = resampler(n_f, n_points)
    lo, w = r.down_lo, r.down_w[:, None]
    x = pooled[lo // 2]
    fp = x + w * (pooled[(lo + 1) // 2] - x)
    return np.repeat(fp, 2, axis=-1)[:, :n_t]
