"""Separation quality: SI-SDR, BSS Eval v4 (museval's own code), scoring files.

* :mod:`.scores` -- :class:`Scores`, the typed result (JSON round trip)
* :mod:`.metrics` -- :func:`si_sdr`, :func:`bss_eval_v4`, :func:`separation_metrics`
* :mod:`.files` -- :func:`evaluate_files` (``conv2dsep evaluate``)
"""

from .files import FileScores, evaluate_files, format_table
from .metrics import (
    BSS_KEYS,
    as_channels_first,
    as_samples_channels,
    bss_eval_v4,
    separation_metrics,
    si_sdr,
    si_sdr_improvement,
)
from .scores import METRIC_NAMES, Scores

__all__ = [
    "FileScores",
    "evaluate_files",
    "format_table",
    "BSS_KEYS",
    "as_channels_first",
    "as_samples_channels",
    "bss_eval_v4",
    "separation_metrics",
    "si_sdr",
    "si_sdr_improvement",
    "METRIC_NAMES",
    "Scores",
]
