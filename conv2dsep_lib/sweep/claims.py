"""A claims study: the sweep that tests the seed's claims, and its report (``conv2dsep claims``).

:func:`run_claims` runs progressive k = 1..N (N = 18: one run gives every k's numbers)
and the greedy order by step loss and by SI-SDR (two settings, ``greedy_score``) on
every excerpt of every track, through :func:`~conv2dsep_lib.sweep.driver.run_sweep` --
so it is resumable and reuses finished runs like any sweep -- and writes, beside the
sweep's files in ``OUT``:

* ``claims.md`` -- one row per claim, decided by :data:`~conv2dsep_lib.results.claims.RULE`;
* ``claims.json`` -- the same, machine-readable;
* ``claims_curves.png`` (SI-SDR and step loss per k) and ``claims_intervals.png``.

With ``targets`` (``--targets vocals,drums``) the study's sweep runs every target against
its own stem and the claims are decided per target (:class:`TargetClaims`;
:mod:`.claims_files` writes a part per target); (d), a claim about vocal separation, is
*not applicable* to another target.  The default, vocals, writes today's files.

**ORACLE**: every Conv2D run reads the true vocal (another target: its true stem); every
number says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ..core.config import MAX_SLICES
from ..core.errors import ParameterError
from ..core.files import PathLike
from ..results.claims import SEED_K, ClaimsReport, KCurve, claims_report
from ..results.repeats import Spread, agreement, spread_over_tracks, track_medians
from ..results.tables import read_table
from ..sources.demo_set import build_demo_set
from ..sources.layout import DEFAULT_DEMO_ROOT
from ..sources.stems import DEFAULT_TARGETS
from .claims_files import (
    CLAIMS_JSON,
    CLAIMS_MD,
    CLAIMS_PLOTS,
    claims_frame,
    claims_markdown,
    curves_frame,
    greedy_frame,
    write_claims,
    write_target_claims,
)
from .driver import SweepResult, run_sweep
from .grid import canonical_fixed
from .report import TABLE_NAME
from .targets import sweep_targets
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
    "TargetClaims",
    "claims_markdown",
    "claims_frame",
    "curves_frame",
    "greedy_frame",
    "run_claims",
    "load_claims",
    "ensure_claims",
]

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
class TargetClaims:
    """One target's part of a claims study (ORACLE).

    Attributes
    ----------
    target : str
    report : ClaimsReport
        The claims decided on this target's rows.
    convergence : ConvergenceEffect or None
        With ``converged``: convergence's effect on this target's SI-SDR at the seed's k.
    converged_si_sdr : KCurve or None
        This target's SI-SDR per k with converged settings.
    """

    target: str
    report: ClaimsReport
    convergence: Optional[ConvergenceEffect] = None
    converged_si_sdr: Optional[KCurve] = None


@dataclass(frozen=True)
class ClaimsResult:
    """What :func:`run_claims` did: the report, the sweep underneath, the files written.

    ``report``, ``convergence`` and ``converged_si_sdr`` are the first target's (vocals when
    studied); ``targets`` holds every target's (:class:`TargetClaims`, in report order).
    """

    report: ClaimsReport
    sweep: Optional[SweepResult]
    out: Path
    files: Mapping[str, str] = field(default_factory=dict)
    convergence: Optional[ConvergenceEffect] = None
    converged_sweep: Optional[SweepResult] = None
    converged_si_sdr: Optional[KCurve] = None
    targets: Mapping[str, TargetClaims] = field(default_factory=dict)


def _default_tracks() -> str:
    result = build_demo_set(DEFAULT_DEMO_ROOT)
    if result.skipped:
        raise ParameterError(
            "the demo set could not be prepared: "
            + "; ".join(f"{r.name}: {r.reason}" for r in result.skipped)
        )
    return str(Path(DEFAULT_DEMO_ROOT) / "rtg" / "100-window" / "*")


def _of(table: Any, target: str) -> Any:
    """The rows of *target* (a table without a ``target`` column is vocals)."""
    if table is None or "target" not in table.columns:
        return table
    return table[table["target"].astype(str) == target]


def _single_slices(
    out: Path, table: Any, target: str = "vocals"
) -> Dict[Tuple[str, float], Tuple[str, float]]:
    """(track, excerpt) -> the greedy-by-SI-SDR first pick and its SI-SDR, from the runs' records
    (of *target*: its runs are in ``runs/<track>/<target>/`` unless vocals)."""
    wanted = {
        (str(r["track"]), str(r["setting"]))
        for r in _of(table, target).to_dict("records")
        if r.get("greedy_score") == "si_sdr"
    }
    found: Dict[Tuple[str, float], Tuple[str, float]] = {}
    pattern = f"*/*/{RESULTS_NAME}" if target == "vocals" else f"*/{target}/*/{RESULTS_NAME}"
    for path in sorted((out / "runs").glob(pattern)):
        try:
            data = json.loads(path.read_text())
            info, greedy = data["sweep"], data.get("greedy")
            if (
                info["kind"] != "experiment"
                or greedy is None
                or (info["track"], info["setting"]) not in wanted
                or str(data.get("input", {}).get("target", "vocals")) != target
            ):
                continue
            score = greedy["scores"][0]
            if score is None:
                continue
            found[(info["track"], float(info["settings"]["offset"]))] = (greedy["sequence"][0], -float(score))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            continue
    return found


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
    targets: Any = None,
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
    targets : str or sequence of str, optional
        ``"vocals,drums"`` or a list: the study runs for each target against its own stem
        (a sweep with ``targets``) and decides the claims per target
        (:attr:`ClaimsResult.targets`); for another target than vocals (a)-(c) test whether
        the seed's findings carry over, (d) is not applicable.  Default vocals: today's study.

    Returns
    -------
    ClaimsResult

    Raises
    ------
    ParameterError
        Before any run: bad options (as a sweep), *fixed* naming a parameter the study sets,
        bad *targets* or a track without (or with a silent) stem for one of them.
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
    study_targets = sweep_targets(targets)
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
        targets=targets,
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
            targets=targets,
        )
    meta = {
        "n_slices": n_slices,
        "seed_k": seed_k,
        "excerpts": None if excerpts is None else str(excerpts),
        "fixed": dict(user),
        "runs": res.counts.to_json(),
    }
    if study_targets != DEFAULT_TARGETS:  # a vocals study's claims.json is today's
        meta["targets"] = list(study_targets)
    return _report(
        res.out,
        res.table,
        seed_k=seed_k,
        plots=plots,
        sweep=res,
        meta=meta,
        converged=None if conv is None else conv.table,
        converged_sweep=conv,
        targets=study_targets,
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
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> ClaimsResult:
    parts = {t: _target_claims(out, table, t, seed_k=seed_k, converged=converged) for t in targets}
    first = parts[targets[0]]
    extra = []
    if meta.get("fixed"):
        extra.append(
            "Settings for every run: " + ", ".join(f"{k}={v}" for k, v in meta["fixed"].items()) + "."
        )
    else:
        extra.append("Settings: the seed's CONFIG (100 iterations at learning rate 0.01, strategy 3).")
    if converged is None:
        extra.append(
            "Convergence's effect is not part of this study: run it with `--converged` (progressive runs "
            f"with {', '.join(f'{k}={v}' for k, v in CONVERGED.items())} in {CONVERGED_DIR}/)."
        )
    else:
        extra.append(f"Convergence: progressive runs with converged settings are in {CONVERGED_DIR}/.")
    files: Dict[str, str] = {}
    if tuple(targets) == DEFAULT_TARGETS:  # today's study and files
        effect = first.convergence
        meta = {**meta, "convergence": None if effect is None else effect.to_json()}
        if write:
            files = write_claims(
                first.report, out, plots=plots, extra=extra, meta=meta, converged=first.converged_si_sdr
            )
    else:
        effects = {t: None if p.convergence is None else p.convergence.to_json() for t, p in parts.items()}
        meta = {**meta, "convergence": effects if converged is not None else None}
        if write:
            files = write_target_claims(
                {t: p.report for t, p in parts.items()},
                out,
                plots=plots,
                extra=extra,
                meta=meta,
                converged={t: p.converged_si_sdr for t, p in parts.items()},
            )
    return ClaimsResult(
        report=first.report,
        sweep=sweep,
        out=out,
        files=files,
        convergence=first.convergence,
        converged_sweep=converged_sweep,
        converged_si_sdr=first.converged_si_sdr,
        targets=parts,
    )


def _target_claims(out: Path, table: Any, target: str, *, seed_k: int, converged: Any) -> TargetClaims:
    """One target's claims, convergence effect and converged curve."""
    rows = _of(table, target)
    report = claims_report(
        rows, seed_k=seed_k, single_slices=_single_slices(out, table, target), target=target
    )
    if converged is None:
        return TargetClaims(target, report)
    conv_rows = _of(converged, target)
    effect = convergence_effect(rows, conv_rows, k=seed_k)
    curve = claims_report(conv_rows, seed_k=seed_k, target=target).si_sdr
    if effect is not None:
        report = replace(report, findings=report.findings + (effect.text(),))
    return TargetClaims(target, report, effect, curve)


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
    targets = tuple(meta.get("targets") or DEFAULT_TARGETS)
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
        targets=targets,
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
