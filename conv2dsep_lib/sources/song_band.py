"""The demo song's band: kick, snare, hats, bass and a chord pad (see :mod:`.song`)."""

from __future__ import annotations

import math
from typing import Dict

import numpy as np

from .song_dsp import band_noise, lowpass, midi_to_hz, pan, place, reverb, smoothstep
from .song_score import Plan

__all__ = ["drum_stems", "bass_stem", "chord_stem"]


def _kick(rng, sr: int) -> np.ndarray:
    """Sine with an exponential pitch drop and decay, plus a click."""
    t = np.arange(int(0.45 * sr)) / sr
    f = rng.uniform(45.0, 52.0) + 110.0 * np.exp(-t / 0.035)
    body = np.sin(2.0 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.2)
    click = band_noise(rng, len(t), 1000.0, 6000.0, sr) * np.exp(-t / 0.003) * 0.15
    return body + click


def _snare(rng, sr: int) -> np.ndarray:
    """Band-passed noise plus a short two-partial tone."""
    t = np.arange(int(0.3 * sr)) / sr
    f = rng.uniform(175.0, 200.0)
    tone = (np.sin(2 * np.pi * f * t) + 0.5 * np.sin(2 * np.pi * 1.6 * f * t)) * np.exp(-t / 0.05)
    noise = band_noise(rng, len(t), 1500.0, 8000.0, sr) * np.exp(-t / 0.07)
    return 0.6 * tone + 0.5 * noise


def _hihat(rng, sr: int, *, open_: bool = False) -> np.ndarray:
    """Short high-passed noise (longer when open)."""
    tau = 0.12 if open_ else 0.022
    t = np.arange(int((0.4 if open_ else 0.08) * sr)) / sr
    return band_noise(rng, len(t), 7000.0, 16000.0, sr) * np.exp(-t / tau)


def drum_stems(rng, plan: Plan, n: int, sr: int) -> Dict[str, np.ndarray]:
    """Kick on 1 and 3 (plus a seeded extra), snare on 2 and 4, eighth-note hats."""
    kick, snare, hats = np.zeros(n), np.zeros(n), np.zeros((2, n))
    extra = float(rng.choice([1.5, 2.5, 3.5]))
    duration = n / sr
    for b in range(int(math.ceil(duration / plan.bar))):
        t0 = b * plan.bar
        for beat in (0.0, 2.0) + ((extra,) if rng.random() < 0.6 else ()):
            place(kick, _kick(rng, sr), t0 + beat * plan.beat, sr, rng.uniform(0.85, 1.0))
        for beat in (1.0, 3.0):
            jitter = rng.normal(0.0, 0.003)
            place(snare, _snare(rng, sr), t0 + beat * plan.beat + jitter, sr, rng.uniform(0.85, 1.0))
        for i in range(8):
            open_ = i == 7 and b % 2 == 1
            gain = (1.0 if i % 2 == 0 else 0.6) * rng.uniform(0.8, 1.0)
            position = 0.45 + 0.1 * (i % 2)
            hit = pan(_hihat(rng, sr, open_=open_), position)
            place(hats, hit, t0 + i * 0.5 * plan.beat + rng.normal(0.0, 0.003), sr, gain)
    return {"kick": pan(kick, 0.0), "snare": pan(snare, -0.1), "hats": hats}


def bass_stem(rng, plan: Plan, n: int, sr: int) -> np.ndarray:
    """Chord roots (E1..G2) in a seeded one-bar rhythm; few harmonics, smooth envelope."""
    patterns = (
        ((0.0, 1.5, 0), (1.5, 1.0, 0), (2.5, 0.5, 7), (3.0, 1.0, 12)),
        ((0.0, 0.75, 0), (0.75, 1.25, 0), (2.0, 1.5, 0), (3.5, 0.5, 7)),
        ((0.0, 2.0, 0), (2.0, 1.0, 7), (3.0, 1.0, 5)),
    )
    pattern = patterns[int(rng.integers(len(patterns)))]
    out = np.zeros(n)
    harmonics = np.array([1.0, 0.45, 0.25, 0.12, 0.06])
    for b, chord in enumerate(plan.chords):
        t0 = b * plan.bar
        if t0 >= n / sr:
            break
        root = 28 + (chord[0] - 4) % 12  # E1..D#2
        for start, length, interval in pattern:
            f = float(midi_to_hz(root + interval))
            m = int((length * plan.beat + 0.03) * sr)
            t = np.arange(m) / sr
            env = smoothstep(t / 0.008) * (0.6 + 0.4 * np.exp(-t / 0.25))
            env *= 1.0 - smoothstep((t - (m / sr - 0.05)) / 0.05)
            phase = 2.0 * np.pi * f * t
            k = np.arange(1, len(harmonics) + 1)[:, None]
            tone = harmonics @ np.sin(k * phase[None, :])
            place(out, env * tone, t0 + start * plan.beat, sr, rng.uniform(0.85, 1.0))
    return pan(lowpass(out, 900.0, sr), 0.0)


def chord_stem(rng, plan: Plan, n: int, sr: int) -> np.ndarray:
    """A pad: close-voiced triads, 6 harmonics per tone, detuned copies spread wide."""
    out = np.zeros((2, n))
    h = np.arange(1, 7, dtype=np.float32)[:, None]
    weights = (h[:, 0] ** -1.3).astype(np.float32)
    trem_rate = rng.uniform(4.0, 5.5)
    for b, chord in enumerate(plan.chords):
        t0 = b * plan.bar
        start = int(t0 * sr)
        if start >= n:
            break
        m = min(int((plan.bar + 0.3) * sr), n - start)
        t = np.arange(m) / sr
        env = smoothstep(t / 0.12) * (1.0 - smoothstep((t - plan.bar) / 0.3))
        env *= 1.0 + 0.25 * (np.exp(-t / 0.3) - 0.3)  # gentle re-attack
        env *= 1.0 - 0.15 * (0.5 + 0.5 * np.sin(2.0 * np.pi * trem_rate * (t0 + t)))
        seg = np.zeros((2, m))
        for j, pc in enumerate(chord):
            midi = 55 + (pc - 7) % 12  # G3..F#4
            for side, cents in ((0, -6.0), (1, 6.0)):
                f = float(midi_to_hz(midi + cents / 100.0))
                ph = (2.0 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) % (2.0 * np.pi)
                tone = weights @ np.sin(h * ph.astype(np.float32)[None, :])
                position = (-0.7 if side == 0 else 0.7) + 0.2 * (j - 1)
                seg += pan(tone, float(np.clip(position, -1.0, 1.0)))
        out[:, start : start + m] += seg * env
    out = lowpass(out, 2200.0, sr)
    return reverb(out, rng, sr, rt60=1.5, wet=0.3)
