"""Sweeps: the experiment over many tracks x many settings, on every core or a Dask cluster.

* :mod:`.grid` -- read, validate and expand a grid of settings; name each setting
* :mod:`.plan` -- tracks, tasks and cache keys (nothing runs)
* :mod:`.tasks` -- :func:`run_one`, the task function; what a run leaves on disk
* :mod:`.executors` -- this process, a local process pool, or Dask
* :mod:`.report` -- manifest, summary CSV and markdown, plots
* :mod:`.driver` -- :func:`run_sweep`: all of the above, resumable
"""

from .driver import SweepInterrupted, SweepResult, assemble_table, run_sweep
from .grid import expand_grid, parse_set, read_grid, setting_key
from .plan import SweepPlan, Task, code_version, plan_sweep
from .report import failure_rows, write_summary
from .tasks import TaskOutcome, finished_outcome, run_one

__all__ = [
    "SweepInterrupted",
    "SweepResult",
    "assemble_table",
    "run_sweep",
    "expand_grid",
    "parse_set",
    "read_grid",
    "setting_key",
    "SweepPlan",
    "Task",
    "code_version",
    "plan_sweep",
    "failure_rows",
    "write_summary",
    "TaskOutcome",
    "finished_outcome",
    "run_one",
]
