"""The targets of a sweep (``--targets``): which stems each track has, checked before any run.

A sweep with ``targets=("vocals", "drums")`` runs every (track, excerpt, setting) once per
target, each run against that target's own stem
(:func:`conv2dsep_lib.sources.stems.pair_for_target`), with that target's baselines.  Two
things can make a target's runs meaningless, and both are refused by name before anything
runs (a :class:`~conv2dsep_lib.core.errors.ParameterError`: one line, exit code 2):

* the track has no stem for the target (:func:`track_targets`: a prepared folder without
  ``isolated_drums.wav``, a MUSDB18-HQ folder without ``drums.wav``);
* the stem is silent in an excerpt (:func:`check_silent_stems`: its RMS at least
  :data:`~conv2dsep_lib.sources.stems.SILENT_STEM_DB` below the mixture's), measured on the
  files' own samples for wav files -- cheap, a seek and a read per excerpt.  A ``.stem.mp4``
  track would have to be decoded whole: there the run itself refuses the excerpt (a failed
  run naming the target, the sweep goes on).

The default, ``("vocals",)``, checks nothing here: today's sweep, unchanged.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import ParameterError
from ..core.files import PathLike
from ..sources.audio import audio_info
from ..sources.layout import TARGETS
from ..sources.stems import DEFAULT_TARGETS, SILENT_STEM_DB, check_targets

__all__ = ["sweep_targets", "track_targets", "check_track_targets", "stem_file", "check_silent_stems"]


def sweep_targets(targets: Optional[object]) -> Tuple[str, ...]:
    """The checked targets of a sweep (``None``: :data:`DEFAULT_TARGETS`), in canonical order."""
    return DEFAULT_TARGETS if targets is None else check_targets(targets)


def track_targets(kind: str, files: Mapping[str, PathLike]) -> Tuple[str, ...]:
    """The targets a track has a stem for.

    Parameters
    ----------
    kind : {"prepared", "musdb18-hq", "musdb18-stem"}
        The track's kind (:class:`~conv2dsep_lib.sources.datasets.TrackInfo`).
    files : mapping of str -> path
        Its files by role (``vocal`` is the vocals stem, other targets by their name).

    Returns
    -------
    tuple of str
        In :data:`TARGETS` order; a ``.stem.mp4`` track has all four.
    """
    if kind == "musdb18-stem":
        return TARGETS
    return tuple(t for t in TARGETS if stem_file(files, t) is not None)


def stem_file(files: Mapping[str, PathLike], target: str) -> Optional[Path]:
    """The file of *target*'s stem among a track's *files* (``None`` if it has none)."""
    path = files.get("vocal" if target == "vocals" else target)
    return None if path is None else Path(path)


def check_track_targets(name: str, kind: str, files: Mapping[str, PathLike], targets: Sequence[str]) -> None:
    """Refuse a track that lacks a stem for one of *targets*.

    Raises
    ------
    ParameterError
        One line naming the track, the target and the targets it has.
    """
    have = track_targets(kind, files)
    for t in targets:
        if t not in have:
            raise ParameterError(
                f"target {t!r}: track {name!r} has no {t} stem: allowed targets for this track: "
                f"{', '.join(have) or 'none'} (leave the track out with --track, or the target out of --targets)"
            )


def _rms_db(path: Path, *, offset: float, duration: float) -> Optional[float]:
    """RMS (dB) of the mono downmix of ``[offset, offset + duration)`` of a wav at its own rate;
    ``None`` when the excerpt does not lie inside the file (the run reports that)."""
    import soundfile as sf

    info = audio_info(path)
    sr = int(info.samplerate)
    start = int(round(offset * sr))
    stop = min(int(info.frames), start + int(round(duration * sr)))
    if stop <= start:
        return None
    data, _ = sf.read(str(path), start=start, stop=stop, dtype="float64", always_2d=True)
    y = data.mean(axis=1)
    rms = math.sqrt(float(np.mean(np.square(y)))) if y.size else 0.0
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


def check_silent_stems(
    name: str,
    kind: str,
    files: Mapping[str, PathLike],
    targets: Sequence[str],
    *,
    excerpts: Iterable[Tuple[float, float]],
) -> None:
    """Refuse an excerpt where an asked target's stem is silent (wav tracks only).

    Parameters
    ----------
    name, kind, files
        The track (see :func:`track_targets`).
    targets : sequence of str
    excerpts : iterable of (float, float)
        The excerpts the sweep runs on this track: (offset, duration) in seconds.

    Raises
    ------
    ParameterError
        One line naming the target, the track and the offset, as
        :func:`conv2dsep_lib.sources.stems.pair_for_target` would at run time.
    """
    if kind == "musdb18-stem":
        return  # decoding the whole track here would double the sweep's reading: the run checks
    for offset, duration in sorted(set(excerpts)):
        mix = _rms_db(Path(files["mixture"]), offset=offset, duration=duration)
        if mix is None:
            continue
        for t in targets:
            path = stem_file(files, t)
            level = None if path is None else _rms_db(path, offset=offset, duration=duration)
            if level is not None and level <= mix - SILENT_STEM_DB:
                raise ParameterError(
                    f"target {t!r} is silent in the excerpt at {offset:g} s of track {name!r} "
                    f"({level:.1f} dB RMS, the mixture {mix:.1f} dB): allowed a target whose stem is within "
                    f"{SILENT_STEM_DB:g} dB of the mixture (leave the target out of --targets, the track out "
                    "with --track, or pick other excerpts)"
                )
