"""A deterministic demo song: a synthetic stand-in for a real mix with a known vocal.

``make demo`` needs a mixture *and* its isolated vocal.  Instead of downloading a
multitrack, :func:`synthesize_song` makes a short pop-like song from a seed: a sung
melody over drums, bass and chords.  It is synthetic -- nobody would mistake it for a
recording -- but it has the structure that matters for vocal separation: a harmonic,
pitch-gliding, formant-shaped voice with noisy consonants and breaths, on top of a band
that overlaps it in time and frequency.  Because the song is built from its stems,
the vocal target is known exactly: ``mixture == vocal + instrumental`` sample for
sample (float32).

Design
------
Everything is driven by one :class:`numpy.random.Generator` made from the seed and
passed to every function (no global random state), so a seed always gives the same
bytes.  The seed picks the tempo (84..128 BPM), the key (major or minor), the voice
register (low/mid/high) and the lyrics-free melody; each can be overridden.

*Arrangement.*  Four bars of a four-chord progression of the key repeat.  The
singer sings two-bar phrases (6..7 beats of notes, then a rest with a breath); the
first phrase starts at once, so the first seconds are full of singing.

*Voice* (source--filter).  Control tracks at ``sr / 32`` Hz carry the pitch (notes of
the key's scale joined by portamento glides, a scoop into each phrase, a slight
random drift, and 5..6 Hz vibrato of 0.3..0.5 semitone that fades in late within
long notes), the amplitude (syllable attack/release, legato crossfades) and five
formants (F1..F3 from the syllable's vowel a/e/i/o/u, smoothly interpolated between
syllables; F4/F5 fixed).  The glottal source is an additive band-limited sawtooth
whose harmonics fall 12 dB/octave; each harmonic's amplitude is the product of that
slope, lip radiation (+6 dB/octave) and a cascade of formant resonances evaluated
at the harmonic's *instantaneous* frequency, so harmonics brighten and darken as
they move through the formants.  Harmonics above ~10 kHz or 0.45 * sr are dropped.
The phase is the cumulative sum of the instantaneous frequency; the sum over
harmonics is vectorised with numpy broadcasting in chunks of a few thousand
samples.  Consonants ("s", "sh", "t", "k") are short band-passed noise bursts just
before a syllable's vowel; breaths are soft band-passed noise in the rests.  A
little aspiration noise and a short stereo reverb finish the voice; it sits in the
centre.

*Band.*  Kick (a sine whose pitch drops exponentially, with a click), snare (noise
plus a short tone), closed hi-hats on eighth notes (short high-passed noise, an
open hat now and then), a bass that follows the chord roots (a few harmonics, a
smooth envelope, low-passed) and a pad playing the chords (several harmonics per
chord tone, detuned copies spread left/right, tremolo, low-passed, reverb).  Kick
and bass are in the centre, hats and chords spread.

*Mix.*  Each band stem is set to a fixed RMS relative to the others; the band is
then scaled so the vocal-to-accompaniment RMS ratio is a seeded value in
-2.5..0 dB.  The mixture is peak-normalised to -1 dBFS, the stems scaled by the same
factor, and the mixture is formed in float32 as ``vocal + instrumental``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from scipy import signal

from .audio import write_wav
from .errors import ParameterError

__all__ = [
    "DemoSong",
    "DEFAULT_NAMES",
    "KEYS",
    "REGISTERS",
    "ensure_demo_song",
    "synthesize_song",
    "write_song",
]

PathLike = Union[str, os.PathLike]

#: File names written by :func:`write_song` (mixture, vocal, instrumental).
DEFAULT_NAMES = ("stereo_mixture.wav", "isolated_vocal.wav", "stereo_instrumental.wav")
#: Allowed tempo range (BPM), and the range a seed draws from.
TEMPO_RANGE = (40.0, 240.0)
SEED_TEMPO_RANGE = (84, 128)
#: Allowed sample rates and durations (seconds).
SR_RANGE = (8000, 192000)
DURATION_RANGE = (1.0, 600.0)

#: Key name -> (tonic pitch class, mode).
KEYS: Dict[str, Tuple[int, str]] = {
    "C": (0, "major"), "D": (2, "major"), "Eb": (3, "major"), "E": (4, "major"),
    "F": (5, "major"), "G": (7, "major"), "A": (9, "major"), "Bb": (10, "major"),
    "Am": (9, "minor"), "Bm": (11, "minor"), "Cm": (0, "minor"), "Dm": (2, "minor"),
    "Em": (4, "minor"), "F#m": (6, "minor"), "Gm": (7, "minor"),
}
#: Register -> (melody centre as MIDI note, formant scale factor).
REGISTERS: Dict[str, Tuple[int, float]] = {
    "low": (52, 0.86),    # E3 +- 8 semitones: ~105..260 Hz, baritone-like formants
    "mid": (59, 0.93),    # B3 +- 8 semitones: ~155..390 Hz
    "high": (67, 1.0),    # G4 +- 8 semitones: ~245..620 Hz, soprano formants
}
_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
#: Four-chord progressions as 0-based scale degrees of the chord roots.
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4)),   # I-V-vi-IV, I-vi-IV-V, vi-IV-I-V
    # i-VI-III-VII, i-iv-VII-III, i-VII-VI-VII
    "minor": ((0, 5, 2, 6), (0, 3, 6, 2), (0, 6, 5, 6)),
}
_PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Vowel -> (F1, F2, F3) Hz and bandwidths (soprano values; scaled by register).
_VOWELS = {
    "a": ((800.0, 1150.0, 2900.0), (80.0, 90.0, 120.0)),
    "e": ((450.0, 1900.0, 2700.0), (70.0, 100.0, 120.0)),
    "i": ((300.0, 2250.0, 3000.0), (60.0, 90.0, 100.0)),
    "o": ((480.0, 820.0, 2800.0), (70.0, 80.0, 100.0)),
    "u": ((330.0, 700.0, 2700.0), (50.0, 60.0, 170.0)),
}
_VOWEL_CHOICE = ("a", "e", "i", "o", "u")
_VOWEL_WEIGHTS = (0.3, 0.2, 0.2, 0.2, 0.1)
#: Fixed upper formants (F4, F5) and their bandwidths.
_UPPER_FORMANTS = ((3500.0, 4500.0), (200.0, 260.0))
#: Consonant -> (duration range s, noise band Hz, level relative to the vowel).
_CONSONANTS = {
    "s": ((0.08, 0.12), (4500.0, 10000.0), 0.22),
    "sh": ((0.08, 0.11), (1800.0, 5500.0), 0.20),
    "t": ((0.02, 0.035), (2500.0, 9000.0), 0.35),
    "k": ((0.03, 0.045), (1200.0, 4000.0), 0.30),
}
_HOP = 32            # control-rate hop (samples)
_CHUNK_FRAMES = 256  # control frames per synthesis chunk (8192 samples)
_MAX_HARMONICS = 60
#: Band stem RMS levels relative to each other (dB).
_BAND_LEVELS_DB = {"kick": -3.0, "snare": -7.0, "hats": -15.0, "bass": -4.0, "chords": -6.0}
_PEAK_DBFS = -1.0


@dataclass(frozen=True)
class DemoSong:
    """A synthesised song and its exact stems.

    Attributes
    ----------
    mixture : np.ndarray [shape=(2, n_samples), dtype=float32]
        ``vocal + instrumental`` (computed in float32), peak at about -1 dBFS.
    vocal : np.ndarray [shape=(2, n_samples), dtype=float32]
        The isolated singing voice (with its reverb), near the centre.
    instrumental : np.ndarray [shape=(2, n_samples), dtype=float32]
        Drums, bass and chords.
    sr : int
        Sample rate in Hz.
    info : dict
        JSON-able description: ``seed``, ``sr``, ``duration``, ``tempo``, ``key``,
        ``register``, ``progression`` (chord names), ``vocal_to_accompaniment_db``
        and ``peak_dbfs``.
    """

    mixture: np.ndarray
    vocal: np.ndarray
    instrumental: np.ndarray
    sr: int
    info: dict


class _Note(NamedTuple):
    onset: float                 # note (beat) time, s
    end: float                   # s
    midi: float
    vowel: str
    consonant: Optional[str]
    phrase_start: bool


class _Plan(NamedTuple):
    beat: float                  # s per beat
    bar: float                   # s per bar
    chords: List[Tuple[int, ...]]  # per bar: chord tones as pitch classes, root first
    notes: List[_Note]
    phrases: List[Tuple[float, float]]  # (first onset, last end) per phrase


# --------------------------------------------------------------------------- checks

def _check_params(seed, sr, duration, tempo, key, register) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed={seed!r} is not allowed: allowed an integer >= 0")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or not (
        SR_RANGE[0] <= sr <= SR_RANGE[1]
    ):
        raise ParameterError(
            f"sr={sr!r} is out of range: allowed an integer {SR_RANGE[0]}..{SR_RANGE[1]} Hz"
        )
    if not isinstance(duration, (int, float, np.number)) or not (
        DURATION_RANGE[0] <= duration <= DURATION_RANGE[1]
    ):
        raise ParameterError(
            f"duration={duration!r} is out of range: allowed "
            f"{DURATION_RANGE[0]:g}..{DURATION_RANGE[1]:g} seconds"
        )
    if tempo is not None and (
        not isinstance(tempo, (int, float, np.number))
        or not (TEMPO_RANGE[0] <= tempo <= TEMPO_RANGE[1])
    ):
        raise ParameterError(
            f"tempo={tempo!r} is out of range: allowed "
            f"{TEMPO_RANGE[0]:g}..{TEMPO_RANGE[1]:g} BPM"
        )
    if key is not None and (not isinstance(key, str) or key not in KEYS):
        raise ParameterError(f"key={key!r} is not known: allowed {', '.join(KEYS)}")
    if register is not None and (not isinstance(register, str) or register not in REGISTERS):
        raise ParameterError(
            f"register={register!r} is not known: allowed {', '.join(REGISTERS)}"
        )


# --------------------------------------------------------------------------- helpers

def _midi_to_hz(midi):
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp 0 -> 1 for x in [0, 1] (clipped outside)."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Smooth along the last axis with a normalised Hann kernel of *width* samples."""
    if width < 3:
        return x
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    pad = width // 2
    xp = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, width - 1 - pad)], mode="edge")
    return np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), -1, xp)


