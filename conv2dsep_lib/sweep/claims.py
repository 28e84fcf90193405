"""A claims study: the sweep that tests the seed's claims, and its report (``conv2dsep claims``).

:func:`run_claims` runs progressive k = 1..N (N = 18: one run gives every k's numbers)
and the greedy order by step loss and by SI-SDR (two settings, ``greedy_score``) on
every excerpt of every track, through :func:`~conv2dsep_lib.sweep.driver.run_sweep` --
so it is resumable and reuses finished runs like any sweep -- and writes, beside the
sweep's files in ``OUT``:

* ``claims.md`` -- one row per claim, decided by :data:`~conv2dsep_lib.results.claims.RULE`;
* ``claims.json`` -- the same, machine-readable;
* ``claims_curves.png`` (SI-SDR and step loss per k) and ``claims_intervals.png``.

**ORACLE**: every Conv2D run reads the true vocal; every number says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import pandas as pd

from ..core.config import MAX_SLICES
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_path, write_json
from ..results.claims import SEED_K, ClaimsReport, KCurve, claims_report
from ..results.repeats import Spread, agreement, spread_over_tracks, track_medians
from ..results.tables import read_table
from ..sources.demo_set import build_demo_set
from ..sources.layout import DEFAULT_DEMO_ROOT
from ..viz.claims import plot_claims_curves, plot_claims_intervals
from ..viz.common import save_figure
from .driver import SweepResult, run_sweep
from .grid import canonical_fixed
from .report import TABLE_NAME
from .tasks import RESULTS_NAME

__all__ = [
    "CONVERGED",
    "CONVERGED_DIR",
    "ConvergenceEffect",
    "convergence_effect",
    "CLAIMS_MD",
    "CLAIMS_JSON",
    "CLAIMS_PLOTS",
    "CLAIMS_SCORES",
    "TINY_CLAIMS",
    "ClaimsResult",
    "claims_markdown",
    "claims_frame",
    "curves_frame",
    "greedy_frame",
    "run_claims",
    "load_claims",
    "ensure_claims",
]

CLAIMS_MD = "claims.md"
CLAIMS_JSON = "claims.json"
CLAIMS_PLOTS = {"curves": "claims_curves.png", "intervals": "claims_intervals.png"}
#: The greedy criteria of the study: the seed's (step loss) and the common yardstick SI-SDR.
CLAIMS_SCORES = ("step_loss", "si_sdr")
#: Parameters the study sets itself (not allowed in ``fixed``).
_OWN = ("n_slices", "greedy", "greedy_score", "offset")
#: The tiny study :func:`ensure_claims` runs when a folder has none (notebook 07, tests).
TINY_CLAIMS: Mapping[str, Any] = {
    "n_slices": 3,
    "seed_k": 2,
    "fixed": {"num_iterations": 10},
    "seeds": (0, 1, 2),
}


#: Converged settings: at learning rate 0.01, 1000 steps reach 1 - 0.98**1000 = 100 % of the dB
#: correction (the seed's 100 reach 87 %).
CONVERGED: Mapping[str, Any] = {"num_iterations": 1000}
#: The converged study's sweep folder inside the claims folder.
CONVERGED_DIR = "converged"


@dataclass(frozen=True)
class ConvergenceEffect:
    """SI-SDR at the seed's k with converged settings minus with the study's settings (ORACLE).

    Attributes
    ----------
    settings : mapping
        The converged settings (:data:`CONVERGED`).
    k : int
    spread : Spread
        The difference per excerpt, median over a track's excerpts, then over tracks.
    lower, total : int
        Tracks whose SI-SDR is lower when converged, of the tracks with a value.
    """

    settings: Mapping[str, Any]
    k: int
    spread: Spread
    lower: int
    total: int

    def text(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return (
            f"Convergence ({shown}): SI-SDR(k={self.k}) converged minus as run: {self.spread.text()}; "
            f"lower in {self.lower} of {self.total} tracks (ORACLE)."
        )

    def to_json(self) -> Dict[str, Any]:
        s = self.spread
        return {
            "settings": dict(self.settings),
            "k": self.k,
            "median": s.median if s.n_tracks else None,
            "ci95": [s.ci_low, s.ci_high] if s.n_tracks else None,
            "tracks_lower": self.lower,
            "tracks": self.total,
            "oracle": True,
        }


def _si_at(table: Any, k: int, *, score: Optional[str]) -> Dict[Tuple[str, float], float]:
    out: Dict[Tuple[str, float], float] = {}
    for r in table.to_dict("records"):
        if r["method"] != "progressive" or int(r["k"]) != k:
            continue
        if score is not None and r.get("greedy_score") not in (score, None):
            continue
        v = r["si_sdr"]
        if v is not None and v == v:
            out.setdefault((str(r["track"]), float(r["excerpt"])), float(v))
    return out


def convergence_effect(default: Any, converged: Any, *, k: int) -> Optional[ConvergenceEffect]:
    """:class:`ConvergenceEffect` of two tables (the study's, the converged progressive runs'),
    over the excerpts both have; ``None`` when they share none."""
    a, b = _si_at(default, k, score="step_loss"), _si_at(converged, k, score=None)
    values: Dict[str, list] = {}
    for key in sorted(set(a) & set(b)):
        values.setdefault(key[0], []).append(b[key] - a[key])
    if not values:
        return None
    lower, total = agreement(track_medians(values), lambda v: v < 0)
    return ConvergenceEffect(dict(CONVERGED), k, spread_over_tracks(values), lower, total)


@dataclass(frozen=True)
class ClaimsResult:
    """What :func:`run_claims` did: the report, the sweep underneath, the files written."""

    report: ClaimsReport
    sweep: Optional[SweepResult]
    out: Path
    files: Mapping[str, str] = field(default_factory=dict)
    convergence: Optional[ConvergenceEffect] = None
    converged_sweep: Optional[SweepResult] = None
    converged_si_sdr: Optional[KCurve] = None


def _default_tracks() -> str:
    result = build_demo_set(DEFAULT_DEMO_ROOT)
    if result.skipped:
        raise ParameterError(
            "the demo set could not be prepared: "
            + "; ".join(f"{r.name}: {r.reason}" for r in result.skipped)
        )
    return str(Path(DEFAULT_DEMO_ROOT) / "rtg" / "100-window" / "*")


def _single_slices(out: Path, table: Any) -> Dict[Tuple[str, float], Tuple[str, float]]:
    """(track, excerpt) -> the greedy-by-SI-SDR first pick and its SI-SDR, from the runs' records."""
    wanted = {
        (str(r["track"]), str(r["setting"]))
        for r in table.to_dict("records")
        if r.get("greedy_score") == "si_sdr"
    }
    found: Dict[Tuple[str, float], Tuple[str, float]] = {}
    for path in sorted((out / "runs").glob(f"*/*/{RESULTS_NAME}")):
        try:
            data = json.loads(path.read_text())
            info, greedy = data["sweep"], data.get("greedy")
            if (
                info["kind"] != "experiment"
                or greedy is None
                or (info["track"], info["setting"]) not in wanted
            ):
                continue
            score = greedy["scores"][0]
            if score is None:
                continue
            found[(info["track"], float(info["settings"]["offset"]))] = (greedy["sequence"][0], -float(score))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            continue
    return found


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


