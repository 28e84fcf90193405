"""Alignment maths of a mixture and its vocal: lag, shift, the loudest-vocal excerpt, levels.

Pure functions on arrays (no files); :mod:`.prepare` uses them.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import ParameterError

__all__ = [
    "LAG_SEARCH_SECONDS",
    "AUTO_OFFSET_STEP",
    "measure_lag",
    "shift_signal",
    "auto_offset",
    "db",
    "levels",
]

#: The lag is searched within +- this many seconds.
LAG_SEARCH_SECONDS = 0.5
#: Grid of ``offset="auto"`` in seconds.
AUTO_OFFSET_STEP = 0.01


def _mono(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return y if y.ndim == 1 else y.mean(axis=0)


def measure_lag(
    mixture: np.ndarray, vocal: np.ndarray, *, sr: int, max_lag: float = LAG_SEARCH_SECONDS
) -> int:
    """Lag of the vocal behind the mixture, in samples, by FFT cross-correlation.

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,) or (channels, n)]
        Same rate; stereo is downmixed.  Lengths may differ.
    sr : int > 0
        Their sample rate (sets the search range).
    max_lag : float > 0
        Search range in seconds (``+-max_lag``).

    Returns
    -------
    lag : int
        Positive when the vocal is late: ``vocal[n + lag]`` lines up with
        ``mixture[n]``.  Shift it with :func:`shift_signal`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v = rng.standard_normal(22050)
    >>> late = np.concatenate([np.zeros(441), v[:-441]])
    >>> measure_lag(v + 0.5 * rng.standard_normal(22050), late, sr=22050)
    441
    """
    m, v = _mono(mixture), _mono(vocal)
    if m.size == 0 or v.size == 0:
        raise ParameterError("measure_lag needs non-empty signals")
    from scipy import signal  # half a second to import: only where a lag is measured

    z = signal.correlate(v, m, mode="full", method="fft")
    lags = signal.correlation_lags(v.size, m.size, mode="full")
    limit = max(1, int(round(max_lag * sr)))
    keep = np.abs(lags) <= limit
    return int(lags[keep][int(np.argmax(z[keep]))])


def shift_signal(y: np.ndarray, lag: int) -> np.ndarray:
    """Move a signal *lag* samples earlier (later when negative), zero-filling.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)]
    lag : int
        As returned by :func:`measure_lag`.

    Returns
    -------
    np.ndarray [shape=(..., n)]
    """
    y = np.asarray(y)
    out = np.zeros_like(y)
    lag = int(lag)
    n = y.shape[-1]
    if abs(lag) >= n:
        return out
    if lag > 0:
        out[..., : n - lag] = y[..., lag:]
    elif lag < 0:
        out[..., -lag:] = y[..., : n + lag]
    else:
        out[...] = y
    return out


def auto_offset(vocal: np.ndarray, *, sr: int, duration: float, step: float = AUTO_OFFSET_STEP) -> float:
    """Start (s) of the *duration*-long window with the most vocal energy.

    Parameters
    ----------
    vocal : np.ndarray [shape=(n,) or (channels, n)]
    sr : int
    duration : float > 0
        Window length in seconds.
    step : float > 0
        Grid of candidate starts in seconds (10 ms); ties go to the earliest.

    Returns
    -------
    offset : float
        A multiple of *step*, rounded to 6 decimals.

    Raises
    ------
    ParameterError
        When the signal is shorter than *duration*.
    """
    e = _mono(vocal) ** 2
    n_win = int(round(duration * sr))
    if e.size < n_win:
        raise ParameterError(
            f"signal is too short for offset='auto': {e.size / sr:.3f} s, but duration {duration} s is needed"
        )
    c = np.concatenate([[0.0], np.cumsum(e)])
    k_max = int(np.floor((e.size - n_win) / (step * sr) + 1e-9))
    ks = np.arange(k_max + 1)
    starts = np.minimum(np.round(ks * step * sr).astype(np.int64), e.size - n_win)
    energy = c[starts + n_win] - c[starts]
    return round(float(ks[int(np.argmax(energy))] * step), 6)


def db(x: float) -> float:
    """``10 log10(x)`` (x an energy), floored at -200 dB, rounded to 1/1000 dB."""
    return round(float(10.0 * np.log10(max(x, 1e-20))), 3)


def levels(y: np.ndarray) -> dict:
    """RMS and peak of a signal in dBFS (rounded to 1/1000 dB)."""
    y = np.asarray(y, dtype=np.float64)
    return {"rms_dbfs": db(float(np.mean(y**2))), "peak_dbfs": db(float(np.max(np.abs(y))) ** 2)}
