"""Prepare: standardise source pairs into the ``rtg`` layout (``conv2dsep prepare``).

:func:`prepare` turns a ``process/100-window/`` folder of source pairs into
``rtg/100-window/`` excerpts (see :mod:`.layout`); :func:`prepare_pair` does one pair,
:func:`prepare_musdb` MUSDB18 tracks.  The demo set (:mod:`.demo_set`) goes through
the same code.

Decisions (written down here, as SPEC asks)
-------------------------------------------
* **Reading.**  Every format :mod:`soundfile` reads (WAV, FLAC, OGG, AIFF, MP3, ...).
  A file that is missing a partner, unreadable, empty, has NaN/inf samples, is
  silent, or has more than two channels skips its pair, reported by name; the other
  pairs are prepared.  Source files are only ever opened for reading.
* **Rate and channels.**  Both files are resampled to ``config.sr`` (soxr, high
  quality).  Channels are kept: when either file is stereo both are written stereo
  (a mono file is copied to both channels, so that ``mixture - vocal`` is defined per
  channel); two mono files give mono outputs.
* **Alignment.**  The lag of the vocal behind the mixture is the peak of the FFT
  cross-correlation of their mono downmixes at ``config.sr``, searched within
  ``+-LAG_SEARCH_SECONDS`` (positive = the vocal is late).  ``|lag| > MAX_LAG_MS``
  refuses the pair unless ``align=True``, which shifts the vocal by the lag (zero
  fill) and measures again.  With ``align=True`` any non-zero lag is corrected.
* **Level checks** (reported as warnings in the manifest and on the command line,
  not refusals): a vocal with more energy than the mixture, and a vocal "not
  contained" in the mixture -- residual ``mixture - vocal`` with more energy than the
  mixture.  They are measured on the whole aligned span, not only the excerpt.
* **Excerpt.**  ``[offset, offset + config.duration)`` at ``config.sr``; ``offset=
  "auto"`` picks the window with the most vocal energy on a 10 ms grid (first one on
  ties).  A pair shorter than that is skipped; so is an excerpt whose vocal is
  silent (it could not be a target).
* **Extra stems** (``<name>_100-drums/-bass/-other.<ext>``, MUSDB18's ``drums.wav`` ...)
  are optional and follow the vocal (:mod:`.standardise`): same rate, channels, shift
  and excerpt, written as ``isolated_drums.wav`` etc. and listed in the manifest; they
  change none of the other outputs.  A silent stem is allowed (warned when silent in
  the excerpt); an unreadable, empty or NaN one skips its pair.
* **Outputs.**  float32 WAV (``FLOAT`` subtype, the bytes :func:`audio.write_wav`
  writes) plus ``manifest.json`` (sources with sha256, excerpt, levels, lag,
  warnings; paths relative to the output folder; no timestamps) in the pair's
  folder: the destination itself when the source holds one pair name, else
  ``<dest>/<name>/``.  The manifest is written last.
* **Safety.**  Each file is written atomically (temporary file + rename).  What would
  be written is compared with what exists: identical -> left untouched
  ("unchanged"); different -> the pair is refused unless ``force=True``.  So a
  re-run is idempotent (same input -> same bytes).  A destination inside the
  source folder is refused.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.checks import check_offset, check_signal
from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_write_bytes, is_inside, json_text
from .audio import encode_audio, read_audio
from .layout import (
    DEFAULT_DEST,
    DEFAULT_MUSDB_DEST,
    DEFAULT_SOURCE,
    MANIFEST_NAME,
    OUTPUT_NAMES,
    STEM_NAMES,
    STEM_TAGS,
    find_pairs,
)
from .musdb18 import (
    find_musdb_track,
    incomplete_musdb_tracks,
    list_musdb_tracks,
    read_musdb_track,
    require_ffmpeg,
)
from .standardise import MAX_LAG_MS, Offset, standardise_pair

__all__ = [
    "MAX_LAG_MS",
    "PairReport",
    "PrepareResult",
    "read_source",
    "read_stem",
    "sha256",
    "file_reader",
    "run_pairs",
    "prepare_pair",
    "prepare",
    "prepare_musdb",
]

MANIFEST_FORMAT = "conv2dsep-prepare/1"


# =========================================================================== sources


def read_source(path: Path, *, role: str) -> Tuple[np.ndarray, int]:
    """Read one source file: (channels, n) float32 and its rate; validated."""
    y, sr = read_audio(path, name=f"{role} {path.name!r}")
    check_signal(y, name=f"{role} {path.name!r}")
    return y, sr


def read_stem(path: Path, *, target: str) -> Tuple[np.ndarray, int]:
    """Read one extra stem file: (channels, n) float32 and its rate; silence is allowed.

    Raises
    ------
    ParameterError
        A missing, unreadable or empty file, more than two channels, or NaN/inf samples.
    """
    y, sr = read_audio(path, name=f"{target} {path.name!r}")
    check_signal(y, name=f"{target} {path.name!r}", allow_silence=True)
    return y, sr


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# =========================================================================== reports


@dataclass(frozen=True)
class PairReport:
    """What happened to one pair.

    Attributes
    ----------
    name : str
    status : {"written", "unchanged", "overwritten", "skipped"}
    folder : Path or None
        Where the three files (plus ``isolated_<target>.wav`` per extra stem) and
        ``manifest.json`` are (None when skipped before a folder was chosen).
    reason : str or None
        Why the pair was skipped.
    warnings : tuple of str
        Level/length checks that did not stop the pair.
    manifest : dict or None
        The manifest written (or found identical).
    """

    name: str
    status: str
    folder: Optional[Path] = None
    reason: Optional[str] = None
    warnings: Tuple[str, ...] = ()
    manifest: Optional[dict] = None

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"


@dataclass(frozen=True)
class PrepareResult:
    """The outcome of :func:`prepare`: one :class:`PairReport` per name found.

    ``exit_code`` is what ``conv2dsep prepare`` returns: 0 when every pair was
    prepared or unchanged, 1 when some pair was skipped.
    """

    dest: Path
    pairs: Tuple[PairReport, ...]
    ignored: Tuple[str, ...] = ()

    @property
    def prepared(self) -> List[PairReport]:
        return [p for p in self.pairs if not p.skipped]

    @property
    def skipped(self) -> List[PairReport]:
        return [p for p in self.pairs if p.skipped]

    @property
    def exit_code(self) -> int:
        return 1 if self.skipped else 0

    def __getitem__(self, name: str) -> PairReport:
        for p in self.pairs:
            if p.name == name:
                return p
        raise KeyError(name)


# =========================================================================== prepare


def _commit(folder: Path, files: Dict[str, bytes], *, force: bool) -> str:
    """Write *files* into *folder* unless identical; refuse differing ones without force."""
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"output folder {str(folder)!r} exists and is not a folder")
    existing = {name: (folder / name).read_bytes() if (folder / name).is_file() else None for name in files}
    if any((folder / name).exists() and not (folder / name).is_file() for name in files):
        raise ParameterError(f"{str(folder)!r} holds a folder where an output file belongs")
    differ = [n for n, data in files.items() if existing[n] is not None and existing[n] != data]
    if differ and not force:
        raise ParameterError(
            f"{str(folder)!r} already holds different {', '.join(differ)}: not overwritten "
            "(allowed with --force / force=True)"
        )
    todo = [n for n, data in files.items() if existing[n] != data]
    try:
        for name in todo:  # manifest.json is last in *files*
            atomic_write_bytes(folder / name, files[name])
    except OSError as exc:
        raise ParameterError(f"could not write into {str(folder)!r}: {exc.strerror or exc}") from None
    if not todo:
        return "unchanged"
    return "overwritten" if differ else "written"


def _relpath(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(folder).resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(path).resolve().as_posix()


#: Reads one pair: ``(mix, mix_sr, voc, voc_sr)`` or, with extra stems,
#: ``(mix, mix_sr, voc, voc_sr, {target: (y, sr)})``.
Reader = Callable[[], tuple]


def _prepare_one(
    name: str,
    reader: Reader,
    source_files: Dict[str, Path],
    folder: Path,
    *,
    config: Config,
    offset: Offset,
    align: bool,
    force: bool,
    extra: Optional[dict] = None,
    protect: Sequence[Path] = (),
) -> PairReport:
    """Read, standardise and commit one pair; raises ParameterError on a problem."""
    for p in protect:
        if is_inside(folder, p):
            raise ParameterError(
                f"output folder {str(folder)!r} is inside the source folder {str(p)!r}: "
                "allowed a destination outside it (sources are never modified)"
            )
    read = reader()
    mix, mix_sr, voc, voc_sr = read[:4]
    stems = {t: read[4][t] for t in STEM_TAGS if t in read[4]} if len(read) > 4 else {}
    arrays, info, warnings = standardise_pair(
        mix, mix_sr, voc, voc_sr, config=config, offset=offset, align=align, stems=stems
    )
    natives = {"mixture": (mix, mix_sr), "vocal": (voc, voc_sr), **stems}
    sources = {}
    checksums: Dict[Path, str] = {}  # a .stem.mp4 is the source of every role
    for role, path in source_files.items():
        if role not in natives:
            continue
        y, file_sr = natives[role]
        if Path(path) not in checksums:
            checksums[Path(path)] = sha256(Path(path))
        sources[role] = {
            "path": _relpath(path, folder),
            "file": Path(path).name,
            "sha256": checksums[Path(path)],
            "samplerate": int(file_sr),
            "channels": int(y.shape[0]),
            "frames": int(y.shape[1]),
        }
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": name,
        "note": "written by `conv2dsep prepare`; stereo_instrumental.wav = stereo_mixture.wav - "
        "isolated_vocal.wav sample by sample",
        **({"dataset": extra} if extra else {}),
        "sources": sources,
        **info,
        "files": {**OUTPUT_NAMES, **{t: STEM_NAMES[t] for t in stems}},
        "warnings": warnings,
    }
    files = {
        OUTPUT_NAMES[role]: encode_audio(arrays[role], config.sr)
        for role in ("mixture", "vocal", "instrumental")
    }
    for target in stems:
        files[STEM_NAMES[target]] = encode_audio(arrays[target], config.sr)
    files[MANIFEST_NAME] = json_text(manifest).encode("utf-8")
    status = _commit(folder, files, force=force)
    return PairReport(name=name, status=status, folder=folder, warnings=tuple(warnings), manifest=manifest)


def file_reader(mixture: Path, vocal: Path, *, stems: Optional[Dict[str, Path]] = None) -> Reader:
    """A :data:`Reader` of source files; *stems* maps targets (``"drums"``, ...) to files."""

    def read():
        mix, mix_sr = read_source(Path(mixture), role="mixture")
        voc, voc_sr = read_source(Path(vocal), role="vocal")
        extra = {target: read_stem(Path(path), target=target) for target, path in (stems or {}).items()}
        return mix, mix_sr, voc, voc_sr, extra

    return read


def prepare_pair(
    mixture: PathLike,
    vocal: PathLike,
    dest: PathLike,
    *,
    name: Optional[str] = None,
    config: Optional[Config] = None,
    offset: Offset = 0.0,
    align: bool = False,
    force: bool = False,
    stems: Optional[Dict[str, PathLike]] = None,
) -> PairReport:
    """Standardise one mixture/vocal pair into *dest* (the notebook form of ``prepare``).

    Parameters
    ----------
    mixture, vocal : path
        Source files in any format :mod:`soundfile` reads; opened read-only.
    dest : path
        Folder receiving ``stereo_mixture.wav``, ``isolated_vocal.wav``,
        ``stereo_instrumental.wav`` and ``manifest.json``.
    name : str, optional
        Recorded in the manifest (default: the mixture's file stem).
    config : Config, optional
        ``sr`` and ``duration`` of the excerpt (default :class:`Config`).
    offset : float >= 0 or "auto"
        Excerpt start in seconds, or the loudest-vocal window.
    align : bool
        Shift the vocal by the measured lag (else a lag above :data:`MAX_LAG_MS`
        is an error).
    force : bool
        Overwrite existing, different outputs.
    stems : dict of str -> path, optional
        Extra stem files by target (``"drums"``, ``"bass"``, ``"other"``), written as
        ``isolated_drums.wav`` etc.

    Returns
    -------
    PairReport
        ``status`` is ``"written"``, ``"unchanged"`` or ``"overwritten"``.

    Raises
    ------
    ParameterError
        Unreadable/empty/NaN/silent files, a lag above the limit, a clip shorter
        than the excerpt, or different existing outputs without *force*.
    """
    config = config or Config()
    offset = check_offset(offset, allow_auto=True)
    mixture, vocal, dest = Path(mixture), Path(vocal), Path(dest)
    unknown = sorted(set(stems or {}) - set(STEM_TAGS))
    if unknown:
        raise ParameterError(
            f"stems has {', '.join(map(repr, unknown))}: allowed keys {', '.join(STEM_TAGS)}"
        )
    extra = {t: Path(stems[t]) for t in STEM_TAGS if t in (stems or {})}
    protect = {mixture.parent, vocal.parent, *(p.parent for p in extra.values())}
    return _prepare_one(
        name or mixture.stem,
        file_reader(mixture, vocal, stems=extra),
        {"mixture": mixture, "vocal": vocal, **extra},
        dest,
        config=config,
        offset=offset,
        align=align,
        force=force,
        protect=sorted(protect),
    )


def run_pairs(
    items,
    dest: Path,
    *,
    subfolders: bool,
    config: Config,
    offset: Offset,
    align: bool,
    force: bool,
    protect: Sequence[Path] = (),
) -> List[PairReport]:
    reports = []
    for name, reader, files, extra in items:
        folder = dest / name if subfolders else dest
        try:
            reports.append(
                _prepare_one(
                    name,
                    reader,
                    files,
                    folder,
                    config=config,
                    offset=offset,
                    align=align,
                    force=force,
                    extra=extra,
                    protect=protect,
                )
            )
        except ParameterError as exc:
            reports.append(PairReport(name=name, status="skipped", folder=folder, reason=str(exc)))
    return reports


def prepare(
    source: PathLike = DEFAULT_SOURCE,
    dest: PathLike = DEFAULT_DEST,
    *,
    config: Optional[Config] = None,
    offset: Offset = 0.0,
    align: bool = False,
    force: bool = False,
    subfolders: Optional[bool] = None,
) -> PrepareResult:
    """Standardise every source pair of a folder into the ``rtg`` layout.

    Parameters
    ----------
    source : path
        ``process/100-window/``-style folder (see :func:`find_pairs`).  Never
        modified.
    dest : path
        ``rtg/100-window/``-style folder.  The pair is written directly into it when
        the source holds one pair name, into ``<dest>/<name>/`` when it holds
        several (or when *subfolders* is True).
    config : Config, optional
        ``sr`` and ``duration`` (default :class:`Config`: 22050 Hz, 4.7 s).
    offset : float >= 0 or "auto"
        Excerpt start in seconds (the same for all pairs), or the loudest-vocal
        window of each pair.
    align : bool
        Shift lagging vocals into place instead of refusing them.
    force : bool
        Overwrite existing outputs that differ.
    subfolders : bool, optional
        Force the layout; ``None`` chooses by the number of names.

    Returns
    -------
    PrepareResult
        One report per name; skipped pairs carry the reason.  ``exit_code`` is 1
        when some pair was skipped.

    Raises
    ------
    ParameterError
        A bad option, a missing/empty source folder, or a destination inside it.

    Examples
    --------
    >>> result = prepare("data/process/100-window", "data/rtg/100-window",
    ...                  offset="auto")                       # doctest: +SKIP
    >>> [(p.name, p.status) for p in result.pairs]             # doctest: +SKIP
    [('song', 'written')]
    """
    config = config or Config()
    offset = check_offset(offset, allow_auto=True)
    src, dest = Path(source), Path(dest)
    pairs, problems, ignored = find_pairs(src)
    if is_inside(dest, src):
        raise ParameterError(
            f"destination {str(dest)!r} is inside the source folder {str(src)!r}: "
            "allowed a folder outside it (sources are never modified)"
        )
    names = sorted({p.name for p in pairs} | {n for n, _ in problems})
    if subfolders is None:
        subfolders = len(names) > 1
    items = [
        (
            p.name,
            file_reader(p.mixture, p.vocal, stems=p.stems),
            {"mixture": p.mixture, "vocal": p.vocal, **p.stems},
            None,
        )
        for p in pairs
    ]
    reports = {
        r.name: r
        for r in run_pairs(
            items,
            dest,
            subfolders=subfolders,
            config=config,
            offset=offset,
            align=align,
            force=force,
            protect=[src],
        )
    }
    for name, reason in problems:
        reports[name] = PairReport(name=name, status="skipped", reason=reason)
    return PrepareResult(dest=dest, pairs=tuple(reports[n] for n in names), ignored=tuple(ignored))


def prepare_musdb(
    root: PathLike,
    dest: Optional[PathLike] = None,
    *,
    subset: str = "test",
    tracks: Optional[Sequence[str]] = None,
    config: Optional[Config] = None,
    offset: Offset = "auto",
    align: bool = False,
    force: bool = False,
) -> PrepareResult:
    """Standardise MUSDB18 tracks (HQ folders or ``.stem.mp4``) into ``<dest>/<track>/``.

    Parameters
    ----------
    root : path
        MUSDB18 root holding ``train/`` and ``test/``.
    dest : path, optional
        Default ``data/rtg/musdb18/<subset>``.
    subset : {"train", "test"}
    tracks : sequence of str, optional
        Track names (default: all of the subset).
    config, offset, align, force
        As :func:`prepare`; *offset* defaults to ``"auto"`` because full songs often
        open without singing.

    Returns
    -------
    PrepareResult
    """
    config = config or Config()
    offset = check_offset(offset, allow_auto=True)
    dest = Path(dest) if dest is not None else DEFAULT_MUSDB_DEST / subset
    chosen = (
        [find_musdb_track(root, t, subset=subset) for t in tracks]
        if tracks
        else list_musdb_tracks(root, subset=subset)
    )
    if is_inside(dest, Path(root)):
        raise ParameterError(
            f"destination {str(dest)!r} is inside the MUSDB18 root {str(root)!r}: "
            "allowed a folder outside it (sources are never modified)"
        )
    if chosen and chosen[0].kind == "stem":
        require_ffmpeg()

    def reader_for(track):
        def read():
            audio, sr = read_musdb_track(track)
            for role, y in audio.items():
                check_signal(y, name=f"track {track.name!r} {role}", allow_silence=role in STEM_TAGS)
            stems = {t: (audio[t], sr) for t in STEM_TAGS if t in audio}
            return audio["mixture"], sr, audio["vocal"], sr, stems

        return read

    def files_of(track):  # a .stem.mp4 holds every stem: it is the source of each
        return {**track.files, **({t: track.path for t in STEM_TAGS} if track.kind == "stem" else {})}

    items = [
        (
            t.name,
            reader_for(t),
            files_of(t),
            {
                "kind": "musdb18-hq" if t.kind == "wav" else "musdb18-stem",
                "subset": t.subset,
                "track": t.name,
            },
        )
        for t in chosen
    ]
    reports = run_pairs(
        items,
        dest,
        subfolders=True,
        config=config,
        offset=offset,
        align=align,
        force=force,
        protect=[Path(root)],
    )
    if not tracks:  # folders that are not complete tracks are named, not passed over
        reports += [
            PairReport(name=name, status="skipped", reason=reason)
            for name, reason in incomplete_musdb_tracks(root, subset=subset).items()
        ]
    return PrepareResult(dest=dest, pairs=tuple(sorted(reports, key=lambda r: r.name)))
