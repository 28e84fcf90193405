"""The seed's claims, tested on a study's tidy table: one decided row per claim.

A claims study (``conv2dsep claims``, :mod:`conv2dsep_lib.sweep.claims`) is a sweep:
progressive k = 1..N (N = 18) and the greedy order by step loss and by SI-SDR on every
excerpt of every track.  :func:`claims_report` turns its table into a
:class:`ClaimsReport` (``claims.md`` is its markdown, :func:`conv2dsep_lib.sweep.claims.claims_markdown`).

The seed's claims (its README) and what measures each here, per excerpt:

(a) "8 slices in the original order is optimal" (loss 1.181991): SI-SDR(k=8) minus
    SI-SDR(k*), k* the best other k on the median curve.  Claimed: > 0.
(b) "slices 9-18 hurt" (10 slices 9.670357, 18 slices 7.955098): SI-SDR(18) - SI-SDR(8).
    Claimed: < 0.
(c) "greedy reordering is worse" (6.905200): SI-SDR of the greedy (step-loss) order's
    best prefix minus SI-SDR(8).  Claimed: < 0.
(d) "~70-80 % vocal separation quality": SI-SDRi(8) as a share of the ideal ratio mask's
    SI-SDRi, in %.  Claimed: within 70..80.

Each value is summarised as in a sweep (:mod:`.repeats`): the median over a track's
excerpts, then the median over tracks with a bootstrap 95 % interval; a track *agrees*
when its median is on the claim's side.  The decision rule is :data:`RULE`.

**Targets.**  A study with several targets (``conv2dsep claims --targets vocals,drums``)
decides the claims once per target, on that target's rows (:func:`claims_report` with
``target=``).  The seed made its claims on vocals: for another target (a)-(c) test whether
the seed's findings about the slices carry over to that stem (the same measures, the same
rule), and (d) -- "~70-80 % *vocal* separation quality" -- is a statement about vocals
only: it is **not applicable** there (:data:`NOT_APPLICABLE`), its measure still shown.

**ORACLE**: every Conv2D number comes from an optimisation that read the true vocal (or,
for another target, that target's true stem).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

from ..method.views import VIEW_NAMES
from .record import ORACLE_NOTE
from .repeats import Spread, agreement, spread_over_tracks, track_medians

__all__ = [
    "NOT_APPLICABLE",
    "VOCAL_ONLY_CLAIMS",
    "SEED_K",
    "MIN_TRACKS",
    "RULE",
    "QUALITY_RANGE",
    "ClaimRow",
    "KCurve",
    "GreedyOrders",
    "ClaimsReport",
    "claims_report",
]

#: The verdict of a claim that does not speak about the target tested (see :data:`VOCAL_ONLY_CLAIMS`).
NOT_APPLICABLE = "not applicable"
#: Claims about vocals only: (d), the seed's "~70-80 % vocal separation quality".
VOCAL_ONLY_CLAIMS = ("d",)
#: The seed's slice count.
SEED_K = 8
#: Fewer tracks than this: every claim is inconclusive.
MIN_TRACKS = 3
#: Claim (d)'s range, % of the ideal ratio mask's SI-SDR improvement.
QUALITY_RANGE = (70.0, 80.0)
#: The decision rule, as the report states it.
RULE = (
    "Each claim's measure is summarised per track as the median over the track's excerpts, then over "
    "tracks as the median with a bootstrap 95 % interval (2000 resamples of the tracks). A claim "
    "**holds** when the 95 % interval lies entirely on the claim's side (for a difference: excludes 0 "
    "in the claimed direction; for the 70-80 % range: inside it) and a strict majority of tracks agree; "
    "it **does not hold** when the interval lies entirely on the other side (outside the range) and a "
    "strict majority of tracks disagree; otherwise, or with fewer than 3 tracks, it is **inconclusive**."
)


@dataclass(frozen=True)
class ClaimRow:
    """One claim, its measure on this data, and the verdict.

    Attributes
    ----------
    id : str
        ``"a"`` .. ``"d"``.
    statement : str
        The seed's claim in words, with its number.
    measure : str
        What is measured per excerpt.
    unit : str
    direction : str
        ``">0"``, ``"<0"`` or ``"in 70..80"``: what the claim says about the measure.
    spread : Spread
        Median over tracks (of per-track medians over excerpts), IQR and 95 % interval.
    agree, total : int
        Tracks whose median is on the claim's side, of the tracks with a value.
    verdict : str
        ``"holds"``, ``"does not hold"`` or ``"inconclusive"``.
    reason : str
        Why, by :data:`RULE`.
    per_track : mapping of str -> float
    """

    id: str
    statement: str
    measure: str
    unit: str
    direction: str
    spread: Spread
    agree: int
    total: int
    verdict: str
    reason: str
    per_track: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> Dict[str, Any]:
        s = self.spread
        return {
            "id": self.id,
            "statement": self.statement,
            "measure": self.measure,
            "unit": self.unit,
            "direction": self.direction,
            "median": _num(s.median),
            "q25": _num(s.q25),
            "q75": _num(s.q75),
            "ci95": [_num(s.ci_low), _num(s.ci_high)],
            "n_tracks": s.n_tracks,
            "n_excerpts": s.n_excerpts,
            "tracks_agree": self.agree,
            "tracks": self.total,
            "verdict": self.verdict,
            "reason": self.reason,
            "per_track": {k: _num(v) for k, v in self.per_track.items()},
            "oracle": True,
        }


@dataclass(frozen=True)
class KCurve:
    """A per-k curve over tracks (progressive, original order): one :class:`Spread` per k."""

    metric: str
    k: Tuple[int, ...]
    spreads: Tuple[Spread, ...]

    def medians(self) -> List[float]:
        return [s.median for s in self.spreads]

    def to_json(self) -> Dict[str, Any]:
        return {
            "metric": self.metric,
            "k": list(self.k),
            "median": [_num(s.median) for s in self.spreads],
            "ci95_low": [_num(s.ci_low) for s in self.spreads],
            "ci95_high": [_num(s.ci_high) for s in self.spreads],
            "q25": [_num(s.q25) for s in self.spreads],
            "q75": [_num(s.q75) for s in self.spreads],
        }


@dataclass(frozen=True)
class GreedyOrders:
    """The greedy orders of one criterion over all excerpts.

    ``orders`` counts the first three picks (view names); ``best_prefix`` the best prefix's
    SI-SDR over tracks; ``first`` the first pick's counts.
    """

    score: str
    orders: Tuple[Tuple[str, int], ...]
    first: Tuple[Tuple[str, int], ...]
    best_prefix: Spread
    n_excerpts: int

    def to_json(self) -> Dict[str, Any]:
        return {
            "score": self.score,
            "first_three_picks": [{"order": o, "excerpts": n} for o, n in self.orders],
            "first_pick": [{"view": o, "excerpts": n} for o, n in self.first],
            "best_prefix_si_sdr_median": _num(self.best_prefix.median),
            "best_prefix_si_sdr_ci95": [_num(self.best_prefix.ci_low), _num(self.best_prefix.ci_high)],
            "n_excerpts": self.n_excerpts,
        }


@dataclass(frozen=True)
class ClaimsReport:
    """The claims table and what else the data shows.  ORACLE throughout.

    Attributes
    ----------
    rows : tuple of ClaimRow
        Claims (a)..(d).
    si_sdr, loss : KCurve
        Per-k curves (loss: the seed's step loss, measured in view k).
    yardstick : KCurve or None
        The common yardstick per k (mean over 19 views, dB²), when the records have it.
    irm : Spread
        SI-SDR of the ideal ratio mask (oracle ceiling).
    greedy : tuple of GreedyOrders
    findings : tuple of str
        Further statements, each with its numbers.
    seed_k, n_all : int
        The k standing for the seed's 8 and 18 (8 and 18 unless a test scale).
    n_tracks, n_excerpts : int
    target : str
        The stem the study separated (``"vocals"``: the seed's claims as made).
    """

    rows: Tuple[ClaimRow, ...]
    si_sdr: KCurve
    loss: KCurve
    irm: Spread
    greedy: Tuple[GreedyOrders, ...]
    findings: Tuple[str, ...]
    seed_k: int
    n_all: int
    n_tracks: int
    n_excerpts: int
    rule: str = RULE
    note: str = ORACLE_NOTE
    yardstick: Optional[KCurve] = None
    target: str = "vocals"

    def row(self, claim: str) -> ClaimRow:
        return next(r for r in self.rows if r.id == claim)

    def to_json(self) -> Dict[str, Any]:
        out = self._json()
        return out if self.target == "vocals" else {"target": self.target, **out}  # vocals: as before

    def _json(self) -> Dict[str, Any]:
        return {
            "oracle": True,
            "note": self.note,
            "rule": self.rule,
            "seed_k": self.seed_k,
            "n_all": self.n_all,
            "n_tracks": self.n_tracks,
            "n_excerpts": self.n_excerpts,
            "claims": [r.to_json() for r in self.rows],
            "curves": {
                "si_sdr": self.si_sdr.to_json(),
                "loss": self.loss.to_json(),
                "yardstick": None if self.yardstick is None else self.yardstick.to_json(),
            },
            "oracle_irm_si_sdr": {
                "median": _num(self.irm.median),
                "ci95": [_num(self.irm.ci_low), _num(self.irm.ci_high)],
            },
            "greedy": [g.to_json() for g in self.greedy],
            "findings": list(self.findings),
        }


def _num(x: Optional[float]) -> Optional[float]:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def _v(x: Any) -> Optional[float]:
    if x is None or x is pd.NA:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _names(sequence: Any) -> Tuple[str, ...]:
    if sequence is None or sequence is pd.NA or not str(sequence):
        return ()
    return tuple(VIEW_NAMES[int(i)] for i in str(sequence).split("-"))


def _short(view: str) -> str:
    return view.split("_", 2)[-1] if view.startswith("slice_") else view


def _verdict(spread: Spread, agree: int, total: int, *, side: Any, other: Any) -> Tuple[str, str]:
    """The verdict by :data:`RULE`; *side* / *other* test an interval ``(lo, hi)``."""
    if spread.n_tracks < MIN_TRACKS:
        return "inconclusive", f"{spread.n_tracks} track(s) with a value: fewer than {MIN_TRACKS}"
    ci = (spread.ci_low, spread.ci_high)
    majority = total // 2 + 1
    if side(ci) and agree >= majority:
        return "holds", f"95 % interval on the claim's side and {agree} of {total} tracks agree"
    if other(ci) and total - agree >= majority:
        return (
            "does not hold",
            f"95 % interval on the other side and {total - agree} of {total} tracks disagree",
        )
    if side(ci) or other(ci):
        return "inconclusive", f"the interval is on one side but only {agree} of {total} tracks agree"
    return "inconclusive", "the 95 % interval contains the claimed boundary"


def _claim(
    cid: str,
    statement: str,
    measure: str,
    unit: str,
    values: Mapping[str, Sequence[Optional[float]]],
    *,
    direction: str,
) -> ClaimRow:
    spread = spread_over_tracks(values)
    per_track = track_medians(values)
    if direction == ">0":
        test, side, other = (lambda v: v > 0), (lambda ci: ci[0] > 0), (lambda ci: ci[1] < 0)
    elif direction == "<0":
        test, side, other = (lambda v: v < 0), (lambda ci: ci[1] < 0), (lambda ci: ci[0] > 0)
    else:
        lo, hi = QUALITY_RANGE

        def test(v: float) -> bool:
            return lo <= v <= hi

        def side(ci: Tuple[float, float]) -> bool:
            return lo <= ci[0] and ci[1] <= hi

        def other(ci: Tuple[float, float]) -> bool:
            return ci[1] < lo or ci[0] > hi

    agree, total = agreement(per_track, test)
    verdict, reason = _verdict(spread, agree, total, side=side, other=other)
    return ClaimRow(
        cid, statement, measure, unit, direction, spread, agree, total, verdict, reason, per_track
    )


class _Excerpts:
    """The table's numbers per (track, excerpt): progressive per k, baselines, greedy."""

    def __init__(self, table: pd.DataFrame):
        self.si: Dict[Tuple[str, float], Dict[int, Optional[float]]] = {}
        self.si_i: Dict[Tuple[str, float], Dict[int, Optional[float]]] = {}
        self.loss: Dict[Tuple[str, float], Dict[int, Optional[float]]] = {}
        self.ys: Dict[Tuple[str, float], Dict[int, Optional[float]]] = {}
        self.irm: Dict[Tuple[str, float], Tuple[Optional[float], Optional[float]]] = {}
        self.greedy: Dict[str, Dict[Tuple[str, float], Dict[str, Any]]] = {}
        for r in table.to_dict("records"):
            key = (str(r["track"]), float(_v(r.get("excerpt")) or 0.0))
            score = r.get("greedy_score")
            score = "step_loss" if score is None or score is pd.NA else str(score)
            method = r["method"]
            if method == "progressive" and score == "step_loss":
                k = int(r["k"])
                self.si.setdefault(key, {}).setdefault(k, _v(r["si_sdr"]))
                self.si_i.setdefault(key, {}).setdefault(k, _v(r["si_sdr_i"]))
                self.loss.setdefault(key, {}).setdefault(k, _v(r["loss"]))
                self.ys.setdefault(key, {}).setdefault(k, _v(r.get("yardstick")))
            elif method == "oracle_irm":
                self.irm.setdefault(key, (_v(r["si_sdr"]), _v(r["si_sdr_i"])))
            elif method in ("greedy", "greedy_best"):
                g = self.greedy.setdefault(score, {}).setdefault(key, {})
                g[method] = _v(r["si_sdr"])
                g[method + "_loss"] = _v(r["loss"])
                g[method + "_sequence"] = _names(r.get("sequence"))
        self.keys = sorted(self.si)

    def by_track(self, fn: Any) -> Dict[str, List[Optional[float]]]:
        """Track -> ``fn(key)`` per excerpt."""
        out: Dict[str, List[Optional[float]]] = {}
        for key in self.keys:
            out.setdefault(key[0], []).append(fn(key))
        return out


def _diff(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None else a - b


def _curve(
    ex: _Excerpts, data: Mapping[Tuple[str, float], Mapping[int, Optional[float]]], metric: str
) -> KCurve:
    ks = sorted({k for v in data.values() for k in v})
    return KCurve(
        metric, tuple(ks), tuple(spread_over_tracks(ex.by_track(lambda key: data[key].get(k))) for k in ks)
    )


def claims_report(
    table: pd.DataFrame,
    *,
    seed_k: int = SEED_K,
    single_slices: Optional[Mapping[Any, Tuple[str, float]]] = None,
    target: str = "vocals",
) -> ClaimsReport:
    """Decide the seed's claims (a)..(d) on a claims study's table by :data:`RULE`.

    Parameters
    ----------
    table : DataFrame
        The tidy table of a claims study (:func:`conv2dsep_lib.sweep.claims.run_claims`):
        progressive rows k = 1..N of the step-loss setting, ``greedy`` / ``greedy_best`` rows
        per ``greedy_score``, the ``oracle_irm`` baseline; an ``excerpt`` column.
    seed_k : int
        The k standing for the seed's 8 (smaller only at a test scale; N stands for 18).
    single_slices : mapping, optional
        ``(track, excerpt) -> (view name, SI-SDR)`` of the best single slice (the greedy by
        SI-SDR's first pick and its score), for the findings.
    target : str
        The target whose rows are decided (a table without a ``target`` column is vocals).
        For another target than vocals, the claims of :data:`VOCAL_ONLY_CLAIMS` get the
        verdict :data:`NOT_APPLICABLE` (their measure is still given).

    Returns
    -------
    ClaimsReport
    """
    if "target" in table.columns:
        table = table[table["target"].astype(str) == target]
    ex = _Excerpts(table)
    n_all = max((k for v in ex.si.values() for k in v), default=0)
    si = _curve(ex, ex.si, "si_sdr")
    loss = _curve(ex, ex.loss, "loss")
    ys = _curve(ex, ex.ys, "yardstick")
    yardstick = ys if any(s.n_tracks for s in ys.spreads) else None
    med = {k: m for k, m in zip(si.k, si.medians()) if math.isfinite(m)}
    others = {k: m for k, m in med.items() if k != seed_k}
    k_star = max(others, key=others.get) if others else seed_k
    seed_all = "18" if n_all == 18 else f"{n_all}, for the seed's 18"
    seed_8 = "8" if seed_k == 8 else f"{seed_k}, for the seed's 8"

    def si_at(key: Tuple[str, float], k: int) -> Optional[float]:
        return ex.si.get(key, {}).get(k)

    rows = [
        _claim(
            "a",
            'slices 1..8 in the original order are optimal (seed: "BEST", loss 1.181991)',
            f"SI-SDR(k={seed_8}) - SI-SDR(k={k_star}, the best other k on the median curve)",
            "dB",
            ex.by_track(lambda key: _diff(si_at(key, seed_k), si_at(key, k_star))),
            direction=">0",
        ),
        _claim(
            "b",
            "adding slices 9-18 hurts (seed: 10 slices loss 9.670357, 18 slices 7.955098)",
            f"SI-SDR(k={seed_all}) - SI-SDR(k={seed_8})",
            "dB",
            ex.by_track(lambda key: _diff(si_at(key, n_all), si_at(key, seed_k))),
            direction="<0",
        ),
        _claim(
            "c",
            "greedy reordering is worse (seed: loss 6.905200)",
            f"SI-SDR of the greedy (step-loss) order's best prefix - SI-SDR(k={seed_8})",
            "dB",
            ex.by_track(
                lambda key: _diff(
                    ex.greedy.get("step_loss", {}).get(key, {}).get("greedy_best"), si_at(key, seed_k)
                )
            ),
            direction="<0",
        ),
        _claim(
            "d",
            '"~70-80 % vocal separation quality"',
            f"SI-SDRi(k={seed_8}) as a share of the ideal ratio mask's SI-SDRi",
            "%",
            ex.by_track(
                lambda key: _share(ex.si_i.get(key, {}).get(seed_k), ex.irm.get(key, (None, None))[1])
            ),
            direction="in 70..80",
        ),
    ]
    if target != "vocals":
        rows = [_not_applicable(r, target) if r.id in VOCAL_ONLY_CLAIMS else r for r in rows]
    irm = spread_over_tracks(ex.by_track(lambda key: ex.irm.get(key, (None, None))[0]))
    greedy = tuple(_greedy_orders(ex, score) for score in sorted(ex.greedy))
    findings = _findings(ex, si, yardstick or loss, irm, greedy, n_all=n_all, single_slices=single_slices)
    return ClaimsReport(
        rows=tuple(rows),
        si_sdr=si,
        loss=loss,
        irm=irm,
        greedy=greedy,
        findings=tuple(findings),
        seed_k=seed_k,
        n_all=n_all,
        n_tracks=len({k[0] for k in ex.keys}),
        n_excerpts=len(ex.keys),
        yardstick=yardstick,
        target=target,
    )


def _not_applicable(row: ClaimRow, target: str) -> ClaimRow:
    """*row* (a claim about vocals) for another target: measured, not decided."""
    return replace(
        row,
        verdict=NOT_APPLICABLE,
        reason=f"the seed's claim is about vocal separation; the {target} share is shown, not decided",
    )


def _share(part: Optional[float], whole: Optional[float]) -> Optional[float]:
    """100 * part / whole; undefined when the mask improves nothing (whole <= 0)."""
    if part is None or whole is None or whole <= 0:
        return None
    return 100.0 * part / whole


def _greedy_orders(ex: _Excerpts, score: str) -> GreedyOrders:
    per = ex.greedy[score]
    orders = Counter(" > ".join(_short(v) for v in g.get("greedy_sequence", ())[:3]) for g in per.values())
    first = Counter(_short(g["greedy_sequence"][0]) for g in per.values() if g.get("greedy_sequence"))
    best = spread_over_tracks(ex.by_track(lambda key: per.get(key, {}).get("greedy_best")))
    return GreedyOrders(score, tuple(orders.most_common()), tuple(first.most_common()), best, len(per))


def _findings(
    ex: _Excerpts,
    si: KCurve,
    loss: KCurve,
    irm: Spread,
    greedy: Sequence[GreedyOrders],
    *,
    n_all: int,
    single_slices: Optional[Mapping[Any, Tuple[str, float]]],
) -> List[str]:
    out: List[str] = []
    med = [(m, k) for k, m in zip(si.k, si.medians()) if math.isfinite(m)]
    if med:
        m, k = max(med)
        best_k: Counter = Counter()
        for keys in ex.by_track(lambda key: key).values():
            curve = {kk: track_medians({"t": [ex.si[key].get(kk) for key in keys]}).get("t") for kk in si.k}
            finite = {kk: v for kk, v in curve.items() if v is not None}
            if finite:
                best_k[max(finite, key=finite.get)] += 1
        shown = ", ".join(f"k={kk}: {n}" for kk, n in sorted(best_k.items()))
        out.append(
            f"Best k on the median SI-SDR curve: k={k} ({m:.2f} dB, ORACLE); best k per track ({shown})."
        )
    lk = [(m, k) for k, m in zip(loss.k, loss.medians()) if math.isfinite(m)]
    if lk and med:
        what = (
            "yardstick (mean over 19 views: the same views for every k)"
            if loss.metric == "yardstick"
            else "step loss (measured in view k: losses of different k do not compare)"
        )
        out.append(
            f"Lowest median {what} at k={min(lk)[1]} ({min(lk)[0]:.3g} dB²); highest median SI-SDR at "
            f"k={max(med)[1]}."
        )
    if single_slices:
        views = Counter(_short(v) for v, _ in single_slices.values())
        values = {}
        for (track, _), (_, val) in single_slices.items():
            values.setdefault(track, []).append(val)
        sp = spread_over_tracks(values)
        view, n = views.most_common(1)[0]
        out.append(
            f"Best single slice (greedy by SI-SDR's first pick): {view} in {n} of {len(single_slices)} excerpts; "
            f"its SI-SDR {sp.text()} (ORACLE)."
        )
    for g in greedy:
        if g.orders:
            order, n = g.orders[0]
            gap = ""
            if g.score == "si_sdr" and math.isfinite(irm.median) and math.isfinite(g.best_prefix.median):
                d = irm.median - g.best_prefix.median
                gap = f"; {abs(d):.2f} dB {'below' if d >= 0 else 'above'} the ideal ratio mask's median"
            out.append(
                f"Greedy by {g.score}: most common first picks {order} ({n} of {g.n_excerpts} excerpts); best "
                f"prefix SI-SDR {g.best_prefix.text()} (ORACLE){gap}."
            )
    step = ex.greedy.get("step_loss", {})
    pairs = [
        (
            g.get("greedy_loss"),
            ex.loss.get(key, {}).get(n_all),
            g.get("greedy_best"),
            ex.si.get(key, {}).get(n_all),
        )
        for key, g in step.items()
    ]
    higher = sum(1 for gl, ol, *_ in pairs if gl is not None and ol is not None and gl > ol)
    better = sum(1 for *_, gb, o in pairs if gb is not None and o is not None and gb > o)
    if pairs:
        out.append(
            f"Greedy by step loss: final loss above the original order's (k={n_all}) in {higher} of {len(pairs)} "
            f"excerpts; its best prefix has a higher SI-SDR than k={n_all} in {better} of {len(pairs)} (ORACLE)."
        )
    return out
