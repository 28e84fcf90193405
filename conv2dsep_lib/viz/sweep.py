"""Figures of a sweep, drawn from its tidy table (:mod:`conv2dsep_lib.results.aggregate`).

A table of several targets (``sweep --targets vocals,drums``) gets one row of panels per
target, each titled with its target and drawn from that target's rows only (its own
baselines); a vocals table draws exactly the figure it always did.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..method.strategies import STRATEGY_NAMES
from ..results.aggregate import by_target, greedy_pairs, n_slices_curves, strategy_groups, table_targets
from ..results.tables import TARGET
from .common import DB2, ORACLE, distinct_colors, legend_outside, nan_array, no_data, plain_log_axis

__all__ = ["SWEEP_LABELS", "plot_sweep_n_slices", "plot_sweep_greedy", "plot_sweep_strategies"]

#: Axis labels of the table's metrics.
SWEEP_LABELS = {
    "loss": f"fingerprint step loss ({DB2}, in view k)",
    "yardstick": f"yardstick: distance to the vocal, mean of 19 views ({DB2})",
    "yardstick_raw": f"yardstick: distance to the vocal, raw view ({DB2})",
    "si_sdr": "SI-SDR (dB)",
    "si_sdr_i": "SI-SDR improvement (dB)",
    "sdr": "SDR (dB)",
    "sir": "SIR (dB)",
    "sar": "SAR (dB)",
}
_BASELINE_STYLE = {"oracle": ("tab:green", "--"), "blind": ("tab:purple", ":"), "floor": ("0.35", "-.")}
_BASELINE_COLOR = {
    "oracle_irm": "tab:green",
    "oracle_ibm": "darkolivegreen",
    "repet_sim": "tab:purple",
    "hpss": "tab:brown",
    "hpss_percussive": "tab:orange",
    "bandpass": "tab:cyan",
    "learned": "tab:pink",
    "mixture": "0.35",
}


def _panels(table: pd.DataFrame) -> Tuple[List[str], Dict[str, pd.DataFrame], bool]:
    """The table's targets, each one's rows, and whether titles name the target (not for a
    vocals-only table: its figures are the ones drawn before targets existed)."""
    targets = list(table_targets(table))
    parts = {targets[0]: table} if len(targets) == 1 else by_target(table)
    return targets, parts, targets != [TARGET]


def _oracle(named: bool) -> str:
    """The ORACLE label of a whole figure: each target's runs read that target's true stem."""
    return ORACLE.replace("the true vocal", "each target's true stem") if named else ORACLE


def _named(target: Optional[str], text: str) -> str:
    """*text* prefixed with its target (``None``: unchanged); another target's runs read that
    target's true stem, and the ORACLE label says so."""
    if target is None:
        return text
    if target != TARGET:
        text = text.replace(ORACLE, f"ORACLE (uses the true {target} stem)")
    return f"[{target}] {text}"


def plot_sweep_n_slices(table: pd.DataFrame, *, metric: str = "si_sdr") -> Figure:
    """A sweep's quality against the number of slices, with the spread across tracks.

    Parameters
    ----------
    table : DataFrame
        The tidy sweep table (:func:`conv2dsep_lib.results.tables.read_table`).
    metric : {"si_sdr", "si_sdr_i", "sdr", "sir", "sar", "loss"}

    Returns
    -------
    Figure
        One line per combination of the other varied settings: the median over
        tracks after k slices (progressive, original order) of each track's median over
        its excerpts, a band from the 25th to the 75th percentile, bars of the bootstrap
        95 % interval of the median, and (with one combination) each track faintly; the
        baselines' medians as horizontal lines.  A combination with one track is that
        track's line (its median over excerpts), without a band.  Title says ORACLE; the
        legend is outside the axes, to the right.

    See Also
    --------
    conv2dsep_lib.results.aggregate.n_slices_curves : the numbers drawn.
    """
    targets, parts, named = _panels(table)
    fig = Figure(figsize=(11, 5.2 * len(targets)))
    for ax, t in zip(fig.subplots(len(targets), 1, squeeze=False)[:, 0], targets):
        _draw_n_slices(ax, parts[t], metric=metric, target=t if named else None)
    fig.tight_layout()
    return fig


