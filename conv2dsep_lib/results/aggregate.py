"""Aggregation of tidy tables: medians and spread over tracks, the numbers sweep figures draw.

Every function takes the tidy table of :mod:`.tables` (a DataFrame) and returns a
DataFrame or a small typed result; :mod:`conv2dsep_lib.viz.sweep` draws these, the
sweep report prints them, notebook 06 shows them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ..core.config import Config
from ..core.errors import ParameterError
from .tables import METRICS, parameter_columns, typed

__all__ = [
    "varied_parameters",
    "stats",
    "summarise",
    "headline",
    "Curve",
    "SlicesCurves",
    "n_slices_curves",
    "greedy_pairs",
    "StrategyGroups",
    "strategy_groups",
    "setting_label",
]

#: Names of parameters in labels.
_LABELS = {"n_slices": "N", "num_iterations": "iterations", "learning_rate": "lr"}
_DEFAULT_STRATEGY = Config().strategy


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ParameterError(f"metric={metric!r} is invalid: allowed one of " + ", ".join(METRICS))


def _value(v: Any) -> Any:
    """A cell as a plain Python value (``None`` for missing)."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def varied_parameters(table: pd.DataFrame) -> List[str]:
    """Parameter columns that take more than one value in *table*."""
    return [p for p in parameter_columns(table) if len({json.dumps(_value(v)) for v in table[p]}) > 1]


def stats(values: Sequence[Any]) -> Dict[str, Optional[float]]:
    """Median, 25th and 75th percentile (linear) and IQR of the finite values (6 decimals)."""
    x = np.array(
        [v for v in (_value(v) for v in values) if v is not None and np.isfinite(v)], dtype=np.float64
    )
    if x.size == 0:
        return {"median": None, "q25": None, "q75": None, "iqr": None}
    q25, med, q75 = np.percentile(x, [25, 50, 75])
    return {
        "median": round(float(med), 6),
        "q25": round(float(q25), 6),
        "q75": round(float(q75), 6),
        "iqr": round(float(q75 - q25), 6),
    }


