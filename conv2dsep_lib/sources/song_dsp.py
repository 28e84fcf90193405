"""Signal helpers of the demo-song synthesiser: filters, noise, panning, reverb.

Every random draw takes the caller's :class:`numpy.random.Generator` (no global state).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Tuple

import numpy as np


def _signal():
    """scipy.signal, imported on first use (half a second: the demo synthesiser only)."""
    from scipy import signal

    return signal


__all__ = [
    "midi_to_hz",
    "rms",
    "smoothstep",
    "smooth",
    "smooth_noise",
    "butter",
    "band_noise",
    "lowpass",
    "highpass",
    "pan",
    "place",
    "reverb",
]


def midi_to_hz(midi):
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp 0 -> 1 for x in [0, 1] (clipped outside)."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Smooth along the last axis with a normalised Hann kernel of *width* samples."""
    if width < 3:
        return x
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    pad = width // 2
    xp = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, width - 1 - pad)], mode="edge")
    return np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), -1, xp)


def smooth_noise(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """Unit-RMS low-frequency noise of length *n* (Hann-smoothed white noise)."""
    x = smooth(rng.standard_normal(n + width), width)[:n]
    return x / max(rms(x), 1e-12)


@lru_cache(maxsize=64)
def butter(order: int, edges: Tuple[float, ...], btype: str, sr: int) -> np.ndarray:
    """Butterworth second-order sections; edges in Hz, clamped below Nyquist."""
    wn = [min(e, 0.45 * sr) / (0.5 * sr) for e in edges]
    return _signal().butter(order, wn if len(wn) > 1 else wn[0], btype=btype, output="sos")


def band_noise(rng: np.random.Generator, n: int, lo: float, hi: float, sr: int) -> np.ndarray:
    """Unit-RMS white noise band-passed to [lo, hi] Hz (clamped below Nyquist)."""
    hi = min(hi, 0.45 * sr)
    lo = min(lo, 0.5 * hi)
    x = _signal().sosfilt(butter(2, (lo, hi), "bandpass", sr), rng.standard_normal(n + 256))
    x = x[256:]
    return x / max(rms(x), 1e-12)


def lowpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    return _signal().sosfilt(butter(order, (cutoff,), "lowpass", sr), x, axis=-1)


def highpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    return _signal().sosfilt(butter(order, (cutoff,), "highpass", sr), x, axis=-1)


def pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan: -1 left, 0 centre, +1 right.  Returns (2, n)."""
    theta = (position + 1.0) * np.pi / 4.0
    return np.stack([math.cos(theta) * mono, math.sin(theta) * mono]) * math.sqrt(2.0)


def place(track: np.ndarray, sound: np.ndarray, t: float, sr: int, gain: float = 1.0) -> None:
    """Add *sound* into *track* (last axis) starting at time *t*, cut at the end."""
    start = int(round(t * sr))
    n = track.shape[-1]
    if start >= n:
        return
    if start < 0:
        sound, start = sound[..., -start:], 0
    m = min(sound.shape[-1], n - start)
    track[..., start : start + m] += gain * sound[..., :m]


def reverb(x: np.ndarray, rng: np.random.Generator, sr: int, *, rt60: float, wet: float) -> np.ndarray:
    """Stereo reverb: mono or (2, n) in, (2, n) out; decorrelated noise tails."""
    x = np.atleast_2d(x)
    n_ir = int(rt60 * sr)
    t = np.arange(n_ir) / sr
    out = np.empty((2, x.shape[-1]))
    for ch in range(2):
        ir = rng.standard_normal(n_ir) * np.exp(-6.91 * t / rt60)
        ir = lowpass(ir, 5000.0, sr, order=1)
        ir[: int(0.015 * sr)] = 0.0  # pre-delay
        ir *= wet / math.sqrt(np.sum(ir**2))
        src = x[ch % x.shape[0]]
        out[ch] = src + _signal().oaconvolve(src, ir)[: x.shape[-1]]
    return out
