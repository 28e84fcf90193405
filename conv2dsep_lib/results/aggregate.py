"""Aggregation of tidy tables: medians and spread over tracks, the numbers sweep figures draw.

Every function takes the tidy table of :mod:`.tables` (a DataFrame) and returns a
DataFrame or a small typed result; :mod:`conv2dsep_lib.viz.sweep` draws these, the
sweep report prints them, notebook 06 shows them.

**Excerpts are repeats.**  A track's excerpts (the table's ``excerpt`` column) are
summarised first, by their median per track; the statistics are then over tracks (as
SiSEC reports museval): the median, the 25th/75th percentiles (IQR) and a bootstrap
95 % interval of the median (:func:`conv2dsep_lib.results.repeats.spread_over_tracks`).

**Targets.**  A sweep with several targets (``--targets vocals,drums``) has one block per
target: :func:`summarise` and :func:`headline` add a ``target`` column (first) and give
each target's rows together; the per-figure numbers (:func:`n_slices_curves`,
:func:`greedy_pairs`, :func:`strategy_groups`) are of one target (``target=``; a table of
several targets without it is refused rather than mixed).  A vocals-only table gives
exactly what it gave before targets existed (no ``target`` column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ..core.config import Config
from ..core.errors import ParameterError
from ..sources.layout import TARGETS
from .repeats import spread_over_tracks, track_medians
from .tables import METRICS, TARGET, parameter_columns, typed

__all__ = [
    "table_targets",
    "by_target",
    "one_target",
    "varied_parameters",
    "stats",
    "per_track",
    "track_stats",
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


def table_targets(table: pd.DataFrame) -> Tuple[str, ...]:
    """The targets of a tidy table's rows, in report order (``vocals, drums, bass, other``).

    A table without a ``target`` column, or without rows, is ``("vocals",)``.
    """
    if "target" not in table.columns or not len(table):
        return (TARGET,)
    present = {str(v) for v in (_value(v) for v in table["target"]) if v is not None}
    return tuple([t for t in TARGETS if t in present] + sorted(present - set(TARGETS))) or (TARGET,)


def _several(table: pd.DataFrame) -> bool:
    """Whether the table is not a plain vocals table (its summaries then name the target)."""
    return table_targets(table) != (TARGET,)


def by_target(table: pd.DataFrame) -> Dict[str, pd.DataFrame]:
    """Target -> its rows (in table order), targets in report order."""
    targets = table_targets(table)
    if "target" not in table.columns:
        return {targets[0]: table}
    return {t: table[table["target"].astype(str) == t] for t in targets}


def one_target(table: pd.DataFrame, target: Optional[str] = None) -> pd.DataFrame:
    """The rows of *target*; with ``None``, the table itself when it has one target.

    Raises
    ------
    ParameterError
        *target* is not in the table, or ``None`` for a table of several targets.
    """
    targets = table_targets(table)
    if target is None:
        if len(targets) > 1:
            raise ParameterError(
                f"the table has {len(targets)} targets ({', '.join(targets)}): allowed one, "
                "select it with target=..."
            )
        return table
    if target not in targets:
        raise ParameterError(f"target={target!r} is not in the table: allowed {', '.join(targets)}")
    return by_target(table)[target]


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


def per_track(rows: Any, metric: str) -> Dict[str, List[Optional[float]]]:
    """Track -> its values of *metric*, one per excerpt (first row per track x excerpt).

    Parameters
    ----------
    rows : DataFrame or list of dict
        Rows of one group (a setting x method x k); a table without an ``excerpt``
        column has one excerpt per track.
    metric : str
    """
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    seen: Dict[str, Dict[Any, Optional[float]]] = {}
    for r in records:
        excerpt = _value(r.get("excerpt"))
        seen.setdefault(r["track"], {}).setdefault(excerpt, _value(r.get(metric)))  # older tables lack some
    return {t: list(v.values()) for t, v in seen.items()}


def track_stats(values: Mapping[str, Sequence[Optional[float]]]) -> Dict[str, Optional[float]]:
    """Median over tracks of each track's median over its excerpts: ``median``, ``q25``,
    ``q75``, ``iqr``, the bootstrap 95 % interval ``ci_low`` / ``ci_high`` (6 decimals;
    ``None`` without a finite value), ``n_tracks`` and ``n_excerpts``."""
    sp = spread_over_tracks(values)
    if sp.n_tracks == 0:
        out: Dict[str, Optional[float]] = {
            k: None for k in ("median", "q25", "q75", "iqr", "ci_low", "ci_high")
        }
    else:
        out = {
            "median": round(sp.median, 6),
            "q25": round(sp.q25, 6),
            "q75": round(sp.q75, 6),
            "iqr": round(sp.q75 - sp.q25, 6),
            "ci_low": round(sp.ci_low, 6),
            "ci_high": round(sp.ci_high, 6),
        }
    out["n_tracks"] = sp.n_tracks
    out["n_excerpts"] = sp.n_excerpts
    return out


#: The statistics :func:`summarise` writes per metric.
SUMMARY_STATS = ("median", "q25", "q75", "iqr", "ci_low", "ci_high")


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Median and spread over tracks per setting x method x k, in table order.

    Per track, the median over its excerpts comes first (excerpts are repeats); the
    statistics are over those per-track medians.  A table of other targets than vocals
    alone is summarised per target: a ``target`` column first, one block per target.

    Returns
    -------
    DataFrame
        (``target``,) ``setting``, the parameters, ``method``, ``kind``, ``k``, ``oracle``,
        ``n_tracks``, ``n_excerpts`` (excerpts over all tracks), and for each of
        :data:`~conv2dsep_lib.results.tables.METRICS` its ``_median``, ``_q25``, ``_q75``,
        ``_iqr`` (= q75 - q25) and the bootstrap 95 % interval of the median ``_ci_low``,
        ``_ci_high`` over tracks (missing values skipped).
    """
    if _several(table):
        blocks = [summarise(sub.drop(columns="target")) for sub in by_target(table).values()]
        blocks = [b.assign(target=t)[["target", *b.columns]] for t, b in zip(by_target(table), blocks)]
        return pd.concat(blocks, ignore_index=True)
    params = parameter_columns(table)
    out = []
    for (setting, method, k), members in _groups(table, ["setting", "method", "k"]):
        first = members.iloc[0]
        records = members.to_dict("records")
        row: Dict[str, Any] = {
            "setting": setting,
            **{p: _value(first[p]) for p in params},
            "method": method,
            "kind": _value(first["kind"]),
            "k": _value(k),
            "oracle": _value(first["oracle"]),
            "n_tracks": int(members["track"].nunique()),
            "n_excerpts": len({(r["track"], _value(r.get("excerpt"))) for r in records}),
        }
        for m in METRICS:
            st = track_stats(per_track(records, m))
            for stat in SUMMARY_STATS:
                row[f"{m}_{stat}"] = st[stat]
        out.append(row)
    columns = ["setting", *params, "method", "kind", "k", "oracle", "n_tracks", "n_excerpts"] + [
        f"{m}_{s}" for m in METRICS for s in SUMMARY_STATS
    ]
    return typed(out, columns)


