"""What a sweep writes besides the runs: the manifest, the summary (CSV + markdown), the plots.

Layout of a sweep folder ``DIR``::

    DIR/sweep.csv              tidy table: one row per track x excerpt x setting x method (x k)
    DIR/sweep_summary.csv      median, IQR (q25, q75), bootstrap 95 % interval over tracks (of each
                               track's median over its excerpts) per setting x method x k
    DIR/sweep_summary.md       the ORACLE statement, headline table, notes, failures
    DIR/sweep.json             manifest: grid, settings, tracks, code version, counts, failures
    DIR/si_sdr_vs_n_slices.png  greedy_vs_original.png  strategy_comparison.png
    DIR/runs/<track>/<setting>/results.json     one finished run (or failed.json)
    DIR/runs/<track>/<target>/<setting>/...      a run for another target than vocals

With several targets (``--targets``) the summary CSV has a ``target`` column, the markdown
one headline block per target and each figure one row of panels per target.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd
from matplotlib.figure import Figure

from ..core.files import PathLike, atomic_path
from ..results.aggregate import by_target, greedy_pairs, headline, strategy_groups, summarise
from ..results.record import ORACLE_NOTE
from ..results.tables import write_table
from ..separators.registry import TARGET_BASELINES
from ..sources.stems import DEFAULT_TARGETS
from ..viz.common import save_figure
from ..viz.sweep import plot_sweep_greedy, plot_sweep_n_slices, plot_sweep_strategies
from .plan import SweepPlan

__all__ = [
    "TABLE_NAME",
    "SUMMARY_NAME",
    "SUMMARY_MD_NAME",
    "MANIFEST_NAME",
    "PLOT_NAMES",
    "Counts",
    "RunFailure",
    "SweepManifest",
    "code_label",
    "write_summary",
    "failure_rows",
]

TABLE_NAME = "sweep.csv"
SUMMARY_NAME = "sweep_summary.csv"
SUMMARY_MD_NAME = "sweep_summary.md"
MANIFEST_NAME = "sweep.json"
PLOT_NAMES = {
    "n_slices": "si_sdr_vs_n_slices.png",
    "greedy": "greedy_vs_original.png",
    "strategy": "strategy_comparison.png",
}


def code_label(code: Mapping[str, str]) -> str:
    """``"0.1.0+<hash>"``."""
    return f"{code.get('version')}+{code.get('sources')}"


@dataclass(frozen=True)
class Counts:
    """Runs in the plan, and how many ran, were found finished (cached) or failed."""

    runs: int
    ran: int = 0
    cached: int = 0
    failed: int = 0

    @property
    def remaining(self) -> int:
        return self.runs - self.ran - self.cached - self.failed

    def to_json(self) -> Dict[str, int]:
        return {
            "runs": self.runs,
            "ran": self.ran,
            "cached": self.cached,
            "failed": self.failed,
            "remaining": self.remaining,
        }


@dataclass(frozen=True)
class RunFailure:
    """A failed run: its id, the error's type and first line, and its ``failed.json``."""

    run: str
    type: str
    message: str
    file: str

    def to_json(self) -> Dict[str, str]:
        return {"run": self.run, "type": self.type, "message": self.message, "file": self.file}


