"""The functional API the command line, the notebooks and the sweep all call.

* :mod:`.experiment` -- :func:`run_experiment` (progressive, greedy, metrics, baselines)
  and :func:`build_record` (the typed ``results.json``)
* :mod:`.outputs` -- :func:`write_outputs`: the seed's output folder
* :mod:`.notebooks` -- :func:`run_notebooks`: the papermill runner
"""

from ..core.lazy import lazy_exports

#: Exported name -> the submodule it lives in (imported on first use).
_EXPORTS = {
    "Experiment": "experiment",
    "ScoredBaseline": "baselines",
    "SliceReport": "experiment",
    "build_record": "experiment",
    "compare_strategies": "experiment",
    "make_scorer": "experiment",
    "run_experiment": "experiment",
    "score_baselines": "baselines",
    "slice_report": "experiment",
    "NotebooksRun": "notebooks",
    "run_notebooks": "notebooks",
    "output_dir_name": "outputs",
    "write_outputs": "outputs",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
