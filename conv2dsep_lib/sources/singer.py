"""A richer synthetic singer for training material: glottal pulses through moving formants.

The demo songs' voice (:mod:`.song_voice`) is an additive synthesiser with perfectly
periodic harmonics.  Real singing is not: the glottis opens and closes a little
irregularly (jitter in period, shimmer in amplitude), leaks breath noise, the vocal
tract moves between vowels (and within diphthongs), consonants interrupt the voicing,
voice types differ in range and formants, and the voice is heard in a room.  This
module makes such a voice from a melody plan of :mod:`.song_score`, in
numpy/scipy/librosa only.

Design
------
*Control tracks* are computed once per STFT frame (hop :data:`HOP` = 128 samples,
5.8 ms at 22050 Hz): F0 (notes joined by portamento, a scoop into phrases, slow
drift and flutter, per-note vibrato that fades in), voicing amplitude (syllable
attacks and releases, a swell within notes), breath level, and five formants with
their levels and bandwidths.  The formants come from the singing-voice table of
the CHANT/Csound formant synthesis (:data:`SINGING_FORMANTS`: bass, tenor, alto,
soprano x a, e, i, o, u); a syllable's vowel is one of those or a blend of two
(more vowel colours), a diphthong glides to a second vowel, m/n/l get nasal or
lateral formants, F1 is raised to follow a high F0 (as sopranos do), and each singer
scales the formants by a vocal-tract length factor.

*Source.*  :func:`.song_dsp.rosenberg_source`: Rosenberg glottal-flow-derivative
pulses at twice the sample rate with period *jitter* and amplitude *shimmer*,
decimated, plus breath noise (stronger while the glottis is open).

*Filter.*  The source's STFT is multiplied frame by frame by the parallel formant
envelope (a resonance per formant at its level, over a first-order tilt) and
inverted (:func:`.song_dsp.apply_envelope`): a time-varying filter for two FFT passes.

*Consonants* are band-passed noise bursts (s, sh, f, t, k, p) before the beat, "h" is
breath noise through the next vowel's formants.  Breaths fill the rests before
phrases.  *Reverb* (:func:`.song_dsp.room_reverb`) is a decaying noise tail after a
pre-delay.  Everything random comes from the caller's :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import ParameterError
from .song_dsp import (
    apply_envelope,
    band_noise,
    highpass,
    lowpass,
    midi_to_hz,
    rms,
    room_reverb,
    rosenberg_source,
    smooth,
    smooth_noise,
    smoothstep,
)
from .song_score import REGISTERS, Note, Plan, choose_style, plan_song

__all__ = [
    "HOP",
    "N_FFT",
    "SINGER_REGISTERS",
    "SINGING_FORMANTS",
    "SingerRegister",
    "SingerStyle",
    "draw_style",
    "singer_plan",
    "pitch_track",
    "sing",
]

#: STFT frame size and hop (samples) of the control tracks and the envelope filter.
N_FFT = 1024
HOP = 128


class SingerRegister(NamedTuple):
    """A voice type: melody centre (MIDI), the :data:`.song_score.REGISTERS` plan it
    transposes, its :data:`SINGING_FORMANTS` table and scale, and its open quotient."""

    centre: int
    base: str
    table: str
    formant_scale: float
    open_quotient: float


#: Voice types, low to high (centre +- 8 semitones is the melody's range).
SINGER_REGISTERS: Dict[str, SingerRegister] = {
    "bass": SingerRegister(46, "low", "bass", 1.0, 0.50),  # Bb2: ~ 73..185 Hz
    "baritone": SingerRegister(50, "low", "bass", 1.05, 0.52),  # D3
    "tenor": SingerRegister(56, "mid", "tenor", 1.0, 0.55),  # Ab3
    "alto": SingerRegister(62, "mid", "alto", 1.0, 0.60),  # D4
    "mezzo": SingerRegister(65, "high", "alto", 1.04, 0.62),  # F4
    "soprano": SingerRegister(69, "high", "soprano", 1.0, 0.65),  # A4: ~ 275..700 Hz
}

#: Voice -> vowel -> (F1..F5 Hz, levels dB, bandwidths Hz): the singing-voice formant
#: table of CHANT as printed in the Csound manual ("Formant values" appendix).
SINGING_FORMANTS: Dict[str, Dict[str, Tuple[Tuple[float, ...], Tuple[float, ...], Tuple[float, ...]]]] = {
    "bass": {
        "a": ((600, 1040, 2250, 2450, 2750), (0, -7, -9, -9, -20), (60, 70, 110, 120, 130)),
        "e": ((400, 1620, 2400, 2800, 3100), (0, -12, -9, -12, -18), (40, 80, 100, 120, 120)),
        "i": ((250, 1750, 2600, 3050, 3340), (0, -30, -16, -22, -28), (60, 90, 100, 120, 120)),
        "o": ((400, 750, 2400, 2600, 2900), (0, -11, -21, -20, -40), (40, 80, 100, 120, 120)),
        "u": ((350, 600, 2400, 2675, 2950), (0, -20, -32, -28, -36), (40, 80, 100, 120, 120)),
    },
    "tenor": {
        "a": ((650, 1080, 2650, 2900, 3250), (0, -6, -7, -8, -22), (80, 90, 120, 130, 140)),
        "e": ((400, 1700, 2600, 3200, 3580), (0, -14, -12, -14, -20), (70, 80, 100, 120, 120)),
        "i": ((290, 1870, 2800, 3250, 3540), (0, -15, -18, -20, -30), (40, 90, 100, 120, 120)),
        "o": ((400, 800, 2600, 2800, 3000), (0, -10, -12, -12, -26), (40, 80, 100, 120, 120)),
        "u": ((350, 600, 2700, 2900, 3300), (0, -20, -17, -14, -26), (40, 60, 100, 120, 120)),
    },
    "alto": {
        "a": ((800, 1150, 2800, 3500, 4950), (0, -4, -20, -36, -60), (80, 90, 120, 130, 140)),
        "e": ((400, 1600, 2700, 3300, 4950), (0, -24, -30, -35, -60), (60, 80, 120, 150, 200)),
        "i": ((350, 1700, 2700, 3700, 4950), (0, -20, -30, -36, -60), (50, 100, 120, 150, 200)),
        "o": ((450, 800, 2830, 3500, 4950), (0, -9, -16, -28, -55), (70, 80, 100, 130, 135)),
        "u": ((325, 700, 2530, 3500, 4950), (0, -12, -30, -40, -64), (50, 60, 170, 180, 200)),
    },
    "soprano": {
        "a": ((800, 1150, 2900, 3900, 4950), (0, -6, -32, -20, -50), (80, 90, 120, 130, 140)),
        "e": ((350, 2000, 2800, 3600, 4950), (0, -20, -15, -40, -56), (60, 100, 120, 150, 200)),
        "i": ((270, 2140, 2950, 3900, 4950), (0, -12, -26, -26, -44), (60, 90, 100, 120, 120)),
        "o": ((450, 800, 2830, 3800, 4950), (0, -11, -22, -22, -50), (40, 80, 100, 120, 120)),
        "u": ((325, 700, 2700, 3800, 4950), (0, -16, -35, -40, -60), (50, 60, 170, 180, 200)),
    },
}
_VOWELS = ("a", "e", "i", "o", "u")

#: Voiced consonants -> (F1..F3 Hz, their levels dB, the voicing level relative to the vowel).
_VOICED_CONSONANTS = {
    "m": ((250.0, 1000.0, 2200.0), (0.0, -20.0, -30.0), 0.35),
    "n": ((250.0, 1500.0, 2500.0), (0.0, -18.0, -28.0), 0.35),
    "l": ((360.0, 1300.0, 2700.0), (0.0, -10.0, -20.0), 0.55),
}
#: Noise consonants -> (duration range s, band Hz, level relative to the vowel RMS).
_NOISE_CONSONANTS = {
    "s": ((0.08, 0.14), (4500.0, 10500.0), 0.30),
    "sh": ((0.08, 0.13), (1800.0, 6000.0), 0.26),
    "f": ((0.07, 0.12), (1200.0, 9000.0), 0.10),
    "t": ((0.02, 0.04), (2500.0, 9000.0), 0.45),
    "k": ((0.03, 0.05), (1200.0, 4000.0), 0.40),
    "p": ((0.015, 0.03), (400.0, 3000.0), 0.35),
}
_CONSONANT_CHOICE = ("s", "sh", "f", "t", "k", "p", "h", "m", "n", "l")
_CONSONANT_WEIGHTS = (0.14, 0.07, 0.07, 0.14, 0.1, 0.07, 0.1, 0.11, 0.11, 0.09)


@dataclass(frozen=True)
class SingerStyle:
    """One singer's voice: drawn per song by :func:`draw_style` (all JSON-able).

    Attributes
    ----------
    register : str
        A key of :data:`SINGER_REGISTERS`.
    formant_scale : float
        Vocal-tract length factor on the table's formant frequencies.
    bandwidth_scale : float
        Factor on the formant bandwidths (wider is duller, breathier).
    open_quotient : float
        Fraction of the glottal period the glottis is open (0.4..0.8; higher is softer).
    jitter, shimmer : float
        Relative standard deviation of period length and of pulse amplitude.
    breathiness : float
        Breath-noise level relative to the voiced source (0..0.5).
    vibrato_rate, vibrato_depth : float
        Hz and semitones (peak) of the vibrato of long notes.
    portamento : float
        Seconds of the glide between notes.
    tilt_hz : float
        Corner of the first-order (-6 dB/octave) spectral tilt (lower is darker, softer singing).
    rt60, reverb_wet : float
        Room decay time (s) and reverb level; ``reverb_wet=0`` is dry.
    """

    register: str
    formant_scale: float
    bandwidth_scale: float
    open_quotient: float
    jitter: float
    shimmer: float
    breathiness: float
    vibrato_rate: float
    vibrato_depth: float
    portamento: float
    tilt_hz: float
    rt60: float
    reverb_wet: float


def draw_style(rng: np.random.Generator, *, register: Optional[str] = None) -> SingerStyle:
    """Draw a singer: register (unless given), tract length, jitter, shimmer, breath, vibrato, room."""
    if register is None:
        register = str(rng.choice(list(SINGER_REGISTERS)))
    _check_register(register)
    reg = SINGER_REGISTERS[register]
    return SingerStyle(
        register=register,
        formant_scale=round(reg.formant_scale * float(rng.uniform(0.94, 1.06)), 4),
        bandwidth_scale=round(float(rng.uniform(0.9, 1.6)), 4),
        open_quotient=round(float(np.clip(reg.open_quotient + rng.normal(0.0, 0.06), 0.4, 0.8)), 4),
        jitter=round(float(rng.uniform(0.003, 0.015)), 5),
        shimmer=round(float(rng.uniform(0.02, 0.10)), 4),
        breathiness=round(float(rng.uniform(0.02, 0.25)), 4),
        vibrato_rate=round(float(rng.uniform(4.5, 6.8)), 3),
        vibrato_depth=round(float(rng.uniform(0.15, 0.8)), 3),
        portamento=round(float(rng.uniform(0.04, 0.14)), 4),
        tilt_hz=round(float(rng.uniform(1500.0, 6000.0)), 1),
        rt60=round(float(rng.uniform(0.3, 2.2)), 3),
        reverb_wet=round(float(rng.choice([0.0, 1.0], p=[0.15, 0.85]) * rng.uniform(0.05, 0.35)), 4),
    )


def _check_register(register: str) -> None:
    if register not in SINGER_REGISTERS:
        raise ParameterError(f"register={register!r} is not known: allowed {', '.join(SINGER_REGISTERS)}")


def singer_plan(
    rng: np.random.Generator,
    *,
    seconds: float,
    register: str,
    tempo: Optional[float] = None,
    key: Optional[str] = None,
) -> Plan:
    """A melody plan of :mod:`.song_score` transposed into a voice type's range.

    Parameters
    ----------
    rng : numpy.random.Generator
    seconds : float
        Length of the song the plan covers.
    register : str
        A key of :data:`SINGER_REGISTERS`; the plan of its ``base`` register is
        shifted by whole semitones to its ``centre``.
    tempo, key : optional
        As :func:`.song_score.choose_style` (drawn when None).

    Returns
    -------
    Plan
        ``notes[i].midi`` in the voice type's range and ``chords`` transposed by the same
        interval, so a band of :mod:`.song_band` played from the plan is in the melody's key.
    """
    _check_register(register)
    reg = SINGER_REGISTERS[register]
    tempo, key, _ = choose_style(rng, tempo, key, reg.base)
    plan = plan_song(rng, tempo, key, reg.base, seconds)
    shift = reg.centre - REGISTERS[reg.base][0]
    return plan._replace(
        notes=[note._replace(midi=note.midi + shift) for note in plan.notes],
        chords=[tuple((pc + shift) % 12 for pc in chord) for chord in plan.chords],
    )


def _frames_of(t0: float, t1: float, frame_rate: float, n_frames: int) -> slice:
    i0 = min(max(int(math.floor(t0 * frame_rate)), 0), n_frames)
    return slice(i0, min(max(int(math.ceil(t1 * frame_rate)) + 1, i0), n_frames))


def pitch_track(
    notes: Sequence[Note],
    *,
    rng: np.random.Generator,
    n_frames: int,
    frame_rate: float,
    vibrato_rate: float = 5.5,
    vibrato_depth: float = 0.4,
    portamento: float = 0.08,
) -> np.ndarray:
    """F0 in Hz per frame: notes joined by glides, scoops, drift and delayed vibrato.

    Parameters
    ----------
    notes : sequence of Note
        ``onset``, ``end`` (s) and ``midi``; ``phrase_start`` notes scoop up a semitone.
    rng : numpy.random.Generator
    n_frames : int
    frame_rate : float
        Frames per second (frame *j* is at ``j / frame_rate`` s).
    vibrato_rate, vibrato_depth : float
        Hz and semitones (peak); each note of 0.3 s or more gets vibrato of
        0.6..1.3 times that depth, fading in after 0.1..0.35 s.
    portamento : float
        Glide time between notes (s).

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        Hz, > 0 everywhere (rests keep the last pitch).
    """
    t = np.arange(n_frames) / frame_rate
    idx = np.clip(np.searchsorted([nt.onset for nt in notes], t, side="right") - 1, 0, None)
    midi = np.asarray([nt.midi for nt in notes], dtype=np.float64)[idx]
    midi = smooth(midi, int(portamento * frame_rate))
    for note in notes:
        if note.phrase_start and rng.random() < 0.7:
            sl = _frames_of(note.onset - 0.03, note.onset + 0.15, frame_rate, n_frames)
            midi[sl] -= rng.uniform(0.5, 1.5) * (1.0 - smoothstep((t[sl] - note.onset) / 0.15))
    midi += 0.08 * smooth_noise(rng, n_frames, max(int(0.25 * frame_rate), 3))  # drift
    midi += 0.03 * smooth_noise(rng, n_frames, max(int(0.03 * frame_rate), 3))  # flutter
    rate = vibrato_rate * (1.0 + 0.04 * smooth_noise(rng, n_frames, max(int(0.5 * frame_rate), 3)))
    phase = 2.0 * np.pi * np.cumsum(rate) / frame_rate + rng.uniform(0.0, 2.0 * np.pi)
    depth = np.zeros(n_frames)
    for note in notes:
        length = note.end - note.onset
        if length < 0.3:
            continue
        delay = min(rng.uniform(0.1, 0.35), 0.4 * length)
        sl = _frames_of(note.onset, note.end, frame_rate, n_frames)
        tt = t[sl] - note.onset
        ramp = smoothstep((tt - delay) / 0.2) * (1.0 - smoothstep((tt - length + 0.1) / 0.1))
        depth[sl] = np.maximum(depth[sl], vibrato_depth * rng.uniform(0.6, 1.3) * ramp)
    return midi_to_hz(midi + depth * np.sin(phase))


class _Syllable(NamedTuple):
    note: Note
    consonant: Optional[str]
    vowels: Tuple[Tuple[str, str, float], ...]  # (vowel, vowel, blend weight); two for a diphthong
    start: float  # voicing (vowel, or voiced consonant) start, s
    stop: float  # vowel end, s
    cons: Tuple[float, float]  # consonant (start, length), s


def _vowel_colour(rng: np.random.Generator) -> Tuple[str, str, float]:
    """A table vowel (60 %) or a blend of two (more vowel colours: ae, uh, aw, ...)."""
    a, b = (str(v) for v in rng.choice(_VOWELS, size=2))
    return (a, b, 0.0) if rng.random() < 0.6 else (a, b, round(float(rng.uniform(0.2, 0.6)), 3))


def _syllables(rng: np.random.Generator, notes: Sequence[Note]) -> List[_Syllable]:
    """Draw each note's consonant and vowel(s); time the consonant before the beat."""
    out: List[_Syllable] = []
    for i, note in enumerate(notes):
        consonant = None
        if not (i == 0 and note.onset < 0.05) and rng.random() < (0.8 if note.phrase_start else 0.55):
            consonant = str(rng.choice(_CONSONANT_CHOICE, p=_CONSONANT_WEIGHTS))
        vowels = (_vowel_colour(rng),)
        if rng.random() < 0.25 and note.end - note.onset > 0.3:  # a diphthong
            vowels += ((str(rng.choice(("i", "u", "e"))), "a", 0.0),)
        if consonant in _NOISE_CONSONANTS:
            lo, hi = _NOISE_CONSONANTS[consonant][0]
            length = float(rng.uniform(lo, hi))
        else:
            length = float(rng.uniform(0.05, 0.1))
        cons = (note.onset - length, length)
        start = note.onset - (length if consonant in _VOICED_CONSONANTS else 0.0)
        out.append(_Syllable(note, consonant, vowels, max(start, 0.0), note.end, cons))
    for i in range(len(out) - 1):
        nxt = out[i + 1]
        if out[i].note.end < nxt.note.onset - 1e-6:  # a rest follows
            stop = out[i].note.end - 0.04
        elif nxt.consonant in _NOISE_CONSONANTS or nxt.consonant == "h":
            stop = nxt.cons[0] - (0.03 if nxt.consonant in ("t", "k", "p") else 0.005)
        else:
            stop = nxt.start + 0.02  # legato
        out[i] = out[i]._replace(stop=max(stop, out[i].start + 0.4 * (out[i].note.end - out[i].note.onset)))
    if out:
        out[-1] = out[-1]._replace(stop=out[-1].note.end - 0.04)
    return out


