"""Figures of one run, drawn from its :class:`~conv2dsep_lib.results.record.RunRecord`.

The five PNGs of every output folder (:func:`save_experiment_figures`) and the
notebooks' summaries.  Every title says ORACLE.  A run against another stem than the
vocal (``record.input["target"]``: drums, bass, other) is named in its titles and labels
("target drums", "extracted drums", "ORACLE (uses the true drums stem)"); a vocals run's
read as they always did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..core.files import PathLike
from ..method.views import VIEW_NAMES
from ..results.record import RunRecord
from ..results.tables import TARGET, record_target
from ..scoring.scores import Scores
from .common import (
    DB2,
    ORACLE,
    fmt_num,
    legend_outside,
    nan_array,
    plain_log_axis,
    plot_spectrogram,
    save_figures,
    short_name,
)

__all__ = [
    "EXPERIMENT_FIGURES",
    "plot_loss_progression",
    "plot_final_loss_comparison",
    "plot_spectrogram_comparison",
    "plot_separation_quality",
    "plot_loss_vs_si_sdr",
    "plot_greedy_candidates",
    "plot_results_summary",
    "plot_convergence_grid",
    "save_experiment_figures",
    "target_word",
]

#: How figures name the seed's step loss (each k in the view of its last slice) and the yardstick.
STEP_LOSS_LABEL = "step loss, measured in view k"
YARDSTICK_LABEL = "yardstick: fingerprint distance to the vocal, mean over 19 views"
#: How titles name a target's stem where it differs from the target's name (the seed's "vocal").
TARGET_WORDS = {"vocals": "vocal"}

#: File names of the figures every output folder holds.
EXPERIMENT_FIGURES = (
    "all_tests_loss_progression.png",
    "final_loss_comparison.png",
    "spectrogram_comparison.png",
    "separation_quality.png",
    "loss_vs_si_sdr.png",
)
#: Line styles and colours of the baselines by kind and name.
_KIND_STYLE = {"oracle": ":", "blind": "--", "floor": "-"}
_BASELINE_COLOR = {
    "mixture": "k",
    "oracle_irm": "tab:green",
    "oracle_ibm": "tab:olive",
    "repet_sim": "tab:purple",
    "hpss": "tab:brown",
    "bandpass": "tab:cyan",
    "learned": "tab:pink",
}
_KIND_COLOR = {"floor": "0.4", "oracle": "tab:green", "blind": "tab:purple"}


def _metric(scores: Optional[Scores], key: str) -> Optional[float]:
    return None if scores is None else scores.value(key)


def target_word(target: Union[RunRecord, str]) -> str:
    """How figures name the stem a run separated: ``"vocal"`` for vocals (the seed's word),
    else the target (``"drums"``, ``"bass"``, ``"other"``).

    Parameters
    ----------
    target : RunRecord or str
        A run's record (its target is :func:`~conv2dsep_lib.results.tables.record_target`)
        or a target name.
    """
    name = target if isinstance(target, str) else record_target(target)
    return TARGET_WORDS.get(name, name)


def _oracle(record: RunRecord) -> str:
    """The ORACLE label of a run's titles: :data:`ORACLE` ("uses the true vocal") for a vocals
    run, ``"ORACLE (uses the true drums stem)"`` for a run against another stem."""
    target = record_target(record)
    return ORACLE if target == TARGET else ORACLE.replace("the true vocal", f"the true {target} stem")


def plot_loss_progression(record: RunRecord) -> Figure:
    """Step losses of slices 1..N (every k) and the per-iteration loss curves.

    Left: the step loss after the k-th slice of the original order (the loss of test k
    is the k-th point) and after the k-th slice of the greedy order.  The bottom tick
    labels name the original order's k-th slice, the top ones the greedy order's.
    Right: the loss after every iteration, slice after slice, with slice boundaries
    marked.
    """
    prog = record.progressive
    N = len(prog)
    g = record.greedy
    fig = Figure(figsize=(12, 4.8))
    ax1, ax2 = fig.subplots(1, 2)
    ks = np.arange(1, N + 1)
    ax1.plot(ks, prog[-1].step_losses, "o-", clip_on=False, label="original order")
    ax1.set_xticks(ks)
    ax1.set_xticklabels(
        [f"{k}: {short_name(n)}" for k, n in zip(ks, prog[-1].sequence)], rotation=45, ha="right", fontsize=8
    )
    ax1.set_xlabel("k-th slice applied; bottom: original order 1..N")
    if g is not None:
        kg = np.arange(1, len(g.losses) + 1)
        ax1.plot(kg, g.losses, "s--", clip_on=False, label="greedy order")
        top = ax1.secondary_xaxis("top")
        top.set_xticks(kg)
        top.set_xticklabels(
            [f"{k}: {short_name(n)}" for k, n in zip(kg, g.sequence)], rotation=45, ha="left", fontsize=8
        )
        top.set_xlabel("top: greedy order", fontsize=9)
    ax1.set_ylabel(f"step loss ({DB2})")
    ax1.set_title(
        "Step loss after the k-th slice, measured in view k\n(test k = first k points; the views differ, "
        "so compare k on the yardstick)",
        fontsize=9,
    )
    ax1.grid(alpha=0.3)
    legend_outside(ax1)
    curve = np.concatenate([p.loss_curve for p in prog])
    ax2.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-12), lw=1)
    plain_log_axis(ax2)
    n_it = len(prog[0].loss_curve)
    for k in range(1, N):
        ax2.axvline(k * n_it, color="0.7", lw=0.6)
    ax2.set_xlabel("iteration (all slices of the original order)")
    ax2.set_ylabel(f"loss ({DB2})")
    ax2.set_title("Loss during optimisation", fontsize=10)
    ax2.grid(alpha=0.3)
    conv = record.convergence
    fig.suptitle(
        f"Progressive 1..{N} slices: fingerprint loss -- {_oracle(record)}"
        + (f"\n{conv.label()}" if conv is not None else ""),
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def plot_final_loss_comparison(record: RunRecord) -> Figure:
    """Final loss of every k in the original order beside the greedy order's.

    Bars: the seed's step loss (each measured in the view of its last slice, so bars of
    different k are in different views).  Diamonds, when the record has it: the common
    yardstick of the same estimates (mean over the 19 views, also dB²) -- the one to
    compare them on.
    """
    ests = record.estimates()
    labels = [f"{e.k}" for e in ests]
    g = record.greedy
    if g is not None:
        labels[-2:] = [f"greedy\nall {len(g.sequence)}", f"greedy\nfirst {g.best_prefix.n_slices}"]
    colour = {"progressive": "tab:blue", "greedy": "tab:orange", "greedy_best": "tab:red"}
    values = [e.loss for e in ests]
    fig = Figure(figsize=(max(6, 0.7 * len(labels) + 2), 4.4))
    ax = fig.subplots()
    bars = ax.bar(range(len(values)), values, color=[colour[e.method] for e in ests])
    for b, v in zip(bars, values):
        ax.annotate(fmt_num(v), (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    ax.margins(y=0.1)  # room for the numbers above the bars
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlabel(
        "k = slices 1..k of the original order\ngreedy order: all, and its best prefix (its first k slices)",
        fontsize=9,
    )
    ax.set_ylabel(f"bars: final {STEP_LOSS_LABEL} ({DB2})", fontsize=9)
    ax.set_title(f"Final loss: original vs greedy order -- {_oracle(record)}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    if all(e.yardstick is not None for e in ests):  # same unit, same axis (a twin axis costs a render)
        ys = [e.yardstick.mean_19 for e in ests if e.yardstick is not None]
        ax.plot(range(len(ys)), ys, "D", color="k", ms=6, clip_on=False)
        ax.set_ylabel(f"{DB2}: bars = final {STEP_LOSS_LABEL}\n◆ = yardstick, mean over 19 views", fontsize=9)
    fig.tight_layout()
    return fig


def plot_spectrogram_comparison(
    record: RunRecord, *, mixture_mag: np.ndarray, vocal_mag: np.ndarray, estimate_mag: np.ndarray
) -> Figure:
    """Mixture, target vocal, the extraction with the lowest loss (the common yardstick, mean over 19 views), and the residual.

    For a run against another stem the panels name it ("target drums", "extracted drums").

    Parameters
    ----------
    record : RunRecord
    mixture_mag, vocal_mag : np.ndarray [shape=(n_bins, n_frames)]
        The mixture's and the target stem's (the vocal's for a vocals run).
    estimate_mag : np.ndarray [shape=(n_bins, n_frames)]
        The working magnitude of ``record.best_by_loss()``.
    """
    cfg = record.config
    best = record.best_by_loss()
    si = _metric(best.metrics, "si_sdr")
    measured = (
        f"yardstick {fmt_num(best.yardstick.mean_19)} {DB2} (19 views)"
        if best.yardstick is not None
        else f"loss {fmt_num(best.loss)} {DB2}"
    )
    ref = float(np.max(mixture_mag))
    word = target_word(record)
    extracted = "extracted" if record_target(record) == TARGET else f"extracted {word}"
    fig = Figure(figsize=(14, 3.8))
    axes = fig.subplots(1, 4, sharey=True)
    panels = [
        (mixture_mag, "mixture"),
        (vocal_mag, f"target {word}\n(true stem)"),
        (
            estimate_mag,
            f"{extracted}, lowest loss ({best.key})\n{measured}"
            + (f", SI-SDR {si:.1f} dB" if si is not None else ""),
        ),
        (np.abs(mixture_mag - estimate_mag), "residual magnitude\n| |mixture| - |extracted| |"),
    ]
    im = None
    for ax, (mag, title) in zip(axes, panels):
        im = plot_spectrogram(ax, mag, sr=cfg.sr, hop_length=cfg.hop_length, title=title, ref=ref)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(im, ax=list(axes), label="dB re mixture peak", shrink=0.9)
    fig.suptitle(f"Spectrogram comparison -- {_oracle(record)}", y=1.06)  # above the two-line panel titles
    return fig


def plot_separation_quality(record: RunRecord) -> Figure:
    """SI-SDR and SDR per k, the greedy result, and the baselines as horizontal lines.

    x is a number of slices k: slices 1..k of the original order for the blue line;
    the greedy order's first k slices for its markers (all of them, and the best
    prefix).  One legend for both panels, to the right of them (it covers no data).
    """
    prog = record.progressive
    ks = [p.n_slices for p in prog]
    g = record.greedy
    fig = Figure(figsize=(13.5, 4.6))
    axes = fig.subplots(1, 2, sharey=False)
    legend: Dict[str, object] = {}
    for ax, key, label in ((axes[0], "si_sdr", "SI-SDR (dB)"), (axes[1], "sdr", "SDR, BSS Eval v4 (dB)")):
        ax.plot(
            ks,
            nan_array(_metric(p.metrics, key) for p in prog),
            "o-",
            color="tab:blue",
            clip_on=False,
            label="original order, slices 1..k",
        )
        if g is not None:
            gv, bv = _metric(g.metrics, key), _metric(g.best_prefix.metrics, key)
            if gv is not None:
                ax.plot(
                    [len(g.sequence)],
                    [gv],
                    "s",
                    color="tab:orange",
                    ms=9,
                    clip_on=False,
                    label=f"greedy order, all {len(g.sequence)}",
                )
            if bv is not None:
                ax.plot(
                    [g.best_prefix.n_slices],
                    [bv],
                    "D",
                    color="tab:red",
                    ms=8,
                    clip_on=False,
                    label=f"greedy best prefix: its first {g.best_prefix.n_slices}",
                )
        for name, b in record.baselines.items():
            v = _metric(b.metrics, key)
            if v is None:
                continue
            ax.axhline(
                v,
                ls=_KIND_STYLE.get(b.kind, "-."),
                color=_BASELINE_COLOR.get(name, "0.5"),
                lw=1.2,
                label=f"{name} ({b.kind})",
            )
        for h, lab in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(lab, h)
        ax.set_xticks(ks)
        ax.set_xlabel("k slices (original: 1..k; greedy: first k of its order)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    legend_outside(axes[1], handles=list(legend.values()), labels=list(legend))
    fig.suptitle(
        f"Separation quality of the extracted {target_word(record)} -- {_oracle(record)}; "
        "baselines: floor / oracle ceilings / blind",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def plot_loss_vs_si_sdr(record: RunRecord) -> Figure:
    """Fingerprint loss against SI-SDR per k, with their rank correlation.

    x is the common yardstick (mean fingerprint distance over the 19 views, the same views
    for every k) -- what ``loss_vs_quality`` and "best k by loss" use; the title also gives
    the seed's step loss (measured in view k) ranking.  A record without the yardstick
    (written before it existed) draws the step loss.
    """
    prog = record.progressive
    lq = record.loss_vs_quality
    has_ys = all(p.yardstick is not None for p in prog)
    loss = np.array([p.yardstick.mean_19 if has_ys and p.yardstick else p.loss for p in prog])
    si = nan_array(_metric(p.metrics, "si_sdr") for p in prog)
    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    ax.plot(loss, si, "-", color="0.8", zorder=1)
    ax.scatter(loss, si, c=np.arange(len(prog)), cmap="viridis", zorder=2, clip_on=False)
    for p, x, y in zip(prog, loss, si):
        ax.annotate(str(p.n_slices), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    g = record.greedy
    g_loss = None if g is None else (g.yardstick.mean_19 if has_ys and g.yardstick else g.loss)
    if g is not None and g_loss is not None and _metric(g.metrics, "si_sdr") is not None:
        ax.scatter(
            [g_loss],
            [_metric(g.metrics, "si_sdr")],
            marker="s",
            color="tab:orange",
            clip_on=False,
            label=f"greedy order, all {len(g.sequence)}",
        )
        legend_outside(ax)
    rho = lq.spearman_loss_vs_si_sdr
    verdict = "agree" if lq.agree else "DISAGREE"
    step = ""
    if has_ys:
        srho = lq.step_loss_spearman_vs_si_sdr
        step = (
            f"\n(the seed's step loss, measured in view k: rho {'n/a' if srho is None else f'{srho:+.2f}'}, "
            f"best k {lq.best_k_by_step_loss})"
        )
    ax.margins(0.08)  # the k labels beside the points stay inside
    word = target_word(record)
    yardstick = YARDSTICK_LABEL.replace("to the vocal", f"to the {word}")
    ax.set_xlabel(
        (f"{yardstick} ({DB2})" if has_ys else f"final {STEP_LOSS_LABEL} ({DB2})") + ", lower = closer",
        fontsize=9,
    )
    ax.set_ylabel(f"SI-SDR (dB), higher = better {word}")
    ax.set_title(
        f"Loss vs SI-SDR per k: Spearman rho = "
        f"{'n/a' if rho is None else f'{rho:+.2f}'}; best k by loss {lq.best_k_by_loss}, "
        f"by SI-SDR {lq.best_k_by_si_sdr} ({verdict}){step}\n{_oracle(record)}",
        fontsize=8,
    )
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_greedy_candidates(record: RunRecord) -> Figure:
    """The greedy search: every candidate's step loss at every position.

    Rows are positions in the greedy order, columns the slices 1..N; a cell is the
    step loss of that slice tried from the chosen prefix, the chosen one boxed.
    """
    g = record.greedy
    if g is None:
        raise ValueError("plot_greedy_candidates needs a record with a greedy search (conv2dsep best)")
    names = sorted({n for c in g.candidates for n in c}, key=VIEW_NAMES.index)
    M = np.full((len(g.candidates), len(names)), np.nan)
    for i, cands in enumerate(g.candidates):
        for n, c in cands.items():
            M[i, names.index(n)] = c.loss
    fig = Figure(figsize=(max(6.0, 0.8 * len(names) + 3), 0.45 * len(M) + 2.4))
    ax = fig.subplots()
    data = np.log10(np.maximum(M, 1e-12))
    im = ax.imshow(data, cmap="viridis_r", aspect="auto")
    for i, chosen in enumerate(g.sequence):
        j = names.index(chosen)
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=1.8, clip_on=False))
        for jj in range(len(names)):
            if np.isfinite(M[i, jj]):
                ax.text(
                    jj,
                    i,
                    fmt_num(M[i, jj], digits=2),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="w" if data[i, jj] > np.nanmean(data) else "k",
                )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([short_name(n) for n in names], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(M)))
    ax.set_yticklabels([f"{i + 1}" for i in range(len(M))], fontsize=8)
    ax.set_ylabel("position in the greedy order")
    fig.colorbar(im, ax=ax, label=f"log10 step loss ({DB2})")
    ax.set_title(
        f"Greedy search ({g.score}): candidates' step loss, chosen boxed; best prefix "
        f"{g.best_prefix.n_slices} -- {_oracle(record)}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def _summary_rows(record: RunRecord) -> List[Tuple[str, Optional[str], Optional[Scores], str]]:
    """(label, loss text, metrics, colour) per estimate and baseline."""
    colours = {"progressive": "tab:blue", "greedy": "tab:orange", "greedy_best": "tab:red"}
    labels = {"greedy": "greedy (all)"}
    rows: List[Tuple[str, Optional[str], Optional[Scores], str]] = []
    for e in record.estimates():
        label = labels.get(
            e.method, f"greedy best prefix (first {e.k})" if e.method == "greedy_best" else e.key
        )
        loss = f"step loss {fmt_num(e.loss)} {DB2} in view k"
        if e.yardstick is not None:
            loss = f"yardstick {fmt_num(e.yardstick.mean_19)} {DB2}; {loss}"
        rows.append((label, loss, e.metrics, colours[e.method]))
    for name, b in record.baselines.items():
        rows.append((f"{name} ({b.kind})", None, b.metrics, _KIND_COLOR.get(b.kind, "0.6")))
    return rows


def plot_results_summary(record: RunRecord) -> Figure:
    """Every estimate side by side: SI-SDR and SDR bars, the fingerprint loss printed on them.

    Estimates: each k of the original order, the greedy order and its best prefix,
    and every baseline (floor / oracle / blind).
    """
    rows = _summary_rows(record)
    fig = Figure(figsize=(13, 0.32 * len(rows) + 1.8))
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(rows))
    for ax, key, label in ((axes[0], "si_sdr", "SI-SDR (dB)"), (axes[1], "sdr", "SDR, BSS Eval v4 (dB)")):
        vals = nan_array(_metric(m, key) for _, _, m, _ in rows)
        ax.barh(y, np.nan_to_num(vals), color=[c for *_, c in rows])
        for yi, v, (_, loss, _, _) in zip(y, vals, rows):
            txt = "n/a" if not np.isfinite(v) else f"{v:.1f}"
            if loss is not None:
                txt += f"  ({loss})"
            ax.annotate(  # right of the bar, or right of 0 for a negative bar (never over it)
                txt,
                (v if np.isfinite(v) and v > 0 else 0, yi),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        finite = vals[np.isfinite(vals)]
        lo, hi = min([0.0, *finite]), max([0.0, *finite])
        span = (hi - lo) or 1.0
        ax.set_xlim(lo - 0.05 * span, hi + 0.5 * span)  # room for the numbers right of the bars
        ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([r[0] for r in rows], fontsize=8)
    axes[0].invert_yaxis()
    conv = record.convergence
    fig.suptitle(
        f"All estimates: separation quality, fingerprint losses in brackets (yardstick: mean over "
        f"19 views) -- {_oracle(record)}" + (f"\n{conv.label()}" if conv is not None else ""),
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def plot_convergence_grid(grid: Any) -> Figure:
    """SI-SDR of one slice against iterations x learning rate, with the fraction reached.

    Parameters
    ----------
    grid : ConvergenceGrid
        :func:`conv2dsep_lib.run.convergence.convergence_grid`'s result: ``si_sdr`` and
        ``fraction`` [shape=(n_iter, n_lr)], ``iterations``, ``learning_rates``,
        ``mixture_si_sdr``, ``view_name``.

    Left: SI-SDR (dB) per cell, the fraction of the dB correction reached under it, the
    seed's 100 x 0.01 outlined.  Right: SI-SDR against the fraction reached, one line per
    learning rate.
    """
    si, frac = np.asarray(grid.si_sdr, float), np.asarray(grid.fraction, float)
    its, lrs = list(grid.iterations), list(grid.learning_rates)
    fig = Figure(figsize=(13, 0.5 * len(its) + 3.2))
    ax, ax2 = fig.subplots(1, 2)
    im = ax.imshow(si, cmap="viridis", aspect="auto")
    for i in range(len(its)):
        for j in range(len(lrs)):
            ax.text(
                j,
                i,
                f"{si[i, j]:.1f} dB\n{100 * frac[i, j]:.0f} %",
                ha="center",
                va="center",
                fontsize=8,
                color="w" if si[i, j] < np.nanmean(si) else "k",
            )
            if its[i] == 100 and lrs[j] == 0.01:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2))
    ax.set_xticks(range(len(lrs)))
    ax.set_xticklabels([f"{lr:g}" for lr in lrs])
    ax.set_yticks(range(len(its)))
    ax.set_yticklabels([str(n) for n in its])
    ax.set_xlabel("learning rate")
    ax.set_ylabel("iterations")
    fig.colorbar(im, ax=ax, label="SI-SDR (dB)")
    ax.set_title(
        "SI-SDR; under it, the fraction of the dB correction reached\n(red: the seed's 100 x 0.01)",
        fontsize=9,
    )
    for j, lr in enumerate(lrs):
        ax2.plot(frac[:, j], si[:, j], "o-", clip_on=False, label=f"lr {lr:g}")
    ax2.axhline(grid.mixture_si_sdr, color="k", lw=1, label="mixture (floor)")
    ax2.set_xlabel("fraction of the dB correction reached, 1 - (1 - 2 lr)^n")
    ax2.set_ylabel("SI-SDR (dB)")
    ax2.grid(alpha=0.3)
    legend_outside(ax2)
    fig.suptitle(
        f"Convergence of Strategy 3 on {grid.view_name} (one slice from the mixture) -- {ORACLE}", fontsize=11
    )
    fig.tight_layout()
    return fig


def save_experiment_figures(
    record: RunRecord,
    folder: PathLike,
    *,
    mixture_mag: np.ndarray,
    vocal_mag: np.ndarray,
    estimate_mag: np.ndarray,
    processes: int = 1,
) -> Dict[str, Path]:
    """Write the five experiment PNGs (:data:`EXPERIMENT_FIGURES`) into *folder*.

    The magnitudes are those of :func:`plot_spectrogram_comparison`; ``processes=2`` draws
    them in two processes (:func:`~conv2dsep_lib.viz.common.save_figures`).
    """
    jobs = [
        (
            "spectrogram_comparison.png",
            lambda: plot_spectrogram_comparison(
                record, mixture_mag=mixture_mag, vocal_mag=vocal_mag, estimate_mag=estimate_mag
            ),
        ),
        ("all_tests_loss_progression.png", lambda: plot_loss_progression(record)),
        ("separation_quality.png", lambda: plot_separation_quality(record)),
        ("final_loss_comparison.png", lambda: plot_final_loss_comparison(record)),
        ("loss_vs_si_sdr.png", lambda: plot_loss_vs_si_sdr(record)),
    ]
    return save_figures(jobs, folder, processes=processes)
