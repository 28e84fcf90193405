"""The functional API the command line, the notebooks and the sweep all call.

* :mod:`.experiment` -- :func:`run_experiment` (progressive, greedy, metrics, baselines)
  and :func:`build_record` (the typed ``results.json``)
* :mod:`.outputs` -- :func:`write_outputs`: the seed's output folder
* :mod:`.notebooks` -- :func:`run_notebooks`: the papermill runner
"""

from .baselines import ScoredBaseline, score_baselines
from .experiment import (
    Experiment,
    SliceReport,
    build_record,
    compare_strategies,
    make_scorer,
    run_experiment,
    slice_report,
)
from .notebooks import NotebooksRun, run_notebooks
from .outputs import output_dir_name, write_outputs

__all__ = [
    "Experiment",
    "ScoredBaseline",
    "SliceReport",
    "build_record",
    "compare_strategies",
    "make_scorer",
    "run_experiment",
    "score_baselines",
    "slice_report",
    "NotebooksRun",
    "run_notebooks",
    "output_dir_name",
    "write_outputs",
]
