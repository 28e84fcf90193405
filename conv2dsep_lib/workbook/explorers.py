"""The slider explorers: one view and one window (01), one slice optimised (02).

Explorers (:func:`slice_explorer`, :func:`optimisation_explorer`, and
:func:`~conv2dsep_lib.workbook.results_explorer.results_explorer` of notebook 05) return their container widget (an ``ipywidgets.VBox``)
with these attributes added:

``controls``
    ``dict`` name -> control widget (sliders, dropdowns).  Setting ``.value`` on one
    runs the update, exactly as moving it in the browser does.
``figure``
    ``ipywidgets.Image`` holding the current figure as PNG bytes.
``status``
    ``ipywidgets.HTML`` with the current numbers (always marked ORACLE).
``error``
    ``ipywidgets.HTML``: empty, or the message of the last failed update.
``player``
    ``ipywidgets.Output`` holding the current A/B player
    (:func:`~conv2dsep_lib.workbook.players.ab_player`), or ``None``.
``data``
    ``dict`` of the arrays the explorer works on, its caches and timings.
``raise_errors``
    ``bool``: re-raise a failed update after showing it (tests set it).
``live``
    ``bool``: the widget was shown live (else its static form was shown).

The update callbacks (:func:`update_slice_explorer`, :func:`update_optimisation_explorer`,
:func:`~conv2dsep_lib.workbook.results_explorer.update_results_explorer`) are plain module-level functions of the container;
``observe`` calls them through :func:`conv2dsep_lib.workbook.callbacks.on_change`.  The
first update runs when the explorer is built and raises like any call: a bad initial
value (e.g. ``view=42``) fails the notebook cell, under papermill too.  Sliders whose
change triggers a recompute have ``continuous_update=False``.

What is shown: live (``interactive=True`` and a front end that shows widgets, see
:func:`~conv2dsep_lib.workbook.display.frontend_interactive`), the widget and beside it
a static copy (:func:`~conv2dsep_lib.workbook.display.snapshot_html`: figure, numbers,
player), because widget views are not saved with a notebook.  Otherwise
(``interactive=False``, or papermill) the static form only: the figure as an
``image/png`` output, the numbers, the player -- readable and playable without a kernel.
"""

from __future__ import annotations

import functools
import html
import time
from collections import OrderedDict

import numpy as np

from ..core.config import STRATEGIES
from ..core.errors import ParameterError
from ..method.strategies import STRATEGY_NAMES
from ..method.views import VIEW_NAMES, get_view
from ..run.experiment import PairSpectra, slice_report
from ..viz.common import ORACLE
from ..viz.optimisation import plot_slice_step
from ..viz.views import check_magnitude_pair, plot_slice_window
from .callbacks import on_change
from .display import figure_png, frontend_interactive, snapshot_html
from .players import ab_player

__all__ = [
    "wire",
    "set_player",
    "draw_figure",
    "MIN_DB_SPAN",
    "REPORT_CACHE",
    "widen_range",
    "slice_explorer",
    "update_slice_explorer",
    "optimisation_explorer",
    "update_optimisation_explorer",
]

#: The smallest colour range (dB) the slice explorer's range slider keeps.
MIN_DB_SPAN = 10.0
#: How many optimised slices the optimisation explorer keeps (settings -> result).
REPORT_CACHE = 8


def wire(box, update, *, interactive: bool, display: bool):
    """Connect an explorer's controls to *update*, draw it once, and show it.

    The first draw runs outside :func:`on_change`, so a bad initial value fails the
    cell (under papermill too).
    """
    handler = functools.partial(on_change, box, update)
    for ctrl in box.controls.values():
        ctrl.observe(handler, names="value")
    update(box)
    box.live = bool(interactive) and frontend_interactive()
    if display:
        _show(box)
    return box


def _player_html(box) -> str:
    player = box.data.get("player")
    return player.html if player is not None else ""


def _show(box) -> None:
    """Live: the widget and its static copy; otherwise the static form only."""
    from IPython.display import HTML, Image
    from IPython.display import display as _display

    png = bytes(box.figure.value or b"")
    if box.live:
        _display(box)
        _display(HTML(snapshot_html(png, status=box.status.value, extra=_player_html(box))))
        return
    if png:
        _display(Image(data=png, format="png"))
    _display(HTML(box.status.value + box.error.value))
    if box.data.get("player") is not None:
        _display(HTML(_player_html(box)))


def set_player(box, player) -> None:
    """Show an :class:`~conv2dsep_lib.workbook.players.ABPlayer` in the explorer's Output widget.

    The Output widget's outputs are set directly (no kernel capture needed); JupyterLab
    renders them as trusted, so the player's script runs there.
    """
    box.data["player"] = player
    if box.player is not None:
        box.player.outputs = (
            {
                "output_type": "display_data",
                "data": {"text/html": player.html, "text/plain": repr(player)},
                "metadata": {},
            },
        )


