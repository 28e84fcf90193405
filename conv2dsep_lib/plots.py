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
    panels = [(mix_mag, "mixture"), (voc_mag, "target vocal\n(true stem)"),
              (best_mag, f"extracted, lowest loss ({best})\nloss {cands[best]:.3f} dB$^2$"
                         + (f", SI-SDR {si:.1f} dB" if si is not None else "")),
              (np.abs(mix_mag - best_mag), "residual magnitude\n| |mixture| - |extracted| |")]
    im = None
    for ax, (mag, title) in zip(axes, panels):
        im = plot_spectrogram(ax, mag, sr=cfg.sr, hop_length=cfg.hop_length, title=title, ref=ref)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(im, ax=list(axes), label="dB re mixture peak", shrink=0.9)
    fig.suptitle(f"Spectrogram comparison -- {ORACLE}", y=1.06)  # above the two-line panel titles
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


# ------------------------------------------------------------------ notebook figures
# Figures of the numbered notebooks and the explorers in :mod:`conv2dsep_lib.widgets`.
__all__ += [
    "plot_waveforms",
    "plot_signal_spectrograms",
    "plot_views_pair",
    "plot_fingerprints_window",
    "plot_slice_window",
    "plot_slice_step",
    "plot_strategy_comparison",
    "plot_greedy_candidates",
    "plot_results_summary",
]


def plot_waveforms(signals: Dict[str, np.ndarray], *, sr: int, title: str = "") -> Figure:
    """Waveforms, one row per signal, on shared axes.

    Parameters
    ----------
    signals : dict of str -> np.ndarray [shape=(n,)]
        E.g. ``{"mixture": ..., "vocal": ..., "instrumental": ...}``.
    sr : int
    title : str
    """
    n = len(signals)
    fig = Figure(figsize=(12, 1.5 * n + 0.7))
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True, sharey=True))
    for ax, (name, y) in zip(axes, signals.items()):
        y = np.asarray(y, dtype=np.float64)
        ax.plot(np.arange(len(y)) / sr, y, lw=0.4, color="tab:blue")
        ax.set_ylabel(name, fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_signal_spectrograms(signals: Dict[str, np.ndarray], *, config, title: str = "",
                             vmin: float = -80.0) -> Figure:
    """Magnitude spectrograms of several signals side by side, one colour scale.

    Every panel is in dB relative to the first signal's peak (usually the mixture), so
    levels compare across panels.

    Parameters
    ----------
    signals : dict of str -> np.ndarray [shape=(n,)]
    config : Config
        STFT settings.
    title : str
    vmin : float
        Lowest dB shown.
    """
    from .transforms import stft

    mags = {name: np.abs(stft(y, config=config)) for name, y in signals.items()}
    ref = float(np.max(next(iter(mags.values())))) if mags else 1.0
    fig = Figure(figsize=(3.6 * len(mags) + 1.2, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(mags), sharey=True))
    im = None
    for ax, (name, mag) in zip(axes, mags.items()):
        im = plot_spectrogram(ax, mag, sr=config.sr, hop_length=config.hop_length, title=name,
                              ref=ref, vmin=vmin)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(im, ax=list(axes), label=f"dB re {next(iter(mags))} peak", shrink=0.9)
    fig.suptitle(title)
    return fig


def plot_views_pair(S_mix: np.ndarray, S_voc: np.ndarray, *, sr: int, hop_length: int,
                    views: Sequence[int] = None, vmin: float = -80.0, title: str = "") -> Figure:
    """Every view of the mixture beside the same view of the vocal.

    Three (mixture, vocal) pairs per row; both panels of a pair are in dB relative to
    the larger of the two views' peaks, so the vocal's share of each view shows.

    Parameters
    ----------
    S_mix, S_voc : np.ndarray [shape=(n_bins, n_frames)]
        Magnitudes of mixture and vocal.
    sr, hop_length : int
    views : sequence of int, optional
        Default all 19.
    """
    from .views import apply_view

    views = list(range(len(VIEWS))) if views is None else list(views)
    per_row = 3
    rows = int(np.ceil(len(views) / per_row))
    fig = Figure(figsize=(2.7 * 2 * per_row, 1.9 * rows + 0.8))
    axes = np.atleast_2d(fig.subplots(rows, 2 * per_row, sharex=True, sharey=True))
    im = None
    for i, k in enumerate(views):
        Fm, Fv = apply_view(S_mix, k), apply_view(S_voc, k)
        ref = max(float(np.max(Fm)), float(np.max(Fv)), 1e-10)
        r, c = divmod(i, per_row)
        for ax, F, who in ((axes[r, 2 * c], Fm, "mix"), (axes[r, 2 * c + 1], Fv, "vocal")):
            im = plot_spectrogram(ax, F, sr=sr, hop_length=hop_length,
                                  title=f"{_short(VIEW_NAMES[k])} - {who}", vmin=vmin, ref=ref)
            ax.title.set_fontsize(7)
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.tick_params(labelsize=6)
    for j in range(len(views), rows * per_row):
        r, c = divmod(j, per_row)
        axes[r, 2 * c].axis("off")
        axes[r, 2 * c + 1].axis("off")
    fig.supxlabel("time (s)", fontsize=8)
    fig.supylabel("frequency (kHz)", fontsize=8)
    fig.suptitle(title or "All 19 views: mixture | vocal (dB re the pair's peak)")
    fig.tight_layout()
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.5, label="dB", pad=0.01)
    return fig


