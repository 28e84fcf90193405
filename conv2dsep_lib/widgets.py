"""Jupyter helpers for the notebooks: figures, tables, players and slider explorers.

The pattern is nussl's ``play_utils``: IPython and ipywidgets are imported only inside
the functions that need them (the package imports without Jupyter), every helper
takes ``display=True`` and returns what it built, so ``display=False`` gives a test
the object without a browser or a kernel.

As in nussl, the simple helpers (:func:`show_figure`, :func:`show_table`,
:func:`players`, :func:`oracle_banner`) return their object only with
``display=False`` (``None`` once displayed, so a cell ending in one shows it once).

Explorers (:func:`slice_explorer`, :func:`optimisation_explorer`) return their
container widget (an ``ipywidgets.VBox``) with these attributes added:

``controls``
    ``dict`` name -> control widget (sliders, dropdowns).  Setting ``.value`` on one
    runs the update, exactly as moving it in the browser does.
``figure``
    ``ipywidgets.Image`` holding the current figure as PNG bytes.
``status``
    ``ipywidgets.HTML`` with the current numbers (always marked ORACLE).
``error``
    ``ipywidgets.HTML``: empty, or the message of the last failed update.
``data``
    ``dict`` of the arrays the explorer works on (and its caches).
``raise_errors``
    ``bool``: re-raise a failed update after showing it (tests set it).

The update callbacks (:func:`update_slice_explorer`, :func:`update_optimisation_explorer`,
:func:`select_source`) are plain module-level functions of the container; ``observe``
calls them through :func:`_on_change`, which shows an error in the widget instead of
losing it in the kernel log, and re-raises it when ``raise_errors`` is set.  The first
update runs when the explorer is built and raises like any call: a bad initial value
(e.g. ``view=42``) fails the notebook cell, under papermill too.
Sliders whose change triggers a recompute have ``continuous_update=False``.

``interactive=False`` (the notebooks' papermill mode) makes the same call draw a
static PNG figure (and static ``<audio>`` players) instead of the widget, so an
executed notebook is readable without a kernel.

Players keep the sources' relative levels: every source of one player is scaled by
the same factor (the largest peak of the set), so A/B comparisons are fair.
"""

from __future__ import annotations

import functools
import html
import io
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np

__all__ = [
    "figure_png",
    "show_figure",
    "show_table",
    "oracle_banner",
    "wav_bytes",
    "players",
    "ab_player",
    "select_source",
    "slice_explorer",
    "update_slice_explorer",
    "slice_step_report",
    "optimisation_explorer",
    "update_optimisation_explorer",
]

#: Resolution of figures embedded in notebooks (saved PNG files use plots.save_figure).
DISPLAY_DPI = 80


# ------------------------------------------------------------------ figures and tables
def figure_png(fig, *, dpi: int = DISPLAY_DPI, palette: bool = True) -> bytes:
    """Render a matplotlib figure to PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int
    palette : bool
        Quantise to a 256-colour palette (about 3x smaller; keeps executed notebooks
        light).  Falls back to full colour if Pillow cannot.
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
                out, format="PNG", optimize=True)
            if out.tell() < len(png):
                png = out.getvalue()
        except Exception:  # pragma: no cover - Pillow missing or too old
            pass
    return png


def show_figure(fig, *, save=None, dpi: int = DISPLAY_DPI, display: bool = True):
    """Show a figure as an ``image/png`` output (works the same under papermill).

    Figures from :mod:`conv2dsep_lib.plots` are built without pyplot, so no backend
    shows them by itself; this renders the PNG and displays it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    save : path, optional
        Also write the same PNG there (rendered once: big figures take a second or
        two to draw).
    dpi : int
    display : bool

    Returns
    -------
    IPython.display.Image or None
        The image with ``display=False``, else ``None`` (already shown).
    """
    from IPython.display import Image, display as _display

    png = figure_png(fig, dpi=dpi)
    if save is not None:
        from .atomic import atomic_path

        with atomic_path(save) as tmp:
            tmp.write_bytes(png)
    img = Image(data=png, format="png")
    if not display:
        return img
    _display(img)
    return None


def _fmt_cell(v: Any, floatfmt: str) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        return "n/a" if not np.isfinite(v) else format(float(v), floatfmt)
    return html.escape(str(v))


def show_table(rows: Sequence[Mapping[str, Any]], *, columns: Optional[Sequence[str]] = None,
               caption: str = "", floatfmt: str = ".3f", display: bool = True):
    """Show a list of row dicts as an HTML table (no pandas needed).

    Parameters
    ----------
    rows : sequence of dict
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
    from IPython.display import HTML, display as _display

    rows = list(rows)
    columns = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt_cell(r.get(c), floatfmt)}</td>" for c in columns) + "</tr>"
        for r in rows)
    cap = f"<caption style='caption-side:top;text-align:left'><b>{html.escape(caption)}</b></caption>" \
        if caption else ""
    obj = HTML(f"<table class='conv2dsep-table'>{cap}<thead><tr>{head}</tr></thead>"
               f"<tbody>{body}</tbody></table>")
    if not display:
        return obj
    _display(obj)
    return None


