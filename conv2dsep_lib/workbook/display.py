"""Showing things in a notebook: figures as PNG outputs, tables as HTML, the ORACLE banner.

The pattern is nussl's ``play_utils``: IPython is imported only inside the functions
that need it (the package imports without Jupyter), and every helper takes
``display=True`` and returns what it built only with ``display=False`` (``None`` once
shown, so a cell ending in one shows it once) -- a test gets the object without a
browser or a kernel.

Live widgets need a front end: :func:`frontend_interactive` tells whether one runs
this code (papermill does not), and :func:`snapshot_html` is the static copy every
live explorer shows beside itself, so a saved notebook still has its picture.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import uuid
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..core.files import PathLike, atomic_path
from ..results.targets import TARGETS_NOTE, oracle_note
from ..viz.common import save_figure

__all__ = [
    "DISPLAY_DPI",
    "WIDGETS_ENV",
    "figure_png",
    "show_figure",
    "show_table",
    "oracle_banner",
    "frontend_interactive",
    "snapshot_html",
]

#: Resolution of figures embedded in notebooks (full colour; files saved with ``save=`` go
#: through :func:`conv2dsep_lib.viz.save_figure` at 150 dpi).
DISPLAY_DPI = 100


def figure_png(fig: Figure, *, dpi: int = DISPLAY_DPI, palette: bool = False) -> bytes:
    """Render a matplotlib figure to PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int
    palette : bool
        Quantise to a 256-colour palette (about 3x smaller, but spectrograms band); off by
        default.  Falls back to full colour if Pillow cannot.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    png = buf.getvalue()
    if palette:
        try:
            from PIL import Image as PILImage

            img = PILImage.open(io.BytesIO(png)).convert("RGB")
            out = io.BytesIO()
            img.quantize(colors=256, method=PILImage.Quantize.FASTOCTREE).save(
                out, format="PNG", optimize=True
            )
            if out.tell() < len(png):
                png = out.getvalue()
        except Exception:  # pragma: no cover - Pillow missing or too old
            pass
    return png


def show_figure(
    fig: Figure, *, save: Optional[PathLike] = None, dpi: int = DISPLAY_DPI, display: bool = True
):
    """Show a figure as an ``image/png`` output (works the same under papermill).

    Figures from :mod:`conv2dsep_lib.viz` are built without pyplot, so no backend
    shows them by itself; this renders the PNG and displays it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    save : path, optional
        Also write the figure there as the library saves figures
        (:func:`conv2dsep_lib.viz.save_figure`: 150 dpi, full colour), atomically.
    dpi : int
    display : bool

    Returns
    -------
    IPython.display.Image or None
        The image with ``display=False``, else ``None`` (already shown).
    """
    from IPython.display import Image
    from IPython.display import display as _display

    png = figure_png(fig, dpi=dpi)
    if save is not None:
        with atomic_path(save) as tmp:
            save_figure(fig, tmp)
    img = Image(data=png, format="png")
    if not display:
        return img
    _display(img)
    return None


def _fmt_cell(v: Any, floatfmt: str) -> str:
    if v is None or v is pd.NA:
        return "n/a"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        return "n/a" if not np.isfinite(v) else format(float(v), floatfmt)
    return html.escape(str(v))


