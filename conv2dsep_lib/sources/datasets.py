"""Datasets: named mixture/vocal tracks for notebooks and sweeps.

:func:`open_dataset` gives one small object over a prepared folder, a glob of them,
or a MUSDB18 root; :func:`open_musdb` over one MUSDB18 subset.  :meth:`Dataset.load`
returns one aligned mono excerpt (:class:`~conv2dsep_lib.sources.audio.AudioPair`), cut
by the same :func:`~conv2dsep_lib.sources.audio.excerpt_bounds` every file load uses.
"""

from __future__ import annotations

import glob as _glob
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ..core.checks import check_signal
from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike
from .audio import AudioPair, audio_warnings, excerpt_bounds, fit_length, load_pair, resample
from .layout import INSTRUMENTAL_NAME, MANIFEST_NAME, MIXTURE_NAME, TARGETS, VOCAL_NAME
from .musdb18 import MusdbTrack, incomplete_musdb_tracks, list_musdb_tracks, read_musdb_track, require_ffmpeg
from .prepare import read_source
from .stems import DEFAULT_TARGETS, check_targets, stem_files, with_stems

__all__ = ["Stems", "TrackInfo", "Dataset", "open_dataset", "open_musdb"]


class Stems(NamedTuple):
    """Full-length stems of one track at the dataset's rate.

    Attributes
    ----------
    mixture, vocal, instrumental : np.ndarray [shape=(channels, n)] or [shape=(n,)], float32
    sr : int
    """

    mixture: np.ndarray
    vocal: np.ndarray
    instrumental: np.ndarray
    sr: int


@dataclass(frozen=True)
class TrackInfo:
    """One track of a :class:`Dataset`: its name, kind and files by role.

    Attributes
    ----------
    name : str
    kind : {"prepared", "musdb18-hq", "musdb18-stem"}
    files : dict of str -> Path
        ``mixture``, ``vocal`` (and ``instrumental`` for a prepared folder); both
        roles point at the one ``.stem.mp4`` of a compressed MUSDB18 track.
    musdb : MusdbTrack or None
        The MUSDB18 track, for MUSDB entries.
    """

    name: str
    kind: str
    files: Dict[str, Path]
    musdb: Optional[MusdbTrack] = None