def oracle_banner(*, display: bool = True):
    """The ORACLE note as a highlighted HTML line (the method reads the true vocal)."""
    from IPython.display import HTML, display as _display

    from .pipeline import ORACLE_NOTE

    obj = HTML("<div style='border-left:4px solid #c60;padding:4px 8px;background:#fff4e5'>"
               f"<b>{html.escape(ORACLE_NOTE)}</b></div>")
    if not display:
        return obj
    _display(obj)
    return None


# ------------------------------------------------------------------ audio
def _common_scale(sources: Mapping[str, np.ndarray]) -> float:
    peak = max((float(np.max(np.abs(y))) for y in sources.values() if np.size(y)), default=0.0)
    return 1.0 / peak if peak > 1.0 else 1.0


def wav_bytes(y: np.ndarray, sr: int, *, scale: float = 1.0) -> bytes:
    """16-bit PCM WAV bytes of a mono signal (times *scale*, clipped to +-1)."""
    import soundfile as sf

    y = np.clip(np.asarray(y, dtype=np.float64) * scale, -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, y, int(sr), format="WAV", subtype="PCM_16")
    return buf.getvalue()


def players(sources: Mapping[str, np.ndarray], *, sr: int, title: str = "",
            display: bool = True):
    """Static inline players (``<audio>``), one per source, at their common level.

    Used for executed notebooks: embedded as HTML, playable without a kernel.

    Parameters
    ----------
    sources : dict of str -> np.ndarray [shape=(n,)]
    sr : int
    title : str

    Returns
    -------
    IPython.display.HTML or None
        With ``display=False``; ``None`` once shown.
    """
    from IPython.display import HTML, Audio, display as _display

    scale = _common_scale(sources)
    cells = []
    for name, y in sources.items():
        audio = Audio(data=np.asarray(y, dtype=np.float64) * scale, rate=int(sr), normalize=False)
        cells.append(f"<tr><td style='padding-right:1em'><b>{html.escape(name)}</b></td>"
                     f"<td>{audio._repr_html_()}</td></tr>")
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    obj = HTML(f"{head}<table class='conv2dsep-players'>{''.join(cells)}</table>")
    if not display:
        return obj
    _display(obj)
    return None


def select_source(player, name: str) -> None:
    """A/B player callback: load source *name* into the player's audio element."""
    if name not in player.data["wav"]:
        raise KeyError(f"source {name!r} is unknown: allowed {', '.join(player.data['wav'])}")
    player.audio.value = player.data["wav"][name]
    player.status.value = f"<small>playing <b>{html.escape(name)}</b></small>"


def ab_player(sources: Mapping[str, np.ndarray], *, sr: int, value: Optional[str] = None,
              title: str = "", interactive: bool = True, display: bool = True,
              raise_errors: bool = False):
    """An A/B player: toggle buttons choose which source the audio element plays.

    Parameters
    ----------
    sources : dict of str -> np.ndarray [shape=(n,)]
        E.g. ``{"mixture": ..., "target": ..., "extracted": ..., "residual": ...}``.
    sr : int
    value : str, optional
        The source selected first (default the first).
    title : str
    interactive : bool
        ``False``: show static players for every source (:func:`players`) instead.
    display : bool
    raise_errors : bool

    Returns
    -------
    ipywidgets.VBox
        With ``controls["source"]`` (ToggleButtons), ``audio`` (``ipywidgets.Audio``),
        ``status``, ``error``, ``data["wav"]`` (name -> WAV bytes); with
        ``interactive=False`` what :func:`players` returns instead.
    """
    if not sources:
        from .errors import ParameterError

        raise ParameterError("ab_player needs at least one source")
    if not interactive:
        return players(sources, sr=sr, title=title, display=display)
    import ipywidgets as w

    scale = _common_scale(sources)
    wavs = {name: wav_bytes(y, sr, scale=scale) for name, y in sources.items()}
    names = list(wavs)
    value = names[0] if value is None else value
    toggle = w.ToggleButtons(options=names, value=value, description="listen:",
                             style={"button_width": "auto"})
    audio = w.Audio(value=wavs[value], format="wav", autoplay=False, loop=False, controls=True)
    status = w.HTML()
    error = w.HTML()
    children = ([w.HTML(f"<b>{html.escape(title)}</b>")] if title else []) + [toggle, audio, status, error]
    box = w.VBox(children)
    box.controls = {"source": toggle}
    box.audio, box.status, box.error = audio, status, error
    box.data = {"wav": wavs, "sr": int(sr)}
    box.raise_errors = raise_errors
    toggle.observe(functools.partial(_on_change, box, lambda b: select_source(b, toggle.value)),
                   names="value")
    select_source(box, value)
    if display:
        from IPython.display import display as _display

        _display(box)
    return box


