"""The 19 Conv2D views ("slices") of a magnitude spectrogram.

Each view maps a magnitude spectrogram ``S`` [shape=(..., n_bins, n_frames)] --
frequency on axis -2 (rows, low to high), time on axis -1 (columns) -- to a
non-negative array of the same shape.  Filter views are a 2-D correlation
(``scipy.ndimage.correlate``, ``mode="reflect"``) with a small hand-designed kernel,
followed by the absolute value; pooling views pool 2x2 with stride 2 and are resized
back to the input grid by repetition.

Orientation convention for kernels: ``K[a, b]`` weights ``S[f + a - ca, t + b - cb]``
(``ca, cb`` = kernel centre), i.e. row ``a`` is a frequency offset (up = higher
frequency) and column ``b`` a time offset (right = later).  Angles are measured in the
(time, frequency) image plane, counter-clockwise from the time axis: a 0-degree line
is a sustained partial, a 90-degree line a broadband transient.

The names are exact (they appear in files, plots and ``results.json``); "N slices"
means views 1..N, view 0 is the raw reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional, Tuple, Union

import numpy as np
from scipy import ndimage, sparse

from ..core.config import N_VIEWS, check_n_slices
from ..core.errors import ParameterError

__all__ = [
    "View",
    "VIEWS",
    "VIEW_NAMES",
    "EDGE_ANGLES",
    "get_view",
    "apply_view",
    "all_views",
    "slice_sequence",
]

#: Orientations (degrees) of the edge views 9..15.
EDGE_ANGLES = (22.5, 45.0, 67.5, 90.0, 112.5, 135.0, 157.5)

#: Harmonic comb spacing in bins (~172 Hz at sr=22050, n_fft=2048; a typical sung f0).
HARMONIC_SPACING = 16


# --------------------------------------------------------------------- kernels
def _zero_mean(k: np.ndarray) -> np.ndarray:
    return k - k.mean()


def _gaussian_grid(size: int, sigma: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.arange(size) - size // 2
    f, t = np.meshgrid(r, r, indexing="ij")
    g = np.exp(-(f**2 + t**2) / (2.0 * sigma**2))
    return f.astype(float), t.astype(float), g


def kernel_horizontal() -> np.ndarray:
    """Sustained frequencies (vowels), shape (3, 7).

    A centre row of +1 flanked by rows of -1/2 over 7 frames: a partial that stays at
    one frequency for several windows (a held vowel) is a thin bright horizontal
    line, which the centre row sums and the flanks do not cancel; broadband or
    short events cancel.  Zero sum, so flat regions give 0.
    """
    k = np.array([[-0.5], [1.0], [-0.5]]) * np.ones((1, 7))
    return k / 7.0


def kernel_vertical() -> np.ndarray:
    """Transients / onsets (consonants), shape (7, 3).

    The transpose of the horizontal kernel: a centre column of +1 flanked by columns
    of -1/2 over 7 bins responds to energy that is broadband but brief in time (a
    plosive, a fricative onset, a drum hit), a vertical line.
    """
    return kernel_horizontal().T.copy()


def kernel_ridge(angle: float, *, sigma: float = 1.0, size: int = 7) -> np.ndarray:
    """A line (ridge) detector at *angle* degrees, shape (size, size).

    The negative second derivative of a Gaussian taken *across* the line,
    ``-d^2 G / dn^2 = -(n_t^2 G_tt + 2 n_t n_f G_tf + n_f^2 G_ff)`` with ``n`` the unit
    normal of the line: positive on a thin line of that orientation, negative on its
    flanks, zero on flat regions and on straight lines perpendicular to it (their
    second derivative across *n* vanishes).  It is a sum of three separable terms, so
    it runs as six 1-D passes.
    """
    r = np.arange(size) - size // 2
    g = np.exp(-(r**2) / (2.0 * sigma**2))
    g1 = -r / sigma**2 * g
    g2 = (r**2 - sigma**2) / sigma**4 * g
    g2 = g2 - g2.mean()
    a = np.deg2rad(angle)
    n_t, n_f = -np.sin(a), np.cos(a)
    # rows = frequency offset, columns = time offset
    k = -(n_t**2 * np.outer(g, g2) + 2 * n_t * n_f * np.outer(g1, g1) + n_f**2 * np.outer(g2, g))
    return k / np.abs(k).sum()


def kernel_diagonal_up() -> np.ndarray:
    """Upward pitch sweeps, shape (7, 7): a ridge detector at +45 degrees.

    A partial gliding upward (about one bin per frame) lies along the kernel's
    positive core; its flanks cancel flat regions, and a line falling at -45 degrees
    has no second derivative across the kernel's normal.
    """
    return kernel_ridge(45.0)


def kernel_diagonal_down() -> np.ndarray:
    """Downward pitch sweeps, shape (7, 7): a ridge detector at -45 degrees
    (frequency falls as time rises)."""
    return kernel_ridge(-45.0)


def kernel_blob(*, sigma: float = 1.5, size: int = 9) -> np.ndarray:
    """Blobs (resonances), shape (9, 9): negative Laplacian of Gaussian.

    ``-(g'' (f) g(t) + g(f) g'' (t))`` with ``g`` a 1-D Gaussian and ``g''`` its second
    derivative made zero-mean: the LoG's centre-surround shape peaks on a compact
    bright region about ``2 * sigma`` wide in both time and frequency -- a formant
    resonance or a short note -- and is zero on flat regions.  (Written as a sum of
    two separable terms, it also runs as four 1-D passes.)
    """
    r = np.arange(size) - size // 2
    g = np.exp(-(r**2) / (2.0 * sigma**2))
    g2 = (r**2 - sigma**2) / sigma**4 * g
    g2 = g2 - g2.mean()
    k = -(np.outer(g2, g) + np.outer(g, g2))
    return k / np.abs(k).sum()


def kernel_harmonic(*, spacing: int = HARMONIC_SPACING, n_harmonics: int = 2) -> np.ndarray:
    """Harmonic stacks (formants), shape (4 * spacing + 1, 3).

    A comb across frequency: +1 rows at offsets ``0, +-spacing, +-2*spacing`` bins
    (partials of a voice with f0 near ``spacing`` bins, 172 Hz by default) and -1 rows
    half-way between them, over 3 frames.  A stack of evenly spaced partials
    lights the + rows and leaves the - rows dark; broadband noise cancels.
    """
    height = 2 * n_harmonics * spacing + 1
    c = height // 2
    k = np.zeros((height, 3))
    for h in range(-n_harmonics, n_harmonics + 1):
        k[c + h * spacing, :] = 1.0
    for h in range(-n_harmonics, n_harmonics):
        k[c + h * spacing + spacing // 2, :] = -1.0
    k = k - (k != 0) * (k.sum() / np.count_nonzero(k))  # zero sum over the taps
    return k / np.abs(k).sum()


def kernel_highpass() -> np.ndarray:
    """Edges (timbre), shape (3, 3): the 8-neighbour high-pass.

    ``8`` at the centre, ``-1`` around, divided by 8: the pixel minus the mean of its
    neighbours, so fine spectral detail (timbre texture, partial edges) passes and
    smooth regions vanish.
    """
    k = -np.ones((3, 3))
    k[1, 1] = 8.0
    return k / 8.0


def kernel_lowpass(*, sigma: float = 1.0, size: int = 5) -> np.ndarray:
    """Smoothing (fundamentals), shape (5, 5): a normalised Gaussian.

    Averages over about +-2 bins and +-2 frames, keeping the strong, slowly varying
    low-frequency structure (fundamentals, the spectral envelope) and suppressing
    detail.  Sum 1, so the level is kept.
    """
    _, _, g = _gaussian_grid(size, sigma)
    return g / g.sum()


def kernel_edge(angle: float, *, sigma: float = 1.0, size: int = 7) -> np.ndarray:
    """Oriented edges at *angle* degrees, shape (7, 7).

    A first derivative of a Gaussian taken across the edge (direction
    ``angle + 90`` degrees in the time-frequency plane): it responds where the level
    changes across a line of that orientation, e.g. 90 degrees = an onset (level
    jumps in time), 22.5 degrees = the flank of a slowly rising partial.
    """
    f, t, g = _gaussian_grid(size, sigma)
    phi = np.deg2rad(angle + 90.0)
    k = -(t * np.cos(phi) + f * np.sin(phi)) / sigma**2 * g
    k = _zero_mean(k)
    return k / np.abs(k).sum()


def kernel_laplacian() -> np.ndarray:
    """All edges, shape (3, 3): the 4-neighbour Laplacian.

    Isotropic second derivative: responds to edges and lines of every orientation.
    """
    return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


# --------------------------------------------------------------------- operators
def _correlate(S: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``|correlate(S, kernel)|`` over the last two axes, reflect boundary.

    Exact implementations of the same correlation, chosen by the kernel's structure
    (not by timing): a kernel of rank <= 3 runs as rank-1 passes of ``correlate1d``
    (the SVD's terms; a sparse comb across frequency as a sum of shifted copies), a
    sparse kernel as a sum of shifted copies, anything else through
    ``ndimage.correlate``.  They agree to ~1e-15.
    """
    terms = _separable_terms(kernel.tobytes(), kernel.shape)
    if terms is not None:
        out: Optional[np.ndarray] = None
        for col, row in terms:
            part = ndimage.correlate1d(S, row, axis=-1, mode="reflect")
            if part.ndim == 2:  # across frequency: a banded sparse matrix product
                part = _frequency_operator(col.tobytes(), part.shape[0]) @ part
            else:
                part = ndimage.correlate1d(part, col, axis=-2, mode="reflect")
            out = part if out is None else out + part
        assert out is not None  # a kernel has at least one term
        return np.abs(out, out=out)
    if np.count_nonzero(kernel) * 4 < kernel.size:  # sparse: sum shifted copies
        return np.abs(_sparse_correlate(S, kernel))
    k = kernel.reshape((1,) * (S.ndim - 2) + kernel.shape)
    return np.abs(ndimage.correlate(S, k, mode="reflect"))


