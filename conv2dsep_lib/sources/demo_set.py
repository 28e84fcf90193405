"""The demo set: synthesised songs written as *source* files, then prepared.

:func:`build_demo_set` (``conv2dsep prepare --demo``, and ``make demo``) writes each
song's mixture, vocal and band stems (drums, bass, other) into
``<root>/process/100-window/`` in a rotating format and prepares them into
``<root>/rtg/100-window/demo_song_<seed>/`` through the same code a user's pairs go
through (:mod:`.prepare`).  The songs are synthetic
(:func:`conv2dsep_lib.sources.song.synthesize_song`): nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_write_bytes
from .audio import encode_audio, resample
from .layout import (
    DEFAULT_DEMO_ROOT,
    MANIFEST_NAME,
    MIXTURE_TAG,
    OUTPUT_NAMES,
    STEM_NAMES,
    STEM_TAGS,
    VOCAL_TAG,
)
from .prepare import PairReport, PrepareResult, file_reader, run_pairs, sha256
from .song import BAND_TARGETS, synthesize_song

__all__ = ["DEMO_FORMATS", "DEMO_DURATION", "demo_song_dir", "build_demo_set"]


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
    data = encode_audio(y, sr, subtype=subtype, format=fmt)
    if not (path.is_file() and path.read_bytes() == data):
        atomic_write_bytes(path, data)


def _demo_is_current(folder: Path, files: Dict[str, Path], config: Config) -> Optional[PairReport]:
    """A cheap check: outputs present and the manifest matches sources and config.

    *files* maps roles (``mixture``, ``vocal``, and the stems' targets) to source files;
    every role must be in the manifest with the file's checksum, and every stem's
    ``isolated_<target>.wav`` must exist, so a demo prepared before stems existed is
    not current.
    """
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    outputs = [*OUTPUT_NAMES.values(), *(STEM_NAMES[t] for t in files if t in STEM_NAMES)]
    if not all((folder / n).is_file() for n in outputs):
        return None
    if (
        manifest.get("sr") != config.sr
        or manifest.get("excerpt", {}).get("duration") != config.duration
        or manifest.get("excerpt", {}).get("offset") != 0.0
    ):
        return None
    for role, path in files.items():
        entry = manifest.get("sources", {}).get(role, {})
        if entry.get("file") != path.name or entry.get("sha256") != sha256(path):
            return None
    return PairReport(
        name=manifest.get("name", folder.name),
        status="unchanged",
        folder=folder,
        warnings=tuple(manifest.get("warnings", ())),
        manifest=manifest,
    )


def build_demo_set(
    root: PathLike = DEFAULT_DEMO_ROOT,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    force: bool = False,
    config: Optional[Config] = None,
    duration: float = DEMO_DURATION,
) -> PrepareResult:
    """Synthesise demo songs as *source* files and prepare them with :func:`prepare`'s code.

    For each seed, :func:`conv2dsep_lib.sources.song.synthesize_song` makes a song (the seed
    picks tempo, key and voice register) whose mixture, vocal and band stems are
    written as ``demo_song_<seed>_100-full.<ext>``, ``demo_song_<seed>_100-stem.<ext>``,
    ``demo_song_<seed>_100-drums.<ext>``, ``..._100-bass.<ext>`` and
    ``..._100-other.<ext>`` into ``<root>/process/100-window/`` in the format of
    :data:`DEMO_FORMATS` (seed 0: float WAV 44.1 kHz stereo; 1: 24-bit FLAC 48 kHz
    stereo; 2: 16-bit AIFF 32 kHz mono; then again), and then prepared (offset 0) into
    ``<root>/rtg/100-window/demo_song_<seed>/`` (``stereo_mixture.wav``,
    ``isolated_vocal.wav``, ``stereo_instrumental.wav``, ``isolated_drums.wav``,
    ``isolated_bass.wav``, ``isolated_other.wav``, ``manifest.json``).

    Deterministic and idempotent: existing source files are reused, and a pair
    whose manifest already matches its sources' checksums and the config is not
    read again, so a second call costs a few checksums.  A demo set written before
    the stems existed is completed: the stems are added, the mixture and vocal files
    (the same bytes) are left alone, and the manifest is rewritten.

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
        stems = {t: src / f"{name}{STEM_TAGS[t]}.{ext}" for t in BAND_TARGETS}
        files.update(stems)
        if force or not all(p.is_file() for p in files.values()):
            song = synthesize_song(seed=int(seed), duration=duration)
            for role, y in (("mixture", song.mixture), ("vocal", song.vocal), *song.stems.items()):
                y = resample(y, song.sr, file_sr)
                if channels == 1:
                    y = y.mean(axis=0, keepdims=True)
                if subtype.startswith("PCM"):
                    y = np.clip(y, -1.0, 1.0 - 2.0**-23)
                _write_source_file(files[role], y, file_sr, fmt, subtype)
        folder = dest / name
        current = None if force else _demo_is_current(folder, files, config)
        if current is not None:
            reports.append(current)
            continue
        # prepared before the stems existed, from these very sources and config: its three
        # outputs come out the same bytes, only the manifest changes -- overwrite it
        old = _demo_is_current(folder, {r: files[r] for r in ("mixture", "vocal")}, config)
        upgrade = old is not None and not set(STEM_TAGS) & set((old.manifest or {}).get("sources", {}))
        reports.extend(
            run_pairs(
                [(name, file_reader(files["mixture"], files["vocal"], stems=stems), files, None)],
                dest,
                subfolders=True,
                config=config,
                offset=0.0,
                align=False,
                force=force or upgrade,
                protect=[src],
            )
        )
    return PrepareResult(dest=dest, pairs=tuple(reports))
