"""The workbook: what the notebooks call to show, play and explore (Jupyter helpers).

* :mod:`.display` -- figures as PNG outputs, tables as HTML, the ORACLE banner, live or
  static (a front end or papermill), the static copy shown beside every live widget
* :mod:`.players` -- static players and the A/B player (one timeline, loudness-matched)
* :mod:`.explorers` -- the slice and optimisation explorers (sliders)
* :mod:`.results_explorer` -- notebook 05's extractions: spectrograms and A/B player
* :mod:`.tables` -- the notebooks' tables (DataFrames) from typed records
* :mod:`.helpers` -- inputs, output folders, reuse of results, notebook 06's demo sweep
* :mod:`.targets` -- several targets in 03 and 05: per-target and joint tables, the
  all-stems player's sources, reuse of a multi-target run
* :mod:`.learned` -- notebook 08, the learned model (BLIND): its record, kernels, the
  held-out table, the listening song's sources (torch imported only when a model is loaded)

IPython and ipywidgets are imported inside the functions that need them, so the
package imports without Jupyter.  Notebooks use ``from conv2dsep_lib import workbook as W``.
"""

from .display import figure_png, frontend_interactive, oracle_banner, show_figure, show_table
from .explorers import optimisation_explorer, slice_explorer
from .helpers import (
    ensure_demo_sweep,
    find_results,
    input_kwargs,
    input_manifest,
    load_estimates,
    load_or_run,
    offset_value,
    output_folder,
    prepared_folder,
)
from .learned import (
    BLIND_NOTE,
    blind_banner,
    heldout_seeds,
    heldout_table,
    kernel_arrays,
    kernel_table,
    model_summary,
    notebook_model,
    separation_magnitudes,
    show_saved_figure,
    song_sources,
    training_history,
    write_heldout,
)
from .players import ab_player, players
from .results_explorer import results_explorer
from .tables import (
    comparison_table,
    convergence_table,
    eq_size_table,
    greedy_table,
    levels_table,
    manifest_table,
    prepare_table,
    progressive_table,
    strategy_table,
    summary_table,
)
from .targets import (
    find_targets_results,
    joint_notes,
    joint_table,
    load_or_run_targets,
    notebook_targets,
    oracle_label,
    run_sources,
    stem_sources,
    target_pair,
    targets_table,
)

__all__ = [
    "figure_png",
    "frontend_interactive",
    "oracle_banner",
    "show_figure",
    "show_table",
    "optimisation_explorer",
    "results_explorer",
    "slice_explorer",
    "ensure_demo_sweep",
    "find_results",
    "input_kwargs",
    "input_manifest",
    "load_estimates",
    "load_or_run",
    "offset_value",
    "output_folder",
    "prepared_folder",
    "BLIND_NOTE",
    "blind_banner",
    "heldout_seeds",
    "heldout_table",
    "kernel_arrays",
    "kernel_table",
    "model_summary",
    "notebook_model",
    "separation_magnitudes",
    "show_saved_figure",
    "song_sources",
    "training_history",
    "write_heldout",
    "ab_player",
    "players",
    "comparison_table",
    "convergence_table",
    "eq_size_table",
    "greedy_table",
    "levels_table",
    "manifest_table",
    "prepare_table",
    "progressive_table",
    "strategy_table",
    "summary_table",
    "find_targets_results",
    "joint_notes",
    "joint_table",
    "load_or_run_targets",
    "notebook_targets",
    "oracle_label",
    "run_sources",
    "stem_sources",
    "target_pair",
    "targets_table",
]
