"""Sweeps: the experiment over many tracks x many settings, on every core or a Dask cluster.

One clip answers little.  :func:`run_sweep` (``conv2dsep sweep``) runs the library
experiment (:func:`conv2dsep_lib.pipeline.run_experiment`) for every track x setting
of a parameter grid, in a local process pool or on ``dask.distributed``, and
aggregates the runs into one tidy table.

**ORACLE**: the fingerprint method reads the true isolated vocal.  Every row it
produces has ``oracle=True``; the summary, its plots and ``sweep.json`` say so.

Layout of a sweep folder ``DIR``::

    DIR/sweep.csv              tidy table: one row per track x setting x method (x k)
    DIR/sweep_summary.csv      median, IQR (q25, q75) over tracks per setting x method x k
    DIR/sweep_summary.md       the ORACLE statement, headline table, notes, failures
    DIR/sweep.json             manifest: grid, settings, tracks, code version, counts, failures
    DIR/si_sdr_vs_n_slices.png  greedy_vs_original.png  strategy_comparison.png
    DIR/runs/<track>/<setting>/results.json     one finished run (or failed.json)
    DIR/runs/<track>/baselines_<excerpt>/results.json   the track's baselines

Decisions (written down here, as SPEC asks)
-------------------------------------------
* **The task function** is :func:`run_one`: pure, module-level, picklable, taking
  and returning plain dicts, used unchanged by the process pool and by Dask.  It
  loads the track through :func:`conv2dsep_lib.data.open_dataset` (or
  :func:`~conv2dsep_lib.data.open_musdb`) ``.load(name, offset=...)``, builds
  ``Config().replace(**settings)``, runs the experiment and writes the run's
  ``results.json`` atomically (``pipeline.results_dict`` + a ``sweep`` section:
  key, settings, tidy rows).  Per-run wavs and figures only with ``keep_audio``
  (``pipeline.write_outputs`` into the run folder).
* **Baselines once per excerpt.**  The baselines (mixture floor, oracle masks,
  REPET-SIM, HPSS) depend on the track, the offset and the STFT (``sr``,
  ``duration``, ``n_fft``, ``hop_length``) only, so they are a run of their own per
  track x excerpt x STFT (``runs/<track>/baselines_...``), not recomputed for every
  setting.  Their rows are joined to every setting's rows that share them (only
  where that setting's run finished, so medians compare the same tracks).
* **Cache key** = track identity (name, and size + mtime of its files) + the run's
  settings and resolved config + ``bss`` + code version (``__version__`` and a hash of
  the package's ``*.py`` sources as this process imported them; works without git).
  A run is *finished* when its ``results.json`` holds the same key; everything else
  (missing, failed, other key, half-done) is run again.  Editing the code therefore
  invalidates every result.  The key written is always that of the code that ran: a
  worker whose code differs from the driver's (the package was edited during the
  sweep, or a cluster has another version installed) keys its result with its own
  code version, and the sweep warns about it (``SweepResult.warnings``).
* **Failures** are recorded in the run's ``failed.json`` (error type, message,
  traceback) and in ``sweep.json``; the sweep goes on; the command exits 1 naming
  each failure.  Runs that failed are tried again by the next sweep.
* **Interrupts**: Ctrl-C cancels what has not started, stops the workers (a running
  run is interrupted; its atomic writers drop their temporary files), writes the
  table of finished runs and raises :class:`SweepInterrupted` (the CLI exits 130).
  ``sweep.csv`` is also refreshed while runs finish (at most every 2 s), so even a
  killed sweep leaves a consistent table.  Every file is written atomically.
* **Table**: ``sweep.csv`` covers exactly this sweep's tracks x settings (results of
  other grids in the same folder stay on disk but are not listed); its rows are in
  plan order (tracks, then settings, then methods), independent of which worker
  finished first, so a pool and a Dask sweep give identical tables (except the
  ``seconds`` column, wall time of the run).
* **Threads**: pool workers run with one BLAS/OpenMP thread each (environment
  variables set before they start, plus ``threadpoolctl`` when installed); Dask's
  nanny does the same for its worker processes.

See Also
--------
conv2dsep_lib.pipeline.run_experiment : one run.
conv2dsep_lib.plots.plot_sweep_n_slices : the plots of the summary.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import itertools
import json
import math
import os
import re
import signal
import sys
import time
import traceback
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import __version__
from .atomic import atomic_path
from .config import Config, check_n_slices
from .errors import ParameterError

__all__ = [
    "RUN_PARAMETERS",
    "GRID_ALIASES",
    "NOTEBOOK_GRID_KEYS",
    "METRICS",
    "TABLE_NAME",
    "SweepResult",
    "SweepInterrupted",
    "code_version",
    "read_grid",
    "parse_set",
    "expand_grid",
    "setting_key",
    "plan_sweep",
    "run_one",
    "run_sweep",
    "write_table",
    "read_table",
    "summarise",
    "headline_rows",
    "varied_parameters",
    "n_slices_curves",
    "greedy_pairs",
    "strategy_groups",
    "write_summary",
    "failure_rows",
    "ensure_sweep",
]

PathLike = Union[str, os.PathLike]

#: Run parameters a grid may hold besides the :class:`Config` fields, with defaults.
RUN_PARAMETERS: Dict[str, Any] = {"n_slices": 8, "offset": 0.0, "greedy": True}
#: Accepted alternative names of grid keys.
GRID_ALIASES = {"iterations": "num_iterations"}
#: Grid keys the notebook sequence (``notebooks=True``) takes as parameters.
NOTEBOOK_GRID_KEYS = ("n_slices", "offset", "greedy", "num_iterations", "learning_rate", "clip_db",
                      "strategy", "greedy_score")
#: Metric columns of the table (dB; ``loss`` is the fingerprint step loss in dB^2).
METRICS = ("loss", "si_sdr", "si_sdr_i", "sdr", "sir", "sar")
TABLE_NAME = "sweep.csv"
SUMMARY_NAME = "sweep_summary.csv"
SUMMARY_MD_NAME = "sweep_summary.md"
MANIFEST_NAME = "sweep.json"
RUNS_DIR = "runs"
RESULTS_NAME = "results.json"
FAILED_NAME = "failed.json"
PLOT_NAMES = {"n_slices": "si_sdr_vs_n_slices.png", "greedy": "greedy_vs_original.png",
              "strategy": "strategy_comparison.png"}
#: Config fields the baselines depend on (with the track and the offset).
BASELINE_FIELDS = ("sr", "duration", "n_fft", "hop_length")
#: Format tag inside every cache key (bump when the key's meaning changes).
KEY_FORMAT = "conv2dsep-sweep/1"
#: ``sweep.csv`` is rewritten at most this often while runs finish (seconds).
REFRESH_SECONDS = 2.0
#: Short names of parameters in setting keys (folder names).
_ABBREV = {"n_slices": "n", "offset": "off", "num_iterations": "it", "learning_rate": "lr",
           "clip_db": "clip", "strategy": "s", "greedy_score": "gs", "n_points": "pts",
           "duration": "dur", "hop_length": "hop", "n_fft": "fft", "top_db": "top"}
#: Names of parameters in plot legends.
_LABELS = {"n_slices": "N", "num_iterations": "iterations", "learning_rate": "lr"}
_HEAD = ("track", "setting")
_TAIL = ("method", "kind", "k", "sequence") + METRICS + ("oracle", "seconds")
_BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")
_CONFIG_DEFAULTS = Config().to_dict()


# =========================================================================== code version

def _source_hash() -> str:
    h = hashlib.sha256()
    for p in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


#: The package sources as this process imported them (see :func:`code_version`).
_CODE_AT_IMPORT = {"version": __version__, "sources": _source_hash()}


def code_version() -> Dict[str, str]:
    """The code version that goes into every cache key.

    Returns
    -------
    dict
        ``{"version": conv2dsep_lib.__version__, "sources": <16 hex digits>}``: a
        sha256 over the package's ``*.py`` files (names and bytes), read when this
        module was imported -- the code this process runs, with or without git.
    """
    return dict(_CODE_AT_IMPORT)


def _code_label(code: Mapping[str, str]) -> str:
    return f"{code.get('version')}+{code.get('sources')}"


# =========================================================================== grid

def _kind_of(name: str) -> type:
    if name in RUN_PARAMETERS:
        return type(RUN_PARAMETERS[name])
    default = _CONFIG_DEFAULTS[name]
    return float if default is None else type(default)   # top_db: Optional[float]


def _canonical_key(key: Any, *, where: str) -> str:
    if not isinstance(key, str):
        raise ParameterError(f"{where} key {key!r} is not a name: allowed " + _allowed_keys())
    name = GRID_ALIASES.get(key, key)
    if name not in RUN_PARAMETERS and name not in _CONFIG_DEFAULTS:
        raise ParameterError(f"{where} key {key!r} is unknown: allowed " + _allowed_keys())
    return name


def _allowed_keys() -> str:
    return ", ".join(list(RUN_PARAMETERS) + list(_CONFIG_DEFAULTS)) + " (alias: iterations)"


def _canonical_value(name: str, value: Any, *, where: str) -> Any:
    """Validate one value of parameter *name*; floats become float (stable keys)."""
    kind = _kind_of(name)
    label = f"{where} {name!r}"
    if name == "n_slices":
        try:
            return check_n_slices(value)
        except ParameterError as exc:
            raise ParameterError(f"{label}: {exc}") from None
    if name == "greedy":
        if not isinstance(value, bool):
            raise ParameterError(f"{label}: value {value!r} is invalid: allowed true or false")
        return value
    if kind is float and isinstance(value, str):
        try:   # YAML 1.1 reads 1e-3 (no dot) as text
            value = float(value)
        except ValueError:
            pass
    if name == "top_db" and value is None:
        pass
    elif kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    if name == "offset":
        if not (isinstance(value, float) and math.isfinite(value) and value >= 0):
            raise ParameterError(f"{label}: value {value!r} is invalid: allowed a number of seconds >= 0")
        return value
    try:
        Config().replace(**{name: value})
    except ParameterError as exc:
        raise ParameterError(f"{label}: {exc}") from None
    except TypeError:
        raise ParameterError(f"{label}: value {value!r} is invalid: allowed a {kind.__name__}") from None
    return value


def read_grid(path: PathLike) -> Dict[str, List[Any]]:
    """Read and validate a grid file (YAML mapping of parameter -> list of values).

    Parameters
    ----------
    path : path
        YAML file, e.g.::

            n_slices: [1, 2, 4, 8, 18]
            learning_rate: [0.01, 0.05]
            strategy: [3]
            iterations: [100]         # alias of num_iterations
            offset: [0.0]             # excerpt start (s)
            greedy: [true]            # also run the greedy order

    Returns
    -------
    dict of str -> list
        Canonical names (aliases resolved), validated values.

    Raises
    ------
    ParameterError
        Missing or unreadable file, not a mapping, and everything
        :func:`expand_grid` refuses.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"grid file {str(p)!r} does not exist: allowed a YAML file of "
                             "parameter: [values] lines")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParameterError(f"grid file {str(p)!r} is not valid YAML: {first}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParameterError(f"grid file {str(p)!r} holds a {type(data).__name__}: allowed a mapping "
                             "of parameter: [values], e.g. 'n_slices: [1, 2, 4]'")
    return _validate_grid(data)


