"""Figures of the learned model (BLIND): learning curves, and the kernels beside the hand-made ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..core.files import PathLike
from .common import draw_kernel, plot_spectrogram, save_figure

__all__ = ["plot_training_curves", "save_training_figure", "plot_learned_kernels", "save_separation_figure"]


def plot_training_curves(history: Any) -> Figure:
    """The loss per step (and its running mean) and the validation SI-SDR, BLIND.

    *history*: a :class:`conv2dsep_lib.learned.training.History` or its ``to_dict()``.
    """
    h = history if isinstance(history, dict) else history.to_dict()
    losses = np.asarray(h["losses"], dtype=float)
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    steps = np.arange(1, len(losses) + 1)
    ax1.plot(steps, losses, lw=0.6, alpha=0.4, label="loss per step")
    if len(losses) >= 10:
        w = max(len(losses) // 50, 5)
        ax1.plot(
            steps[w - 1 :], np.convolve(losses, np.ones(w) / w, mode="valid"), lw=1.5, label=f"mean of {w}"
        )
    ax1.set_xlabel("step")
    ax1.set_ylabel("L1 on magnitude")
    ax1.set_yscale("log")
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3)
    val = h.get("validation") or []
    if val:
        ax2.plot([v["step"] for v in val], [v["si_sdr"] for v in val], "o-", label="SI-SDR")
        ax2.plot([v["step"] for v in val], [v["si_sdr_i"] for v in val], "s--", label="SI-SDR improvement")
        ax2.legend(fontsize=7)
    ax2.set_xlabel("step")
    ax2.set_ylabel("dB (validation, blind)")
    ax2.grid(alpha=0.3)
    for step in h.get("resumed_at") or []:
        for ax in (ax1, ax2):
            ax.axvline(step, color="grey", ls=":", lw=1)
    fig.suptitle("BLIND: learned Conv2D EQ model -- training", fontsize=10)
    return fig


def save_training_figure(history: Any, path: PathLike) -> Path:
    """Write :func:`plot_training_curves` to *path*."""
    return save_figure(plot_training_curves(history), path)


def plot_learned_kernels(initial: np.ndarray, learned: np.ndarray, names: Any) -> Figure:
    """Each learned view kernel beside the hand-made kernel it started from.

    Parameters
    ----------
    initial, learned : np.ndarray [shape=(18, freq, time)]
    names : sequence of 18 str
    """
    n = len(names)
    fig = Figure(figsize=(2.0 * 6, 1.9 * ((n + 2) // 3)), layout="constrained")
    axes = fig.subplots((n + 2) // 3, 6, squeeze=False)
    for i, name in enumerate(names):
        a0, a1 = axes[i // 3, 2 * (i % 3)], axes[i // 3, 2 * (i % 3) + 1]
        draw_kernel(a0, initial[i])
        draw_kernel(a1, learned[i])
        a0.set_title(f"{name}\nhand-made", fontsize=6)
        a1.set_title("learned", fontsize=6)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("BLIND model: view kernels (freq x time), hand-made start vs learned", fontsize=10)
    return fig


def save_separation_figure(mags: Any, path: PathLike, *, config: Any, title: str) -> Path:
    """Spectrograms of a blind separation, one panel per signal (*mags*: name -> magnitude)."""
    fig = Figure(figsize=(11, 2.6 * len(mags)), layout="constrained")
    axes = fig.subplots(len(mags), 1, squeeze=False)[:, 0]
    ref = max(float(np.max(m)) for m in mags.values())
    for ax, (name, mag) in zip(axes, mags.items()):
        label = name if name == "mixture" else f"{name} (BLIND estimate)"
        plot_spectrogram(ax, mag, sr=config.sr, hop_length=config.hop_length, title=label, ref=ref)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
