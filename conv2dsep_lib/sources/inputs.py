"""Where an experiment's audio comes from: one function shared by CLI, notebooks, sweeps.

:func:`resolve_pair_paths` turns the user's choice (a folder in the seed's ``rtg``
layout, two explicit files, or nothing) into two paths; :func:`load_input` loads them
as an aligned mono :class:`~conv2dsep_lib.sources.audio.AudioPair` at the config's rate.

Default input, in order: ``data/rtg/100-window/`` (relative to the working folder)
when it holds the two standard files, else the first prepared demo song,
``data/demo/rtg/100-window/demo_song_0/`` (the demo set is synthesised as source files
and prepared by :func:`conv2dsep_lib.sources.demo_set.build_demo_set` on first use).

A MUSDB18 track (``musdb=ROOT, track=NAME, subset="test"``) is loaded through
:func:`conv2dsep_lib.sources.datasets.open_musdb` (MUSDB18-HQ wav folders directly,
``.stem.mp4`` through the optional ``musdb`` package and ffmpeg).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence, Tuple

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike
from .audio import AudioPair, load_pair
from .datasets import open_musdb
from .demo_set import build_demo_set, demo_song_dir
from .layout import DEFAULT_DATA_DIR, DEFAULT_DEMO_ROOT, MIXTURE_NAME, MUSDB_MIXTURE_NAME, TARGETS, VOCAL_NAME
from .stems import DEFAULT_TARGETS, check_targets, read_stems, stem_files, with_stems

__all__ = ["resolve_pair_paths", "input_files", "load_input"]


def resolve_pair_paths(
    *,
    data_dir: Optional[PathLike] = None,
    mixture: Optional[PathLike] = None,
    vocal: Optional[PathLike] = None,
) -> Tuple[Path, Path]:
    """Return ``(mixture_path, vocal_path)`` for the chosen input.

    Parameters
    ----------
    data_dir : path, optional
        A folder holding ``stereo_mixture.wav`` and ``isolated_vocal.wav``.
    mixture, vocal : path, optional
        Two files, given together (instead of *data_dir*).

    Raises
    ------
    ParameterError
        One of mixture/vocal alone, both forms at once, or a folder without the files.
    """
    if (mixture is None) != (vocal is None):
        given = "mixture" if mixture is not None else "vocal"
        raise ParameterError(f"{given} was given alone: allowed mixture and vocal together, or a data folder")
    if mixture is not None:
        if data_dir is not None:
            raise ParameterError("a data folder and mixture/vocal files were both given: allowed one of them")
        return Path(mixture), Path(vocal)
    if data_dir is not None:
        d = Path(data_dir)
        if not d.is_dir():
            raise ParameterError(f"data folder {str(d)!r} does not exist or is not a folder")
        stems = stem_files(d) if (d / MUSDB_MIXTURE_NAME).is_file() else {}
        if stems:  # MUSDB18-HQ naming: mixture.wav + vocals.wav (or, without it, another stem)
            return d / MUSDB_MIXTURE_NAME, stems.get("vocals", next(iter(stems.values())))
        for name in (MIXTURE_NAME, VOCAL_NAME):
            if not (d / name).is_file():
                raise ParameterError(
                    f"data folder {str(d)!r} has no {name}: it must hold {MIXTURE_NAME} and {VOCAL_NAME}"
                )
        return d / MIXTURE_NAME, d / VOCAL_NAME
    if (DEFAULT_DATA_DIR / MIXTURE_NAME).is_file() and (DEFAULT_DATA_DIR / VOCAL_NAME).is_file():
        return DEFAULT_DATA_DIR / MIXTURE_NAME, DEFAULT_DATA_DIR / VOCAL_NAME
    d = demo_song_dir(DEFAULT_DEMO_ROOT, 0)
    if not ((d / MIXTURE_NAME).is_file() and (d / VOCAL_NAME).is_file()):
        result = build_demo_set(DEFAULT_DEMO_ROOT)
        if not ((d / MIXTURE_NAME).is_file() and (d / VOCAL_NAME).is_file()):
            reasons = "; ".join(f"{r.name}: {r.reason}" for r in result.skipped)
            raise ParameterError(
                f"the demo song could not be prepared in {str(d)!r}: {reasons} (run `conv2dsep prepare --demo --force`)"
            )
    return d / MIXTURE_NAME, d / VOCAL_NAME


def input_files(
    *,
    data_dir: Optional[PathLike] = None,
    mixture: Optional[PathLike] = None,
    vocal: Optional[PathLike] = None,
    musdb: Optional[PathLike] = None,
    track: Optional[str] = None,
) -> Tuple[Path, ...]:
    """The files (or, for MUSDB18, the root) that :func:`load_input` will read -- known
    before anything is loaded, so a run can refuse to replace its own input."""
    if musdb is not None:
        return (Path(musdb),)
    return resolve_pair_paths(data_dir=data_dir, mixture=mixture, vocal=vocal)


def load_input(
    *,
    config: Config,
    data_dir: Optional[PathLike] = None,
    mixture: Optional[PathLike] = None,
    vocal: Optional[PathLike] = None,
    musdb: Optional[PathLike] = None,
    track: Optional[str] = None,
    subset: str = "test",
    offset: float = 0.0,
    pad: bool = False,
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> AudioPair:
    """Load the chosen input as an aligned mono pair at ``config.sr``.

    Parameters
    ----------
    config : Config
        ``sr`` and ``duration`` of the excerpt.
    data_dir, mixture, vocal : path, optional
        See :func:`resolve_pair_paths`.
    musdb : path, optional
        A MUSDB18 root (``train/``, ``test/``); needs *track*, excludes the above.
    track : str, optional
        Track name in the MUSDB18 subset (folder name, or file name without
        ``.stem.mp4``).
    subset : {"train", "test"}
        MUSDB18 subset (default ``"test"``).
    offset : float
        Excerpt start in seconds.
    pad : bool
        Zero-pad a clip shorter than the excerpt.
    targets : sequence of str
        The targets the run separates (:data:`~.stems.TARGETS`).  Beyond ``("vocals",)`` the
        pair carries the folder's other stems (``pair.stems``; today's pair otherwise), and a
        folder in MUSDB18-HQ naming may lack the vocal.  Which targets have a stem is checked
        by :func:`~.stems.pair_for_target`.

    Returns
    -------
    AudioPair
    """
    targets = check_targets(list(targets) if not isinstance(targets, str) else targets)
    if musdb is not None or track is not None:
        if musdb is None:
            raise ParameterError(
                f"track={track!r} was given without a MUSDB18 root: allowed --track NAME together with --musdb ROOT"
            )
        if data_dir is not None or mixture is not None or vocal is not None:
            raise ParameterError(
                "a MUSDB18 root and a data folder or mixture/vocal files were both given: allowed one of them"
            )
        dataset = open_musdb(musdb, subset=subset, config=config)
        if track is None:
            names = dataset.tracks
            shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
            raise ParameterError(
                f"--musdb {str(musdb)!r} needs --track NAME: allowed one of {len(names)} tracks in {subset}/ ({shown})"
            )
        return dataset.load(track, offset=offset, pad=pad, targets=targets)
    more = targets != DEFAULT_TARGETS
    if data_dir is not None and (Path(data_dir) / MUSDB_MIXTURE_NAME).is_file():
        return _load_stem_folder(Path(data_dir), config=config, offset=offset, pad=pad, targets=targets)
    mix_path, voc_path = resolve_pair_paths(data_dir=data_dir, mixture=mixture, vocal=vocal)
    pair = load_pair(mix_path, voc_path, sr=config.sr, duration=config.duration, offset=offset, pad=pad)
    if more and mixture is None:  # a folder (given or default): its other stems
        pair = with_stems(pair, stem_files(mix_path.parent), offset=offset, pad=pad)
    return pair


def _load_stem_folder(
    folder: Path, *, config: Config, offset: float, pad: bool, targets: Tuple[str, ...]
) -> AudioPair:
    """A folder in MUSDB18-HQ naming: ``mixture.wav`` + any of ``vocals.wav``, ``drums.wav``,
    ``bass.wav``, ``other.wav``.  Without ``vocals.wav`` the pair's ``vocal`` field holds the first
    asked target's stem (a placeholder: ``stems``, without ``vocals``, is what the run reads)."""
    files = stem_files(folder)
    if not files:
        raise ParameterError(
            f"data folder {str(folder)!r} has {MUSDB_MIXTURE_NAME} but no stem: allowed "
            + ", ".join(f"{t}.wav" for t in TARGETS)
            + " beside it"
        )
    first = "vocals" if "vocals" in files else next((t for t in targets if t in files), next(iter(files)))
    pair = load_pair(
        folder / MUSDB_MIXTURE_NAME,
        files[first],
        sr=config.sr,
        duration=config.duration,
        offset=offset,
        pad=pad,
    )
    if first == "vocals":
        return with_stems(pair, files, offset=offset, pad=pad) if targets != DEFAULT_TARGETS else pair
    rest = {t: p for t, p in files.items() if t != first}
    stems, warnings = read_stems(
        rest, sr=config.sr, duration=config.duration, offset=offset, pad=pad, length=pair.mixture.shape[0]
    )
    return replace(
        pair,
        stems={first: pair.vocal, **stems},
        files=pair.files + tuple(rest.values()),
        warnings=pair.warnings + warnings,
        source={**pair.source, "vocal": None, "stems": {t: str(p) for t, p in files.items()}},
    )
