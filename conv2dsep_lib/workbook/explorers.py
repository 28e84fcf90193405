"""The slider explorers: one view and one window (notebook 01), one slice optimised (02).

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

The update callbacks (:func:`update_slice_explorer`, :func:`update_optimisation_explorer`)
are plain module-level functions of the container; ``observe`` calls them through
:func:`conv2dsep_lib.workbook.callbacks.on_change`.  The first update runs when the
explorer is built and raises like any call: a bad initial value (e.g. ``view=42``)
fails the notebook cell, under papermill too.  Sliders whose change triggers a
recompute have ``continuous_update=False``.

``interactive=False`` (the notebooks' papermill mode) makes the same call draw a
static PNG figure (and a static ``<audio>`` player) instead of the widget, so an
executed notebook is readable without a kernel.
"""

from __future__ import annotations

import functools
import html

import numpy as np

from ..core.config import STRATEGIES
from ..method.strategies import STRATEGY_NAMES
from ..method.views import VIEW_NAMES, get_view
from ..run.experiment import PairSpectra, slice_report
from ..viz.common import ORACLE
from ..viz.optimisation import plot_slice_step
from ..viz.views import plot_slice_window
from .callbacks import on_change
from .display import figure_png
from .players import common_scale, pcm_wav, players

__all__ = ["slice_explorer", "update_slice_explorer", "optimisation_explorer", "update_optimisation_explorer"]


def _wire(box, update, *, interactive: bool, display: bool):
    """Connect an explorer's controls to *update*, draw it once, and show it.

    The first draw runs outside :func:`_on_change`, so a bad initial value fails the
    cell (under papermill too).  Interactive: the widget is displayed; otherwise its
    current figure is shown as static outputs.
    """
    handler = functools.partial(on_change, box, update)
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
    from IPython.display import HTML, Image
    from IPython.display import display as _display

    if box.figure.value:
        _display(Image(data=bytes(box.figure.value), format="png"))
    _display(HTML(box.status.value + box.error.value))
    if getattr(box, "audio", None) is not None and "estimate" in box.data:
        players({"result": box.data["estimate"]}, sr=box.data["config"].sr)


def update_slice_explorer(box) -> None:
    """Slice-explorer callback: redraw for the current view, window and dB range."""
    c = box.controls
    view, window = int(c["view"].value), int(c["window"].value)
    lo, hi = c["db_range"].value
    fig = plot_slice_window(
        box.data["S_mix"],
        box.data["S_voc"],
        view=view,
        window=window,
        config=box.data["config"],
        db_range=(lo, hi),
    )
    box.figure.value = figure_png(fig)
    box.status.value = (
        f"<small>view {view} <b>{html.escape(VIEW_NAMES[view])}</b>, window "
        f"{window}, colour range {lo:g}..{hi:g} dB (mixture and its true vocal)</small>"
    )


