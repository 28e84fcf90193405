"""The numbered notebooks: the papermill runner and the helpers the notebooks share.

Runner (``conv2dsep notebooks``)
--------------------------------
:func:`run_notebooks` executes ``notebooks/NN_*.ipynb`` in order with papermill into
``DIR/notebooks/`` and passes ``out_dir=DIR``, so each notebook writes its artefacts
beside them::

    DIR/notebooks/00_data.ipynb ... 05_results.ipynb   executed copies (papermill
                                                       records the parameters in each)
    DIR/notebooks/run.json        parameters, git commit, kernel, per-notebook status
    DIR/00_data/                  input.json, waveforms.png, spectrograms.png
    DIR/01_fingerprinting/        kernels.png, views.png, fingerprints.png, slice_explorer.png
    DIR/02_strategy3/             slice_step.png, strategies.png, strategies.json, slice_result.wav,
                                  optimisation_explorer.png
    DIR/03_progressive/output_progressive_{N}slices/   the seed's layout, greedy=False
    DIR/04_greedy/output_progressive_{N}slices/        the seed's layout with greedy
    DIR/04_greedy/greedy_candidates.png
    DIR/05_results/               summary.json, results_summary.png, separation_quality.png,
                                  loss_vs_si_sdr.png, spectrograms.png

Decisions:

* **Parameters** go to the notebooks that declare them (``papermill.inspect_notebook``);
  a name no selected notebook declares is an error before anything runs, and so is a
  value whose type does not fit the declaration.  ``-p NAME VALUE`` values are parsed as
  papermill's ``-p`` does (``True``/``False``/``None``, int, float, else string; YAML's
  lower-case ``true``/``false``/``null`` too); ``-f params.yaml`` holds a mapping.
  Precedence: file < ``-p`` < the input flags.  ``interactive`` defaults to ``False``
  (static figures) and ``out_dir`` is always ``DIR``.
* **Paths**: the kernel runs in the project root (papermill ``cwd``; the notebooks also
  ``chdir`` there themselves, see :func:`use_project_root`, so JupyterLab -- whose
  kernels start in ``notebooks/`` -- behaves the same).  The runner makes the path
  parameters it is given (``data_dir``, ``mixture``, ``vocal``, ``results_from``)
  absolute against the caller's working folder first.
* **Failures**: a failing cell raises ``PapermillExecutionError``; the executed notebook
  (with the error marked) is kept, the failure is recorded with notebook, cell index,
  execution count and error, the next notebook still runs, and the command exits 1.
* **Kernel**: ``python3`` -- jupyter_core prefers the virtualenv's
  ``share/jupyter/kernels`` when running inside one, and jupyter_client replaces the
  spec's ``python`` by ``sys.executable``, so the kernel is the runner's interpreter;
  :func:`kernel_info` records what it resolved to.
* **Shared work**: 03 runs progressive, 04 progressive + greedy, 05 reuses 04's
  ``results.json`` (or ``results_from``, e.g. the folder ``conv2dsep best`` wrote) when
  it matches input, slices and settings, and otherwise runs the experiment itself
  (:func:`load_or_run`).  Every notebook also runs standalone.

Everything a result shows is an ORACLE result: the method reads the true vocal.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import ParameterError

__all__ = [
    "NOTEBOOK_PATTERN",
    "PATH_PARAMETERS",
    "project_root",
    "use_project_root",
    "input_kwargs",
    "offset_value",
    "prepared_folder",
    "prepare_rows",
    "input_manifest",
    "manifest_rows",
    "output_folder",
    "list_notebooks",
    "notebook_parameters",
    "parse_parameter_value",
    "read_parameters_file",
    "default_run_name",
    "kernel_info",
    "run_notebooks",
    "levels_rows",
    "progressive_rows",
    "greedy_rows",
    "comparison_rows",
    "summary_rows",
    "strategy_rows",
    "compare_strategies",
    "best_by_loss",
    "find_results",
    "load_or_run",
    "load_estimates",
]

PathLike = Union[str, os.PathLike]

#: Notebook files the runner picks up: two digits, underscore, name.
NOTEBOOK_PATTERN = re.compile(r"^(\d{2})_[A-Za-z0-9_\-]+\.ipynb$")
#: Parameters holding paths (made absolute against the caller's folder by the runner).
PATH_PARAMETERS = ("data_dir", "mixture", "vocal", "musdb", "results_from", "prepare_source",
                   "prepare_dest")
#: Parameters the runner sets itself.
RUNNER_PARAMETERS = ("out_dir",)


# ------------------------------------------------------------------ paths
def project_root() -> Path:
    """The project folder: the one holding ``conv2dsep_lib/`` (and ``notebooks/``).

    Falls back to the current folder when the package is installed elsewhere (not
    editable) and the current folder has a ``notebooks/`` folder.
    """
    here = Path(__file__).resolve().parent.parent
    if (here / "notebooks").is_dir() or (here / "pyproject.toml").is_file():
        return here
    return Path.cwd().resolve()


def use_project_root() -> Path:
    """``chdir`` to :func:`project_root` and return it.

    The notebooks call this first, so relative paths (parameters, the default input
    ``data/rtg/100-window/`` or the demo song, ``outputs/``) mean the same in
    JupyterLab (kernel started in ``notebooks/``), under papermill and on the command
    line run from the project root.
    """
    root = project_root()
    os.chdir(root)
    return root


def input_kwargs(*, data_dir: str = "", mixture: str = "", vocal: str = "", musdb: str = "",
                 track: str = "", subset: str = "test") -> Dict[str, Any]:
    """Notebook input parameters as keywords for :func:`conv2dsep_lib.inputs.load_input`.

    Empty strings (the parameters' defaults) become ``None`` (= the default input:
    ``data/rtg/100-window/`` if present, else the first demo song).
    """
    kw: Dict[str, Any] = {"data_dir": data_dir or None, "mixture": mixture or None,
                          "vocal": vocal or None}
    if musdb or track:
        kw.update(musdb=musdb or None, track=track or None, subset=subset or "test")
    return kw


def offset_value(text: Union[str, float]) -> Union[str, float]:
    """A prepare offset parameter: ``"auto"`` or a number of seconds (given as text or number)."""
    if isinstance(text, str) and text.strip() == "auto":
        return "auto"
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ParameterError(f"offset {text!r} is invalid: allowed a number of seconds >= 0 or 'auto'") from None


def prepared_folder(result) -> str:
    """The folder of the first pair a :func:`conv2dsep_lib.data.prepare` run prepared."""
    if not result.prepared:
        reasons = "; ".join(f"{r.name}: {r.reason}" for r in result.skipped) or "no pairs found"
        raise ParameterError(f"prepare produced no pair: {reasons}")
    return str(result.prepared[0].folder)


def prepare_rows(result) -> List[Dict[str, Any]]:
    """One row per pair of a :func:`conv2dsep_lib.data.prepare` result."""
    rows = []
    for r in result.pairs:
        man = r.manifest or {}
        rows.append({"pair": r.name, "status": r.status, "folder": str(r.folder or ""),
                     "offset (s)": (man.get("excerpt") or {}).get("offset"),
                     "lag (ms)": (man.get("lag") or {}).get("measured_ms"),
                     "vocal/instrumental (dB)": (man.get("levels") or {}).get("vocal_to_instrumental_db"),
                     "notes": r.reason or "; ".join(r.warnings)})
    return rows


def input_manifest(source: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The ``manifest.json`` that ``conv2dsep prepare`` wrote beside the input, if any."""
    import json

    mix = (source or {}).get("mixture")
    if not isinstance(mix, str):
        return None
    path = Path(mix).parent / "manifest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def manifest_rows(manifest: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """A prepared pair's manifest as (item, value) rows: sources, excerpt, lag, levels, warnings."""
    rows: List[Dict[str, Any]] = []
    for role, src in (manifest.get("sources") or {}).items():
        rows.append({"item": f"source {role}",
                     "value": f"{src.get('file')} ({src.get('samplerate')} Hz, {src.get('channels')} ch, "
                              f"sha256 {str(src.get('sha256'))[:12]}...)"})
    ex = manifest.get("excerpt") or {}
    rows.append({"item": "excerpt", "value": f"{ex.get('offset')} s + {ex.get('duration')} s ({ex.get('mode')})"})
    lag = manifest.get("lag") or {}
    rows.append({"item": "mixture-vocal lag",
                 "value": f"{lag.get('measured_ms')} ms{' (aligned)' if lag.get('aligned') else ''}"})
    rows.append({"item": "vocal / instrumental",
                 "value": f"{(manifest.get('levels') or {}).get('vocal_to_instrumental_db')} dB"})
    rows.append({"item": "warnings", "value": "; ".join(manifest.get("warnings") or []) or "none"})
    return rows


