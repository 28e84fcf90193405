"""Figures of the optimisation: one slice step by step, the gain strategies compared (notebook 02)."""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np
from matplotlib.figure import Figure

from ..core.config import Config
from ..core.errors import ParameterError
from ..method.strategies import STRATEGY_NAMES
from ..results.record import RunRecord
from .common import ORACLE, nan_array, plot_spectrogram, short_name

__all__ = ["plot_slice_step", "plot_strategy_comparison"]


def plot_slice_step(
    m_db: np.ndarray,
    v_db: np.ndarray,
    step,
    *,
    window: int,
    clip_db: float,
    after_db: Optional[np.ndarray] = None,
    magnitudes: Optional[Any] = None,
    config: Optional[Config] = None,
    title: str = "",
) -> Figure:
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
    im = ax_e.imshow(
        step.eq_db,
        origin="lower",
        aspect="auto",
        cmap="coolwarm",
        vmin=-clip_db,
        vmax=clip_db,
        interpolation="nearest",
    )
    ax_e.axvline(window, color="k", lw=0.6, ls="--")
    ax_e.set_xlabel("window")
    ax_e.set_ylabel("fingerprint point")
    ax_e.set_title(f"EQ curves e (dB), clipped to +-{clip_db:g}", fontsize=9)
    fig.colorbar(im, ax=ax_e, label="dB")
    pts = np.arange(n_points)
    ax_f.plot(pts, m_db[:, window], lw=0.8, color="0.55", label="before: m")
    ax_f.plot(pts, m_db[:, window] + step.eq_db[:, window], lw=0.8, color="tab:blue", label="fitted: m + e")
    if after_db is not None:
        ax_f.plot(pts, after_db[:, window], lw=0.8, ls="--", color="tab:green", label="after (re-measured)")
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
        for ax, mag, name in (
            (axes[1, 0], before, "working magnitude before"),
            (axes[1, 1], after, "after the step"),
        ):
            im2 = plot_spectrogram(ax, mag, sr=config.sr, hop_length=config.hop_length, title=name, ref=ref)
        fig.colorbar(im2, ax=axes[1, 1], label="dB re before peak")
        diff = 20 * np.log10(np.maximum(after, 1e-10) / np.maximum(before, 1e-10))
        lim = float(np.nanpercentile(np.abs(diff), 99)) or 1.0
        n_bins = before.shape[0]
        im3 = axes[1, 2].imshow(
            diff,
            origin="lower",
            aspect="auto",
            cmap="coolwarm",
            vmin=-lim,
            vmax=lim,
            extent=(0, n_frames * config.hop_length / config.sr, 0, config.sr / 2 / 1000),
        )
        axes[1, 2].set_title(f"applied gain E (dB, {n_bins} bins)", fontsize=9)
        axes[1, 2].set_xlabel("time (s)")
        fig.colorbar(im3, ax=axes[1, 2], label="dB")
    fig.suptitle(title or f"One slice optimised -- {ORACLE}")
    fig.tight_layout()
    return fig


def plot_strategy_comparison(
    records: Mapping[int, RunRecord], *, names: Optional[Mapping[int, str]] = None
) -> Figure:
    """The gain strategies compared on the same data.

    Parameters
    ----------
    records : mapping of int -> RunRecord
        Strategy number -> the record of a progressive run with that strategy (same
        input, slices and settings otherwise; :func:`conv2dsep_lib.run.experiment.compare_strategies`).
    names : mapping of int -> str, optional
        Strategy labels (default :data:`conv2dsep_lib.method.strategies.STRATEGY_NAMES`).

    Panels: the loss during the first slice's iterations, the step loss after each
    slice, and the SI-SDR of the extraction after k slices.
    """
    names = STRATEGY_NAMES if names is None else names
    fig = Figure(figsize=(15, 4.3))
    ax_c, ax_l, ax_s = fig.subplots(1, 3)
    for s, rec in records.items():
        prog = rec.progressive
        label = f"{s}: {names.get(s, '')}"
        curve = np.asarray(prog[0].loss_curve, dtype=np.float64)
        ax_c.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-12), label=label)
        ks = [p.n_slices for p in prog]
        ax_l.semilogy(ks, np.maximum(prog[-1].step_losses, 1e-12), "o-", label=label)
        ax_s.plot(
            ks, nan_array(None if p.metrics is None else p.metrics.si_sdr for p in prog), "o-", label=label
        )
    first = next(iter(records.values())).progressive
    ax_c.set_title(f"loss during slice 1 ({short_name(first[0].sequence[-1])})", fontsize=9)
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
