"""Spectral transforms: the one STFT/ISTFT of the package, and dB conversion.

The STFT is librosa's with a Hann window and ``center=True`` (the seed's), so a
4.7 s clip at 22050 Hz with ``hop_length=1040`` has exactly 100 windows.  The method,
every separator and every figure use these two functions, so differences between
estimates come from the magnitudes alone.  (librosa is imported where it is used: it
takes about a second to import.)
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..core.config import Config

__all__ = ["stft", "istft", "istft_with_phase", "to_db", "from_db"]


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
    phase = np.exp(1j * np.angle(phase_source))
    return istft(magnitude * phase, config=config, length=length)


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
    db = 20.0 * np.log10(np.maximum(amin, np.abs(x), dtype=np.float64))
    if top_db is not None:
        db = np.maximum(db, np.max(db, axis=axis, keepdims=True) - top_db)
    return db


def from_db(x_db: np.ndarray) -> np.ndarray:
    """``librosa.db_to_amplitude(x_db, ref=1.0)``: ``10 ** (x_db / 20)``."""
    return np.exp(np.asarray(x_db, dtype=np.float64) * (np.log(10.0) / 20.0))
