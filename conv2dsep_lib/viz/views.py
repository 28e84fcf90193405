"""Figures of the views: the kernels, every view of a spectrogram, one window's fingerprints.

Notebook 01 and the slice explorer draw these.  The views and fingerprints are the
method's own (:mod:`conv2dsep_lib.method`).
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np
from matplotlib.figure import Figure

from ..core.config import Config
from ..core.errors import ParameterError
from ..method.fingerprint import fingerprint_db
from ..method.views import VIEW_NAMES, VIEWS, View, apply_view, get_view
from .common import draw_kernel, plot_spectrogram, short_name

__all__ = [
    "window_fingerprint_db",
    "plot_views",
    "plot_kernels",
    "plot_views_pair",
    "plot_fingerprints_window",
    "plot_slice_window",
    "check_magnitude_pair",
]


def _check_window(window: int, n_frames: int) -> int:
    if not 0 <= int(window) < n_frames:
        raise ParameterError(f"window={window!r} is out of range: allowed 0..{n_frames - 1}")
    return int(window)


def check_magnitude_pair(S_mix, S_voc) -> "tuple[np.ndarray, np.ndarray]":
    """The two magnitudes as arrays, checked: both 2-D ``(n_bins, n_frames)``, the same shape,
    at least one bin and one frame (else :class:`ParameterError`, before anything is drawn)."""
    S_mix, S_voc = np.asarray(S_mix), np.asarray(S_voc)
    if S_mix.ndim != 2 or S_voc.shape != S_mix.shape or 0 in S_mix.shape:
        raise ParameterError(
            f"magnitudes of shape {S_mix.shape} (mixture) and {S_voc.shape} (vocal): allowed two "
            "(n_bins, n_frames) arrays of the same shape with at least one bin and one frame"
        )
    return S_mix, S_voc


def window_fingerprint_db(
    S: np.ndarray, view: Union[int, str, View], *, window: int, config: Config
) -> np.ndarray:
    """Column *window* of the whole spectrogram's fingerprint, ``fingerprint_db(S, view)[:, window]``.

    A view is a Conv2D kernel (or a 2x2 pooling) with a finite extent in time, and a
    fingerprint is resampled and converted to dB one window at a time, so column
    *window* depends only on the frames the view reaches around it.  Only those are
    computed: the frames ``window - r .. window + r`` (``r`` = the kernel's width, at
    least 2; the start rounded down to an even frame so the pooling pairs line up).
    Inside that range the kernel never reaches the cut, and at a cut that is the
    spectrogram's own edge the boundary is the same as the whole spectrogram's, so the
    column is the same numbers (``tests/test_viz_fingerprints.py`` checks every view at
    the edges and inside).

    A fingerprint of the one-frame spectrogram ``S[:, window:window + 1]`` is *not* this
    column: a view with time extent (e.g. ``slice_2_vertical``) would see a constant in
    time and give ~0.

    Parameters
    ----------
    S : np.ndarray [shape=(..., n_bins, n_frames)]
        Magnitude spectrogram.
    view : int, str or View
    window : int
        0..n_frames-1.
    config : Config

    Returns
    -------
    np.ndarray [shape=(..., n_points)]
        dB.
    """
    v = get_view(view)
    S = np.asarray(S)
    window = _check_window(window, S.shape[-1])
    reach = max(2, v.kernel.shape[1] if v.kernel is not None else 2)
    lo = max(0, window - reach)
    lo -= lo % 2
    hi = min(S.shape[-1], window + reach + 1)
    return fingerprint_db(S[..., lo:hi], v, config=config)[..., window - lo]


def plot_views(
    S: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    views: Optional[Sequence[int]] = None,
    title: str = "",
    vmin: float = -80.0,
) -> Figure:
    """All (or some) views of one magnitude spectrogram in dB, in a grid."""
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
    for ax in axes[len(views) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_kernels() -> Figure:
    """Every view's kernel (pooling views: their 2x2 window), rows = frequency offset."""
    fig = Figure(figsize=(18, 8.5))
    axes = fig.subplots(3, 7).ravel()
    for ax, v in zip(axes, VIEWS):
        k = v.display_kernel
        draw_kernel(ax, k)
        ax.set_title(f"{v.index}: {short_name(v.name)}\n{v.responds_to}", fontsize=8)
        ax.set_xlabel(f"time ({k.shape[1]})", fontsize=8)
        ax.set_ylabel(f"freq ({k.shape[0]})", fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in axes[len(VIEWS) :]:
        ax.axis("off")
    fig.suptitle("Conv2D kernels (blue < 0 < red); pooling views show their 2x2 window")
    fig.tight_layout()
    return fig


def plot_views_pair(
    S_mix: np.ndarray,
    S_voc: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    views: Optional[Sequence[int]] = None,
    vmin: float = -80.0,
    title: str = "",
) -> Figure:
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
    views = list(range(len(VIEWS))) if views is None else list(views)
    per_row = 3
    rows = int(np.ceil(len(views) / per_row))
    fig = Figure(figsize=(2.9 * 2 * per_row, 2.0 * rows + 0.8))
    axes = np.atleast_2d(fig.subplots(rows, 2 * per_row, sharex=True, sharey=True))
    im = None
    for i, k in enumerate(views):
        Fm, Fv = apply_view(S_mix, k), apply_view(S_voc, k)
        ref = max(float(np.max(Fm)), float(np.max(Fv)), 1e-10)
        r, c = divmod(i, per_row)
        for ax, F, who in ((axes[r, 2 * c], Fm, "mix"), (axes[r, 2 * c + 1], Fv, "vocal")):
            im = plot_spectrogram(
                ax,
                F,
                sr=sr,
                hop_length=hop_length,
                title=f"{short_name(VIEW_NAMES[k])} - {who}",
                vmin=vmin,
                ref=ref,
            )
            ax.title.set_fontsize(8)
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.tick_params(labelsize=8)
    for j in range(len(views), rows * per_row):
        r, c = divmod(j, per_row)
        axes[r, 2 * c].axis("off")
        axes[r, 2 * c + 1].axis("off")
    fig.supxlabel("time (s)", fontsize=9)
    fig.supylabel("frequency (kHz)", fontsize=9)
    fig.suptitle(title or "All 19 views: mixture | vocal (dB re the pair's peak)")
    fig.tight_layout()
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.5, label="dB", pad=0.01)
    return fig


