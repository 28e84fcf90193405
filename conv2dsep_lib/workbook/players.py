"""Listening in a notebook: static players, and an A/B player that switches sources.

Players keep the sources' relative levels: every source of one player is scaled by the
same factor (the largest peak of the set), so A/B comparisons are fair.  Static
players (``<audio>`` elements) are what papermill runs embed, playable without a kernel.
"""

from __future__ import annotations

import functools
import html
from typing import Mapping, Optional

import numpy as np

from ..core.errors import ParameterError
from ..sources.audio import encode_audio
from .callbacks import on_change

__all__ = ["common_scale", "pcm_wav", "players", "ab_player", "select_source"]


def common_scale(sources: Mapping[str, np.ndarray]) -> float:
    """The gain that brings the loudest source of a set to at most full scale (1 if it is there)."""
    peak = max((float(np.max(np.abs(y))) for y in sources.values() if np.size(y)), default=0.0)
    return 1.0 / peak if peak > 1.0 else 1.0


def pcm_wav(y: np.ndarray, sr: int, *, scale: float = 1.0) -> bytes:
    """16-bit PCM WAV bytes of a mono signal (times *scale*, clipped to +-1) for a player."""
    y = np.clip(np.asarray(y, dtype=np.float64) * scale, -1.0, 1.0)
    return encode_audio(y, sr, subtype="PCM_16")


def players(sources: Mapping[str, np.ndarray], *, sr: int, title: str = "", display: bool = True):
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
    from IPython.display import HTML, Audio
    from IPython.display import display as _display

    scale = common_scale(sources)
    cells = []
    for name, y in sources.items():
        audio = Audio(data=np.asarray(y, dtype=np.float64) * scale, rate=int(sr), normalize=False)
        cells.append(
            f"<tr><td style='padding-right:1em'><b>{html.escape(name)}</b></td><td>{audio._repr_html_()}</td></tr>"
        )
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


def ab_player(
    sources: Mapping[str, np.ndarray],
    *,
    sr: int,
    value: Optional[str] = None,
    title: str = "",
    interactive: bool = True,
    display: bool = True,
    raise_errors: bool = False,
):
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
        raise ParameterError("ab_player needs at least one source")
    if not interactive:
        return players(sources, sr=sr, title=title, display=display)
    import ipywidgets as w

    scale = common_scale(sources)
    wavs = {name: pcm_wav(y, sr, scale=scale) for name, y in sources.items()}
    names = list(wavs)
    value = names[0] if value is None else value
    toggle = w.ToggleButtons(
        options=names, value=value, description="listen:", style={"button_width": "auto"}
    )
    audio = w.Audio(value=wavs[value], format="wav", autoplay=False, loop=False, controls=True)
    status = w.HTML()
    error = w.HTML()
    children = ([w.HTML(f"<b>{html.escape(title)}</b>")] if title else []) + [toggle, audio, status, error]
    box = w.VBox(children)
    box.controls = {"source": toggle}
    box.audio, box.status, box.error = audio, status, error
    box.data = {"wav": wavs, "sr": int(sr)}
    box.raise_errors = raise_errors
    toggle.observe(functools.partial(on_change, box, lambda b: select_source(b, toggle.value)), names="value")
    select_source(box, value)
    if display:
        from IPython.display import display as _display

        _display(box)
    return box