def draw_figure(box, plot, *args, **kwargs) -> None:
    """Build ``plot(*args, **kwargs)`` and render it into the explorer's Image widget.

    The seconds both take (building the matplotlib figure and rendering its PNG) are
    kept in ``box.data["seconds"]["figure"]`` for the status line.
    """
    t0 = time.perf_counter()
    box.figure.value = figure_png(plot(*args, **kwargs))
    box.data["seconds"]["figure"] = time.perf_counter() - t0


# ------------------------------------------------------------------ slice explorer (01)
def widen_range(lo: float, hi: float, *, span: float, bounds=(-np.inf, np.inf)):
    """``(lo, hi)`` widened about its centre to at least *span*, kept inside *bounds*.

    Parameters
    ----------
    lo, hi : float
        A range (in either order; equal ends are a collapsed range slider).
    span : float
        The smallest width kept.
    bounds : (float, float)
        The slider's ends: a widened range is shifted to stay inside them.

    Returns
    -------
    (float, float)
        ``(lo, hi)`` unchanged when at least *span* wide.
    """
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    if hi - lo >= span:
        return lo, hi
    b_lo, b_hi = float(bounds[0]), float(bounds[1])
    mid = min(max((lo + hi) / 2.0, b_lo + span / 2.0), b_hi - span / 2.0)
    return mid - span / 2.0, mid + span / 2.0