def plot_fingerprints_window(
    S_mix: np.ndarray,
    S_voc: np.ndarray,
    *,
    window: int,
    config,
    views: Optional[Sequence[int]] = None,
    title: str = "",
) -> Figure:
    """The ``n_points``-point dB fingerprints of one window, mixture vs vocal, per view.

    Each line is column *window* of the whole spectrogram's fingerprint
    (:func:`window_fingerprint_db`), the numbers the optimisation fits.

    Parameters
    ----------
    S_mix, S_voc : np.ndarray [shape=(n_bins, n_frames)]
    window : int
        Window (STFT frame) index.
    config : Config
    views : sequence of int, optional
        Default all 19.
    """
    window = _check_window(window, S_mix.shape[-1])
    views = list(range(len(VIEWS))) if views is None else list(views)
    cols = 5
    rows = int(np.ceil(len(views) / cols))
    fig = Figure(figsize=(3.2 * cols, 2.2 * rows + 0.9))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True)).ravel()
    freqs = np.linspace(0.0, config.sr / 2 / 1000, config.n_points)
    for ax, k in zip(axes, views):
        m = window_fingerprint_db(S_mix, k, window=window, config=config)
        v = window_fingerprint_db(S_voc, k, window=window, config=config)
        ax.plot(freqs, m, lw=1.1, color="0.3", label="mixture")
        ax.plot(freqs, v, lw=0.6, color="tab:red", alpha=0.85, label="vocal")
        ax.set_title(short_name(VIEW_NAMES[k]), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(views) :]:
        ax.axis("off")
    if len(views) < len(axes):  # a free cell: the legend goes there, over no data
        handles, labels = axes[0].get_legend_handles_labels()
        axes[len(views)].legend(handles, labels, loc="center", fontsize=9)
    else:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="upper right", fontsize=9)
    fig.supxlabel(f"frequency (kHz), {config.n_points} points", fontsize=9)
    fig.supylabel("fingerprint (dB)", fontsize=9)
    fig.suptitle(
        title or f"{config.n_points}-point fingerprints of window {window}: mixture vs vocal, every view"
    )
    fig.tight_layout()
    return fig


