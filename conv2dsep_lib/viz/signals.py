"""Figures of signals: waveforms and magnitude spectrograms side by side (notebooks 00 and 05)."""

from __future__ import annotations

from typing import Dict

import numpy as np
from matplotlib.figure import Figure

from ..core.config import Config
from ..method.transforms import stft
from .common import plot_spectrogram

__all__ = ["plot_waveforms", "plot_signal_spectrograms"]


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


def plot_signal_spectrograms(
    signals: Dict[str, np.ndarray], *, config: Config, title: str = "", vmin: float = -80.0
) -> Figure:
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
    mags = {name: np.abs(stft(y, config=config)) for name, y in signals.items()}
    ref = float(np.max(next(iter(mags.values())))) if mags else 1.0
    fig = Figure(figsize=(3.6 * len(mags) + 1.2, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(mags), sharey=True))
    im = None
    for ax, (name, mag) in zip(axes, mags.items()):
        im = plot_spectrogram(
            ax, mag, sr=config.sr, hop_length=config.hop_length, title=name, ref=ref, vmin=vmin
        )
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(im, ax=list(axes), label=f"dB re {next(iter(mags))} peak", shrink=0.9)
    fig.suptitle(title)
    return fig
