"""The files of a claims study: ``claims.md``, ``claims.json``, the figures, and the tables
notebook 07 shows (:func:`claims_frame`, :func:`curves_frame`, :func:`greedy_frame`).

A study of vocals (the default) writes today's files.  A study of several targets (or of
another target than vocals) writes one ``claims.md`` with a part per target
(:func:`targets_markdown`), ``claims.json`` with each target's report under ``targets``,
and per target the figures (``claims_curves.png`` for vocals, ``claims_curves_<target>.png``
for another target; the same for the intervals).  ORACLE throughout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

import pandas as pd

from ..core.files import atomic_path, write_json
from ..results.claims import NOT_APPLICABLE, RULE, SEED_K, VOCAL_ONLY_CLAIMS, ClaimsReport, KCurve
from ..results.record import ORACLE_NOTE
from ..results.repeats import Spread
from ..viz.claims import plot_claims_curves, plot_claims_intervals
from ..viz.common import save_figure

__all__ = [
    "CLAIMS_MD",
    "CLAIMS_JSON",
    "CLAIMS_PLOTS",
    "plot_names",
    "claims_markdown",
    "targets_markdown",
    "write_claims",
    "write_target_claims",
    "claims_frame",
    "curves_frame",
    "greedy_frame",
]

CLAIMS_MD = "claims.md"
CLAIMS_JSON = "claims.json"
CLAIMS_PLOTS = {"curves": "claims_curves.png", "intervals": "claims_intervals.png"}


def plot_names(target: str) -> Dict[str, str]:
    """The figure files of *target*: :data:`CLAIMS_PLOTS` for vocals, ``claims_curves_drums.png``
    (and ``claims_intervals_drums.png``) for drums."""
    if target == "vocals":
        return dict(CLAIMS_PLOTS)
    return {k: v.replace(".png", f"_{target}.png") for k, v in CLAIMS_PLOTS.items()}


def _fmt_spread(s: Spread, unit: str) -> str:
    if s.n_tracks == 0:
        return "n/a"
    u = " %" if unit == "%" else f" {unit}"
    if s.n_tracks == 1:
        return f"{s.median:.2f}{u} (1 track: no interval)"
    return f"{s.median:.2f}{u} [95 % CI {s.ci_low:.2f}, {s.ci_high:.2f}]"


def claims_markdown(
    report: ClaimsReport, *, title: str = "The seed's claims", extra: Sequence[str] = ()
) -> str:
    """``claims.md``: the ORACLE statement, the rule, the claims table, the findings."""
    lines = [
        f"# {title} -- ORACLE",
        "",
        f"**{report.note}** Every number below is ORACLE.",
        "",
        f"Data: {report.n_tracks} tracks, {report.n_excerpts} excerpts; progressive k = 1..{report.n_all} "
        "and the greedy order (by step loss and by SI-SDR) on each excerpt.",
    ]
    if report.seed_k != SEED_K or report.n_all != 18:
        lines.append(
            f"Test scale: k = {report.seed_k} stands for the seed's 8 and k = {report.n_all} for its 18."
        )
    lines += [*extra, "", "**Decision rule.** " + report.rule, "", "## Claims", ""]
    lines += [
        "| claim (the seed's statement and number) | measured per excerpt | this data: median over tracks "
        "[95 % CI], ORACLE | tracks agreeing | verdict |",
        "|---|---|---|---|---|",
    ]
    for r in report.rows:
        lines.append(
            f"| ({r.id}) {r.statement} | {r.measure} (claimed {r.direction}) | {_fmt_spread(r.spread, r.unit)} "
            f"| {r.agree} of {r.total} | **{r.verdict}** ({r.reason}) |"
        )
    lines += ["", "## Also shown by this data", ""] + [f"- {f}" for f in report.findings]
    lines += ["", "## SI-SDR, yardstick and step loss per k (median over tracks [95 % CI], ORACLE)", ""]
    ys = report.yardstick
    lines += [
        "| k | SI-SDR (dB) | yardstick (dB², mean of 19 views) | step loss (dB², in view k) |",
        "|---|---|---|---|",
    ]
    for i, (k, s, lo) in enumerate(zip(report.si_sdr.k, report.si_sdr.spreads, report.loss.spreads)):
        y = "n/a (not recorded)" if ys is None else _fmt_spread(ys.spreads[i], "dB²")
        lines.append(f"| {k} | {_fmt_spread(s, 'dB')} | {y} | {_fmt_spread(lo, 'dB²')} |")
    lines.append(f"| oracle_irm | {_fmt_spread(report.irm, 'dB')} | | |")
    return "\n".join(lines) + "\n"


def write_claims(
    report: ClaimsReport,
    out: Path,
    *,
    plots: bool,
    extra: Sequence[str],
    meta: Mapping[str, Any],
    converged: Optional[KCurve] = None,
) -> Dict[str, str]:
    """Write one target's ``claims.md``, ``claims.json`` and figures (a vocals study)."""
    files = {}
    with atomic_path(out / CLAIMS_MD) as tmp:
        tmp.write_text(claims_markdown(report, extra=extra))
    files["claims_md"] = str(out / CLAIMS_MD)
    write_json(out / CLAIMS_JSON, {**report.to_json(), "study": dict(meta)})
    files["claims_json"] = str(out / CLAIMS_JSON)
    if plots:
        for key, fig in (
            ("curves", plot_claims_curves(report, converged=converged)),
            ("intervals", plot_claims_intervals(report)),
        ):
            with atomic_path(out / CLAIMS_PLOTS[key]) as tmp:
                save_figure(fig, tmp)
            files[f"plot_{key}"] = str(out / CLAIMS_PLOTS[key])
    return files