def _validate_grid(grid: Mapping[str, Any]) -> Dict[str, List[Any]]:
    out: Dict[str, List[Any]] = {}
    for key, values in grid.items():
        name = _canonical_key(key, where="grid")
        if name in out:
            raise ParameterError(f"grid key {key!r} repeats {name!r}: allowed each parameter once")
        if not isinstance(values, (list, tuple)):
            raise ParameterError(f"grid key {key!r} has the value {values!r}: allowed a list, "
                                 f"e.g. {key}: [{values!r}] (fixed values can also go to --set)")
        if not values:
            raise ParameterError(f"grid key {key!r} has an empty list: allowed one or more values")
        canon = [_canonical_value(name, v, where="grid key") for v in values]
        seen = set()
        for v in canon:
            tag = json.dumps(v)
            if tag in seen:
                raise ParameterError(f"grid key {key!r} lists {v!r} twice: allowed distinct values")
            seen.add(tag)
        out[name] = canon
    return out


def parse_set(items: Iterable[str]) -> Dict[str, Any]:
    """``KEY=VALUE`` strings (``--set``) as fixed parameters; values parsed as YAML.

    Raises
    ------
    ParameterError
        No ``=``, unknown key, a list, or an invalid value.
    """
    import yaml

    out: Dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ParameterError(f"--set {item!r} has no '=': allowed KEY=VALUE, e.g. --set iterations=50")
        key, text = item.split("=", 1)
        key = key.strip()
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        name = _canonical_key(key, where="--set")
        if isinstance(value, (list, dict)):
            raise ParameterError(f"--set {key}={text} is a {type(value).__name__}: allowed one value "
                                 "(put lists into the grid file)")
        out[name] = _canonical_value(name, value, where="--set")
    return out