def _write(
    report: ClaimsReport,
    out: Path,
    *,
    plots: bool,
    extra: Sequence[str],
    meta: Mapping[str, Any],
    converged: Optional[KCurve] = None,
) -> Dict[str, str]:
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


def run_claims(
    tracks: Optional[PathLike] = None,
    *,
    out: PathLike,
    musdb: Optional[PathLike] = None,
    subset: str = "test",
    names: Optional[Sequence[str]] = None,
    excerpts: Any = None,
    fixed: Optional[Mapping[str, Any]] = None,
    n_slices: int = MAX_SLICES,
    seed_k: int = SEED_K,
    workers: int = 1,
    bss: bool = False,
    plots: bool = True,
    progress: bool = False,
    arguments: Optional[Mapping[str, Any]] = None,
    yes: bool = False,
    converged: bool = False,
) -> ClaimsResult:
    """Run (or complete) a claims study and write ``claims.md``, ``claims.json`` and figures.

    Parameters
    ----------
    tracks : glob or folder, optional
        Prepared folders; default (with no *musdb*): the demo set (prepared first if needed).
    out : path
        The study's folder (a sweep folder: ``sweep.csv``, ``runs/``, ... and the claims files).
    musdb, subset, names
        A MUSDB18 root instead of *tracks*; only these track names.
    excerpts : str, optional
        ``"0,30,60"``, ``"N"`` or ``"all"`` (:mod:`.excerpts`); default one excerpt at 0 s.
    fixed : mapping, optional
        Config fields for every run (``--set``), e.g. ``{"num_iterations": 1000}``; not
        ``n_slices``, ``greedy``, ``greedy_score`` or ``offset`` (the study sets them).
    n_slices : int
        N, the last k (18; smaller only for a quick test).
    seed_k : int
        The k standing for the seed's 8 (8; smaller only for a quick test, <= *n_slices*).
    workers, bss, plots, progress, arguments, yes
        As :func:`~conv2dsep_lib.sweep.driver.run_sweep` (BSS Eval off by default: the
        claims need SI-SDR only).
    converged : bool
        Also run progressive 1..N with :data:`CONVERGED` settings (a sweep in
        ``OUT/converged/``, resumable too) and report convergence's effect on SI-SDR at
        the seed's k (:class:`ConvergenceEffect`).

    Returns
    -------
    ClaimsResult

    Raises
    ------
    ParameterError
        Before any run: bad options (as a sweep), *fixed* naming a parameter the study sets.
    """
    user = canonical_fixed(fixed)
    own = [k for k in _OWN if k in user]
    if own:
        raise ParameterError(
            f"--set {own[0]} is set by the claims study itself: allowed config fields such as iterations, "
            "learning_rate, clip_db, strategy"
        )
    if isinstance(seed_k, bool) or not isinstance(seed_k, int) or not 1 <= seed_k <= n_slices:
        raise ParameterError(f"seed_k={seed_k!r} is invalid: allowed an integer 1..{n_slices}")
    if tracks is None and musdb is None:
        tracks = _default_tracks()
    res = run_sweep(
        tracks,
        {"greedy_score": list(CLAIMS_SCORES)},
        out=out,
        fixed={**user, "n_slices": n_slices, "greedy": True},
        musdb=musdb,
        subset=subset,
        names=names,
        workers=workers,
        bss=bss,
        baselines=True,
        plots=plots,
        progress=progress,
        arguments=arguments,
        yes=yes,
        excerpts=excerpts,
    )
    conv = None
    if converged:
        conv = run_sweep(
            tracks,
            None,
            out=Path(out) / CONVERGED_DIR,
            fixed={**user, **CONVERGED, "n_slices": n_slices, "greedy": False},
            musdb=musdb,
            subset=subset,
            names=names,
            workers=workers,
            bss=bss,
            baselines=False,
            plots=False,
            progress=progress,
            arguments=arguments,
            yes=yes,
            excerpts=excerpts,
        )
    meta = {
        "n_slices": n_slices,
        "seed_k": seed_k,
        "excerpts": None if excerpts is None else str(excerpts),
        "fixed": dict(user),
        "runs": res.counts.to_json(),
    }
    return _report(
        res.out,
        res.table,
        seed_k=seed_k,
        plots=plots,
        sweep=res,
        meta=meta,
        converged=None if conv is None else conv.table,
        converged_sweep=conv,
    )