@lru_cache(maxsize=64)
def _frequency_operator(buffer: bytes, n: int):
    """The (n, n) sparse matrix of ``correlate1d(x, col, mode="reflect")`` along axis 0.

    ``out[f] = sum_a col[a] * x[reflect(f + a - c)]`` with ``c = len(col) // 2`` and
    ndimage's "reflect" boundary (``d c b a | a b c d | d c b a``).
    """
    col = np.frombuffer(buffer, dtype=np.float64)
    c = len(col) // 2
    rows, cols, vals = [], [], []
    f = np.arange(n)
    for a in np.flatnonzero(col):
        idx = np.mod(f + a - c, 2 * n)  # symmetric extension has period 2n
        idx = np.where(idx >= n, 2 * n - 1 - idx, idx)
        rows.append(f)
        cols.append(idx)
        vals.append(np.full(n, col[a]))
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


@lru_cache(maxsize=64)
def _separable_terms(buffer: bytes, shape: Tuple[int, int], max_rank: int = 3):
    """Rank-1 terms ``(column, row)`` of a kernel whose rank is <= *max_rank*, else None.

    Small kernels (<= 9 taps) are cheaper direct and also return None.
    """
    kernel = np.frombuffer(buffer, dtype=np.float64).reshape(shape)
    if kernel.size <= 9:
        return None
    U, sv, Vt = np.linalg.svd(kernel)
    rank = int(np.sum(sv > 1e-12 * sv[0]))
    if rank > max_rank:
        return None
    terms = []
    for i in range(rank):
        col, row = U[:, i] * sv[i], Vt[i].copy()
        col[np.abs(col) < 1e-14 * np.abs(col).max()] = 0.0  # keep a comb's zeros exact
        terms.append((col, row))
    return tuple(terms)