# ------------------------------------------------------------------ callback plumbing
def _on_change(box, update, change=None) -> None:
    """Run ``update(box)``; show a failure in ``box.error`` and re-raise if asked."""
    try:
        update(box)
    except Exception as exc:
        box.error.value = ("<pre style='color:#b00020;white-space:pre-wrap'>update failed: "
                           f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</pre>")
        if getattr(box, "raise_errors", False):
            raise
    else:
        box.error.value = ""


def _wire(box, update, *, interactive: bool, display: bool):
    """Connect an explorer's controls to *update*, draw it once, and show it.

    The first draw runs outside :func:`_on_change`, so a bad initial value fails the
    cell (under papermill too).  Interactive: the widget is displayed; otherwise its
    current figure is shown as static outputs.
    """
    handler = functools.partial(_on_change, box, update)
    for ctrl in box.controls.values():
        ctrl.observe(handler, names="value")
    update(box)
    if not interactive:
        _static(box, display=display)
    elif display:
        from IPython.display import display as _display

        _display(box)
    return box


def _static(box, *, display: bool) -> None:
    """Show an explorer's current figure (and player) as static outputs."""
    if not display:
        return
    from IPython.display import HTML, Image, display as _display

    if box.figure.value:
        _display(Image(data=bytes(box.figure.value), format="png"))
    _display(HTML(box.status.value + box.error.value))
    if getattr(box, "audio", None) is not None and "estimate" in box.data:
        players({"result": box.data["estimate"]}, sr=box.data["config"].sr)


# ------------------------------------------------------------------ slice explorer
def update_slice_explorer(box) -> None:
    """Slice-explorer callback: redraw for the current view, window and dB range."""
    from . import plots
    from .views import VIEW_NAMES

    c = box.controls
    view, window = int(c["view"].value), int(c["window"].value)
    lo, hi = c["db_range"].value
    fig = plots.plot_slice_window(box.data["S_mix"], box.data["S_voc"], view=view, window=window,
                                  config=box.data["config"], db_range=(lo, hi))
    box.figure.value = figure_png(fig)
    box.status.value = (f"<small>view {view} <b>{html.escape(VIEW_NAMES[view])}</b>, window "
                        f"{window}, colour range {lo:g}..{hi:g} dB (mixture and its true vocal)</small>")


def slice_explorer(S_mix: np.ndarray, S_voc: np.ndarray, *, config, view: int = 1,
                   window: int = 50, db_range=(-80.0, 0.0), interactive: bool = True,
                   display: bool = True, raise_errors: bool = False):
    """Explore one view and one window of mixture and vocal with sliders.

    Controls: ``view`` (dropdown of the 19 views), ``window`` (slider over the STFT
    windows), ``db_range`` (colour range).  The picture
    (:func:`conv2dsep_lib.plots.plot_slice_window`) shows the view of both signals,
    its kernel and the window's fingerprints.

    Parameters
    ----------
    S_mix, S_voc : np.ndarray [shape=(n_bins, n_frames)]
        Magnitudes of mixture and vocal.
    config : Config
    view, window : int
        Initial values.
    db_range : (float, float)
        Initial colour range in dB.
    interactive : bool
        ``False``: display the initial figure as a static PNG instead of the widget.
    display : bool
        Show it (``False`` returns it only).
    raise_errors : bool
        Re-raise an update's exception after showing it (for tests).

    Returns
    -------
    ipywidgets.VBox
        See the module docstring for its attributes.
    """
    import ipywidgets as w

    from .views import VIEW_NAMES, get_view

    view = get_view(view).index
    n_frames = int(np.shape(S_mix)[-1])
    window = int(np.clip(window, 0, n_frames - 1))
    slow = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "view": w.Dropdown(options=[(f"{i}: {n}", i) for i, n in enumerate(VIEW_NAMES)],
                           value=view, description="view"),
        "window": w.IntSlider(value=window, min=0, max=n_frames - 1, description="window",
                              **slow),
        "db_range": w.FloatRangeSlider(value=tuple(float(x) for x in db_range), min=-120.0,
                                       max=20.0, step=1.0, readout_format=".0f", description="dB range",
                                       **slow),
    }
    fig_w = w.Image(format="png", layout=w.Layout(width="100%", max_width="1100px"))
    status, error = w.HTML(), w.HTML()
    box = w.VBox([w.HBox(list(controls.values())), fig_w, status, error])
    box.controls, box.figure, box.status, box.error = controls, fig_w, status, error
    box.audio = None
    box.data = {"S_mix": np.asarray(S_mix), "S_voc": np.asarray(S_voc), "config": config}
    box.raise_errors = raise_errors
    return _wire(box, update_slice_explorer, interactive=interactive, display=display)


