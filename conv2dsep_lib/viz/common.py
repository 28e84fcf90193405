"""Shared pieces of every figure: the ORACLE label, saving, a spectrogram panel, a kernel panel.

Every figure function in :mod:`conv2dsep_lib.viz` returns a
:class:`matplotlib.figure.Figure` built without pyplot's global state (safe headless
and in threads); notebooks show it with
:func:`conv2dsep_lib.workbook.widgets.show_figure`, :func:`save_figure` writes it.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
from matplotlib import colormaps, rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from ..core.files import PathLike
from ..results.record import ORACLE_LABEL

__all__ = [
    "ORACLE",
    "DB2",
    "SAVE_DPI",
    "save_figure",
    "save_figures",
    "short_name",
    "plot_spectrogram",
    "draw_kernel",
    "nan_array",
    "no_data",
    "fmt_num",
    "PlainLogFormatter",
    "plain_log_axis",
    "legend_outside",
    "distinct_colors",
]

#: The label every experiment figure's title carries.
ORACLE = ORACLE_LABEL
#: The unit of the fingerprint loss, written one way in every figure (as the tables write it).
DB2 = "dB²"
#: Resolution of saved PNG files (dots per inch).
SAVE_DPI = 150
#: Spectrogram images wider than this many frames are max-pooled over time (see plot_spectrogram).
MAX_IMAGE_FRAMES = 1000


def save_figure(fig: Figure, path: PathLike, *, dpi: int = SAVE_DPI) -> Path:
    """Save *fig* as a full-colour PNG (RGBA, no palette) at *dpi*, cropped to its content.

    The crop is matplotlib's ``bbox_inches="tight"`` box, measured from one layout pass
    without rasterising (matplotlib's own "tight" renders the whole figure once more
    just to measure it), and the PNG is written with zlib level 1 (level 6 takes twice
    as long for files ~10 % smaller): ``conv2dsep best`` writes five figures per run.

    Parameters
    ----------
    fig : Figure
    path : path
    dpi : int
        Default :data:`SAVE_DPI` (150).

    Returns
    -------
    Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = FigureCanvasAgg(fig)
    old_dpi = fig.dpi
    fig.dpi = dpi
    try:
        fig.draw_without_rendering()
        bbox = fig.get_tightbbox(canvas.get_renderer()).padded(rcParams["savefig.pad_inches"])
    finally:
        fig.dpi = old_dpi
    fig.savefig(
        path, format="png", dpi=dpi, bbox_inches=bbox, facecolor="white", pil_kwargs={"compress_level": 1}
    )
    return path


def save_figures(
    jobs: Sequence[Tuple[str, Callable[[], Figure]]], folder: PathLike, *, processes: int = 1
) -> Dict[str, Path]:
    """Build and save figures: ``jobs`` are ``(file name, build)`` pairs, saved into *folder*.

    With ``processes=2`` every other job is built and saved in a forked child while this
    process does the rest (matplotlib's rendering holds the GIL, so threads would not help):
    ``conv2dsep best`` writes five figures in about half the time on two cores.  The child
    writes its files and leaves with ``os._exit``; a failure there is raised here, after both
    halves are done.  On Linux only (macOS's frameworks are not fork-safe, Windows has no
    fork); elsewhere one process.

    Returns
    -------
    dict of str -> Path
        File name -> path written, in the order of *jobs*.
    """
    folder = Path(folder)
    if processes < 2 or len(jobs) < 2 or not sys.platform.startswith("linux"):
        return {name: save_figure(build(), folder / name) for name, build in jobs}
    own, theirs = list(jobs[0::2]), list(jobs[1::2])
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (its coverage is not collected)
        code = 0
        try:
            for name, build in theirs:
                save_figure(build(), folder / name)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    try:
        for name, build in own:
            save_figure(build(), folder / name)
    finally:
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(
            f"saving {', '.join(name for name, _ in theirs)} failed in a child process (see above)"
        )
    return {name: folder / name for name, _ in jobs}


