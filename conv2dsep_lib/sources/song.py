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

*Four stems.*  :attr:`DemoSong.stems` holds the band split as MUSDB18 splits a song:
``drums`` (kick + snare + hats), ``bass`` and ``other`` (the chord pad), each scaled by
exactly the gains the instrumental gets.  ``other`` is defined as
``instrumental - drums - bass`` in float32 (the chord pad up to float32 rounding), so
that ``drums + bass + other`` is the instrumental and ``vocal + drums + bass + other``
the mixture to float32 rounding (a few 1e-8).  The stems draw no random numbers:
``mixture``, ``vocal`` and ``instrumental`` are the same bytes as before they existed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from ..core.errors import ParameterError
from ..core.files import PathLike
from .audio import write_wav
from .layout import OUTPUT_NAMES, STEM_NAMES
from .song_band import bass_stem, chord_stem, drum_stems
from .song_dsp import rms
from .song_score import KEYS, REGISTERS, choose_style, chord_name, plan_song
from .song_voice import vocal_stem

__all__ = [
    "DemoSong",
    "DEFAULT_NAMES",
    "BAND_TARGETS",
    "KEYS",
    "REGISTERS",
    "synthesize_song",
    "write_song",
]

#: File names written by :func:`write_song` (mixture, vocal, instrumental): the prepared layout's.
DEFAULT_NAMES = tuple(OUTPUT_NAMES[role] for role in ("mixture", "vocal", "instrumental"))
#: The band's targets in :attr:`DemoSong.stems` (MUSDB18's names; the vocal is ``vocal``).
BAND_TARGETS = ("drums", "bass", "other")
#: Allowed tempo range (BPM), and the range a seed draws from.
TEMPO_RANGE = (40.0, 240.0)

#: Allowed sample rates and durations (seconds).
SR_RANGE = (8000, 192000)

DURATION_RANGE = (1.0, 600.0)

#: Band stem RMS levels relative to each other (dB).
_BAND_LEVELS_DB = {"kick": -3.0, "snare": -7.0, "hats": -15.0, "bass": -4.0, "chords": -6.0}
#: Band stems summed into each target before the common gains (``other`` is the residual).
_TARGET_PARTS = {"drums": ("kick", "snare", "hats"), "bass": ("bass",)}

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
    stems : dict of str -> np.ndarray [shape=(2, n_samples), dtype=float32]
        The instrumental split by target, keys :data:`BAND_TARGETS` (``"drums"``,
        ``"bass"``, ``"other"``): scaled by the same gains as ``vocal`` and
        ``instrumental``; ``other = instrumental - drums - bass`` (float32), so
        ``vocal + drums + bass + other == mixture`` to float32 rounding.  Empty only
        for a ``DemoSong`` built by hand.
    """

    mixture: np.ndarray
    vocal: np.ndarray
    instrumental: np.ndarray
    sr: int
    info: dict
    stems: Dict[str, np.ndarray] = field(default_factory=dict)


def _check_params(seed, sr, duration, tempo, key, register) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed={seed!r} is not allowed: allowed an integer >= 0")
    if (
        isinstance(sr, bool)
        or not isinstance(sr, (int, np.integer))
        or not (SR_RANGE[0] <= sr <= SR_RANGE[1])
    ):
        raise ParameterError(f"sr={sr!r} is out of range: allowed an integer {SR_RANGE[0]}..{SR_RANGE[1]} Hz")
    if not isinstance(duration, (int, float, np.number)) or not (
        DURATION_RANGE[0] <= duration <= DURATION_RANGE[1]
    ):
        raise ParameterError(
            f"duration={duration!r} is out of range: allowed {DURATION_RANGE[0]:g}..{DURATION_RANGE[1]:g} seconds"
        )
    if tempo is not None and (
        not isinstance(tempo, (int, float, np.number)) or not (TEMPO_RANGE[0] <= tempo <= TEMPO_RANGE[1])
    ):
        raise ParameterError(
            f"tempo={tempo!r} is out of range: allowed {TEMPO_RANGE[0]:g}..{TEMPO_RANGE[1]:g} BPM"
        )
    if key is not None and (not isinstance(key, str) or key not in KEYS):
        raise ParameterError(f"key={key!r} is not known: allowed {', '.join(KEYS)}")
    if register is not None and (not isinstance(register, str) or register not in REGISTERS):
        raise ParameterError(f"register={register!r} is not known: allowed {', '.join(REGISTERS)}")


def _mix(rng, vocal: np.ndarray, band: Dict[str, np.ndarray]):
    """Balance the band, set the vocal/band ratio, peak-normalise; float32 stems.

    Returns ``(mixture32, vocal32, instrumental32, stems32)``; *stems32* maps
    :data:`BAND_TARGETS` to float32 arrays of ``vocal``'s shape.  The first three are
    computed exactly as before the stems existed (same operations, same order): each
    target sums its scaled band stems as the instrumental does, then gets the same two
    gains, and ``other`` is the float32 residual ``instrumental - drums - bass``.
    """
    instrumental = np.zeros_like(vocal)
    scaled = {}
    for name, stem in band.items():
        scaled[name] = stem * (10.0 ** (_BAND_LEVELS_DB[name] / 20.0) / max(rms(stem), 1e-12))
        instrumental += scaled[name]
    parts = {}
    for target, names in _TARGET_PARTS.items():
        parts[target] = np.zeros_like(vocal)
        for name in names:
            parts[target] += scaled[name]
    target_db = rng.uniform(-2.5, 0.0)
    balance = rms(vocal) / rms(instrumental) / 10.0 ** (target_db / 20.0)
    instrumental *= balance
    gain = 10.0 ** (_PEAK_DBFS / 20.0) / np.abs(vocal + instrumental).max()
    vocal32 = (vocal * gain).astype(np.float32)
    instrumental32 = (instrumental * gain).astype(np.float32)
    mixture32 = vocal32 + instrumental32
    stems32 = {target: ((part * balance) * gain).astype(np.float32) for target, part in parts.items()}
    stems32["other"] = instrumental32 - stems32["drums"] - stems32["bass"]
    return mixture32, vocal32, instrumental32, {t: stems32[t] for t in BAND_TARGETS}


def synthesize_song(
    *,
    seed: int = 0,
    sr: int = 44100,
    duration: float = 12.0,
    tempo: Optional[float] = None,
    key: Optional[str] = None,
    register: Optional[str] = None,
) -> DemoSong:
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
        ``(2, round(duration * sr))`` with ``mixture == vocal + instrumental``;
        ``stems`` holds ``"drums"``, ``"bass"`` and ``"other"`` of the same shape,
        summing with the vocal to the mixture (to float32 rounding).

    Raises
    ------
    ParameterError
        If a parameter is out of range or unknown.
    """
    _check_params(seed, sr, duration, tempo, key, register)
    sr = int(sr)
    rng = np.random.default_rng(int(seed))
    tempo, key, register = choose_style(rng, tempo, key, register)
    n = int(round(duration * sr))
    plan = plan_song(rng, tempo, key, register, duration)
    vocal = vocal_stem(rng, plan, register, n, sr)
    band = drum_stems(rng, plan, n, sr)
    band["bass"] = bass_stem(rng, plan, n, sr)
    band["chords"] = chord_stem(rng, plan, n, sr)
    mixture, vocal32, instrumental, stems = _mix(rng, vocal, band)
    ratio_db = 20.0 * math.log10(rms(vocal32) / rms(instrumental))
    info = {
        "seed": int(seed),
        "sr": sr,
        "duration": float(duration),
        "tempo": float(tempo),
        "key": key,
        "register": register,
        "progression": [chord_name(c) for c in plan.chords[:4]],
        "vocal_to_accompaniment_db": round(ratio_db, 3),
        "peak_dbfs": round(20.0 * math.log10(float(np.abs(mixture).max())), 3),
    }
    return DemoSong(mixture=mixture, vocal=vocal32, instrumental=instrumental, sr=sr, info=info, stems=stems)


