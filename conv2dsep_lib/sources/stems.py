"""Targets: which true stems an input has, and the pair a target's run is made of.

The workbook separates one *target* at a time: the fingerprint method, the masks and the
scores of a run see ``(mixture, target stem)`` as they see ``(mixture, vocal)``.  This module
is the one place that knows which stems an :class:`~conv2dsep_lib.sources.audio.AudioPair`
carries (:func:`pair_stems`), reads the extra stems of a folder (:func:`read_stems`), and
turns a pair into the pair of one target (:func:`pair_for_target`), refusing a target whose
stem is missing or silent in the excerpt -- by name, before any work.

Where stems come from:

* a prepared folder (``conv2dsep prepare``): ``isolated_vocal.wav`` and, when the sources
  had them, ``isolated_drums.wav``, ``isolated_bass.wav``, ``isolated_other.wav``;
* a folder in MUSDB18-HQ naming (``mixture.wav`` + any of ``vocals.wav``, ``drums.wav``,
  ``bass.wav``, ``other.wav``) -- a MUSDB18-HQ track, or your own;
* a MUSDB18 track (HQ folder or ``.stem.mp4``): all four;
* the demo songs: all four (``other`` is the synthesiser's chords).
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import ParameterError
from ..core.files import PathLike
from .audio import AudioPair, audio_info, read_excerpt
from .layout import MUSDB_MIXTURE_NAME, MUSDB_STEM_NAMES, STEM_NAMES, TARGETS

__all__ = [
    "TARGETS",
    "DEFAULT_TARGETS",
    "SILENT_STEM_DB",
    "check_targets",
    "pair_stems",
    "pair_for_target",
    "pair_target",
    "targets_of",
    "stem_files",
    "read_stems",
    "with_stems",
]

#: What every command does unless told otherwise: today's one-target run.
DEFAULT_TARGETS: Tuple[str, ...] = ("vocals",)
#: A stem whose RMS is this many dB below the mixture's (or lower) counts as silent: its run
#: would measure nothing (SI-SDR and BSS Eval are undefined for a silent reference).
SILENT_STEM_DB = 60.0


def check_targets(value: Any) -> Tuple[str, ...]:
    """Parse and check a target list: ``"vocals,drums"`` or a sequence of names.

    Returns
    -------
    tuple of str
        The targets in :data:`TARGETS` order (the order of every table and folder).

    Raises
    ------
    ParameterError
        Unknown, repeated or no targets; the message lists the allowed names.
    """
    if isinstance(value, str):
        names = [v.strip() for v in value.split(",")]
    elif isinstance(value, (list, tuple)):
        names = list(value)
    else:
        raise ParameterError(
            f"targets={value!r} is invalid: allowed a comma-separated list of {', '.join(TARGETS)}"
        )
    if not names or any(n == "" for n in names):
        raise ParameterError(
            f"targets={value!r} is empty: allowed a comma-separated list of {', '.join(TARGETS)}"
        )
    for n in names:
        if n not in TARGETS:
            hint = " (MUSDB18's name is 'vocals')" if n == "vocal" else ""
            raise ParameterError(f"target {n!r} is unknown{hint}: allowed {', '.join(TARGETS)}")
    if len(set(names)) != len(names):
        raise ParameterError(
            f"targets={value!r} names a target twice: allowed each of {', '.join(TARGETS)} once"
        )
    return tuple(t for t in TARGETS if t in names)


def pair_stems(pair: AudioPair) -> Mapping[str, np.ndarray]:
    """The true stems of *pair* by target: ``pair.stems``, or ``{"vocals": pair.vocal}`` for a
    pair that carries only its vocal."""
    return pair.stems if pair.stems else {"vocals": pair.vocal}


def _rms_db(y: np.ndarray) -> float:
    rms = math.sqrt(float(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


def pair_for_target(pair: AudioPair, target: str) -> AudioPair:
    """The pair a run for *target* works on: the mixture and that target's true stem.

    For ``"vocals"`` on a pair that carries only its vocal this is *pair* itself (today's run,
    unchanged); otherwise ``vocal`` holds the target's stem, ``stems`` is emptied and
    ``source["target"]`` names it.

    Raises
    ------
    ParameterError
        The input has no stem for *target*, or the stem is silent in this excerpt (its RMS
        at least :data:`SILENT_STEM_DB` below the mixture's).
    """
    (target,) = check_targets([target])
    stems = pair_stems(pair)
    where = _where(pair)
    if target not in stems:
        have = ", ".join(t for t in TARGETS if t in stems) or "none"
        raise ParameterError(f"target {target!r}: {where} has no {target} stem: allowed targets here: {have}")
    stem = stems[target]
    level, mix_level = _rms_db(stem), _rms_db(pair.mixture)
    if level <= mix_level - SILENT_STEM_DB:
        raise ParameterError(
            f"target {target!r} is silent in this excerpt of {where} ({level:.1f} dB RMS, the mixture "
            f"{mix_level:.1f} dB): allowed a target whose stem is within {SILENT_STEM_DB:g} dB of the "
            "mixture (pick another --offset or leave the target out)"
        )
    if not pair.stems and target == "vocals":
        return pair
    return replace(pair, vocal=stem, stems={}, source={**pair.source, "target": target})


def _where(pair: AudioPair) -> str:
    src = pair.source
    for key in ("track", "mixture"):
        if src.get(key):
            return f"{key} {str(src[key])!r}"
    return "the input"


def stem_files(folder: PathLike) -> Dict[str, Path]:
    """The stem files of a folder by target, in either naming.

    A prepared folder (``stereo_mixture.wav``): ``isolated_vocal.wav``, ``isolated_drums.wav``,
    ...; a folder in MUSDB18-HQ naming (``mixture.wav``): ``vocals.wav``, ``drums.wav``, ....
    Only the files that exist are listed.
    """
    d = Path(folder)
    names = MUSDB_STEM_NAMES if (d / MUSDB_MIXTURE_NAME).is_file() else STEM_NAMES
    return {t: d / names[t] for t in TARGETS if (d / names[t]).is_file()}


def read_stems(
    files: Mapping[str, PathLike],
    *,
    sr: int,
    duration: float,
    offset: float = 0.0,
    pad: bool = False,
    length: Optional[int] = None,
) -> Tuple[Dict[str, np.ndarray], Tuple[str, ...]]:
    """Read stem files as mono excerpts at *sr*, cut as :func:`~.audio.load_pair` cuts the pair.

    Parameters
    ----------
    files : mapping of str -> path
        Target -> file (see :func:`stem_files`).
    sr, duration, offset, pad
        As :func:`~conv2dsep_lib.sources.audio.load_pair`.
    length : int, optional
        Samples of the pair's excerpt (every stem is checked to have it).

    Returns
    -------
    stems : dict of str -> np.ndarray [shape=(n,)], float32
    warnings : tuple of str
    """
    read = functools.partial(
        read_excerpt, sr=sr, offset=offset, duration=duration, pad=pad, allow_silence=True
    )
    stems, warnings = {}, []
    for target, path in files.items():
        if audio_info(path).channels > 2:
            raise ParameterError(
                f"{target} stem {Path(path).name!r} has more than two channels: allowed mono or stereo"
            )
        excerpt = read(path)
        if length is not None and excerpt.audio.shape[0] != length:
            raise ParameterError(
                f"{target} stem {Path(path).name!r} gives {excerpt.audio.shape[0]} samples, the mixture "
                f"{length}: allowed stems as long as the mixture"
            )
        stems[target] = excerpt.audio
        # a bass or a pad with nothing up high is the instrument, not a low-rate recording
        natural = ("is band-limited",) if target in ("bass", "other") else ()
        warnings += [w for w in excerpt.warnings if not any(n in w for n in natural)]
    return stems, tuple(warnings)


def with_stems(
    pair: AudioPair, files: Mapping[str, PathLike], *, offset: float = 0.0, pad: bool = False
) -> AudioPair:
    """*pair* with the extra stems of *files* (targets other than ``vocals``) read beside it.

    A pair whose folder has only the vocal is returned as it is (today's pair, unchanged).
    """
    extra = {t: p for t, p in files.items() if t != "vocals"}
    if not extra:
        return pair
    duration = pair.source.get("duration", pair.mixture.shape[0] / pair.sr)
    stems, warnings = read_stems(
        extra, sr=pair.sr, duration=duration, offset=offset, pad=pad, length=pair.mixture.shape[0]
    )
    return replace(
        pair,
        stems={"vocals": pair.vocal, **stems},
        files=pair.files + tuple(Path(p) for p in extra.values()),
        warnings=pair.warnings + warnings,
        source={**pair.source, "stems": {t: str(p) for t, p in extra.items()}},
    )


def targets_of(pair: AudioPair, targets: Sequence[str]) -> Dict[str, AudioPair]:
    """:func:`pair_for_target` for every target, all checked before any is used."""
    return {
        t: pair_for_target(pair, t)
        for t in check_targets(targets if isinstance(targets, str) else list(targets))
    }


def pair_target(pair: AudioPair) -> str:
    """The target a pair's ``vocal`` field holds (``source["target"]``; ``"vocals"`` unless
    :func:`pair_for_target` made it)."""
    return str(pair.source.get("target", "vocals"))
