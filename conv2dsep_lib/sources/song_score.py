"""The demo song's score: key, register, chord progression, the sung melody and its syllables.

Drawn from the caller's :class:`numpy.random.Generator` in a fixed order, so a seed
always gives the same song (see :mod:`.song`).
"""

from __future__ import annotations

import math
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

__all__ = [
    "KEYS",
    "REGISTERS",
    "SEED_TEMPO_RANGE",
    "VOWELS",
    "CONSONANTS",
    "Note",
    "Plan",
    "choose_style",
    "chord_name",
    "plan_song",
]

SEED_TEMPO_RANGE = (84, 128)

#: Key name -> (tonic pitch class, mode).
KEYS: Dict[str, Tuple[int, str]] = {
    "C": (0, "major"),
    "D": (2, "major"),
    "Eb": (3, "major"),
    "E": (4, "major"),
    "F": (5, "major"),
    "G": (7, "major"),
    "A": (9, "major"),
    "Bb": (10, "major"),
    "Am": (9, "minor"),
    "Bm": (11, "minor"),
    "Cm": (0, "minor"),
    "Dm": (2, "minor"),
    "Em": (4, "minor"),
    "F#m": (6, "minor"),
    "Gm": (7, "minor"),
}

#: Register -> (melody centre as MIDI note, formant scale factor).
REGISTERS: Dict[str, Tuple[int, float]] = {
    "low": (52, 0.86),  # E3 +- 8 semitones: ~105..260 Hz, baritone-like formants
    "mid": (59, 0.93),  # B3 +- 8 semitones: ~155..390 Hz
    "high": (67, 1.0),  # G4 +- 8 semitones: ~245..620 Hz, soprano formants
}

_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}

#: Four-chord progressions as 0-based scale degrees of the chord roots.
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4)),  # I-V-vi-IV, I-vi-IV-V, vi-IV-I-V
    # i-VI-III-VII, i-iv-VII-III, i-VII-VI-VII
    "minor": ((0, 5, 2, 6), (0, 3, 6, 2), (0, 6, 5, 6)),
}

_PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: Vowel -> (F1, F2, F3) Hz and bandwidths (soprano values; scaled by register).
VOWELS = {
    "a": ((800.0, 1150.0, 2900.0), (80.0, 90.0, 120.0)),
    "e": ((450.0, 1900.0, 2700.0), (70.0, 100.0, 120.0)),
    "i": ((300.0, 2250.0, 3000.0), (60.0, 90.0, 100.0)),
    "o": ((480.0, 820.0, 2800.0), (70.0, 80.0, 100.0)),
    "u": ((330.0, 700.0, 2700.0), (50.0, 60.0, 170.0)),
}

_VOWEL_CHOICE = ("a", "e", "i", "o", "u")

_VOWEL_WEIGHTS = (0.3, 0.2, 0.2, 0.2, 0.1)

#: Consonant -> (duration range s, noise band Hz, level relative to the vowel).
CONSONANTS = {
    "s": ((0.08, 0.12), (4500.0, 10000.0), 0.22),
    "sh": ((0.08, 0.11), (1800.0, 5500.0), 0.20),
    "t": ((0.02, 0.035), (2500.0, 9000.0), 0.35),
    "k": ((0.03, 0.045), (1200.0, 4000.0), 0.30),
}


class Note(NamedTuple):
    onset: float  # note (beat) time, s
    end: float  # s
    midi: float
    vowel: str
    consonant: Optional[str]
    phrase_start: bool


class Plan(NamedTuple):
    beat: float  # s per beat
    bar: float  # s per bar
    chords: List[Tuple[int, ...]]  # per bar: chord tones as pitch classes, root first
    notes: List[Note]
    phrases: List[Tuple[float, float]]  # (first onset, last end) per phrase


def choose_style(rng, tempo, key, register):
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
    return [tuple((tonic + scale[(d + k) % 7]) % 12 for k in (0, 2, 4)) for d in degrees]


def chord_name(tones: Tuple[int, ...]) -> str:
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


def _compose_melody(rng, key: str, register: str, chords, beat: float, bar: float, duration: float):
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

    notes: List[Note] = []
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
            step = int(
                rng.choice(
                    [-3, -2, -1, -1, 0, 1, 1, 2, 3], p=[0.05, 0.15, 0.2, 0.1, 0.05, 0.2, 0.1, 0.1, 0.05]
                )
            )
            idx = int(np.clip(idx + step, 1, len(pool) - 2))
            if pos % 2 == 0 or i == len(durations) - 1:  # beats 1 and 3, phrase end
                idx = nearest_chord_tone(idx, onset)
            first = i == 0
            if first and phrase_index == 0:
                consonant = None  # sing at once at t = 0
            elif rng.random() < (0.75 if first else 0.5):
                consonant = str(rng.choice(["s", "t", "k", "sh"], p=[0.35, 0.3, 0.2, 0.15]))
            else:
                consonant = None
            vowel = str(rng.choice(_VOWEL_CHOICE, p=_VOWEL_WEIGHTS))
            notes.append(Note(onset, onset + d * beat, float(pool[idx]), vowel, consonant, first))
            pos += d
        phrases.append((start, start + length * beat))
        phrase_index += 1
    return notes, phrases


def plan_song(rng, tempo: float, key: str, register: str, duration: float) -> Plan:
    beat = 60.0 / tempo
    bar = 4 * beat
    progression = _progression(rng, key)
    n_bars = int(math.ceil(duration / bar)) + 1
    chords = [progression[i % 4] for i in range(n_bars)]
    notes, phrases = _compose_melody(rng, key, register, chords, beat, bar, duration)
    return Plan(beat, bar, chords, notes, phrases)