@dataclass(frozen=True)
class SweepManifest:
    """The content of ``sweep.json``."""

    plan: SweepPlan
    status: str
    counts: Counts
    started: str
    seconds: float
    failures: Tuple[RunFailure, ...] = ()
    warnings: Tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    notes: Tuple[str, ...] = ()
    arguments: Optional[Mapping[str, Any]] = None

    def to_json(self) -> Dict[str, Any]:
        p = self.plan
        out = self._json()
        if p.targets != DEFAULT_TARGETS:  # a vocals sweep's manifest is today's
            out = {
                **{k: out[k] for k in ("oracle", "note", "status", "arguments", "source")},
                "targets": list(p.targets),
                **out,
            }
        return out

    def _json(self) -> Dict[str, Any]:
        p = self.plan
        return {
            "oracle": True,
            "note": ORACLE_NOTE,
            "status": self.status,
            "arguments": dict(self.arguments or {}),
            "source": p.source.to_json(),
            "grid": dict(p.grid),
            "fixed": dict(p.fixed),
            "parameters": list(p.parameters),
            "code": dict(p.code),
            "bss": bool(p.tasks[0].bss) if p.tasks else None,
            "tracks": [{"name": t.name, "folder": t.slug, "identity": dict(t.identity)} for t in p.tracks],
            "settings": [{"setting": k, **s} for k, s in zip(p.setting_keys, p.settings)],
            "excerpts": None if p.excerpts is None else p.excerpts.to_json(),
            "offsets": {name: list(o) for name, o in p.offsets.items()},
            "counts": self.counts.to_json(),
            "failures": [f.to_json() for f in self.failures],
            "warnings": list(self.warnings),
            "started": self.started,
            "finished": (
                _dt.datetime.now().isoformat(timespec="seconds") if self.status != "running" else None
            ),
            "seconds": round(self.seconds, 2),
            "files": dict(self.files),
            "notes": list(self.notes),
        }


