"""Excerpts as repeats: which offsets of a track a study measures (``--excerpts``).

An excerpt is ``config.duration`` seconds of a track starting at an offset.  Several
excerpts of one track are *repeats* of one measurement, not settings: a sweep runs every
setting on each of them, writes the offset in the table's ``excerpt`` column and
aggregates the median over a track's excerpts before the median over tracks
(:mod:`conv2dsep_lib.results.repeats`).

``--excerpts`` takes (:func:`parse_excerpts`, checked before any work):

* a list of offsets in seconds, ``0,30,60`` (each must fit every track);
* ``N``, a count: ``N`` offsets evenly spaced from the start to the last full excerpt of
  each track (a track shorter than ``N`` distinct excerpts gets fewer, never duplicates);
* ``all``: every non-overlapping excerpt, at ``0, d, 2d, ...`` for excerpt length ``d``.

Offsets are rounded down to the millisecond (:func:`excerpt_offsets`), so an excerpt never
reaches past the track's end.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple

from ..core.checks import check_offset
from ..core.errors import ParameterError
from ..core.files import PathLike
from ..sources.audio import audio_info

__all__ = [
    "ALLOWED",
    "MAX_EXCERPTS",
    "ExcerptSpec",
    "parse_excerpts",
    "excerpt_offsets",
    "excerpt_label",
    "audio_seconds",
    "files_seconds",
]

#: What ``--excerpts`` accepts, for error messages.
ALLOWED = "offsets in seconds (e.g. 0,30,60), a count N >= 1 (evenly spaced), or 'all'"
#: The most excerpts one track may give (a typo such as ``--excerpts 100000`` is refused).
MAX_EXCERPTS = 1000
#: Slack when checking that an excerpt fits a track (seconds).
_FIT_SLACK = 1e-6


@dataclass(frozen=True)
class ExcerptSpec:
    """A parsed ``--excerpts`` value.

    Attributes
    ----------
    kind : {"offsets", "count", "all"}
    offsets : tuple of float
        The offsets (``kind="offsets"``), in the order given.
    count : int
        ``N`` (``kind="count"``).
    text : str
        What was given (for messages and the manifest).
    """

    kind: str
    offsets: Tuple[float, ...] = ()
    count: int = 0
    text: str = ""

    def to_json(self) -> dict:
        return {"kind": self.kind, "offsets": list(self.offsets), "count": self.count, "text": self.text}


def parse_excerpts(value: object, *, name: str = "--excerpts") -> ExcerptSpec:
    """Read ``--excerpts``: ``"0,30,60"``, ``"3"``, ``"all"`` (or a list of numbers, or an int).

    Raises
    ------
    ParameterError
        One line naming the value and :data:`ALLOWED`: empty, not a number, negative,
        repeated offsets, a count < 1 or > :data:`MAX_EXCERPTS`.

    Examples
    --------
    >>> parse_excerpts("0,30,60").offsets
    (0.0, 30.0, 60.0)
    >>> parse_excerpts("3").count
    3
    """
    if isinstance(value, ExcerptSpec):
        return value
    if isinstance(value, (list, tuple)):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, bool) or value is None:
        raise ParameterError(f"{name} {value!r} is invalid: allowed {ALLOWED}")
    else:
        text = str(value).strip()
    bad = ParameterError(f"{name} {text!r} is invalid: allowed {ALLOWED}")
    if not text:
        raise bad
    if text.lower() == "all":
        return ExcerptSpec(kind="all", text="all")
    if "," not in text and not isinstance(value, (list, tuple)):
        try:
            as_float = float(text)
        except ValueError:
            raise bad from None
        if text.lstrip("+").isdigit():
            count = int(text)
            if not 1 <= count <= MAX_EXCERPTS:
                raise ParameterError(
                    f"{name} {text!r} is invalid: allowed a count 1..{MAX_EXCERPTS}, offsets "
                    "in seconds (e.g. 0,30,60) or 'all'"
                )
            return ExcerptSpec(kind="count", count=count, text=text)
        # one offset with a decimal point ("30.0", "2.5"): a list of one
        del as_float
    offsets = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise bad
        try:
            off = check_offset(part, name="offset")
        except ParameterError:
            raise ParameterError(
                f"{name} {text!r}: offset {part!r} is invalid: allowed {ALLOWED}; offsets are seconds >= 0"
            ) from None
        offsets.append(_ms(float(off)))
    if len(set(offsets)) != len(offsets):
        raise ParameterError(f"{name} {text!r} repeats an offset: allowed distinct offsets")
    if len(offsets) > MAX_EXCERPTS:
        raise ParameterError(f"{name} {text!r} lists {len(offsets)} offsets: allowed up to {MAX_EXCERPTS}")
    return ExcerptSpec(kind="offsets", offsets=tuple(offsets), text=text)


def _ms(seconds: float) -> float:
    """Rounded down to the millisecond (an excerpt never reaches past the end)."""
    return math.floor(seconds * 1000.0 + 1e-6) / 1000.0


def excerpt_offsets(
    spec: ExcerptSpec, *, track_seconds: Optional[float], duration: float, track: str = "the track"
) -> Tuple[float, ...]:
    """The offsets of *spec* for one track.

    Parameters
    ----------
    spec : ExcerptSpec
    track_seconds : float or None
        The track's length (s); ``None`` when unknown (only listed offsets are possible).
    duration : float
        The excerpt length (s), ``config.duration``.
    track : str
        The track's name, for messages.

    Returns
    -------
    tuple of float
        Distinct offsets in seconds, ascending for ``N`` and ``all``, as given for a list.

    Raises
    ------
    ParameterError
        A listed offset whose excerpt reaches past the track's end (naming the track, its
        length and the last offset that fits), or a count / ``all`` for a track of unknown
        length.
    """
    if spec.kind == "offsets":
        if track_seconds is not None:
            last = _ms(max(0.0, track_seconds - duration))
            for off in spec.offsets:
                if off + duration > track_seconds + _FIT_SLACK:
                    raise ParameterError(
                        f"--excerpts {spec.text!r}: the excerpt at {off:g} s ({duration:g} s long) reaches past "
                        f"the end of {track} ({track_seconds:.2f} s): allowed offsets 0..{last:g}"
                    )
        return spec.offsets
    if track_seconds is None:
        raise ParameterError(
            f"--excerpts {spec.text!r} needs the length of {track}, which is unknown: allowed a list of "
            "offsets in seconds"
        )
    span = track_seconds - duration
    if span < -_FIT_SLACK:
        return (0.0,)  # shorter than one excerpt: the load pads or fails (recorded), as without --excerpts
    span = max(0.0, span)
    if spec.kind == "all":
        n = min(MAX_EXCERPTS, int(math.floor((track_seconds + _FIT_SLACK) / duration)))
        return tuple(_ms(i * duration) for i in range(max(1, n)))
    if spec.count == 1:
        return (0.0,)
    offsets = [_ms(span * i / (spec.count - 1)) for i in range(spec.count)]
    return tuple(dict.fromkeys(offsets))


def excerpt_label(offset: float) -> str:
    """``"at30s"``, ``"at2.5s"``: the suffix of an excerpt's run folder."""
    return f"at{offset:g}s"


def audio_seconds(path: PathLike) -> Optional[float]:
    """The length of an audio file in seconds (soundfile; ffprobe for ``.mp4``), or ``None``."""
    p = Path(path)
    if p.name.endswith(".mp4"):
        if shutil.which("ffprobe") is None:
            return None
        try:
            out = subprocess.run(
                ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(p)],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.strip()
            return float(out)
        except (OSError, ValueError, subprocess.SubprocessError):
            return None

    info = audio_info(p)
    return float(info.frames) / float(info.samplerate)


def files_seconds(files: Mapping[str, PathLike]) -> Optional[float]:
    """The shortest of the mixture's and the vocal's lengths (s), ``None`` when unknown."""
    lengths = [audio_seconds(files[r]) for r in ("mixture", "vocal") if r in files]
    known = [s for s in lengths if s is not None]
    return min(known) if known and len(known) == len(lengths) else None