def _plain(x: float) -> str:
    """A tick value as a plain decimal number: 0.001, 0.5, 20, 1000 (never a power of ten)."""
    if x == 0 or not np.isfinite(x):
        return "0" if x == 0 else ""
    return np.format_float_positional(float(x), precision=6, unique=False, fractional=False, trim="-")


def fmt_num(x: Optional[float], *, digits: int = 3) -> str:
    """A number for a label with *digits* significant digits and no exponent when avoidable.

    ``1008.3 -> "1008"``, ``142.27 -> "142"``, ``7.104 -> "7.1"``, ``0.01234 -> "0.0123"``;
    below 0.001 in scientific notation (``"1.2e-05"``); ``None``/NaN -> ``"n/a"``.
    """
    if x is None or not np.isfinite(x):
        return "n/a"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 10**digits:
        return f"{x:.0f}"
    if abs(x) >= 1e-3:
        return np.format_float_positional(x, precision=digits, unique=False, fractional=False, trim="-")
    return f"{x:.{max(digits - 1, 0)}e}"


class PlainLogFormatter(Formatter):
    """Tick labels of a log axis as plain numbers (``0.01``, ``0.1``, ``1``, ``10``), not ``10^x``.

    Major ticks are always labelled.  Minor ticks are labelled only on a short axis
    (where few or no decades are in view): all of them below a factor of 3, those with
    mantissa 2 and 5 below a factor of 30.

    Parameters
    ----------
    minor : bool
        Format minor ticks.
    """

    def __init__(self, *, minor: bool = False):
        self.minor = minor

    def __call__(self, x: float, pos: Optional[int] = None) -> str:
        if not self.minor:
            return _plain(x)
        lo, hi = sorted(self.axis.get_view_interval()) if self.axis is not None else (0.0, 0.0)
        if lo <= 0 or x <= 0 or hi / lo >= 30.0:
            return ""
        mantissa = round(x / 10 ** np.floor(np.log10(x) + 1e-9), 6)
        if hi / lo >= 3.0 and mantissa not in (2.0, 5.0):
            return ""
        return _plain(x)


def plain_log_axis(ax: Any, *, which: str = "y") -> None:
    """Give the log-scaled axis *which* (``"x"``, ``"y"`` or ``"both"``) of *ax* plain tick labels.

    Call it after the scale is set (setting a scale resets the formatters).
    """
    axes = {"x": [ax.xaxis], "y": [ax.yaxis], "both": [ax.xaxis, ax.yaxis]}[which]
    for axis in axes:
        axis.set_major_formatter(PlainLogFormatter())
        axis.set_minor_formatter(PlainLogFormatter(minor=True))


def legend_outside(
    ax: Any,
    *,
    handles: Optional[Sequence[Any]] = None,
    labels: Optional[Sequence[str]] = None,
    fontsize: float = 8,
    ncol: int = 1,
    **kwargs: Any,
):
    """A legend to the right of *ax*, outside the axes, so it never covers data.

    ``tight_layout`` and ``bbox_inches="tight"`` make room for it.

    Parameters
    ----------
    ax : Axes
    handles, labels : sequence, optional
        Default: the artists of *ax* that have a label.
    fontsize : float
    ncol : int
    **kwargs
        More :meth:`matplotlib.axes.Axes.legend` options (e.g. ``title``).

    Returns
    -------
    matplotlib.legend.Legend
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    return ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        fontsize=fontsize,
        ncol=ncol,
        **kwargs,
    )


def distinct_colors(n: int) -> list:
    """*n* colours that differ from each other: ``tab10`` up to 10, ``tab20`` up to 20, else ``turbo``."""
    if n <= 10:
        return [f"C{i}" for i in range(n)]
    if n <= 20:
        cmap = colormaps["tab20"]
        order = list(range(0, 20, 2)) + list(range(1, 20, 2))  # the strong shades first
        return [cmap(order[i]) for i in range(n)]
    return [colormaps["turbo"](x) for x in np.linspace(0.03, 0.97, n)]


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