def slice_explorer(
    S_mix: np.ndarray,
    S_voc: np.ndarray,
    *,
    config,
    view: int = 1,
    window: int = 50,
    db_range=(-80.0, 0.0),
    interactive: bool = True,
    display: bool = True,
    raise_errors: bool = False,
):
    """Explore one view and one window of mixture and vocal with sliders.

    Controls: ``view`` (dropdown of the 19 views), ``window`` (slider over the STFT
    windows), ``db_range`` (colour range).  The picture
    (:func:`conv2dsep_lib.viz.views.plot_slice_window`) shows the view of both signals,
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

    view = get_view(view).index
    n_frames = int(np.shape(S_mix)[-1])
    window = int(np.clip(window, 0, n_frames - 1))
    slow = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "view": w.Dropdown(
            options=[(f"{i}: {n}", i) for i, n in enumerate(VIEW_NAMES)], value=view, description="view"
        ),
        "window": w.IntSlider(value=window, min=0, max=n_frames - 1, description="window", **slow),
        "db_range": w.FloatRangeSlider(
            value=tuple(float(x) for x in db_range),
            min=-120.0,
            max=20.0,
            step=1.0,
            readout_format=".0f",
            description="dB range",
            **slow,
        ),
    }
    fig_w = w.Image(format="png", layout=w.Layout(width="100%", max_width="1100px"))
    status, error = w.HTML(), w.HTML()
    box = w.VBox([w.HBox(list(controls.values())), fig_w, status, error])
    box.controls, box.figure, box.status, box.error = controls, fig_w, status, error
    box.audio = None
    box.data = {"S_mix": np.asarray(S_mix), "S_voc": np.asarray(S_voc), "config": config}
    box.raise_errors = raise_errors
    return _wire(box, update_slice_explorer, interactive=interactive, display=display)


def update_optimisation_explorer(box) -> None:
    """Optimisation-explorer callback: re-optimise with the current settings and redraw."""
    c = box.controls
    cfg = box.data["base_config"].replace(
        num_iterations=int(c["iterations"].value),
        learning_rate=float(c["learning_rate"].value),
        clip_db=float(c["clip_db"].value),
        strategy=int(c["strategy"].value),
    )
    view, window = int(c["view"].value), int(c["window"].value)
    spectra = box.data.get("spectra")
    if spectra is None or not spectra.fits(cfg):  # the STFTs are kept between updates
        spectra = box.data["spectra"] = PairSpectra.of(box.data["mixture"], box.data["vocal"], config=cfg)
    rep = slice_report(box.data["mixture"], box.data["vocal"], view=view, config=cfg, spectra=spectra)
    fig = plot_slice_step(
        rep.m,
        rep.v,
        rep.step,
        window=window,
        clip_db=cfg.clip_db,
        after_db=rep.after,
        magnitudes=(rep.mixture_mag, rep.step.magnitude),
        config=cfg,
        title=f"{VIEW_NAMES[view]}, strategy {cfg.strategy} ({STRATEGY_NAMES[cfg.strategy]}), "
        f"lr {cfg.learning_rate:g}, {cfg.num_iterations} iterations, clip +-{cfg.clip_db:g} dB"
        f" -- {ORACLE}",
    )
    box.figure.value = figure_png(fig)
    box.data["config"] = cfg
    box.data["estimate"] = rep.estimate
    box.data["report"] = rep
    if box.audio is not None:
        box.audio.value = pcm_wav(rep.estimate, cfg.sr, scale=common_scale({"e": rep.estimate}))
    met = rep.metrics
    box.status.value = (
        f"<b>ORACLE</b> (uses the true vocal): one slice ({html.escape(VIEW_NAMES[view])}) from the "
        f"mixture -- fingerprint loss <b>{rep.loss:.4f} dB&sup2;</b>, SI-SDR "
        f"<b>{met.si_sdr:.2f} dB</b> (improvement over the mixture {met.si_sdr_i:+.2f} dB)"
    )


def optimisation_explorer(
    mixture: np.ndarray,
    vocal: np.ndarray,
    *,
    config,
    view: int = 1,
    window: int = 50,
    interactive: bool = True,
    display: bool = True,
    raise_errors: bool = False,
):
    """Optimise one slice with sliders for learning rate, iterations, clip and strategy.

    Every change re-runs :func:`conv2dsep_lib.run.experiment.slice_report` from the mixture (milliseconds:
    Strategy 3 has a closed form) and redraws
    :func:`conv2dsep_lib.viz.optimisation.plot_slice_step` (loss curve, EQ image, fingerprints of
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

    view = get_view(view).index
    n_frames = config.n_frames
    window = int(np.clip(window, 0, n_frames - 1))
    slow = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "view": w.Dropdown(
            options=[(f"{i}: {n}", i) for i, n in enumerate(VIEW_NAMES) if i > 0],
            value=max(view, 1),
            description="slice",
        ),
        "strategy": w.Dropdown(
            options=[(f"{s}: {STRATEGY_NAMES[s]}", s) for s in STRATEGIES],
            value=config.strategy,
            description="strategy",
        ),
        "learning_rate": w.FloatLogSlider(
            value=config.learning_rate,
            base=10,
            min=-4,
            max=-0.31,
            step=0.05,
            readout_format=".4f",
            description="learning rate",
            **slow,
        ),
        "iterations": w.IntSlider(
            value=config.num_iterations, min=1, max=500, description="iterations", **slow
        ),
        "clip_db": w.FloatSlider(
            value=config.clip_db, min=1.0, max=60.0, step=1.0, description="clip (dB)", **slow
        ),
        "window": w.IntSlider(value=window, min=0, max=n_frames - 1, description="window", **slow),
    }
    fig_w = w.Image(format="png", layout=w.Layout(width="100%", max_width="1100px"))
    audio = w.Audio(format="wav", autoplay=False, loop=False, controls=True)
    status, error = w.HTML(), w.HTML()
    rows = [
        w.HBox([controls["view"], controls["strategy"], controls["window"]]),
        w.HBox([controls["learning_rate"], controls["iterations"], controls["clip_db"]]),
    ]
    box = w.VBox(rows + [status, fig_w, w.HBox([w.HTML("<b>result:</b>&nbsp;"), audio]), error])
    box.controls, box.figure, box.status, box.error, box.audio = controls, fig_w, status, error, audio
    box.data = {
        "mixture": np.asarray(mixture),
        "vocal": np.asarray(vocal),
        "base_config": config,
        "config": config,
    }
    box.raise_errors = raise_errors
    return _wire(box, update_optimisation_explorer, interactive=interactive, display=display)
