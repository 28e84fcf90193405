"""Shared pieces of every figure: the ORACLE label, saving, a spectrogram panel, a kernel panel.

Every figure function in :mod:`conv2dsep_lib.viz` returns a
:class:`matplotlib.figure.Figure` built without pyplot's global state (safe headless
and in threads); notebooks show it with
:func:`conv2dsep_lib.workbook.widgets.show_figure`, :func:`save_figure` writes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np
from matplotlib.figure import Figure

from ..core.files import PathLike
from ..results.record import ORACLE_LABEL

__all__ = ["ORACLE", "save_figure", "short_name", "plot_spectrogram", "draw_kernel", "nan_array", "no_data"]

#: The label every experiment figure's title carries.
ORACLE = ORACLE_LABEL
#: Spectrogram images wider than this many frames are max-pooled over time (see plot_spectrogram).
MAX_IMAGE_FRAMES = 1000


def save_figure(fig: Figure, path: PathLike, *, dpi: int = 110) -> Path:
    """Save *fig* as PNG (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def short_name(name: str) -> str:
    """``"slice_1_horizontal"`` -> ``"1_horizontal"`` (tick labels)."""
    return name.replace("slice_", "")


def plot_spectrogram(
    ax: Any,
    mag: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    title: str,
    vmin: float = -80.0,
    vmax: float = 0.0,
    ref: Optional[float] = None,
):
    """Draw a magnitude [shape=(n_bins, n_frames)] in dB (re *ref*, default its maximum) on *ax*.

    A spectrogram wider than :data:`MAX_IMAGE_FRAMES` frames (a whole song) is drawn from
    the maximum over runs of consecutive frames -- more columns than a figure has pixels
    only cost time, and the maximum keeps short events visible.

    Returns the ``AxesImage`` (for a colour bar).
    """
    ref = float(np.max(mag)) if ref is None else ref
    n_bins, n_frames = mag.shape
    step = -(-n_frames // MAX_IMAGE_FRAMES)
    if step > 1:
        cut = n_frames // step * step
        pooled = mag[:, :cut].reshape(n_bins, -1, step).max(axis=-1)
        mag = (
            np.concatenate([pooled, mag[:, cut:].max(axis=-1, keepdims=True)], axis=1)
            if cut < n_frames
            else pooled
        )
    db = 20 * np.log10(np.maximum(mag, 1e-10) / max(ref, 1e-10))
    extent = (0, n_frames * hop_length / sr, 0, sr / 2 / 1000)
    im = ax.imshow(db, origin="lower", aspect="auto", extent=extent, vmin=vmin, vmax=vmax, cmap="magma")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (kHz)")
    return im


def draw_kernel(ax: Any, kernel: np.ndarray) -> Any:
    """A Conv2D kernel as an image: rows = frequency offset (up = higher), blue < 0 < red."""
    lim = float(np.max(np.abs(kernel))) or 1.0
    return ax.imshow(
        kernel, origin="lower", cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest"
    )


def nan_array(values: Iterable[Any]) -> np.ndarray:
    """Floats with ``None`` as NaN (so matplotlib leaves a gap)."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def no_data(ax: Any, text: str) -> None:
    """Replace an axes by a centred message."""
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10, transform=ax.transAxes)
    ax.set_axis_off()
