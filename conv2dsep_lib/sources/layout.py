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
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from ..core.errors import ParameterError
from ..core.files import PathLike

__all__ = [
    "MIXTURE_NAME",
    "VOCAL_NAME",
    "INSTRUMENTAL_NAME",
    "MANIFEST_NAME",
    "OUTPUT_NAMES",
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
#: Name tags of source files: ``<name>_100-full.<ext>`` / ``<name>_100-stem.<ext>``.
MIXTURE_TAG = "_100-full"
VOCAL_TAG = "_100-stem"
SOURCE_PATTERN = re.compile(r"^(?P<name>.+)(?P<tag>_100-full|_100-stem)\.(?P<ext>[A-Za-z0-9]+)$")

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
    """A matched source pair: ``<name>_100-full.<ext>`` + ``<name>_100-stem.<ext>``."""

    name: str
    mixture: Path
    vocal: Path


def find_pairs(
    source: PathLike = DEFAULT_SOURCE,
) -> Tuple[List[SourcePair], List[Tuple[str, str]], List[str]]:
    """Match the source files of a ``process/100-window/`` folder by name.

    Parameters
    ----------
    source : path
        Folder of ``<name>_100-full.<ext>`` (mixture) and ``<name>_100-stem.<ext>``
        (vocal) files; not searched recursively.

    Returns
    -------
    pairs : list of SourcePair
        Complete pairs, sorted by name.
    problems : list of (name, reason)
        Names with a missing partner or several files for one role.
    ignored : list of str
        File names that follow neither pattern (hidden files are not listed).

    Raises
    ------
    ParameterError
        A missing source folder, or one without any ``*_100-full/stem`` file.
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
        role = "mixture" if m.group("tag") == MIXTURE_TAG else "vocal"
        roles.setdefault(m.group("name"), {"mixture": [], "vocal": []})[role].append(p)
    if not roles:
        raise ParameterError(
            f"source folder {str(src)!r} holds no pairs: allowed <name>{MIXTURE_TAG}.<ext> (mixture) "
            f"+ <name>{VOCAL_TAG}.<ext> (vocal), e.g. song{MIXTURE_TAG}.wav + song{VOCAL_TAG}.flac"
        )
    pairs, problems = [], []
    for name in sorted(roles):
        found = roles[name]
        bad = None
        for role, tag in (("mixture", MIXTURE_TAG), ("vocal", VOCAL_TAG)):
            if not found[role]:
                have = found["vocal" if role == "mixture" else "mixture"][0].name
                bad = f"missing partner: found {have} but no {name}{tag}.<ext>"
            elif len(found[role]) > 1:
                bad = f"several {role} files ({', '.join(p.name for p in found[role])}): allowed one {name}{tag}.<ext>"
            if bad:
                break
        if bad:
            problems.append((name, bad))
        else:
            pairs.append(SourcePair(name, found["mixture"][0], found["vocal"][0]))
    return pairs, problems, ignored
