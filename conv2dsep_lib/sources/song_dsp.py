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
    "glottal_epochs",
    "rosenberg_source",
    "pulse_train",
    "apply_envelope",
    "room_reverb",
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


# ---------------------------------------------------------------------------------------------
# Glottal sources, a time-varying STFT filter and a mono room (the training singer,
# :mod:`.singer`, and the sung-speech vocoder, :mod:`.sung_speech`; the demo song uses none).


def glottal_epochs(
    f0: np.ndarray, *, fs: float, rng: np.random.Generator, jitter: float = 0.0
) -> Tuple[np.ndarray, np.ndarray]:
    """Glottal closure instants of an F0 track, with period jitter.

    Parameters
    ----------
    f0 : np.ndarray [shape=(n,)]
        Hz per sample (> 0).
    fs : float
        Sample rate of *f0*.
    rng : numpy.random.Generator
    jitter : float
        Relative standard deviation of each period (clipped to +-3 sigma).

    Returns
    -------
    epochs : np.ndarray [shape=(K + 1,)]
        Fractional sample positions of the closures, increasing.
    periods : np.ndarray [shape=(K,)]
        ``diff(epochs)`` in samples.
    """
    phase = np.cumsum(np.asarray(f0, dtype=np.float64) / fs)
    k = np.arange(math.ceil(phase[0]), math.floor(phase[-1]) + 1, dtype=np.float64)
    if len(k) < 2:
        return np.array([0.0, float(len(f0))]), np.array([float(len(f0))])
    epochs = np.interp(k, phase, np.arange(len(phase), dtype=np.float64))
    periods = np.diff(epochs) * (1.0 + jitter * np.clip(rng.standard_normal(len(k) - 1), -3.0, 3.0))
    epochs = epochs[0] + np.concatenate([[0.0], np.cumsum(periods)])
    return epochs, periods


