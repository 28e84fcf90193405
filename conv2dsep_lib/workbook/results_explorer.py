"""The results explorer of notebook 05: any extraction of a run, seen and heard.

Spectrograms of mixture / target / extracted / residual and an A/B player of the same
four, for the extraction chosen in a dropdown.  The container and its attributes are
those of every explorer (see :mod:`conv2dsep_lib.workbook.explorers`).  Everything it
shows is ORACLE: the method read the true vocal (or, for a run against another stem, that
stem: the labels then name it, "target drums").
"""

from __future__ import annotations

import html

import numpy as np

from ..core.errors import ParameterError
from ..results.tables import TARGET, record_target
from ..viz.experiment import target_word
from ..viz.signals import plot_signal_spectrograms
from .explorers import draw_figure, set_player, wire
from .players import ab_player
from .targets import oracle_label

__all__ = ["results_explorer", "update_results_explorer"]


def _extraction_label(e) -> str:
    si = e.metrics.si_sdr if e.metrics is not None and e.metrics.si_sdr is not None else float("nan")
    return f"{e.key}: loss {e.loss:.3f} dB², SI-SDR {si:.2f} dB"


def update_results_explorer(box) -> None:
    """Results-explorer callback: spectrograms (and player) of the chosen extraction."""
    c = box.controls
    key, floor = str(c["extraction"].value), float(c["floor_db"].value)
    record = box.data["record"]
    entry = record.estimate(key)
    extracted = box.data["estimates"][key]
    mixture, vocal = box.data["mixture"], box.data["vocal"]
    word = target_word(record)
    sources = {
        "mixture": mixture,
        f"target {word}": vocal,
        f"extracted ({key})": extracted,
        "residual (mixture - extracted)": mixture - extracted,
    }
    si = entry.metrics.si_sdr if entry.metrics is not None else None
    si_text = f"{si:.2f} dB" if si is not None else "n/a"
    box.data["seconds"] = {}
    draw_figure(
        box,
        plot_signal_spectrograms,
        sources,
        config=box.data["config"],
        vmin=floor,
        title=f"{key}: loss {entry.loss:.4f} dB², SI-SDR {si_text} -- {oracle_label([record_target(record)])}",
    )
    players = box.data["players"]
    if key not in players:
        players[key] = ab_player(
            sources,
            sr=box.data["config"].sr,
            value=f"extracted ({key})",
            title="A/B: mixture / target / extracted / residual (ORACLE)",
            display=False,
        )
    if box.data.get("player") is not players[key]:
        set_player(box, players[key])
    box.data["key"] = key
    uses = "the true vocal" if record_target(record) == TARGET else f"the true {word} stem"
    box.status.value = (
        f"<b>ORACLE</b> (uses {uses}): <b>{html.escape(key)}</b> = "
        f"{html.escape(' -> '.join(entry.sequence))}; fingerprint loss {entry.loss:.4f} dB&sup2;, "
        f"SI-SDR {si_text}<br><small>spectrograms in dB re the mixture's peak, floor {floor:g} dB; "
        f"drawn in {box.data['seconds']['figure']:.2f} s</small>"
    )


def results_explorer(
    record,
    estimates,
    *,
    mixture: np.ndarray,
    vocal: np.ndarray,
    config,
    value=None,
    floor_db: float = -80.0,
    interactive: bool = True,
    display: bool = True,
    raise_errors: bool = False,
):
    """Look at and listen to any extraction of a run: spectrograms and an A/B player.

    Controls: ``extraction`` (every Conv2D estimate of the record whose audio is given:
    each k, the greedy order, its best prefix) and ``floor_db`` (lowest dB drawn).  The
    figure is :func:`conv2dsep_lib.viz.signals.plot_signal_spectrograms` of mixture /
    target / extracted / residual; the A/B player plays the same four, loudness-matched.

    Parameters
    ----------
    record : RunRecord
    estimates : dict of str -> np.ndarray [shape=(n,)]
        The extracted vocals by key (:func:`~conv2dsep_lib.workbook.helpers.load_estimates`).
    mixture, vocal : np.ndarray [shape=(n,)]
        The mixture and the run's true stem (the vocal, or the target's stem of a run
        against another target).
    config : Config
        STFT settings of the figure, and the rate.
    value : str, optional
        The extraction shown first (default: the record's best by fingerprint loss).
    floor_db : float
        Initial lowest dB drawn.
    interactive, display, raise_errors : bool
        As :func:`slice_explorer`.

    Returns
    -------
    ipywidgets.VBox
        See the module docstring.
    """
    import ipywidgets as w

    entries = [e for e in record.estimates() if e.key in estimates]
    if not entries:
        raise ParameterError("results_explorer needs the audio of at least one estimate of the record")
    keys = [e.key for e in entries]
    value = record.best_by_loss().key if value is None else value
    if value not in keys:
        raise ParameterError(f"value={value!r} is not an estimate with audio: allowed {', '.join(keys)}")
    slow = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "extraction": w.Dropdown(
            options=[(_extraction_label(e), e.key) for e in entries],
            value=value,
            description="extraction",
            layout=w.Layout(width="420px"),
            style={"description_width": "initial"},
        ),
        "floor_db": w.FloatSlider(
            value=float(floor_db),
            min=-120.0,
            max=-20.0,
            step=5.0,
            readout_format=".0f",
            description="floor (dB)",
            **slow,
        ),
    }
    fig_w = w.Image(format="png", layout=w.Layout(width="100%", max_width="1300px"))
    player = w.Output()
    status, error = w.HTML(), w.HTML()
    box = w.VBox([w.HBox(list(controls.values())), status, fig_w, player, error])
    box.controls, box.figure, box.status, box.error = controls, fig_w, status, error
    box.player = player
    box.data = {
        "record": record,
        "estimates": dict(estimates),
        "mixture": np.asarray(mixture),
        "vocal": np.asarray(vocal),
        "config": config,
        "players": {},
        "seconds": {},
    }
    box.raise_errors = raise_errors
    return wire(box, update_results_explorer, interactive=interactive, display=display)
