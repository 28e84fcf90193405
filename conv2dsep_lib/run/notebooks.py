"""The papermill runner: execute the numbered notebooks headlessly (``conv2dsep notebooks``).

:func:`run_notebooks` executes ``notebooks/NN_*.ipynb`` in order with papermill into
``DIR/notebooks/`` and passes ``out_dir=DIR``, so each notebook writes its artefacts
beside them::

    DIR/notebooks/00_data.ipynb ... 05_results.ipynb   executed copies (papermill
                                                       records the parameters in each)
    DIR/notebooks/run.json        parameters, git commit, kernel, per-notebook status
    DIR/00_data/ ... DIR/05_results/                    each notebook's figures and files

Decisions:

* **Parameters** go to the notebooks that declare them (``papermill.inspect_notebook``);
  a name no selected notebook declares is an error before anything runs, and so is a
  value whose type does not fit the declaration.  ``-p NAME VALUE`` values are parsed as
  papermill's ``-p`` does (``True``/``False``/``None``, int, float, else string; YAML's
  lower-case ``true``/``false``/``null`` too); ``-f params.yaml`` holds a mapping.
  Precedence: file < ``-p`` < the input flags.  ``interactive`` defaults to ``False``
  (static figures) and ``out_dir`` is always ``DIR``.
* **Paths**: the kernel runs in the project root (papermill ``cwd``; the notebooks also
  ``chdir`` there themselves, see :func:`conv2dsep_lib.core.paths.use_project_root`), and
  the runner makes the path parameters it is given absolute against the caller's folder.
* **Failures**: a failing cell raises ``PapermillExecutionError``; the executed notebook
  (with the error marked) is kept, the failure is recorded with notebook, cell index,
  execution count and error, the next notebook still runs, and the command exits 1.
* **Kernel**: ``python3`` -- jupyter_core prefers the virtualenv's
  ``share/jupyter/kernels`` when running inside one, and jupyter_client replaces the
  spec's ``python`` by ``sys.executable``, so the kernel is the runner's interpreter;
  :func:`kernel_info` records what it resolved to.

Everything a result of 00..07 shows is an ORACLE result: the method reads the true vocal.
08 shows the learned model, which is BLIND (the mixture only), beside ORACLE references.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from ..core.checks import check_offset
from ..core.config import Config, check_n_slices
from ..core.errors import ErrorRecord, ParameterError
from ..core.files import PathLike, write_json
from ..core.paths import project_root
from ..core.provenance import git_output
from ..method.views import get_view
from ..sources.stems import check_targets

__all__ = [
    "NOTEBOOK_PATTERN",
    "PATH_PARAMETERS",
    "list_notebooks",
    "notebook_parameters",
    "parse_parameter_value",
    "read_parameters_file",
    "parse_seeds",
    "default_run_name",
    "kernel_info",
    "notebook_error",
    "NotebookOutcome",
    "NotebooksRun",
    "run_notebooks",
]

NOTEBOOK_PATTERN = re.compile(r"^(\d{2})_[A-Za-z0-9_\-]+\.ipynb$")
#: Parameters holding paths (made absolute against the caller's folder by the runner).
PATH_PARAMETERS = (
    "data_dir",
    "mixture",
    "vocal",
    "musdb",
    "results_from",
    "sweep_dir",
    "prepare_source",
    "prepare_dest",
    "model",
)
#: Parameters the runner sets itself.
RUNNER_PARAMETERS = ("out_dir",)


def list_notebooks(
    notebooks_dir: Optional[PathLike] = None, only: Optional[Iterable[str]] = None
) -> List[Path]:
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
    if not wanted:
        raise ParameterError(
            f"--only {','.join(map(str, only))!r} names no notebook: allowed "
            + ", ".join(p.stem for p in found)
        )
    chosen = set()
    for w in wanted:
        stem = w[:-6] if w.endswith(".ipynb") else w
        hits = [
            p
            for p in found
            if p.stem == stem
            or (stem.isdigit() and int(NOTEBOOK_PATTERN.match(p.name).group(1)) == int(stem))
        ]
        if not hits:
            raise ParameterError(
                f"--only {w!r} matches no notebook: allowed " + ", ".join(p.stem for p in found)
            )
        chosen.update(hits)
    return [p for p in found if p in chosen]


def notebook_parameters(path: PathLike) -> Dict[str, Dict[str, Any]]:
    """The parameters a notebook declares: name -> ``{"type", "default", "help"}``.

    Read from the cell tagged ``parameters`` (``papermill.inspect_notebook``).
    """
    import papermill as pm

    params = pm.inspect_notebook(str(path))
    return {
        name: {
            "type": (p.get("inferred_type_name") or "").strip(),
            "default": p.get("default"),
            "help": p.get("help", ""),
        }
        for name, p in params.items()
    }


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
        raise ParameterError(
            f"parameters file {str(p)!r} is not valid YAML: {str(exc).splitlines()[0]}"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ParameterError(f"parameters file {str(p)!r} must hold a mapping NAME: VALUE")
    return data


_TYPE_CHECKS: Dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
}


#: Notebook parameters that are config fields (notebook name -> field).
CONFIG_PARAMETERS = {
    "iterations": "num_iterations",
    "learning_rate": "learning_rate",
    "clip_db": "clip_db",
    "strategy": "strategy",
    "greedy_score": "greedy_score",
}


def check_parameter_values(parameters: Mapping[str, Any]) -> None:
    """Refuse values the notebooks could not use, before any notebook runs: the slice
    count, the config fields, the offset, the view, the window and the targets are checked
    as the library checks them (``-p n_slices 100`` fails here, not inside a cell)."""
    if "n_slices" in parameters:
        check_n_slices(parameters["n_slices"])
    fields = {field: parameters[name] for name, field in CONFIG_PARAMETERS.items() if name in parameters}
    if fields:
        Config().replace(**fields)
    if "offset" in parameters:
        check_offset(parameters["offset"])
    if "view" in parameters:
        get_view(parameters["view"])
    if "targets" in parameters:
        check_targets(parameters["targets"])
    for name in ("window",):
        value = parameters.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ParameterError(f"{name}={value!r} is invalid: allowed an integer >= 0")
    _check_learned_parameters(parameters)


def parse_seeds(text: Any, *, name: str = "heldout_seeds") -> Tuple[int, ...]:
    """Comma-separated seeds (``"0,1,2"``, or one integer) as a tuple of distinct integers >= 0.

    Raises
    ------
    ParameterError
        Empty, not integers, negative or repeated.
    """
    parts = [str(text)] if isinstance(text, int) and not isinstance(text, bool) else str(text).split(",")
    try:
        seeds = tuple(int(p.strip()) for p in parts if p.strip())
    except ValueError:
        seeds = ()
    if isinstance(text, bool) or not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ParameterError(
            f"{name}={text!r} is invalid: allowed distinct integers >= 0, comma-separated, e.g. 0,1,2"
        )
    return seeds


def _check_learned_parameters(parameters: Mapping[str, Any]) -> None:
    """Notebook 08's parameters: the model file, the held-out draws, the song's excerpt."""
    if "heldout_seeds" in parameters:
        parse_seeds(parameters["heldout_seeds"])
    n = parameters.get("heldout_n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ParameterError(f"heldout_n={n!r} is invalid: allowed an integer >= 1")
    if "song_offset" in parameters:
        check_offset(parameters["song_offset"], name="song_offset")
    seconds = parameters.get("song_seconds")
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0
    ):
        raise ParameterError(f"song_seconds={seconds!r} is invalid: allowed seconds > 0")
    model = parameters.get("model")
    if isinstance(model, str) and model and not Path(model).is_file():
        raise ParameterError(
            f"model {model!r} does not exist: allowed a model.pt written by `conv2dsep train` "
            "(empty: the shipped model)"
        )


def _split_parameters(
    parameters: Mapping[str, Any], declared: Mapping[Path, Dict[str, dict]], *, optional: Iterable[str] = ()
) -> Dict[Path, Dict[str, Any]]:
    """Each notebook's share of *parameters*; unknown names and wrong types are errors,
    except for the *optional* ones the runner sets itself (``out_dir``, the default
    ``interactive``), which go only to the notebooks that declare them."""
    known: Dict[str, str] = {}
    for params in declared.values():
        for name, info in params.items():
            known.setdefault(name, info["type"])
    parameters = {k: v for k, v in parameters.items() if k in known or k not in set(optional)}
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ParameterError(
            f"unknown notebook parameter(s) {', '.join(unknown)}: allowed " + ", ".join(sorted(known))
        )
    parameters = dict(parameters)
    for name, value in parameters.items():
        if known[name] == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parameters[name] = value = str(value)  # e.g. -p prepare_offset 2.5
        check = _TYPE_CHECKS.get(known[name])
        if check is not None and not check(value):
            raise ParameterError(
                f"parameter {name}={value!r} is invalid: allowed a value of type {known[name]}"
            )
    return {nb: {k: v for k, v in parameters.items() if k in params} for nb, params in declared.items()}


def default_run_name(*, data_dir: Optional[PathLike] = None, mixture: Optional[PathLike] = None) -> str:
    """``workbook`` for the default input, ``workbook_<folder or mixture stem>`` otherwise."""
    if data_dir:
        return "workbook_" + re.sub(r"[^A-Za-z0-9_.\-]+", "_", Path(data_dir).resolve().name)
    if mixture:
        return "workbook_" + re.sub(r"[^A-Za-z0-9_.\-]+", "_", Path(mixture).stem)
    return "workbook"


# ------------------------------------------------------------------ provenance
def kernel_info(kernel_name: str = "python3") -> Dict[str, Any]:
    """Which kernel spec *kernel_name* resolves to and which interpreter it starts.

    jupyter_client replaces a spec's ``python`` / ``python3`` / ``python3.X`` by
    ``sys.executable``, so the default ``python3`` spec runs this interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ParameterError(
            f"Jupyter kernel {kernel_name!r} is not installed: allowed "
            + ", ".join(sorted(KernelSpecManager().find_kernel_specs()))
        ) from None
    argv0 = spec.argv[0] if spec.argv else ""
    generic = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    python = sys.executable if argv0 in generic else argv0
    return {
        "name": kernel_name,
        "resource_dir": spec.resource_dir,
        "argv": list(spec.argv),
        "python": python,
        "same_python": os.path.realpath(python) == os.path.realpath(sys.executable),
    }


