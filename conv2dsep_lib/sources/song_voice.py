"""The demo song's singing voice: a source-filter synthesiser (see :mod:`.song` for the design)."""

from __future__ import annotations

import math
from typing import Sequence, Tuple

import numpy as np

from .song_dsp import band_noise, highpass, midi_to_hz, place, reverb, rms, smooth, smooth_noise, smoothstep
from .song_score import CONSONANTS, REGISTERS, VOWELS, Note, Plan

__all__ = ["vocal_stem"]

#: Fixed upper formants (F4, F5) and their bandwidths.
_UPPER_FORMANTS = ((3500.0, 4500.0), (200.0, 260.0))

_HOP = 32  # control-rate hop (samples)

_CHUNK_FRAMES = 256  # control frames per synthesis chunk (8192 samples)

_MAX_HARMONICS = 60


def _syllable_times(rng, notes: Sequence[Note]):
    """Per note: consonant (start, length) or None, and the vowel span (start, end)."""
    consonants, spans = [], []
    for i, note in enumerate(notes):
        cons = None
        vowel_start = max(note.onset, 0.03)
        if note.consonant is not None:
            lo, hi = CONSONANTS[note.consonant][0]
            length = float(rng.uniform(lo, hi))
            cons = (note.onset - length, length)
        consonants.append(cons)
        spans.append([vowel_start, note.end])
    for i in range(len(notes) - 1):
        nxt = notes[i + 1]
        if notes[i].end < nxt.onset - 1e-6:  # a rest follows
            end = notes[i].end - 0.05
        elif consonants[i + 1] is not None:
            gap = 0.03 if nxt.consonant in ("t", "k") else 0.01  # plosive closure
            end = consonants[i + 1][0] - gap
        else:  # legato
            end = nxt.onset + 0.02
        spans[i][1] = max(end, spans[i][0] + 0.5 * (notes[i].end - notes[i].onset))
    spans[-1][1] = notes[-1].end - 0.05
    return consonants, spans


def _span(ctrl_rate: float, n_ctrl: int, start: float, stop: float) -> slice:
    """Control frames covering [start, stop] seconds (clipped to the track)."""
    i0 = min(max(int(math.floor(start * ctrl_rate)), 0), n_ctrl)
    i1 = min(max(int(math.ceil(stop * ctrl_rate)) + 1, i0), n_ctrl)
    return slice(i0, i1)


def _step_track(times: Sequence[float], values, t: np.ndarray) -> np.ndarray:
    """Piecewise-constant track: ``values[i]`` from ``times[i]`` on (sorted times)."""
    idx = np.searchsorted(np.asarray(times), t, side="right") - 1
    return np.asarray(values, dtype=np.float64)[np.clip(idx, 0, None)]


def _pitch_track(rng, notes: Sequence[Note], spans, t: np.ndarray, ctrl_rate: float) -> np.ndarray:
    """f0 in Hz: notes joined by glides, phrase scoops, drift and delayed vibrato."""
    n_ctrl = len(t)
    midi = _step_track([nt.onset for nt in notes], [nt.midi for nt in notes], t)
    midi = smooth(midi, int(rng.uniform(0.07, 0.11) * ctrl_rate))  # portamento
    for note in notes:  # scoop up
        if note.phrase_start:
            sl = _span(ctrl_rate, n_ctrl, note.onset - 0.05, note.onset + 0.12)
            midi[sl] -= 1.0 - smoothstep((t[sl] - note.onset) / 0.12)
    midi += 0.06 * smooth_noise(rng, n_ctrl, int(0.3 * ctrl_rate))  # drift
    rate = rng.uniform(5.0, 6.0) * (1.0 + 0.03 * smooth_noise(rng, n_ctrl, int(0.5 * ctrl_rate)))
    vib_phase = 2.0 * np.pi * np.cumsum(rate) / ctrl_rate
    depth = np.zeros(n_ctrl)
    for vs, ve in spans:
        if ve - vs < 0.35:
            continue  # too short
        delay = min(0.3, 0.35 * (ve - vs))
        sl = _span(ctrl_rate, n_ctrl, vs, ve)
        tt = t[sl]
        ramp = smoothstep((tt - vs - delay) / 0.25) * (1.0 - smoothstep((tt - ve + 0.08) / 0.08)) * (tt < ve)
        depth[sl] = np.maximum(depth[sl], rng.uniform(0.3, 0.5) * ramp)
    return midi_to_hz(midi + depth * np.sin(vib_phase))


