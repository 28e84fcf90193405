"""Separation quality: SI-SDR, BSS Eval v4 (museval's own code), scoring files.

* :mod:`.scores` -- :class:`Scores`, the typed result (JSON round trip)
* :mod:`.metrics` -- :func:`si_sdr`, :func:`bss_eval_v4` (conventions written down)
* :mod:`.pair` -- :class:`PairScorer`, :func:`separation_metrics` (one vocal/mixture pair)
* :mod:`.files` -- :func:`evaluate_files` (``conv2dsep evaluate``)
"""

from .files import FileScores, evaluate_files, format_table
from .metrics import (
    BSS_KEYS,
    as_channels_first,
    as_samples_channels,
    bss_eval_v4,
    si_sdr,
    si_sdr_improvement,
)
from .pair import PairScorer, separation_metrics
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
    "PairScorer",
    "METRIC_NAMES",
    "Scores",
]
