"""Planning a sweep: which runs, in which folders, under which cache keys (nothing runs here).

* **Tasks.**  One :class:`Task` per track x setting (``kind="experiment"``), plus one
  per track x excerpt x STFT for the baselines (``kind="baselines"``): the mixture
  floor, oracle masks and blind baselines depend on the track, the offset and the
  STFT (``sr``, ``duration``, ``n_fft``, ``hop_length``) only, so they are computed
  once and joined to every setting that shares them.
* **Cache key** = the track's identity (name, and size + mtime of its files) + the
  run's settings and resolved config + ``bss`` + the code version: the package
  version and a hash of the code that changes numbers
  (:func:`conv2dsep_lib.core.provenance.numeric_code_hash`: method, separators,
  scoring, sources, config, experiment runner -- not figures, CLI or notebooks).  A run
  is *finished* when its ``results.json`` holds the same key.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, check_writable_folder
from ..core.provenance import __version__, numeric_code_hash
from ..sources.datasets import Dataset, open_dataset, open_musdb
from ..sources.stems import DEFAULT_TARGETS
from .excerpts import ExcerptSpec, excerpt_label, excerpt_offsets, files_seconds, parse_excerpts
from .grid import (
    RUN_PARAMETERS,
    canonical_fixed,
    expand_grid,
    read_grid,
    setting_key,
    shown_parameters,
    split_settings,
    validate_grid,
)
from .targets import check_silent_stems, check_track_targets, sweep_targets

__all__ = [
    "RUNS_DIR",
    "BASELINE_FIELDS",
    "KEY_FORMAT",
    "MAX_RUNS",
    "SourceSpec",
    "TrackSpec",
    "Task",
    "SweepPlan",
    "code_version",
    "cache_key",
    "open_source",
    "plan_sweep",
]

#: Run folders live in ``OUT/runs/<track>/<setting>/``.
RUNS_DIR = "runs"
#: Config fields the baselines depend on (with the track and the offset).
BASELINE_FIELDS = ("sr", "duration", "n_fft", "hop_length")
#: A sweep of more runs than this needs ``yes=True`` (``--yes``).
MAX_RUNS = 1000
#: Format tag inside every cache key (bump when the key's meaning changes).
KEY_FORMAT = "conv2dsep-sweep/2"


def code_version() -> Dict[str, str]:
    """The code version that goes into every cache key.

    Returns
    -------
    dict
        ``{"version": conv2dsep_lib.__version__, "sources": <16 hex digits>}``: a hash
        of the code that changes numbers, as this process runs it (with or without git).
    """
    return {"version": __version__, "sources": numeric_code_hash()}


def cache_key(payload: Mapping[str, Any]) -> str:
    """sha256 of a JSON payload (sorted keys)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class SourceSpec:
    """Where a sweep's tracks come from: prepared folders (a glob) or a MUSDB18 root."""

    path: str
    musdb: bool
    subset: str = "test"

    def to_json(self) -> Dict[str, Any]:
        return {"path": self.path, "musdb": self.musdb, "subset": self.subset}


def open_source(source: SourceSpec, config: Optional[Config] = None) -> Dataset:
    """The :class:`~conv2dsep_lib.sources.datasets.Dataset` of a sweep's source."""
    if source.musdb:
        return open_musdb(source.path, subset=source.subset, config=config)
    return open_dataset(source.path, config=config, subset=source.subset)


@dataclass(frozen=True)
class TrackSpec:
    """One track of a sweep.

    Attributes
    ----------
    name : str
    slug : str
        Its folder name under ``runs/`` (safe characters; a hash when changed).
    source : SourceSpec
    identity : mapping
        Name, kind and each file's size and mtime: part of every cache key.
    notebook_input : mapping
        The notebook parameters that select this track.
    """

    name: str
    slug: str
    source: SourceSpec
    identity: Mapping[str, Any]
    notebook_input: Mapping[str, Any]