def _draw_n_slices(ax, table: pd.DataFrame, *, metric: str, target: Optional[str]) -> None:
    """One target's "quality vs slices" panel (see :func:`plot_sweep_n_slices`)."""
    d = n_slices_curves(table, metric=metric)
    label = SWEEP_LABELS[metric]
    if not d.curves:
        no_data(ax, "no finished progressive runs in this sweep")
    all_k: set = set()
    colors = distinct_colors(len(d.curves))
    for c, color in zip(d.curves, colors):
        k = np.asarray(c.k)
        all_k.update(c.k)
        n = len(c.tracks)
        if n == 1:  # one track: its values, no median, no band
            ax.plot(k, nan_array(c.median), "o-", color=color, clip_on=False, label=f"{c.label} (1 track)")
            continue
        if len(d.curves) == 1:
            for j, vals in enumerate(c.tracks.values()):
                ax.plot(
                    k,
                    nan_array(vals),
                    "-",
                    color=color,
                    alpha=0.25,
                    lw=0.8,
                    label="single tracks" if j == 0 else None,
                )
        ax.fill_between(k, nan_array(c.q25), nan_array(c.q75), color=color, alpha=0.18, lw=0)
        med = nan_array(c.median)
        if len(c.ci_low) == len(c.k):
            lo, hi = nan_array(c.ci_low), nan_array(c.ci_high)
            ax.errorbar(
                k, med, yerr=np.vstack([med - lo, hi - med]), fmt="none", ecolor=color, capsize=3, lw=1.0
            )
        per = f", {c.n_excerpts} excerpts" if c.n_excerpts > n else ""
        ax.plot(
            k,
            med,
            "o-",
            color=color,
            clip_on=False,
            label=f"{c.label} (median of {n} tracks{per}; IQR band, 95 % CI bars)",
        )
    if d.curves:
        agg = "" if d.n_tracks == 1 else ", median"
        for name, (kind, median) in d.baselines.items():
            if median is None:
                continue
            color, ls = _BASELINE_STYLE.get(kind, ("0.5", "--"))
            color = _BASELINE_COLOR.get(name, color)
            ax.axhline(median, color=color, ls=ls, lw=1.1, label=f"{name} ({kind}){agg}")
        ax.set_xticks(sorted(all_k))
        ax.set_xlabel("slices k (progressive: slices 1..k in the original order)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        n_entries = len(ax.get_legend_handles_labels()[1])
        legend_outside(ax, ncol=1 if n_entries <= 24 else 2)
    over = "1 track" if d.n_tracks == 1 else f"median over {d.n_tracks} tracks"
    if any(c.n_excerpts > len(c.tracks) for c in d.curves):
        over += " (each track: median over its excerpts)"
    ax.set_title(_named(target, f"Conv2D fingerprinting: {label} vs slices, {over}\n{ORACLE}"), fontsize=10)


def plot_sweep_greedy(table: pd.DataFrame, *, metric: str = "si_sdr") -> Figure:
    """Greedy order against the original order, one point per track x setting.

    Left: the common yardstick (fingerprint distance to the vocal, mean of 19 views; the
    step loss, each in its last slice's view, for tables recorded without it) after all N
    slices (original order on x, greedy order and its best prefix on y; below the diagonal =
    greedy lower).  Right:
    *metric* of the same extractions (above the diagonal = greedy better).  The
    counts in the titles show whether the two criteria agree.

    Returns
    -------
    Figure
        Title says ORACLE.

    See Also
    --------
    conv2dsep_lib.results.aggregate.greedy_pairs : the numbers drawn.
    """
    targets, parts, named = _panels(table)
    fig = Figure(figsize=(14, 5.4 * len(targets)))
    rows = fig.subplots(len(targets), 2, squeeze=False)
    drawn = [
        _draw_greedy(ax_l, ax_m, parts[t], metric=metric, target=t if named else None)
        for (ax_l, ax_m), t in zip(rows, targets)
    ]
    if not any(drawn):
        fig.suptitle(f"Greedy vs original order -- {_oracle(named)}")
        return fig
    fig.suptitle(
        f"Greedy vs original slice order (filled o: greedy order, all N; open ^: its best prefix) -- "
        f"{_oracle(named)}",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def _draw_greedy(ax_l, ax_m, table: pd.DataFrame, *, metric: str, target: Optional[str]) -> bool:
    """One target's greedy-vs-original panels; ``False`` when it has no greedy run."""
    pairs = greedy_pairs(table, metric=metric).to_dict("records")
    label = SWEEP_LABELS[metric]
    if not pairs:
        no_data(ax_l, _named(target, "no greedy runs in this sweep (greedy: false)"))
        no_data(ax_m, "")
        return False
    labels = list(dict.fromkeys(p["label"] for p in pairs))
    colors = distinct_colors(len(labels))
    ys = any(pd.notna(p.get("original_yardstick")) for p in pairs)
    loss_key, loss_name = (
        ("_yardstick", SWEEP_LABELS["yardstick"]) if ys else ("_loss", f"fingerprint loss ({DB2})")
    )
    for ax, key, name in ((ax_l, "loss", loss_name), (ax_m, "", label)):
        suffix = loss_key if key == "loss" else ""
        xs_all, ys_all = [], []
        for i, lab in enumerate(labels):
            group = [p for p in pairs if p["label"] == lab]
            x = nan_array(p.get("original" + suffix) for p in group)
            for method, marker in (("greedy", "o"), ("greedy_best", "^")):
                y = nan_array(p.get(method + suffix) for p in group)
                ax.scatter(
                    x,
                    y,
                    marker=marker,
                    color=colors[i],
                    alpha=0.75,
                    s=28,
                    clip_on=False,
                    facecolors="none" if method == "greedy_best" else None,
                    label=lab if method == "greedy" else None,
                )
                xs_all += list(x)
                ys_all += list(y)
        v = np.array(xs_all + ys_all, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size:
            lo, hi = float(v.min()), float(v.max())
            pad = 0.05 * (hi - lo or 1.0)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=0.8, ls="--")
        if key == "loss" and v.size and v.min() > 0:
            ax.set_xscale("log")
            ax.set_yscale("log")
            plain_log_axis(ax, which="both")
        ax.set_xlabel(f"original order 1..N: {name}")
        ax.set_ylabel(f"greedy order: {name}")
        ax.grid(alpha=0.3)

    def tally(key: str, sign: int) -> list:
        out = [0, 0, 0]  # greedy better / equal / worse
        for p in pairs:
            g, o = p.get("greedy" + key), p.get("original" + key)
            if pd.isna(g) or pd.isna(o):
                continue
            d = sign * (g - o)
            out[0 if d > 1e-9 * max(1.0, abs(o)) else 2 if d < -1e-9 * max(1.0, abs(o)) else 1] += 1
        return out

    lo_, eq_, hi_ = tally(loss_key, -1)
    ax_l.set_title(
        _named(
            target,
            f"{'yardstick' if ys else 'loss'}: greedy order (all N) lower / equal / higher in {lo_} / {eq_} / "
            f"{hi_} of {len(pairs)} runs",
        ),
        fontsize=9,
    )
    b_, e_, w_ = tally("", 1)
    ax_m.set_title(
        _named(
            target,
            f"{label}: greedy order (all N) better / equal / worse in {b_} / {e_} / {w_} of {len(pairs)} runs",
        ),
        fontsize=9,
    )
    legend_outside(ax_m, ncol=1 if len(labels) <= 20 else 2, title="setting", title_fontsize=8)
    return True


def plot_sweep_strategies(table: pd.DataFrame, *, metric: str = "si_sdr") -> Figure:
    """The gain strategies across tracks and settings: final result (k = N) per strategy.

    Left: *metric* per strategy (box: quartiles; dots: every track x setting) --
    the narrower, the more stable.  Right: the fingerprint loss (log scale).  When
    the strategy does not vary in the sweep, the figure says so.

    Returns
    -------
    Figure
        Title says ORACLE.

    See Also
    --------
    conv2dsep_lib.results.aggregate.strategy_groups : the numbers drawn.
    """
    targets, parts, named = _panels(table)
    fig = Figure(figsize=(12, 5 * len(targets)))
    for (ax_m, ax_l), t in zip(fig.subplots(len(targets), 2, squeeze=False), targets):
        _draw_strategies(ax_m, ax_l, parts[t], metric=metric, target=t if named else None)
    fig.suptitle(f"Gain strategies in the sweep -- {_oracle(named)}")
    fig.tight_layout()
    return fig


def _draw_strategies(ax_m, ax_l, table: pd.DataFrame, *, metric: str, target: Optional[str]) -> None:
    """One target's gain-strategy panels (see :func:`plot_sweep_strategies`)."""
    sg = strategy_groups(table, metric=metric)
    label = SWEEP_LABELS[metric]
    if not sg.varies:
        no_data(
            ax_m,
            _named(
                target,
                f"the gain strategy does not vary in this sweep (strategy {sg.fixed} only):\n"
                "nothing to compare; add e.g. 'strategy: [1, 2, 3, 4]' to the grid",
            ),
        )
        no_data(ax_l, "")
    else:
        rng = np.random.default_rng(0)
        ticks = [f"{s}: {STRATEGY_NAMES.get(s, '')}" for s in sg.strategies]
        for ax, data, name, log in (
            (ax_m, sg.values, label, False),
            (ax_l, sg.losses, f"fingerprint loss ({DB2})", True),
        ):
            vals = [nan_array(data[s]) for s in sg.strategies]
            vals = [v[np.isfinite(v)] for v in vals]
            ax.boxplot([v if v.size else np.array([np.nan]) for v in vals], showfliers=False)
            for i, v in enumerate(vals, start=1):
                ax.scatter(
                    i + rng.uniform(-0.12, 0.12, v.size),
                    v,
                    s=14,
                    alpha=0.6,
                    color=f"C{(i - 1) % 10}",
                    clip_on=False,
                )
            ax.set_xticks(range(1, len(ticks) + 1))
            ax.set_xticklabels(ticks, rotation=15, fontsize=8)
            ax.set_ylabel(name)
            if log and all(v.size and v.min() > 0 for v in vals):
                ax.set_yscale("log")
                plain_log_axis(ax)
            ax.grid(axis="y", alpha=0.3)
        ax_m.set_title(
            _named(target, f"{label} after all N slices (spread = stability across tracks x settings)"),
            fontsize=9,
        )
        ax_l.set_title(_named(target, "fingerprint loss after all N slices"), fontsize=9)