def write_song(
    song: DemoSong,
    dest_dir: PathLike,
    *,
    names: Sequence[str] = DEFAULT_NAMES,
    subtype: str = "FLOAT",
    stems: bool = False,
) -> Dict[str, Path]:
    """Write mixture, vocal and instrumental (and optionally the band stems) as stereo WAVs.

    Each file is written atomically.

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
    stems : bool
        Also write ``song.stems`` as the prepared layout's
        :data:`~conv2dsep_lib.sources.layout.STEM_NAMES` (``isolated_drums.wav``,
        ``isolated_bass.wav``, ``isolated_other.wav``).

    Returns
    -------
    dict
        ``{"mixture": Path, "vocal": Path, "instrumental": Path}``, plus ``"drums"``,
        ``"bass"`` and ``"other"`` when *stems* is True.

    Raises
    ------
    ParameterError
        *names* not 3 distinct names, a name that is one of the stem files with
        ``stems=True``, or ``stems=True`` for a song without stems.
    """
    names = tuple(names)
    if len(names) != 3 or len(set(names)) != 3:
        raise ParameterError(f"names={names!r} is not allowed: allowed 3 distinct file names")
    arrays = {"mixture": song.mixture, "vocal": song.vocal, "instrumental": song.instrumental}
    files = dict(zip(arrays, names))
    if stems:
        missing = [t for t in BAND_TARGETS if t not in song.stems]
        if missing:
            raise ParameterError(
                f"stems=True but the song has no {', '.join(missing)} stem: allowed with a song "
                "from synthesize_song (its stems hold drums, bass and other)"
            )
        clash = sorted(set(names) & {STEM_NAMES[t] for t in BAND_TARGETS})
        if clash:
            raise ParameterError(
                f"names={names!r} uses {', '.join(clash)}, a stem's file name: allowed other names with stems=True"
            )
        for target in BAND_TARGETS:
            arrays[target] = song.stems[target]
            files[target] = STEM_NAMES[target]
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    return {role: write_wav(dest / files[role], y, song.sr, subtype=subtype) for role, y in arrays.items()}