# ------------------------------------------------------------------ optimisation explorer
def slice_step_report(mixture: np.ndarray, vocal: np.ndarray, *, view: int, config,
                      cache: Optional[dict] = None) -> Dict[str, Any]:
    """Optimise one slice from the mixture and measure it (the optimisation explorer's work).

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,)]
    view : int
        1..18 (0 = raw view).
    config : Config
        Its strategy, iterations, learning rate and clip are used.
    cache : dict, optional
        Keeps the STFTs between calls (the explorer passes its ``data``).

    Returns
    -------
    dict
        ``m`` and ``v`` (dB fingerprints, [shape=(n_points, n_frames)]), ``step``
        (:class:`~conv2dsep_lib.experiments.StepResult`), ``after`` (the re-measured
        fingerprint after the step), ``mixture_mag``, ``estimate`` (audio, mixture
        phase), ``loss`` (dB^2) and ``metrics`` (``si_sdr``, ``si_sdr_i``) -- ORACLE.
    """
    from .experiments import TargetFingerprints, slice_step
    from .fingerprint import fingerprint_db
    from .metrics import separation_metrics
    from .transforms import istft_with_phase, stft

    cache = {} if cache is None else cache
    key = (config.sr, config.n_fft, config.hop_length)
    if cache.get("stft_key") != key:
        cache["X"] = stft(mixture, config=config)
        cache["mix_mag"] = np.abs(cache["X"]).astype(np.float64)
        cache["voc_mag"] = np.abs(stft(vocal, config=config)).astype(np.float64)
        cache["stft_key"] = key
    X, mix_mag, voc_mag = cache["X"], cache["mix_mag"], cache["voc_mag"]
    targets = TargetFingerprints(voc_mag, config=config)
    m = fingerprint_db(mix_mag, view, config=config)
    step = slice_step(mix_mag, view, targets, config=config)
    after = fingerprint_db(step.magnitude, view, config=config)
    estimate = istft_with_phase(step.magnitude, X, config=config, length=len(mixture))
    metrics = separation_metrics(vocal, estimate, mixture, sr=config.sr, bss=False)
    return {"m": m, "v": targets[view], "step": step, "after": after, "mixture_mag": mix_mag,
            "estimate": estimate, "loss": step.loss, "metrics": metrics}