def plot_fingerprints_window(S_mix: np.ndarray, S_voc: np.ndarray, *, window: int, config,
                             views: Sequence[int] = None, title: str = "") -> Figure:
    """The ``n_points``-point dB fingerprints of one window, mixture vs vocal, per view.

    Parameters
    ----------
    S_mix, S_voc : np.ndarray [shape=(n_bins, n_frames)]
    window : int
        Window (STFT frame) index.
    config : Config
    views : sequence of int, optional
        Default all 19.
    """
    from .errors import ParameterError
    from .fingerprint import fingerprint_db

    n_frames = S_mix.shape[-1]
    if not 0 <= int(window) < n_frames:
        raise ParameterError(f"window={window!r} is out of range: allowed 0..{n_frames - 1}")
    views = list(range(len(VIEWS))) if views is None else list(views)
    cols = 5
    rows = int(np.ceil(len(views) / cols))
    fig = Figure(figsize=(3.1 * cols, 2.1 * rows + 0.8))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True)).ravel()
    freqs = np.linspace(0.0, config.sr / 2 / 1000, config.n_points)
    for ax, k in zip(axes, views):
        m = fingerprint_db(S_mix[:, window:window + 1], k, config=config)[:, 0]
        v = fingerprint_db(S_voc[:, window:window + 1], k, config=config)[:, 0]
        ax.plot(freqs, m, lw=1.1, color="0.3", label="mixture")
        ax.plot(freqs, v, lw=0.6, color="tab:red", alpha=0.85, label="vocal")
        ax.set_title(_short(VIEW_NAMES[k]), fontsize=7)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    for ax in axes[len(views):]:
        ax.axis("off")
    axes[0].legend(fontsize=6)
    fig.supxlabel(f"frequency (kHz), {config.n_points} points", fontsize=8)
    fig.supylabel("fingerprint (dB)", fontsize=8)
    fig.suptitle(title or f"{config.n_points}-point fingerprints of window {window}: "
                          "mixture vs vocal, every view")
    fig.tight_layout()
    return fig