def output_folder(out_dir: PathLike, name: str) -> Path:
    """``out_dir/name``, created; a relative *out_dir* is taken from the project root."""
    base = Path(out_dir)
    if not base.is_absolute():
        base = project_root() / base
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ------------------------------------------------------------------ notebooks and parameters
def list_notebooks(notebooks_dir: Optional[PathLike] = None,
                   only: Optional[Iterable[str]] = None) -> List[Path]:
    """The numbered notebooks, in order, optionally only some.

    Parameters
    ----------
    notebooks_dir : path, optional
        Default ``<project root>/notebooks``.
    only : iterable of str, optional
        Numbers (``"03"``, ``"3"``), names with or without ``.ipynb``
        (``"03_progressive"``) or comma-separated lists of them.

    Raises
    ------
    ParameterError
        No such folder, no notebooks, or an *only* entry that matches none.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else project_root() / "notebooks"
    if not folder.is_dir():
        raise ParameterError(f"notebooks folder {str(folder)!r} does not exist")
    found = sorted(p for p in folder.iterdir() if NOTEBOOK_PATTERN.match(p.name))
    if not found:
        raise ParameterError(f"notebooks folder {str(folder)!r} holds no NN_name.ipynb notebooks")
    if not only:
        return found
    wanted = [w.strip() for item in only for w in str(item).split(",") if w.strip()]
    chosen = set()
    for w in wanted:
        stem = w[:-6] if w.endswith(".ipynb") else w
        hits = [p for p in found if p.stem == stem
                or (stem.isdigit() and int(NOTEBOOK_PATTERN.match(p.name).group(1)) == int(stem))]
        if not hits:
            raise ParameterError(f"--only {w!r} matches no notebook: allowed "
                                 + ", ".join(p.stem for p in found))
        chosen.update(hits)
    return [p for p in found if p in chosen]


def notebook_parameters(path: PathLike) -> Dict[str, Dict[str, Any]]:
    """The parameters a notebook declares: name -> ``{"type", "default", "help"}``.

    Read from the cell tagged ``parameters`` (``papermill.inspect_notebook``).
    """
    import papermill as pm

    params = pm.inspect_notebook(str(path))
    return {name: {"type": (p.get("inferred_type_name") or "").strip(),
                   "default": p.get("default"), "help": p.get("help", "")}
            for name, p in params.items()}


def parse_parameter_value(text: str) -> Any:
    """Parse a ``-p NAME VALUE`` value as papermill's command line does.

    ``True``/``False``/``None``, integers, floats, else the string; YAML's
    ``true``/``false``/``null`` are accepted as well.
    """
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    if text in ("None", "null", "~"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_parameters_file(path: PathLike) -> Dict[str, Any]:
    """Read ``-f params.yaml``: a YAML (or JSON) mapping of parameter names to values."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"parameters file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"parameters file {str(p)!r} is not valid YAML: "
                             f"{str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ParameterError(f"parameters file {str(p)!r} must hold a mapping NAME: VALUE")
    return data