def headline(
    table: pd.DataFrame, *, metric: str = "si_sdr", summary: Optional[pd.DataFrame] = None
) -> pd.DataFrame:
    """One line per setting: the median *metric* over tracks of the method and the baselines.

    Columns: ``setting``, the varied parameters, ``tracks``, ``progressive k=N`` (all N
    slices in the original order), ``best k`` (the k with the highest median), then
    ``greedy``, ``greedy_best`` (when run) and one column per baseline.  A table of other
    targets than vocals alone has a ``target`` column first and one block of lines per
    target (each with its own baselines; a baseline a target lacks is empty).

    *summary* is the table's :func:`summarise`, when the caller has it already (the
    bootstrap over every group is the slow part of both).
    """
    _check_metric(metric)
    if _several(table):
        varied = varied_parameters(table)
        blocks = []
        summaries = None if summary is None else by_target(summary)
        for t, sub in by_target(table).items():
            part = None if summaries is None else summaries[t].drop(columns="target")
            b = headline(sub.drop(columns="target"), metric=metric, summary=part)
            # the same parameter columns in every block (a parameter varies over the whole table)
            blocks.append(b.assign(target=t, **{p: _first(sub, b, p) for p in varied if p not in b}))
        columns = ["target"] + list(dict.fromkeys(c for b in blocks for c in b.columns if c != "target"))
        lead = ["target", "setting", *varied, "tracks", "progressive k=N", "best k"]
        columns = lead + [c for c in columns if c not in lead]
        return pd.concat([b.reindex(columns=columns) for b in blocks], ignore_index=True)
    varied = varied_parameters(table)
    lines: Dict[str, Dict[str, Any]] = {}
    best: Dict[str, Tuple[float, int]] = {}
    for s in (summarise(table) if summary is None else summary).to_dict("records"):
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


