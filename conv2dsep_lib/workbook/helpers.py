"""What the notebooks share besides figures and players: inputs, folders, reuse of results.

* :func:`input_kwargs`, :func:`offset_value` -- notebook parameters -> library arguments
* :func:`output_folder` -- ``out_dir/<notebook>/`` (relative to the project root)
* :func:`prepared_folder`, :func:`input_manifest` -- the ``prepare`` step of notebook 00
* :func:`find_results`, :func:`load_or_run`, :func:`load_estimates` -- notebook 05 reuses
  the ``results.json`` of 04 (or of ``conv2dsep best``) when it matches
* :func:`ensure_demo_sweep` -- notebook 06's tiny demo sweep when no sweep exists yet

Several targets (``targets`` of 03 and 05): :mod:`conv2dsep_lib.workbook.targets`.

Everything a result shows is ORACLE: the method reads the true vocal.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

import numpy as np

from ..core.checks import check_offset
from ..core.config import Config, check_n_slices
from ..core.errors import ParameterError
from ..core.files import PathLike, to_jsonable
from ..core.paths import project_root
from ..results.record import RunRecord, read_record
from ..run.experiment import run_experiment
from ..run.outputs import output_dir_name, write_outputs
from ..sources.audio import AudioPair, read_audio
from ..sources.demo_set import build_demo_set
from ..sources.layout import DEFAULT_DEMO_ROOT, MANIFEST_NAME
from ..sources.prepare import PrepareResult
from ..sweep.driver import run_sweep
from ..sweep.report import TABLE_NAME

__all__ = [
    "input_kwargs",
    "offset_value",
    "prepared_folder",
    "input_manifest",
    "output_folder",
    "find_results",
    "load_or_run",
    "load_estimates",
    "DEMO_SWEEP",
    "ensure_demo_sweep",
]


def input_kwargs(
    *,
    data_dir: str = "",
    mixture: str = "",
    vocal: str = "",
    musdb: str = "",
    track: str = "",
    subset: str = "test",
) -> Dict[str, Any]:
    """Notebook input parameters as keywords for :func:`conv2dsep_lib.sources.inputs.load_input`.

    Empty strings (the parameters' defaults) become ``None`` (= the default input:
    ``data/rtg/100-window/`` if present, else the first demo song).
    """
    kw: Dict[str, Any] = {"data_dir": data_dir or None, "mixture": mixture or None, "vocal": vocal or None}
    if musdb or track:
        kw.update(musdb=musdb or None, track=track or None, subset=subset or "test")
    return kw


def offset_value(text: Union[str, float]) -> Union[str, float]:
    """A prepare offset parameter: ``"auto"`` or a number of seconds (given as text or number)."""
    return check_offset(text, allow_auto=True)


def prepared_folder(result: PrepareResult) -> str:
    """The folder of the first pair a :func:`conv2dsep_lib.sources.prepare.prepare` run prepared."""
    if not result.prepared:
        reasons = "; ".join(f"{r.name}: {r.reason}" for r in result.skipped) or "no pairs found"
        raise ParameterError(f"prepare produced no pair: {reasons}")
    return str(result.prepared[0].folder)


def input_manifest(source: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The ``manifest.json`` that ``conv2dsep prepare`` wrote beside the input, if any."""
    mix = (source or {}).get("mixture")
    if not isinstance(mix, str):
        return None
    try:
        return json.loads((Path(mix).parent / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None


def output_folder(out_dir: PathLike, name: str) -> Path:
    """``out_dir/name``, created; a relative *out_dir* is taken from the project root."""
    base = Path(out_dir)
    if not base.is_absolute():
        base = project_root() / base
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ------------------------------------------------------------------ reuse of results
def _norm_source(src: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """A record's input with its file paths resolved (mixture, vocal and the other stems)."""
    out = {}
    for k, v in (src or {}).items():
        if k in ("mixture", "vocal") and isinstance(v, str) and v:
            v = os.path.realpath(v)
        elif k == "stems" and isinstance(v, Mapping):
            v = {t: os.path.realpath(f) if isinstance(f, str) and f else f for t, f in v.items()}
        out[k] = v
    return out


def _matches(
    rec: RunRecord, *, n_slices: int, config: Config, source: Mapping[str, Any], bss: bool, greedy: bool
) -> bool:
    last = rec.progressive[-1].metrics
    return (
        rec.n_slices == n_slices
        and to_jsonable(rec.config.to_dict()) == to_jsonable(config.to_dict())
        and _norm_source(rec.input) == _norm_source(source)
        and (not greedy or rec.greedy is not None)
        and bool(rec.baselines)
        and (not bss or (last is not None and last.sdr is not None))
    )


def find_results(
    folders: Iterable[PathLike],
    *,
    n_slices: int,
    config: Config,
    source: Mapping[str, Any],
    bss: bool = True,
    greedy: bool = True,
) -> Optional[Path]:
    """The first ``results.json`` under *folders* that matches this run, or ``None``.

    A folder may be a run root (holding ``output_progressive_{N}slices/``), the output
    folder itself, or a ``results.json`` path.  It matches when slices, config, input
    (paths resolved, offset, duration) agree, it has the greedy part (if *greedy*),
    baselines, and SDR (if *bss*).
    """
    for f in folders:
        if not f:
            continue
        f = Path(f)
        for cand in (f / output_dir_name(n_slices) / "results.json", f / "results.json", f):
            if not (cand.is_file() and cand.name == "results.json"):
                continue
            try:
                rec = read_record(cand)
            except ParameterError:
                continue
            if _matches(rec, n_slices=n_slices, config=config, source=source, bss=bss, greedy=greedy):
                return cand
    return None


def load_or_run(
    pair: AudioPair,
    *,
    config: Config,
    n_slices: int,
    out_root: PathLike,
    search: Iterable[PathLike] = (),
    bss: bool = True,
) -> Tuple[RunRecord, Path, bool]:
    """Reuse a matching ``results.json`` (see :func:`find_results`) or run ``best`` and write one.

    Returns
    -------
    (record, folder, reused)
    """
    n_slices = check_n_slices(n_slices)
    found = find_results(search, n_slices=n_slices, config=config, source=pair.source, bss=bss)
    if found is not None:
        return read_record(found), found.parent, True
    exp = run_experiment(pair, config=config, n_slices=n_slices, greedy=True, baselines=True, bss=bss)
    folder = write_outputs(exp, out_root, arguments={"notebook": "05_results", "bss": bss})
    return read_record(folder), folder, False


def load_estimates(record: RunRecord, folder: PathLike) -> Dict[str, np.ndarray]:
    """The extracted vocals a record points to (mono), keyed as ``Experiment.estimates``."""
    folder = Path(folder)
    out = {}
    for e in record.estimates():
        if e.audio and (folder / e.audio).is_file():
            y, _ = read_audio(folder / e.audio)
            out[e.key] = y[0] if y.shape[0] == 1 else y.mean(axis=0)
    return out


# ------------------------------------------------------------------ notebook 06
#: The tiny sweep notebook 06 runs when its folder has no table yet.
DEMO_SWEEP = {"grid": {"n_slices": [1, 2]}, "fixed": {"num_iterations": 20}, "seeds": (0, 1)}


def ensure_demo_sweep(
    sweep_dir: PathLike, *, demo_root: PathLike = DEFAULT_DEMO_ROOT, progress: bool = False
) -> Path:
    """``sweep_dir/sweep.csv``; when missing, run a tiny sweep over the demo set into it.

    The tiny sweep (:data:`DEMO_SWEEP`): demo songs 0 and 1, ``n_slices`` 1 and 2,
    20 iterations, no BSS Eval, baselines on, in this process (about 10 s; the demo
    set is synthesised first if needed).
    """
    table = Path(sweep_dir) / TABLE_NAME
    if table.is_file():
        return table
    seeds = DEMO_SWEEP["seeds"]
    result = build_demo_set(demo_root, seeds=seeds)
    if result.skipped:
        raise ParameterError(
            "the demo set could not be prepared: "
            + "; ".join(f"{r.name}: {r.reason}" for r in result.skipped)
        )
    run_sweep(
        str(Path(demo_root) / "rtg" / "100-window" / "*"),
        DEMO_SWEEP["grid"],
        out=sweep_dir,
        fixed=DEMO_SWEEP["fixed"],
        names=[f"demo_song_{s}" for s in seeds],
        bss=False,
        progress=progress,
        arguments={"ensure_demo_sweep": str(sweep_dir)},
    )
    return table