_TYPE_CHECKS: Dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
}


def _split_parameters(parameters: Mapping[str, Any], declared: Mapping[Path, Dict[str, dict]]
                      ) -> Dict[Path, Dict[str, Any]]:
    """Each notebook's share of *parameters*; unknown names and wrong types are errors."""
    known: Dict[str, str] = {}
    for params in declared.values():
        for name, info in params.items():
            known.setdefault(name, info["type"])
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ParameterError(f"unknown notebook parameter(s) {', '.join(unknown)}: allowed "
                             + ", ".join(sorted(known)))
    parameters = dict(parameters)
    for name, value in parameters.items():
        if known[name] == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parameters[name] = value = str(value)  # e.g. -p prepare_offset 2.5
        check = _TYPE_CHECKS.get(known[name])
        if check is not None and not check(value):
            raise ParameterError(f"parameter {name}={value!r} is invalid: allowed a value of "
                                 f"type {known[name]}")
    return {nb: {k: v for k, v in parameters.items() if k in params}
            for nb, params in declared.items()}


def default_run_name(*, data_dir: Optional[PathLike] = None,
                     mixture: Optional[PathLike] = None) -> str:
    """``workbook`` for the default input, ``workbook_<folder or mixture stem>`` otherwise."""
    if data_dir:
        return "workbook_" + re.sub(r"[^A-Za-z0-9_.\-]+", "_", Path(data_dir).resolve().name)
    if mixture:
        return "workbook_" + re.sub(r"[^A-Za-z0-9_.\-]+", "_", Path(mixture).stem)
    return "workbook"