def _first(sub: pd.DataFrame, lines: pd.DataFrame, p: str) -> List[Any]:
    """Parameter *p* of each headline line's setting (the first row of that setting)."""
    first = {s: _value(v) for s, v in zip(sub["setting"][::-1], sub[p][::-1])}
    return [first.get(s) for s in lines["setting"]]


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

    ``k`` the slice counts; ``median``, ``q25``, ``q75`` and the bootstrap 95 % interval
    ``ci_low``, ``ci_high`` over tracks per k (of each track's median over its excerpts);
    ``tracks`` each track's median over its excerpts per k; ``n_excerpts`` the excerpts
    over all tracks.
    """

    label: str
    k: Tuple[int, ...]
    median: Tuple[Optional[float], ...]
    q25: Tuple[Optional[float], ...]
    q75: Tuple[Optional[float], ...]
    tracks: Mapping[str, Tuple[Optional[float], ...]]
    ci_low: Tuple[Optional[float], ...] = ()
    ci_high: Tuple[Optional[float], ...] = ()
    n_excerpts: int = 0


@dataclass(frozen=True)
class SlicesCurves:
    """What :func:`n_slices_curves` returns: the curves and the baselines' medians."""

    metric: str
    n_tracks: int
    curves: Tuple[Curve, ...]
    baselines: Mapping[str, Tuple[str, Optional[float]]]  # name -> (kind, median)


def n_slices_curves(
    table: pd.DataFrame, *, metric: str = "si_sdr", target: Optional[str] = None
) -> SlicesCurves:
    """Per-k statistics of the progressive rows, one curve per combination of the other settings.

    The state after k slices does not depend on the run's N, so each (track, excerpt,
    combination, k) is taken once, from the first run that has it.  Per k: each track's
    median over its excerpts, then the median, IQR and bootstrap 95 % interval over tracks
    (:func:`track_stats`); the baselines likewise.  *target*: that target's rows
    (:func:`one_target`; needed for a table of several targets).
    """
    _check_metric(metric)
    table = one_target(table, target)
    others = [p for p in varied_parameters(table) if p not in ("n_slices", "greedy", "greedy_score")]
    data: Dict[str, Dict[int, Dict[str, Dict[Any, Any]]]] = {}
    base: Dict[str, Tuple[str, Dict[str, Dict[Tuple[Any, ...], Any]]]] = {}
    for r in table.to_dict("records"):
        excerpt = _value(r.get("excerpt"))
        if r["method"] == "progressive":
            lab = setting_label(r, others) or "all settings"
            per_track_ = data.setdefault(lab, {}).setdefault(int(r["k"]), {}).setdefault(r["track"], {})
            per_track_.setdefault(excerpt, _value(r[metric]))
        elif r.get("kind") in ("oracle", "blind", "floor"):
            kind, values = base.setdefault(r["method"], (r["kind"], {}))
            key = (excerpt,) + tuple(
                _value(r.get(c)) for c in ("offset", "sr", "n_fft", "hop_length", "duration")
            )
            values.setdefault(r["track"], {}).setdefault(key, _value(r[metric]))
    curves = []
    for lab, per_k in data.items():
        ks = sorted(per_k)
        st = [track_stats({t: list(v.values()) for t, v in per_k[k].items()}) for k in ks]
        tracks = sorted({t for k in ks for t in per_k[k]})
        medians = {k: track_medians({t: list(v.values()) for t, v in per_k[k].items()}) for k in ks}
        curves.append(
            Curve(
                label=lab,
                k=tuple(ks),
                median=tuple(s["median"] for s in st),
                q25=tuple(s["q25"] for s in st),
                q75=tuple(s["q75"] for s in st),
                tracks={t: tuple(medians[k].get(t) for k in ks) for t in tracks},
                ci_low=tuple(s["ci_low"] for s in st),
                ci_high=tuple(s["ci_high"] for s in st),
                n_excerpts=max((int(s["n_excerpts"] or 0) for s in st), default=0),
            )
        )
    baselines = {
        n: (kind, track_stats({t: list(v.values()) for t, v in values.items()})["median"])
        for n, (kind, values) in base.items()
    }
    return SlicesCurves(
        metric=metric,
        n_tracks=int(table["track"].nunique()) if len(table) else 0,
        curves=tuple(curves),
        baselines=baselines,
    )


def greedy_pairs(
    table: pd.DataFrame, *, metric: str = "si_sdr", target: Optional[str] = None
) -> pd.DataFrame:
    """Greedy order against the original order, per track x setting with a greedy run
    (of one *target*, see :func:`one_target`).

    Returns
    -------
    DataFrame
        One row per track x excerpt x setting: ``track``, ``excerpt``, ``setting``,
        ``label``, ``n_slices``, ``best_prefix``, and
        ``original``, ``greedy``, ``greedy_best`` (*metric*), ``original_loss``,
        ``greedy_loss``, ``greedy_best_loss`` (step loss, each in its last slice's view) and
        the same with ``_yardstick`` (the common yardstick, empty when not recorded).  The original order is the progressive
        run's k = N.
    """
    _check_metric(metric)
    table = one_target(table, target)
    varied = [p for p in varied_parameters(table) if p != "greedy"]
    runs: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for r in table.to_dict("records"):
        e = runs.setdefault(
            (r["track"], r["setting"], _value(r.get("excerpt"))),
            {
                "track": r["track"],
                "excerpt": _value(r.get("excerpt")),
                "setting": r["setting"],
                "label": setting_label(r, varied) or "all settings",
                "n_slices": _value(r.get("n_slices")),
            },
        )
        if r["method"] == "progressive" and _value(r["k"]) == _value(r.get("n_slices")):
            e["original"], e["original_loss"] = _value(r[metric]), _value(r["loss"])
            e["original_yardstick"] = _value(r.get("yardstick"))
        elif r["method"] in ("greedy", "greedy_best"):
            e[r["method"]], e[r["method"] + "_loss"] = _value(r[metric]), _value(r["loss"])
            e[r["method"] + "_yardstick"] = _value(r.get("yardstick"))
            if r["method"] == "greedy_best":
                e["best_prefix"] = _value(r["k"])
    columns = [
        "track",
        "excerpt",
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
        "original_yardstick",
        "greedy_yardstick",
        "greedy_best_yardstick",
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


def strategy_groups(
    table: pd.DataFrame, *, metric: str = "si_sdr", target: Optional[str] = None
) -> StrategyGroups:
    """*metric* and loss after all N slices, grouped by gain strategy: one value per track x
    setting (the median over the track's excerpts), of one *target* (see :func:`one_target`)."""
    _check_metric(metric)
    table = one_target(table, target)
    cells: Dict[int, Dict[Tuple[str, str], Tuple[List[Optional[float]], List[Optional[float]]]]] = {}
    for r in table.to_dict("records"):
        if r["method"] != "progressive" or _value(r["k"]) != _value(r.get("n_slices")):
            continue
        s = _value(r.get("strategy"))
        s = _DEFAULT_STRATEGY if s is None else int(s)
        v, loss = cells.setdefault(s, {}).setdefault((r["track"], r["setting"]), ([], []))
        v.append(_value(r[metric]))
        loss.append(_value(r["loss"]))

    def median(xs: List[Optional[float]]) -> Optional[float]:
        finite = [x for x in xs if x is not None and np.isfinite(x)]
        return float(np.median(finite)) if finite else None

    strategies = tuple(sorted(cells)) or (_DEFAULT_STRATEGY,)
    return StrategyGroups(
        strategies=strategies,
        values={s: tuple(median(v) for v, _ in cells.get(s, {}).values()) for s in strategies},
        losses={s: tuple(median(lo) for _, lo in cells.get(s, {}).values()) for s in strategies},
    )
