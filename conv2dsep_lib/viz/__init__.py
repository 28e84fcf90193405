"""Figures from records, tables and arrays (matplotlib ``Figure`` objects, no pyplot state).

* :mod:`.common` -- the ORACLE label, saving, spectrogram and kernel panels
* :mod:`.experiment` -- one run's figures (the five PNGs of every output folder)
* :mod:`.views` -- kernels, views, fingerprints, the slice explorer's picture
* :mod:`.signals` -- waveforms and spectrograms of signals
* :mod:`.optimisation` -- one slice step; the gain strategies compared
* :mod:`.sweep` -- a sweep's quality vs slices, greedy vs original, strategies
"""

from .common import ORACLE, save_figure
from .experiment import (
    plot_final_loss_comparison,
    plot_greedy_candidates,
    plot_loss_progression,
    plot_loss_vs_si_sdr,
    plot_results_summary,
    plot_separation_quality,
    plot_spectrogram_comparison,
    save_experiment_figures,
)
from .optimisation import plot_slice_step, plot_strategy_comparison
from .signals import plot_signal_spectrograms, plot_waveforms
from .sweep import plot_sweep_greedy, plot_sweep_n_slices, plot_sweep_strategies
from .views import plot_fingerprints_window, plot_kernels, plot_slice_window, plot_views, plot_views_pair

__all__ = [
    "ORACLE",
    "save_figure",
    "plot_final_loss_comparison",
    "plot_greedy_candidates",
    "plot_loss_progression",
    "plot_loss_vs_si_sdr",
    "plot_results_summary",
    "plot_separation_quality",
    "plot_spectrogram_comparison",
    "save_experiment_figures",
    "plot_slice_step",
    "plot_strategy_comparison",
    "plot_signal_spectrograms",
    "plot_waveforms",
    "plot_sweep_greedy",
    "plot_sweep_n_slices",
    "plot_sweep_strategies",
    "plot_fingerprints_window",
    "plot_kernels",
    "plot_slice_window",
    "plot_views",
    "plot_views_pair",
]
