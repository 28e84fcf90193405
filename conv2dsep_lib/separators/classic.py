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
    "HPSS_STAGE1",
    "HPSS_STAGE2",
    "repet_width",
    "repet_neighbours",
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
REPET_BATCH = 64
#: HPSS stage 1 (sustained instruments vs. the rest): time kernel, frequency kernel.
HPSS_STAGE1 = (1.0, 30.0)  # (seconds, Hz): 21 frames x 3 bins at the default config
#: HPSS stage 2 (voice vs. drums, on stage 1's percussive part).
HPSS_STAGE2 = (0.2, 200.0)  # (seconds, Hz): 5 frames x 19 bins at the default config


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
    import librosa

    target = int(librosa.time_to_frames(REPET_WIDTH_S, sr=config.sr, hop_length=config.hop_length))
    limit = (n_frames - 1) // 2 - 1
    if limit < 1:
        raise ParameterError(
            f"clip has {n_frames} STFT frames, too few for repet_sim: allowed >= 5 frames "
            f"(>= {4 * config.hop_length / config.sr:.3f} s at sr={config.sr}, "
            f"hop_length={config.hop_length})"
        )
    return max(1, min(target, limit))


def repet_neighbours(S: np.ndarray, *, width: int) -> List[np.ndarray]:
    """The frames whose median models each frame of *S* [shape=(n_bins, t)]: per frame, the
    indices librosa's ``recurrence_matrix(S, metric="cosine", width=width)`` links it to.

    librosa asks scikit-learn for the ``k + 2 * width`` nearest frames by cosine distance
    (``k = 2 * ceil(sqrt(t - 2 * width + 1))``), drops those closer than *width* frames in
    time, and keeps ``k`` of the rest -- in the order ``np.argsort`` gives to equal
    connectivity weights, not by distance.  This does the same, with the same calls, but
    vectorised instead of element by element on a sparse matrix (the same sets, in
    milliseconds rather than half a second per 30 s).
    """
    from sklearn.neighbors import NearestNeighbors

    t = S.shape[-1]
    k = int(2 * np.ceil(np.sqrt(t - 2 * width + 1)))
    try:
        knn = NearestNeighbors(n_neighbors=min(t - 1, k + 2 * width), metric="cosine", algorithm="auto")
    except ValueError:  # pragma: no cover - librosa's fallback
        knn = NearestNeighbors(n_neighbors=min(t - 1, k + 2 * width), metric="cosine", algorithm="brute")
    knn.fit(S.T)
    candidates = np.sort(knn.kneighbors(return_distance=False), axis=1)
    orders: dict = {}
    out = []
    for i, links in enumerate(candidates):
        links = links[np.abs(links - i) >= width]
        n = len(links)
        if n not in orders:  # librosa: argsort of n equal weights [shape=(1, n)]
            orders[n] = np.argsort(np.ones((1, n)))[0]
        out.append(np.sort(links[orders[n]][:k]))
    return out


def _neighbour_median(S: np.ndarray, neighbours: List[np.ndarray]) -> np.ndarray:
    """``out[:, i] = median(S[:, neighbours[i]], axis=1)`` (``S[:, i]`` where there are none):
    librosa's ``nn_filter(aggregate=np.median)``, batched over frames with as many neighbours."""
    import bottleneck

    frames = np.ascontiguousarray(S.T)
    out = np.empty_like(frames)
    by_count: dict = {}
    for i, nb in enumerate(neighbours):
        by_count.setdefault(len(nb), []).append(i)
    for count, rows in by_count.items():
        rows_a = np.asarray(rows)
        if count == 0:
            out[rows_a] = frames[rows_a]
            continue
        idx = np.stack([neighbours[i] for i in rows])
        for start in range(0, len(rows_a), REPET_BATCH):
            part = slice(start, start + REPET_BATCH)
            out[rows_a[part]] = bottleneck.median(frames[idx[part]], axis=1)
    return out.T


def _repet_sim_chunk(S: np.ndarray, config: Config) -> np.ndarray:
    """librosa gallery "Vocal separation" (REPET-SIM, Rafii & Pardo 2012) foreground mask of *S*:
    ``nn_filter(S, aggregate=np.median, metric="cosine", width=...)``, then the soft mask."""
    import librosa

    width = repet_width(S.shape[-1], config=config)
    S_filter = _neighbour_median(S, repet_neighbours(S, width=width))
    S_filter = np.minimum(S, S_filter)
    return librosa.util.softmask(S - S_filter, REPET_MARGIN_V * S_filter, power=2)


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


def hpss_mask(X: np.ndarray, config: Config) -> np.ndarray:
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
    power 2, margin 1).
    """
    (h1, p1), (h2, p2) = _hpss_kernels(config)
    S = np.abs(X)
    _, mask_p1 = hpss_masks(S, h1, p1)
    mask_h2, _ = hpss_masks(S * mask_p1, h2, p2)
    return mask_p1 * mask_h2


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
    import librosa

    harm = np.empty_like(S)
    harm[:] = _median(S, win_harm, axis=-1)
    perc = np.empty_like(S)
    perc[:] = _median(S, win_perc, axis=-2)
    mask_harm = librosa.util.softmask(harm, perc, power=2, split_zeros=True)
    mask_perc = librosa.util.softmask(perc, harm, power=2, split_zeros=True)
    return mask_harm, mask_perc


def repet_sim(mixture: Mixture) -> np.ndarray:
    """REPET-SIM (Rafii & Pardo 2012), librosa's vocal-separation recipe: the vocal estimate."""
    return masked(mixture, repet_sim_mask(mixture.stft, mixture.config))


def hpss(mixture: Mixture) -> np.ndarray:
    """Two-stage median-filter HPSS (after FitzGerald & Gainza 2010): the vocal estimate."""
    return masked(mixture, hpss_mask(mixture.stft, mixture.config))
