"""Where audio lives: the file names and folders of the seed's layout (SPEC section 10).

The one place that knows file layouts:

* ``process/100-window/`` -- *source* pairs in any format, rate and length:
  ``<name>_100-full.<ext>`` (the mixture) and ``<name>_100-stem.<ext>`` (its isolated
  vocal), matched by ``<name>``.
* ``rtg/100-window/`` -- *ready-to-go* excerpts: ``stereo_mixture.wav``,
  ``isolated_vocal.wav``, ``stereo_instrumental.wav`` (= mixture - vocal) and
  ``manifest.json`` (written by ``conv2dsep prepare``).
* ``data/demo/`` -- the generated demo set in the same two layouts.

All default folders are relative to the working folder (the project root for the
command line and the notebooks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..core.errors import ParameterError
from ..core.files import PathLike

__all__ = [
    "MIXTURE_NAME",
    "VOCAL_NAME",
    "INSTRUMENTAL_NAME",
    "MANIFEST_NAME",
    "OUTPUT_NAMES",
    "TARGETS",
    "STEM_NAMES",
    "MUSDB_STEM_NAMES",
    "MUSDB_MIXTURE_NAME",
    "STEM_TAGS",
    "MIXTURE_TAG",
    "VOCAL_TAG",
    "SOURCE_PATTERN",
    "DEFAULT_DATA_DIR",
    "DEFAULT_SOURCE",
    "DEFAULT_DEST",
    "DEFAULT_MUSDB_DEST",
    "DEFAULT_DEMO_ROOT",
]

#: The prepared pair's files.
MIXTURE_NAME = "stereo_mixture.wav"
VOCAL_NAME = "isolated_vocal.wav"
INSTRUMENTAL_NAME = "stereo_instrumental.wav"
MANIFEST_NAME = "manifest.json"
#: Role -> file name of a prepared pair.
OUTPUT_NAMES = {"mixture": MIXTURE_NAME, "vocal": VOCAL_NAME, "instrumental": INSTRUMENTAL_NAME}
#: The four targets (MUSDB18's stems), in report order; ``vocals`` is the workbook's default.
TARGETS = ("vocals", "drums", "bass", "other")
#: Target -> file name of its stem in a prepared folder (the vocal keeps the seed's name;
#: the other three are optional, written by ``prepare`` when the sources have them).
STEM_NAMES = {
    "vocals": VOCAL_NAME,
    "drums": "isolated_drums.wav",
    "bass": "isolated_bass.wav",
    "other": "isolated_other.wav",
}
#: Target -> file name in a MUSDB18-HQ track folder (``mixture.wav`` beside them); a folder of
#: your own in this naming may hold any subset of the four.
MUSDB_STEM_NAMES = {target: f"{target}.wav" for target in TARGETS}
MUSDB_MIXTURE_NAME = "mixture.wav"
#: Name tags of source files: ``<name>_100-full.<ext>`` / ``<name>_100-stem.<ext>``.
MIXTURE_TAG = "_100-full"
VOCAL_TAG = "_100-stem"
#: Optional source stems beside a pair: ``<name>_100-drums.<ext>`` (and ``-bass``, ``-other``).
STEM_TAGS = {"drums": "_100-drums", "bass": "_100-bass", "other": "_100-other"}
#: A source file name: ``<name><tag>.<ext>``, *tag* the mixture's, the vocal's or a stem's.
SOURCE_PATTERN = re.compile(
    r"^(?P<name>.+)(?P<tag>"
    + "|".join(re.escape(t) for t in (MIXTURE_TAG, VOCAL_TAG, *STEM_TAGS.values()))
    + r")\.(?P<ext>[A-Za-z0-9]+)$"
)

#: The default input of every experiment (when it holds a pair).
DEFAULT_DATA_DIR = Path("data/rtg/100-window")
#: Default source and destination folders of ``conv2dsep prepare``.
DEFAULT_SOURCE = Path("data/process/100-window")
DEFAULT_DEST = DEFAULT_DATA_DIR
#: Default destination of ``prepare --musdb`` (``<this>/<subset>/<track>/``).
DEFAULT_MUSDB_DEST = Path("data/rtg/musdb18")
#: Root of the generated demo set (``process/`` and ``rtg/`` below it).
DEFAULT_DEMO_ROOT = Path("data/demo")


@dataclass(frozen=True)
class SourcePair:
    """A matched source pair: ``<name>_100-full.<ext>`` + ``<name>_100-stem.<ext>``.

    Attributes
    ----------
    name : str
    mixture, vocal : Path
    stems : dict of str -> Path
        The optional other stems found beside the pair, by target (keys of
        :data:`STEM_TAGS`: ``"drums"``, ``"bass"``, ``"other"``, in that order):
        ``<name>_100-drums.<ext>`` etc.  Empty when there are none.
    """

    name: str
    mixture: Path
    vocal: Path
    stems: Dict[str, Path] = field(default_factory=dict)


#: Source role -> name tag (``mixture``, ``vocal``, then the stems' targets).
_ROLE_TAGS = {"mixture": MIXTURE_TAG, "vocal": VOCAL_TAG, **STEM_TAGS}
_TAG_ROLES = {tag: role for role, tag in _ROLE_TAGS.items()}


def _problem(name: str, found: Dict[str, List[Path]]) -> Optional[str]:
    """Why the files of *name* are not one pair (None when they are).

    The mixture and the vocal are checked first (missing, then several), as before
    stems existed, so the messages of plain pairs are unchanged.
    """
    for role in ("mixture", "vocal"):
        if not found[role]:
            missing = [f"{name}{_ROLE_TAGS[r]}.<ext>" for r in ("mixture", "vocal") if not found[r]]
            partner = found["vocal" if role == "mixture" else "mixture"]
            have = (partner or next(paths for paths in found.values() if paths))[0].name
            return f"missing partner: found {have} but no {' and no '.join(missing)}"
        if len(found[role]) > 1:
            return (
                f"several {role} files ({', '.join(p.name for p in found[role])}): "
                f"allowed one {name}{_ROLE_TAGS[role]}.<ext>"
            )
    for target, tag in STEM_TAGS.items():
        if len(found[target]) > 1:
            return (
                f"several {target} files ({', '.join(p.name for p in found[target])}): "
                f"allowed one {name}{tag}.<ext>"
            )
    return None


def find_pairs(
    source: PathLike = DEFAULT_SOURCE,
) -> Tuple[List[SourcePair], List[Tuple[str, str]], List[str]]:
    """Match the source files of a ``process/100-window/`` folder by name.

    Parameters
    ----------
    source : path
        Folder of ``<name>_100-full.<ext>`` (mixture) and ``<name>_100-stem.<ext>``
        (vocal) files, and optionally ``<name>_100-drums.<ext>``,
        ``<name>_100-bass.<ext>`` and ``<name>_100-other.<ext>`` (:data:`STEM_TAGS`)
        beside a pair; not searched recursively.

    Returns
    -------
    pairs : list of SourcePair
        Complete pairs (with the stems found beside them), sorted by name.
    problems : list of (name, reason)
        Names with a missing partner (a stem file without its mixture and vocal
        included) or several files for one role.
    ignored : list of str
        File names that follow none of the patterns (hidden files are not listed).

    Raises
    ------
    ParameterError
        A missing source folder, or one without any ``*_100-<tag>`` file.
    """
    src = Path(source)
    if not src.is_dir():
        raise ParameterError(
            f"source folder {str(src)!r} does not exist or is not a folder: allowed a folder of "
            f"<name>{MIXTURE_TAG}.<ext> + <name>{VOCAL_TAG}.<ext> pairs (see data/README.md)"
        )
    roles: Dict[str, Dict[str, List[Path]]] = {}
    ignored = []
    for p in sorted(src.iterdir()):
        if p.name.startswith(".") or p.is_dir():
            continue
        m = SOURCE_PATTERN.match(p.name)
        if m is None:
            ignored.append(p.name)
            continue
        found = roles.setdefault(m.group("name"), {role: [] for role in _ROLE_TAGS})
        found[_TAG_ROLES[m.group("tag")]].append(p)
    if not roles:
        raise ParameterError(
            f"source folder {str(src)!r} holds no pairs: allowed <name>{MIXTURE_TAG}.<ext> (mixture) "
            f"+ <name>{VOCAL_TAG}.<ext> (vocal), e.g. song{MIXTURE_TAG}.wav + song{VOCAL_TAG}.flac"
        )
    pairs, problems = [], []
    for name in sorted(roles):
        found = roles[name]
        bad = _problem(name, found)
        if bad:
            problems.append((name, bad))
        else:
            stems = {target: found[target][0] for target in STEM_TAGS if found[target]}
            pairs.append(SourcePair(name, found["mixture"][0], found["vocal"][0], stems))
    return pairs, problems, ignored