@dataclass(frozen=True)
class Task:
    """One run of a sweep; picklable, the same for the process pool and Dask.

    Attributes
    ----------
    id : str
        ``"<track>/<setting>"``.
    kind : {"experiment", "baselines"}
    track : TrackSpec
    setting : str
        The setting's folder name.
    settings : mapping
        Parameter -> value (run parameters and config fields; for baselines the
        offset and the STFT fields).
    config : mapping
        The resolved config (``Config.to_dict``).
    run_dir : str
    key : str
        The cache key (with this process's code version).
    key_payload : mapping
        The key without the code version (a worker with other code re-keys with it).
    code : mapping
    bss, keep_audio, notebooks, baselines : bool
    baselines_run : str or None
        The setting folder of the baselines this experiment's rows are joined to.
    excerpt : float or None
        The excerpt's offset (s) when the sweep has ``--excerpts`` (then *setting* names the
        setting without it, the group its excerpts are repeats of); ``None`` otherwise.
    target : str
        The stem this run separates (``"vocals"``: today's run; another target's runs live in
        ``runs/<track>/<target>/<setting>/`` and their cache key names the target).
    load_targets : tuple of str
        The targets the sweep asks for: the excerpt is loaded with all their stems once per
        process, every target's run takes its pair from it.
    """

    id: str
    kind: str
    track: TrackSpec
    setting: str
    settings: Mapping[str, Any]
    config: Mapping[str, Any]
    run_dir: str
    key: str
    key_payload: Mapping[str, Any]
    code: Mapping[str, str]
    bss: bool = True
    keep_audio: bool = False
    notebooks: bool = False
    baselines: bool = True
    baselines_run: Optional[str] = None
    excerpt: Optional[float] = None
    target: str = "vocals"
    load_targets: Tuple[str, ...] = DEFAULT_TARGETS


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: its tasks (baselines first per track) and what names them.

    ``excerpts`` is the parsed ``--excerpts`` (``None`` without it) and ``offsets`` each
    track's excerpt offsets (track name -> offsets; empty without ``--excerpts``);
    ``targets`` the targets every (track, excerpt, setting) runs for (``--targets``).
    """

    tasks: Tuple[Task, ...]
    settings: Tuple[Mapping[str, Any], ...]
    setting_keys: Tuple[str, ...]
    tracks: Tuple[TrackSpec, ...]
    parameters: Tuple[str, ...]
    grid: Mapping[str, List[Any]]
    fixed: Mapping[str, Any]
    code: Mapping[str, str]
    out: Path
    source: SourceSpec
    by_id: Mapping[str, Task] = field(default_factory=dict)
    excerpts: Optional[ExcerptSpec] = None
    offsets: Mapping[str, Tuple[float, ...]] = field(default_factory=dict)
    targets: Tuple[str, ...] = DEFAULT_TARGETS


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "track"
    if s != name:
        s += "-" + hashlib.sha1(name.encode()).hexdigest()[:6]
    return s


def _file_identity(path: PathLike) -> Dict[str, Any]:
    st = os.stat(path)
    return {"file": Path(path).name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _track_specs(
    source: SourceSpec, names: Optional[Sequence[str]], targets: Sequence[str] = DEFAULT_TARGETS
) -> List[TrackSpec]:
    ds = open_source(source)
    chosen = list(ds.tracks)
    if names:
        for n in names:
            ds.track(n)  # ParameterError naming the allowed tracks
        chosen = [n for n in chosen if n in set(names)]
    specs = []
    for name in chosen:
        track = ds.track(name)
        if tuple(targets) != DEFAULT_TARGETS:
            check_track_targets(name, track.kind, track.files, targets)
        identity = {
            "name": name,
            "kind": track.kind,
            "files": {role: _file_identity(p) for role, p in sorted(track.files.items())},
        }
        if ds.kind == "prepared":
            nb_input = {"data_dir": str(Path(track.files["mixture"]).parent)}
        else:
            nb_input = {"musdb": source.path, "track": name, "subset": source.subset}
        specs.append(
            TrackSpec(name=name, slug=_slug(name), source=source, identity=identity, notebook_input=nb_input)
        )
    return specs


def plan_sweep(
    tracks: Optional[PathLike] = None,
    grid: Union[None, PathLike, Mapping[str, Any]] = None,
    *,
    out: PathLike,
    fixed: Optional[Mapping[str, Any]] = None,
    musdb: Optional[PathLike] = None,
    subset: str = "test",
    names: Optional[Sequence[str]] = None,
    bss: bool = True,
    baselines: bool = True,
    keep_audio: bool = False,
    notebooks: bool = False,
    yes: bool = False,
    excerpts: Union[None, str, ExcerptSpec] = None,
    targets: Any = None,
) -> SweepPlan:
    """Validate everything and list the sweep's tasks (nothing is run or written).

    Parameters are those of :func:`conv2dsep_lib.sweep.driver.run_sweep`.  With
    *excerpts* (:func:`~.excerpts.parse_excerpts`) every setting runs on each excerpt of
    each track, in ``runs/<track>/<setting>_at<offset>s/``; the setting's key leaves the
    offset out (the excerpts are its repeats).  With *targets* beyond ``("vocals",)`` every
    run and every baseline run is planned once per target (:mod:`.targets`); the vocals runs
    keep their folders and keys (a vocals sweep's finished runs are reused), another
    target's are in ``runs/<track>/<target>/``.

    Raises
    ------
    ParameterError
        Bad grid, no or unknown tracks, both or neither of *tracks* and *musdb*,
        *out* not a folder, bad *excerpts* or an offset past a track's end, *excerpts*
        with an ``offset`` in the grid or *fixed*; unknown *targets*, a track without a
        stem for one of them or with it silent in an excerpt (wav files), several targets
        with *notebooks*.
    """
    spec = None if excerpts is None else parse_excerpts(excerpts)
    targets = sweep_targets(targets)
    if notebooks and targets != DEFAULT_TARGETS:
        raise ParameterError(
            f"--targets {','.join(targets)} was given with --notebooks: allowed --targets vocals only "
            "(the notebook sequence separates the vocal)"
        )
    if (tracks is None) == (musdb is None):
        raise ParameterError(
            "tracks: give exactly one of a glob / prepared folder (--tracks) or a MUSDB18 root (--musdb)"
        )
    if subset not in ("train", "test"):
        raise ParameterError(f"subset={subset!r} is invalid: allowed 'train' or 'test'")
    if grid is None:
        grid_dict: Dict[str, List[Any]] = {}
    elif isinstance(grid, Mapping):
        grid_dict = validate_grid(grid)
    else:
        grid_dict = read_grid(grid)
    fixed = canonical_fixed(fixed)
    if spec is not None and ("offset" in grid_dict or "offset" in fixed):
        raise ParameterError(
            "offset is given both in the grid / --set and by --excerpts: allowed one of them "
            "(--excerpts makes the offsets repeats of every setting)"
        )
    if spec is not None and notebooks:
        raise ParameterError("--excerpts was given with --notebooks: allowed one of them")
    out = check_writable_folder(out, name="--out").resolve()
    path = musdb if musdb is not None else tracks
    source = SourceSpec(
        path=os.path.abspath(os.path.expanduser(str(path))), musdb=musdb is not None, subset=subset
    )
    specs = _track_specs(source, names, targets)
    offsets: Dict[str, Tuple[float, ...]] = {}
    if spec is not None:
        duration = Config().replace(**{k: v for k, v in fixed.items() if k not in RUN_PARAMETERS}).duration
        if "duration" in grid_dict:
            raise ParameterError(
                "duration is in the grid with --excerpts: allowed one excerpt length (--set duration=S)"
            )
        ds = open_source(source)
        for t in specs:
            seconds = files_seconds(ds.track(t.name).files)
            offsets[t.name] = excerpt_offsets(
                spec, track_seconds=seconds, duration=duration, track=f"track {t.name!r}"
            )
    n_settings = math.prod(len(v) for v in grid_dict.values())
    n_runs = n_settings * (sum(len(o) for o in offsets.values()) if spec is not None else len(specs))
    n_runs *= len(targets)
    if n_runs > MAX_RUNS and not yes:  # counted before the grid is expanded: that alone takes long
        raise ParameterError(
            f"the grid gives {n_settings} settings x {len(specs)} tracks"
            + (" x their excerpts" if spec is not None else "")
            + (f" x {len(targets)} targets" if len(targets) > 1 else "")
            + f" = {n_runs} runs: allowed up to "
            f"{MAX_RUNS} without --yes (say --yes to run them all, or make the grid smaller)"
        )
    settings = expand_grid(grid_dict, fixed=fixed, notebooks=notebooks)
    if spec is not None:  # the offset is not a setting: each excerpt is a repeat of every setting
        settings = [{k: v for k, v in s.items() if k != "offset"} for s in settings]
    code = code_version()
    shown = shown_parameters(grid_dict, fixed)
    keys = [setting_key(s, shown=shown) for s in settings]
    if len(set(keys)) != len(keys):  # pragma: no cover - distinct settings hash apart
        raise ParameterError("two settings of the grid share a folder name: allowed distinct settings")
    if targets != DEFAULT_TARGETS:  # a silent stem is refused by name before any run
        _check_excerpts(source, specs, settings, offsets if spec is not None else None, targets)
    tasks: List[Task] = []
    common = {
        "bss": bool(bss),
        "keep_audio": bool(keep_audio),
        "notebooks": bool(notebooks),
        "code": code,
        "load_targets": targets,
    }
    for spec_ in specs:
        # (setting, excerpt offset or None): the runs of this track
        runs = [
            (s, skey, off)
            for s, skey in zip(settings, keys)
            for off in (offsets[spec_.name] if spec is not None else (None,))
        ]
        base_keys: Dict[Tuple[str, Optional[float]], str] = {}
        planned = set()
        if baselines and not notebooks:
            for target in targets:  # each target has its own reference points
                for s, skey, off in runs:
                    run_s = s if off is None else {**s, "offset": off}
                    cfg = Config().replace(**split_settings(run_s)[1])
                    bset = {"offset": run_s["offset"], **{f: getattr(cfg, f) for f in BASELINE_FIELDS}}
                    bkey = "baselines_" + setting_key(bset, shown=["offset"])
                    base_keys[(skey, off)] = bkey
                    if (target, bkey) in planned:  # shared by the settings with the same excerpt/STFT
                        continue
                    planned.add((target, bkey))
                    payload = {
                        "format": KEY_FORMAT,
                        "task": "baselines",
                        "track": spec_.identity,
                        "settings": bset,
                        "bss": bool(bss),
                        **_target_key(target),
                    }
                    tasks.append(
                        Task(
                            id=f"{spec_.name}/{_target_part(target)}{bkey}",
                            kind="baselines",
                            track=spec_,
                            setting=bkey,
                            settings=bset,
                            config=bset,
                            run_dir=str(out / RUNS_DIR / spec_.slug / _target_part(target) / bkey),
                            key=cache_key({**payload, "code": code}),
                            key_payload=payload,
                            excerpt=off,
                            target=target,
                            **common,
                        )
                    )
        for s, skey, off in runs:
            run_s = s if off is None else {**s, "offset": off}
            folder = skey if off is None else f"{skey}_{excerpt_label(off)}"
            config = Config().replace(**split_settings(run_s)[1]).to_dict()
            for target in targets:
                payload = {
                    "format": KEY_FORMAT,
                    "task": "notebooks" if notebooks else "experiment",
                    "track": spec_.identity,
                    "settings": run_s,
                    "config": config,
                    "bss": bool(bss),
                    "baselines": bool(baselines) if notebooks else None,
                    **_target_key(target),
                }
                tasks.append(
                    Task(
                        id=f"{spec_.name}/{_target_part(target)}{folder}",
                        kind="experiment",
                        track=spec_,
                        setting=skey,
                        settings=run_s,
                        config=config,
                        baselines_run=base_keys.get((skey, off)),
                        baselines=bool(baselines),
                        run_dir=str(out / RUNS_DIR / spec_.slug / _target_part(target) / folder),
                        key=cache_key({**payload, "code": code}),
                        key_payload=payload,
                        excerpt=off,
                        target=target,
                        **common,
                    )
                )
    parameters = list(dict.fromkeys(list(RUN_PARAMETERS) + shown))
    if spec is not None:
        parameters.remove("offset")
    return SweepPlan(
        tasks=tuple(tasks),
        settings=tuple(settings),
        setting_keys=tuple(keys),
        tracks=tuple(specs),
        parameters=tuple(parameters),
        grid=grid_dict,
        fixed=fixed,
        code=code,
        out=out,
        source=source,
        by_id={t.id: t for t in tasks},
        excerpts=spec,
        offsets=offsets,
        targets=targets,
    )


def _target_part(target: str) -> str:
    """The part of a run's id and folder that names its target: none for vocals (today's
    folders), ``"drums/"`` for drums."""
    return "" if target == "vocals" else f"{target}/"


def _target_key(target: str) -> Dict[str, str]:
    """What a run's cache key adds for its target: nothing for vocals (today's keys)."""
    return {} if target == "vocals" else {"target": target}


def _check_excerpts(
    source: SourceSpec,
    specs: Sequence[TrackSpec],
    settings: Sequence[Mapping[str, Any]],
    offsets: Optional[Mapping[str, Tuple[float, ...]]],
    targets: Sequence[str],
) -> None:
    """Refuse a target whose stem is silent in one of the sweep's excerpts (wav tracks; see
    :func:`~.targets.check_silent_stems`)."""
    ds = open_source(source)
    for t in specs:
        track = ds.track(t.name)
        excerpts = set()
        for s in settings:
            duration = Config().replace(**split_settings(s)[1]).duration
            for off in offsets[t.name] if offsets is not None else (s["offset"],):
                excerpts.add((float(off), float(duration)))
        check_silent_stems(t.name, track.kind, track.files, targets, excerpts=sorted(excerpts))