def plot_slice_window(S_mix: np.ndarray, S_voc: np.ndarray, *, view: int, window: int, config,
                      db_range=(-80.0, 0.0), title: str = "") -> Figure:
    """The slice explorer's picture for one view and one window.

    Panels: the view of the mixture and of the vocal (dB re the mixture view's peak,
    shown over *db_range*, the window marked), the view's kernel, and the window's
    ``n_points``-point dB fingerprints of both.

    Parameters
    ----------
    S_mix, S_voc : np.ndarray [shape=(n_bins, n_frames)]
    view : int
        0..18.
    window : int
        0..n_frames-1.
    config : Config
    db_range : (float, float)
        Colour range in dB.
    """
    from .errors import ParameterError
    from .fingerprint import fingerprint_db
    from .views import apply_view, get_view

    v = get_view(view)
    n_frames = S_mix.shape[-1]
    if not 0 <= int(window) < n_frames:
        raise ParameterError(f"window={window!r} is out of range: allowed 0..{n_frames - 1}")
    lo, hi = (float(x) for x in db_range)
    if not lo < hi:
        raise ParameterError(f"db_range={tuple(db_range)!r} is empty: allowed (low, high) with low < high")
    Fm, Fv = apply_view(S_mix, v), apply_view(S_voc, v)
    ref = max(float(np.max(Fm)), 1e-10)
    fig = Figure(figsize=(15, 3.9))
    gs = fig.add_gridspec(1, 6, width_ratios=[1.0, 1.0, 0.05, 0.12, 0.55, 1.25])
    ax_m = fig.add_subplot(gs[0])
    ax_v = fig.add_subplot(gs[1], sharey=ax_m)
    ax_c = fig.add_subplot(gs[2])
    ax_k = fig.add_subplot(gs[4])
    ax_f = fig.add_subplot(gs[5])
    t_win = window * config.hop_length / config.sr
    im = None
    for ax, F, who in ((ax_m, Fm, "mixture"), (ax_v, Fv, "vocal")):
        im = plot_spectrogram(ax, F, sr=config.sr, hop_length=config.hop_length,
                              title=f"{v.name}: {who}", vmin=lo, vmax=hi, ref=ref)
        ax.axvline(t_win, color="cyan", lw=1.0)
    ax_v.set_ylabel("")
    fig.colorbar(im, cax=ax_c, label="dB re mixture view's peak")
    k = v.display_kernel
    lim = float(np.max(np.abs(k))) or 1.0
    ax_k.imshow(k, origin="lower", cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto",
                interpolation="nearest")
    ax_k.set_title(f"kernel {k.shape[0]}x{k.shape[1]}\n{v.responds_to}", fontsize=8)
    ax_k.set_xlabel("time offset", fontsize=7)
    ax_k.set_ylabel("frequency offset", fontsize=7)
    ax_k.tick_params(labelsize=6)
    freqs = np.linspace(0.0, config.sr / 2 / 1000, config.n_points)
    m = fingerprint_db(S_mix[:, window:window + 1], v, config=config)[:, 0]
    s = fingerprint_db(S_voc[:, window:window + 1], v, config=config)[:, 0]
    ax_f.plot(freqs, m, lw=1.4, color="0.3", label="mixture")
    ax_f.plot(freqs, s, lw=0.8, color="tab:red", alpha=0.85, label="vocal")
    ax_f.set_xlabel(f"frequency (kHz), {config.n_points} points")
    ax_f.set_ylabel("fingerprint (dB)")
    ax_f.set_title(f"window {window} (t = {t_win:.2f} s): mean |mix - vocal| = "
                   f"{float(np.mean(np.abs(m - s))):.1f} dB", fontsize=9)
    ax_f.grid(alpha=0.3)
    ax_f.legend(fontsize=7)
    fig.suptitle(title or f"Slice explorer: view {v.index} ({v.name}), window {window}")
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.15, top=0.8, wspace=0.55)
    return fig