def show_table(
    rows: Any,
    *,
    columns: Optional[Sequence[str]] = None,
    caption: str = "",
    floatfmt: str = ".3f",
    display: bool = True,
):
    """Show a table (a DataFrame, or a list of row dicts) as an HTML table.

    Parameters
    ----------
    rows : DataFrame or sequence of dict
    columns : sequence of str, optional
        Default: the keys of the first row, in order.
    caption : str
        Shown above the table (plain text, escaped).
    floatfmt : str
        Format of floats; ``None``/NaN show as ``n/a``.

    Returns
    -------
    IPython.display.HTML or None
        With ``display=False``; ``None`` once shown.
    """
    from IPython.display import HTML
    from IPython.display import display as _display

    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    rows = list(rows)
    columns = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt_cell(r.get(c), floatfmt)}</td>" for c in columns) + "</tr>" for r in rows
    )
    cap = (
        f"<caption style='caption-side:top;text-align:left'><b>{html.escape(caption)}</b></caption>"
        if caption
        else ""
    )
    obj = HTML(
        f"<table class='conv2dsep-table'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
    if not display:
        return obj
    _display(obj)
    return None


def oracle_banner(*, targets: Sequence[str] = ("vocals",), display: bool = True):
    """The ORACLE note as a highlighted HTML line (the method reads the true vocal).

    Parameters
    ----------
    targets : sequence of str
        The run's targets: ``("vocals",)`` (the default) shows the note as it always read;
        other targets name the stems the method reads instead.
    display : bool
        Show it (``False`` returns it only).
    """
    from IPython.display import HTML
    from IPython.display import display as _display

    targets = tuple(targets)
    note = oracle_note(targets[0]) if len(targets) == 1 else TARGETS_NOTE
    obj = HTML(
        "<div style='border-left:4px solid #c60;padding:4px 8px;background:#fff4e5'>"
        f"<b>{html.escape(note)}</b></div>"
    )
    if not display:
        return obj
    _display(obj)
    return None


# ------------------------------------------------------------------ live or static
#: Environment variable that overrides :func:`frontend_interactive` (``1``: widgets, ``0``: static).
WIDGETS_ENV = "CONV2DSEP_WIDGETS"


def frontend_interactive() -> bool:
    """Whether a front end that can show live widgets runs this code.

    ``False`` outside a Jupyter kernel (plain Python, terminal IPython) and for a
    headless execution: papermill and nbconvert (nbclient) send their cells with
    ``allow_stdin=False`` -- nobody is there to answer ``input()``, nor to move a
    slider -- while JupyterLab, Notebook and VS Code send ``allow_stdin=True``.  The
    environment variable ``CONV2DSEP_WIDGETS`` (``1`` or ``0``) overrides the guess.

    Returns
    -------
    bool
    """
    forced = os.environ.get(WIDGETS_ENV, "").strip().lower()
    if forced in ("1", "true", "yes", "on"):
        return True
    if forced in ("0", "false", "no", "off"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None:
        return False
    try:
        parent = kernel.get_parent() or {}
    except Exception:  # pragma: no cover - an old or unusual kernel: assume a front end
        return True
    if (parent.get("header") or {}).get("msg_type") != "execute_request":
        return True  # e.g. built from a widget callback: a front end sent it
    return bool((parent.get("content") or {}).get("allow_stdin", False))


# Collapses the static copy once the live widget beside it has rendered (the copy stays
# open where scripts do not run: a saved notebook opened untrusted, nbviewer, GitHub).
_COLLAPSE = """
(function () {
  var me = document.currentScript;
  var box = (me && me.closest && me.closest("details.conv2dsep-snapshot")) || document.getElementById(%(id)s);
  if (!box) { return; }
  var area = box.closest(".jp-OutputArea, .output_area, .output, .jp-Cell") || box.parentNode;
  var tries = 0;
  (function look() {
    if (area.querySelector(".widget-vbox, .widget-box")) {
      box.open = false;
      box.setAttribute("data-live", "1");
      return;
    }
    if (++tries < 60) { setTimeout(look, 250); }
  })();
})();
"""


def snapshot_html(
    png: bytes,
    *,
    status: str = "",
    extra: str = "",
    summary: str = "Static copy of the explorer above (its first settings; shown without a kernel)",
) -> str:
    """A collapsible static copy of a live explorer: its figure, status line and player.

    Shown beside every live widget: widget views are not saved with a notebook
    ("Error displaying widget: model not found" when it is reopened), this copy is.
    It is open by default and closes itself (a small script) once the live widget
    beside it has rendered.

    Parameters
    ----------
    png : bytes
        The figure (embedded as a ``data:`` URI).
    status : str
        HTML of the status line.
    extra : str
        More HTML (e.g. an A/B player's).
    summary : str
        The line that opens and closes it.

    Returns
    -------
    str
        ``text/html``.
    """
    uid = f"conv2dsep-snapshot-{uuid.uuid4().hex}"
    img = (
        f"<img style='max-width:100%' alt='figure' src='data:image/png;base64,{base64.b64encode(png).decode()}'/>"
        if png
        else ""
    )
    script = _COLLAPSE % {"id": json.dumps(uid)}
    return (
        f"<details class='conv2dsep-snapshot' id='{uid}' open><summary><small>{html.escape(summary)}"
        f"</small></summary><div>{status}</div>{img}{extra}"
        f'<script type="text/javascript">{script}</script></details>'
    )
