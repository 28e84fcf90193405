"""The blind classics: REPET-SIM and two-stage HPSS, on the method's STFT.

Both see the mixture only (``fn(mixture)``), keep its phase and go back with the
method's ISTFT, so a difference to the fingerprint method comes from the magnitudes.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from .base import Mixture, masked

__all__ = [
    "REPET_WIDTH_S",
    "REPET_MARGIN_V",
    "REPET_CHUNK_S",
    "REPET_OVERLAP_S",
    "HPSS_CHUNK",
    "HPSS_STAGE1",
    "HPSS_STAGE2",
    "repet_width",
    "repet_neighbours",
    "softmask",
    "repet_sim_mask",
    "hpss_mask",
    "hpss_masks",
    "repet_sim",
    "hpss",
]

#: REPET-SIM: nearest neighbours are searched at least this far apart (librosa gallery).
REPET_WIDTH_S = 2.0
#: REPET-SIM soft-mask margin for the foreground (vocal), as in the librosa gallery.
REPET_MARGIN_V = 10.0
#: REPET-SIM searches neighbours over the whole input up to this length (s); longer inputs are
#: searched in chunks of it (see :func:`repet_sim_mask`).
REPET_CHUNK_S = 30.0
#: Overlap of those chunks (s), over which their masks are cross-faded.
REPET_OVERLAP_S = 5.0
#: Frames whose neighbour medians are taken in one call (bounds the gathered block's size).
REPET_BATCH = 16
#: Frames HPSS works on at once (plus the frames its kernels reach): bounds a song's working set.
HPSS_CHUNK = 256
#: HPSS stage 1 (sustained instruments vs. the rest): time kernel, frequency kernel.
HPSS_STAGE1 = (1.0, 30.0)  # (seconds, Hz): 21 frames x 3 bins at the default config
#: HPSS stage 2 (voice vs. drums, on stage 1's percussive part).
HPSS_STAGE2 = (0.2, 200.0)  # (seconds, Hz): 5 frames x 19 bins at the default config


def softmask(X: np.ndarray, X_ref: np.ndarray, *, power: float, split_zeros: bool = False) -> np.ndarray:
    """``librosa.util.softmask`` (the same arithmetic): ``X**p / (X**p + X_ref**p)`` after
    scaling both by their elementwise maximum; where both are ~0, 0.5 (*split_zeros*) or 0.

    Parameters
    ----------
    X, X_ref : np.ndarray, non-negative, same shape
    power : float > 0 (finite)
    split_zeros : bool
    """
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float32
    Z = np.maximum(X, X_ref).astype(dtype)
    bad = Z < np.finfo(dtype).tiny
    Z[bad] = 1
    mask = (X / Z) ** power
    ref_mask = (X_ref / Z) ** power
    good = ~bad
    mask[good] /= mask[good] + ref_mask[good]
    mask[bad] = 0.5 if split_zeros else 0.0
    return mask


def _odd(n: float, minimum: int = 1) -> int:
    """Nearest odd integer >= *minimum* (median kernels are centred)."""
    k = max(minimum, int(round(n)))
    return k if k % 2 else k + 1


def _hpss_kernels(config: Config) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """The two HPSS kernels in (frames, bins) for *config*'s STFT."""
    frame_s = config.hop_length / config.sr
    bin_hz = config.sr / config.n_fft
    return tuple(  # type: ignore[return-value]
        (_odd(sec / frame_s, 3), _odd(hz / bin_hz, 3)) for sec, hz in (HPSS_STAGE1, HPSS_STAGE2)
    )


