"""The tables the notebooks show (pandas DataFrames with readable column names).

Each is built from the typed record (:class:`~conv2dsep_lib.results.record.RunRecord`)
or a prepare result; nothing here computes a result.  Every Conv2D number is ORACLE.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

import numpy as np
import pandas as pd

from ..method.strategies import STRATEGY_NAMES
from ..results.record import RunRecord
from ..scoring.scores import Scores
from ..sources.prepare import PrepareResult

__all__ = [
    "metric_columns",
    "prepare_table",
    "manifest_table",
    "levels_table",
    "progressive_table",
    "greedy_table",
    "comparison_table",
    "summary_table",
    "strategy_table",
    "eq_size_table",
    "convergence_table",
]

#: Display name -> metric of :class:`~conv2dsep_lib.scoring.scores.Scores`.
_METRIC_LABELS = {
    "SI-SDR (dB)": "si_sdr",
    "SI-SDR-i (dB)": "si_sdr_i",
    "SDR (dB)": "sdr",
    "SIR (dB)": "sir",
    "SAR (dB)": "sar",
}
_LOSS = "step loss (dB², in view k)"
#: The common yardstick's columns (the same views for every estimate).
_YS_MEAN = "yardstick, mean of 19 views (dB²)"
_YS_RAW = "yardstick, raw view (dB²)"


def _yardstick_columns(y: Any) -> Dict[str, Optional[float]]:
    """The yardstick's two columns (``None`` for a record written before it existed)."""
    return {_YS_MEAN: None if y is None else y.mean_19, _YS_RAW: None if y is None else y.raw}


def metric_columns(metrics: Optional[Scores]) -> Dict[str, Optional[float]]:
    """A score's metrics under their display names (``None`` where not computed)."""
    return {label: (None if metrics is None else metrics.value(m)) for label, m in _METRIC_LABELS.items()}


def prepare_table(result: PrepareResult) -> pd.DataFrame:
    """One row per pair of a :func:`conv2dsep_lib.sources.prepare.prepare` result."""
    rows = []
    for r in result.pairs:
        man = r.manifest or {}
        rows.append(
            {
                "pair": r.name,
                "status": r.status,
                "folder": str(r.folder or ""),
                "offset (s)": (man.get("excerpt") or {}).get("offset"),
                "lag (ms)": (man.get("lag") or {}).get("measured_ms"),
                "vocal/instrumental (dB)": (man.get("levels") or {}).get("vocal_to_instrumental_db"),
                "notes": r.reason or "; ".join(r.warnings),
            }
        )
    return pd.DataFrame(rows)


def manifest_table(manifest: Mapping[str, Any]) -> pd.DataFrame:
    """A prepared pair's ``manifest.json`` as (item, value) rows: sources, excerpt, lag, levels."""
    rows = []
    for role, src in (manifest.get("sources") or {}).items():
        rows.append(
            {
                "item": f"source {role}",
                "value": f"{src.get('file')} ({src.get('samplerate')} Hz, {src.get('channels')} ch, "
                f"sha256 {str(src.get('sha256'))[:12]}...)",
            }
        )
    ex = manifest.get("excerpt") or {}
    rows.append(
        {"item": "excerpt", "value": f"{ex.get('offset')} s + {ex.get('duration')} s ({ex.get('mode')})"}
    )
    lag = manifest.get("lag") or {}
    rows.append(
        {
            "item": "mixture-vocal lag",
            "value": f"{lag.get('measured_ms')} ms{' (aligned)' if lag.get('aligned') else ''}",
        }
    )
    rows.append(
        {
            "item": "vocal / instrumental",
            "value": f"{(manifest.get('levels') or {}).get('vocal_to_instrumental_db')} dB",
        }
    )
    rows.append({"item": "warnings", "value": "; ".join(manifest.get("warnings") or []) or "none"})
    return pd.DataFrame(rows)


def levels_table(signals: Mapping[str, np.ndarray], *, sr: int) -> pd.DataFrame:
    """Peak, RMS and crest factor of each signal (dBFS), for notebook 00."""

    def db(x: float) -> float:
        return float(20 * np.log10(max(x, 1e-12)))

    rows = []
    for name, y in signals.items():
        y = np.asarray(y, dtype=np.float64)
        peak = float(np.max(np.abs(y))) if y.size else 0.0
        rms = float(np.sqrt(np.mean(y * y))) if y.size else 0.0
        rows.append(
            {
                "signal": name,
                "seconds": y.size / sr,
                "peak (dBFS)": db(peak),
                "RMS (dBFS)": db(rms),
                "crest (dB)": db(peak) - db(rms),
            }
        )
    return pd.DataFrame(rows)


def progressive_table(record: RunRecord) -> pd.DataFrame:
    """Per k: slice added, fingerprint loss and the separation metrics (ORACLE)."""
    return pd.DataFrame(
        [
            {
                "k": p.n_slices,
                "slice added": p.sequence[-1],
                **_yardstick_columns(p.yardstick),
                _LOSS: p.loss,
                **metric_columns(p.metrics),
            }
            for p in record.progressive
        ]
    )