def _smooth_noise(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """Unit-RMS low-frequency noise of length *n* (Hann-smoothed white noise)."""
    x = _smooth(rng.standard_normal(n + width), width)[:n]
    return x / max(_rms(x), 1e-12)


@lru_cache(maxsize=64)
def _butter(order: int, edges: Tuple[float, ...], btype: str, sr: int) -> np.ndarray:
    """Butterworth second-order sections; edges in Hz, clamped below Nyquist."""
    wn = [min(e, 0.45 * sr) / (0.5 * sr) for e in edges]
    return signal.butter(order, wn if len(wn) > 1 else wn[0], btype=btype, output="sos")


def _band_noise(rng: np.random.Generator, n: int, lo: float, hi: float, sr: int) -> np.ndarray:
    """Unit-RMS white noise band-passed to [lo, hi] Hz (clamped below Nyquist)."""
    hi = min(hi, 0.45 * sr)
    lo = min(lo, 0.5 * hi)
    x = signal.sosfilt(_butter(2, (lo, hi), "bandpass", sr), rng.standard_normal(n + 256))
    x = x[256:]
    return x / max(_rms(x), 1e-12)


def _lowpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    return signal.sosfilt(_butter(order, (cutoff,), "lowpass", sr), x, axis=-1)


def _highpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    return signal.sosfilt(_butter(order, (cutoff,), "highpass", sr), x, axis=-1)


def _pan(mono: np.ndarray, pan: float) -> np.ndarray:
    """Constant-power pan: -1 left, 0 centre, +1 right.  Returns (2, n)."""
    theta = (pan + 1.0) * np.pi / 4.0
    return np.stack([math.cos(theta) * mono, math.sin(theta) * mono]) * math.sqrt(2.0)


def _place(track: np.ndarray, sound: np.ndarray, t: float, sr: int, gain: float = 1.0) -> None:
    """Add *sound* into *track* (last axis) starting at time *t*, cut at the end."""
    start = int(round(t * sr))
    n = track.shape[-1]
    if start >= n:
        return
    if start < 0:
        sound, start = sound[..., -start:], 0
    m = min(sound.shape[-1], n - start)
    track[..., start:start + m] += gain * sound[..., :m]


def _reverb(x: np.ndarray, rng: np.random.Generator, sr: int, *, rt60: float,
            wet: float) -> np.ndarray:
    """Stereo reverb: mono or (2, n) in, (2, n) out; decorrelated noise tails."""
    x = np.atleast_2d(x)
    n_ir = int(rt60 * sr)
    t = np.arange(n_ir) / sr
    out = np.empty((2, x.shape[-1]))
    for ch in range(2):
        ir = rng.standard_normal(n_ir) * np.exp(-6.91 * t / rt60)
        ir = _lowpass(ir, 5000.0, sr, order=1)
        ir[: int(0.015 * sr)] = 0.0                     # pre-delay
        ir *= wet / math.sqrt(np.sum(ir ** 2))
        src = x[ch % x.shape[0]]
        out[ch] = src + signal.oaconvolve(src, ir)[: x.shape[-1]]
    return out


# --------------------------------------------------------------------------- plan

def _choose_style(rng, tempo, key, register):
    """Draw tempo, key and register from *rng*; explicit values override the draw."""
    drawn_tempo = float(rng.integers(SEED_TEMPO_RANGE[0], SEED_TEMPO_RANGE[1] + 1))
    keys = list(KEYS)
    drawn_key = keys[int(rng.integers(len(keys)))]
    registers = list(REGISTERS)
    drawn_register = registers[int(rng.integers(len(registers)))]
    return (
        float(tempo) if tempo is not None else drawn_tempo,
        key if key is not None else drawn_key,
        register if register is not None else drawn_register,
    )


def _progression(rng, key: str) -> List[Tuple[int, ...]]:
    """Four diatonic triads (pitch classes, root first) of *key*."""
    tonic, mode = KEYS[key]
    scale = _SCALES[mode]
    options = _PROGRESSIONS[mode]
    degrees = options[int(rng.integers(len(options)))]
    return [
        tuple((tonic + scale[(d + k) % 7]) % 12 for k in (0, 2, 4)) for d in degrees
    ]


def _chord_name(tones: Tuple[int, ...]) -> str:
    third = (tones[1] - tones[0]) % 12
    fifth = (tones[2] - tones[0]) % 12
    suffix = "" if third == 4 else ("dim" if fifth == 6 else "m")
    return _PITCH_NAMES[tones[0]] + suffix


def _phrase_rhythm(rng, length: float) -> List[float]:
    """Note durations (beats) summing to *length*, ending on a long note."""
    durations = []
    remaining = length
    while remaining > 2.5:
        d = float(rng.choice([0.5, 0.5, 1.0, 1.0, 1.5]))
        durations.append(d)
        remaining -= d
    durations.append(remaining)
    return durations


def _compose_melody(rng, key: str, register: str, chords, beat: float, bar: float,
                    duration: float):
    """Two-bar phrases of scale notes; chord tones on strong beats."""
    tonic, mode = KEYS[key]
    scale = _SCALES[mode]
    centre = REGISTERS[register][0]
    pool = np.array([m for m in range(centre - 8, centre + 9) if (m - tonic) % 12 in scale])

    def chord_at(t):
        return chords[int(t // bar) % len(chords)]

    def nearest_chord_tone(idx, t):
        tones = chord_at(t)
        cands = [i for i, m in enumerate(pool) if m % 12 in tones]
        return min(cands, key=lambda i: (abs(i - idx), i))

    notes: List[_Note] = []
    phrases = []
    idx = nearest_chord_tone(len(pool) // 2, 0.0)
    phrase_index = 0
    while True:
        start = 2 * phrase_index * bar
        if start >= duration - 0.5:
            break
        length = float(rng.choice([6.0, 6.5, 7.0]))
        durations = _phrase_rhythm(rng, length)
        pos = 0.0
        for i, d in enumerate(durations):
            onset = start + pos * beat
            step = int(rng.choice([-3, -2, -1, -1, 0, 1, 1, 2, 3],
                                  p=[.05, .15, .2, .1, .05, .2, .1, .1, .05]))
            idx = int(np.clip(idx + step, 1, len(pool) - 2))
            if pos % 2 == 0 or i == len(durations) - 1:   # beats 1 and 3, phrase end
                idx = nearest_chord_tone(idx, onset)
            first = i == 0
            if first and phrase_index == 0:
                consonant = None                          # sing at once at t = 0
            elif rng.random() < (0.75 if first else 0.5):
                consonant = str(rng.choice(["s", "t", "k", "sh"], p=[.35, .3, .2, .15]))
            else:
                consonant = None
            vowel = str(rng.choice(_VOWEL_CHOICE, p=_VOWEL_WEIGHTS))
            notes.append(_Note(onset, onset + d * beat, float(pool[idx]), vowel,
                               consonant, first))
            pos += d
        phrases.append((start, start + length * beat))
        phrase_index += 1
    return notes, phrases


def _plan_song(rng, tempo: float, key: str, register: str, duration: float) -> _Plan:
    beat = 60.0 / tempo
    bar = 4 * beat
    progression = _progression(rng, key)
    n_bars = int(math.ceil(duration / bar)) + 1
    chords = [progression[i % 4] for i in range(n_bars)]
    notes, phrases = _compose_melody(rng, key, register, chords, beat, bar, duration)
    return _Plan(beat, bar, chords, notes, phrases)


# --------------------------------------------------------------------------- voice

def _syllable_times(rng, notes: Sequence[_Note]):
    """Per note: consonant (start, length) or None, and the vowel span (start, end)."""
    consonants, spans = [], []
    for i, note in enumerate(notes):
        cons = None
        vowel_start = max(note.onset, 0.03)
        if note.consonant is not None:
            lo, hi = _CONSONANTS[note.consonant][0]
            length = float(rng.uniform(lo, hi))
            cons = (note.onset - length, length)
        consonants.append(cons)
        spans.append([vowel_start, note.end])
    for i in range(len(notes) - 1):
        nxt = notes[i + 1]
        if notes[i].end < nxt.onset - 1e-6:                      # a rest follows
            end = notes[i].end - 0.05
        elif consonants[i + 1] is not None:
            gap = 0.03 if nxt.consonant in ("t", "k") else 0.01   # plosive closure
            end = consonants[i + 1][0] - gap
        else:                                                    # legato
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


def _pitch_track(rng, notes: Sequence[_Note], spans, t: np.ndarray,
                 ctrl_rate: float) -> np.ndarray:
    """f0 in Hz: notes joined by glides, phrase scoops, drift and delayed vibrato."""
    n_ctrl = len(t)
    midi = _step_track([nt.onset for nt in notes], [nt.midi for nt in notes], t)
    midi = _smooth(midi, int(rng.uniform(0.07, 0.11) * ctrl_rate))      # portamento
    for note in notes:                                                  # scoop up
        if note.phrase_start:
            sl = _span(ctrl_rate, n_ctrl, note.onset - 0.05, note.onset + 0.12)
            midi[sl] -= 1.0 - _smoothstep((t[sl] - note.onset) / 0.12)
    midi += 0.06 * _smooth_noise(rng, n_ctrl, int(0.3 * ctrl_rate))     # drift
    rate = rng.uniform(5.0, 6.0) * (
        1.0 + 0.03 * _smooth_noise(rng, n_ctrl, int(0.5 * ctrl_rate)))
    vib_phase = 2.0 * np.pi * np.cumsum(rate) / ctrl_rate
    depth = np.zeros(n_ctrl)
    for vs, ve in spans:
        if ve - vs < 0.35:
            continue                                                    # too short
        delay = min(0.3, 0.35 * (ve - vs))
        sl = _span(ctrl_rate, n_ctrl, vs, ve)
        tt = t[sl]
        ramp = _smoothstep((tt - vs - delay) / 0.25) * (
            1.0 - _smoothstep((tt - ve + 0.08) / 0.08)) * (tt < ve)
        depth[sl] = np.maximum(depth[sl], rng.uniform(0.3, 0.5) * ramp)
    return _midi_to_hz(midi + depth * np.sin(vib_phase))


def _amplitude_track(rng, notes: Sequence[_Note], spans, t: np.ndarray,
                     ctrl_rate: float) -> np.ndarray:
    """Syllable envelopes: raised-cosine attack/release; legato notes crossfade."""
    amp = np.zeros(len(t))
    release = 0.04
    for note, (vs, ve) in zip(notes, spans):
        attack, lead = (0.04, 0.02) if note.consonant is None else (0.025, 0.0)
        sl = _span(ctrl_rate, len(t), vs - lead, ve)
        tt = t[sl]
        env = _smoothstep((tt - vs + lead) / attack)
        env *= 1.0 - _smoothstep((tt - (ve - release)) / release)
        amp[sl] += rng.uniform(0.8, 1.0) * env
    return amp * (1.0 + 0.03 * _smooth_noise(rng, len(t), int(0.05 * ctrl_rate)))  # shimmer


def _formant_tracks(notes: Sequence[_Note], t: np.ndarray, ctrl_rate: float,
                    register: str) -> Tuple[np.ndarray, np.ndarray]:
    """(5, frames) formant frequencies and bandwidths; vowels change smoothly."""
    scale = REGISTERS[register][1]
    switch = [0.0] + [nt.onset - 0.03 for nt in notes[1:]]
    freqs = np.empty((5, len(t)))
    bands = np.empty((5, len(t)))
    freqs[:3] = _step_track(switch, [_VOWELS[nt.vowel][0] for nt in notes], t).T * scale
    bands[:3] = _step_track(switch, [_VOWELS[nt.vowel][1] for nt in notes], t).T
    freqs[3:] = np.array(_UPPER_FORMANTS[0])[:, None] * scale
    bands[3:] = np.array(_UPPER_FORMANTS[1])[:, None]
    width = int(0.07 * ctrl_rate)                                       # coarticulation
    return _smooth(freqs, width), _smooth(bands, width)


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
    fh = h * f0[None, :]                                    # instantaneous frequencies
    a = (h ** -2.0) * h * _formant_gain(fh, freqs, bands)
    a *= np.clip((cutoff - fh) / 400.0, 0.0, 1.0)          # fade out below the cut-off
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
        if not amp[k0:k1 + 1].any():
            continue                                                    # a rest
        a = _harmonic_amplitudes(f0_ctrl[k0:k1 + 1], amp[k0:k1 + 1], freqs[:, k0:k1 + 1],
                                 bands[:, k0:k1 + 1], n_harm, cutoff)
        live = np.flatnonzero(a.max(axis=1) > 0)
        a = a[live]
        a = (a[:, :-1, None] + np.diff(a, axis=1)[:, :, None] * ramp).reshape(len(live), -1)
        s0 = k0 * _HOP
        m = min(a.shape[1], n - s0)
        out[s0:s0 + m] = np.einsum("hc,hc->c", a[:, :m], np.sin(h[live] * phase[s0:s0 + m]))
    return out


def _consonant_noise(rng, notes, consonants, amp_level: float, n: int, sr: int) -> np.ndarray:
    """Short band-passed noise bursts for "s", "sh", "t" and "k"."""
    out = np.zeros(n)
    for note, cons in zip(notes, consonants):
        if cons is None:
            continue
        start, length = cons
        _, (lo, hi), level = _CONSONANTS[note.consonant]
        m = max(int(length * sr), 8)
        x = _band_noise(rng, m, lo, hi, sr)
        u = np.linspace(0.0, 1.0, m)
        if note.consonant in ("t", "k"):      # plosive: sharp burst, fast decay
            env = np.exp(-u * 4.0) * _smoothstep(u / 0.05)
        else:                                 # fricative: swell and fade
            env = np.sin(np.pi * u) ** 1.5
        _place(out, level * amp_level * env * x, start, sr)
    return out


def _breaths(rng, phrases, amp_level: float, n: int, sr: int) -> np.ndarray:
    """Soft band-passed noise inhalations in the rests before phrases 2, 3, ..."""
    out = np.zeros(n)
    for (_, prev_end), (start, _) in zip(phrases[:-1], phrases[1:]):
        length = min(rng.uniform(0.25, 0.4), 0.8 * (start - prev_end))
        if length < 0.1:
            continue
        m = int(length * sr)
        x = _band_noise(rng, m, 600.0, 3000.0, sr)
        env = np.sin(np.pi * np.linspace(0.0, 1.0, m)) ** 2
        _place(out, 0.045 * amp_level * env * x, start - length - 0.06, sr)
    return out


def _vocal(rng, plan: _Plan, register: str, n: int, sr: int) -> np.ndarray:
    """The singing voice, (2, n) float64, near the centre."""
    ctrl_rate = sr / _HOP
    n_ctrl = n // _HOP + 2
    consonants, spans = _syllable_times(rng, plan.notes)
    t = np.arange(n_ctrl) / ctrl_rate
    f0 = _pitch_track(rng, plan.notes, spans, t, ctrl_rate)
    amp = _amplitude_track(rng, plan.notes, spans, t, ctrl_rate)
    freqs, bands = _formant_tracks(plan.notes, t, ctrl_rate, register)
    voiced = _additive_voice(f0, amp, freqs, bands, n, sr).astype(np.float64)
    level = _rms(voiced[np.abs(voiced) > 1e-3 * np.abs(voiced).max()])
    env = np.interp(np.arange(n), np.arange(n_ctrl) * _HOP, amp)
    aspiration = 0.02 * level * env * _band_noise(rng, n, 1500.0, 7000.0, sr)
    mono = voiced + aspiration
    mono += _consonant_noise(rng, plan.notes, consonants, level, n, sr)
    mono += _breaths(rng, plan.phrases, level, n, sr)
    mono = _highpass(mono, 80.0, sr)
    return _reverb(mono, rng, sr, rt60=1.2, wet=0.18)


# --------------------------------------------------------------------------- band

def _kick(rng, sr: int) -> np.ndarray:
    """Sine with an exponential pitch drop and decay, plus a click."""
    t = np.arange(int(0.45 * sr)) / sr
    f = rng.uniform(45.0, 52.0) + 110.0 * np.exp(-t / 0.035)
    body = np.sin(2.0 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.2)
    click = _band_noise(rng, len(t), 1000.0, 6000.0, sr) * np.exp(-t / 0.003) * 0.15
    return body + click


def _snare(rng, sr: int) -> np.ndarray:
    """Band-passed noise plus a short two-partial tone."""
    t = np.arange(int(0.3 * sr)) / sr
    f = rng.uniform(175.0, 200.0)
    tone = (np.sin(2 * np.pi * f * t) + 0.5 * np.sin(2 * np.pi * 1.6 * f * t)) * np.exp(-t / 0.05)
    noise = _band_noise(rng, len(t), 1500.0, 8000.0, sr) * np.exp(-t / 0.07)
    return 0.6 * tone + 0.5 * noise


def _hihat(rng, sr: int, *, open_: bool = False) -> np.ndarray:
    """Short high-passed noise (longer when open)."""
    tau = 0.12 if open_ else 0.022
    t = np.arange(int((0.4 if open_ else 0.08) * sr)) / sr
    return _band_noise(rng, len(t), 7000.0, 16000.0, sr) * np.exp(-t / tau)


def _drums(rng, plan: _Plan, n: int, sr: int) -> Dict[str, np.ndarray]:
    """Kick on 1 and 3 (plus a seeded extra), snare on 2 and 4, eighth-note hats."""
    kick, snare, hats = np.zeros(n), np.zeros(n), np.zeros((2, n))
    extra = float(rng.choice([1.5, 2.5, 3.5]))
    duration = n / sr
    for b in range(int(math.ceil(duration / plan.bar))):
        t0 = b * plan.bar
        for beat in (0.0, 2.0) + ((extra,) if rng.random() < 0.6 else ()):
            _place(kick, _kick(rng, sr), t0 + beat * plan.beat, sr, rng.uniform(0.85, 1.0))
        for beat in (1.0, 3.0):
            jitter = rng.normal(0.0, 0.003)
            _place(snare, _snare(rng, sr), t0 + beat * plan.beat + jitter, sr,
                   rng.uniform(0.85, 1.0))
        for i in range(8):
            open_ = i == 7 and b % 2 == 1
            gain = (1.0 if i % 2 == 0 else 0.6) * rng.uniform(0.8, 1.0)
            pan = 0.45 + 0.1 * (i % 2)
            hit = _pan(_hihat(rng, sr, open_=open_), pan)
            _place(hats, hit, t0 + i * 0.5 * plan.beat + rng.normal(0.0, 0.003), sr, gain)
    return {"kick": _pan(kick, 0.0), "snare": _pan(snare, -0.1), "hats": hats}


def _bass(rng, plan: _Plan, n: int, sr: int) -> np.ndarray:
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
        root = 28 + (chord[0] - 4) % 12                     # E1..D#2
        for start, length, interval in pattern:
            f = float(_midi_to_hz(root + interval))
            m = int((length * plan.beat + 0.03) * sr)
            t = np.arange(m) / sr
            env = _smoothstep(t / 0.008) * (0.6 + 0.4 * np.exp(-t / 0.25))
            env *= 1.0 - _smoothstep((t - (m / sr - 0.05)) / 0.05)
            phase = 2.0 * np.pi * f * t
            k = np.arange(1, len(harmonics) + 1)[:, None]
            tone = harmonics @ np.sin(k * phase[None, :])
            _place(out, env * tone, t0 + start * plan.beat, sr, rng.uniform(0.85, 1.0))
    return _pan(_lowpass(out, 900.0, sr), 0.0)


def _chords(rng, plan: _Plan, n: int, sr: int) -> np.ndarray:
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
        env = _smoothstep(t / 0.12) * (1.0 - _smoothstep((t - plan.bar) / 0.3))
        env *= 1.0 + 0.25 * (np.exp(-t / 0.3) - 0.3)               # gentle re-attack
        env *= 1.0 - 0.15 * (0.5 + 0.5 * np.sin(2.0 * np.pi * trem_rate * (t0 + t)))
        seg = np.zeros((2, m))
        for j, pc in enumerate(chord):
            midi = 55 + (pc - 7) % 12                              # G3..F#4
            for side, cents in ((0, -6.0), (1, 6.0)):
                f = float(_midi_to_hz(midi + cents / 100.0))
                ph = (2.0 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) % (2.0 * np.pi)
                tone = weights @ np.sin(h * ph.astype(np.float32)[None, :])
                pan = (-0.7 if side == 0 else 0.7) + 0.2 * (j - 1)
                seg += _pan(tone, float(np.clip(pan, -1.0, 1.0)))
        out[:, start:start + m] += seg * env
    out = _lowpass(out, 2200.0, sr)
    return _reverb(out, rng, sr, rt60=1.5, wet=0.3)


# --------------------------------------------------------------------------- mix

def _mix(rng, vocal: np.ndarray, band: Dict[str, np.ndarray]):
    """Balance the band, set the vocal/band ratio, peak-normalise; float32 stems."""
    instrumental = np.zeros_like(vocal)
    for name, stem in band.items():
        instrumental += stem * (10.0 ** (_BAND_LEVELS_DB[name] / 20.0) / max(_rms(stem), 1e-12))
    target_db = rng.uniform(-2.5, 0.0)
    instrumental *= _rms(vocal) / _rms(instrumental) / 10.0 ** (target_db / 20.0)
    gain = 10.0 ** (_PEAK_DBFS / 20.0) / np.abs(vocal + instrumental).max()
    vocal32 = (vocal * gain).astype(np.float32)
    instrumental32 = (instrumental * gain).astype(np.float32)
    mixture32 = vocal32 + instrumental32
    return mixture32, vocal32, instrumental32


def synthesize_song(*, seed: int = 0, sr: int = 44100, duration: float = 12.0,
                    tempo: Optional[float] = None, key: Optional[str] = None,
                    register: Optional[str] = None) -> DemoSong:
    """Synthesise a short song with an exactly known vocal stem.

    Parameters
    ----------
    seed : int >= 0
        Seeds :func:`numpy.random.default_rng`; the same arguments give identical
        arrays.  The seed also picks tempo, key and register unless given.
    sr : int
        Sample rate, 8000..192000 Hz.
    duration : float
        Length in seconds, 1..600.
    tempo : float, optional
        Beats per minute, 40..240 (a seed draws 84..128).
    key : str, optional
        One of :data:`KEYS` (``"C"``, ..., ``"Am"``, ...).
    register : str, optional
        ``"low"``, ``"mid"`` or ``"high"`` voice.

    Returns
    -------
    DemoSong
        ``mixture``, ``vocal`` and ``instrumental`` are float32 arrays of shape
        ``(2, round(duration * sr))`` with ``mixture == vocal + instrumental``.

    Raises
    ------
    ParameterError
        If a parameter is out of range or unknown.
    """
    _check_params(seed, sr, duration, tempo, key, register)
    sr = int(sr)
    rng = np.random.default_rng(int(seed))
    tempo, key, register = _choose_style(rng, tempo, key, register)
    n = int(round(duration * sr))
    plan = _plan_song(rng, tempo, key, register, duration)
    vocal = _vocal(rng, plan, register, n, sr)
    band = _drums(rng, plan, n, sr)
    band["bass"] = _bass(rng, plan, n, sr)
    band["chords"] = _chords(rng, plan, n, sr)
    mixture, vocal32, instrumental = _mix(rng, vocal, band)
    ratio_db = 20.0 * math.log10(_rms(vocal32) / _rms(instrumental))
    info = {
        "seed": int(seed),
        "sr": sr,
        "duration": float(duration),
        "tempo": float(tempo),
        "key": key,
        "register": register,
        "progression": [_chord_name(c) for c in plan.chords[:4]],
        "vocal_to_accompaniment_db": round(ratio_db, 3),
        "peak_dbfs": round(20.0 * math.log10(float(np.abs(mixture).max())), 3),
    }
    return DemoSong(mixture=mixture, vocal=vocal32, instrumental=instrumental, sr=sr,
                    info=info)


# --------------------------------------------------------------------------- files

def write_song(song: DemoSong, dest_dir: PathLike, *,
               names: Sequence[str] = DEFAULT_NAMES,
               subtype: str = "FLOAT") -> Dict[str, Path]:
    """Write mixture, vocal and instrumental as stereo WAVs, each atomically.

    Parameters
    ----------
    song : DemoSong
    dest_dir : str or Path
        Created if missing.
    names : sequence of 3 str
        File names for mixture, vocal and instrumental.
    subtype : str
        soundfile subtype; ``"FLOAT"`` keeps the samples (and so
        ``mixture == vocal + instrumental``) exact.

    Returns
    -------
    dict
        ``{"mixture": Path, "vocal": Path, "instrumental": Path}``.
    """
    names = tuple(names)
    if len(names) != 3 or len(set(names)) != 3:
        raise ParameterError(f"names={names!r} is not allowed: allowed 3 distinct file names")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    arrays = {"mixture": song.mixture, "vocal": song.vocal, "instrumental": song.instrumental}
    return {
        role: write_wav(dest / name, arrays[role], song.sr, subtype=subtype)
        for role, name in zip(arrays, names)
    }


def ensure_demo_song(root: PathLike = "data/demo", *, seed: int = 0) -> Path:
    """Make sure the demo song exists under ``root/"rtg"/"100-window"``.

    Writes the three files of :data:`DEFAULT_NAMES` (12 s, 44.1 kHz) if any is
    missing; existing files are left untouched.

    Returns
    -------
    Path
        The folder holding the files.
    """
    folder = Path(root) / "rtg" / "100-window"
    if not all((folder / name).is_file() for name in DEFAULT_NAMES):
        write_song(synthesize_song(seed=seed), folder)
    return folder
