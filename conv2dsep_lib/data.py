"""Data: prepare source pairs into the ``rtg`` layout, the demo set, and datasets.

The seed keeps a researcher's audio in two folders (SPEC section 10):

* ``process/100-window/`` -- *source* pairs in any format, rate and length:
  ``<name>_100-full.<ext>`` (the mixture) and ``<name>_100-stem.<ext>`` (its isolated
  vocal), matched by ``<name>``.
* ``rtg/100-window/`` -- *ready-to-go* excerpts: ``stereo_mixture.wav``,
  ``isolated_vocal.wav`` and ``stereo_instrumental.wav`` (= mixture - vocal).

:func:`prepare` turns the first into the second (``conv2dsep prepare``);
:func:`build_demo_set` writes synthetic source pairs and prepares them through the
same code; :func:`open_dataset` gives notebooks and sweeps one small object over a
prepared folder, a glob of them, or a MUSDB18 root.

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

import glob as _glob
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from .atomic import atomic_write_bytes
from .audio import (AudioPair, check_signal, load_pair, read_audio, resample,
                    strip_peak_chunk, wav_bytes)
from .config import Config
from .errors import ParameterError
from .inputs import INSTRUMENTAL_NAME, MIXTURE_NAME, VOCAL_NAME

__all__ = [
    "DEFAULT_SOURCE",
    "DEFAULT_DEST",
    "DEFAULT_DEMO_ROOT",
    "MAX_LAG_MS",
    "MANIFEST_NAME",
    "SourcePair",
    "PairReport",
    "PrepareResult",
    "Dataset",
    "Stems",
    "find_pairs",
    "measure_lag",
    "shift_signal",
    "auto_offset",
    "prepare_pair",
    "prepare",
    "prepare_musdb",
    "build_demo_set",
    "demo_song_dir",
    "open_dataset",
    "open_musdb",
]

PathLike = Union[str, os.PathLike]
Offset = Union[float, str]

#: Default source and destination folders (relative to the working folder).
DEFAULT_SOURCE = Path("data/process/100-window")
DEFAULT_DEST = Path("data/rtg/100-window")
#: Default destination of ``prepare --musdb`` (``<this>/<subset>/<track>/``).
DEFAULT_MUSDB_DEST = Path("data/rtg/musdb18")
#: Root of the generated demo set (``process/`` and ``rtg/`` below it).
DEFAULT_DEMO_ROOT = Path("data/demo")
#: Name tags of source files: ``<name>_100-full.<ext>`` / ``<name>_100-stem.<ext>``.
MIXTURE_TAG = "_100-full"
VOCAL_TAG = "_100-stem"
#: Largest mixture--vocal lag accepted without ``align`` ("a few milliseconds").
MAX_LAG_MS = 5.0
#: The lag is searched within +- this many seconds.
LAG_SEARCH_SECONDS = 0.5
#: Grid of ``offset="auto"`` in seconds.
AUTO_OFFSET_STEP = 0.01
#: Source files whose lengths differ by more than this (s) get a warning.
LENGTH_WARNING_SECONDS = 0.05
MANIFEST_NAME = "manifest.json"
OUTPUT_NAMES = {"mixture": MIXTURE_NAME, "vocal": VOCAL_NAME, "instrumental": INSTRUMENTAL_NAME}
MANIFEST_FORMAT = "conv2dsep-prepare/1"

_SOURCE_RE = re.compile(r"^(?P<name>.+)(?P<tag>_100-full|_100-stem)\.(?P<ext>[A-Za-z0-9]+)$")


# =========================================================================== signals

def _mono(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return y if y.ndim == 1 else y.mean(axis=0)


def measure_lag(mixture: np.ndarray, vocal: np.ndarray, *, sr: int,
                max_lag: float = LAG_SEARCH_SECONDS) -> int:
    """Lag of the vocal behind the mixture, in samples, by FFT cross-correlation.

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,) or (channels, n)]
        Same rate; stereo is downmixed.  Lengths may differ.
    sr : int > 0
        Their sample rate (sets the search range).
    max_lag : float > 0
        Search range in seconds (``+-max_lag``).

    Returns
    -------
    lag : int
        Positive when the vocal is late: ``vocal[n + lag]`` lines up with
        ``mixture[n]``.  Shift it with :func:`shift_signal`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v = rng.standard_normal(22050)
    >>> late = np.concatenate([np.zeros(441), v[:-441]])
    >>> measure_lag(v + 0.5 * rng.standard_normal(22050), late, sr=22050)
    441
    """
    from scipy import signal

    m, v = _mono(mixture), _mono(vocal)
    if m.size == 0 or v.size == 0:
        raise ParameterError("measure_lag needs non-empty signals")
    z = signal.correlate(v, m, mode="full", method="fft")
    lags = signal.correlation_lags(v.size, m.size, mode="full")
    limit = max(1, int(round(max_lag * sr)))
    keep = np.abs(lags) <= limit
    return int(lags[keep][int(np.argmax(z[keep]))])


def shift_signal(y: np.ndarray, lag: int) -> np.ndarray:
    """Move a signal *lag* samples earlier (later when negative), zero-filling.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)]
    lag : int
        As returned by :func:`measure_lag`.

    Returns
    -------
    np.ndarray [shape=(..., n)]
    """
    y = np.asarray(y)
    out = np.zeros_like(y)
    lag = int(lag)
    n = y.shape[-1]
    if abs(lag) >= n:
        return out
    if lag > 0:
        out[..., :n - lag] = y[..., lag:]
    elif lag < 0:
        out[..., -lag:] = y[..., :n + lag]
    else:
        out[...] = y
    return out


def auto_offset(vocal: np.ndarray, *, sr: int, duration: float,
                step: float = AUTO_OFFSET_STEP) -> float:
    """Start (s) of the *duration*-long window with the most vocal energy.

    Parameters
    ----------
    vocal : np.ndarray [shape=(n,) or (channels, n)]
    sr : int
    duration : float > 0
        Window length in seconds.
    step : float > 0
        Grid of candidate starts in seconds (10 ms); ties go to the earliest.

    Returns
    -------
    offset : float
        A multiple of *step*, rounded to 6 decimals.

    Raises
    ------
    ParameterError
        When the signal is shorter than *duration*.
    """
    e = _mono(vocal) ** 2
    n_win = int(round(duration * sr))
    if e.size < n_win:
        raise ParameterError(f"signal is too short for offset='auto': {e.size / sr:.3f} s, "
                             f"but duration {duration} s is needed")
    c = np.concatenate([[0.0], np.cumsum(e)])
    k_max = int(np.floor((e.size - n_win) / (step * sr) + 1e-9))
    ks = np.arange(k_max + 1)
    starts = np.minimum(np.round(ks * step * sr).astype(np.int64), e.size - n_win)
    energy = c[starts + n_win] - c[starts]
    return round(float(ks[int(np.argmax(energy))] * step), 6)


def _db(x: float) -> float:
    return round(float(10.0 * np.log10(max(x, 1e-20))), 3)


def _levels(y: np.ndarray) -> dict:
    y = np.asarray(y, dtype=np.float64)
    return {"rms_dbfs": _db(float(np.mean(y ** 2))), "peak_dbfs": _db(float(np.max(np.abs(y))) ** 2)}


# =========================================================================== sources

@dataclass(frozen=True)
class SourcePair:
    """A matched source pair: ``<name>_100-full.<ext>`` + ``<name>_100-stem.<ext>``."""

    name: str
    mixture: Path
    vocal: Path


def find_pairs(source: PathLike = DEFAULT_SOURCE
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
            f"<name>{MIXTURE_TAG}.<ext> + <name>{VOCAL_TAG}.<ext> pairs (see data/README.md)")
    roles: Dict[str, Dict[str, List[Path]]] = {}
    ignored = []
    for p in sorted(src.iterdir()):
        if p.name.startswith(".") or p.is_dir():
            continue
        m = _SOURCE_RE.match(p.name)
        if m is None:
            ignored.append(p.name)
            continue
        role = "mixture" if m.group("tag") == MIXTURE_TAG else "vocal"
        roles.setdefault(m.group("name"), {"mixture": [], "vocal": []})[role].append(p)
    if not roles:
        raise ParameterError(
            f"source folder {str(src)!r} holds no pairs: allowed <name>{MIXTURE_TAG}.<ext> (mixture) "
            f"+ <name>{VOCAL_TAG}.<ext> (vocal), e.g. song{MIXTURE_TAG}.wav + song{VOCAL_TAG}.flac")
    pairs, problems = [], []
    for name in sorted(roles):
        found = roles[name]
        bad = None
        for role, tag in (("mixture", MIXTURE_TAG), ("vocal", VOCAL_TAG)):
            if not found[role]:
                have = found["vocal" if role == "mixture" else "mixture"][0].name
                bad = f"missing partner: found {have} but no {name}{tag}.<ext>"
            elif len(found[role]) > 1:
                bad = (f"several {role} files ({', '.join(p.name for p in found[role])}): "
                       f"allowed one {name}{tag}.<ext>")
            if bad:
                break
        if bad:
            problems.append((name, bad))
        else:
            pairs.append(SourcePair(name, found["mixture"][0], found["vocal"][0]))
    return pairs, problems, ignored


def _read_source(path: Path, *, role: str) -> Tuple[np.ndarray, int]:
    """Read one source file: (channels, n) float32 and its rate; validated."""
    y, sr = read_audio(path, name=f"{role} {path.name!r}")
    check_signal(y, name=f"{role} {path.name!r}")
    return y, sr


def _sha256(path: Path) -> str:
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
        Where the three files and ``manifest.json`` are (None when skipped before
        a folder was chosen).
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

def _check_offset(offset: Offset) -> Offset:
    if isinstance(offset, str):
        if offset != "auto":
            raise ParameterError(f"offset={offset!r} is invalid: allowed a number of seconds >= 0 or 'auto'")
        return offset
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not (
            np.isfinite(offset) and offset >= 0):
        raise ParameterError(f"offset={offset!r} is invalid: allowed a number of seconds >= 0 or 'auto'")
    return float(offset)


def _standardise(mix: np.ndarray, mix_sr: int, voc: np.ndarray, voc_sr: int, *, config: Config,
                 offset: Offset, align: bool) -> Tuple[Dict[str, np.ndarray], dict, List[str]]:
    """Resample, align, check and cut one pair.  Returns arrays, manifest parts, warnings."""
    sr = config.sr
    mix = resample(mix, mix_sr, sr)
    voc = resample(voc, voc_sr, sr)
    channels = max(mix.shape[0], voc.shape[0])
    if mix.shape[0] < channels:
        mix = np.repeat(mix, channels, axis=0)
    if voc.shape[0] < channels:
        voc = np.repeat(voc, channels, axis=0)
    warnings = []
    diff = abs(mix.shape[1] - voc.shape[1]) / sr
    if diff > LENGTH_WARNING_SECONDS:
        warnings.append(f"mixture ({mix.shape[1] / sr:.3f} s) and vocal ({voc.shape[1] / sr:.3f} s) "
                        f"differ in length by {diff:.3f} s; the common span is used")

    lag = measure_lag(mix, voc, sr=sr)
    lag_ms = 1000.0 * lag / sr
    if abs(lag_ms) > MAX_LAG_MS and not align:
        raise ParameterError(
            f"vocal lags the mixture by {lag_ms:.1f} ms ({lag} samples at {sr} Hz): allowed at most "
            f"{MAX_LAG_MS:g} ms; use --align (align=True) to shift the vocal into place")
    after = lag
    if align and lag != 0:
        voc = shift_signal(voc, lag)
        after = measure_lag(mix, voc, sr=sr)
        if 1000.0 * abs(after) / sr > MAX_LAG_MS:
            raise ParameterError(
                f"vocal still lags the mixture by {1000.0 * after / sr:.1f} ms after shifting it by "
                f"{lag_ms:.1f} ms: allowed at most {MAX_LAG_MS:g} ms (is it the right stem?)")
    n = min(mix.shape[1], voc.shape[1])
    mix, voc = mix[:, :n], voc[:, :n]

    n_win = config.n_samples
    if n < n_win:
        raise ParameterError(f"clip is too short: {n / sr:.3f} s, but duration {config.duration} s "
                             "is needed (allowed: clips at least as long as the excerpt)")
    if offset == "auto":
        start_s = auto_offset(voc, sr=sr, duration=config.duration)
        start = int(round(start_s * sr))
    else:
        start_s = float(offset)
        start = int(round(start_s * sr))
        if start + n_win > n:
            raise ParameterError(
                f"clip is too short: {n / sr:.3f} s, but offset {start_s} s + duration "
                f"{config.duration} s = {start_s + config.duration:.3f} s are needed")
    start = min(start, n - n_win)

    e_mix = float(np.mean(mix.astype(np.float64) ** 2))
    e_voc = float(np.mean(voc.astype(np.float64) ** 2))
    e_res = float(np.mean((mix.astype(np.float64) - voc) ** 2))
    if e_voc > e_mix:
        warnings.append(f"vocal is louder than the mixture ({_db(e_voc):.1f} dB vs {_db(e_mix):.1f} dB RMS)")
    if e_res > e_mix:
        warnings.append(f"vocal is not contained in the mixture: mixture - vocal has "
                        f"{_db(e_res) - _db(e_mix):+.1f} dB more energy than the mixture")

    m = np.ascontiguousarray(mix[:, start:start + n_win])
    v = np.ascontiguousarray(voc[:, start:start + n_win])
    i = (m - v).astype(np.float32)
    if float(np.max(np.abs(v))) < 1e-8:
        raise ParameterError(f"vocal is silent in the excerpt [{start_s}, {start_s + config.duration}) s: "
                             "allowed an excerpt where the vocal sounds (try offset='auto')")
    arrays = {"mixture": m, "vocal": v, "instrumental": i}
    info = {
        "sr": sr,
        "channels": int(channels),
        "excerpt": {"offset": round(start_s, 6), "duration": float(config.duration),
                    "start_sample": start, "n_samples": n_win,
                    "mode": "auto" if offset == "auto" else "fixed"},
        "lag": {"measured_samples": lag, "measured_ms": round(lag_ms, 3),
                "max_allowed_ms": MAX_LAG_MS, "aligned": bool(align and lag != 0),
                "shift_samples": lag if (align and lag != 0) else 0,
                "after_samples": after, "after_ms": round(1000.0 * after / sr, 3)},
        "levels": {
            "excerpt": {role: _levels(a) for role, a in arrays.items()},
            "vocal_to_instrumental_db": round(_db(float(np.mean(v.astype(np.float64) ** 2)))
                                              - _db(float(np.mean(i.astype(np.float64) ** 2))), 3),
        },
        "checks": {
            "vocal_louder_than_mixture": e_voc > e_mix,
            "residual_to_mixture_db": round(_db(e_res) - _db(e_mix), 3),
            "vocal_not_contained": e_res > e_mix,
        },
    }
    return arrays, info, warnings


def _commit(folder: Path, files: Dict[str, bytes], *, force: bool) -> str:
    """Write *files* into *folder* unless identical; refuse differing ones without force."""
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"output folder {str(folder)!r} exists and is not a folder")
    existing = {name: (folder / name).read_bytes() if (folder / name).is_file() else None
                for name in files}
    if any((folder / name).exists() and not (folder / name).is_file() for name in files):
        raise ParameterError(f"{str(folder)!r} holds a folder where an output file belongs")
    differ = [n for n, data in files.items() if existing[n] is not None and existing[n] != data]
    if differ and not force:
        raise ParameterError(
            f"{str(folder)!r} already holds different {', '.join(differ)}: not overwritten "
            "(allowed with --force / force=True)")
    todo = [n for n, data in files.items() if existing[n] != data]
    try:
        for name in todo:                  # manifest.json is last in *files*
            atomic_write_bytes(folder / name, files[name])
    except OSError as exc:
        raise ParameterError(f"could not write into {str(folder)!r}: {exc.strerror or exc}") from None
    if not todo:
        return "unchanged"
    return "overwritten" if differ else "written"


def _relpath(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(folder).resolve())).as_posix()
    except ValueError:                     # another drive (Windows)
        return Path(path).resolve().as_posix()


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


Reader = Callable[[], Tuple[np.ndarray, int, np.ndarray, int]]


def _prepare_one(name: str, reader: Reader, source_files: Dict[str, Path], folder: Path, *,
                 config: Config, offset: Offset, align: bool, force: bool,
                 extra: Optional[dict] = None, protect: Sequence[Path] = ()) -> PairReport:
    """Read, standardise and commit one pair; raises ParameterError on a problem."""
    for p in protect:
        if _inside(folder, p):
            raise ParameterError(f"output folder {str(folder)!r} is inside the source folder {str(p)!r}: "
                                 "allowed a destination outside it (sources are never modified)")
    mix, mix_sr, voc, voc_sr = reader()
    arrays, info, warnings = _standardise(mix, mix_sr, voc, voc_sr, config=config,
                                          offset=offset, align=align)
    natives = {"mixture": (mix, mix_sr), "vocal": (voc, voc_sr)}
    sources = {}
    for role, path in source_files.items():
        y, file_sr = natives[role]
        sources[role] = {"path": _relpath(path, folder), "file": Path(path).name,
                         "sha256": _sha256(Path(path)), "samplerate": int(file_sr),
                         "channels": int(y.shape[0]), "frames": int(y.shape[1])}
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": name,
        "note": "written by `conv2dsep prepare`; stereo_instrumental.wav = stereo_mixture.wav - "
                "isolated_vocal.wav sample by sample",
        **({"dataset": extra} if extra else {}),
        "sources": sources,
        **info,
        "files": dict(OUTPUT_NAMES),
        "warnings": warnings,
    }
    files = {OUTPUT_NAMES[role]: wav_bytes(arrays[role], config.sr)
             for role in ("mixture", "vocal", "instrumental")}
    files[MANIFEST_NAME] = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    status = _commit(folder, files, force=force)
    return PairReport(name=name, status=status, folder=folder, warnings=tuple(warnings),
                      manifest=manifest)


def _file_reader(mixture: Path, vocal: Path) -> Reader:
    def read():
        mix, mix_sr = _read_source(Path(mixture), role="mixture")
        voc, voc_sr = _read_source(Path(vocal), role="vocal")
        return mix, mix_sr, voc, voc_sr
    return read


def prepare_pair(mixture: PathLike, vocal: PathLike, dest: PathLike, *, name: Optional[str] = None,
                 config: Optional[Config] = None, offset: Offset = 0.0, align: bool = False,
                 force: bool = False) -> PairReport:
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
    offset = _check_offset(offset)
    mixture, vocal, dest = Path(mixture), Path(vocal), Path(dest)
    protect = {mixture.parent, vocal.parent}
    return _prepare_one(name or mixture.stem, _file_reader(mixture, vocal),
                        {"mixture": mixture, "vocal": vocal}, dest, config=config,
                        offset=offset, align=align, force=force, protect=sorted(protect))


def _run_pairs(items, dest: Path, *, subfolders: bool, config: Config, offset: Offset, align: bool,
               force: bool, protect: Sequence[Path] = ()) -> List[PairReport]:
    reports = []
    for name, reader, files, extra in items:
        folder = dest / name if subfolders else dest
        try:
            reports.append(_prepare_one(name, reader, files, folder, config=config, offset=offset,
                                        align=align, force=force, extra=extra, protect=protect))
        except ParameterError as exc:
            reports.append(PairReport(name=name, status="skipped", folder=folder, reason=str(exc)))
    return reports


def prepare(source: PathLike = DEFAULT_SOURCE, dest: PathLike = DEFAULT_DEST, *,
            config: Optional[Config] = None, offset: Offset = 0.0, align: bool = False,
            force: bool = False, subfolders: Optional[bool] = None) -> PrepareResult:
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
    offset = _check_offset(offset)
    src, dest = Path(source), Path(dest)
    pairs, problems, ignored = find_pairs(src)
    if _inside(dest, src):
        raise ParameterError(f"destination {str(dest)!r} is inside the source folder {str(src)!r}: "
                             "allowed a folder outside it (sources are never modified)")
    names = sorted({p.name for p in pairs} | {n for n, _ in problems})
    if subfolders is None:
        subfolders = len(names) > 1
    items = [(p.name, _file_reader(p.mixture, p.vocal), {"mixture": p.mixture, "vocal": p.vocal}, None)
             for p in pairs]
    reports = {r.name: r for r in _run_pairs(items, dest, subfolders=subfolders, config=config,
                                             offset=offset, align=align, force=force, protect=[src])}
    for name, reason in problems:
        reports[name] = PairReport(name=name, status="skipped", reason=reason)
    return PrepareResult(dest=dest, pairs=tuple(reports[n] for n in names), ignored=tuple(ignored))


def prepare_musdb(root: PathLike, dest: Optional[PathLike] = None, *, subset: str = "test",
                  tracks: Optional[Sequence[str]] = None, config: Optional[Config] = None,
                  offset: Offset = "auto", align: bool = False, force: bool = False) -> PrepareResult:
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
    from .musdb_io import find_musdb_track, list_musdb_tracks, read_musdb_track

    config = config or Config()
    offset = _check_offset(offset)
    dest = Path(dest) if dest is not None else DEFAULT_MUSDB_DEST / subset
    chosen = ([find_musdb_track(root, t, subset=subset) for t in tracks] if tracks
              else list_musdb_tracks(root, subset=subset))
    if _inside(dest, Path(root)):
        raise ParameterError(f"destination {str(dest)!r} is inside the MUSDB18 root {str(root)!r}: "
                             "allowed a folder outside it (sources are never modified)")
    if chosen and chosen[0].kind == "stem":
        from .musdb_io import require_ffmpeg

        require_ffmpeg()

    def reader_for(track):
        def read():
            audio, sr = read_musdb_track(track)
            for role, y in audio.items():
                check_signal(y, name=f"track {track.name!r} {role}")
            return audio["mixture"], sr, audio["vocal"], sr
        return read

    items = [(t.name, reader_for(t), t.files,
              {"kind": "musdb18-hq" if t.kind == "wav" else "musdb18-stem", "subset": t.subset,
               "track": t.name}) for t in chosen]
    reports = _run_pairs(items, dest, subfolders=True, config=config, offset=offset, align=align,
                         force=force, protect=[Path(root)])
    return PrepareResult(dest=dest, pairs=tuple(reports))


# =========================================================================== demo set

#: Source formats of the demo songs, cycled by seed: (ext, format, subtype, rate, channels).
DEMO_FORMATS = (
    ("wav", "WAV", "FLOAT", 44100, 2),
    ("flac", "FLAC", "PCM_24", 48000, 2),
    ("aiff", "AIFF", "PCM_16", 32000, 1),
)
#: Length of the synthesised demo songs (s).
DEMO_DURATION = 12.0


def demo_song_dir(root: PathLike = DEFAULT_DEMO_ROOT, seed: int = 0) -> Path:
    """The prepared folder of demo song *seed*: ``<root>/rtg/100-window/demo_song_<seed>/``."""
    return Path(root) / "rtg" / "100-window" / f"demo_song_{int(seed)}"


def _write_source_file(path: Path, y: np.ndarray, sr: int, fmt: str, subtype: str) -> None:
    """Encode *y* [shape=(channels, n)] in *fmt*/*subtype* and write it atomically."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(y, dtype=np.float32).T, sr, format=fmt, subtype=subtype)
    data = strip_peak_chunk(buf.getvalue())
    if not (path.is_file() and path.read_bytes() == data):
        atomic_write_bytes(path, data)


def _demo_is_current(folder: Path, files: Dict[str, Path], config: Config) -> Optional[PairReport]:
    """A cheap check: outputs present and the manifest matches sources and config."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not all((folder / n).is_file() for n in OUTPUT_NAMES.values()):
        return None
    if manifest.get("sr") != config.sr or manifest.get("excerpt", {}).get("duration") != config.duration \
            or manifest.get("excerpt", {}).get("offset") != 0.0:
        return None
    for role, path in files.items():
        entry = manifest.get("sources", {}).get(role, {})
        if entry.get("file") != path.name or entry.get("sha256") != _sha256(path):
            return None
    return PairReport(name=manifest.get("name", folder.name), status="unchanged", folder=folder,
                      warnings=tuple(manifest.get("warnings", ())), manifest=manifest)


def build_demo_set(root: PathLike = DEFAULT_DEMO_ROOT, *, seeds: Sequence[int] = (0, 1, 2),
                   force: bool = False, config: Optional[Config] = None,
                   duration: float = DEMO_DURATION) -> PrepareResult:
    """Synthesise demo songs as *source* files and prepare them with :func:`prepare`'s code.

    For each seed, :func:`conv2dsep_lib.demo.synthesize_song` makes a song (the seed
    picks tempo, key and voice register) whose mixture and vocal are written as
    ``demo_song_<seed>_100-full.<ext>`` / ``demo_song_<seed>_100-stem.<ext>`` into
    ``<root>/process/100-window/`` in the format of :data:`DEMO_FORMATS` (seed 0:
    float WAV 44.1 kHz stereo; 1: 24-bit FLAC 48 kHz stereo; 2: 16-bit AIFF 32 kHz
    mono; then again), and then prepared (offset 0) into
    ``<root>/rtg/100-window/demo_song_<seed>/``.

    Deterministic and idempotent: existing source files are reused, and a pair
    whose manifest already matches its sources' checksums and the config is not
    read again, so a second call costs a few checksums.

    Parameters
    ----------
    root : path
        Demo root (default ``data/demo``).
    seeds : sequence of int >= 0
    force : bool
        Re-synthesise the sources and overwrite differing outputs.
    config : Config, optional
        ``sr`` and ``duration`` of the prepared excerpts.
    duration : float
        Length of each synthesised song in seconds (>= ``config.duration``).

    Returns
    -------
    PrepareResult
    """
    from .demo import synthesize_song

    config = config or Config()
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise ParameterError(f"seeds={seeds!r} is invalid: allowed a non-empty list of integers >= 0")
    root = Path(root)
    src = root / "process" / "100-window"
    dest = root / "rtg" / "100-window"
    reports = []
    for seed in seeds:
        ext, fmt, subtype, file_sr, channels = DEMO_FORMATS[int(seed) % len(DEMO_FORMATS)]
        name = f"demo_song_{int(seed)}"
        files = {"mixture": src / f"{name}{MIXTURE_TAG}.{ext}", "vocal": src / f"{name}{VOCAL_TAG}.{ext}"}
        if force or not all(p.is_file() for p in files.values()):
            song = synthesize_song(seed=int(seed), duration=duration)
            for role, y in (("mixture", song.mixture), ("vocal", song.vocal)):
                y = resample(y, song.sr, file_sr)
                if channels == 1:
                    y = y.mean(axis=0, keepdims=True)
                if subtype.startswith("PCM"):
                    y = np.clip(y, -1.0, 1.0 - 2.0 ** -23)
                _write_source_file(files[role], y, file_sr, fmt, subtype)
        folder = dest / name
        current = None if force else _demo_is_current(folder, files, config)
        if current is not None:
            reports.append(current)
            continue
        reports.extend(_run_pairs([(name, _file_reader(files["mixture"], files["vocal"]), files, None)],
                                  dest, subfolders=True, config=config, offset=0.0, align=False,
                                  force=force, protect=[src]))
    return PrepareResult(dest=dest, pairs=tuple(reports))


# =========================================================================== datasets

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
class _Entry:
    name: str
    kind: str                       # "prepared", "musdb18-hq", "musdb18-stem"
    files: Dict[str, Path]
    track: object = None            # MusdbTrack for MUSDB entries


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

    def __init__(self, entries: Sequence[_Entry], *, kind: str, root: str,
                 config: Optional[Config] = None):
        self._entries = {e.name: e for e in sorted(entries, key=lambda e: e.name)}
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

    def _entry(self, name: str) -> _Entry:
        if name not in self._entries:
            names = list(self._entries)
            shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
            raise ParameterError(f"track {name!r} is not in {self.root!r}: allowed one of "
                                 f"{len(names)} tracks ({shown or 'none'})")
        return self._entries[name]

    def info(self, name: str) -> dict:
        """JSON-able description of a track (with the prepare manifest when there is one)."""
        e = self._entry(name)
        out = {"name": name, "kind": e.kind, "files": {r: str(p) for r, p in e.files.items()}}
        manifest = e.files.get("mixture", Path()).parent / MANIFEST_NAME
        if e.kind == "prepared" and manifest.is_file():
            out["manifest"] = json.loads(manifest.read_text())
        return out

    def _read_full(self, e: _Entry) -> Dict[str, Tuple[np.ndarray, int]]:
        if e.kind == "musdb18-stem":
            from .musdb_io import read_musdb_track

            audio, sr = read_musdb_track(e.track)
            return {role: (y, sr) for role, y in audio.items()}
        return {role: _read_source(path, role=role) for role, path in e.files.items()}

    def load(self, name: str, *, offset: float = 0.0, pad: bool = False) -> AudioPair:
        """One excerpt as an aligned mono :class:`~conv2dsep_lib.audio.AudioPair`.

        Parameters
        ----------
        name : str
            A name from :attr:`tracks`.
        offset : float >= 0
            Excerpt start in seconds; the excerpt is ``config.duration`` long.
        pad : bool
            Zero-pad a track that ends before the excerpt does.

        Returns
        -------
        AudioPair
            ``mixture`` and ``vocal`` [shape=(config.n_samples,)] at ``config.sr``,
            ``source`` naming the dataset and track -- what
            :func:`conv2dsep_lib.pipeline.run_experiment` takes.
        """
        e = self._entry(name)
        cfg = self.config
        extra = {"dataset": self.root, "kind": e.kind, "track": name}
        if e.kind != "musdb18-stem":
            pair = load_pair(e.files["mixture"], e.files["vocal"], sr=cfg.sr, duration=cfg.duration,
                             offset=offset, pad=pad)
            return AudioPair(mixture=pair.mixture, vocal=pair.vocal, sr=pair.sr,
                             source={**pair.source, **extra})
        if not (np.isfinite(offset) and offset >= 0):
            raise ParameterError(f"offset={offset!r} is invalid: allowed a number of seconds >= 0")
        full = self._read_full(e)
        out = {}
        for role, (y, file_sr) in full.items():
            y = resample(y.mean(axis=0), file_sr, cfg.sr)
            start, n = int(round(offset * cfg.sr)), cfg.n_samples
            if start + n > y.size and not pad:
                raise ParameterError(
                    f"track {name!r} is too short: {y.size / cfg.sr:.3f} s, but offset {offset} s + "
                    f"duration {cfg.duration} s are needed (use a smaller offset, or pad=True / --pad)")
            seg = y[start:start + n]
            seg = np.pad(seg, (0, n - seg.size))
            out[role] = np.ascontiguousarray(check_signal(seg, name=f"track {name!r} {role}"),
                                             dtype=np.float32)
        return AudioPair(mixture=out["mixture"], vocal=out["vocal"], sr=cfg.sr,
                         source={**extra, "offset": float(offset), "duration": float(cfg.duration)})

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
        e = self._entry(name)
        full = self._read_full(e)
        sr = self.config.sr
        arrays = {role: resample(y, file_sr, sr) for role, (y, file_sr) in full.items()}
        channels = max(a.shape[0] for a in arrays.values())
        arrays = {r: (np.repeat(a, channels, axis=0) if a.shape[0] < channels else a)
                  for r, a in arrays.items()}
        n = min(a.shape[1] for a in arrays.values())
        arrays = {r: a[:, :n] for r, a in arrays.items()}
        if "instrumental" not in arrays:
            arrays["instrumental"] = (arrays["mixture"] - arrays["vocal"]).astype(np.float32)
        if mono:
            arrays = {r: a.mean(axis=0).astype(np.float32) for r, a in arrays.items()}
        return Stems(arrays["mixture"], arrays["vocal"], arrays["instrumental"], sr)


def _prepared_entry(folder: Path) -> Optional[_Entry]:
    if (folder / MIXTURE_NAME).is_file() and (folder / VOCAL_NAME).is_file():
        files = {"mixture": folder / MIXTURE_NAME, "vocal": folder / VOCAL_NAME}
        if (folder / INSTRUMENTAL_NAME).is_file():
            files["instrumental"] = folder / INSTRUMENTAL_NAME
        return _Entry(folder.name, "prepared", files)
    return None


def _prepared_entries(folder: Path) -> List[_Entry]:
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
    from .musdb_io import list_musdb_tracks, require_ffmpeg

    root = Path(os.path.expanduser(str(root)))
    tracks = list_musdb_tracks(root, subset=subset)
    if not tracks:
        raise ParameterError(f"MUSDB18 root {str(root)!r} has no tracks in {subset}/")
    kind = "musdb18-hq" if tracks[0].kind == "wav" else "musdb18-stem"
    if kind == "musdb18-stem":
        require_ffmpeg()
    entries = [_Entry(t.name, kind, t.files, t) for t in tracks]
    return Dataset(entries, kind=kind, root=str(root), config=config)


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
            "(conv2dsep prepare output), or a MUSDB18 root with train/ and test/")
    entries = list({e.files["mixture"].resolve(): e for e in entries}.values())   # glob overlaps
    counts: Dict[str, int] = {}
    for e in entries:
        counts[e.name] = counts.get(e.name, 0) + 1
    if any(c > 1 for c in counts.values()):
        base = Path(os.path.commonpath([str(e.files["mixture"].parent.resolve()) for e in entries]))
        entries = [_Entry(Path(os.path.relpath(e.files["mixture"].parent.resolve(), base)).as_posix()
                          if counts[e.name] > 1 else e.name, e.kind, e.files) for e in entries]
    return Dataset(entries, kind="prepared", root=text, config=config)
