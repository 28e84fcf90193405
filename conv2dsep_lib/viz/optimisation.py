"""Figures of the optimisation: one slice step by step, the gain strategies compared (notebook 02)."""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np
from matplotlib.figure import Figure

from ..core.config import Config
from ..core.errors import ParameterError
from ..method.fingerprint import expand_points
from ..method.strategies import STRATEGY_NAMES
from ..method.transforms import to_db
from ..results.record import RunRecord
from .common import (
    DB2,
    ORACLE,
    fmt_num,
    legend_outside,
    nan_array,
    plain_log_axis,
    plot_spectrogram,
    short_name,
)

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
        ``(before, after)`` magnitudes [shape=(n_bins, n_frames)] of this one step: adds
        a row with both spectrograms and the applied gain ``E`` (needs *config*).
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
    plain_log_axis(ax_l)
    ax_l.set_xlabel("iteration")
    ax_l.set_ylabel(f"loss mean((m + e - v)²) ({DB2})")
    ax_l.set_title(f"loss {fmt_num(curve[0])} -> {fmt_num(curve[-1])} {DB2}", fontsize=9)
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
    ax_e.set_title(f"EQ curves e (dB), clipped to ±{clip_db:g}", fontsize=9)
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
    legend_outside(ax_f)
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
        _draw_applied_gain(fig, axes[1, 2], step, before, clip_db=clip_db, config=config)
    fig.suptitle(title or f"One slice optimised -- {ORACLE}")
    fig.tight_layout()
    return fig


def _draw_applied_gain(
    fig: Figure, ax: Any, step, before: np.ndarray, *, clip_db: float, config: Config
) -> None:
    """The applied gain ``E`` (``e`` interpolated to the bins, within +-clip_db) on *ax*.

    The step sets ``after = db_to_amplitude(dB(before) + E)``, where ``dB`` floors every
    bin at the spectrogram's peak minus ``top_db`` (librosa's ``amplitude_to_db``, the
    seed's): a bin quieter than that is first raised to the floor.  So the level change
    ``20 log10(after / before)`` is ``E`` plus that lift -- tens of dB more than the clip
    in near-silent bins.  The image is ``E``; the lifted bins are outlined and the title
    says how many and by how much.
    """
    n_bins, n_frames = before.shape
    E = expand_points(step.eq_db, n_bins=n_bins)
    raw = to_db(before, amin=config.amin, top_db=None)
    lift = to_db(before, amin=config.amin, top_db=config.top_db, axis=(-2, -1)) - raw
    lifted = lift > 0
    extent = (0, n_frames * config.hop_length / config.sr, 0, config.sr / 2 / 1000)
    im = ax.imshow(
        E, origin="lower", aspect="auto", cmap="coolwarm", vmin=-clip_db, vmax=clip_db, extent=extent
    )
    if lifted.any():
        ax.contour(
            lifted.astype(np.float64), levels=[0.5], colors="k", linewidths=0.5, extent=extent, origin="lower"
        )
        note = (
            f"outlined: {100 * lifted.mean():.0f}% of bins under the dB floor "
            f"({config.top_db:g} dB below the peak),\n"
            f"raised to it first: level change = E + up to {float(lift.max()):.0f} dB"
        )
    else:
        note = "no bin under the dB floor: level change 20 log10(after/before) = E"
    ax.set_title(f"applied gain E (dB): e on {n_bins} bins, within ±{clip_db:g}\n{note}", fontsize=8)
    ax.set_xlabel("time (s)")
    fig.colorbar(im, ax=ax, label="E (dB)")


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
        ax_l.semilogy(ks, np.maximum(prog[-1].step_losses, 1e-12), "o-", clip_on=False, label=label)
        ax_s.plot(
            ks,
            nan_array(None if p.metrics is None else p.metrics.si_sdr for p in prog),
            "o-",
            clip_on=False,
            label=label,
        )
    first = next(iter(records.values())).progressive
    ax_c.set_title(f"loss during slice 1 ({short_name(first[0].sequence[-1])})", fontsize=9)
    ax_c.set_xlabel("iteration")
    ax_c.set_ylabel(f"loss ({DB2})")
    ax_l.set_title("step loss after each slice", fontsize=9)
    ax_l.set_xlabel("k (slices 1..k)")
    ax_l.set_ylabel(f"step loss ({DB2})")
    ax_s.set_title("SI-SDR of the extraction after k slices", fontsize=9)
    ax_s.set_xlabel("k (slices 1..k)")
    ax_s.set_ylabel("SI-SDR (dB)")
    for ax in (ax_c, ax_l, ax_s):
        ax.grid(alpha=0.3)
    plain_log_axis(ax_c)
    plain_log_axis(ax_l)
    legend_outside(ax_s)
    fig.suptitle(f"Gain strategies on the same data -- {ORACLE}")
    fig.tight_layout()
    return fig