class Dataset:
    """Named mixture/vocal tracks, loaded at a config's rate (notebooks and sweeps).

    Build one with :func:`open_dataset` or :func:`open_musdb`.

    Attributes
    ----------
    tracks : tuple of str
        Track names, sorted.
    kind : str
        ``"prepared"``, ``"musdb18-hq"`` or ``"musdb18-stem"``.
    config : Config
        ``sr`` and ``duration`` used by :meth:`load`.
    root : str
        What was opened.

    Examples
    --------
    >>> ds = open_dataset("data/demo/rtg/100-window")          # doctest: +SKIP
    >>> ds.tracks                                              # doctest: +SKIP
    ('demo_song_0', 'demo_song_1', 'demo_song_2')
    >>> pair = ds.load("demo_song_0")   # AudioPair for run_experiment   # doctest: +SKIP
    """

    def __init__(
        self,
        entries: Sequence[TrackInfo],
        *,
        kind: str,
        root: str,
        config: Optional[Config] = None,
        incomplete: Optional[Mapping[str, str]] = None,
    ):
        self._entries = {e.name: e for e in sorted(entries, key=lambda e: e.name)}
        self._incomplete = dict(incomplete or {})  # folders that are not tracks: name -> why
        self.kind = kind
        self.root = root
        self.config = config or Config()

    @property
    def tracks(self) -> Tuple[str, ...]:
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __repr__(self) -> str:
        return f"Dataset({self.root!r}, kind={self.kind!r}, {len(self)} tracks)"

    def track(self, name: str) -> TrackInfo:
        """The track called *name* (a :class:`ParameterError` lists a few allowed names)."""
        if name in self._incomplete:
            raise ParameterError(f"track {name!r}: {self._incomplete[name]}")
        if name not in self._entries:
            names = list(self._entries)
            shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
            raise ParameterError(
                f"track {name!r} is not in {self.root!r}: allowed one of {len(names)} tracks ({shown or 'none'})"
            )
        return self._entries[name]

    def info(self, name: str) -> dict:
        """JSON-able description of a track (with the prepare manifest when there is one)."""
        e = self.track(name)
        out = {"name": name, "kind": e.kind, "files": {r: str(p) for r, p in e.files.items()}}
        manifest = e.files.get("mixture", Path()).parent / MANIFEST_NAME
        if e.kind == "prepared" and manifest.is_file():
            out["manifest"] = json.loads(manifest.read_text())
        return out

    def _read_full(self, e: TrackInfo) -> Dict[str, Tuple[np.ndarray, int]]:
        if e.kind == "musdb18-stem":
            assert e.musdb is not None
            audio, sr = read_musdb_track(e.musdb)
            return {role: (y, sr) for role, y in audio.items()}
        return {role: read_source(path, role=role) for role, path in e.files.items()}

    def load(
        self, name: str, *, offset: float = 0.0, pad: bool = False, targets: Sequence[str] = DEFAULT_TARGETS
    ) -> AudioPair:
        """One excerpt as an aligned mono :class:`~conv2dsep_lib.sources.audio.AudioPair`.

        Parameters
        ----------
        name : str
            A name from :attr:`tracks`.
        offset : float >= 0
            Excerpt start in seconds; the excerpt is ``config.duration`` long.
        pad : bool
            Zero-pad a track that ends before the excerpt does.
        targets : sequence of str
            Beyond ``("vocals",)``, the pair also carries the track's other stems
            (``pair.stems``: MUSDB18's four, a prepared folder's ``isolated_<target>.wav``).

        Returns
        -------
        AudioPair
            ``mixture`` and ``vocal`` [shape=(config.n_samples,)] at ``config.sr``,
            ``source`` naming the dataset and track -- what
            :func:`conv2dsep_lib.run.experiment.run_experiment` takes.
        """
        e = self.track(name)
        cfg = self.config
        more = check_targets(list(targets)) != DEFAULT_TARGETS
        extra = {"dataset": self.root, "kind": e.kind, "track": name}
        if e.kind != "musdb18-stem":
            pair = load_pair(
                e.files["mixture"], e.files["vocal"], sr=cfg.sr, duration=cfg.duration, offset=offset, pad=pad
            )
            pair = replace(pair, source={**pair.source, **extra})
            stems = {t: p for t, p in e.files.items() if t in TARGETS}
            return with_stems(pair, stems, offset=offset, pad=pad) if more else pair
        full = self._read_full(e)
        out = {}
        warnings: List[str] = []
        for role, (y, file_sr) in full.items():
            if role in TARGETS and not more:
                continue  # a vocals-only run reads the track as it always has
            start, stop = excerpt_bounds(
                y.shape[-1], file_sr, offset=offset, duration=cfg.duration, pad=pad, name=f"track {name!r}"
            )
            padding = max(0, stop - y.shape[-1]) / max(1, stop - start)
            warnings += audio_warnings(
                y[:, start:stop], sr=file_sr, name=f"track {name!r} {role}", padding=padding
            )
            y = resample(y.mean(axis=0), file_sr, cfg.sr)
            start, stop = excerpt_bounds(
                y.size, cfg.sr, offset=offset, duration=cfg.duration, pad=pad, name=f"track {name!r}"
            )
            seg = fit_length(y[start:stop], cfg.n_samples)
            out[role] = np.ascontiguousarray(
                check_signal(seg, name=f"track {name!r} {role}"), dtype=np.float32
            )
        stems = {t: out[t] for t in TARGETS[1:] if t in out}
        return AudioPair(
            mixture=out["mixture"],
            vocal=out["vocal"],
            sr=cfg.sr,
            source={**extra, "offset": float(offset), "duration": float(cfg.duration)},
            files=(e.files["mixture"],),
            warnings=tuple(warnings),
            stems={"vocals": out["vocal"], **stems} if more and stems else {},
        )

    def load_stems(self, name: str, *, mono: bool = False) -> Stems:
        """The whole track as mixture, vocal and instrumental at ``config.sr``.

        The instrumental is ``stereo_instrumental.wav`` for a prepared folder and
        ``mixture - vocal`` otherwise.  A mono file next to a stereo one is copied to
        both channels.

        Returns
        -------
        Stems
            Arrays [shape=(channels, n)] (or [shape=(n,)] with ``mono=True``).
        """
        e = self.track(name)
        full = self._read_full(e)
        sr = self.config.sr
        arrays = {role: resample(y, file_sr, sr) for role, (y, file_sr) in full.items()}
        channels = max(a.shape[0] for a in arrays.values())
        arrays = {
            r: (np.repeat(a, channels, axis=0) if a.shape[0] < channels else a) for r, a in arrays.items()
        }
        n = min(a.shape[1] for a in arrays.values())
        arrays = {r: a[:, :n] for r, a in arrays.items()}
        if "instrumental" not in arrays:
            arrays["instrumental"] = (arrays["mixture"] - arrays["vocal"]).astype(np.float32)
        if mono:
            arrays = {r: a.mean(axis=0).astype(np.float32) for r, a in arrays.items()}
        return Stems(arrays["mixture"], arrays["vocal"], arrays["instrumental"], sr)


