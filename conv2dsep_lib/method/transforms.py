"""Spectral transforms: the one STFT/ISTFT of the package, and dB conversion.

The STFT is librosa's with a Hann window and ``center=True`` (the seed's), so a
4.7 s clip at 22050 Hz with ``hop_length=1040`` has exactly 100 windows.  The method,
every separator and every figure use these functions, so differences between estimates
come from the magnitudes alone.

They are librosa's ``stft`` / ``istft`` step for step -- scipy's periodic Hann window,
zero padding by ``n_fft // 2``, ``scipy.fft``, overlap-add in frame order, division by the
window's sum of squares where it is not tiny -- and give the same numbers to the last bit
(``tests/test_transforms.py`` compares them).  They are written out here because
librosa's spectral module loads numba's LLVM JIT on first use: about a second and 200 MB
in every process (each sweep worker included) for two dozen lines of numpy.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

import numpy as np
import scipy.fft

from ..core.config import Config

__all__ = [
    "hann",
    "stft",
    "istft",
    "istft_with_phase",
    "istft_magnitude_phase",
    "unit_phase",
    "to_db",
    "from_db",
]

#: Frames transformed at once (bounds the temporaries of a whole song).
STFT_BLOCK = 128


@lru_cache(maxsize=8)
def hann(n: int) -> np.ndarray:
    """The periodic Hann window of *n* samples [shape=(n,)], float64, read-only:
    ``scipy.signal.get_window("hann", n, fftbins=True)``, computed as scipy does."""
    if n <= 1:
        w = np.ones(n)
    else:
        fac = np.linspace(-np.pi, np.pi, n + 1, dtype=np.float64)
        w = np.zeros(n + 1, dtype=np.float64)
        for k, a in enumerate((0.5, 0.5)):
            w += a * np.cos(k * fac)
        w = w[:-1]
    w.setflags(write=False)
    return w


def stft(y: np.ndarray, *, config: Config) -> np.ndarray:
    """Complex STFT of a mono signal (``librosa.stft(y, n_fft, hop_length, center=True)``).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Converted to float32 (as the seed's ``librosa.load`` gives it).
    config : Config

    Returns
    -------
    X : np.ndarray [shape=(1 + n_fft // 2, 1 + n // hop_length)], complex64, Fortran order
    """
    n_fft, hop = config.n_fft, config.hop_length
    y = np.asarray(y, dtype=np.float32)
    padded = np.pad(y, (n_fft // 2, n_fft // 2))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]  # (n_frames, n_fft), a view
    window = hann(n_fft)[:, None]
    X = np.zeros((1 + n_fft // 2, len(frames)), dtype=np.complex64, order="F")
    for start in range(0, len(frames), STFT_BLOCK):
        stop = min(start + STFT_BLOCK, len(frames))
        X[:, start:stop] = scipy.fft.rfft(window * frames[start:stop].T, axis=-2)
    return X


#: Samples of the inverse STFT's window normalisation computed at once.
WSS_SEGMENT = 1 << 16


def _wss_direct(lo: int, hi: int, n_frames: int, n_fft: int, hop_length: int, dtype: type) -> np.ndarray:
    """``librosa.filters.window_sumsquare(window="hann", ...)[lo:hi]``: the squared windows of the
    frames that reach ``lo:hi`` added in frame order -- librosa's additions, so the same bits."""
    x: np.ndarray = np.zeros(hi - lo, dtype=dtype)
    win_sq = hann(n_fft) ** 2
    first = max(0, -(-(lo - n_fft + 1) // hop_length))
    for i in range(first, min(n_frames - 1, (hi - 1) // hop_length) + 1):
        sample = i * hop_length
        a, b = max(lo, sample), min(hi, sample + n_fft)
        x[a - lo : b - lo] += win_sq[a - sample : b - sample]
    return x


@lru_cache(maxsize=8)
def _wss_inner(lo: int, hi: int, n_frames: int, n_fft: int, hop_length: int, dtype: type) -> np.ndarray:
    x = _wss_direct(lo, hi, n_frames, n_fft, hop_length, dtype)
    x.setflags(write=False)
    return x


def _window_sumsquare(
    lo: int, hi: int, *, n_frames: int, n_fft: int, hop_length: int, dtype: type
) -> np.ndarray:
    """``librosa.filters.window_sumsquare(window="hann", n_frames=n_frames, hop_length=hop_length,
    n_fft=n_fft, dtype=dtype)[lo:hi]``, bit for bit, without the whole-length array (a song's
    would be 30 MB).

    Every sample from ``n_fft - 1`` on and before ``n_frames * hop_length`` is reached by every
    frame that can reach it, so there the sum depends only on the sample's position within a
    hop (the same window values, added in the same order): such a part is computed once at its
    first position within a hop and reused for the rest of the signal.
    """
    hi = min(hi, n_fft + hop_length * (n_frames - 1))
    inner_lo, inner_hi = n_fft - 1, n_frames * hop_length
    if inner_lo <= lo and hi <= inner_hi:
        first = inner_lo + (lo - inner_lo) % hop_length
        if first + (hi - lo) <= inner_hi:
            return _wss_inner(first, first + (hi - lo), n_frames, n_fft, hop_length, dtype)
    return _wss_direct(lo, hi, n_frames, n_fft, hop_length, dtype)


def _overlap_add(X: np.ndarray, *, config: Config, length: int, product=None) -> np.ndarray:
    """librosa's ``istft(..., center=True, length=length)`` of *X*, or of ``product(start, stop)``
    (the STFT's frames ``start:stop``) when given; float32 for complex64, else float64."""
    n_fft, hop = config.n_fft, config.hop_length
    dtype = np.float32 if X.dtype == np.complex64 else np.float64
    window = hann(n_fft)[:, None]
    n_frames = min(X.shape[-1], int(np.ceil((length + 2 * (n_fft // 2)) / hop)))
    padded = np.zeros(n_fft + hop * (n_frames - 1), dtype=dtype)
    for start in range(0, n_frames, STFT_BLOCK):
        stop = min(start + STFT_BLOCK, n_frames)
        block = X[:, start:stop] if product is None else product(start, stop)
        frames = window * scipy.fft.irfft(block, n=n_fft, axis=-2)
        for i, f in enumerate(range(start, stop)):
            padded[f * hop : f * hop + n_fft] += frames[:, i]
    y = padded[n_fft // 2 : n_fft // 2 + length]
    if len(y) < length:
        y = np.concatenate([y, np.zeros(length - len(y), dtype=dtype)])
    # divided by the window normalisation where it is above tiny (past the frames it is zero)
    tiny = np.finfo(dtype).tiny
    end = min(length, len(padded) - n_fft // 2)
    for a in range(0, end, WSS_SEGMENT):
        b = min(a + WSS_SEGMENT, end)
        wss = _window_sumsquare(
            n_fft // 2 + a, n_fft // 2 + b, n_frames=n_frames, n_fft=n_fft, hop_length=hop, dtype=dtype
        )
        part = y[a:b]
        np.divide(part, wss, out=part, where=wss > tiny)
    return y


def istft(X: np.ndarray, *, config: Config, length: int) -> np.ndarray:
    """Inverse STFT cut (or zero-padded) to *length* samples (``librosa.istft(X, ...,
    center=True, length=length)``).

    Parameters
    ----------
    X : np.ndarray [shape=(n_bins, n_frames)], complex
    config : Config
    length : int

    Returns
    -------
    y : np.ndarray [shape=(length,)], float32
    """
    return np.asarray(_overlap_add(X, config=config, length=length), dtype=np.float32)


def istft_with_phase(
    magnitude: np.ndarray, phase_source: np.ndarray, *, config: Config, length: int
) -> np.ndarray:
    """Resynthesise a magnitude with the phase of another STFT.

    ``istft(magnitude * exp(i * angle(phase_source)))`` cut to *length* samples -- the
    seed's reconstruction of the extracted vocal with the mixture's phase.

    Parameters
    ----------
    magnitude : np.ndarray [shape=(n_bins, n_frames)]
    phase_source : np.ndarray [shape=(n_bins, n_frames)], complex
    config : Config
    length : int

    Returns
    -------
    y : np.ndarray [shape=(length,)], float32
    """
    return istft(magnitude * unit_phase(phase_source), config=config, length=length)


def istft_magnitude_phase(
    magnitude: np.ndarray, phase: np.ndarray, *, config: Config, length: int
) -> np.ndarray:
    """``istft(magnitude * phase)`` without the full-size complex product: the same numbers.

    The product is formed :data:`STFT_BLOCK` frames at a time -- a whole song's complex128
    product alone would be ~60 MB per estimate.

    Parameters
    ----------
    magnitude : np.ndarray [shape=(n_bins, n_frames)], real
    phase : np.ndarray [shape=(n_bins, n_frames)], complex
        E.g. :func:`unit_phase` of the mixture's STFT.
    config : Config
    length : int

    Returns
    -------
    y : np.ndarray [shape=(length,)], float32
    """
    dtype = np.result_type(magnitude.dtype, phase.dtype)
    shape = np.broadcast_shapes(magnitude.shape, phase.shape)
    y = _overlap_add(
        _Shape(shape, dtype),  # type: ignore[arg-type]
        config=config,
        length=length,
        product=lambda a, b: magnitude[:, a:b] * phase[:, a:b],
    )
    return np.asarray(y, dtype=np.float32)


class _Shape:
    """Stands for an STFT of this shape and dtype (what :func:`_overlap_add` reads of it)."""

    def __init__(self, shape: tuple, dtype: np.dtype):
        self.shape, self.dtype = shape, dtype


def unit_phase(X: np.ndarray) -> np.ndarray:
    """``exp(i * angle(X))`` [shape=X.shape]: the phase factor :func:`istft_with_phase` applies
    (keep it to resynthesise many magnitudes with one STFT's phase)."""
    return np.exp(1j * np.angle(X))


def to_db(x: np.ndarray, *, amin: float, top_db: Optional[float], axis=None) -> np.ndarray:
    """``librosa.amplitude_to_db(x, ref=1.0, amin=amin, top_db=top_db)``, vectorised.

    With ``axis=None`` the top-dB floor is taken from the global maximum, exactly as
    librosa does for the array it is given.  With ``axis=-2`` every column (window)
    gets its own floor -- what librosa gives when called on one window at a time, as
    the seed does for fingerprints.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n, n_frames)]
        Non-negative amplitudes.
    amin : float > 0
    top_db : float > 0 or None
    axis : None or int
        Axis (or axes) over which the maximum for the floor is taken.

    Returns
    -------
    x_db : np.ndarray, same shape, float64
    """
    x = np.asarray(x)
    db = np.empty(x.shape, dtype=np.float64)  # one buffer, every step in place: same numbers
    np.abs(x, out=db)
    np.maximum(db, amin, out=db)
    np.log10(db, out=db)
    db *= 20.0
    if top_db is not None:
        np.maximum(db, np.max(db, axis=axis, keepdims=True) - top_db, out=db)
    return db


def from_db(x_db: np.ndarray, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    """``librosa.db_to_amplitude(x_db, ref=1.0)``: ``10 ** (x_db / 20)``.

    ``out`` (float64, ``x_db``'s shape) receives the result -- it may be ``x_db`` itself.
    """
    x_db = np.asarray(x_db, dtype=np.float64)
    out = np.multiply(x_db, np.log(10.0) / 20.0, out=out)
    return np.exp(out, out=out)