def repet_width(n_frames: int, *, config: Config) -> int:
    """REPET-SIM's neighbour exclusion width in frames for a clip of *n_frames*.

    The librosa recipe uses ``time_to_frames(2 s)`` (42 frames at the default
    config).  ``librosa.segment.recurrence_matrix`` needs ``1 <= width < (n_frames -
    1) // 2``, so short clips use the largest allowed width instead:
    ``min(time_to_frames(2 s), (n_frames - 1) // 2 - 1)``.

    Raises
    ------
    ParameterError
        If the clip has fewer than 5 frames (no width is allowed).
    """
    # librosa.time_to_frames: samples = int(seconds * sr), frames = samples // hop
    target = int(int(REPET_WIDTH_S * config.sr) // config.hop_length)
    limit = (n_frames - 1) // 2 - 1
    if limit < 1:
        raise ParameterError(
            f"clip has {n_frames} STFT frames, too few for repet_sim: allowed >= 5 frames "
            f"(>= {4 * config.hop_length / config.sr:.3f} s at sr={config.sr}, "
            f"hop_length={config.hop_length})"
        )
    return max(1, min(target, limit))


def _cosine_distances(data: np.ndarray) -> np.ndarray:
    """Cosine distances between the rows of *data* [shape=(t, d)] -> (t, t), with
    scikit-learn's arithmetic (``NearestNeighbors(metric="cosine")`` on dense input):
    rows over their L2 norms (near-zero norms count as 1), one matrix product of two
    separate copies (as sklearn makes them), ``1 - S`` clipped to ``[0, 2]``."""
    norms = np.sqrt(np.einsum("ij,ij->i", data, data))
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1.0
    left = data / norms[:, None]
    right = data / norms[:, None]
    S = left @ right.T
    S *= -1
    S += 1
    return np.clip(S, 0.0, 2.0)


def repet_neighbours(S: np.ndarray, *, width: int) -> List[np.ndarray]:
    """The frames whose median models each frame of *S* [shape=(n_bins, t)]: per frame, the
    indices librosa's ``recurrence_matrix(S, metric="cosine", width=width)`` links it to.

    librosa asks scikit-learn for the ``k + 2 * width`` nearest frames by cosine distance
    (``k = 2 * ceil(sqrt(t - 2 * width + 1))``), drops those closer than *width* frames in
    time, and keeps ``k`` of the rest -- in the order ``np.argsort`` gives to equal
    connectivity weights, not by distance.  This does the same with the same arithmetic
    (scikit-learn's brute-force search, written out: its import alone costs half a
    second and ~100 MB), vectorised instead of element by element on a sparse matrix --
    the same sets (``tests/test_baselines.py`` checks them against scikit-learn and
    librosa), in milliseconds rather than half a second per 30 s.
    """
    t = S.shape[-1]
    k = int(2 * np.ceil(np.sqrt(t - 2 * width + 1)))
    data = np.ascontiguousarray(np.swapaxes(S, -1, 0).reshape((t, -1), order="F"))
    dist = _cosine_distances(data)
    # sklearn's kneighbors(X=None): the n + 1 nearest by argpartition then argsort, minus the
    # query itself (or, among exact duplicates, the first of them)
    n = min(t - 1, k + 2 * width) + 1
    rows = np.arange(t)[:, None]
    nearest = np.argpartition(dist, n - 1, axis=1)[:, :n]
    nearest = nearest[rows, np.argsort(dist[rows, nearest])]
    others = nearest != rows
    others[:, 0][np.all(others, axis=1)] = False
    candidates = np.sort(nearest[others].reshape(t, n - 1), axis=1)
    orders: dict = {}
    out = []
    for i, links in enumerate(candidates):
        links = links[np.abs(links - i) >= width]
        m = len(links)
        if m not in orders:  # librosa: argsort of m equal weights [shape=(1, m)]
            orders[m] = np.argsort(np.ones((1, m)))[0]
        out.append(np.sort(links[orders[m]][:k]))
    return out


def _neighbour_median(S: np.ndarray, neighbours: List[np.ndarray]) -> np.ndarray:
    """``out[:, i] = median(S[:, neighbours[i]], axis=1)`` (``S[:, i]`` where there are none):
    librosa's ``nn_filter(aggregate=np.median)``, batched over frames with as many neighbours.

    Each bin's neighbour values are gathered contiguously and sorted (numpy's vectorised
    sort of short rows), and the median read off the middle -- ``np.median``'s numbers (the
    middle value, or the mean of the two middle values), in a quarter of a partial
    selection's time on a song.
    """
    bins_by_frame = np.ascontiguousarray(S)  # [n_bins, t]: a frame's neighbours gather contiguously
    out = np.empty(S.shape[::-1], dtype=S.dtype)  # [t, n_bins]
    by_count: dict = {}
    for i, nb in enumerate(neighbours):
        by_count.setdefault(len(nb), []).append(i)
    for count, rows in by_count.items():
        rows_a = np.asarray(rows)
        if count == 0:
            out[rows_a] = bins_by_frame[:, rows_a].T
            continue
        idx = np.stack([neighbours[i] for i in rows])
        half = count // 2
        for start in range(0, len(rows_a), REPET_BATCH):
            part = slice(start, start + REPET_BATCH)
            values = bins_by_frame[:, idx[part]]  # [n_bins, frames, count]
            values.sort(axis=-1)
            if count % 2:
                median = values[..., half]
            else:
                median = values[..., half - 1] + values[..., half]
                median /= 2
            out[rows_a[part]] = median.T
    return out.T


def _repet_sim_chunk(S: np.ndarray, config: Config) -> np.ndarray:
    """librosa gallery "Vocal separation" (REPET-SIM, Rafii & Pardo 2012) foreground mask of *S*:
    ``nn_filter(S, aggregate=np.median, metric="cosine", width=...)``, then the soft mask."""
    width = repet_width(S.shape[-1], config=config)
    S_filter = _neighbour_median(S, repet_neighbours(S, width=width))
    S_filter = np.minimum(S, S_filter)
    return softmask(S - S_filter, REPET_MARGIN_V * S_filter, power=2)


def repet_sim_mask(X: np.ndarray, config: Config) -> np.ndarray:
    """REPET-SIM's foreground (vocal) mask [shape=X.shape] of a mixture STFT.

    REPET-SIM compares every frame with every other one, which grows with the square of
    the input's length (a whole song: minutes).  Up to :data:`REPET_CHUNK_S` the search
    covers the whole input -- librosa's recipe exactly.  A longer input is cut into
    chunks of that length overlapping by :data:`REPET_OVERLAP_S`; each frame's nearest
    neighbours are searched within its chunk, and the chunks' masks are cross-faded
    (linear ramps over the overlaps).  A repeating accompaniment repeats within half a
    minute, so the similar frames REPET-SIM needs are still there.
    """
    S = np.abs(X)
    n = S.shape[-1]
    frames_per_s = config.sr / config.hop_length
    chunk = int(round(REPET_CHUNK_S * frames_per_s))
    if n <= chunk:
        return _repet_sim_chunk(S, config)
    overlap = int(round(REPET_OVERLAP_S * frames_per_s))
    step = chunk - overlap
    mask = np.zeros(S.shape, dtype=np.float64)
    weight = np.zeros(n)
    starts = list(range(0, n - chunk, step)) + [n - chunk]
    ramp = np.linspace(0.0, 1.0, overlap + 2)[1:-1]
    for i, start in enumerate(starts):
        w = np.ones(chunk)
        if i > 0:
            w[:overlap] = ramp
        if i < len(starts) - 1:
            w[-overlap:] = ramp[::-1]
        mask[..., start : start + chunk] += _repet_sim_chunk(S[..., start : start + chunk], config) * w
        weight[start : start + chunk] += w
    return (mask / weight).astype(S.dtype)


def hpss_mask(X: np.ndarray, config: Config, *, part: str = "vocal") -> np.ndarray:
    """Two-stage median-filter HPSS vocal mask (after FitzGerald & Gainza, 2010).

    FitzGerald & Gainza separate the voice in two passes whose kernels see it
    differently; here both passes use the method's STFT and differ in kernel sizes
    (converted from seconds/Hz to odd frame/bin counts by ``_hpss_kernels``):

    * Stage 1, long time kernel (:data:`HPSS_STAGE1`, ~1 s = 21 frames) and narrow
      frequency kernel (~30 Hz = 3 bins, about a Hann main lobe): only what is stable
      for about a second in a frequency bin -- sustained chords, pads, bass -- is
      "harmonic"; the voice (notes of a few hundred ms, vibrato, glides) and drums go
      to the percussive part.  With a wider frequency kernel the median across a
      voice partial drops and the partial leaks into the harmonic part (on the test
      signal 9 bins cost ~10 dB SI-SDR).
    * Stage 2 on the stage-1 percussive magnitude, short time kernel
      (:data:`HPSS_STAGE2`, ~0.2 s = 5 frames, a short sung note) and wide frequency
      kernel (~200 Hz = 19 bins): voice partials are stable over a note and narrow in
      frequency -> harmonic; drum hits are short and broadband -> percussive.

    The vocal mask is ``P1 * H2``, the product of librosa's soft masks (``mask=True``,
    power 2, margin 1); ``part="percussive"`` gives ``P1 * P2``, what is short in time in both
    stages -- the drums (the blind drums baseline).

    A long input is processed :data:`HPSS_CHUNK` frames at a time, each chunk with the
    neighbouring frames both stages' time kernels reach: the same numbers, a bounded
    working set.
    """
    (h1, p1), (h2, p2) = _hpss_kernels(config)
    n = X.shape[-1]
    halo = h1 // 2 + h2 // 2  # stage 2 at frame f reads stage 1 at f +- h2//2, which reads S at +- h1//2
    out = None
    for start in range(0, n, HPSS_CHUNK):
        stop = min(n, start + HPSS_CHUNK)
        lo, hi = max(0, start - halo), min(n, stop + halo)
        S = np.abs(X[:, lo:hi])
        _, mask_p1 = hpss_masks(S, h1, p1)
        mask_h2, mask_p2 = hpss_masks(S * mask_p1, h2, p2)
        mask = (mask_p1 * (mask_h2 if part == "vocal" else mask_p2))[:, start - lo : stop - lo]
        if out is None:
            out = np.empty(X.shape[:-1] + (n,), dtype=mask.dtype)
        out[:, start:stop] = mask
    assert out is not None
    return out


def _median(S: np.ndarray, size: int, axis: int) -> np.ndarray:
    """``scipy.ndimage.median_filter`` along one axis with ``mode="reflect"``, bit for bit
    (a median picks one of the values), in a running-median's time (bottleneck)."""
    import bottleneck

    half = size // 2
    pad = [(0, 0)] * S.ndim
    pad[axis] = (half, size - 1 - half)
    out = bottleneck.move_median(np.pad(S, pad, mode="symmetric"), size, axis=axis)
    return np.take(out, np.arange(size - 1, size - 1 + S.shape[axis]), axis=axis)


def hpss_masks(S: np.ndarray, win_harm: int, win_perc: int) -> tuple:
    """``librosa.decompose.hpss(S, kernel_size=(win_harm, win_perc), mask=True)`` (power 2,
    margin 1): the harmonic and percussive soft masks, with the same numbers."""
    harm = np.empty_like(S)
    harm[:] = _median(S, win_harm, axis=-1)
    perc = np.empty_like(S)
    perc[:] = _median(S, win_perc, axis=-2)
    mask_harm = softmask(harm, perc, power=2, split_zeros=True)
    mask_perc = softmask(perc, harm, power=2, split_zeros=True)
    return mask_harm, mask_perc


def repet_sim(mixture: Mixture) -> np.ndarray:
    """REPET-SIM (Rafii & Pardo 2012), librosa's vocal-separation recipe: the vocal estimate."""
    return masked(mixture, repet_sim_mask(mixture.stft, mixture.config))


def hpss(mixture: Mixture) -> np.ndarray:
    """Two-stage median-filter HPSS (after FitzGerald & Gainza 2010): the vocal estimate."""
    return masked(mixture, hpss_mask(mixture.stft, mixture.config))


def hpss_percussive(mixture: Mixture) -> np.ndarray:
    """The same two-stage HPSS's percussive part ``P1 * P2``: the drums estimate."""
    return masked(mixture, hpss_mask(mixture.stft, mixture.config, part="percussive"))