def greedy_table(record: RunRecord) -> pd.DataFrame:
    """Per position of the greedy order: the slice chosen, its step loss and score."""
    g = record.greedy
    if g is None:
        return pd.DataFrame()
    best = g.best_prefix.n_slices
    ys = list(g.yardsticks) or [None] * len(g.sequence)
    return pd.DataFrame(
        [
            {
                "position": i + 1,
                "slice chosen": name,
                "step loss (dB², in its view)": loss,
                f"score ({g.score})": score,
                **_yardstick_columns(y),
                "best prefix": (i + 1) == best,
            }
            for i, (name, loss, score, y) in enumerate(zip(g.sequence, g.losses, g.scores, ys))
        ]
    )


def comparison_table(record: RunRecord) -> pd.DataFrame:
    """Original order vs greedy order vs greedy best prefix: loss and metrics."""
    labels = {"greedy": "greedy (all)", "greedy_best": "greedy best prefix"}
    last = record.estimates()[len(record.progressive) - 1]
    rows = [
        {
            "order": f"original 1..{last.k}",
            "slices": last.k,
            **_yardstick_columns(last.yardstick),
            _LOSS: last.loss,
            **metric_columns(last.metrics),
        }
    ]
    rows += [
        {
            "order": labels[e.method],
            "slices": e.k,
            **_yardstick_columns(e.yardstick),
            _LOSS: e.loss,
            **metric_columns(e.metrics),
        }
        for e in record.estimates()
        if e.method != "progressive"
    ]
    return pd.DataFrame(rows)


def summary_table(record: RunRecord) -> pd.DataFrame:
    """Every estimate of a record: Conv2D (oracle) per k, greedy, and the baselines by kind."""
    names = {
        "progressive": lambda e: f"conv2d k={e.k}",
        "greedy": lambda e: "conv2d greedy (all)",
        "greedy_best": lambda e: f"conv2d greedy best {e.k}",
    }
    rows = [
        {
            "estimate": names[e.method](e),
            "kind": "oracle (conv2d)",
            **_yardstick_columns(e.yardstick),
            _LOSS: e.loss,
            **metric_columns(e.metrics),
        }
        for e in record.estimates()
    ]
    rows += [
        {
            "estimate": name,
            "kind": b.kind,
            **_yardstick_columns(None),
            _LOSS: None,
            **metric_columns(b.metrics),
        }
        for name, b in record.baselines.items()
    ]
    return pd.DataFrame(rows)


def strategy_table(records: Mapping[int, RunRecord]) -> pd.DataFrame:
    """The gain strategies on the same data: losses and the SI-SDR/SDR of their result."""
    rows = []
    for s, rec in records.items():
        prog = rec.progressive
        last = prog[-1]
        finite = [
            (p.metrics.si_sdr, p.n_slices)
            for p in prog
            if p.metrics is not None and np.isfinite(p.metrics.si_sdr)
        ]
        best = max(finite) if finite else (None, None)
        cols = metric_columns(last.metrics)
        rows.append(
            {
                "strategy": s,
                "name": STRATEGY_NAMES.get(s, ""),
                "loss slice 1 (dB²)": prog[0].loss,
                f"loss k={last.n_slices} (dB²)": last.loss,
                f"SI-SDR (dB) k={last.n_slices}": cols["SI-SDR (dB)"],
                f"SDR (dB) k={last.n_slices}": cols["SDR (dB)"],
                "best SI-SDR (dB)": best[0],
                "at k": best[1],
            }
        )
    return pd.DataFrame(rows)


def eq_size_table(reports: Mapping[int, Any]) -> pd.DataFrame:
    """How far each strategy's EQ moved, for one slice from the mixture (notebook 02).

    Parameters
    ----------
    reports : dict of int -> SliceReport
        Strategy -> :func:`conv2dsep_lib.run.experiment.slice_report` of the same slice.

    Returns
    -------
    DataFrame
        Per strategy: the largest and the median ``|e|`` (dB), the share of the
        fingerprint's points moved by more than 1 dB, the step loss before (``e = 0``)
        and after, and the SI-SDR of the result.
    """
    rows = []
    for s, rep in reports.items():
        e = np.abs(np.asarray(rep.step.eq_db, dtype=np.float64))
        r0 = np.asarray(rep.m, dtype=np.float64) - np.asarray(rep.v, dtype=np.float64)
        rows.append(
            {
                "strategy": s,
                "name": STRATEGY_NAMES.get(s, ""),
                "largest |EQ| (dB)": float(e.max()),
                "median |EQ| (dB)": float(np.median(e)),
                "points moved > 1 dB (%)": 100.0 * float(np.mean(e > 1.0)),
                "loss before (dB²)": float(np.mean(r0 * r0)),
                "loss after (dB²)": float(rep.loss),
                "SI-SDR (dB)": rep.metrics.si_sdr if rep.metrics is not None else None,
            }
        )
    return pd.DataFrame(rows)


def convergence_table(grid: Any) -> pd.DataFrame:
    """SI-SDR of one slice per iterations (rows) x learning rate (columns), each cell
    ``"9.4 dB (87 %)"``: the SI-SDR and the fraction of the dB correction reached (ORACLE).

    Parameters
    ----------
    grid : ConvergenceGrid
        :func:`conv2dsep_lib.run.convergence.convergence_grid`'s result.
    """
    return pd.DataFrame(
        [
            {
                "iterations": n,
                **{
                    f"lr {lr:g}": f"{grid.si_sdr[i, j]:.2f} dB ({100 * grid.fraction[i, j]:.0f} %)"
                    for j, lr in enumerate(grid.learning_rates)
                },
            }
            for i, n in enumerate(grid.iterations)
        ]
    )