def _md_table(rows: Sequence[Mapping[str, Any]], *, floatfmt: str = ".2f") -> str:
    if not rows:
        return "(no finished runs)\n"
    cols = list(rows[0])
    for r in rows[1:]:
        cols += [c for c in r if c not in cols]

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "n/a"
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _save_png(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        save_figure(fig, tmp)
    return path


def _names(kind: str, target: str = "vocals") -> str:
    """*target*'s baselines of *kind* (``oracle``, ``floor``, ``blind``), as the registry has them."""
    return ", ".join(name for name, k in TARGET_BASELINES[target] if k == kind)


def _blind_per_target(targets) -> str:
    """``"repet_sim, hpss, ... for vocals; hpss_percussive for drums; none for bass"``."""
    return "; ".join(f"{_names('blind', t) or 'none'} for {t}" for t in targets)


def write_summary(
    table: pd.DataFrame,
    out: PathLike,
    *,
    plots: bool = True,
    manifest: Optional[SweepManifest] = None,
    summary: Optional[pd.DataFrame] = None,
) -> Tuple[Dict[str, str], List[str]]:
    """Write ``sweep_summary.csv``, ``sweep_summary.md`` and the plots into *out*.

    Parameters
    ----------
    table : DataFrame
        The tidy table.
    out : path
        The sweep folder.
    plots : bool
        Also the PNGs (``si_sdr_vs_n_slices.png``, ``greedy_vs_original.png``,
        ``strategy_comparison.png`` -- the last only when the strategy varies).
    manifest : SweepManifest, optional
        Counts, warnings and failures go into the markdown.
    summary : DataFrame, optional
        The table's :func:`~conv2dsep_lib.results.aggregate.summarise`, if the caller has it.

    Returns
    -------
    files : dict of str -> str
    notes : list of str
    """
    out = Path(out)
    if summary is None:
        summary = summarise(table)
    files = {"summary": str(write_table(summary, out / SUMMARY_NAME))}
    notes: List[str] = []
    parts = by_target(table)
    several = list(parts) != list(DEFAULT_TARGETS)
    if plots and len(table):
        files["plot_n_slices"] = str(_save_png(plot_sweep_n_slices(table), out / PLOT_NAMES["n_slices"]))
        if any(len(greedy_pairs(sub)) for sub in parts.values()):
            files["plot_greedy"] = str(_save_png(plot_sweep_greedy(table), out / PLOT_NAMES["greedy"]))
        else:
            notes.append("no greedy runs in this sweep (greedy: false): greedy_vs_original.png not written")
        groups = [strategy_groups(sub) for sub in parts.values()]
        if any(sg.varies for sg in groups):
            files["plot_strategy"] = str(
                _save_png(plot_sweep_strategies(table), out / PLOT_NAMES["strategy"])
            )
        else:
            notes.append(
                f"the gain strategy does not vary in this sweep (strategy {groups[0].fixed} only): "
                "strategy_comparison.png not written; add e.g. 'strategy: [1, 2, 3, 4]' to the grid"
            )
    lines = [
        "# Sweep summary -- ORACLE",
        "",
        f"**{ORACLE_NOTE}** Every row of the Conv2D method "
        "(progressive, greedy, greedy_best) has oracle=True; the baselines say per row whether "
        f"they read the true vocal ({_names('oracle')}) or not (the {_names('floor')} floor; "
        f"blind: {_names('blind')}).",
        "",
    ]
    if several:
        lines[-1:-1] = [
            "",
            f"Targets: {', '.join(parts)}. Each target's runs read that target's true stem (ORACLE) and are "
            "compared with that target's own baselines (floor, oracle masks, and the blind ones that "
            f"exist for it: {_blind_per_target(parts)}); one block per target.",
        ]
    if manifest is not None:
        c = manifest.counts
        lines += [
            f"- status: {manifest.status}; runs {c.runs}: ran {c.ran}, cached {c.cached}, failed "
            f"{c.failed}, remaining {c.remaining}",
            f"- tracks: {len(manifest.plan.tracks)}; settings: {len(manifest.plan.settings)}; "
            f"code {code_label(manifest.plan.code)}; BSS Eval: "
            f"{manifest.plan.tasks[0].bss if manifest.plan.tasks else None}",
            "",
        ]
    repeats = (
        "excerpt" in table.columns
        and len(table)
        and table.groupby(["track", "setting"])["excerpt"].nunique().max() > 1
    )
    lines += [
        "## Median SI-SDR over tracks (dB)",
        "",
        "`progressive k=N`: all N slices in the original order; `best k`: the k with the highest "
        "median; baselines beside. "
        + (
            "Excerpts are repeats: each track's median over its excerpts first, then the median over tracks. "
            if repeats
            else ""
        )
        + "Full statistics (median, q25, q75, IQR and the bootstrap 95 % interval of the median, of every "
        f"metric) in `{SUMMARY_NAME}`, one row per track and excerpt in `{TABLE_NAME}`.",
        "",
    ]
    if several:  # one block per target, each with its own baselines
        summaries = by_target(summary)
        for target, sub in parts.items():
            part = summaries[target].drop(columns="target")
            lines += [
                f"### {target}",
                "",
                _md_table(headline(sub.drop(columns="target"), summary=part).to_dict("records")),
            ]
    else:
        lines.append(_md_table(headline(table, summary=summary).to_dict("records")))
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    if manifest is not None and manifest.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in manifest.warnings] + [""]
    if manifest is not None and manifest.failures:
        lines += (
            ["## Failed runs", ""] + [f"- `{f.run}`: {f.type}: {f.message}" for f in manifest.failures] + [""]
        )
    with atomic_path(out / SUMMARY_MD_NAME) as tmp:
        tmp.write_text("\n".join(lines).rstrip("\n") + "\n")
    files["summary_md"] = str(out / SUMMARY_MD_NAME)
    return files, notes


def failure_rows(out: PathLike) -> pd.DataFrame:
    """The failed runs listed in ``DIR/sweep.json``: ``run``, ``type``, ``message``, ``file``."""
    p = Path(out) / MANIFEST_NAME
    columns = ["run", "type", "message", "file"]
    if not p.is_file():
        return pd.DataFrame(columns=columns)
    failures = [
        RunFailure(**{k: f.get(k) for k in columns}) for f in json.loads(p.read_text()).get("failures", [])
    ]
    return pd.DataFrame([f.to_json() for f in failures], columns=columns)