def update_optimisation_explorer(box) -> None:
    """Optimisation-explorer callback: re-optimise with the current settings and redraw."""
    from . import plots
    from .strategies import STRATEGY_NAMES
    from .views import VIEW_NAMES

    c = box.controls
    cfg = box.data["base_config"].replace(
        num_iterations=int(c["iterations"].value), learning_rate=float(c["learning_rate"].value),
        clip_db=float(c["clip_db"].value), strategy=int(c["strategy"].value))
    view, window = int(c["view"].value), int(c["window"].value)
    rep = slice_step_report(box.data["mixture"], box.data["vocal"], view=view, config=cfg,
                            cache=box.data)
    fig = plots.plot_slice_step(
        rep["m"], rep["v"], rep["step"], window=window, clip_db=cfg.clip_db,
        after_db=rep["after"], magnitudes=(rep["mixture_mag"], rep["step"].magnitude), config=cfg,
        title=f"{VIEW_NAMES[view]}, strategy {cfg.strategy} ({STRATEGY_NAMES[cfg.strategy]}), "
              f"lr {cfg.learning_rate:g}, {cfg.num_iterations} iterations, clip +-{cfg.clip_db:g} dB"
              f" -- {plots.ORACLE}")
    box.figure.value = figure_png(fig)
    box.data["config"] = cfg
    box.data["estimate"] = rep["estimate"]
    box.data["report"] = rep
    if box.audio is not None:
        box.audio.value = wav_bytes(rep["estimate"], cfg.sr,
                                    scale=_common_scale({"e": rep["estimate"]}))
    met = rep["metrics"]
    box.status.value = (
        f"<b>ORACLE</b> (uses the true vocal): one slice ({html.escape(VIEW_NAMES[view])}) from the "
        f"mixture -- fingerprint loss <b>{rep['loss']:.4f} dB&sup2;</b>, SI-SDR "
        f"<b>{met['si_sdr']:.2f} dB</b> (improvement over the mixture {met['si_sdr_i']:+.2f} dB)")


def optimisation_explorer(mixture: np.ndarray, vocal: np.ndarray, *, config, view: int = 1,
                          window: int = 50, interactive: bool = True, display: bool = True,
                          raise_errors: bool = False):
    """Optimise one slice with sliders for learning rate, iterations, clip and strategy.

    Every change re-runs :func:`slice_step_report` from the mixture (milliseconds:
    Strategy 3 has a closed form) and redraws
    :func:`conv2dsep_lib.plots.plot_slice_step` (loss curve, EQ image, fingerprints of
    one window before/after, spectrograms before/after, the applied gain); the status
    line gives the fingerprint loss and the SI-SDR of the result, and a player plays it.

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,)]
        Mono, at ``config.sr``.
    config : Config
        Initial settings.
    view : int
        Initial slice, 1..18.
    window : int
        Window whose fingerprints are drawn.
    interactive, display, raise_errors : bool
        As :func:`slice_explorer`; the static form also embeds a player of the result.

    Returns
    -------
    ipywidgets.VBox
        See the module docstring; also ``audio`` (``ipywidgets.Audio`` of the result).
    """
    import ipywidgets as w

    from .config import STRATEGIES
    from .strategies import STRATEGY_NAMES
    from .views import VIEW_NAMES, get_view

    view = get_view(view).index
    n_frames = config.n_frames
    window = int(np.clip(window, 0, n_frames - 1))
    slow = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "view": w.Dropdown(options=[(f"{i}: {n}", i) for i, n in enumerate(VIEW_NAMES) if i > 0],
                           value=max(view, 1), description="slice"),
        "strategy": w.Dropdown(options=[(f"{s}: {STRATEGY_NAMES[s]}", s) for s in STRATEGIES],
                               value=config.strategy, description="strategy"),
        "learning_rate": w.FloatLogSlider(value=config.learning_rate, base=10, min=-4, max=-0.31,
                                          step=0.05, readout_format=".4f",
                                          description="learning rate", **slow),
        "iterations": w.IntSlider(value=config.num_iterations, min=1, max=500,
                                  description="iterations", **slow),
        "clip_db": w.FloatSlider(value=config.clip_db, min=1.0, max=60.0, step=1.0,
                                 description="clip (dB)", **slow),
        "window": w.IntSlider(value=window, min=0, max=n_frames - 1, description="window", **slow),
    }
    fig_w = w.Image(format="png", layout=w.Layout(width="100%", max_width="1100px"))
    audio = w.Audio(format="wav", autoplay=False, loop=False, controls=True)
    status, error = w.HTML(), w.HTML()
    rows = [w.HBox([controls["view"], controls["strategy"], controls["window"]]),
            w.HBox([controls["learning_rate"], controls["iterations"], controls["clip_db"]])]
    box = w.VBox(rows + [status, fig_w, w.HBox([w.HTML("<b>result:</b>&nbsp;"), audio]), error])
    box.controls, box.figure, box.status, box.error, box.audio = controls, fig_w, status, error, audio
    box.data = {"mixture": np.asarray(mixture), "vocal": np.asarray(vocal),
                "base_config": config, "config": config}
    box.raise_errors = raise_errors
    return _wire(box, update_optimisation_explorer, interactive=interactive, display=display)
