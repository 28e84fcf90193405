"""Figures of a multi-target run: one panel per target (ORACLE).

:func:`plot_targets_quality` draws, for every target, the SI-SDR of the fingerprint method
after k = 1..N slices against that target's stem, its reference points (the mixture floor,
the ideal ratio mask, the blind baselines that apply) and the joint estimate's SI-SDR -- so a
reader sees at a glance which stems the views can pull out and which they cannot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np
from matplotlib.figure import Figure

from ..core.files import PathLike
from ..results.targets import TargetsRecord
from .common import distinct_colors, nan_array, save_figure

__all__ = ["TARGET_FIGURES", "plot_targets_quality", "save_targets_figures"]

#: The figures at the top of a multi-target run's folder.
TARGET_FIGURES = ("targets_quality.png",)


def plot_targets_quality(record: TargetsRecord) -> Figure:
    """SI-SDR (dB) against k, one panel per target, with baselines and the joint estimate."""
    n = len(record.targets)
    fig = Figure(figsize=(4.2 * n, 3.8), layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, target in zip(axes, record.targets):
        run = record.by_target[target]
        ks = np.array([p.n_slices for p in run.progressive])
        si = nan_array(None if p.metrics is None else p.metrics.si_sdr for p in run.progressive)
        ax.plot(ks, si, "o-", color="C0", label="fingerprint (separate)")
        names = list(run.baselines)
        for name, color in zip(names, distinct_colors(len(names) + 4)[4:]):
            m = run.baselines[name].metrics
            if m is not None and m.si_sdr is not None and np.isfinite(m.si_sdr):
                style = ":" if name == "mixture" else "--"
                ax.axhline(
                    m.si_sdr, ls=style, color=color, lw=1, label=f"{name} ({run.baselines[name].kind})"
                )
        joint = record.joint.get(target)
        if joint is not None and joint.metrics is not None and np.isfinite(joint.metrics.si_sdr):
            ax.plot([ks[-1]], [joint.metrics.si_sdr], "*", ms=12, color="C3", label="joint (masks sum to 1)")
        ax.set_title(f"{target}")
        ax.set_xlabel("slices k")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="lower right")
    axes[0].set_ylabel("SI-SDR (dB)")
    fig.suptitle(
        f"ORACLE (uses each target's true stem): fingerprint method per target, {record.n_slices} slices "
        f"({record.command})",
        fontsize=10,
    )
    return fig


def save_targets_figures(record: TargetsRecord, folder: PathLike) -> Dict[str, Path]:
    """Write :data:`TARGET_FIGURES` into *folder*."""
    folder = Path(folder)
    return {"targets_quality.png": save_figure(plot_targets_quality(record), folder / "targets_quality.png")}