def _prepared_entry(folder: Path) -> Optional[TrackInfo]:
    if (folder / MIXTURE_NAME).is_file() and (folder / VOCAL_NAME).is_file():
        files = {"mixture": folder / MIXTURE_NAME, "vocal": folder / VOCAL_NAME}
        if (folder / INSTRUMENTAL_NAME).is_file():
            files["instrumental"] = folder / INSTRUMENTAL_NAME
        files.update({t: p for t, p in stem_files(folder).items() if t != "vocals"})
        return TrackInfo(folder.name, "prepared", files)
    return None


def _prepared_entries(folder: Path) -> List[TrackInfo]:
    """The folder itself when it holds a pair, plus its subfolders that do."""
    found = []
    own = _prepared_entry(folder)
    if own is not None:
        found.append(own)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        e = _prepared_entry(sub)
        if e is not None:
            found.append(e)
    return found


def open_musdb(root: PathLike, *, subset: str = "test", config: Optional[Config] = None) -> Dataset:
    """A :class:`Dataset` over one subset of a MUSDB18 root (HQ wav or ``.stem.mp4``).

    Raises
    ------
    ParameterError
        Not a MUSDB18 root, no tracks, or ``.stem.mp4`` without ffmpeg/ffprobe.
    """
    root = Path(os.path.expanduser(str(root)))
    tracks = list_musdb_tracks(root, subset=subset)
    if not tracks:
        raise ParameterError(f"MUSDB18 root {str(root)!r} has no tracks in {subset}/")
    kind = "musdb18-hq" if tracks[0].kind == "wav" else "musdb18-stem"
    if kind == "musdb18-stem":
        require_ffmpeg()
    entries = [TrackInfo(t.name, kind, t.files, t) for t in tracks]
    return Dataset(
        entries,
        kind=kind,
        root=str(root),
        config=config,
        incomplete=incomplete_musdb_tracks(root, subset=subset),
    )


def open_dataset(path: PathLike, *, config: Optional[Config] = None, subset: str = "test") -> Dataset:
    """Open prepared folders or a MUSDB18 root as one :class:`Dataset`.

    Parameters
    ----------
    path : path or glob pattern
        * a prepared folder: one pair (``stereo_mixture.wav`` + ``isolated_vocal.wav``)
          and/or ``<name>/`` subfolders holding pairs (``prepare`` output);
        * a glob (``"data/*/rtg/100-window/*"``) of such folders;
        * a MUSDB18 root (``train/``, ``test/``): HQ wav folders or ``.stem.mp4``.
    config : Config, optional
        Rate and excerpt length for :meth:`Dataset.load` (default :class:`Config`).
    subset : {"train", "test"}
        For a MUSDB18 root.

    Returns
    -------
    Dataset
        Track names are folder names; when two folders share a name, their paths
        relative to a common parent are used instead.

    Raises
    ------
    ParameterError
        Nothing matched, or no pairs found.
    """
    text = os.path.expanduser(str(path))
    if any(ch in text for ch in "*?["):
        folders = [Path(p) for p in sorted(_glob.glob(text)) if Path(p).is_dir()]
        if not folders:
            raise ParameterError(f"pattern {text!r} matches no folder: allowed a glob of prepared folders")
    else:
        p = Path(text)
        if not p.is_dir():
            raise ParameterError(f"dataset {text!r} does not exist or is not a folder")
        if (p / "train").is_dir() or (p / "test").is_dir():
            return open_musdb(p, subset=subset, config=config)
        folders = [p]
    entries = [e for f in folders for e in _prepared_entries(f)]
    if not entries:
        raise ParameterError(
            f"no prepared pairs under {text!r}: allowed folders holding {MIXTURE_NAME} + {VOCAL_NAME} "
            "(conv2dsep prepare output), or a MUSDB18 root with train/ and test/"
        )
    entries = list({e.files["mixture"].resolve(): e for e in entries}.values())  # glob overlaps
    counts: Dict[str, int] = {}
    for e in entries:
        counts[e.name] = counts.get(e.name, 0) + 1
    if any(c > 1 for c in counts.values()):
        base = Path(os.path.commonpath([str(e.files["mixture"].parent.resolve()) for e in entries]))
        entries = [
            TrackInfo(
                Path(os.path.relpath(e.files["mixture"].parent.resolve(), base)).as_posix()
                if counts[e.name] > 1
                else e.name,
                e.kind,
                e.files,
            )
            for e in entries
        ]
    return Dataset(entries, kind="prepared", root=text, config=config)