# ------------------------------------------------------------------ runner
def notebook_error(exc: BaseException) -> ErrorRecord:
    """The :class:`ErrorRecord` of a failed notebook: the cell, its ``In [n]`` and the error."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        src = (exc.source or "").strip().splitlines()
        return ErrorRecord(
            type=exc.ename,
            message=str(exc.evalue),
            user_error=exc.ename == "ParameterError",
            cell_index=exc.cell_index,
            execution_count=exc.exec_count,
            cell_source=src[0] if src else "",
        )
    return ErrorRecord.from_exception(exc, with_traceback=False)


@dataclass(frozen=True)
class NotebookOutcome:
    """One notebook of a run: ``status`` is ``"running"``, ``"ok"`` or ``"failed"``."""

    name: str
    status: str
    output: str
    parameters: Mapping[str, Any]
    seconds: Optional[float] = None
    error: Optional[ErrorRecord] = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe_failure(self) -> str:
        """One line naming the notebook, the cell and the error."""
        e = self.error or ErrorRecord(type="unknown", message="")
        where = (
            f"cell {e.cell_index} (In [{e.execution_count}]: {e.cell_source or ''!s})"
            if e.cell_index is not None
            else "before any cell ran"
        )
        return f"{self.name} failed in {where}: {e.describe()}"

    def to_json(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "seconds": self.seconds,
            "output": self.output,
            "parameters": dict(self.parameters),
            "error": None if self.error is None else self.error.to_json(),
        }


@dataclass(frozen=True)
class NotebooksRun:
    """What :func:`run_notebooks` did (the content of ``DIR/notebooks/run.json``)."""

    out_dir: Path
    notebooks_dir: Path
    cwd: Path
    parameters: Mapping[str, Any]
    kernel: Mapping[str, Any]
    started: str
    notebooks: Tuple[NotebookOutcome, ...] = ()
    arguments: Optional[Mapping[str, Any]] = None
    git_commit: Optional[str] = None
    git_dirty: Optional[bool] = None
    finished: Optional[str] = None
    seconds: Optional[float] = None

    @property
    def ok(self) -> Optional[bool]:
        """All notebooks ran (``None`` while running)."""
        return None if self.finished is None else all(n.ok for n in self.notebooks)

    @property
    def failed(self) -> List[NotebookOutcome]:
        return [n for n in self.notebooks if n.status == "failed"]

    def to_json(self) -> Dict[str, Any]:
        return {
            "oracle": True,
            "arguments": None if self.arguments is None else dict(self.arguments),
            "out_dir": str(self.out_dir),
            "notebooks_dir": str(self.notebooks_dir),
            "cwd": str(self.cwd),
            "parameters": dict(self.parameters),
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "kernel": dict(self.kernel),
            "started": self.started,
            "finished": self.finished,
            "seconds": self.seconds,
            "ok": self.ok,
            "notebooks": [n.to_json() for n in self.notebooks],
        }


def run_notebooks(
    *,
    out_dir: PathLike,
    parameters: Optional[Mapping[str, Any]] = None,
    notebooks_dir: Optional[PathLike] = None,
    only: Optional[Iterable[str]] = None,
    kernel_name: str = "python3",
    log_output: bool = False,
    progress_bar: bool = False,
    timeout: Optional[float] = None,
    echo: Optional[Callable[[str], None]] = None,
    arguments: Optional[Mapping[str, Any]] = None,
) -> NotebooksRun:
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
        A bar per notebook over its cells (papermill's, ``tqdm.auto``: text on stderr, a
        widget in Jupyter), named after the notebook.
    timeout : float, optional
        Seconds per cell.
    echo : callable, optional
        Called with one line per notebook as it finishes.
    arguments : dict, optional
        The command-line arguments, recorded as given.

    Returns
    -------
    NotebooksRun
        Also written to ``DIR/notebooks/run.json`` (after every notebook).

    Raises
    ------
    ParameterError
        Unknown parameter names, values of the wrong type, ``out_dir`` given as a
        parameter, bad *only*, a missing kernel -- before any notebook runs.
    """
    import papermill as pm

    parameters = dict(parameters or {})
    for name in RUNNER_PARAMETERS:
        if name in parameters:
            raise ParameterError(f"parameter {name!r} is set by the runner: use --out instead")
    notebooks = list_notebooks(notebooks_dir, only)
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"--out {str(out_dir)!r} exists and is not a folder")
    optional = list(RUNNER_PARAMETERS) + ([] if "interactive" in parameters else ["interactive"])
    parameters.setdefault("interactive", False)
    for name in PATH_PARAMETERS:
        value = parameters.get(name)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            parameters[name] = str(Path(value).resolve())
    parameters["out_dir"] = str(out_dir)
    shares = _split_parameters(parameters, declared, optional=optional)  # e.g. --only 06: no out_dir
    check_parameter_values(parameters)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1):
        raise ParameterError(f"timeout={timeout!r} is invalid: allowed whole seconds >= 1")
    kernel = kernel_info(kernel_name)

    # ipykernel 7 warns on every start that its local TCP sockets are unencrypted, and logs
    # "KeyboardInterrupt caught in kernel" at ERROR when jupyter_client interrupts it on shut
    # down; a failing cell or a dead kernel is reported by papermill, not by this log.
    quiet_kernel = (
        {"extra_arguments": ["--IPKernelApp.log_level=CRITICAL"]}
        if any("ipykernel" in a for a in kernel["argv"]) and not log_output
        else {}
    )
    nb_out = out_dir / "notebooks"
    nb_out.mkdir(parents=True, exist_ok=True)
    root = project_root()
    started = time.time()
    status = git_output("status", "--porcelain", "--untracked-files=no")
    run = NotebooksRun(
        out_dir=out_dir,
        notebooks_dir=notebooks[0].parent,
        cwd=root,
        parameters=parameters,
        kernel=kernel,
        started=_dt.datetime.now().isoformat(timespec="seconds"),
        arguments=dict(arguments) if arguments is not None else None,
        git_commit=git_output("rev-parse", "HEAD"),
        git_dirty=None if status is None else bool(status),
    )
    run_json = nb_out / "run.json"
    done: List[NotebookOutcome] = []
    for nb in notebooks:
        dest = nb_out / nb.name
        entry = NotebookOutcome(
            name=nb.name, status="running", output=str(dest.relative_to(out_dir)), parameters=shares[nb]
        )
        write_json(run_json, replace(run, notebooks=tuple(done + [entry])).to_json())
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(nb),
                str(dest),
                parameters=shares[nb],
                kernel_name=kernel_name,
                cwd=str(root),
                log_output=log_output,
                progress_bar={"desc": nb.stem, "leave": False} if progress_bar else False,
                execution_timeout=timeout,
                **quiet_kernel,
            )
        except Exception as exc:  # recorded, reported, and the run exits non-zero
            entry = replace(entry, status="failed", error=notebook_error(exc))
        else:
            entry = replace(entry, status="ok")
        entry = replace(entry, seconds=round(time.perf_counter() - t0, 2))
        done.append(entry)
        if echo is not None:
            echo(
                f"{nb.name}: ok ({entry.seconds:.1f} s)"
                if entry.ok
                else entry.describe_failure() + f" ({entry.seconds:.1f} s)"
            )
        write_json(run_json, replace(run, notebooks=tuple(done)).to_json())
    run = replace(
        run,
        notebooks=tuple(done),
        finished=_dt.datetime.now().isoformat(timespec="seconds"),
        seconds=round(time.time() - started, 2),
    )
    write_json(run_json, run.to_json())
    return run