def targets_markdown(reports: Mapping[str, ClaimsReport], *, extra: Sequence[str] = ()) -> str:
    """``claims.md`` of a study of several targets: an introduction, then one part per target
    (:func:`claims_markdown`, its headings one level down)."""
    targets = list(reports)
    others = [t for t in targets if t != "vocals"]
    lines = [
        "# The seed's claims, per target -- ORACLE",
        "",
        f"**{ORACLE_NOTE}** For another target than vocals, read: the true stem of that target. "
        "Every number below is ORACLE.",
        "",
        f"Targets: {', '.join(targets)}; each target's runs are the same study (progressive k = 1..N, "
        "greedy by step loss and by SI-SDR, on every excerpt) against that target's own stem, decided "
        "on that target's rows alone.",
    ]
    if others:
        na = ", ".join(f"({c})" for c in VOCAL_ONLY_CLAIMS)
        lines.append(
            f"The seed made its claims on vocals. For {', '.join(others)}, (a)-(c) test whether its "
            "findings about the slices carry over to that stem (same measures, same rule); "
            f'{na}, "~70-80 % vocal separation quality", is about vocals only: its verdict there is '
            f"**{NOT_APPLICABLE}** (the measure is shown, not decided)."
        )
    lines.append("")
    for t, report in reports.items():
        md = claims_markdown(report, title=f"Target {t}: the seed's claims", extra=extra)
        lines += [("#" + line) if line.startswith("#") else line for line in md.splitlines()] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_target_claims(
    reports: Mapping[str, ClaimsReport],
    out: Path,
    *,
    plots: bool,
    extra: Sequence[str],
    meta: Mapping[str, Any],
    converged: Optional[Mapping[str, Optional[KCurve]]] = None,
) -> Dict[str, str]:
    """Write the files of a study of several targets (see the module docstring).

    Parameters
    ----------
    reports : mapping of str -> ClaimsReport
        Target -> its report, in report order.
    out : Path
    plots : bool
    extra : sequence of str
        Lines for each target's part (settings, convergence).
    meta : mapping
        The study's settings (``claims.json``'s ``study``).
    converged : mapping of str -> KCurve, optional
        Target -> its converged SI-SDR curve.

    Returns
    -------
    dict of str -> str
        ``claims_md``, ``claims_json`` and ``plot_<kind>`` (vocals) / ``plot_<kind>_<target>``.
    """
    files = {}
    with atomic_path(out / CLAIMS_MD) as tmp:
        tmp.write_text(targets_markdown(reports, extra=extra))
    files["claims_md"] = str(out / CLAIMS_MD)
    write_json(
        out / CLAIMS_JSON,
        {
            "oracle": True,
            "note": ORACLE_NOTE,
            "rule": RULE,
            "targets": {t: r.to_json() for t, r in reports.items()},
            "study": dict(meta),
        },
    )
    files["claims_json"] = str(out / CLAIMS_JSON)
    if plots:
        for t, report in reports.items():
            curve = None if converged is None else converged.get(t)
            names = plot_names(t)
            for key, fig in (
                ("curves", plot_claims_curves(report, converged=curve)),
                ("intervals", plot_claims_intervals(report)),
            ):
                with atomic_path(out / names[key]) as tmp:
                    save_figure(fig, tmp)
                files[f"plot_{key}" + ("" if t == "vocals" else f"_{t}")] = str(out / names[key])
    return files


def _round(x: Optional[float]) -> Optional[float]:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else round(float(x), 6)


def claims_frame(report: ClaimsReport) -> pd.DataFrame:
    """The claims table as a DataFrame (one row per claim; ORACLE numbers)."""
    return pd.DataFrame(
        [
            {
                "claim": f"({r.id}) {r.statement}",
                "measured per excerpt": r.measure,
                "claimed": r.direction,
                "median": _round(r.spread.median),
                "ci95_low": _round(r.spread.ci_low),
                "ci95_high": _round(r.spread.ci_high),
                "unit": r.unit,
                "tracks agreeing": f"{r.agree} of {r.total}",
                "verdict": r.verdict,
                "why": r.reason,
            }
            for r in report.rows
        ]
    )


def curves_frame(report: ClaimsReport) -> pd.DataFrame:
    """Per k: SI-SDR and step loss, median over tracks and 95 % interval (ORACLE)."""
    rows = []
    yss = report.yardstick.spreads if report.yardstick is not None else (None,) * len(report.si_sdr.k)
    for k, s, lo, ys in zip(report.si_sdr.k, report.si_sdr.spreads, report.loss.spreads, yss):
        rows.append(
            {
                "k": k,
                "si_sdr_median": _round(s.median),
                "si_sdr_ci95_low": _round(s.ci_low),
                "si_sdr_ci95_high": _round(s.ci_high),
                "loss_median (view k)": _round(lo.median),
                "loss_ci95_low": _round(lo.ci_low),
                "loss_ci95_high": _round(lo.ci_high),
                "yardstick_median": _round(ys.median) if ys is not None else None,
            }
        )
    return pd.DataFrame(rows)


def greedy_frame(report: ClaimsReport) -> pd.DataFrame:
    """The greedy orders: per criterion, each distinct first-three picks and its excerpts."""
    return pd.DataFrame(
        [
            {
                "greedy score": g.score,
                "first three picks": order,
                "excerpts": n,
                "of": g.n_excerpts,
                "best prefix SI-SDR median": _round(g.best_prefix.median),
            }
            for g in report.greedy
            for order, n in g.orders
        ]
    )