def plot_slice_step(m_db: np.ndarray, v_db: np.ndarray, step, *, window: int, clip_db: float,
                    after_db: Optional[np.ndarray] = None, magnitudes=None, config=None,
                    title: str = "") -> Figure:
    """One slice optimised: loss curve, EQ curves as an image, fingerprints before/after.

    Parameters
    ----------
    m_db, v_db : np.ndarray [shape=(n_points, n_frames)]
        The working mixture's and the vocal's dB fingerprints in the slice's view.
    step : StepResult or EQResult
        Has ``eq_db`` [shape=(n_points, n_frames)] and ``loss_curve``.
    window : int
        The window whose fingerprints are drawn.
    clip_db : float
        The EQ clip (colour range of the EQ image).
    after_db : np.ndarray [shape=(n_points, n_frames)], optional
        The fingerprint of the working magnitude *after* the step (re-measured: it
        differs from ``m + e`` because the EQ is interpolated back to the bins).
    magnitudes : (np.ndarray, np.ndarray), optional
        ``(before, after)`` magnitudes [shape=(n_bins, n_frames)]: adds a row with
        both spectrograms (needs *config*).
    config : Config, optional
    title : str
    """
    from .errors import ParameterError

    n_points, n_frames = m_db.shape
    if not 0 <= int(window) < n_frames:
        raise ParameterError(f"window={window!r} is out of range: allowed 0..{n_frames - 1}")
    rows = 2 if magnitudes is not None else 1
    fig = Figure(figsize=(15, 4.0 * rows))
    axes = np.atleast_2d(fig.subplots(rows, 3))
    ax_l, ax_e, ax_f = axes[0]
    curve = np.asarray(step.loss_curve, dtype=np.float64)
    ax_l.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-12), color="tab:blue")
    ax_l.set_xlabel("iteration")
    ax_l.set_ylabel("loss mean((m+e-v)$^2$) (dB$^2$)")
    ax_l.set_title(f"loss {curve[0]:.3f} -> {curve[-1]:.4f} dB$^2$", fontsize=9)
    ax_l.grid(alpha=0.3, which="both")
    im = ax_e.imshow(step.eq_db, origin="lower", aspect="auto", cmap="coolwarm",
                     vmin=-clip_db, vmax=clip_db, interpolation="nearest")
    ax_e.axvline(window, color="k", lw=0.6, ls="--")
    ax_e.set_xlabel("window")
    ax_e.set_ylabel("fingerprint point")
    ax_e.set_title(f"EQ curves e (dB), clipped to +-{clip_db:g}", fontsize=9)
    fig.colorbar(im, ax=ax_e, label="dB")
    pts = np.arange(n_points)
    ax_f.plot(pts, m_db[:, window], lw=0.8, color="0.55", label="before: m")
    ax_f.plot(pts, m_db[:, window] + step.eq_db[:, window], lw=0.8, color="tab:blue",
              label="fitted: m + e")
    if after_db is not None:
        ax_f.plot(pts, after_db[:, window], lw=0.8, ls="--", color="tab:green",
                  label="after (re-measured)")
    ax_f.plot(pts, v_db[:, window], lw=0.8, color="tab:red", label="target: vocal v")
    ax_f.set_xlabel("fingerprint point")
    ax_f.set_ylabel("dB")
    ax_f.set_title(f"window {window}: before / after", fontsize=9)
    ax_f.legend(fontsize=7)
    ax_f.grid(alpha=0.3)
    if magnitudes is not None:
        if config is None:
            raise ParameterError("magnitudes=... needs config=... for the spectrogram axes")
        before, after = magnitudes
        ref = float(np.max(before))
        for ax, mag, name in ((axes[1, 0], before, "working magnitude before"),
                              (axes[1, 1], after, "after the step")):
            im2 = plot_spectrogram(ax, mag, sr=config.sr, hop_length=config.hop_length,
                                   title=name, ref=ref)
        fig.colorbar(im2, ax=axes[1, 1], label="dB re before peak")
        diff = 20 * np.log10(np.maximum(after, 1e-10) / np.maximum(before, 1e-10))
        lim = float(np.nanpercentile(np.abs(diff), 99)) or 1.0
        n_bins = before.shape[0]
        im3 = axes[1, 2].imshow(diff, origin="lower", aspect="auto", cmap="coolwarm",
                                vmin=-lim, vmax=lim,
                                extent=(0, n_frames * config.hop_length / config.sr,
                                        0, config.sr / 2 / 1000))
        axes[1, 2].set_title(f"applied gain E (dB, {n_bins} bins)", fontsize=9)
        axes[1, 2].set_xlabel("time (s)")
        fig.colorbar(im3, ax=axes[1, 2], label="dB")
    fig.suptitle(title or f"One slice optimised -- {ORACLE}")
    fig.tight_layout()
    return fig