def _target(table: str, colour: Tuple[str, str, float]) -> np.ndarray:
    """(3, 5): formant frequencies, levels (dB) and bandwidths of a vowel colour."""
    a, b, w = colour
    va = np.array(SINGING_FORMANTS[table][a], dtype=np.float64)
    vb = np.array(SINGING_FORMANTS[table][b], dtype=np.float64)
    return (1.0 - w) * va + w * vb


def _tracks(rng, syllables: List[_Syllable], style: SingerStyle, f0: np.ndarray, frame_rate: float):
    """Per frame: voicing amplitude, breath level, and (3, 5, F) formant frequencies, levels
    (dB) and bandwidths, moving smoothly between syllables."""
    n_frames = len(f0)
    table = SINGER_REGISTERS[style.register].table
    t = np.arange(n_frames) / frame_rate
    amp = np.zeros(n_frames)
    breath = np.zeros(n_frames)
    formants = np.repeat(_target(table, ("a", "o", 0.5))[:, :, None], n_frames, axis=2)
    for syl in syllables:
        sl = _frames_of(syl.start, syl.stop, frame_rate, n_frames)
        tt = t[sl]
        attack = rng.uniform(0.02, 0.06)
        env = smoothstep((tt - syl.start) / attack) * (1.0 - smoothstep((tt - syl.stop + 0.05) / 0.05))
        span = max(syl.stop - syl.note.onset, 1e-3)
        swell = 1.0 + rng.uniform(-0.15, 0.25) * np.clip((tt - syl.note.onset) / span, 0.0, 1.0)
        amp[sl] = np.maximum(amp[sl], rng.uniform(0.75, 1.0) * env * swell)
        first, last = _target(table, syl.vowels[0]), _target(table, syl.vowels[-1])
        glide = smoothstep((tt - syl.note.onset - 0.55 * span) / (0.3 * span)) if len(syl.vowels) > 1 else 0.0
        formants[:, :, sl] = first[:, :, None] * (1.0 - glide) + last[:, :, None] * glide
        if syl.consonant in _VOICED_CONSONANTS:
            c_freqs, c_levels, c_amp = _VOICED_CONSONANTS[syl.consonant]
            cs = _frames_of(syl.start, syl.note.onset, frame_rate, n_frames)
            formants[0, :3, cs] = np.array(c_freqs)[:, None]
            formants[1, :3, cs] = np.array(c_levels)[:, None]
            formants[1, 3:, cs] = -60.0
            amp[cs] *= c_amp
        elif syl.consonant == "h":
            cs = _frames_of(syl.cons[0], syl.note.onset, frame_rate, n_frames)
            breath[cs] = np.maximum(breath[cs], 0.5 * np.sin(np.linspace(0.0, np.pi, len(t[cs]))))
    formants = smooth(formants, max(int(0.05 * frame_rate), 3))  # coarticulation
    formants[0] *= style.formant_scale
    formants[0, 0] = np.where(f0 > 0.9 * formants[0, 0], np.maximum(formants[0, 0], 1.1 * f0), formants[0, 0])
    formants[2] *= style.bandwidth_scale
    amp *= 1.0 + style.shimmer * 0.5 * smooth_noise(rng, n_frames, max(int(0.06 * frame_rate), 3))
    breath = np.maximum(breath, style.breathiness * amp)
    return np.clip(amp, 0.0, None), breath, formants