def _amplitude_track(rng, notes: Sequence[Note], spans, t: np.ndarray, ctrl_rate: float) -> np.ndarray:
    """Syllable envelopes: raised-cosine attack/release; legato notes crossfade."""
    amp = np.zeros(len(t))
    release = 0.04
    for note, (vs, ve) in zip(notes, spans):
        attack, lead = (0.04, 0.02) if note.consonant is None else (0.025, 0.0)
        sl = _span(ctrl_rate, len(t), vs - lead, ve)
        tt = t[sl]
        env = smoothstep((tt - vs + lead) / attack)
        env *= 1.0 - smoothstep((tt - (ve - release)) / release)
        amp[sl] += rng.uniform(0.8, 1.0) * env
    return amp * (1.0 + 0.03 * smooth_noise(rng, len(t), int(0.05 * ctrl_rate)))  # shimmer


def _formant_tracks(
    notes: Sequence[Note], t: np.ndarray, ctrl_rate: float, register: str
) -> Tuple[np.ndarray, np.ndarray]:
    """(5, frames) formant frequencies and bandwidths; vowels change smoothly."""
    scale = REGISTERS[register][1]
    switch = [0.0] + [nt.onset - 0.03 for nt in notes[1:]]
    freqs = np.empty((5, len(t)))
    bands = np.empty((5, len(t)))
    freqs[:3] = _step_track(switch, [VOWELS[nt.vowel][0] for nt in notes], t).T * scale
    bands[:3] = _step_track(switch, [VOWELS[nt.vowel][1] for nt in notes], t).T
    freqs[3:] = np.array(_UPPER_FORMANTS[0])[:, None] * scale
    bands[3:] = np.array(_UPPER_FORMANTS[1])[:, None]
    width = int(0.07 * ctrl_rate)  # coarticulation
    return smooth(freqs, width), smooth(bands, width)


