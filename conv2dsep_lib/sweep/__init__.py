"""Sweeps: the experiment over many tracks x many settings, on every core or a Dask cluster.

* :mod:`.grid` -- read, validate and expand a grid of settings; name each setting
* :mod:`.plan` -- tracks, tasks and cache keys (nothing runs)
* :mod:`.tasks` -- :func:`run_one`, the task function; what a run leaves on disk
* :mod:`.schedule` -- the order runs start in (longest first), their cost, the ETA
* :mod:`.executors` -- this process, a local process pool, or Dask
* :mod:`.report` -- manifest, summary CSV and markdown, plots
* :mod:`.driver` -- :func:`run_sweep`: all of the above, resumable
"""

from ..core.lazy import lazy_exports

#: Exported name -> the submodule it lives in (imported on first use).
_EXPORTS = {
    "SweepInterrupted": "driver",
    "SweepResult": "driver",
    "assemble_table": "driver",
    "run_sweep": "driver",
    "expand_grid": "grid",
    "parse_set": "grid",
    "read_grid": "grid",
    "setting_key": "grid",
    "SweepPlan": "plan",
    "Task": "plan",
    "code_version": "plan",
    "plan_sweep": "plan",
    "failure_rows": "report",
    "write_summary": "report",
    "TaskOutcome": "tasks",
    "finished_outcome": "tasks",
    "run_one": "tasks",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
