"""Figures from records, tables and arrays (matplotlib ``Figure`` objects, no pyplot state).

* :mod:`.common` -- the ORACLE label, saving, spectrogram and kernel panels
* :mod:`.experiment` -- one run's figures (the five PNGs of every output folder)
* :mod:`.views` -- kernels, views, fingerprints, the slice explorer's picture
* :mod:`.signals` -- waveforms and spectrograms of signals
* :mod:`.optimisation` -- one slice step; the gain strategies compared
* :mod:`.sweep` -- a sweep's quality vs slices, greedy vs original, strategies
* :mod:`.targets` -- a multi-target run: one panel per target
"""

from ..core.lazy import lazy_exports

#: Exported name -> the submodule it lives in (imported on first use).
_EXPORTS = {
    "ORACLE": "common",
    "save_figure": "common",
    "plot_final_loss_comparison": "experiment",
    "plot_greedy_candidates": "experiment",
    "plot_loss_progression": "experiment",
    "plot_loss_vs_si_sdr": "experiment",
    "plot_results_summary": "experiment",
    "plot_separation_quality": "experiment",
    "plot_spectrogram_comparison": "experiment",
    "save_experiment_figures": "experiment",
    "target_word": "experiment",
    "plot_slice_step": "optimisation",
    "plot_strategy_comparison": "optimisation",
    "plot_signal_spectrograms": "signals",
    "plot_waveforms": "signals",
    "plot_sweep_greedy": "sweep",
    "plot_sweep_n_slices": "sweep",
    "plot_sweep_strategies": "sweep",
    "plot_targets_quality": "targets",
    "save_targets_figures": "targets",
    "plot_fingerprints_window": "views",
    "plot_kernels": "views",
    "plot_slice_window": "views",
    "plot_views": "views",
    "plot_views_pair": "views",
    "window_fingerprint_db": "views",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