def setting_key(settings: Mapping[str, Any], *, shown: Optional[Sequence[str]] = None) -> str:
    """Folder name of a setting: a short readable slug and a hash of all its values.

    Parameters
    ----------
    settings : dict
        Canonical settings (:func:`expand_grid`).
    shown : sequence of str, optional
        Parameters named in the slug (default: all, in order).

    Returns
    -------
    str
        E.g. ``"n4_lr0.05-3fa2b1c0"``.
    """
    parts = []
    for name in (shown if shown is not None else list(settings)):
        v = settings[name]
        if name == "greedy":
            parts.append("greedy" if v else "nogreedy")
            continue
        text = format(v, "g") if isinstance(v, float) else str(v)
        parts.append(_ABBREV.get(name, name) + re.sub(r"[^A-Za-z0-9.+-]", "", text))
    slug = "_".join(parts)[:60] or "default"
    digest = hashlib.sha1(json.dumps(dict(settings), sort_keys=True).encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


def expand_grid(grid: Optional[Mapping[str, Any]] = None, *,
                fixed: Optional[Mapping[str, Any]] = None,
                notebooks: bool = False) -> List[Dict[str, Any]]:
    """The cartesian product of a grid, every combination validated.

    Parameters
    ----------
    grid : dict of str -> list, optional
        Parameter -> values: :class:`~conv2dsep_lib.config.Config` fields
        (``num_iterations`` -- alias ``iterations`` --, ``learning_rate``,
        ``clip_db``, ``strategy``, ``greedy_score``, ``n_points``, ...) and the run
        parameters ``n_slices`` (1..18), ``offset`` (s), ``greedy`` (bool).
    fixed : dict, optional
        One value per parameter for every setting (``--set``); may not repeat a grid key.
    notebooks : bool
        Settings for the notebook sequence: only :data:`NOTEBOOK_GRID_KEYS` allowed.

    Returns
    -------
    list of dict
        One dict per setting: ``n_slices``, ``offset``, ``greedy`` (defaults
        :data:`RUN_PARAMETERS`) and the config fields that were given, in grid order
        (the last key varies fastest).

    Raises
    ------
    ParameterError
        Unknown keys, non-list values, invalid values, a key both in the grid and
        *fixed*, or an invalid combination -- naming the key; checked for the whole
        grid before anything runs.

    Examples
    --------
    >>> [s["n_slices"] for s in expand_grid({"n_slices": [1, 2]}, fixed={"iterations": 20})]
    [1, 2]
    """
    g = _validate_grid(grid or {})
    f: Dict[str, Any] = {}
    for key, value in (fixed or {}).items():
        name = _canonical_key(key, where="fixed")
        f[name] = _canonical_value(name, value, where="fixed")
    both = sorted(set(g) & set(f))
    if both:
        raise ParameterError(f"parameter {both[0]!r} is both in the grid and in --set: allowed one of them")
    if notebooks:
        bad = [k for k in list(g) + list(f) if k not in NOTEBOOK_GRID_KEYS]
        if bad:
            raise ParameterError(f"grid key {bad[0]!r} is not a notebook parameter: with --notebooks "
                                 "allowed " + ", ".join(NOTEBOOK_GRID_KEYS))
    settings = []
    keys = list(g)
    for combo in itertools.product(*(g[k] for k in keys)):
        values = {**f, **dict(zip(keys, combo))}
        s = {name: values.get(name, default) for name, default in RUN_PARAMETERS.items()}
        s.update({k: v for k, v in values.items() if k not in RUN_PARAMETERS})
        try:
            Config().replace(**{k: v for k, v in s.items() if k not in RUN_PARAMETERS})
        except ParameterError as exc:
            shown = ", ".join(f"{k}={values[k]!r}" for k in values)
            raise ParameterError(f"grid setting ({shown}): {exc}") from None
        settings.append(s)
    return settings


def _shown_parameters(grid: Mapping[str, Any], fixed: Mapping[str, Any]) -> List[str]:
    names = ["n_slices"] + [GRID_ALIASES.get(k, k) for k in list(grid) + list(fixed)]
    return list(dict.fromkeys(names))


def _split(settings: Mapping[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    run = {k: settings[k] for k in RUN_PARAMETERS}
    cfg = {k: v for k, v in settings.items() if k not in RUN_PARAMETERS}
    return run, cfg


# =========================================================================== tracks and tasks

def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "track"
    if s != name:
        s += "-" + hashlib.sha1(name.encode()).hexdigest()[:6]
    return s


def _file_identity(path: PathLike) -> Dict[str, Any]:
    st = os.stat(path)
    return {"file": Path(path).name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _open_source(source: Mapping[str, Any], config: Optional[Config] = None):
    from . import data

    if source["musdb"]:
        return data.open_musdb(source["path"], subset=source["subset"], config=config)
    return data.open_dataset(source["path"], config=config, subset=source["subset"])


def _track_specs(source: Mapping[str, Any], names: Optional[Sequence[str]]) -> List[Dict[str, Any]]:
    ds = _open_source(source)
    chosen = list(ds.tracks)
    if names:
        for n in names:
            ds.info(n)                    # ParameterError naming the allowed tracks
        chosen = [n for n in chosen if n in set(names)]
    specs = []
    for name in chosen:
        info = ds.info(name)
        files = {role: p for role, p in info["files"].items()}
        identity = {"name": name, "kind": info["kind"],
                    "files": {role: _file_identity(p) for role, p in sorted(files.items())}}
        if ds.kind == "prepared":
            nb_input = {"data_dir": str(Path(files["mixture"]).parent)}
        else:
            nb_input = {"musdb": source["path"], "track": name, "subset": source["subset"]}
        specs.append({"name": name, "slug": _slug(name), "source": dict(source),
                      "identity": identity, "notebook_input": nb_input})
    return specs


def _key(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def plan_sweep(tracks: Optional[PathLike] = None, grid: Union[None, PathLike, Mapping[str, Any]] = None,
               *, out: PathLike, fixed: Optional[Mapping[str, Any]] = None,
               musdb: Optional[PathLike] = None, subset: str = "test",
               names: Optional[Sequence[str]] = None, bss: bool = True, baselines: bool = True,
               keep_audio: bool = False, notebooks: bool = False) -> Dict[str, Any]:
    """Validate everything and list the sweep's tasks (nothing is run or written).

    Parameters are those of :func:`run_sweep`.

    Returns
    -------
    dict
        ``tasks`` (list of task dicts for :func:`run_one`, baseline runs first per
        track), ``settings``, ``setting_keys``, ``tracks``, ``parameters`` (table
        columns), ``grid``, ``fixed``, ``code``, ``out``, ``source``.

    Raises
    ------
    ParameterError
        Bad grid, no or unknown tracks, both or neither of *tracks* and *musdb*,
        *out* not a folder.
    """
    if (tracks is None) == (musdb is None):
        raise ParameterError("tracks: give exactly one of a glob / prepared folder (--tracks) or a "
                             "MUSDB18 root (--musdb)")
    if subset not in ("train", "test"):
        raise ParameterError(f"subset={subset!r} is invalid: allowed 'train' or 'test'")
    if grid is None:
        grid_dict: Dict[str, Any] = {}
    elif isinstance(grid, Mapping):
        grid_dict = _validate_grid(grid)
    else:
        grid_dict = read_grid(grid)
    fixed = {_canonical_key(k, where="fixed"): v for k, v in (fixed or {}).items()}
    fixed = {k: _canonical_value(k, v, where="fixed") for k, v in fixed.items()}
    settings = expand_grid(grid_dict, fixed=fixed, notebooks=notebooks)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {str(out)!r} exists and is not a folder")
    out = out.resolve()
    path = musdb if musdb is not None else tracks
    source = {"path": os.path.abspath(os.path.expanduser(str(path))), "musdb": musdb is not None,
              "subset": subset}
    specs = _track_specs(source, names)
    code = code_version()
    shown = _shown_parameters(grid_dict, fixed)
    keys = [setting_key(s, shown=shown) for s in settings]
    if len(set(keys)) != len(keys):     # pragma: no cover - distinct settings hash apart
        raise ParameterError("two settings of the grid share a folder name: allowed distinct settings")
    tasks: List[Dict[str, Any]] = []
    common = {"bss": bool(bss), "keep_audio": bool(keep_audio), "notebooks": bool(notebooks),
              "code": code}
    for spec in specs:
        base_keys: Dict[str, str] = {}
        planned = set()
        if baselines and not notebooks:
            for s in settings:
                cfg = Config().replace(**_split(s)[1])
                bset = {"offset": s["offset"], **{f: getattr(cfg, f) for f in BASELINE_FIELDS}}
                bkey = "baselines_" + setting_key(bset, shown=["offset"])
                base_keys[setting_key(s, shown=shown)] = bkey
                if bkey in planned:           # shared by the settings with the same excerpt/STFT
                    continue
                planned.add(bkey)
                payload = {"format": KEY_FORMAT, "task": "baselines", "track": spec["identity"],
                           "settings": bset, "bss": bool(bss)}
                tasks.append({"id": f"{spec['name']}/{bkey}", "kind": "baselines", "track": spec,
                              "setting": bkey, "settings": bset, "config": bset,
                              "run_dir": str(out / RUNS_DIR / spec["slug"] / bkey),
                              "key": _key({**payload, "code": code}), "key_payload": payload, **common})
        for s, skey in zip(settings, keys):
            config = Config().replace(**_split(s)[1]).to_dict()
            payload = {"format": KEY_FORMAT, "task": "notebooks" if notebooks else "experiment",
                       "track": spec["identity"], "settings": s, "config": config, "bss": bool(bss),
                       "baselines": bool(baselines) if notebooks else None}
            tasks.append({"id": f"{spec['name']}/{skey}", "kind": "experiment", "track": spec,
                          "setting": skey, "settings": s, "config": config,
                          "baselines_run": base_keys.get(skey), "baselines": bool(baselines),
                          "run_dir": str(out / RUNS_DIR / spec["slug"] / skey),
                          "key": _key({**payload, "code": code}), "key_payload": payload, **common})
    return {"tasks": tasks, "settings": settings, "setting_keys": keys, "tracks": specs,
            "parameters": list(dict.fromkeys(list(RUN_PARAMETERS) + shown)), "grid": grid_dict,
            "fixed": fixed, "code": code, "out": out, "source": source}


# =========================================================================== the task function

_RUNNING = False   # True while run_one works (the pool worker's SIGTERM handler reads it)
_STOPPING = False  # set by SIGTERM in a pool worker: finish no further run


def _clean_temporaries(folder: Path) -> None:
    """Remove what an interrupted atomic writer may have left (hidden ``*.tmp``)."""
    import shutil

    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.name.startswith(".") and (p.name.endswith(".tmp") or p.name.endswith(".old")):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def _metric_values(metrics: Optional[Mapping[str, Any]]) -> Dict[str, Optional[float]]:
    m = metrics or {}
    return {k: m.get(k) for k in ("si_sdr", "si_sdr_i", "sdr", "sir", "sar")}


def _view_numbers(names: Sequence[str]) -> str:
    from .views import VIEW_NAMES

    return "-".join(str(VIEW_NAMES.index(n)) for n in names)


def _rows_from_record(record: Mapping[str, Any], *, seconds: float) -> List[Dict[str, Any]]:
    """Tidy rows of one results record (without track / setting / parameter columns)."""
    rows = []

    def row(method, kind, k, seq, loss, metrics, oracle):
        return {"method": method, "kind": kind, "k": k, "sequence": seq, "loss": loss,
                **_metric_values(metrics), "oracle": oracle, "seconds": round(seconds, 3)}

    for p in record.get("progressive") or []:
        rows.append(row("progressive", "method", p["n_slices"], _view_numbers(p["sequence"]),
                        p["loss"], p.get("metrics"), True))
    g = record.get("greedy")
    if g:
        rows.append(row("greedy", "method", len(g["sequence"]), _view_numbers(g["sequence"]),
                        g["loss"], g.get("metrics"), True))
        b = g["best_prefix"]
        rows.append(row("greedy_best", "method", b["n_slices"], _view_numbers(b["sequence"]),
                        b["loss"], b.get("metrics"), True))
    for name, b in (record.get("baselines") or {}).items():
        rows.append(row(name, b.get("kind"), None, None, None, b.get("metrics"), bool(b.get("oracle"))))
    return rows


def _load_pair(task: Mapping[str, Any], config: Config):
    ds = _open_source(task["track"]["source"], config)
    return ds.load(task["track"]["name"], offset=task["settings"]["offset"])


def _run_experiment_task(task: Mapping[str, Any], run_dir: Path) -> Dict[str, Any]:
    from .pipeline import results_dict, run_experiment, write_outputs

    config = Config.from_dict(task["config"])
    s = task["settings"]
    pair = _load_pair(task, config)
    exp = run_experiment(pair, config=config, n_slices=s["n_slices"], greedy=s["greedy"],
                         baselines=False, bss=task["bss"])
    arguments = {"sweep": True, "run": task["id"], "settings": dict(s), "bss": task["bss"]}
    if task["keep_audio"]:
        folder = write_outputs(exp, run_dir, arguments=arguments)
        record = json.loads((folder / "results.json").read_text())
        record["audio_folder"] = folder.name
        return record
    return results_dict(exp, arguments=arguments)


def _run_baselines_task(task: Mapping[str, Any], run_dir: Path) -> Dict[str, Any]:
    from .audio import write_wav
    from .pipeline import ORACLE_NOTE, score_baselines

    s = task["settings"]
    config = Config().replace(**{f: s[f] for f in BASELINE_FIELDS})
    pair = _load_pair(task, config)
    out = {}
    for name, b in score_baselines(pair, config=config, bss=task["bss"]).items():
        if task["keep_audio"]:
            write_wav(run_dir / f"{name}.wav", b["estimate"], config.sr)
        out[name] = {"kind": b["kind"], "oracle": b["oracle"], "metrics": b["metrics"]}
    return {"note": "Reference points of the sweep (floor, oracle masks, blind methods) for one "
                    "excerpt; the Conv2D method's rows are " + ORACLE_NOTE,
            "input": pair.source, "config": config.to_dict(), "baselines": out,
            "audio_folder": "." if task["keep_audio"] else None}


def _run_notebooks_task(task: Mapping[str, Any], run_dir: Path) -> Dict[str, Any]:
    from .notebooks import describe_failure, list_notebooks, run_notebooks
    from .pipeline import output_dir_name

    s, cfg = task["settings"], task["config"]
    params: Dict[str, Any] = dict(task["track"]["notebook_input"])
    params.update({"offset": s["offset"], "n_slices": s["n_slices"], "iterations": cfg["num_iterations"],
                   "learning_rate": cfg["learning_rate"], "clip_db": cfg["clip_db"],
                   "strategy": cfg["strategy"], "greedy_score": cfg["greedy_score"],
                   "bss": task["bss"], "baselines": task["baselines"]})
    only = [p.stem for p in list_notebooks() if not p.name.startswith("06_")]
    summary = run_notebooks(out_dir=run_dir / "workbook", parameters=params, only=only)
    failed = [e for e in summary["notebooks"] if e["status"] != "ok"]
    if failed:
        raise RuntimeError("; ".join(describe_failure(e) for e in failed)
                           + f" (executed notebooks in {run_dir / 'workbook' / 'notebooks'})")
    part = "04_greedy" if s["greedy"] else "03_progressive"
    folder = run_dir / "workbook" / part / output_dir_name(s["n_slices"])
    record = json.loads((folder / "results.json").read_text())
    record["audio_folder"] = str(folder.relative_to(run_dir))
    return record


def _error_record(exc: BaseException) -> Dict[str, Any]:
    return {"type": type(exc).__name__, "message": str(exc).strip().splitlines()[0] if str(exc).strip()
            else type(exc).__name__, "user_error": isinstance(exc, ParameterError),
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))}


def _record_failure(task: Mapping[str, Any], exc: BaseException, seconds: float) -> Dict[str, Any]:
    from .pipeline import atomic_write_json

    error = _error_record(exc)
    run_dir = Path(task["run_dir"])
    atomic_write_json(run_dir / FAILED_NAME, {
        "oracle": True, "key": task["key"], "run": task["id"], "kind": task["kind"],
        "settings": task["settings"], "error": error, "seconds": round(seconds, 3),
        "finished": _dt.datetime.now().isoformat(timespec="seconds")})
    return {"id": task["id"], "status": "failed", "error": error, "rows": [],
            "seconds": round(seconds, 3)}


def run_one(task: Dict[str, Any]) -> Dict[str, Any]:
    """Run one track x setting (or one track's baselines) and write its ``results.json``.

    The sweep's task function: module-level, picklable, plain dicts in and out; the
    local process pool and Dask call it unchanged.

    Parameters
    ----------
    task : dict
        One entry of ``plan_sweep(...)["tasks"]``: ``id``, ``kind``
        (``"experiment"`` or ``"baselines"``), ``track`` (name, source spec,
        identity), ``settings``, ``config``, ``run_dir``, ``key``, ``bss``,
        ``keep_audio``, ``notebooks``, ``code``.

    Returns
    -------
    dict
        ``id``, ``status`` (``"ok"`` or ``"failed"``), ``rows`` (tidy rows without
        track/setting columns), ``seconds``, and ``error`` (type, message, traceback)
        when failed.

    Notes
    -----
    Any exception of the run is recorded in ``failed.json`` and returned, not
    raised: the sweep goes on.  ``KeyboardInterrupt`` is not caught (the atomic
    writers drop their temporary files on the way out).  On success
    ``results.json`` is written last and a stale ``failed.json`` removed.
    """
    global _RUNNING
    from .pipeline import ORACLE_NOTE, atomic_write_json

    t0 = time.perf_counter()
    run_dir = Path(task["run_dir"])
    _RUNNING = True
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        _clean_temporaries(run_dir)
        # the key names the code that really ran: this process's, which differs from the
        # driver's when the package was edited since, or a cluster runs another version
        code = code_version()
        key = task["key"] if code == task["code"] else _key({**task["key_payload"], "code": code})
        try:
            if task["kind"] == "baselines":
                record = _run_baselines_task(task, run_dir)
            elif task["notebooks"]:
                record = _run_notebooks_task(task, run_dir)
            else:
                record = _run_experiment_task(task, run_dir)
            seconds = time.perf_counter() - t0
            rows = _rows_from_record(record, seconds=seconds)
            record["oracle"] = True
            record.setdefault("note", ORACLE_NOTE)
            record["sweep"] = {
                "key": key, "run": task["id"], "kind": task["kind"], "track": task["track"]["name"],
                "setting": task["setting"], "settings": task["settings"], "code": code,
                "bss": task["bss"], "notebooks": task["notebooks"], "audio": record.pop("audio_folder", None),
                "seconds": round(seconds, 3), "pid": os.getpid(),
                "finished": _dt.datetime.now().isoformat(timespec="seconds"), "rows": rows}
            atomic_write_json(run_dir / RESULTS_NAME, record)
        except Exception as exc:       # recorded in failed.json and reported by the sweep
            return _record_failure(task, exc, time.perf_counter() - t0)
        (run_dir / FAILED_NAME).unlink(missing_ok=True)
        return {"id": task["id"], "status": "ok", "rows": rows, "seconds": round(seconds, 3),
                "code": code, "code_differs": code != task["code"]}
    finally:
        _RUNNING = False
        if _STOPPING:                   # pragma: no cover - pool worker told to stop
            os._exit(1)                 # after the atomic writers cleaned up; take no queued run


def _finished(task: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The stored outcome of a finished run with the same key, else ``None``."""
    path = Path(task["run_dir"]) / RESULTS_NAME
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    sweep = record.get("sweep") or {}
    if sweep.get("key") != task["key"] or not isinstance(sweep.get("rows"), list):
        return None
    if task["keep_audio"] and not sweep.get("audio"):
        return None
    return {"id": task["id"], "status": "cached", "rows": sweep["rows"], "seconds": sweep.get("seconds")}


# =========================================================================== execution

@contextmanager
def _single_thread_env() -> Iterator[None]:
    old = {k: os.environ.get(k) for k in _BLAS_VARS}
    os.environ.update({k: "1" for k in _BLAS_VARS})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_THREAD_LIMITS = None


@contextmanager
def _blas_single_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _on_sigterm(signum, frame):  # pragma: no cover - runs in pool workers
    global _STOPPING
    _STOPPING = True
    if _RUNNING:
        raise KeyboardInterrupt        # unwinds through the atomic writers, then run_one exits
    os._exit(0)


def _init_worker() -> None:  # pragma: no cover - runs in pool workers
    """Pool worker set-up: one BLAS thread; Ctrl-C is the driver's business."""
    global _THREAD_LIMITS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from threadpoolctl import threadpool_limits

        _THREAD_LIMITS = threadpool_limits(limits=1)
    except ImportError:  # threadpoolctl is optional; the *_NUM_THREADS variables still apply
        pass


def _outcome_of_exception(task: Mapping[str, Any], exc: BaseException) -> Dict[str, Any]:
    """A run that died outside run_one (worker crash, cancelled, pickling): record it."""
    try:
        return _record_failure(task, exc, 0.0)
    except Exception:   # pragma: no cover - the folder is not writable
        return {"id": task["id"], "status": "failed", "error": _error_record(exc), "rows": [],
                "seconds": 0.0}


def _stop_pool(ex, futures) -> None:
    for f in futures:
        f.cancel()
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()            # SIGTERM: interrupts a running run (see _on_sigterm)
    for p in procs:
        p.join(timeout=15)
        if p.is_alive():             # pragma: no cover
            p.kill()
            p.join(timeout=5)


def _iter_local(tasks: List[Dict[str, Any]], workers: int) -> Iterator[Dict[str, Any]]:
    if workers == 1 or len(tasks) <= 1:
        with _blas_single_thread():      # as in the pool workers: faster for small BLAS calls
            for t in tasks:
                yield run_one(t)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx,
                             initializer=_init_worker)
    futures: Dict[Any, Dict[str, Any]] = {}
    try:
        with _single_thread_env():
            for t in tasks:
                futures[ex.submit(run_one, t)] = t
        for f in as_completed(futures):
            try:
                yield f.result()
            except Exception as exc:
                yield _outcome_of_exception(futures[f], exc)
    except BaseException:
        _stop_pool(ex, futures)
        raise
    ex.shutdown(wait=True)


def _iter_dask(tasks: List[Dict[str, Any]], client) -> Iterator[Dict[str, Any]]:
    from distributed import as_completed

    futures = client.map(run_one, tasks, pure=False)
    by_key = {f.key: t for f, t in zip(futures, tasks)}
    try:
        for f in as_completed(futures):
            try:
                yield f.result()
            except Exception as exc:
                yield _outcome_of_exception(by_key[f.key], exc)
    except BaseException:
        client.cancel(futures)
        raise


@contextmanager
def _dask_client(*, scheduler: Optional[str], dask_local: bool, workers: int, client) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            c = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(f"could not connect to the Dask scheduler {scheduler!r}: {exc} "
                                 "(allowed an address like tcp://HOST:8786 of a running scheduler)") from None
        try:
            yield c
        finally:
            c.close()
        return
    import dask

    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc give
    # every large numpy temporary back to the system: runs here took twice as long with it.
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


# =========================================================================== the sweep

class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_sweep`; ``.result`` describes what had finished."""

    def __init__(self, result: "SweepResult"):
        super().__init__("sweep interrupted")
        self.result = result


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    out : Path
        The sweep folder.
    rows : list of dict
        The table (as in ``sweep.csv``; typed values).
    columns : list of str
        Its columns.
    runs : int
        Runs in the plan (settings x tracks, plus one baseline run per track x excerpt).
    ran, cached, failed : int
        Runs executed and finished, found finished (same key) and skipped, failed.
    interrupted : bool
    failures : list of dict
        ``run``, ``type``, ``message``, ``file`` per failed run.
    warnings : list of str
        E.g. runs that ran with other code than this process (see the module notes).
    seconds : float
    files : dict of str -> str
        What was written (table, summary, manifest, plots).
    notes : list of str
        Remarks of the summary (e.g. a plot skipped because nothing varied).
    """

    out: Path
    rows: List[Dict[str, Any]]
    columns: List[str]
    runs: int
    ran: int
    cached: int
    failed: int
    interrupted: bool = False
    failures: List[Dict[str, Any]] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    seconds: float = 0.0
    files: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.runs - self.ran - self.cached - self.failed

    @property
    def counts(self) -> Dict[str, int]:
        return {"runs": self.runs, "ran": self.ran, "cached": self.cached, "failed": self.failed,
                "remaining": self.remaining}

    @property
    def table(self) -> Path:
        return self.out / TABLE_NAME


def _assemble(plan: Mapping[str, Any], outcomes: Mapping[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The table in plan order from the outcomes finished so far."""
    params = plan["parameters"]
    base_rows: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    for t in plan["tasks"]:
        o = outcomes.get(t["id"])
        if t["kind"] == "baselines" and o is not None and o["status"] != "failed":
            base_rows[(t["track"]["name"], t["setting"])] = o["rows"]
    rows = []
    for t in plan["tasks"]:
        o = outcomes.get(t["id"])
        if t["kind"] != "experiment" or o is None or o["status"] == "failed":
            continue
        head = {"track": t["track"]["name"], "setting": t["setting"]}
        head.update({p: t["settings"].get(p, t["config"].get(p)) for p in params})
        for r in o["rows"]:
            rows.append({**head, **r})
        for r in base_rows.get((t["track"]["name"], t.get("baselines_run")), []):
            rows.append({**head, **r})
    return rows


def _columns(plan: Mapping[str, Any]) -> List[str]:
    return list(_HEAD) + list(plan["parameters"]) + list(_TAIL)


def _format_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return repr(v) if math.isfinite(v) else ""
    return str(v)


def write_table(rows: Sequence[Mapping[str, Any]], path: PathLike, *,
                columns: Optional[Sequence[str]] = None) -> Path:
    """Write rows as CSV atomically (floats exact: ``repr``; ``None``/NaN empty).

    Parameters
    ----------
    rows : sequence of dict
    path : path
    columns : sequence of str, optional
        Default: the first row's keys.

    Returns
    -------
    Path
    """
    rows = list(rows)
    columns = list(columns) if columns is not None else (list(rows[0]) if rows else list(_HEAD + _TAIL))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_format_cell(r.get(c)) for c in columns])
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())
    return path


_FLOAT_COLUMNS = set(METRICS) | {"seconds"} | {k for k in _CONFIG_DEFAULTS if _kind_of(k) is float} \
    | {"offset"} | {f"{m}_{s}" for m in METRICS for s in ("median", "q25", "q75", "iqr")}
_INT_COLUMNS = {"k", "n_slices", "n_tracks"} | {k for k in _CONFIG_DEFAULTS if _kind_of(k) is int}
_BOOL_COLUMNS = {"oracle", "greedy"}


def _parse_cell(column: str, text: str) -> Any:
    if text == "":
        return None
    if column in _BOOL_COLUMNS:
        return text == "True"
    if column in _INT_COLUMNS:
        return int(text)
    if column in _FLOAT_COLUMNS:
        return float(text)
    return text


def read_table(path: PathLike) -> List[Dict[str, Any]]:
    """Read ``sweep.csv`` (or ``sweep_summary.csv``) with typed values.

    Returns
    -------
    list of dict
        Floats for metrics and float parameters, ints for ``k`` and integer
        parameters, bools for ``oracle`` and ``greedy``, ``None`` for empty cells.

    Raises
    ------
    ParameterError
        The file does not exist.
    """
    p = Path(path)
    if p.is_dir():
        p = p / TABLE_NAME
    if not p.is_file():
        raise ParameterError(f"sweep table {str(p)!r} does not exist: run `conv2dsep sweep ... --out "
                             f"{p.parent}` first")
    with open(p, newline="") as f:
        return [{c: _parse_cell(c, v) for c, v in r.items()} for r in csv.DictReader(f)]


# --------------------------------------------------------------------------- aggregation

def _parameters_of(rows: Sequence[Mapping[str, Any]]) -> List[str]:
    if not rows:
        return []
    return [c for c in rows[0] if c not in _HEAD and c not in _TAIL]


def varied_parameters(rows: Sequence[Mapping[str, Any]]) -> List[str]:
    """Parameter columns that take more than one value in *rows*."""
    return [p for p in _parameters_of(rows) if len({json.dumps(r.get(p)) for r in rows}) > 1]


def _stats(values: Sequence[Any]) -> Dict[str, Optional[float]]:
    x = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return {"median": None, "q25": None, "q75": None, "iqr": None}
    q25, med, q75 = np.percentile(x, [25, 50, 75])
    return {"median": round(float(med), 6), "q25": round(float(q25), 6), "q75": round(float(q75), 6),
            "iqr": round(float(q75 - q25), 6)}


def summarise(rows: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Median and spread over tracks per setting x method x k.

    Parameters
    ----------
    rows : sequence of dict
        The tidy table (:func:`read_table` or ``SweepResult.rows``).

    Returns
    -------
    list of dict
        One row per (setting, method, k), in table order: ``setting``, the
        parameters, ``method``, ``kind``, ``k``, ``oracle``, ``n_tracks``, and for each
        of :data:`METRICS` its ``_median``, ``_q25``, ``_q75`` and ``_iqr`` (= q75 - q25)
        over tracks (empty values skipped).
    """
    params = _parameters_of(rows)
    groups: Dict[Tuple[Any, ...], List[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["setting"], r["method"], r["k"]), []).append(r)
    out = []
    for (setting, method, k), members in groups.items():
        first = members[0]
        s: Dict[str, Any] = {"setting": setting, **{p: first.get(p) for p in params},
                             "method": method, "kind": first.get("kind"), "k": k,
                             "oracle": first.get("oracle"),
                             "n_tracks": len({m["track"] for m in members})}
        for m in METRICS:
            for stat, v in _stats([r.get(m) for r in members]).items():
                s[f"{m}_{stat}"] = v
        out.append(s)
    return out


def headline_rows(rows: Sequence[Mapping[str, Any]], *, metric: str = "si_sdr") -> List[Dict[str, Any]]:
    """One line per setting: median *metric* over tracks of the method and the baselines.

    Columns: ``setting``, the varied parameters, ``tracks``, ``progressive k=N``
    (all N slices in the original order), ``greedy``, ``greedy_best`` (when run),
    ``best k`` (the k with the highest median), then one column per baseline.
    """
    _check_metric(metric)
    varied = varied_parameters(rows)
    lines: Dict[str, Dict[str, Any]] = {}
    best: Dict[str, Tuple[float, int]] = {}
    for s in summarise(rows):
        line = lines.setdefault(s["setting"], {"setting": s["setting"], **{p: s.get(p) for p in varied},
                                               "tracks": 0, "progressive k=N": None, "best k": None})
        line["tracks"] = max(line["tracks"], s["n_tracks"])
        v = s[f"{metric}_median"]
        if s["method"] == "progressive":
            if s["k"] == s.get("n_slices"):
                line["progressive k=N"] = v
            if v is not None and (s["setting"] not in best or v > best[s["setting"]][0]):
                best[s["setting"]] = (v, s["k"])
        else:
            line[s["method"]] = v
    for key, (_, k) in best.items():
        lines[key]["best k"] = k
    columns = list(dict.fromkeys(c for line in lines.values() for c in line))
    return [{c: line.get(c) for c in columns} for line in lines.values()]


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ParameterError(f"metric={metric!r} is invalid: allowed one of " + ", ".join(METRICS))


def _label(row: Mapping[str, Any], names: Sequence[str]) -> str:
    parts = []
    for n in names:
        v = row.get(n)
        if n == "greedy":
            parts.append("greedy" if v else "no greedy")
        else:
            parts.append(f"{_LABELS.get(n, n)}={format(v, 'g') if isinstance(v, float) else v}")
    return ", ".join(parts)


def n_slices_curves(rows: Sequence[Mapping[str, Any]], *, metric: str = "si_sdr") -> Dict[str, Any]:
    """Per-k statistics of the progressive rows, one curve per combination of the other settings.

    The state after k slices does not depend on the run's N, so each (track,
    combination, k) is taken once, from the first run that has it.

    Returns
    -------
    dict
        ``metric``, ``n_tracks``, ``curves`` (list of ``label``, ``k``, ``median``,
        ``q25``, ``q75``, ``tracks`` = {track: values per k}) and ``baselines``
        (name -> ``kind``, ``median`` over every track and setting).
    """
    _check_metric(metric)
    others = [p for p in varied_parameters(rows) if p not in ("n_slices", "greedy", "greedy_score")]
    data: Dict[str, Dict[int, Dict[str, Any]]] = {}
    labels: Dict[str, str] = {}
    base: Dict[str, Dict[str, Any]] = {}
    for r in rows:
        if r["method"] == "progressive":
            lab = _label(r, others) or "all settings"
            labels.setdefault(lab, lab)
            data.setdefault(lab, {}).setdefault(r["k"], {}).setdefault(r["track"], r.get(metric))
        elif r.get("kind") in ("oracle", "blind", "floor"):
            b = base.setdefault(r["method"], {"kind": r["kind"], "values": {}})
            b["values"].setdefault((r["track"], r.get("offset"), r.get("sr"), r.get("n_fft"),
                                    r.get("hop_length"), r.get("duration")), r.get(metric))
    curves = []
    for lab, per_k in data.items():
        ks = sorted(per_k)
        st = [_stats(list(per_k[k].values())) for k in ks]
        tracks = sorted({t for k in ks for t in per_k[k]})
        curves.append({"label": lab, "k": ks, "median": [s["median"] for s in st],
                       "q25": [s["q25"] for s in st], "q75": [s["q75"] for s in st],
                       "tracks": {t: [per_k[k].get(t) for k in ks] for t in tracks}})
    baselines = {n: {"kind": b["kind"], "median": _stats(list(b["values"].values()))["median"]}
                 for n, b in base.items()}
    return {"metric": metric, "n_tracks": len({r["track"] for r in rows}), "curves": curves,
            "baselines": baselines}


def greedy_pairs(rows: Sequence[Mapping[str, Any]], *, metric: str = "si_sdr") -> List[Dict[str, Any]]:
    """Greedy order against the original order, per track x setting with a greedy run.

    Returns
    -------
    list of dict
        ``track``, ``setting``, ``label``, ``n_slices``, ``best_prefix``, and
        ``original``, ``greedy``, ``greedy_best`` (*metric*) and ``original_loss``,
        ``greedy_loss``, ``greedy_best_loss``.  The original order is the
        progressive run's k = N.
    """
    _check_metric(metric)
    varied = [p for p in varied_parameters(rows) if p != "greedy"]
    runs: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for r in rows:
        e = runs.setdefault((r["track"], r["setting"]), {"track": r["track"], "setting": r["setting"],
                                                         "label": _label(r, varied) or "all settings",
                                                         "n_slices": r.get("n_slices")})
        if r["method"] == "progressive" and r["k"] == r.get("n_slices"):
            e["original"], e["original_loss"] = r.get(metric), r.get("loss")
        elif r["method"] in ("greedy", "greedy_best"):
            e[r["method"]], e[r["method"] + "_loss"] = r.get(metric), r.get("loss")
            if r["method"] == "greedy_best":
                e["best_prefix"] = r["k"]
    return [e for e in runs.values() if "greedy" in e and "original" in e]


def strategy_groups(rows: Sequence[Mapping[str, Any]], *, metric: str = "si_sdr") -> Dict[str, Any]:
    """The final progressive result (k = N) grouped by gain strategy.

    Returns
    -------
    dict
        ``varies`` (bool), ``strategies`` (sorted values), ``values`` and ``losses``
        (strategy -> list over tracks x other settings), ``fixed`` (the one strategy
        when it does not vary).
    """
    _check_metric(metric)
    final = [r for r in rows if r["method"] == "progressive" and r["k"] == r.get("n_slices")]
    default = _CONFIG_DEFAULTS["strategy"]
    strategies = sorted({default if r.get("strategy") is None else r["strategy"] for r in final})
    values: Dict[int, List[float]] = {s: [] for s in strategies}
    losses: Dict[int, List[float]] = {s: [] for s in strategies}
    for r in final:
        s = default if r.get("strategy") is None else r["strategy"]
        values[s].append(r.get(metric))
        losses[s].append(r.get("loss"))
    return {"varies": len(strategies) > 1, "strategies": strategies, "values": values, "losses": losses,
            "fixed": strategies[0] if len(strategies) == 1 else None}


def _md_table(rows: Sequence[Mapping[str, Any]], *, floatfmt: str = ".2f") -> str:
    if not rows:
        return "(no finished runs)\n"
    cols = list(rows[0])
    for r in rows[1:]:
        cols += [c for c in r if c not in cols]

    def cell(v):
        if v is None:
            return "n/a"
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _save_png(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    return path


def write_summary(rows: Sequence[Mapping[str, Any]], out: PathLike, *, plots: bool = True,
                  manifest: Optional[Mapping[str, Any]] = None) -> Tuple[Dict[str, str], List[str]]:
    """Write ``sweep_summary.csv``, ``sweep_summary.md`` and the plots into *out*.

    Parameters
    ----------
    rows : sequence of dict
        The tidy table.
    out : path
        The sweep folder.
    plots : bool
        Also the PNGs (``si_sdr_vs_n_slices.png``, ``greedy_vs_original.png``,
        ``strategy_comparison.png`` -- the last only when the strategy varies).
    manifest : dict, optional
        ``sweep.json`` content (counts and failures go into the markdown).

    Returns
    -------
    files : dict of str -> str
    notes : list of str
    """
    from .pipeline import ORACLE_NOTE

    out = Path(out)
    rows = list(rows)
    summary = summarise(rows)
    files = {"summary": str(write_table(summary, out / SUMMARY_NAME))}
    notes: List[str] = []
    if plots and rows:
        from . import plots as plotting

        files["plot_n_slices"] = str(_save_png(plotting.plot_sweep_n_slices(rows), out / PLOT_NAMES["n_slices"]))
        if greedy_pairs(rows):
            files["plot_greedy"] = str(_save_png(plotting.plot_sweep_greedy(rows), out / PLOT_NAMES["greedy"]))
        else:
            notes.append("no greedy runs in this sweep (greedy: false): greedy_vs_original.png not written")
        sg = strategy_groups(rows)
        if sg["varies"]:
            files["plot_strategy"] = str(_save_png(plotting.plot_sweep_strategies(rows),
                                                   out / PLOT_NAMES["strategy"]))
        else:
            notes.append(f"the gain strategy does not vary in this sweep (strategy {sg['fixed']} only): "
                         "strategy_comparison.png not written; add e.g. 'strategy: [1, 2, 3, 4]' to the grid")
    m = dict(manifest or {})
    lines = ["# Sweep summary -- ORACLE", "", f"**{ORACLE_NOTE}** Every row of the Conv2D method "
             "(progressive, greedy, greedy_best) has oracle=True; the baselines say per row whether "
             "they read the true vocal (oracle_irm, oracle_ibm) or not (mixture floor, repet_sim, hpss).",
             ""]
    if m:
        c = m.get("counts", {})
        lines += [f"- status: {m.get('status')}; runs {c.get('runs')}: ran {c.get('ran')}, cached "
                  f"{c.get('cached')}, failed {c.get('failed')}, remaining {c.get('remaining')}",
                  f"- tracks: {len(m.get('tracks', []))}; settings: {len(m.get('settings', []))}; "
                  f"code {_code_label(m.get('code', {}))}; BSS Eval: {m.get('bss')}", ""]
    lines += ["## Median SI-SDR over tracks (dB)", "",
              "`progressive k=N`: all N slices in the original order; `best k`: the k with the highest "
              "median; baselines beside. Full statistics (median, q25, q75, IQR of every metric) in "
              f"`{SUMMARY_NAME}`, one row per track in `{TABLE_NAME}`.", "",
              _md_table(headline_rows(rows))]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    if m.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in m["warnings"]] + [""]
    if m.get("failures"):
        lines += ["## Failed runs", ""] + [f"- `{f['run']}`: {f['type']}: {f['message']}"
                                           for f in m["failures"]] + [""]
    with atomic_path(out / SUMMARY_MD_NAME) as tmp:
        tmp.write_text("\n".join(lines).rstrip("\n") + "\n")
    files["summary_md"] = str(out / SUMMARY_MD_NAME)
    return files, notes


def failure_rows(out: PathLike) -> List[Dict[str, Any]]:
    """The failed runs listed in ``DIR/sweep.json`` (``run``, ``type``, ``message``, ``file``)."""
    p = Path(out) / MANIFEST_NAME
    if not p.is_file():
        return []
    return [{k: f.get(k) for k in ("run", "type", "message", "file")}
            for f in json.loads(p.read_text()).get("failures", [])]


def _manifest(plan, result_counts, failures, *, status, started, seconds, files, notes,
              arguments) -> Dict[str, Any]:
    from .pipeline import ORACLE_NOTE

    return {
        "oracle": True, "note": ORACLE_NOTE, "status": status, "arguments": arguments or {},
        "source": plan["source"], "grid": plan["grid"], "fixed": plan["fixed"],
        "parameters": plan["parameters"], "code": plan["code"],
        "bss": bool(plan["tasks"][0]["bss"]) if plan["tasks"] else None,
        "tracks": [{"name": t["name"], "folder": t["slug"], "identity": t["identity"]} for t in plan["tracks"]],
        "settings": [{"setting": k, **s} for k, s in zip(plan["setting_keys"], plan["settings"])],
        "counts": result_counts, "failures": failures, "started": started,
        "finished": _dt.datetime.now().isoformat(timespec="seconds") if status != "running" else None,
        "seconds": round(seconds, 2), "files": files, "notes": notes,
    }


def run_sweep(tracks: Optional[PathLike] = None, grid: Union[None, PathLike, Mapping[str, Any]] = None,
              *, out: PathLike, fixed: Optional[Mapping[str, Any]] = None,
              musdb: Optional[PathLike] = None, subset: str = "test",
              names: Optional[Sequence[str]] = None, workers: int = 1,
              scheduler: Optional[str] = None, dask_local: bool = False, client=None,
              bss: bool = True, baselines: bool = True, keep_audio: bool = False,
              notebooks: bool = False, plots: bool = True, progress: bool = True,
              arguments: Optional[Mapping[str, Any]] = None) -> SweepResult:
    """Run the experiment for every track x setting and aggregate the results.

    **ORACLE**: every run of the method reads the true vocal.

    Parameters
    ----------
    tracks : path or glob, optional
        Prepared folders: a glob (``"data/demo/rtg/100-window/*"``), a ``prepare``
        output folder, or a MUSDB18 root (see :func:`conv2dsep_lib.data.open_dataset`).
    grid : dict or path, optional
        Parameter -> list of values, or a YAML file of them (:func:`read_grid`).
        Default: one setting (defaults + *fixed*).
    out : path
        The sweep folder (created).
    fixed : dict, optional
        One value per parameter for every setting (``--set KEY=VALUE``).
    musdb : path, optional
        A MUSDB18 root instead of *tracks*; *subset* ``"test"`` or ``"train"``.
    names : sequence of str, optional
        Only these track names.
    workers : int >= 1
        Local process pool size (``1``: run in this process); with *dask_local*
        the number of Dask worker processes.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``): run there.
    dask_local : bool
        Run on a fresh ``distributed.LocalCluster`` (*workers* processes, 1 thread each).
    client : distributed.Client, optional
        Run on this client (tests use an in-process cluster).
    bss : bool
        BSS Eval v4 (SDR/SIR/SAR) besides SI-SDR; the slow part.
    baselines : bool
        The baseline runs (once per track x excerpt).
    keep_audio : bool
        Also write each run's wavs and figures (``pipeline.write_outputs``).
    notebooks : bool
        Run the papermill notebook sequence (00..05) per track x setting instead of
        the library call; rows come from its ``results.json``.
    plots : bool
        Write the summary PNGs.
    progress : bool
        tqdm bar on stderr: done / failed / cached / remaining.
    arguments : dict, optional
        The command line, recorded in ``sweep.json``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ParameterError
        Before anything runs: bad grid, tracks, options.
    SweepInterrupted
        Ctrl-C; the table of the finished runs is written first.

    Examples
    --------
    >>> res = run_sweep("data/demo/rtg/100-window/*", {"n_slices": [1, 2]},
    ...                 fixed={"iterations": 20}, out="outputs/sweep_demo", bss=False)  # doctest: +SKIP
    >>> res.counts                                                                     # doctest: +SKIP
    {'runs': 9, 'ran': 9, 'cached': 0, 'failed': 0, 'remaining': 0}
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers={workers!r} is invalid: allowed an integer >= 1")
    backends = [n for n, on in (("scheduler", scheduler is not None), ("dask_local", dask_local),
                                ("client", client is not None)) if on]
    if len(backends) > 1:
        raise ParameterError(f"{' and '.join(backends)} were both given: allowed one way to reach Dask")
    local_pool = workers > 1 and not (scheduler is not None or dask_local or client is not None)
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if local_pool and main_file is not None and not os.path.isfile(main_file):
        raise ParameterError(f"workers={workers} needs worker processes, which cannot re-import a main "
                             f"script read from {main_file!r}: allowed workers=1, or run from a script "
                             "file, a notebook or the command line")
    plan = plan_sweep(tracks, grid, out=out, fixed=fixed, musdb=musdb, subset=subset, names=names,
                      bss=bss, baselines=baselines, keep_audio=keep_audio, notebooks=notebooks)
    out = plan["out"]
    started = _dt.datetime.now().isoformat(timespec="seconds")
    t_start = time.perf_counter()
    tasks = plan["tasks"]
    columns = _columns(plan)
    outcomes: Dict[str, Dict[str, Any]] = {}
    to_run = []
    for t in tasks:
        done = _finished(t)
        if done is not None:
            outcomes[t["id"]] = done
        else:
            to_run.append(t)
    with ExitStack() as stack:
        dask_client = None
        if to_run and (scheduler is not None or dask_local or client is not None):
            dask_client = stack.enter_context(_dask_client(    # connect before anything is written
                scheduler=scheduler, dask_local=dask_local, workers=workers, client=client))
        out.mkdir(parents=True, exist_ok=True)
        return _execute(plan, outcomes, to_run, dask_client=dask_client, workers=workers, out=out,
                        columns=columns, started=started, t_start=t_start, plots=plots,
                        progress=progress, arguments=arguments)


def _execute(plan, outcomes, to_run, *, dask_client, workers, out, columns, started, t_start, plots,
             progress, arguments) -> SweepResult:
    """Run *to_run*, record outcomes, refresh and finally write the table and the summary."""
    tasks = plan["tasks"]
    counts = {"runs": len(tasks), "ran": 0, "cached": len(tasks) - len(to_run), "failed": 0}
    failures: List[Dict[str, Any]] = []
    state: Dict[str, Any] = {"last_write": time.monotonic(), "other_code": {}}
    from .pipeline import atomic_write_json

    def count_dict():
        return {**counts, "remaining": counts["runs"] - counts["ran"] - counts["cached"] - counts["failed"]}

    def warnings():
        other = state["other_code"]
        if not other:
            return []
        return [f"{len(other)} run(s) ran with other conv2dsep code ({', '.join(sorted(set(other.values())))}) "
                f"than this sweep ({_code_label(plan['code'])}): the package was edited during the sweep, or "
                "the workers have another version; each result is keyed with the code that ran it, so a "
                "sweep with other code redoes it (e.g. " + ", ".join(sorted(other)[:3]) + ")"]

    def manifest(status, files, notes):
        m = _manifest(plan, count_dict(), failures, status=status, started=started,
                      seconds=time.perf_counter() - t_start, files=files, notes=notes, arguments=arguments)
        m["warnings"] = warnings()
        return m

    def save(status):
        rows = _assemble(plan, outcomes)
        write_table(rows, out / TABLE_NAME, columns=columns)
        atomic_write_json(out / MANIFEST_NAME, manifest(status, {"table": str(out / TABLE_NAME)}, []))
        return rows

    def finish(status, *, with_plots):
        rows = save(status)
        files, notes = write_summary(rows, out, plots=with_plots, manifest=manifest(status, {}, []))
        files = {"table": str(out / TABLE_NAME), **files, "manifest": str(out / MANIFEST_NAME)}
        atomic_write_json(out / MANIFEST_NAME, manifest(status, files, notes))
        return SweepResult(out=out, rows=rows, columns=columns, runs=counts["runs"], ran=counts["ran"],
                           cached=counts["cached"], failed=counts["failed"], interrupted=status != "complete",
                           failures=failures, warnings=warnings(), seconds=time.perf_counter() - t_start,
                           files=files, notes=notes)

    save("running")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), initial=counts["cached"], desc="sweep", unit="run", file=sys.stderr,
                   dynamic_ncols=True)
        bar.set_postfix(_postfix(count_dict()), refresh=True)
    task_by_id = {t["id"]: t for t in tasks}
    gen = None
    try:
        if to_run:
            gen = _iter_dask(to_run, dask_client) if dask_client is not None else _iter_local(to_run, workers)
            for o in gen:
                _record(o, outcomes, counts, failures, task_by_id, bar, state, save)
    except KeyboardInterrupt:
        if gen is not None:
            gen.close()                    # cancels what has not started, stops the workers
        if bar is not None:
            bar.close()
        raise SweepInterrupted(finish("interrupted", with_plots=False)) from None
    if bar is not None:
        bar.close()
    return finish("complete", with_plots=plots)