def _report(
    out: Path,
    table: Any,
    *,
    seed_k: int,
    plots: bool,
    sweep: Optional[SweepResult],
    meta: Mapping[str, Any],
    converged: Any = None,
    converged_sweep: Optional[SweepResult] = None,
    write: bool = True,
) -> ClaimsResult:
    report = claims_report(table, seed_k=seed_k, single_slices=_single_slices(out, table))
    effect = None if converged is None else convergence_effect(table, converged, k=seed_k)
    conv_curve = None if converged is None else claims_report(converged, seed_k=seed_k).si_sdr
    if effect is not None:
        report = replace(report, findings=report.findings + (effect.text(),))
    extra = []
    if meta.get("fixed"):
        extra.append(
            "Settings for every run: " + ", ".join(f"{k}={v}" for k, v in meta["fixed"].items()) + "."
        )
    else:
        extra.append("Settings: the seed's CONFIG (100 iterations at learning rate 0.01, strategy 3).")
    if effect is None:
        extra.append(
            "Convergence's effect is not part of this study: run it with `--converged` (progressive runs "
            f"with {', '.join(f'{k}={v}' for k, v in CONVERGED.items())} in {CONVERGED_DIR}/)."
        )
    else:
        extra.append(f"Convergence: progressive runs with converged settings are in {CONVERGED_DIR}/.")
    meta = {**meta, "convergence": None if effect is None else effect.to_json()}
    files = _write(report, out, plots=plots, extra=extra, meta=meta, converged=conv_curve) if write else {}
    return ClaimsResult(
        report=report,
        sweep=sweep,
        out=out,
        files=files,
        convergence=effect,
        converged_sweep=converged_sweep,
        converged_si_sdr=conv_curve,
    )