def _formant_gain(f: np.ndarray, freqs: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """Cascade of second-order resonances (unit gain at 0 Hz) evaluated at *f*.

    ``f`` is (harmonics, frames); ``freqs``/``bands`` are (formants, frames).
    """
    gain = np.ones_like(f)
    f2 = f * f
    for fk, bk in zip(freqs, bands):
        fk2 = fk * fk
        gain *= fk2 / np.sqrt((fk2 - f2) ** 2 + (bk * f) ** 2)
    return gain


def _harmonic_amplitudes(f0, amp, freqs, bands, n_harm: int, cutoff: float) -> np.ndarray:
    """(harmonics, frames) amplitudes: -12 dB/oct source, +6 dB/oct lips, formants."""
    h = np.arange(1, n_harm + 1, dtype=np.float64)[:, None]
    fh = h * f0[None, :]  # instantaneous frequencies
    a = (h**-2.0) * h * _formant_gain(fh, freqs, bands)
    a *= np.clip((cutoff - fh) / 400.0, 0.0, 1.0)  # fade out below the cut-off
    return (a * amp[None, :]).astype(np.float32)


def _additive_voice(f0_ctrl, amp, freqs, bands, n: int, sr: int) -> np.ndarray:
    """Band-limited glottal harmonics through the formants; (n,) float32.

    The phase is the cumulative sum of the instantaneous frequency.  Amplitudes
    are computed per chunk at the control rate and interpolated linearly.
    """
    cutoff = min(0.45 * sr, 10000.0)
    n_harm = int(min(_MAX_HARMONICS, max(1, cutoff // f0_ctrl.min())))
    n_ctrl = len(f0_ctrl)
    f0 = np.interp(np.arange(n), np.arange(n_ctrl) * _HOP, f0_ctrl)
    phase = np.mod(np.cumsum(2.0 * np.pi * f0 / sr), 2.0 * np.pi).astype(np.float32)
    h = np.arange(1, n_harm + 1, dtype=np.float32)[:, None]
    ramp = (np.arange(_HOP, dtype=np.float32) / _HOP)[None, None, :]
    out = np.zeros(n, dtype=np.float32)
    for k0 in range(0, min(n_ctrl - 1, -(-n // _HOP)), _CHUNK_FRAMES):
        k1 = min(k0 + _CHUNK_FRAMES, n_ctrl - 1)
        if not amp[k0 : k1 + 1].any():
            continue  # a rest
        a = _harmonic_amplitudes(
            f0_ctrl[k0 : k1 + 1],
            amp[k0 : k1 + 1],
            freqs[:, k0 : k1 + 1],
            bands[:, k0 : k1 + 1],
            n_harm,
            cutoff,
        )
        live = np.flatnonzero(a.max(axis=1) > 0)
        a = a[live]
        a = (a[:, :-1, None] + np.diff(a, axis=1)[:, :, None] * ramp).reshape(len(live), -1)
        s0 = k0 * _HOP
        m = min(a.shape[1], n - s0)
        out[s0 : s0 + m] = np.einsum("hc,hc->c", a[:, :m], np.sin(h[live] * phase[s0 : s0 + m]))
    return out


def _consonant_noise(rng, notes, consonants, amp_level: float, n: int, sr: int) -> np.ndarray:
    """Short band-passed noise bursts for "s", "sh", "t" and "k"."""
    out = np.zeros(n)
    for note, cons in zip(notes, consonants):
        if cons is None:
            continue
        start, length = cons
        _, (lo, hi), level = CONSONANTS[note.consonant]
        m = max(int(length * sr), 8)
        x = band_noise(rng, m, lo, hi, sr)
        u = np.linspace(0.0, 1.0, m)
        if note.consonant in ("t", "k"):  # plosive: sharp burst, fast decay
            env = np.exp(-u * 4.0) * smoothstep(u / 0.05)
        else:  # fricative: swell and fade
            env = np.sin(np.pi * u) ** 1.5
        place(out, level * amp_level * env * x, start, sr)
    return out


def _breaths(rng, phrases, amp_level: float, n: int, sr: int) -> np.ndarray:
    """Soft band-passed noise inhalations in the rests before phrases 2, 3, ..."""
    out = np.zeros(n)
    for (_, prev_end), (start, _) in zip(phrases[:-1], phrases[1:]):
        length = min(rng.uniform(0.25, 0.4), 0.8 * (start - prev_end))
        if length < 0.1:
            continue
        m = int(length * sr)
        x = band_noise(rng, m, 600.0, 3000.0, sr)
        env = np.sin(np.pi * np.linspace(0.0, 1.0, m)) ** 2
        place(out, 0.045 * amp_level * env * x, start - length - 0.06, sr)
    return out


def vocal_stem(rng, plan: Plan, register: str, n: int, sr: int) -> np.ndarray:
    """The singing voice, (2, n) float64, near the centre."""
    ctrl_rate = sr / _HOP
    n_ctrl = n // _HOP + 2
    consonants, spans = _syllable_times(rng, plan.notes)
    t = np.arange(n_ctrl) / ctrl_rate
    f0 = _pitch_track(rng, plan.notes, spans, t, ctrl_rate)
    amp = _amplitude_track(rng, plan.notes, spans, t, ctrl_rate)
    freqs, bands = _formant_tracks(plan.notes, t, ctrl_rate, register)
    voiced = _additive_voice(f0, amp, freqs, bands, n, sr).astype(np.float64)
    level = rms(voiced[np.abs(voiced) > 1e-3 * np.abs(voiced).max()])
    env = np.interp(np.arange(n), np.arange(n_ctrl) * _HOP, amp)
    aspiration = 0.02 * level * env * band_noise(rng, n, 1500.0, 7000.0, sr)
    mono = voiced + aspiration
    mono += _consonant_noise(rng, plan.notes, consonants, level, n, sr)
    mono += _breaths(rng, plan.phrases, level, n, sr)
    mono = highpass(mono, 80.0, sr)
    return reverb(mono, rng, sr, rt60=1.2, wet=0.18)