def _postfix(c: Mapping[str, int]) -> Dict[str, int]:
    return {"done": c["ran"], "failed": c["failed"], "cached": c["cached"], "remaining": c["remaining"]}


def _record(o, outcomes, counts, failures, task_by_id, bar, state, save) -> None:
    outcomes[o["id"]] = o
    if o["status"] == "failed":
        counts["failed"] += 1
        e = o["error"]
        failures.append({"run": o["id"], "type": e["type"], "message": e["message"],
                         "file": str(Path(task_by_id[o["id"]]["run_dir"]) / FAILED_NAME)})
        if bar is not None:
            bar.write(f"failed: {o['id']}: {e['type']}: {e['message']}", file=sys.stderr)
    else:
        counts["ran"] += 1
        if o.get("code_differs"):
            state["other_code"][o["id"]] = _code_label(o["code"])
    if bar is not None:
        bar.set_postfix(_postfix({**counts, "remaining": counts["runs"] - counts["ran"] - counts["cached"]
                                  - counts["failed"]}), refresh=False)
        bar.update(1)
    now = time.monotonic()
    if now - state["last_write"] >= REFRESH_SECONDS:
        save("running")
        state["last_write"] = now


# =========================================================================== notebook helper

#: The tiny sweep notebook 06 runs when its folder has no table yet.
DEMO_SWEEP = {"grid": {"n_slices": [1, 2]}, "fixed": {"num_iterations": 20}, "seeds": (0, 1)}


def ensure_sweep(sweep_dir: PathLike, *, demo_root: PathLike = "data/demo",
                 progress: bool = False) -> Path:
    """``sweep_dir/sweep.csv``; when missing, run a tiny sweep over the demo set into it.

    The tiny sweep (:data:`DEMO_SWEEP`): demo songs 0 and 1, ``n_slices`` 1 and 2,
    20 iterations, no BSS Eval, baselines on, in this process (about 10 s; the demo
    set is synthesised first if needed).

    Returns
    -------
    Path
        The table.
    """
    from . import data

    table = Path(sweep_dir) / TABLE_NAME
    if table.is_file():
        return table
    seeds = DEMO_SWEEP["seeds"]
    result = data.build_demo_set(demo_root, seeds=seeds)
    if result.skipped:
        raise ParameterError("the demo set could not be prepared: " + "; ".join(
            f"{r.name}: {r.reason}" for r in result.skipped))
    run_sweep(str(Path(demo_root) / "rtg" / "100-window" / "*"), DEMO_SWEEP["grid"], out=sweep_dir,
              fixed=DEMO_SWEEP["fixed"], names=[f"demo_song_{s}" for s in seeds], bss=False,
              progress=progress, arguments={"ensure_sweep": str(sweep_dir)})
    return table