def _formant_envelope(formants: np.ndarray, style: SingerStyle, sr: int) -> np.ndarray:
    """(bins, frames) magnitude: a resonance per formant at its level, times a tilt.

    Parallel formant synthesis: each formant adds ``10 ** (level / 20) / sqrt(1 + ((f**2 -
    F**2) / (B * f)) ** 2)`` (a second-order resonance's magnitude, 1 at its peak).  The
    levels are those of the sung spectrum (as in CHANT, whose excitation is flat), so the
    Rosenberg source's own slope is undone and a first-order tilt at ``style.tilt_hz``
    (the singer's effort) applied instead.
    """
    f = np.linspace(0.0, sr / 2.0, N_FFT // 2 + 1, dtype=np.float64)[:, None]
    gain = np.zeros((len(f), formants.shape[2]))
    for fk, level, bk in zip(formants[0], formants[1], formants[2]):
        x = (f * f - fk[None, :] ** 2) / (bk[None, :] * np.maximum(f, 1.0))
        gain += 10.0 ** (level[None, :] / 20.0) / np.sqrt(1.0 + x * x)
    # the table's levels are the voice's spectral peaks: undo the glottal pulses' own
    # -6 dB/octave above ~400 Hz, then tilt by the singer's effort
    tilt = np.sqrt((1.0 + (f / 400.0) ** 2) / (1.0 + (f / style.tilt_hz) ** 2))
    return gain * tilt * (f < 0.47 * sr)


def _noise_consonants(rng, syllables: List[_Syllable], level: float, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    for syl in syllables:
        if syl.consonant not in _NOISE_CONSONANTS:
            continue
        _, (lo, hi), rel = _NOISE_CONSONANTS[syl.consonant]
        start, length = syl.cons
        m = max(int(length * sr), 16)
        u = np.linspace(0.0, 1.0, m)
        if syl.consonant in ("t", "k", "p"):
            env = np.exp(-u * 4.0) * smoothstep(u / 0.05)
        else:
            env = np.sin(np.pi * u) ** 1.5
        s0 = int(round(start * sr))
        if s0 < 0 or s0 >= n:
            continue
        seg = rel * level * rng.uniform(0.6, 1.3) * env * band_noise(rng, m, lo, hi, sr)
        out[s0 : s0 + m] += seg[: n - s0]
    return out


def _breaths(rng, phrases, level: float, n: int, sr: int) -> np.ndarray:
    """Soft inhalations in the rests before phrases 2, 3, ..."""
    out = np.zeros(n)
    for (_, prev_end), (start, _) in zip(phrases[:-1], phrases[1:]):
        length = min(rng.uniform(0.2, 0.45), 0.8 * (start - prev_end))
        s0 = int((start - length - 0.05) * sr)
        if length < 0.1 or s0 < 0 or s0 >= n:
            continue
        m = int(length * sr)
        env = np.sin(np.pi * np.linspace(0.0, 1.0, m)) ** 2
        seg = rng.uniform(0.03, 0.08) * level * env * band_noise(rng, m, 500.0, 3500.0, sr)
        out[s0 : s0 + m] += seg[: n - s0]
    return out


def sing(
    plan: Plan,
    *,
    n: int,
    rng: np.random.Generator,
    sr: int = 22050,
    register: Optional[str] = None,
    style: Optional[SingerStyle] = None,
) -> np.ndarray:
    """Sing a melody plan: glottal source, moving formants, consonants, breaths, reverb.

    Parameters
    ----------
    plan : Plan
        Notes (``onset``, ``end``, ``midi``) and phrases, e.g. from :func:`singer_plan`
        (the notes' vowels and consonants are redrawn from a richer set).
    n : int
        Number of samples to return (notes after ``n / sr`` are cut).
    rng : numpy.random.Generator
    sr : int
        Sample rate, 8000..192000 Hz.
    register : str, optional
        A key of :data:`SINGER_REGISTERS`; used to draw *style* when it is None.
    style : SingerStyle, optional
        The voice; drawn by :func:`draw_style` when None.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
        The dry-plus-reverb vocal, peak 0.5 (silent only if the plan has no notes).

    Raises
    ------
    ParameterError
        *n* < 1, *sr* out of range, an unknown register.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n={n!r} is not allowed: allowed an integer >= 1")
    if not 8000 <= sr <= 192000:
        raise ParameterError(f"sr={sr!r} is out of range: allowed 8000..192000 Hz")
    if style is None:
        style = draw_style(rng, register=register)
    _check_register(style.register)
    notes = [nt for nt in plan.notes if nt.onset < n / sr]
    if not notes:
        return np.zeros(n, dtype=np.float32)
    frame_rate = sr / HOP
    n_frames = 1 + n // HOP
    syllables = _syllables(rng, notes)
    f0 = pitch_track(
        notes,
        rng=rng,
        n_frames=n_frames,
        frame_rate=frame_rate,
        vibrato_rate=style.vibrato_rate,
        vibrato_depth=style.vibrato_depth,
        portamento=style.portamento,
    )
    amp, breath, formants = _tracks(rng, syllables, style, f0, frame_rate)
    frame_pos = np.arange(n_frames) * HOP
    f0_s = np.interp(np.arange(n), frame_pos, f0)
    source = rosenberg_source(
        f0_s,
        sr=sr,
        rng=rng,
        open_quotient=style.open_quotient,
        jitter=style.jitter,
        shimmer=style.shimmer,
    )
    noise = lowpass(highpass(rng.standard_normal(n), 600.0, sr), 400.0, sr, order=1)  # the pulses' slope
    noise /= max(rms(noise), 1e-12)
    source = source * np.interp(np.arange(n), frame_pos, amp) + noise * np.interp(
        np.arange(n), frame_pos, breath
    )
    voice = apply_envelope(source, _formant_envelope(formants, style, sr), n_fft=N_FFT, hop=HOP)
    active = np.abs(voice) > 1e-3 * max(float(np.abs(voice).max()), 1e-12)
    level = rms(voice[active]) if active.any() else 1.0
    voice = (
        voice + _noise_consonants(rng, syllables, level, n, sr) + _breaths(rng, plan.phrases, level, n, sr)
    )
    voice = room_reverb(highpass(voice, 70.0, sr), rng, sr, rt60=style.rt60, wet=style.reverb_wet)
    peak = float(np.abs(voice).max())
    return (voice * (0.5 / peak if peak > 0 else 0.0)).astype(np.float32)