def load_claims(folder: PathLike) -> ClaimsResult:
    """The report of a finished claims study in *folder* (recomputed from its ``sweep.csv``).

    Raises
    ------
    ParameterError
        *folder* holds no claims study.
    """
    out = Path(folder)
    try:
        meta = json.loads((out / CLAIMS_JSON).read_text())["study"]
    except (OSError, ValueError, KeyError):
        raise ParameterError(
            f"{str(out)!r} holds no claims study ({CLAIMS_JSON}): run `conv2dsep claims --out {out}` first"
        ) from None
    table = read_table(out / TABLE_NAME)
    conv = out / CONVERGED_DIR / TABLE_NAME
    return _report(
        out,
        table,
        seed_k=int(meta["seed_k"]),
        plots=False,
        sweep=None,
        meta=meta,
        converged=read_table(conv) if meta.get("convergence") and conv.is_file() else None,
        write=False,
    )


def ensure_claims(
    folder: PathLike, *, demo_root: Optional[PathLike] = None, progress: bool = False
) -> ClaimsResult:
    """The claims study in *folder*; when it has none, a tiny one on the demo set first.

    The tiny study (:data:`TINY_CLAIMS`): the three demo songs, k = 1..3 (k = 2 standing
    for the seed's 8), 10 iterations, and the converged progressive runs, SI-SDR only, in
    this process (seconds) -- it checks
    the machinery and decides nothing about the seed's numbers.
    """
    out = Path(folder)
    if (out / CLAIMS_JSON).is_file() and (out / TABLE_NAME).is_file():
        return load_claims(out)
    root = Path(DEFAULT_DEMO_ROOT if demo_root is None else demo_root)
    result = build_demo_set(root, seeds=TINY_CLAIMS["seeds"])
    if result.skipped:
        raise ParameterError(
            "the demo set could not be prepared: "
            + "; ".join(f"{r.name}: {r.reason}" for r in result.skipped)
        )
    return run_claims(
        str(root / "rtg" / "100-window" / "*"),
        out=out,
        names=[f"demo_song_{s}" for s in TINY_CLAIMS["seeds"]],
        fixed=TINY_CLAIMS["fixed"],
        n_slices=TINY_CLAIMS["n_slices"],
        seed_k=TINY_CLAIMS["seed_k"],
        converged=True,
        progress=progress,
        arguments={"ensure_claims": str(out)},
    )


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