def _period_position(epochs: np.ndarray, periods: np.ndarray, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per sample: its period's index (-1 outside) and the position u in [0, 1) within it."""
    s = np.arange(n, dtype=np.float64)
    k = np.searchsorted(epochs, s, side="right") - 1
    inside = (k >= 0) & (k < len(periods))
    kk = np.where(inside, k, 0)
    u = np.where(inside, (s - epochs[kk]) / periods[kk], 0.0)
    return np.where(inside, k, -1), u


def rosenberg_source(
    f0: np.ndarray,
    *,
    sr: int,
    rng: np.random.Generator,
    open_quotient: float = 0.55,
    jitter: float = 0.0,
    shimmer: float = 0.0,
    breathiness: float = 0.0,
) -> np.ndarray:
    """Glottal-flow derivative (Rosenberg pulses) with jitter, shimmer and breath noise.

    Parameters
    ----------
    f0 : np.ndarray [shape=(n,)]
        Hz per sample at *sr*.
    sr : int
    rng : numpy.random.Generator
    open_quotient : float
        Open phase as a fraction of the period (60 % opening, 40 % closing).
    jitter, shimmer : float
        Relative standard deviations of period length and pulse amplitude.
    breathiness : float
        Level of breath noise (high-passed at 1 kHz) relative to the pulses' RMS,
        louder while the glottis is open.

    Returns
    -------
    np.ndarray [shape=(n,)]
        Roughly unit RMS; drawn at ``2 * sr`` and decimated.
    """
    signal = _signal()

    n = len(f0)
    f0_2 = np.interp(np.arange(2 * n) / 2.0, np.arange(n), f0)
    epochs, periods = glottal_epochs(f0_2, fs=2.0 * sr, rng=rng, jitter=jitter)
    k, u = _period_position(epochs, periods, 2 * n)
    tp, tn = 0.6 * open_quotient, 0.4 * open_quotient
    dg = np.where(
        u < tp,
        (np.pi / (2.0 * tp)) * np.sin(np.pi * u / tp),
        np.where(u < tp + tn, -(np.pi / (2.0 * tn)) * np.sin(np.pi * (u - tp) / (2.0 * tn)), 0.0),
    )
    amp = 1.0 + shimmer * np.clip(rng.standard_normal(len(periods)), -3.0, 3.0)
    dg *= np.where(k >= 0, amp[np.maximum(k, 0)], 0.0)
    src = signal.resample_poly(dg, 1, 2)[:n]
    src /= max(rms(src), 1e-12)
    if breathiness > 0:
        open_phase = signal.resample_poly((u < tp + tn).astype(np.float64), 1, 2)[:n]
        noise = highpass(rng.standard_normal(n), 1000.0, sr)
        src += breathiness * noise * (0.4 + 1.2 * np.clip(open_phase, 0.0, 1.0))
    return src


def pulse_train(
    f0: np.ndarray, *, sr: int, rng: np.random.Generator, jitter: float = 0.0, shimmer: float = 0.0
) -> np.ndarray:
    """Band-limited unit impulses at the glottal epochs: a flat harmonic spectrum.

    Each pulse is a Hann-windowed sinc (cut-off 0.9 * Nyquist) at its fractional
    position, scaled by ``sqrt(period)`` so the train has about unit variance at any F0.

    Parameters
    ----------
    f0 : np.ndarray [shape=(n,)]
        Hz per sample.
    sr : int
    rng : numpy.random.Generator
    jitter, shimmer : float
        As :func:`rosenberg_source`.

    Returns
    -------
    np.ndarray [shape=(n,)]
    """
    n = len(f0)
    epochs, periods = glottal_epochs(f0, fs=float(sr), rng=rng, jitter=jitter)
    e = epochs[:-1]
    amp = np.sqrt(periods) * (1.0 + shimmer * np.clip(rng.standard_normal(len(e)), -3.0, 3.0))
    taps = np.arange(-12, 13)
    idx = np.floor(e)[:, None].astype(np.int64) + taps[None, :]
    x = idx - e[:, None]
    w = 0.9 * np.sinc(0.9 * x) * (0.5 + 0.5 * np.cos(np.pi * x / 13.0))
    ok = (idx >= 0) & (idx < n)
    return np.bincount(idx[ok], weights=(w * amp[:, None])[ok], minlength=n)[:n]


def apply_envelope(x: np.ndarray, envelope: np.ndarray, *, n_fft: int = 1024, hop: int = 128) -> np.ndarray:
    """Filter *x* by a time-varying magnitude response, frame by frame in the STFT.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
    envelope : np.ndarray [shape=(n_fft // 2 + 1, 1 + n // hop)]
        Linear magnitude per bin and frame (frame *j* centred on sample ``j * hop``).

    Returns
    -------
    np.ndarray [shape=(n,)]
    """
    import librosa

    spec = librosa.stft(x, n_fft=n_fft, hop_length=hop, window="hann", center=True)
    return librosa.istft(spec * envelope[:, : spec.shape[1]], hop_length=hop, window="hann", length=len(x))


def room_reverb(x: np.ndarray, rng: np.random.Generator, sr: int, *, rt60: float, wet: float) -> np.ndarray:
    """Mono reverb: *x* plus a pre-delayed, low-passed, exponentially decaying noise tail.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
    rng : numpy.random.Generator
    sr : int
    rt60 : float
        Seconds for the tail to decay by 60 dB.
    wet : float
        RMS of the tail's impulse response (0 returns *x* unchanged).

    Returns
    -------
    np.ndarray [shape=(n,)]
    """
    if wet <= 0:
        return x
    signal = _signal()

    n_ir = max(int(rt60 * sr), 16)
    t = np.arange(n_ir) / sr
    ir = lowpass(
        rng.standard_normal(n_ir) * np.exp(-6.91 * t / rt60), rng.uniform(3000.0, 7000.0), sr, order=1
    )
    ir[: int(rng.uniform(0.008, 0.03) * sr)] = 0.0
    ir *= wet / math.sqrt(float(np.sum(ir**2)))
    return x + signal.oaconvolve(x, ir)[: len(x)]