def _sparse_correlate(S: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    kh, kw = kernel.shape
    ch, cw = kh // 2, kw // 2
    pad = [(0, 0)] * (S.ndim - 2) + [(ch, kh - 1 - ch), (cw, kw - 1 - cw)]
    P = np.pad(S, pad, mode="symmetric")  # == ndimage "reflect"
    n_f, n_t = S.shape[-2:]
    out = np.zeros_like(S, dtype=np.result_type(S.dtype, np.float64))
    for a, b in zip(*np.nonzero(kernel)):
        out += kernel[a, b] * P[..., a : a + n_f, b : b + n_t]
    return out


def _pool(S: np.ndarray, reducer: Callable) -> np.ndarray:
    """2x2 pooling with stride 2, resized back to the input grid by repetition."""
    n_f, n_t = S.shape[-2:]
    pad = [(0, 0)] * (S.ndim - 2) + [(0, n_f % 2), (0, n_t % 2)]
    P = np.pad(S, pad, mode="edge")
    shape = P.shape[:-2] + (P.shape[-2] // 2, 2, P.shape[-1] // 2, 2)
    pooled = reducer(reducer(P.reshape(shape), axis=-1), axis=-2)
    up = np.repeat(np.repeat(pooled, 2, axis=-2), 2, axis=-1)
    return up[..., :n_f, :n_t]


def maxpool(S: np.ndarray) -> np.ndarray:
    """Downsampled peaks: 2x2 max pooling, stride 2, repeated back to S's shape."""
    return _pool(S, np.max)


def avgpool(S: np.ndarray) -> np.ndarray:
    """Downsampled averages: 2x2 mean pooling, stride 2, repeated back to S's shape."""
    return _pool(S, np.mean)


# --------------------------------------------------------------------- registry
@dataclass(frozen=True)
class View:
    """One view: its index, exact name, what it responds to, and its operator.

    Attributes
    ----------
    index : int
        0..18.
    name : str
        E.g. ``"slice_1_horizontal"``.
    responds_to : str
    kernel : np.ndarray or None
        The correlation kernel (``None`` for the raw and pooling views).
    pool : str or None
        ``"max"`` or ``"mean"`` for the pooling views.
    """

    index: int
    name: str
    responds_to: str
    kernel: Optional[np.ndarray] = None
    pool: Optional[str] = None

    def __call__(self, S: np.ndarray) -> np.ndarray:
        return apply_view(S, self)

    @property
    def display_kernel(self) -> np.ndarray:
        """A picture of the operator for plots (pooling: the 2x2 window)."""
        if self.kernel is not None:
            return self.kernel
        if self.pool is not None:
            return np.full((2, 2), 0.25 if self.pool == "mean" else 1.0)
        return np.ones((1, 1))


def _build_views() -> Tuple[View, ...]:
    views = [
        View(0, "slice_0_raw", "the magnitude itself (baseline)"),
        View(1, "slice_1_horizontal", "sustained frequencies (vowels)", kernel_horizontal()),
        View(2, "slice_2_vertical", "transients / onsets (consonants)", kernel_vertical()),
        View(3, "slice_3_diagonal_up", "upward pitch sweeps", kernel_diagonal_up()),
        View(4, "slice_4_diagonal_down", "downward pitch sweeps", kernel_diagonal_down()),
        View(5, "slice_5_blob", "blobs (resonances)", kernel_blob()),
        View(6, "slice_6_harmonic", "harmonic stacks (formants)", kernel_harmonic()),
        View(7, "slice_7_highpass", "edges (timbre)", kernel_highpass()),
        View(8, "slice_8_lowpass", "smoothing (fundamentals)", kernel_lowpass()),
    ]
    for i, angle in enumerate(EDGE_ANGLES):
        views.append(
            View(
                9 + i,
                f"slice_{9 + i}_edge_{int(angle)}",
                f"oriented edges at {angle:g} degrees",
                kernel_edge(angle),
            )
        )
    views += [
        View(16, "slice_16_laplacian", "all edges", kernel_laplacian()),
        View(17, "slice_17_maxpool", "downsampled peaks", pool="max"),
        View(18, "slice_18_avgpool", "downsampled averages", pool="mean"),
    ]
    assert len(views) == N_VIEWS
    return tuple(views)


#: All 19 views, index = position.
VIEWS: Tuple[View, ...] = _build_views()
#: Their exact names.
VIEW_NAMES: Tuple[str, ...] = tuple(v.name for v in VIEWS)


def get_view(view: Union[int, str, View]) -> View:
    """Look a view up by index (0..18), exact name, or pass a :class:`View` through.

    Raises
    ------
    ParameterError
        Unknown index or name.
    """
    if isinstance(view, View):
        return view
    if isinstance(view, (int, np.integer)) and not isinstance(view, bool):
        if 0 <= int(view) < N_VIEWS:
            return VIEWS[int(view)]
        raise ParameterError(f"view={view!r} is out of range: allowed 0..{N_VIEWS - 1}")
    if isinstance(view, str) and view in VIEW_NAMES:
        return VIEWS[VIEW_NAMES.index(view)]
    raise ParameterError(
        f"view={view!r} is unknown: allowed an index 0..{N_VIEWS - 1} or a name such as {VIEW_NAMES[1]!r}"
    )


def apply_view(S: np.ndarray, view: Union[int, str, View]) -> np.ndarray:
    """Apply one view to a magnitude spectrogram.

    Parameters
    ----------
    S : np.ndarray [shape=(..., n_bins, n_frames)]
        Non-negative magnitudes.
    view : int, str or View

    Returns
    -------
    F : np.ndarray [shape=S.shape], non-negative

    Examples
    --------
    >>> S = np.abs(np.random.default_rng(0).standard_normal((1025, 100)))
    >>> apply_view(S, "slice_1_horizontal").shape
    (1025, 100)
    """
    v = get_view(view)
    S = np.asarray(S, dtype=np.float64)
    if S.ndim < 2:
        raise ParameterError(f"spectrogram of shape {S.shape} is invalid: allowed (..., n_bins, n_frames)")
    if v.kernel is not None:
        return _correlate(S, v.kernel)
    if v.pool == "max":
        return maxpool(S)
    if v.pool == "mean":
        return avgpool(S)
    return np.abs(S)


def all_views(S: np.ndarray) -> np.ndarray:
    """All 19 views stacked: [shape=(19, n_bins, n_frames)]."""
    return np.stack([apply_view(S, v) for v in VIEWS])


def slice_sequence(n_slices: int) -> Tuple[int, ...]:
    """The original order of N slices: ``(1, 2, ..., N)``."""
    return tuple(range(1, check_n_slices(n_slices) + 1))