def plot_strategy_comparison(records: Dict[int, dict], *, names: Optional[Dict[int, str]] = None
                             ) -> Figure:
    """The gain strategies compared on the same data.

    Parameters
    ----------
    records : dict of int -> dict
        Strategy number -> :func:`conv2dsep_lib.pipeline.results_dict` of a progressive
        run with that strategy (same input, slices and settings otherwise).
    names : dict of int -> str, optional
        Strategy labels (default :data:`conv2dsep_lib.strategies.STRATEGY_NAMES`).

    Panels: the loss during the first slice's iterations, the step loss after each
    slice, and the SI-SDR of the extraction after k slices.
    """
    if names is None:
        from .strategies import STRATEGY_NAMES as names
    fig = Figure(figsize=(15, 4.3))
    ax_c, ax_l, ax_s = fig.subplots(1, 3)
    for s, rec in records.items():
        prog = rec["progressive"]
        label = f"{s}: {names.get(s, '')}"
        curve = np.asarray(prog[0]["loss_curve"], dtype=np.float64)
        ax_c.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-12), label=label)
        ks = [p["n_slices"] for p in prog]
        ax_l.semilogy(ks, np.maximum(prog[-1]["step_losses"], 1e-12), "o-", label=label)
        si = [np.nan if (p["metrics"] or {}).get("si_sdr") is None else p["metrics"]["si_sdr"]
              for p in prog]
        ax_s.plot(ks, si, "o-", label=label)
    first = next(iter(records.values()))["progressive"]
    ax_c.set_title(f"loss during slice 1 ({_short(first[0]['sequence'][-1])})", fontsize=9)
    ax_c.set_xlabel("iteration")
    ax_c.set_ylabel("loss (dB$^2$)")
    ax_l.set_title("step loss after each slice", fontsize=9)
    ax_l.set_xlabel("k (slices 1..k)")
    ax_l.set_ylabel("step loss (dB$^2$)")
    ax_s.set_title("SI-SDR of the extraction after k slices", fontsize=9)
    ax_s.set_xlabel("k (slices 1..k)")
    ax_s.set_ylabel("SI-SDR (dB)")
    for ax in (ax_c, ax_l, ax_s):
        ax.grid(alpha=0.3)
    ax_s.legend(fontsize=7)
    fig.suptitle(f"Gain strategies on the same data -- {ORACLE}")
    fig.tight_layout()
    return fig