def _groups(table: pd.DataFrame, keys: Sequence[str]):
    return table.groupby(list(keys), sort=False, dropna=False)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Median and spread over tracks per setting x method x k, in table order.

    Returns
    -------
    DataFrame
        ``setting``, the parameters, ``method``, ``kind``, ``k``, ``oracle``,
        ``n_tracks``, and for each of :data:`~conv2dsep_lib.results.tables.METRICS` its
        ``_median``, ``_q25``, ``_q75`` and ``_iqr`` (= q75 - q25) over tracks (missing
        values skipped).
    """
    params = parameter_columns(table)
    out = []
    for (setting, method, k), members in _groups(table, ["setting", "method", "k"]):
        first = members.iloc[0]
        row: Dict[str, Any] = {
            "setting": setting,
            **{p: _value(first[p]) for p in params},
            "method": method,
            "kind": _value(first["kind"]),
            "k": _value(k),
            "oracle": _value(first["oracle"]),
            "n_tracks": int(members["track"].nunique()),
        }
        for m in METRICS:
            for stat, v in stats(list(members[m])).items():
                row[f"{m}_{stat}"] = v
        out.append(row)
    columns = ["setting", *params, "method", "kind", "k", "oracle", "n_tracks"] + [
        f"{m}_{s}" for m in METRICS for s in ("median", "q25", "q75", "iqr")
    ]
    return typed(out, columns)


def headline(table: pd.DataFrame, *, metric: str = "si_sdr") -> pd.DataFrame:
    """One line per setting: the median *metric* over tracks of the method and the baselines.

    Columns: ``setting``, the varied parameters, ``tracks``, ``progressive k=N`` (all N
    slices in the original order), ``best k`` (the k with the highest median), then
    ``greedy``, ``greedy_best`` (when run) and one column per baseline.
    """
    _check_metric(metric)
    varied = varied_parameters(table)
    lines: Dict[str, Dict[str, Any]] = {}
    best: Dict[str, Tuple[float, int]] = {}
    for s in summarise(table).to_dict("records"):
        s = {k: _value(v) for k, v in s.items()}
        line = lines.setdefault(
            s["setting"],
            {
                "setting": s["setting"],
                **{p: s.get(p) for p in varied},
                "tracks": 0,
                "progressive k=N": None,
                "best k": None,
            },
        )
        line["tracks"] = max(line["tracks"], s["n_tracks"])
        v = s[f"{metric}_median"]
        if s["method"] == "progressive":
            if s["k"] == s.get("n_slices"):
                line["progressive k=N"] = v
            if v is not None and (s["setting"] not in best or v > best[s["setting"]][0]):
                best[s["setting"]] = (v, s["k"])
        else:
            line[s["method"]] = v
    for key, (_, k) in best.items():
        lines[key]["best k"] = k
    columns = list(dict.fromkeys(c for line in lines.values() for c in line))
    return pd.DataFrame([{c: line.get(c) for c in columns} for line in lines.values()], columns=columns)


def setting_label(row: Mapping[str, Any], names: Sequence[str]) -> str:
    """``"N=8, lr=0.05"``: a setting's values of *names*, for legends."""
    parts = []
    for n in names:
        v = _value(row.get(n))
        if n == "greedy":
            parts.append("greedy" if v else "no greedy")
        else:
            parts.append(f"{_LABELS.get(n, n)}={format(v, 'g') if isinstance(v, float) else v}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Curve:
    """One line of the "quality vs slices" figure: a combination of the other settings.

    ``k`` the slice counts; ``median``, ``q25``, ``q75`` over tracks per k;
    ``tracks`` each track's values per k.
    """

    label: str
    k: Tuple[int, ...]
    median: Tuple[Optional[float], ...]
    q25: Tuple[Optional[float], ...]
    q75: Tuple[Optional[float], ...]
    tracks: Mapping[str, Tuple[Optional[float], ...]]


@dataclass(frozen=True)
class SlicesCurves:
    """What :func:`n_slices_curves` returns: the curves and the baselines' medians."""

    metric: str
    n_tracks: int
    curves: Tuple[Curve, ...]
    baselines: Mapping[str, Tuple[str, Optional[float]]]  # name -> (kind, median)


def n_slices_curves(table: pd.DataFrame, *, metric: str = "si_sdr") -> SlicesCurves:
    """Per-k statistics of the progressive rows, one curve per combination of the other settings.

    The state after k slices does not depend on the run's N, so each (track,
    combination, k) is taken once, from the first run that has it.
    """
    _check_metric(metric)
    others = [p for p in varied_parameters(table) if p not in ("n_slices", "greedy", "greedy_score")]
    data: Dict[str, Dict[int, Dict[str, Any]]] = {}
    base: Dict[str, Tuple[str, Dict[Tuple[Any, ...], Any]]] = {}
    for r in table.to_dict("records"):
        if r["method"] == "progressive":
            lab = setting_label(r, others) or "all settings"
            data.setdefault(lab, {}).setdefault(int(r["k"]), {}).setdefault(r["track"], _value(r[metric]))
        elif r.get("kind") in ("oracle", "blind", "floor"):
            kind, values = base.setdefault(r["method"], (r["kind"], {}))
            excerpt = tuple(_value(r.get(c)) for c in ("offset", "sr", "n_fft", "hop_length", "duration"))
            values.setdefault((r["track"],) + excerpt, _value(r[metric]))
    curves = []
    for lab, per_k in data.items():
        ks = sorted(per_k)
        st = [stats(list(per_k[k].values())) for k in ks]
        tracks = sorted({t for k in ks for t in per_k[k]})
        curves.append(
            Curve(
                label=lab,
                k=tuple(ks),
                median=tuple(s["median"] for s in st),
                q25=tuple(s["q25"] for s in st),
                q75=tuple(s["q75"] for s in st),
                tracks={t: tuple(per_k[k].get(t) for k in ks) for t in tracks},
            )
        )
    baselines = {n: (kind, stats(list(values.values()))["median"]) for n, (kind, values) in base.items()}
    return SlicesCurves(
        metric=metric,
        n_tracks=int(table["track"].nunique()) if len(table) else 0,
        curves=tuple(curves),
        baselines=baselines,
    )


def greedy_pairs(table: pd.DataFrame, *, metric: str = "si_sdr") -> pd.DataFrame:
    """Greedy order against the original order, per track x setting with a greedy run.

    Returns
    -------
    DataFrame
        ``track``, ``setting``, ``label``, ``n_slices``, ``best_prefix``, and
        ``original``, ``greedy``, ``greedy_best`` (*metric*) and ``original_loss``,
        ``greedy_loss``, ``greedy_best_loss``.  The original order is the progressive
        run's k = N.
    """
    _check_metric(metric)
    varied = [p for p in varied_parameters(table) if p != "greedy"]
    runs: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for r in table.to_dict("records"):
        e = runs.setdefault(
            (r["track"], r["setting"]),
            {
                "track": r["track"],
                "setting": r["setting"],
                "label": setting_label(r, varied) or "all settings",
                "n_slices": _value(r.get("n_slices")),
            },
        )
        if r["method"] == "progressive" and _value(r["k"]) == _value(r.get("n_slices")):
            e["original"], e["original_loss"] = _value(r[metric]), _value(r["loss"])
        elif r["method"] in ("greedy", "greedy_best"):
            e[r["method"]], e[r["method"] + "_loss"] = _value(r[metric]), _value(r["loss"])
            if r["method"] == "greedy_best":
                e["best_prefix"] = _value(r["k"])
    columns = [
        "track",
        "setting",
        "label",
        "n_slices",
        "best_prefix",
        "original",
        "greedy",
        "greedy_best",
        "original_loss",
        "greedy_loss",
        "greedy_best_loss",
    ]
    rows = [e for e in runs.values() if "greedy" in e and "original" in e]
    return pd.DataFrame([{c: e.get(c) for c in columns} for e in rows], columns=columns)


@dataclass(frozen=True)
class StrategyGroups:
    """The final progressive result (k = N) per gain strategy (see :func:`strategy_groups`)."""

    strategies: Tuple[int, ...]
    values: Mapping[int, Tuple[Optional[float], ...]]
    losses: Mapping[int, Tuple[Optional[float], ...]]

    @property
    def varies(self) -> bool:
        return len(self.strategies) > 1

    @property
    def fixed(self) -> Optional[int]:
        """The one strategy when it does not vary."""
        return self.strategies[0] if len(self.strategies) == 1 else None


def strategy_groups(table: pd.DataFrame, *, metric: str = "si_sdr") -> StrategyGroups:
    """*metric* and loss after all N slices, grouped by gain strategy (over tracks x settings)."""
    _check_metric(metric)
    values: Dict[int, List[Optional[float]]] = {}
    losses: Dict[int, List[Optional[float]]] = {}
    for r in table.to_dict("records"):
        if r["method"] != "progressive" or _value(r["k"]) != _value(r.get("n_slices")):
            continue
        s = _value(r.get("strategy"))
        s = _DEFAULT_STRATEGY if s is None else int(s)
        values.setdefault(s, []).append(_value(r[metric]))
        losses.setdefault(s, []).append(_value(r["loss"]))
    strategies = tuple(sorted(values)) or (_DEFAULT_STRATEGY,)
    return StrategyGroups(
        strategies=strategies,
        values={s: tuple(values.get(s, ())) for s in strategies},
        losses={s: tuple(losses.get(s, ())) for s in strategies},
    )