# ------------------------------------------------------------------ provenance
def _git_provenance() -> Dict[str, Any]:
    from .pipeline import git_output

    status = git_output("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": git_output("rev-parse", "HEAD"),
            "git_dirty": None if status is None else bool(status)}


def kernel_info(kernel_name: str = "python3") -> Dict[str, Any]:
    """Which kernel spec *kernel_name* resolves to and which interpreter it starts.

    jupyter_client replaces a spec's ``python`` / ``python3`` / ``python3.X`` by
    ``sys.executable``, so the default ``python3`` spec runs this interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ParameterError(f"Jupyter kernel {kernel_name!r} is not installed: allowed "
                             + ", ".join(sorted(KernelSpecManager().find_kernel_specs()))) from None
    argv0 = spec.argv[0] if spec.argv else ""
    generic = {"python", f"python{sys.version_info[0]}",
               f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    python = sys.executable if argv0 in generic else argv0
    return {"name": kernel_name, "resource_dir": spec.resource_dir, "argv": list(spec.argv),
            "python": python, "same_python": os.path.realpath(python) == os.path.realpath(sys.executable)}


# ------------------------------------------------------------------ runner
def _error_record(exc: BaseException) -> Dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        src = (exc.source or "").strip().splitlines()
        return {"cell_index": exc.cell_index, "execution_count": exc.exec_count,
                "ename": exc.ename, "evalue": exc.evalue,
                "cell_source": src[0] if src else ""}
    return {"cell_index": None, "execution_count": None, "ename": type(exc).__name__,
            "evalue": str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            "cell_source": ""}


def describe_failure(entry: Mapping[str, Any]) -> str:
    """One line naming the notebook, the cell and the error of a failed run entry."""
    e = entry.get("error") or {}
    where = (f"cell {e['cell_index']} (In [{e['execution_count']}]: {e.get('cell_source', '')!s})"
             if e.get("cell_index") is not None else "before any cell ran")
    return f"{entry['name']} failed in {where}: {e.get('ename')}: {e.get('evalue')}"


def run_notebooks(*, out_dir: PathLike, parameters: Optional[Mapping[str, Any]] = None,
                  notebooks_dir: Optional[PathLike] = None, only: Optional[Iterable[str]] = None,
                  kernel_name: str = "python3", log_output: bool = False,
                  progress_bar: bool = False, timeout: Optional[float] = None,
                  echo: Optional[Callable[[str], None]] = None,
                  arguments: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Execute the numbered notebooks in order with papermill.

    Parameters
    ----------
    out_dir : path
        The run folder ``DIR``: executed notebooks go to ``DIR/notebooks/``, the
        notebooks' artefacts beside (``out_dir`` parameter).
    parameters : dict, optional
        Notebook parameters (JSON types).  ``interactive`` defaults to ``False``.
    notebooks_dir : path, optional
        Default ``<project root>/notebooks``.
    only : iterable of str, optional
        See :func:`list_notebooks`.
    kernel_name : str
    log_output : bool
        Stream the cells' output (papermill ``log_output``).
    progress_bar : bool
    timeout : float, optional
        Seconds per cell.
    echo : callable, optional
        Called with one line per notebook as it finishes.
    arguments : dict, optional
        The command-line arguments, recorded as given.

    Returns
    -------
    dict
        The content of ``DIR/notebooks/run.json``: ``ok``, ``parameters``,
        ``git_commit``, ``kernel``, ``notebooks`` (per notebook ``name``, ``status``
        ``"ok"``/``"failed"``, ``seconds``, ``output``, ``parameters``, ``error``).

    Raises
    ------
    ParameterError
        Unknown parameter names, values of the wrong type, ``out_dir`` given as a
        parameter, bad *only*, a missing kernel -- before any notebook runs.
    """
    import papermill as pm

    from .pipeline import atomic_write_json

    parameters = dict(parameters or {})
    for name in RUNNER_PARAMETERS:
        if name in parameters:
            raise ParameterError(f"parameter {name!r} is set by the runner: use --out instead")
    notebooks = list_notebooks(notebooks_dir, only)
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"--out {str(out_dir)!r} exists and is not a folder")
    parameters.setdefault("interactive", False)
    for name in PATH_PARAMETERS:
        value = parameters.get(name)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            parameters[name] = str(Path(value).resolve())
    parameters["out_dir"] = str(out_dir)
    shares = _split_parameters(parameters, declared)
    kernel = kernel_info(kernel_name)

    # ipykernel 7 warns on every start that its local TCP sockets are unencrypted; keep
    # the terminal for failures (errors still show).
    quiet_kernel = ({"extra_arguments": ["--IPKernelApp.log_level=ERROR"]}
                    if any("ipykernel" in a for a in kernel["argv"]) and not log_output else {})
    nb_out = out_dir / "notebooks"
    nb_out.mkdir(parents=True, exist_ok=True)
    root = project_root()
    started = time.time()
    summary: Dict[str, Any] = {
        "oracle": True,
        "arguments": dict(arguments) if arguments is not None else None,
        "out_dir": str(out_dir),
        "notebooks_dir": str(notebooks[0].parent),
        "cwd": str(root),
        "parameters": parameters,
        **_git_provenance(),
        "kernel": kernel,
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
        "finished": None,
        "seconds": None,
        "ok": None,
        "notebooks": [],
    }
    run_json = nb_out / "run.json"
    for nb in notebooks:
        dest = nb_out / nb.name
        entry: Dict[str, Any] = {"name": nb.name, "status": "running", "seconds": None,
                                 "output": str(dest.relative_to(out_dir)),
                                 "parameters": shares[nb], "error": None}
        summary["notebooks"].append(entry)
        atomic_write_json(run_json, summary)
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(str(nb), str(dest), parameters=shares[nb], kernel_name=kernel_name,
                                cwd=str(root), log_output=log_output, progress_bar=progress_bar,
                                execution_timeout=timeout, **quiet_kernel)
        except Exception as exc:  # recorded, reported, and the run exits non-zero
            entry["status"] = "failed"
            entry["error"] = _error_record(exc)
        else:
            entry["status"] = "ok"
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        if echo is not None:
            echo(f"{nb.name}: ok ({entry['seconds']:.1f} s)" if entry["status"] == "ok"
                 else describe_failure(entry) + f" ({entry['seconds']:.1f} s)")
        atomic_write_json(run_json, summary)
    summary["ok"] = all(e["status"] == "ok" for e in summary["notebooks"])
    summary["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
    summary["seconds"] = round(time.time() - started, 2)
    atomic_write_json(run_json, summary)
    return summary


# ------------------------------------------------------------------ tables for the notebooks
def _m(metrics: Optional[Mapping[str, Any]], key: str) -> Optional[float]:
    v = (metrics or {}).get(key)
    return None if v is None else float(v)


def _metric_columns(metrics: Optional[Mapping[str, Any]]) -> Dict[str, Optional[float]]:
    return {"SI-SDR (dB)": _m(metrics, "si_sdr"), "SI-SDR-i (dB)": _m(metrics, "si_sdr_i"),
            "SDR (dB)": _m(metrics, "sdr"), "SIR (dB)": _m(metrics, "sir"),
            "SAR (dB)": _m(metrics, "sar")}


def levels_rows(signals: Mapping[str, np.ndarray], *, sr: int) -> List[Dict[str, Any]]:
    """Peak, RMS and crest factor of each signal (dBFS), for notebook 00."""
    rows = []
    for name, y in signals.items():
        y = np.asarray(y, dtype=np.float64)
        peak = float(np.max(np.abs(y))) if y.size else 0.0
        rms = float(np.sqrt(np.mean(y * y))) if y.size else 0.0
        db = lambda x: 20 * np.log10(max(x, 1e-12))  # noqa: E731
        rows.append({"signal": name, "seconds": y.size / sr, "peak (dBFS)": db(peak),
                     "RMS (dBFS)": db(rms), "crest (dB)": db(peak) - db(rms)})
    return rows


def progressive_rows(record: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Per k: slice added, fingerprint loss and the separation metrics (ORACLE)."""
    return [{"k": p["n_slices"], "slice added": p["sequence"][-1], "loss (dB²)": p["loss"],
             **_metric_columns(p.get("metrics"))} for p in record["progressive"]]


def greedy_rows(record: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Per position of the greedy order: the slice chosen, its step loss and score."""
    g = record["greedy"]
    best = g["best_prefix"]["n_slices"]
    return [{"position": i + 1, "slice chosen": name, "step loss (dB²)": loss,
             f"score ({g['score']})": score, "best prefix": (i + 1) == best}
            for i, (name, loss, score) in enumerate(zip(g["sequence"], g["losses"], g["scores"]))]


def comparison_rows(record: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Original order vs greedy order vs greedy best prefix: loss and metrics."""
    last = record["progressive"][-1]
    rows = [{"order": f"original 1..{last['n_slices']}", "slices": len(last["sequence"]),
             "loss (dB²)": last["loss"], **_metric_columns(last.get("metrics"))}]
    if "greedy" in record:
        g = record["greedy"]
        b = g["best_prefix"]
        rows.append({"order": "greedy (all)", "slices": len(g["sequence"]), "loss (dB²)": g["loss"],
                     **_metric_columns(g.get("metrics"))})
        rows.append({"order": "greedy best prefix", "slices": b["n_slices"], "loss (dB²)": b["loss"],
                     **_metric_columns(b.get("metrics"))})
    return rows


def summary_rows(record: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Every estimate of a results record: Conv2D (oracle) per k, greedy, baselines."""
    rows = [{"estimate": f"conv2d k={p['n_slices']}", "kind": "oracle (conv2d)",
             "loss (dB²)": p["loss"], **_metric_columns(p.get("metrics"))}
            for p in record["progressive"]]
    if "greedy" in record:
        g = record["greedy"]
        rows.append({"estimate": "conv2d greedy (all)", "kind": "oracle (conv2d)",
                     "loss (dB²)": g["loss"], **_metric_columns(g.get("metrics"))})
        rows.append({"estimate": f"conv2d greedy best {g['best_prefix']['n_slices']}",
                     "kind": "oracle (conv2d)", "loss (dB²)": g["best_prefix"]["loss"],
                     **_metric_columns(g["best_prefix"].get("metrics"))})
    for name, b in (record.get("baselines") or {}).items():
        rows.append({"estimate": name, "kind": b.get("kind"), "loss (dB²)": None,
                     **_metric_columns(b.get("metrics"))})
    return rows


def strategy_rows(records: Mapping[int, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The gain strategies on the same data: losses and the SI-SDR/SDR of their result."""
    from .strategies import STRATEGY_NAMES

    rows = []
    for s, rec in records.items():
        prog = rec["progressive"]
        si = [_m(p.get("metrics"), "si_sdr") for p in prog]
        finite = [(v, p["n_slices"]) for v, p in zip(si, prog) if v is not None]
        best = max(finite) if finite else (None, None)
        rows.append({"strategy": s, "name": STRATEGY_NAMES.get(s, ""),
                     "loss slice 1 (dB²)": prog[0]["loss"],
                     f"loss k={prog[-1]['n_slices']} (dB²)": prog[-1]["loss"],
                     **{f"{k} k={prog[-1]['n_slices']}": v
                        for k, v in _metric_columns(prog[-1].get("metrics")).items()
                        if k in ("SI-SDR (dB)", "SDR (dB)")},
                     "best SI-SDR (dB)": best[0], "at k": best[1]})
    return rows


def compare_strategies(pair, *, config, n_slices: int, strategies: Sequence[int] = (1, 2, 3, 4),
                       bss: bool = True) -> Dict[int, Dict[str, Any]]:
    """Progressive 1..N with every gain strategy on the same pair (notebook 02).

    SI-SDR is measured for every k; BSS Eval v4 (SDR/SIR/SAR, the slow part) only for
    the last k of each strategy, when *bss*.

    Returns
    -------
    dict of int -> dict
        Strategy -> :func:`conv2dsep_lib.pipeline.results_dict` record (ORACLE).
    """
    from .metrics import separation_metrics
    from .pipeline import results_dict, run_experiment

    records = {}
    for s in strategies:
        exp = run_experiment(pair, config=config.replace(strategy=s), n_slices=n_slices,
                             greedy=False, baselines=False, bss=False)
        if bss:
            key = f"k={exp.n_slices}"
            exp.metrics[key] = separation_metrics(pair.vocal, exp.estimates[key], pair.mixture,
                                                  sr=config.sr, bss=True)
        records[s] = results_dict(exp)
    return records


def best_by_loss(record: Mapping[str, Any]) -> Tuple[str, Mapping[str, Any]]:
    """The estimate with the lowest fingerprint loss (the method's own choice).

    Returns
    -------
    (key, entry)
        ``key`` as in :attr:`conv2dsep_lib.pipeline.Experiment.estimates` (``"k=3"``
        or ``"greedy_best"``) and its record entry (``loss``, ``metrics``, ``audio``).
    """
    cands = {f"k={p['n_slices']}": p for p in record["progressive"]}
    if "greedy" in record:
        cands["greedy_best"] = record["greedy"]["best_prefix"]
    key = min(cands, key=lambda k: cands[k]["loss"])
    return key, cands[key]


# ------------------------------------------------------------------ reuse of results
def _norm_source(src: Mapping[str, Any]) -> Dict[str, Any]:
    out = {}
    for k, v in (src or {}).items():
        if k in ("mixture", "vocal") and isinstance(v, str) and v:
            v = os.path.realpath(v)
        out[k] = v
    return out


def find_results(folders: Iterable[PathLike], *, n_slices: int, config, source: Mapping[str, Any],
                 bss: bool = True, greedy: bool = True) -> Optional[Path]:
    """The first ``results.json`` under *folders* that matches this run, or ``None``.

    A folder may be a run root (holding ``output_progressive_{N}slices/``), the output
    folder itself, or a ``results.json`` path.  It matches when slices, config, input
    (paths resolved, offset, duration) agree, it has the greedy part (if *greedy*),
    baselines, and SDR (if *bss*).
    """
    import json

    from .pipeline import output_dir_name, to_jsonable

    want_cfg = to_jsonable(config.to_dict())
    want_src = _norm_source(source)
    for f in folders:
        if not f:
            continue
        f = Path(f)
        for cand in (f / output_dir_name(n_slices) / "results.json", f / "results.json", f):
            if not (cand.is_file() and cand.name == "results.json"):
                continue
            try:
                rec = json.loads(cand.read_text())
            except (OSError, ValueError):
                continue
            ok = (rec.get("n_slices") == n_slices and rec.get("config") == want_cfg
                  and _norm_source(rec.get("input")) == want_src
                  and (not greedy or "greedy" in rec) and bool(rec.get("baselines"))
                  and (not bss or (rec["progressive"][-1].get("metrics") or {}).get("sdr") is not None))
            if ok:
                return cand
    return None


def load_or_run(pair, *, config, n_slices: int, out_root: PathLike, search: Iterable[PathLike] = (),
                bss: bool = True) -> Tuple[Dict[str, Any], Path, bool]:
    """Reuse a matching ``results.json`` (see :func:`find_results`) or run and write one.

    Parameters
    ----------
    pair : AudioPair
    config : Config
    n_slices : int
    out_root : path
        Where to write when nothing matches (``out_root/output_progressive_{N}slices``).
    search : iterable of path
        Folders to look in first.
    bss : bool

    Returns
    -------
    (record, folder, reused)
    """
    import json

    from .config import check_n_slices
    from .pipeline import run_experiment, write_outputs

    n_slices = check_n_slices(n_slices)
    found = find_results(search, n_slices=n_slices, config=config, source=pair.source, bss=bss)
    if found is not None:
        return json.loads(found.read_text()), found.parent, True
    exp = run_experiment(pair, config=config, n_slices=n_slices, greedy=True, baselines=True, bss=bss)
    folder = write_outputs(exp, out_root, arguments={"notebook": "05_results", "bss": bss})
    return json.loads((folder / "results.json").read_text()), folder, False


def load_estimates(record: Mapping[str, Any], folder: PathLike) -> Dict[str, np.ndarray]:
    """The extracted vocals a results record points to, keyed as ``Experiment.estimates``."""
    import soundfile as sf

    folder = Path(folder)
    paths = {f"k={p['n_slices']}": p.get("audio") for p in record["progressive"]}
    if "greedy" in record:
        paths["greedy"] = record["greedy"].get("audio")
        paths["greedy_best"] = record["greedy"]["best_prefix"].get("audio")
    out = {}
    for key, rel in paths.items():
        if rel and (folder / rel).is_file():
            y, _ = sf.read(str(folder / rel), dtype="float32", always_2d=False)
            out[key] = y if y.ndim == 1 else y.mean(axis=1)
    return out
