"""Built-in training material for a blind separator, on a machine with no dataset.

:func:`make_examples` draws ``(mixture, vocal)`` pairs with an exact vocal reference
from what ships with the project:

* ``"synthetic"`` -- synthetic songs: half are demo songs of
  :func:`.song.synthesize_song` (vocal and band as made for ``make demo``, other
  seeds), half the richer singer of :mod:`.singer` (glottal pulses, jitter, shimmer,
  breath, moving formants, consonants, six voice types, a room) over a band of
  :mod:`.song_band` playing the same plan's chords;
* ``"sung_speech"`` -- real voices sung (:mod:`.sung_speech`: a speaker's LibriSpeech
  recording vocoded onto a melody with vibrato, vowels lengthened) over a real
  instrumental of ``data/cc-audio/`` or a synthetic band in the melody's key.

Each example is a random excerpt, at a random vocal-to-accompaniment ratio
(-6..+6 dB) and level (peak -12..-1 dBFS); a quarter of them remix the vocal with the
accompaniment of another track.  Everything is deterministic given ``seed``:
example *i* of a split depends only on ``(seed, split, i)``.

The split (:data:`SPLITS`, the one place that says which file serves which purpose)
keeps a held-out set that no training run sees: its synthetic songs come from seeds
100..199 (training uses 1000 and up; the demo songs are seeds 0..2 and never
used), its speaker and its instrumental are used by no training example.  The
song with a sung vocal and no stems (:data:`LISTENING_SONG`) is for listening only:
:func:`load_listening_song`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import ParameterError
from .audio import resample
from .singer import SingerStyle, draw_style, sing, singer_plan
from .song import synthesize_song
from .song_band import bass_stem, chord_stem, drum_stems
from .song_dsp import rms
from .song_score import Plan
from .sung_speech import SpeechAnalysis, analyse_speech, sing_speech

__all__ = [
    "CC_AUDIO_DIR",
    "KINDS",
    "LISTENING_SONG",
    "RECORDINGS",
    "SPLITS",
    "Recording",
    "Split",
    "TrainingExample",
    "cc_audio_path",
    "load_listening_song",
    "make_examples",
]

#: Where the CC-licensed recordings live (``data/cc-audio/`` of the project; each file
#: beside its licence ``.txt``).
CC_AUDIO_DIR = Path(__file__).resolve().parents[2] / "data" / "cc-audio"

#: The kinds of example :func:`make_examples` draws.
KINDS = ("synthetic", "sung_speech")


@dataclass(frozen=True)
class Recording:
    """One file of ``data/cc-audio/`` (``<name>.ogg`` beside ``<name>.txt``) and its role.

    Attributes
    ----------
    name : str
        File stem.
    role : str
        ``"speaker"``, ``"instrumental"`` or ``"listening"``.
    split : str or None
        ``"train"``, ``"heldout"``, or None (listening only).
    voice : str or None
        For a speaker: ``"female"`` or ``"male"`` (chooses the voice types it sings).
    """

    name: str
    role: str
    split: Optional[str]
    voice: Optional[str] = None


#: Every copied recording and what it is for (data/README.md lists them with licences).
RECORDINGS: Dict[str, Recording] = {
    r.name: r
    for r in (
        Recording("198-209-0000", "speaker", "train", "female"),
        Recording("3436-172162-0000", "speaker", "train", "male"),
        Recording("5703-47212-0000", "speaker", "heldout", "male"),
        Recording(
            "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra)", "instrumental", "train"
        ),
        Recording("Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy", "instrumental", "train"),
        Recording("sorohanro_-_solo-trumpet-06", "instrumental", "train"),
        Recording("Kevin_MacLeod_-_Vibe_Ace", "instrumental", "heldout"),
        Recording("Karissa_Hobbs_-_Lets_Go_Fishin", "listening", None),
    )
}

#: A song with a sung vocal (mixture only, no stems): for listening, never for training or scoring.
LISTENING_SONG = "Karissa_Hobbs_-_Lets_Go_Fishin"


@dataclass(frozen=True)
class Split:
    """What a split may use: speakers, instrumentals, and a range of song seeds [lo, hi)."""

    name: str
    speakers: Tuple[str, ...]
    instrumentals: Tuple[str, ...]
    seeds: Tuple[int, int]

    def to_json(self) -> dict:
        return {**asdict(self), "speakers": list(self.speakers), "instrumentals": list(self.instrumentals),
                "seeds": list(self.seeds)}  # fmt: skip


def _split(name: str, seeds: Tuple[int, int]) -> Split:
    mine = [r for r in RECORDINGS.values() if r.split == name]
    return Split(
        name=name,
        speakers=tuple(r.name for r in mine if r.role == "speaker"),
        instrumentals=tuple(r.name for r in mine if r.role == "instrumental"),
        seeds=seeds,
    )


#: The training and held-out splits: disjoint speakers, instrumentals and song seeds
#: (the demo songs, seeds 0..2, are in neither).
SPLITS: Dict[str, Split] = {
    "train": _split("train", (1000, 1_000_000)),
    "heldout": _split("heldout", (100, 200)),
}
_SPLIT_CODE = {"train": 1, "heldout": 2}
_FEMALE_VOICES = ("alto", "mezzo", "soprano")
_MALE_VOICES = ("bass", "baritone", "tenor")
#: Band stems' RMS levels relative to each other (dB), as the demo songs mix them.
_BAND_LEVELS_DB = {"kick": -3.0, "snare": -7.0, "hats": -15.0, "bass": -4.0, "chords": -6.0}


@dataclass(frozen=True)
class TrainingExample:
    """One training pair.

    Attributes
    ----------
    mixture : np.ndarray [shape=(n,), dtype=float32]
        ``vocal + accompaniment``, computed in float32 (exact).
    vocal : np.ndarray [shape=(n,), dtype=float32]
        The target: the singing voice (with its reverb).
    accompaniment : np.ndarray [shape=(n,), dtype=float32]
    sr : int
    info : dict
        JSON-able manifest: ``split``, ``index``, ``seed``, ``kind``, ``vocal`` and
        ``accompaniment`` (their sources: song seeds, speaker, instrumental and offset,
        voice style), ``remixed``, ``vocal_to_accompaniment_db``, ``peak_dbfs``.
    """

    mixture: np.ndarray
    vocal: np.ndarray
    accompaniment: np.ndarray
    sr: int
    info: dict = field(default_factory=dict)


def cc_audio_path(name: str) -> Path:
    """The ``.ogg`` of a recording of :data:`RECORDINGS`.

    Raises
    ------
    ParameterError
        An unknown name, or the file (or its licence ``.txt``) is missing.
    """
    if name not in RECORDINGS:
        raise ParameterError(f"recording {name!r} is not known: allowed {', '.join(RECORDINGS)}")
    path = CC_AUDIO_DIR / f"{name}.ogg"
    if not path.is_file() or not path.with_suffix(".txt").is_file():
        raise ParameterError(
            f"{path} (or its licence .txt) is missing: allowed a checkout with data/cc-audio/ "
            "(it is committed with the project; restore it with git checkout -- data/cc-audio)"
        )
    return path


@lru_cache(maxsize=16)
def _recording(name: str, sr: int) -> np.ndarray:
    """A whole recording, mono float32 at *sr* (read once per process)."""
    import soundfile as sf

    path = cc_audio_path(name)
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # a damaged file
        raise ParameterError(f"{path} could not be decoded: {str(exc).splitlines()[0]}") from None
    y = resample(data.mean(axis=1), int(file_sr), int(sr))
    y = np.ascontiguousarray(y, dtype=np.float32)
    y.setflags(write=False)
    return y


@lru_cache(maxsize=8)
def _speaker(name: str, sr: int) -> SpeechAnalysis:
    return analyse_speech(_recording(name, sr), sr=sr)


def load_listening_song(
    *, sr: int = 22050, offset: float = 0.0, duration: Optional[float] = None
) -> np.ndarray:
    """The listening song (:data:`LISTENING_SONG`, a real mix with a sung vocal, no stems).

    Parameters
    ----------
    sr : int
        Sample rate of the result (8000..192000 Hz).
    offset : float
        Start in seconds (>= 0, before the song's end).
    duration : float, optional
        Seconds to return (default: to the end; cut at the end).

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
        Mono.
    """
    _check_sr(sr)
    y = _recording(LISTENING_SONG, int(sr))
    if not (0.0 <= offset < len(y) / sr):
        raise ParameterError(f"offset={offset!r} is out of range: allowed 0..{len(y) / sr:.1f} seconds")
    if duration is not None and not duration > 0:
        raise ParameterError(f"duration={duration!r} is not allowed: allowed > 0 seconds")
    start = int(round(offset * sr))
    stop = len(y) if duration is None else min(len(y), start + int(round(duration * sr)))
    return np.array(y[start:stop], dtype=np.float32)


def _check_sr(sr) -> None:
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or not 8000 <= sr <= 192000:
        raise ParameterError(f"sr={sr!r} is out of range: allowed an integer 8000..192000 Hz")


def _check(split, kinds, n, seconds, sr, seed) -> Tuple[str, ...]:
    if split not in SPLITS:
        raise ParameterError(f"split={split!r} is not known: allowed {', '.join(SPLITS)}")
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not kinds or any(k not in KINDS for k in kinds):
        raise ParameterError(
            f"kinds={kinds!r} is not allowed: allowed a non-empty subset of {', '.join(KINDS)}"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= 100_000:
        raise ParameterError(f"n={n!r} is out of range: allowed an integer 0..100000")
    if not isinstance(seconds, (int, float, np.number)) or not 1.0 <= seconds <= 60.0:
        raise ParameterError(f"seconds={seconds!r} is out of range: allowed 1..60")
    _check_sr(sr)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed={seed!r} is not allowed: allowed an integer >= 0")
    return kinds


def _song_seed(rng: np.random.Generator, split: Split) -> int:
    return int(rng.integers(split.seeds[0], split.seeds[1]))


def _band(rng: np.random.Generator, plan: Plan, n: int, sr: int) -> Tuple[np.ndarray, List[str]]:
    """A mono band playing *plan*'s chords: drums, bass, pad at jittered levels, some parts left out."""
    parts = drum_stems(rng, plan, n, sr)
    parts["bass"] = bass_stem(rng, plan, n, sr)
    parts["chords"] = chord_stem(rng, plan, n, sr)
    drop = {"kick": "drums", "snare": "drums", "hats": "drums", "bass": "bass", "chords": "chords"}
    left_out = [g for g in ("drums", "bass", "chords") if rng.random() < 0.15]
    if len(left_out) == 3:
        left_out = left_out[:2]
    out = np.zeros(n)
    for name, stem in parts.items():
        if drop[name] in left_out:
            continue
        mono = stem.mean(axis=0)
        level = _BAND_LEVELS_DB[name] + rng.uniform(-4.0, 4.0)
        out += mono * (10.0 ** (level / 20.0) / max(rms(mono), 1e-12))
    return out, left_out


def _instrumental(rng: np.random.Generator, split: Split, n: int, sr: int) -> Tuple[np.ndarray, dict]:
    """A random excerpt of one of the split's instrumentals (a short loop is tiled)."""
    name = str(rng.choice(split.instrumentals))
    y = _recording(name, sr)
    if len(y) < n:
        y = np.tile(y, int(math.ceil(n / len(y))) + 1)
    whole = rms(y)
    for _ in range(5):
        start = int(rng.integers(0, len(y) - n + 1))
        seg = y[start : start + n].astype(np.float64)
        if rms(seg) > 0.1 * whole:
            break
    return seg, {"source": "instrumental", "name": name, "offset": round(start / sr, 4)}


def _style_json(style: SingerStyle) -> dict:
    return asdict(style)


def _demo_song(song_seed: int, n: int, offset: int, sr: int) -> Tuple[np.ndarray, np.ndarray, dict]:
    song = synthesize_song(seed=song_seed, sr=sr, duration=(n + offset) / sr)
    vocal = song.vocal.mean(axis=0)[offset : offset + n].astype(np.float64)
    band = song.instrumental.mean(axis=0)[offset : offset + n].astype(np.float64)
    info = {"source": "demo_song", "song_seed": song_seed, "offset": round(offset / sr, 4),
            "register": song.info["register"], "key": song.info["key"], "tempo": song.info["tempo"]}  # fmt: skip
    return vocal, band, info


def _singer_song(song_seed: int, n: int, offset: int, sr: int):
    """The richer singer over a band of the same plan; (vocal, band, vocal info, band info)."""
    rng = np.random.default_rng([song_seed, 7])  # the song is a function of its seed
    style = draw_style(rng)
    plan = singer_plan(rng, seconds=(n + offset) / sr, register=style.register)
    vocal = sing(plan, n=n + offset, rng=rng, sr=sr, style=style)[offset:].astype(np.float64)
    band, left_out = _band(rng, plan, n + offset, sr)
    info = {
        "source": "singer",
        "song_seed": song_seed,
        "offset": round(offset / sr, 4),
        "style": _style_json(style),
    }
    return vocal, band[offset:], info, {"source": "band", "song_seed": song_seed, "left_out": left_out}


def _sung_speech(rng: np.random.Generator, split: Split, song_seed: int, n: int, sr: int):
    """A split speaker sung on a melody of *song_seed*; (vocal, plan, info)."""
    speaker = str(rng.choice(split.speakers))
    song_rng = np.random.default_rng([song_seed, 11])
    voices = _FEMALE_VOICES if RECORDINGS[speaker].voice == "female" else _MALE_VOICES
    style = draw_style(song_rng, register=str(song_rng.choice(voices)))
    plan = singer_plan(song_rng, seconds=n / sr, register=style.register)
    analysis = _speaker(speaker, sr)
    start = int(rng.integers(analysis.n_frames))
    phrase = sing_speech(
        analysis,
        plan,
        n=n,
        rng=song_rng,
        start_frame=start,
        jitter=style.jitter,
        shimmer=style.shimmer,
        breathiness=min(style.breathiness, 0.12),
        vibrato_rate=style.vibrato_rate,
        vibrato_depth=style.vibrato_depth,
        portamento=style.portamento,
        rt60=style.rt60,
        reverb_wet=style.reverb_wet,
    )
    info = {"source": "sung_speech", "speaker": speaker, "song_seed": song_seed, "start_frame": start,
            "style": _style_json(style), "voiced_fraction": phrase.info["voiced_fraction"]}  # fmt: skip
    return phrase.audio.astype(np.float64), plan, info


def _other_accompaniment(rng: np.random.Generator, split: Split, n: int, sr: int) -> Tuple[np.ndarray, dict]:
    """Accompaniment of another track: a real instrumental or the band of another song seed."""
    if rng.random() < 0.5:
        return _instrumental(rng, split, n, sr)
    song_seed = _song_seed(rng, split)
    song_rng = np.random.default_rng([song_seed, 13])
    plan = singer_plan(song_rng, seconds=n / sr, register=str(song_rng.choice(("tenor", "alto"))))
    band, left_out = _band(song_rng, plan, n, sr)
    return band, {"source": "band", "song_seed": song_seed, "left_out": left_out}


def _example(split: Split, kind: str, index: int, n: int, sr: int, seed: int) -> TrainingExample:
    rng = np.random.default_rng([seed, _SPLIT_CODE[split.name], index])
    song_seed = _song_seed(rng, split)
    remix = bool(rng.random() < 0.25)
    if kind == "synthetic":
        offset = int(rng.uniform(0.0, 1.0) * sr)
        if rng.random() < 0.5:
            vocal, accompaniment, v_info = _demo_song(song_seed, n, offset, sr)
            a_info = {"source": "demo_song", "song_seed": song_seed}
        else:
            vocal, accompaniment, v_info, a_info = _singer_song(song_seed, n, offset, sr)
    else:
        vocal, plan, v_info = _sung_speech(rng, split, song_seed, n, sr)
        if rng.random() < 0.5:
            accompaniment, a_info = _instrumental(rng, split, n, sr)
        else:
            accompaniment, left_out = _band(np.random.default_rng([song_seed, 17]), plan, n, sr)
            a_info = {"source": "band", "song_seed": song_seed, "left_out": left_out}
    if remix:
        accompaniment, a_info = _other_accompaniment(rng, split, n, sr)
    ratio_db = float(rng.uniform(-6.0, 6.0))
    accompaniment = accompaniment * (rms(vocal) / max(rms(accompaniment), 1e-12) / 10.0 ** (ratio_db / 20.0))
    peak_db = float(rng.uniform(-12.0, -1.0))
    gain = 10.0 ** (peak_db / 20.0) / max(float(np.abs(vocal + accompaniment).max()), 1e-12)
    vocal32 = (vocal * gain).astype(np.float32)
    accompaniment32 = (accompaniment * gain).astype(np.float32)
    mixture32 = vocal32 + accompaniment32
    info = {
        "split": split.name,
        "index": int(index),
        "seed": int(seed),
        "kind": kind,
        "sr": int(sr),
        "seconds": round(n / sr, 6),
        "vocal": v_info,
        "accompaniment": a_info,
        "remixed": remix,
        "vocal_to_accompaniment_db": round(ratio_db, 3),
        "peak_dbfs": round(peak_db, 3),
    }
    return TrainingExample(mixture32, vocal32, accompaniment32, int(sr), info)


def make_examples(
    *,
    split: str,
    kinds: Sequence[str] = KINDS,
    n: int,
    seconds: float,
    sr: int = 22050,
    seed: int = 0,
) -> List[TrainingExample]:
    """Draw *n* training (or held-out) examples from the built-in sources.

    Parameters
    ----------
    split : {"train", "heldout"}
        Which speakers, instrumentals and song seeds to use (:data:`SPLITS`).
    kinds : sequence of {"synthetic", "sung_speech"}
        Example *i* is of kind ``kinds[i % len(kinds)]``.
    n : int
        Number of examples, 0..100000.
    seconds : float
        Length of each example, 1..60 s.
    sr : int
        Sample rate (the recordings are 22050 Hz and resampled to others).
    seed : int >= 0
        Example *i* depends only on ``(seed, split, i)`` (and its kind): the first *m*
        examples of a call with ``n > m`` are those of ``n = m``.

    Returns
    -------
    list of TrainingExample
        Mono float32 arrays of ``round(seconds * sr)`` samples, ``mixture == vocal +
        accompaniment`` exactly, and a JSON-able ``info``.

    Raises
    ------
    ParameterError
        An unknown split or kind, a value out of range, or ``data/cc-audio/`` missing
        (for ``"sung_speech"`` and remixes with an instrumental).
    """
    kinds = _check(split, kinds, n, seconds, sr, seed)
    length = int(round(seconds * sr))
    spec = SPLITS[split]
    return [_example(spec, kinds[i % len(kinds)], i, length, int(sr), int(seed)) for i in range(n)]
