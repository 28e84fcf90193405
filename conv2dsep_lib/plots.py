"""Figures for experiments, views and kernels.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot's
global state (safe headless and in threads); notebooks show it with ``display(fig)``,
:func:`save_figure` writes it.  Every experiment figure's title says ORACLE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from .views import VIEWS, VIEW_NAMES

__all__ = [
    "save_figure",
    "plot_loss_progression",
    "plot_final_loss_comparison",
    "plot_spectrogram_comparison",
    "plot_separation_quality",
    "plot_loss_vs_si_sdr",
    "plot_spectrogram",
    "plot_views",
    "plot_kernels",
    "save_experiment_figures",
]

ORACLE = "ORACLE (uses the true vocal)"


def save_figure(fig: Figure, path, *, dpi: int = 110) -> Path:
    """Save *fig* as PNG (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def _short(name: str) -> str:
    return name.replace("slice_", "")


def plot_loss_progression(record: dict) -> Figure:
    """Step losses of slices 1..N (every k) and the per-iteration loss curves.

    Left: the step loss after each slice of the original order (the loss of test k is
    the k-th point) and of the greedy order.  Right: the loss after every iteration,
    slice after slice, with slice boundaries marked.
    """
    prog = record["progressive"]
    N = len(prog)
    fig = Figure(figsize=(12, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    ks = np.arange(1, N + 1)
    ax1.plot(ks, prog[-1]["step_losses"], "o-", label="original order 1..N")
    if "greedy" in record:
        ax1.plot(ks, record["greedy"]["losses"], "s--", label="greedy order")
    ax1.set_xticks(ks)
    ax1.set_xticklabels([_short(n) for n in prog[-1]["sequence"]], rotation=45, ha="right",
                        fontsize=7)
    ax1.set_xlabel("k (slices applied, original order labels)")
    ax1.set_ylabel("step loss (dB$^2$)")
    ax1.set_title("Loss after each slice (test k = first k points)")
    ax1.grid(alpha=0.3)
    ax1.legend()
    curve = np.concatenate([p["loss_curve"] for p in prog])
    ax2.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-12), lw=1)
    n_it = len(prog[0]["loss_curve"])
    for k in range(1, N):
        ax2.axvline(k * n_it, color="0.7", lw=0.6)
    ax2.set_xlabel("iteration (all slices of the original order)")
    ax2.set_ylabel("loss (dB$^2$)")
    ax2.set_title("Loss during optimisation")
    ax2.grid(alpha=0.3)
    fig.suptitle(f"Progressive 1..{N} slices: fingerprint loss -- {ORACLE}")
    fig.tight_layout()
    return fig


def plot_final_loss_comparison(record: dict) -> Figure:
    """Final loss of every k in the original order beside the greedy order's."""
    prog = record["progressive"]
    labels = [f"{p['n_slices']}" for p in prog]
    values = [p["loss"] for p in prog]
    colors = ["tab:blue"] * len(prog)
    if "greedy" in record:
        g = record["greedy"]
        labels += ["greedy\nall", f"greedy\nbest {g['best_prefix']['n_slices']}"]
        values += [g["loss"], g["best_prefix"]["loss"]]
        colors += ["tab:orange", "tab:red"]
    fig = Figure(figsize=(max(6, 0.7 * len(labels) + 2), 4.2))
    ax = fig.subplots()
    bars = ax.bar(range(len(values)), values, color=colors)
    for b, v in zip(bars, values):
        ax.annotate(f"{v:.3f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom",
                    fontsize=7)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlabel("slices (original order 1..k) / greedy order")
    ax.set_ylabel("final step loss (dB$^2$)")
    ax.set_title(f"Final loss: original vs greedy order -- {ORACLE}")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_spectrogram(ax, mag: np.ndarray, *, sr: int, hop_length: int, title: str,
                     vmin: float = -80.0, vmax: float = 0.0, ref: Optional[float] = None):
    """Draw a magnitude in dB (relative to *ref*, default its maximum) on *ax*."""
    ref = float(np.max(mag)) if ref is None else ref
    db = 20 * np.log10(np.maximum(mag, 1e-10) / max(ref, 1e-10))
    n_bins, n_frames = mag.shape
    extent = (0, n_frames * hop_length / sr, 0, sr / 2 / 1000)
    im = ax.imshow(db, origin="lower", aspect="auto", extent=extent, vmin=vmin, vmax=vmax,
                   cmap="magma")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (kHz)")
    return im


def plot_spectrogram_comparison(exp, record: dict) -> Figure:
    """Mixture, target vocal, the extraction with the lowest loss, and the residual."""
    cfg = exp.config
    cands = {f"k={p['n_slices']}": p["loss"] for p in record["progressive"]}
    if "greedy" in record:
        cands["greedy_best"] = record["greedy"]["best_prefix"]["loss"]
    best = min(cands, key=cands.get)
    if best.startswith("k="):
        best_mag = exp.progressive[int(best[2:]) - 1].magnitude
    else:
        best_mag = exp.greedy.steps[exp.greedy.best_prefix - 1].magnitude
    mix_mag = np.abs(exp.mixture_stft)
    from .transforms import stft

    voc_mag = np.abs(stft(exp.pair.vocal, config=cfg))
    metrics = (exp.metrics.get(best) or {})
    si = metrics.get("si_sdr")
    ref = float(np.max(mix_mag))
    fig = Figure(figsize=(14, 3.8))
    axes = fig.subplots(1, 4, sharey=True)
    panels = [(mix_mag, "mixture"), (voc_mag, "target vocal (true stem)"),
              (best_mag, f"extracted ({best}, loss {cands[best]:.3f}"
                         + (f", SI-SDR {si:.1f} dB)" if si is not None else ")")),
              (np.abs(mix_mag - best_mag), "residual |mixture| - |extracted|")]
    im = None
    for ax, (mag, title) in zip(axes, panels):
        im = plot_spectrogram(ax, mag, sr=cfg.sr, hop_length=cfg.hop_length, title=title, ref=ref)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(im, ax=list(axes), label="dB re mixture peak", shrink=0.9)
    fig.suptitle(f"Spectrogram comparison -- {ORACLE}")
    return fig


def plot_separation_quality(record: dict) -> Figure:
    """SI-SDR and SDR per k, the greedy result, and the baselines as horizontal lines."""
    prog = record["progressive"]
    ks = [p["n_slices"] for p in prog]
    fig = Figure(figsize=(12, 4.5))
    axes = fig.subplots(1, 2, sharey=False)
    styles = {"oracle": ":", "blind": "--", "floor": "-"}
    for ax, key, label in ((axes[0], "si_sdr", "SI-SDR (dB)"), (axes[1], "sdr", "SDR, BSS Eval v4 (dB)")):
        vals = [((p["metrics"] or {}).get(key)) for p in prog]
        vals = [np.nan if v is None else v for v in vals]
        ax.plot(ks, vals, "o-", color="tab:blue", label="original order, k slices")
        if "greedy" in record:
            g = record["greedy"]
            gv = (g.get("metrics") or {}).get(key)
            bv = (g["best_prefix"].get("metrics") or {}).get(key)
            if gv is not None:
                ax.plot([len(g["sequence"])], [gv], "s", color="tab:orange", ms=9,
                        label="greedy order (all)")
            if bv is not None:
                ax.plot([g["best_prefix"]["n_slices"]], [bv], "D", color="tab:red", ms=8,
                        label="greedy best prefix")
        cmap = {"mixture": "k", "oracle_irm": "tab:green", "oracle_ibm": "tab:olive",
                "repet_sim": "tab:purple", "hpss": "tab:brown"}
        for name, b in record.get("baselines", {}).items():
            v = (b.get("metrics") or {}).get(key)
            if v is None:
                continue
            ax.axhline(v, ls=styles.get(b.get("kind"), "-."), color=cmap.get(name, "0.5"), lw=1.2,
                       label=f"{name} ({b.get('kind')})")
        ax.set_xticks(ks)
        ax.set_xlabel("k (slices 1..k)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc="best")
    fig.suptitle(f"Separation quality of the extracted vocal -- {ORACLE}; "
                 "baselines: floor / oracle ceilings / blind")
    fig.tight_layout()
    return fig


def plot_loss_vs_si_sdr(record: dict) -> Figure:
    """Fingerprint loss against SI-SDR per k, with their rank correlation."""
    prog = record["progressive"]
    loss = np.array([p["loss"] for p in prog])
    si = np.array([np.nan if (p["metrics"] or {}).get("si_sdr") is None else p["metrics"]["si_sdr"]
                   for p in prog])
    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    ax.plot(loss, si, "-", color="0.8", zorder=1)
    ax.scatter(loss, si, c=np.arange(len(prog)), cmap="viridis", zorder=2)
    for p, x, y in zip(prog, loss, si):
        ax.annotate(str(p["n_slices"]), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    if "greedy" in record and (record["greedy"].get("metrics") or {}).get("si_sdr") is not None:
        g = record["greedy"]
        ax.scatter([g["loss"]], [g["metrics"]["si_sdr"]], marker="s", color="tab:orange",
                   label="greedy order")
        ax.legend(fontsize=8)
    lq = record.get("loss_vs_quality", {})
    rho = lq.get("spearman_loss_vs_si_sdr")
    verdict = ("agree" if lq.get("agree") else "DISAGREE") if lq else ""
    ax.set_xlabel("final fingerprint loss (dB$^2$), lower = closer fingerprint")
    ax.set_ylabel("SI-SDR (dB), higher = better vocal")
    ax.set_title(f"Loss vs SI-SDR per k: Spearman rho = "
                 f"{'n/a' if rho is None else f'{rho:+.2f}'}; best k by loss {lq.get('best_k_by_loss')}, "
                 f"by SI-SDR {lq.get('best_k_by_si_sdr')} ({verdict})\n{ORACLE}", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_views(S: np.ndarray, *, sr: int, hop_length: int, views: Sequence[int] = None,
               title: str = "", vmin: float = -80.0) -> Figure:
    """All (or some) views of one magnitude spectrogram in dB, in a grid."""
    from .views import apply_view

    views = list(range(len(VIEWS))) if views is None else list(views)
    cols = 5
    rows = int(np.ceil(len(views) / cols))
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, k in zip(axes, views):
        F = apply_view(S, k)
        plot_spectrogram(ax, F, sr=sr, hop_length=hop_length, title=VIEW_NAMES[k], vmin=vmin)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes[len(views):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_kernels() -> Figure:
    """Every view's kernel (pooling views: their 2x2 window), rows = frequency offset."""
    fig = Figure(figsize=(16, 7))
    axes = fig.subplots(3, 7).ravel()
    for ax, v in zip(axes, VIEWS):
        k = v.display_kernel
        lim = float(np.max(np.abs(k))) or 1.0
        ax.imshow(k, origin="lower", cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto",
                  interpolation="nearest")
        ax.set_title(f"{v.index}: {_short(v.name)}\n{v.responds_to}", fontsize=7)
        ax.set_xlabel(f"time ({k.shape[1]})", fontsize=6)
        ax.set_ylabel(f"freq ({k.shape[0]})", fontsize=6)
        ax.tick_params(labelsize=5)
    for ax in axes[len(VIEWS):]:
        ax.axis("off")
    fig.suptitle("Conv2D kernels (blue < 0 < red); pooling views show their 2x2 window")
    fig.tight_layout()
    return fig


def save_experiment_figures(exp, record: dict, folder) -> Dict[str, Path]:
    """Write the five experiment PNGs into *folder*; return their paths."""
    folder = Path(folder)
    figs = {
        "all_tests_loss_progression.png": plot_loss_progression(record),
        "final_loss_comparison.png": plot_final_loss_comparison(record),
        "spectrogram_comparison.png": plot_spectrogram_comparison(exp, record),
        "separation_quality.png": plot_separation_quality(record),
        "loss_vs_si_sdr.png": plot_loss_vs_si_sdr(record),
    }
    return {name: save_figure(fig, folder / name) for name, fig in figs.items()}
