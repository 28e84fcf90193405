"""MUSDB18 reading: MUSDB18-HQ wav folders directly, ``.stem.mp4`` through ``musdb``.

Two layouts of the same dataset are read, both under a root with ``train/`` and
``test/`` subsets:

* **MUSDB18-HQ** (uncompressed): ``<root>/<subset>/<track>/{mixture,vocals,drums,bass,
  other}.wav``.  Read with :mod:`soundfile`; neither the ``musdb`` package nor ffmpeg
  is needed.
* **MUSDB18** (compressed): ``<root>/<subset>/<track>.stem.mp4`` -- one file holding
  five AAC streams (mixture, drums, bass, other, vocals).  Decoded by the optional
  ``musdb`` package (``pip install -e '.[musdb]'``), which calls ``ffmpeg`` and
  ``ffprobe``.  When they are not on ``PATH`` a :class:`ParameterError` says so (the
  ``musdb`` import itself would raise an unhelpful ``RuntimeError``).

Track names are the folder names (HQ) or the file names without ``.stem.mp4``.
Nothing is downloaded: ``musdb.DB`` is always given an existing ``root``.

Decisions
---------
* A track is the mixture and the vocals (an HQ folder needs ``mixture.wav`` and
  ``vocals.wav``); ``drums``, ``bass`` and ``other`` are read too when there
  (always in a ``.stem.mp4``; in an HQ folder when the file exists), for the other
  targets.  Roles are ``mixture``, ``vocal`` (the vocals, as everywhere in the
  workbook), ``drums``, ``bass``, ``other``.  The instrumental is
  ``mixture - vocals`` as in ``conv2dsep prepare``.
* Audio is returned channels-first, float32, at the file's rate (44100 Hz for
  MUSDB18); resampling to the config's rate is the caller's job
  (:mod:`conv2dsep_lib.sources.datasets`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from ..core.errors import ParameterError
from ..core.files import PathLike
from .audio import read_audio
from .layout import MUSDB_MIXTURE_NAME, MUSDB_STEM_NAMES

__all__ = [
    "MUSDB_SUBSETS",
    "FFMPEG_MESSAGE",
    "MusdbTrack",
    "musdb_layout",
    "list_musdb_tracks",
    "find_musdb_track",
    "incomplete_musdb_tracks",
    "read_musdb_track",
    "require_ffmpeg",
]

#: The two subsets of MUSDB18.
MUSDB_SUBSETS = ("train", "test")
#: Suffix of a compressed MUSDB18 track.
STEM_SUFFIX = ".stem.mp4"
#: File names of an HQ track folder that make a track (role -> file name).
HQ_FILES = {"mixture": MUSDB_MIXTURE_NAME, "vocal": MUSDB_STEM_NAMES["vocals"]}
#: The other stems, read when present (target -> file name of an HQ folder).
HQ_STEM_FILES = {t: MUSDB_STEM_NAMES[t] for t in ("drums", "bass", "other")}
#: The one message for a missing ffmpeg.
FFMPEG_MESSAGE = (
    "reading .stem.mp4 needs ffmpeg and ffprobe on PATH (e.g. apt-get install "
    "ffmpeg); MUSDB18-HQ wav folders need neither"
)


@dataclass(frozen=True)
class MusdbTrack:
    """One MUSDB18 track on disk.

    Attributes
    ----------
    name : str
        Folder name (HQ) or file name without ``.stem.mp4``.
    subset : {"train", "test"}
    kind : {"wav", "stem"}
        MUSDB18-HQ folder or compressed ``.stem.mp4``.
    path : Path
        The track folder (``wav``) or the ``.stem.mp4`` file (``stem``).
    root : Path
        The dataset root (holding ``train/`` and ``test/``).
    """

    name: str
    subset: str
    kind: str
    path: Path
    root: Path

    @property
    def files(self) -> Dict[str, Path]:
        """Source files by role.

        HQ: ``mixture`` and ``vocal`` (``mixture.wav``, ``vocals.wav``), then ``drums``,
        ``bass`` and ``other`` for those of ``drums.wav``, ``bass.wav``, ``other.wav``
        that exist.  ``.stem.mp4``: the one file as ``mixture`` and ``vocal``.
        """
        if self.kind == "wav":
            files = {role: self.path / fname for role, fname in HQ_FILES.items()}
            for target, fname in HQ_STEM_FILES.items():
                if (self.path / fname).is_file():
                    files[target] = self.path / fname
            return files
        return {"mixture": self.path, "vocal": self.path}


def require_ffmpeg() -> None:
    """Raise :class:`ParameterError` unless ``ffmpeg`` and ``ffprobe`` are on ``PATH``."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise ParameterError(FFMPEG_MESSAGE)


def _check_subset(subset: str) -> str:
    if subset not in MUSDB_SUBSETS:
        raise ParameterError(f"subset={subset!r} is invalid: allowed one of {', '.join(MUSDB_SUBSETS)}")
    return subset


def musdb_layout(root: PathLike, *, subset: str = "test") -> str:
    """Detect the layout of a MUSDB18 root: ``"wav"`` (HQ) or ``"stem"`` (``.stem.mp4``).

    Parameters
    ----------
    root : path
        Folder holding ``train/`` and/or ``test/``.
    subset : {"train", "test"}

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        Missing root or subset folder, or a subset folder with neither layout.
    """
    _check_subset(subset)
    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"MUSDB18 root {str(root)!r} does not exist or is not a folder")
    folder = root / subset
    if not folder.is_dir():
        present = [s for s in MUSDB_SUBSETS if (root / s).is_dir()]
        raise ParameterError(
            f"MUSDB18 root {str(root)!r} has no {subset}/ folder: allowed a root holding "
            f"train/ and test/ (found: {', '.join(present) or 'neither'})"
        )
    if any(p.name.endswith(STEM_SUFFIX) for p in folder.iterdir() if p.is_file()):
        return "stem"
    if any((p / HQ_FILES["mixture"]).is_file() for p in folder.iterdir() if p.is_dir()):
        return "wav"
    raise ParameterError(
        f"{str(folder)!r} holds no MUSDB18 tracks: allowed <track>/mixture.wav + vocals.wav "
        f"folders (MUSDB18-HQ) or <track>{STEM_SUFFIX} files"
    )