def update_slice_explorer(box) -> None:
    """Slice-explorer callback: redraw for the current view, window and dB range.

    A dB range narrower than :data:`MIN_DB_SPAN` (a collapsed range slider) is widened
    on the slider first; that change runs this update again.
    """
    c = box.controls
    view, window = int(c["view"].value), int(c["window"].value)
    rng = c["db_range"]
    lo, hi = (float(x) for x in rng.value)
    wide = widen_range(lo, hi, span=MIN_DB_SPAN, bounds=(rng.min, rng.max))
    if wide != (lo, hi):
        rng.value = wide  # observed: the update runs again with the widened range
        return
    box.data["seconds"] = {}
    draw_figure(
        box,
        plot_slice_window,
        box.data["S_mix"],
        box.data["S_voc"],
        view=view,
        window=window,
        config=box.data["config"],
        db_range=(lo, hi),
    )
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
    windows), ``db_range`` (colour range, at least :data:`MIN_DB_SPAN` wide).  The
    picture (:func:`conv2dsep_lib.viz.views.plot_slice_window`) shows the view of both
    signals, its kernel and the window's fingerprints.

    Parameters
    ----------
    S_mix, S_voc : np.ndarray [shape=(n_bins, n_frames)]
        Magnitudes of mixture and vocal.
    config : Config
    view, window : int
        Initial values.
    db_range : (float, float)
        Initial colour range in dB, low < high (an empty range is refused; one
        narrower than :data:`MIN_DB_SPAN` is widened).
    interactive : bool
        ``False``: show the figure as a static PNG instead of the widget.
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
    S_mix, S_voc = check_magnitude_pair(S_mix, S_voc)
    lo, hi = (float(x) for x in db_range)
    if not lo < hi:
        raise ParameterError(f"db_range={(lo, hi)!r} is empty: allowed (low, high) with low < high")
    n_frames = int(S_mix.shape[-1])
    window = int(np.clip(window, 0, n_frames - 1))
    slow = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "view": w.Dropdown(
            options=[(f"{i}: {n}", i) for i, n in enumerate(VIEW_NAMES)], value=view, description="view"
        ),
        "window": w.IntSlider(value=window, min=0, max=n_frames - 1, description="window", **slow),
        "db_range": w.FloatRangeSlider(
            value=widen_range(lo, hi, span=MIN_DB_SPAN, bounds=(-120.0, 20.0)),
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
    box.player = None
    box.data = {"S_mix": S_mix, "S_voc": S_voc, "config": config, "seconds": {}}
    box.raise_errors = raise_errors
    return wire(box, update_slice_explorer, interactive=interactive, display=display)


# ------------------------------------------------------------------ optimisation explorer (02)
def _settings_key(c) -> tuple:
    return (
        int(c["view"].value),
        int(c["strategy"].value),
        float(c["learning_rate"].value),
        int(c["iterations"].value),
        float(c["clip_db"].value),
    )


def _optimise(box, key):
    """The slice report (and its player) for *key*, from the cache or computed (timed)."""
    cache = box.data["reports"]
    if key in cache:
        cache.move_to_end(key)
        box.data["seconds"]["optimise"] = 0.0
        box.data["cached"] = True
        return cache[key]
    view, strategy, lr, iterations, clip = key
    cfg = box.data["base_config"].replace(
        num_iterations=iterations, learning_rate=lr, clip_db=clip, strategy=strategy
    )
    t0 = time.perf_counter()
    spectra = box.data.get("spectra")
    if spectra is None or not spectra.fits(cfg):  # the STFTs are kept between updates
        spectra = box.data["spectra"] = PairSpectra.of(box.data["mixture"], box.data["vocal"], config=cfg)
    rep = slice_report(box.data["mixture"], box.data["vocal"], view=view, config=cfg, spectra=spectra)
    player = ab_player(
        {
            "mixture": box.data["mixture"],
            "target vocal": box.data["vocal"],
            "result (one slice)": rep.estimate,
            "residual": box.data["mixture"] - rep.estimate,
        },
        sr=cfg.sr,
        value="result (one slice)",
        title="One slice: listen (ORACLE)",
        display=False,
    )
    box.data["seconds"]["optimise"] = time.perf_counter() - t0
    box.data["cached"] = False
    cache[key] = (cfg, rep, player)
    while len(cache) > REPORT_CACHE:
        cache.popitem(last=False)
    return cache[key]


def update_optimisation_explorer(box) -> None:
    """Optimisation-explorer callback: re-optimise if a setting changed, and redraw.

    The result is cached by the settings that determine it (slice, strategy, learning
    rate, iterations, clip; the last :data:`REPORT_CACHE`), so moving the window slider,
    or going back to earlier settings, only redraws.
    """
    c = box.controls
    box.data["seconds"] = {}
    cfg, rep, player = _optimise(box, _settings_key(c))
    view, window = int(c["view"].value), int(c["window"].value)
    draw_figure(
        box,
        plot_slice_step,
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
    if box.data.get("player") is not player:  # a new result: a new player (the window keeps it)
        set_player(box, player)
    box.data["config"] = cfg
    box.data["estimate"] = rep.estimate
    box.data["report"] = rep
    sec = box.data["seconds"]
    work = (
        "result reused (these settings were computed before)"
        if box.data["cached"]
        else f"optimised and scored in {sec['optimise']:.2f} s"
    )
    met = rep.metrics
    box.status.value = (
        f"<b>ORACLE</b> (uses the true vocal): one slice ({html.escape(VIEW_NAMES[view])}) from the "
        f"mixture -- fingerprint loss <b>{rep.loss:.4f} dB&sup2;</b>, SI-SDR "
        f"<b>{met.si_sdr:.2f} dB</b> (improvement over the mixture {met.si_sdr_i:+.2f} dB)"
        f"<br><small>{work}; figure drawn in {sec['figure']:.2f} s</small>"
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

    A change of slice, strategy, learning rate, iterations or clip re-runs
    :func:`conv2dsep_lib.run.experiment.slice_report` from the mixture (the
    optimisation, the resynthesis and the SI-SDR) and redraws
    :func:`conv2dsep_lib.viz.optimisation.plot_slice_step` (loss curve, EQ image,
    fingerprints of one window before/after, spectrograms before/after, the applied
    gain).  Results are cached by those settings, so the ``window`` slider (which only
    picks the fingerprints drawn) and a return to earlier settings only redraw.  The
    status line gives the fingerprint loss, the SI-SDR of the result and the measured
    seconds; an A/B player plays mixture / target / result / residual.

    Measured on a 2-core machine with the default 4.7 s excerpt: the optimisation and
    its SI-SDR take 0.03-0.1 s (Strategy 3's closed form; more for the iterative
    strategies and many iterations); building and rendering the six-panel figure takes
    0.6-1.3 s, most of what a change costs.

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
        As :func:`slice_explorer`; the static form embeds the player too.

    Returns
    -------
    ipywidgets.VBox
        See the module docstring.
    """
    import ipywidgets as w

    view = get_view(view).index
    n_frames = config.n_frames
    window = int(np.clip(window, 0, n_frames - 1))
    slow = dict(continuous_update=False, style={"description_width": "initial"})
    wide = w.Layout(width="380px")
    lr_exp = float(np.log10(config.learning_rate))  # the slider's range includes the initial rate
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
        # a log scale: 0.001 .. 0.5 over 27 steps of 10**0.1 (x1.26) -- a short drag is a small change
        "learning_rate": w.FloatLogSlider(
            value=config.learning_rate,
            base=10,
            min=min(-3.0, float(np.floor(lr_exp))),
            max=max(-0.3, float(np.ceil(10.0 * lr_exp) / 10.0)),
            step=0.1,
            readout_format=".3g",
            description="learning rate",
            layout=wide,
            **slow,
        ),
        "iterations": w.IntSlider(
            value=config.num_iterations, min=1, max=500, description="iterations", layout=wide, **slow
        ),
        "clip_db": w.FloatSlider(
            value=config.clip_db, min=1.0, max=60.0, step=1.0, description="clip (dB)", **slow
        ),
        "window": w.IntSlider(value=window, min=0, max=n_frames - 1, description="window", **slow),
    }
    fig_w = w.Image(format="png", layout=w.Layout(width="100%", max_width="1100px"))
    player = w.Output()
    status, error = w.HTML(), w.HTML()
    rows = [
        w.HBox([controls["view"], controls["strategy"], controls["window"]]),
        w.HBox([controls["learning_rate"], controls["iterations"], controls["clip_db"]]),
    ]
    box = w.VBox(rows + [status, fig_w, player, error])
    box.controls, box.figure, box.status, box.error = controls, fig_w, status, error
    box.player = player
    box.data = {
        "mixture": np.asarray(mixture),
        "vocal": np.asarray(vocal),
        "base_config": config,
        "config": config,
        "reports": OrderedDict(),
        "seconds": {},
    }
    box.raise_errors = raise_errors
    return wire(box, update_optimisation_explorer, interactive=interactive, display=display)