def plot_slice_window(
    S_mix: np.ndarray,
    S_voc: np.ndarray,
    *,
    view: int,
    window: int,
    config,
    db_range=(-80.0, 0.0),
    title: str = "",
) -> Figure:
    """The slice explorer's picture for one view and one window.

    Panels: the view of the mixture and of the vocal (dB re the mixture view's peak,
    shown over *db_range*, the window marked), the view's kernel, and the window's
    ``n_points``-point dB fingerprints of both (column *window* of the whole
    spectrogram's fingerprint, :func:`window_fingerprint_db`).

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
    v = get_view(view)
    S_mix, S_voc = check_magnitude_pair(S_mix, S_voc)
    window = _check_window(window, S_mix.shape[-1])
    lo, hi = (float(x) for x in db_range)
    if not lo < hi:
        raise ParameterError(f"db_range={tuple(db_range)!r} is empty: allowed (low, high) with low < high")
    Fm, Fv = apply_view(S_mix, v), apply_view(S_voc, v)
    ref = max(float(np.max(Fm)), 1e-10)
    fig = Figure(figsize=(15, 4.4))
    gs = fig.add_gridspec(1, 6, width_ratios=[1.0, 1.0, 0.05, 0.12, 0.55, 1.25])
    ax_m = fig.add_subplot(gs[0])
    ax_v = fig.add_subplot(gs[1], sharey=ax_m)
    ax_c = fig.add_subplot(gs[2])
    ax_k = fig.add_subplot(gs[4])
    ax_f = fig.add_subplot(gs[5])
    t_win = window * config.hop_length / config.sr
    im = None
    for ax, F, who in ((ax_m, Fm, "mixture"), (ax_v, Fv, "vocal")):
        im = plot_spectrogram(
            ax,
            F,
            sr=config.sr,
            hop_length=config.hop_length,
            title=f"{v.name}: {who}",
            vmin=lo,
            vmax=hi,
            ref=ref,
        )
        ax.axvline(t_win, color="cyan", lw=1.0)
    ax_v.set_ylabel("")
    fig.colorbar(im, cax=ax_c, label="dB re mixture view's peak")
    k = v.display_kernel
    draw_kernel(ax_k, k)
    ax_k.set_title(f"kernel {k.shape[0]}x{k.shape[1]}\n{v.responds_to}", fontsize=8)
    ax_k.set_xlabel("time offset", fontsize=8)
    ax_k.set_ylabel("frequency offset", fontsize=8)
    ax_k.tick_params(labelsize=8)
    freqs = np.linspace(0.0, config.sr / 2 / 1000, config.n_points)
    m = window_fingerprint_db(S_mix, v, window=window, config=config)
    s = window_fingerprint_db(S_voc, v, window=window, config=config)
    ax_f.plot(freqs, m, lw=1.4, color="0.3", label="mixture")
    ax_f.plot(freqs, s, lw=0.8, color="tab:red", alpha=0.85, label="vocal")
    ax_f.set_xlabel(f"frequency (kHz), {config.n_points} points")
    ax_f.set_ylabel("fingerprint (dB)")
    ax_f.set_title(
        f"window {window} (t = {t_win:.2f} s): mean |mix - vocal| = {float(np.mean(np.abs(m - s))):.1f} dB",
        fontsize=9,
    )
    ax_f.grid(alpha=0.3)
    ax_f.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # below: covers no data
    fig.suptitle(title or f"Slice explorer: view {v.index} ({v.name}), window {window}")
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.26, top=0.8, wspace=0.55)
    return fig