def list_musdb_tracks(root: PathLike, *, subset: str = "test") -> List[MusdbTrack]:
    """The tracks of one subset, sorted by name (no audio is read, no ffmpeg needed).

    An HQ folder counts as a track when it holds ``mixture.wav`` and ``vocals.wav``.

    Returns
    -------
    list of MusdbTrack
    """
    root = Path(root)
    kind = musdb_layout(root, subset=subset)
    folder = root / subset
    tracks = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if kind == "wav" and p.is_dir() and all((p / f).is_file() for f in HQ_FILES.values()):
            tracks.append(MusdbTrack(p.name, subset, "wav", p, root))
        elif kind == "stem" and p.is_file() and p.name.endswith(STEM_SUFFIX):
            tracks.append(MusdbTrack(p.name[: -len(STEM_SUFFIX)], subset, "stem", p, root))
    return tracks


def incomplete_musdb_tracks(root: PathLike, *, subset: str = "test") -> Dict[str, str]:
    """HQ track folders that lack a file the workbook reads: name -> what is missing.

    They are not tracks (:func:`list_musdb_tracks` leaves them out), but a user who
    names one, or prepares a whole subset, is told why it is not used.
    """
    root = Path(root)
    folder = root / subset
    out: Dict[str, str] = {}
    if musdb_layout(root, subset=subset) != "wav":
        return out
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or not p.is_dir():
            continue
        missing = [f for f in HQ_FILES.values() if not (p / f).is_file()]
        if missing:
            out[p.name] = (
                f"the track folder {str(p)!r} has no {' and no '.join(missing)}: allowed a folder "
                f"holding {' and '.join(HQ_FILES.values())}"
            )
    return out


def _unknown_track(name: str, names: List[str], where: str) -> ParameterError:
    shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
    return ParameterError(
        f"track {name!r} is not in {where}: allowed one of {len(names)} tracks ({shown or 'none'})"
    )


def find_musdb_track(root: PathLike, name: str, *, subset: str = "test") -> MusdbTrack:
    """The track called *name*; an unknown name raises, listing a few available ones."""
    tracks = list_musdb_tracks(root, subset=subset)
    for t in tracks:
        if t.name == name:
            return t
    incomplete = incomplete_musdb_tracks(root, subset=subset)
    if name in incomplete:
        raise ParameterError(f"track {name!r}: {incomplete[name]}")
    raise _unknown_track(name, [t.name for t in tracks], f"MUSDB18 {subset}/ of {str(root)!r}")


def read_musdb_track(track: MusdbTrack, *, stems: bool = True) -> Tuple[Dict[str, np.ndarray], int]:
    """Read a track's mixture and vocals, and its other stems.

    Parameters
    ----------
    track : MusdbTrack
    stems : bool
        Also read ``drums``, ``bass`` and ``other`` (an HQ folder: those whose file
        exists; a ``.stem.mp4``: all three, three more decodes).  False reads only
        what a vocals-only run needs.

    Returns
    -------
    audio : dict
        ``{"mixture": ndarray, "vocal": ndarray}`` plus ``"drums"``, ``"bass"``,
        ``"other"`` (with *stems*, when present), each [shape=(channels, n),
        dtype=float32].  Lengths are the files' own (MUSDB18's are equal).
    sr : int
        Sample rate of the files (44100 for MUSDB18).

    Raises
    ------
    ParameterError
        Unreadable files, different rates in one HQ folder, ffmpeg missing for a
        ``.stem.mp4``, or the ``musdb`` package not installed.
    """
    if track.kind == "wav":
        roles = [r for r in track.files if stems or r in HQ_FILES]
        audio, rates = {}, {}
        for role in roles:
            path = track.files[role]
            audio[role], rates[role] = read_audio(path, name=repr(str(path)))
        for role in roles[1:]:
            if rates[role] != rates["mixture"]:
                raise ParameterError(
                    f"track {track.name!r}: mixture.wav is {rates['mixture']} Hz but {track.files[role].name} "
                    f"is {rates[role]} Hz: allowed one rate per track"
                )
        return audio, rates["mixture"]
    require_ffmpeg()
    try:
        import musdb  # lazily: it needs ffmpeg at import time
    except ImportError:
        raise ParameterError(
            "reading .stem.mp4 needs the optional musdb package: pip install -e '.[musdb]'"
        ) from None
    db = musdb.DB(root=str(track.root), subsets=[track.subset], is_wav=False, download=False)
    for t in db.tracks:
        if t.name == track.name:
            audio = {
                "mixture": np.asarray(t.audio, dtype=np.float32).T,
                "vocal": np.asarray(t.targets["vocals"].audio, dtype=np.float32).T,
            }
            for target in HQ_STEM_FILES if stems else ():
                audio[target] = np.asarray(t.targets[target].audio, dtype=np.float32).T
            return ({k: np.ascontiguousarray(v) for k, v in audio.items()}, int(round(t.rate)))
    raise _unknown_track(track.name, [t.name for t in db.tracks], f"musdb.DB({str(track.root)!r})")