def plot_greedy_candidates(record: dict) -> Figure:
    """The greedy search: every candidate's step loss at every position.

    Rows are positions in the greedy order, columns the slices 1..N; a cell is the
    step loss of that slice tried from the chosen prefix, the chosen one boxed.
    """
    from matplotlib.patches import Rectangle

    g = record["greedy"]
    names = sorted({n for c in g["candidates"] for n in c}, key=VIEW_NAMES.index)
    M = np.full((len(g["candidates"]), len(names)), np.nan)
    for i, cands in enumerate(g["candidates"]):
        for n, val in cands.items():
            M[i, names.index(n)] = val["loss"] if val.get("loss") is not None else np.nan
    fig = Figure(figsize=(max(6.0, 0.75 * len(names) + 3), 0.45 * len(M) + 2.2))
    ax = fig.subplots()
    data = np.log10(np.maximum(M, 1e-12))
    im = ax.imshow(data, cmap="viridis_r", aspect="auto")
    for i, chosen in enumerate(g["sequence"]):
        j = names.index(chosen)
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=1.8))
        for jj in range(len(names)):
            if np.isfinite(M[i, jj]):
                ax.text(jj, i, f"{M[i, jj]:.2g}", ha="center", va="center", fontsize=6,
                        color="w" if data[i, jj] > np.nanmean(data) else "k")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([_short(n) for n in names], rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(M)))
    ax.set_yticklabels([f"{i + 1}" for i in range(len(M))], fontsize=7)
    ax.set_ylabel("position in the greedy order")
    fig.colorbar(im, ax=ax, label="log10 step loss (dB$^2$)")
    ax.set_title(f"Greedy search ({g['score']}): candidates' step loss, chosen boxed; best prefix "
                 f"{g['best_prefix']['n_slices']} -- {ORACLE}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_results_summary(record: dict) -> Figure:
    """Every estimate side by side: SI-SDR and SDR bars, the fingerprint loss printed on them.

    Estimates: each k of the original order, the greedy order and its best prefix,
    and every baseline (floor / oracle / blind).
    """
    rows = []
    for p in record["progressive"]:
        rows.append((f"k={p['n_slices']}", p["loss"], p["metrics"] or {}, "tab:blue"))
    if "greedy" in record:
        g = record["greedy"]
        rows.append(("greedy (all)", g["loss"], g.get("metrics") or {}, "tab:orange"))
        rows.append((f"greedy best {g['best_prefix']['n_slices']}", g["best_prefix"]["loss"],
                     g["best_prefix"].get("metrics") or {}, "tab:red"))
    kind_color = {"floor": "0.4", "oracle": "tab:green", "blind": "tab:purple"}
    for name, b in record.get("baselines", {}).items():
        rows.append((f"{name} ({b.get('kind')})", None, b.get("metrics") or {},
                     kind_color.get(b.get("kind"), "0.6")))
    fig = Figure(figsize=(13, 0.32 * len(rows) + 1.8))
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(rows))
    for ax, key, label in ((axes[0], "si_sdr", "SI-SDR (dB)"), (axes[1], "sdr", "SDR, BSS Eval v4 (dB)")):
        vals = np.array([np.nan if m.get(key) is None else m[key] for _, _, m, _ in rows])
        ax.barh(y, np.nan_to_num(vals), color=[c for *_, c in rows])
        for yi, v, (_, loss, _, _) in zip(y, vals, rows):
            txt = "n/a" if not np.isfinite(v) else f"{v:.1f}"
            if loss is not None:
                txt += f"  (loss {loss:.3g})"
            ax.annotate(txt, (0 if not np.isfinite(v) else v, yi), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([r[0] for r in rows], fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(f"All estimates: separation quality, fingerprint loss in brackets -- {ORACLE}")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ sweeps (conv2dsep sweep)
_SWEEP_LABELS = {"loss": "fingerprint loss (dB$^2$)", "si_sdr": "SI-SDR (dB)",
                 "si_sdr_i": "SI-SDR improvement (dB)", "sdr": "SDR (dB)", "sir": "SIR (dB)",
                 "sar": "SAR (dB)"}
_BASELINE_STYLE = {"oracle": ("tab:green", "--"), "blind": ("tab:purple", ":"), "floor": ("0.35", "-.")}
_BASELINE_COLOR = {"oracle_irm": "tab:green", "oracle_ibm": "darkolivegreen", "repet_sim": "tab:purple",
                   "hpss": "tab:brown", "mixture": "0.35"}


def _nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10, transform=ax.transAxes)
    ax.set_axis_off()


def plot_sweep_n_slices(rows, *, metric: str = "si_sdr") -> Figure:
    """A sweep's quality against the number of slices, with the spread across tracks.

    Parameters
    ----------
    rows : list of dict
        The tidy sweep table (:func:`conv2dsep_lib.sweep.read_table`).
    metric : {"si_sdr", "si_sdr_i", "sdr", "sir", "sar", "loss"}

    Returns
    -------
    Figure
        One line per combination of the other varied settings: the median over
        tracks after k slices (progressive, original order), a band from the 25th to
        the 75th percentile, and (with one combination) each track faintly; the
        baselines' medians as horizontal lines.  Title says ORACLE.

    See Also
    --------
    conv2dsep_lib.sweep.n_slices_curves : the numbers drawn.
    """
    from .sweep import n_slices_curves

    d = n_slices_curves(rows, metric=metric)
    label = _SWEEP_LABELS[metric]
    fig = Figure(figsize=(9.5, 5.2))
    ax = fig.subplots()
    if not d["curves"]:
        _no_data(ax, "no finished progressive runs in this sweep")
    all_k = set()
    for i, c in enumerate(d["curves"]):
        color = f"C{i % 10}"
        k = np.asarray(c["k"])
        all_k.update(c["k"])
        if len(d["curves"]) == 1:
            for j, (track, vals) in enumerate(c["tracks"].items()):
                ax.plot(k, _nan(vals), "-", color=color, alpha=0.25, lw=0.8,
                        label="single tracks" if j == 0 else None)
        ax.fill_between(k, _nan(c["q25"]), _nan(c["q75"]), color=color, alpha=0.18, lw=0)
        ax.plot(k, _nan(c["median"]), "o-", color=color, label=f"{c['label']} (median, IQR band)")
    if d["curves"]:
        for name, b in d["baselines"].items():
            if b["median"] is None:
                continue
            color, ls = _BASELINE_STYLE.get(b["kind"], ("0.5", "--"))
            color = _BASELINE_COLOR.get(name, color)
            ax.axhline(b["median"], color=color, ls=ls, lw=1.1, label=f"{name} ({b['kind']}), median")
        ax.set_xticks(sorted(all_k))
        ax.set_xlabel("slices k (progressive: slices 1..k in the original order)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    ax.set_title(f"Conv2D fingerprinting: {label} vs slices, median over {d['n_tracks']} tracks\n"
                 f"{ORACLE}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_sweep_greedy(rows, *, metric: str = "si_sdr") -> Figure:
    """Greedy order against the original order, one point per track x setting.

    Left: the fingerprint loss after all N slices (original order on x, greedy
    order and its best prefix on y; below the diagonal = greedy lower).  Right:
    *metric* of the same extractions (above the diagonal = greedy better).  The
    counts in the titles show whether the two criteria agree.

    Returns
    -------
    Figure
        Title says ORACLE.

    See Also
    --------
    conv2dsep_lib.sweep.greedy_pairs : the numbers drawn.
    """
    from .sweep import greedy_pairs

    pairs = greedy_pairs(rows, metric=metric)
    label = _SWEEP_LABELS[metric]
    fig = Figure(figsize=(12, 5.2))
    ax_l, ax_m = fig.subplots(1, 2)
    if not pairs:
        _no_data(ax_l, "no greedy runs in this sweep (greedy: false)")
        _no_data(ax_m, "")
        fig.suptitle(f"Greedy vs original order -- {ORACLE}")
        return fig
    labels = list(dict.fromkeys(p["label"] for p in pairs))
    for ax, key, name in ((ax_l, "loss", "fingerprint loss (dB$^2$)"), (ax_m, "", label)):
        suffix = "_loss" if key == "loss" else ""
        xs_all, ys_all = [], []
        for i, lab in enumerate(labels):
            group = [p for p in pairs if p["label"] == lab]
            x = _nan(p.get("original" + suffix) for p in group)
            for method, marker in (("greedy", "o"), ("greedy_best", "^")):
                y = _nan(p.get(method + suffix) for p in group)
                ax.scatter(x, y, marker=marker, color=f"C{i % 10}", alpha=0.75, s=28,
                           facecolors="none" if method == "greedy_best" else None,
                           label=lab if method == "greedy" else None)
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
        ax.set_xlabel(f"original order 1..N: {name}")
        ax.set_ylabel(f"greedy order: {name}")
        ax.grid(alpha=0.3)
    def tally(key, sign):
        out = [0, 0, 0]                          # greedy better / equal / worse
        for p in pairs:
            g, o = p.get("greedy" + key), p.get("original" + key)
            if g is None or o is None:
                continue
            d = sign * (g - o)
            out[0 if d > 1e-9 * max(1.0, abs(o)) else 2 if d < -1e-9 * max(1.0, abs(o)) else 1] += 1
        return out

    lo_, eq_, hi_ = tally("_loss", -1)
    ax_l.set_title(f"loss: greedy order (all N) lower / equal / higher in {lo_} / {eq_} / {hi_} "
                   f"of {len(pairs)} runs", fontsize=9)
    b_, e_, w_ = tally("", 1)
    ax_m.set_title(f"{label}: greedy order (all N) better / equal / worse in {b_} / {e_} / {w_} "
                   f"of {len(pairs)} runs", fontsize=9)
    ax_m.legend(fontsize=7, loc="best", ncol=1 if len(labels) <= 10 else 2, title="setting", title_fontsize=7)
    fig.suptitle(f"Greedy vs original slice order (filled o: greedy order, all N; open ^: its best "
                 f"prefix) -- {ORACLE}", fontsize=11)
    fig.tight_layout()
    return fig


def plot_sweep_strategies(rows, *, metric: str = "si_sdr") -> Figure:
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
    conv2dsep_lib.sweep.strategy_groups : the numbers drawn.
    """
    from .strategies import STRATEGY_NAMES
    from .sweep import strategy_groups

    sg = strategy_groups(rows, metric=metric)
    label = _SWEEP_LABELS[metric]
    fig = Figure(figsize=(12, 5))
    ax_m, ax_l = fig.subplots(1, 2)
    if not sg["varies"]:
        _no_data(ax_m, f"the gain strategy does not vary in this sweep (strategy {sg['fixed']} only):\n"
                       "nothing to compare; add e.g. 'strategy: [1, 2, 3, 4]' to the grid")
        _no_data(ax_l, "")
    else:
        rng = np.random.default_rng(0)
        ticks = [f"{s}: {STRATEGY_NAMES.get(s, '')}" for s in sg["strategies"]]
        for ax, data, name, log in ((ax_m, sg["values"], label, False),
                                    (ax_l, sg["losses"], "fingerprint loss (dB$^2$)", True)):
            vals = [_nan(data[s]) for s in sg["strategies"]]
            vals = [v[np.isfinite(v)] for v in vals]
            ax.boxplot([v if v.size else np.array([np.nan]) for v in vals], showfliers=False)
            for i, v in enumerate(vals, start=1):
                ax.scatter(i + rng.uniform(-0.12, 0.12, v.size), v, s=14, alpha=0.6, color=f"C{i - 1}")
            ax.set_xticks(range(1, len(ticks) + 1))
            ax.set_xticklabels(ticks, rotation=15, fontsize=8)
            ax.set_ylabel(name)
            if log and all(v.size and v.min() > 0 for v in vals):
                ax.set_yscale("log")
            ax.grid(axis="y", alpha=0.3)
        ax_m.set_title(f"{label} after all N slices (spread = stability across tracks x settings)",
                       fontsize=9)
        ax_l.set_title("fingerprint loss after all N slices", fontsize=9)
    fig.suptitle(f"Gain strategies in the sweep -- {ORACLE}")
    fig.tight_layout()
    return fig
