"""The sweep driver: run every track x setting, keep the table current, write the report.

One clip answers little.  :func:`run_sweep` (``conv2dsep sweep``) plans the runs
(:mod:`.plan`), skips the finished ones (same cache key), runs the rest here, in a
process pool or on Dask (:mod:`.executors`), and aggregates everything into one tidy
table and a report (:mod:`.report`).

**ORACLE**: the fingerprint method reads the true isolated vocal.  Every row it
produces has ``oracle=True``; the summary, its plots and ``sweep.json`` say so.

Decisions
---------
* **Failures** are recorded in the run's ``failed.json`` and in ``sweep.json``; the
  sweep goes on; the command exits 1 naming each failure.  Runs that failed are tried
  again by the next sweep.
* **Interrupts**: Ctrl-C cancels what has not started, stops the workers, writes the
  table of finished runs and raises :class:`SweepInterrupted` (the CLI exits 130).
  ``sweep.csv`` is also refreshed while runs finish (at most every
  :data:`REFRESH_SECONDS`), so even a killed sweep leaves a consistent table.
* **Targets** (``targets``): every track x excerpt x setting runs once per target, each
  run a task of its own (a target's runs are cached, retried and scheduled like any run;
  one process reads an excerpt once for all its targets); the vocals runs are today's
  (same folders and keys), so adding a target to a finished vocals sweep reuses them.
* **Table**: ``sweep.csv`` covers exactly this sweep's tracks x settings (results of
  other grids in the same folder stay on disk but are not listed); its rows are in
  plan order (tracks, then settings, then methods), independent of which worker
  finished first, so a pool and a Dask sweep give identical tables (except the
  ``seconds`` column, wall time of the run).
* **Code version**: a worker whose code differs from the driver's keys its result
  with its own code version, and the sweep warns (``SweepResult.warnings``).
* **Order**: the runs start longest first, one excerpt at a time (:mod:`.schedule`);
  the progress bar's remaining time weighs each run by its estimated cost.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pandas as pd

from ..core.errors import ParameterError
from ..core.files import PathLike, exclusive_lock, write_json
from ..results.aggregate import summarise
from ..results.tables import HEAD, TAIL, typed, write_table
from .executors import dask_client, iter_dask, iter_local
from .plan import SweepPlan, Task, plan_sweep
from .report import MANIFEST_NAME, TABLE_NAME, Counts, RunFailure, SweepManifest, code_label, write_summary
from .schedule import SweepProgress, order_tasks, task_cost
from .tasks import FAILED_NAME, TaskOutcome, finished_outcome

__all__ = ["REFRESH_SECONDS", "SweepResult", "SweepInterrupted", "run_sweep", "assemble_table"]

#: The lock a running sweep holds in its folder (one sweep per folder at a time).
LOCK_NAME = ".sweep.lock"
#: ``sweep.csv`` is rewritten at most this often while runs finish (seconds).
REFRESH_SECONDS = 2.0
#: The progress bar: runs done of all, elapsed time, then :meth:`_Run.postfix` (remaining
#: time, runs per second, counts).
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    out : Path
        The sweep folder.
    table : DataFrame
        The tidy table (as in ``sweep.csv``).
    counts : Counts
        Runs in the plan (settings x tracks x targets, plus one baseline run per track x
        excerpt x target), and how many ran, were cached (finished before) or failed.
    interrupted : bool
    failures : tuple of RunFailure
    warnings : tuple of str
        E.g. runs that ran with other code than this process.
    seconds : float
    files : dict of str -> str
        What was written (table, summary, manifest, plots).
    notes : tuple of str
        Remarks of the summary (e.g. a plot skipped because nothing varied).
    summary : DataFrame or None
        The table's summary (as in ``sweep_summary.csv``:
        :func:`~conv2dsep_lib.results.aggregate.summarise`).
    """

    out: Path
    table: pd.DataFrame
    counts: Counts
    interrupted: bool = False
    failures: Sequence[RunFailure] = ()
    warnings: Sequence[str] = ()
    seconds: float = 0.0
    files: Mapping[str, str] = field(default_factory=dict)
    notes: Sequence[str] = ()
    summary: Optional[pd.DataFrame] = None

    @property
    def table_file(self) -> Path:
        return self.out / TABLE_NAME


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_sweep`; ``.result`` describes what had finished."""

    def __init__(self, result: SweepResult):
        super().__init__("sweep interrupted")
        self.result = result


def _columns(plan: SweepPlan) -> List[str]:
    return list(HEAD) + list(plan.parameters) + list(TAIL)


def assemble_table(plan: SweepPlan, outcomes: Mapping[str, TaskOutcome]) -> pd.DataFrame:
    """The tidy table in plan order from the outcomes finished so far.

    A setting's rows are its Conv2D rows followed by the rows of the baselines it shares
    (only where that setting's run finished, so medians compare the same tracks); with
    several targets, per target (its ``target`` column), each with its own baselines.
    """
    base_rows = {}
    for t in plan.tasks:
        o = outcomes.get(t.id)
        if t.kind == "baselines" and o is not None and not o.failed:
            base_rows[(t.track.name, t.target, t.setting)] = o.rows
    rows = []
    for t in plan.tasks:
        o = outcomes.get(t.id)
        if t.kind != "experiment" or o is None or o.failed:
            continue
        head = {"track": t.track.name, "excerpt": float(t.settings["offset"]), "setting": t.setting}
        head.update({p: t.settings.get(p, t.config.get(p)) for p in plan.parameters})
        for r in list(o.rows) + list(base_rows.get((t.track.name, t.target, t.baselines_run), ())):
            rows.append({**head, **r})
    return typed(rows, _columns(plan))


def run_sweep(
    tracks: Optional[PathLike] = None,
    grid: Union[None, PathLike, Mapping[str, Any]] = None,
    *,
    out: PathLike,
    fixed: Optional[Mapping[str, Any]] = None,
    musdb: Optional[PathLike] = None,
    subset: str = "test",
    names: Optional[Sequence[str]] = None,
    workers: int = 1,
    scheduler: Optional[str] = None,
    dask_local: bool = False,
    client: Any = None,
    bss: bool = True,
    baselines: bool = True,
    keep_audio: bool = False,
    notebooks: bool = False,
    plots: bool = True,
    progress: bool = True,
    arguments: Optional[Mapping[str, Any]] = None,
    yes: bool = False,
    excerpts: Any = None,
    targets: Any = None,
) -> SweepResult:
    """Run the experiment for every track x setting and aggregate the results.

    **ORACLE**: every run of the method reads the true vocal.

    Parameters
    ----------
    tracks : path or glob, optional
        Prepared folders: a glob (``"data/demo/rtg/100-window/*"``), a ``prepare``
        output folder, or a MUSDB18 root (see :func:`conv2dsep_lib.sources.datasets.open_dataset`).
    grid : dict or path, optional
        Parameter -> list of values, or a YAML file of them
        (:func:`conv2dsep_lib.sweep.grid.read_grid`).  Default: one setting.
    out : path
        The sweep folder (created).
    fixed : dict, optional
        One value per parameter for every setting (``--set KEY=VALUE``).
    musdb : path, optional
        A MUSDB18 root instead of *tracks*; *subset* ``"test"`` or ``"train"``.
    names : sequence of str, optional
        Only these track names.
    workers : int >= 1
        Local process pool size, one thread per worker (``1``: run in this process, each
        run on one thread per core, see :mod:`conv2dsep_lib.run.lanes`); with *dask_local*
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
        Also write each run's wavs and figures (:func:`conv2dsep_lib.run.outputs.write_outputs`).
    notebooks : bool
        Run the papermill notebook sequence (00..05) per track x setting instead of the
        library call; rows come from its ``results.json``.
    plots : bool
        Write the summary PNGs.
    progress : bool
        tqdm bar on stderr: runs finished of all, elapsed and remaining time (ETA), runs
        per second, done / failed / cached / remaining.
    arguments : dict, optional
        The command line, recorded in ``sweep.json``.
    yes : bool
        Allow more than :data:`~conv2dsep_lib.sweep.plan.MAX_RUNS` runs.
    excerpts : str or ExcerptSpec, optional
        Excerpts as repeats (``"0,30,60"``, ``"3"``, ``"all"``; see :mod:`.excerpts`):
        every setting runs on each excerpt of each track; the table's ``excerpt`` column
        holds the offset and the summary takes the median over a track's excerpts, then
        over tracks.  Default: one excerpt per setting at its ``offset``.
    targets : str or sequence of str, optional
        ``"vocals,drums"`` or a list (:func:`conv2dsep_lib.sources.stems.check_targets`):
        every track x excerpt x setting runs the method once per target against that
        target's own stem, with that target's baselines (once per excerpt and target); the
        table's ``target`` column says which, the summary and the plots have one block or
        panel per target.  A track without a stem for a target, or with it silent in an
        excerpt (wav files), is refused before anything runs.  Default ``("vocals",)``:
        today's sweep, unchanged.

    Returns
    -------
    SweepResult

    Raises
    ------
    ParameterError
        Before anything runs: bad grid, tracks, options, an unwritable *out*, a grid of
        more than ``MAX_RUNS`` runs without *yes*, another sweep running in *out*, bad
        *targets* or a track without (or with a silent) stem for one of them.
    SweepInterrupted
        Ctrl-C; the table of the finished runs is written first.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers={workers!r} is invalid: allowed an integer >= 1")
    backends = [
        n
        for n, on in (
            ("scheduler", scheduler is not None),
            ("dask_local", dask_local),
            ("client", client is not None),
        )
        if on
    ]
    if len(backends) > 1:
        raise ParameterError(f"{' and '.join(backends)} were both given: allowed one way to reach Dask")
    local_pool = workers > 1 and not backends
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if local_pool and main_file is not None and not os.path.isfile(main_file):
        raise ParameterError(
            f"workers={workers} needs worker processes, which cannot re-import a main "
            f"script read from {main_file!r}: allowed workers=1, or run from a script "
            "file, a notebook or the command line"
        )
    plan = plan_sweep(
        tracks,
        grid,
        out=out,
        fixed=fixed,
        musdb=musdb,
        subset=subset,
        names=names,
        bss=bss,
        baselines=baselines,
        keep_audio=keep_audio,
        notebooks=notebooks,
        yes=yes,
        excerpts=excerpts,
        targets=targets,
    )
    outcomes: Dict[str, TaskOutcome] = {}
    to_run: List[Task] = []
    for t in plan.tasks:
        done = finished_outcome(t)
        if done is not None:
            outcomes[t.id] = done
        else:
            to_run.append(t)
    to_run = order_tasks(to_run)  # the longest first (see .schedule); the table keeps plan order
    with ExitStack() as stack:
        stack.enter_context(exclusive_lock(plan.out / LOCK_NAME, what=f"the sweep folder {str(plan.out)!r}"))
        client_ = None
        if to_run and backends:
            client_ = stack.enter_context(
                dask_client(  # connect before anything is written
                    scheduler=scheduler, dask_local=dask_local, workers=workers, client=client
                )
            )
        plan.out.mkdir(parents=True, exist_ok=True)
        run = _Run(plan, outcomes, arguments=arguments, cached=len(plan.tasks) - len(to_run))
        return run.execute(to_run, client=client_, workers=workers, plots=plots, progress=progress)


class _Run:
    """The bookkeeping of one sweep execution: outcomes, counts, failures, refreshes."""

    def __init__(
        self,
        plan: SweepPlan,
        outcomes: Dict[str, TaskOutcome],
        *,
        arguments: Optional[Mapping[str, Any]],
        cached: int,
    ):
        self.plan, self.outcomes, self.arguments = plan, outcomes, arguments
        self.counts = Counts(runs=len(plan.tasks), cached=cached)
        self.failures: List[RunFailure] = []
        self.other_code: Dict[str, str] = {}
        self.started = _dt.datetime.now().isoformat(timespec="seconds")
        self.t_start = time.perf_counter()
        self.last_write = time.monotonic()
        self.progress: Optional[SweepProgress] = None

    def postfix(self) -> str:
        """The progress bar's text after the elapsed time: remaining time (cost-weighted, see
        :class:`~.schedule.SweepProgress`), runs per second, and the counts."""
        counts = ", ".join(f"{k}={v}" for k, v in _postfix(self.counts).items())
        return counts if self.progress is None else f"{self.progress.text()}, {counts}"

    def warnings(self) -> List[str]:
        other = self.other_code
        if not other:
            return []
        return [
            f"{len(other)} run(s) ran with other conv2dsep code ({', '.join(sorted(set(other.values())))}) "
            f"than this sweep ({code_label(self.plan.code)}): the package was edited during the sweep, or "
            "the workers have another version; each result is keyed with the code that ran it, so a "
            "sweep with other code redoes it (e.g. " + ", ".join(sorted(other)[:3]) + ")"
        ]

    def manifest(self, status: str, files: Mapping[str, str], notes: Sequence[str]) -> SweepManifest:
        return SweepManifest(
            plan=self.plan,
            status=status,
            counts=self.counts,
            started=self.started,
            seconds=time.perf_counter() - self.t_start,
            failures=tuple(self.failures),
            warnings=tuple(self.warnings()),
            files=files,
            notes=tuple(notes),
            arguments=self.arguments,
        )

    def save(self, status: str) -> pd.DataFrame:
        out = self.plan.out
        table = assemble_table(self.plan, self.outcomes)
        write_table(table, out / TABLE_NAME)
        write_json(out / MANIFEST_NAME, self.manifest(status, {"table": str(out / TABLE_NAME)}, []).to_json())
        return table

    def finish(self, status: str, *, plots: bool) -> SweepResult:
        out = self.plan.out
        table = self.save(status)
        summary = summarise(table)
        files, notes = write_summary(
            table, out, plots=plots, manifest=self.manifest(status, {}, []), summary=summary
        )
        files = {"table": str(out / TABLE_NAME), **files, "manifest": str(out / MANIFEST_NAME)}
        write_json(out / MANIFEST_NAME, self.manifest(status, files, notes).to_json())
        return SweepResult(
            out=out,
            table=table,
            counts=self.counts,
            interrupted=status != "complete",
            failures=tuple(self.failures),
            warnings=tuple(self.warnings()),
            seconds=time.perf_counter() - self.t_start,
            files=files,
            notes=tuple(notes),
            summary=summary,
        )

    def record(self, o: TaskOutcome, bar: Any) -> None:
        self.outcomes[o.id] = o
        if o.failed:
            self.counts = replace(self.counts, failed=self.counts.failed + 1)
            e = o.error
            assert e is not None
            self.failures.append(
                RunFailure(
                    run=o.id,
                    type=e.type,
                    message=e.message,
                    file=str(Path(self.plan.by_id[o.id].run_dir) / FAILED_NAME),
                )
            )
            if bar is not None:
                bar.write(f"failed: {o.id}: {e.describe()}", file=sys.stderr)
        else:
            self.counts = replace(self.counts, ran=self.counts.ran + 1)
            if o.code_differs:
                self.other_code[o.id] = code_label(o.code)
        if self.progress is not None:
            self.progress.done(o.id)
        if bar is not None:
            bar.set_postfix_str(self.postfix(), refresh=False)
            bar.update(1)
        now = time.monotonic()
        if now - self.last_write >= REFRESH_SECONDS:
            self.save("running")
            self.last_write = now

    def execute(
        self, to_run: List[Task], *, client: Any, workers: int, plots: bool, progress: bool
    ) -> SweepResult:
        """Run *to_run*, record outcomes, refresh and finally write the table and the summary."""
        self.save("running")
        self.progress = SweepProgress({t.id: task_cost(t) for t in to_run})
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=self.counts.runs,
                initial=self.counts.cached,
                desc="sweep",
                unit="run",
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format=BAR_FORMAT,
            )
            bar.set_postfix_str(self.postfix(), refresh=True)
        gen = None
        try:
            if to_run:
                gen = iter_dask(to_run, client) if client is not None else iter_local(to_run, workers)
                for o in gen:
                    self.record(o, bar)
        except KeyboardInterrupt:
            if gen is not None:
                gen.close()  # cancels what has not started, stops the workers
            if bar is not None:
                bar.close()
            raise SweepInterrupted(self.finish("interrupted", plots=False)) from None
        if bar is not None:
            bar.close()
        return self.finish("complete", plots=plots)


def _postfix(c: Counts) -> Dict[str, int]:
    return {"done": c.ran, "failed": c.failed, "cached": c.cached, "remaining": c.remaining}
