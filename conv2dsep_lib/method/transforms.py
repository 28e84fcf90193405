"""Spectral transforms: the one STFT/ISTFT of the package, and dB conversion.

The STFT is librosa's with a Hann window and ``center=True`` (the seed's), so a
4.7 s clip at 22050 Hz with ``hop_length=1040`` has exactly 100 windows.  The method,
every separator and every figure use these two functions, so differences between
estimates come from the magnitudes alone.  (librosa is imported where it is used: it
takes about a second to import.)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

import numpy as np

from ..core.config import Config

__all__ = [
    "stft",
    "istft",
    "istft_with_phase",
    "istft_magnitude_phase",
    "unit_phase",
    "to_db",
    "from_db",
]


def stft(y: np.ndarray, *, config: Config) -> np.ndarray:
    """Complex STFT of a mono signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    config : Config

    Returns
    -------
    X : np.ndarray [shape=(n_bins, n_frames)], complex64
    """
    import librosa

    return librosa.stft(
        np.asarray(y, dtype=np.float32), n_fft=config.n_fft, hop_length=config.hop_length, center=True
    )


def istft(X: np.ndarray, *, config: Config, length: int) -> np.ndarray:
    """Inverse STFT cut (or zero-padded) to *length* samples.

    Parameters
    ----------
    X : np.ndarray [shape=(n_bins, n_frames)], complex
    config : Config
    length : int

    Returns
    -------
    y : np.ndarray [shape=(length,)], float32
    """
    import librosa

    y = librosa.istft(X, n_fft=config.n_fft, hop_length=config.hop_length, center=True, length=length)
    return np.asarray(y, dtype=np.float32)


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


#: Frames resynthesised at once by :func:`istft_magnitude_phase` (bounds its temporaries).
ISTFT_BLOCK = 128


@lru_cache(maxsize=4)
def _window_sumsquare(n_frames: int, n_fft: int, hop_length: int) -> np.ndarray:
    import librosa

    wss = librosa.filters.window_sumsquare(
        window="hann", n_frames=n_frames, win_length=n_fft, n_fft=n_fft, hop_length=hop_length, dtype=np.float64
    )
    wss.setflags(write=False)
    return wss


def istft_magnitude_phase(
    magnitude: np.ndarray, phase: np.ndarray, *, config: Config, length: int
) -> np.ndarray:
    """``istft(magnitude * phase)`` without the full-size complex product: the same numbers.

    librosa's inverse STFT, step by step (its Hann window, its FFT library, overlap-add in
    frame order, division by the window's sum of squares where it is not tiny), with the
    product formed :data:`ISTFT_BLOCK` frames at a time -- a whole song's complex128
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
    import librosa

    n_fft, hop = config.n_fft, config.hop_length
    window = librosa.filters.get_window("hann", n_fft, fftbins=True)[:, None]
    fft = librosa.get_fftlib()
    n_frames = min(magnitude.shape[-1], int(np.ceil((length + 2 * (n_fft // 2)) / hop)))
    padded = np.zeros(n_fft + hop * (n_frames - 1))
    for start in range(0, n_frames, ISTFT_BLOCK):
        stop = min(start + ISTFT_BLOCK, n_frames)
        frames = window * fft.irfft(magnitude[:, start:stop] * phase[:, start:stop], n=n_fft, axis=-2)
        for i, f in enumerate(range(start, stop)):
            padded[f * hop : f * hop + n_fft] += frames[:, i]
    y = padded[n_fft // 2 : n_fft // 2 + length]
    if len(y) < length:
        y = np.concatenate([y, np.zeros(length - len(y))])
    wss = librosa.util.fix_length(_window_sumsquare(n_frames, n_fft, hop)[n_fft // 2 :], size=length)
    nonzero = wss > librosa.util.tiny(wss)
    y[nonzero] /= wss[nonzero]
    return np.asarray(y, dtype=np.float32)


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
