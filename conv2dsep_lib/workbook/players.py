"""Listening in a notebook: static players, and an A/B player on one shared timeline.

:func:`ab_player` is one self-contained HTML output (no widget, no kernel needed): an
``<audio>`` element per source, embedded as 16-bit WAV, and a small script that turns
the list into an A/B switch.  Switching copies the playback position and the play
state to the chosen source, so the comparison runs on one timeline (as nussl's
multitrack player and trackswitch.js do).  The sources are **loudness-matched** by
default: every source is scaled to the same RMS level (the player says so, with each
source's gain), so a switch compares content, not level.

Where the script does not run (a saved notebook opened untrusted, GitHub, nbviewer)
the same output is a plain list of players, one per source, still playable.

:func:`players` is the plain list (``<audio>`` per source) at one common level.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

import numpy as np

from ..core.errors import ParameterError
from ..sources.audio import encode_audio

__all__ = [
    "LEVELS",
    "TARGET_RMS_DBFS",
    "ABPlayer",
    "common_scale",
    "loudness_gains",
    "pcm_wav",
    "players",
    "ab_player",
]

#: How a player sets the sources' levels: ``"rms"`` (loudness-matched: each source to
#: the same RMS) or ``"common"`` (one factor for all: their relative levels kept).
LEVELS = ("rms", "common")
#: The RMS level loudness-matched sources are brought to (lower if a source would clip).
TARGET_RMS_DBFS = -20.0
_PEAK = 0.99  # highest sample after scaling (16-bit PCM clips at 1)


def common_scale(sources: Mapping[str, np.ndarray]) -> float:
    """The gain that brings the loudest source of a set to at most full scale (1 if it is there)."""
    peak = max((float(np.max(np.abs(y))) for y in sources.values() if np.size(y)), default=0.0)
    return 1.0 / peak if peak > 1.0 else 1.0


def _rms(y: np.ndarray) -> float:
    y = np.asarray(y, dtype=np.float64)
    return float(np.sqrt(np.mean(y * y))) if y.size else 0.0


def _db(x: float) -> float:
    return 20.0 * np.log10(x) if x > 0 else float("-inf")


def loudness_gains(
    sources: Mapping[str, np.ndarray], *, level: str = "rms", target_dbfs: float = TARGET_RMS_DBFS
) -> Dict[str, float]:
    """The linear gain a player applies to each source.

    Parameters
    ----------
    sources : dict of str -> np.ndarray [shape=(n,)]
    level : {"rms", "common"}
        ``"rms"``: every source to the same RMS, *target_dbfs* or lower -- the highest
        common RMS at which no source exceeds a peak of 0.99 (a silent source keeps
        gain 1).  ``"common"``: one gain for all (:func:`common_scale`), relative
        levels kept.
    target_dbfs : float
        The RMS level of loudness-matched sources (dB re full scale).

    Returns
    -------
    dict of str -> float
    """
    if level not in LEVELS:
        raise ParameterError(f"level={level!r} is unknown: allowed {', '.join(LEVELS)}")
    if level == "common":
        g = common_scale(sources)
        return {name: g for name in sources}
    stats = {}
    for name, y in sources.items():
        y = np.asarray(y, dtype=np.float64)
        rms = _rms(y)
        peak = float(np.max(np.abs(y))) if y.size else 0.0
        stats[name] = (rms, peak)
    target = 10.0 ** (target_dbfs / 20.0)
    for rms, peak in stats.values():
        if rms > 0 and peak > 0:
            target = min(target, _PEAK * rms / peak)  # the RMS at which this source peaks at 0.99
    return {name: (target / rms if rms > 0 else 1.0) for name, (rms, _) in stats.items()}


def pcm_wav(y: np.ndarray, sr: int, *, scale: float = 1.0) -> bytes:
    """16-bit PCM WAV bytes of a mono signal (times *scale*, clipped to +-1) for a player."""
    y = np.clip(np.asarray(y, dtype=np.float64) * scale, -1.0, 1.0)
    return encode_audio(y, sr, subtype="PCM_16")


def _audio_tag(wav: bytes, name: str) -> str:
    b64 = base64.b64encode(wav).decode("ascii")
    return (
        f'<audio controls preload="auto" title="{html.escape(name)}" '
        f'src="data:audio/wav;base64,{b64}"></audio>'
    )


def players(
    sources: Mapping[str, np.ndarray],
    *,
    sr: int,
    title: str = "",
    level: str = "common",
    display: bool = True,
):
    """Static inline players (``<audio>``), one per source.

    Embedded as HTML, playable without a kernel (executed and saved notebooks).

    Parameters
    ----------
    sources : dict of str -> np.ndarray [shape=(n,)]
    sr : int
    title : str
    level : {"common", "rms"}
        See :func:`loudness_gains`; by default one gain for all (relative levels kept).
    display : bool

    Returns
    -------
    IPython.display.HTML or None
        With ``display=False``; ``None`` once shown.
    """
    from IPython.display import HTML
    from IPython.display import display as _display

    gains = loudness_gains(sources, level=level)
    cells = [
        f"<tr><td style='padding-right:1em'><b>{html.escape(name)}</b></td>"
        f"<td>{_audio_tag(pcm_wav(y, sr, scale=gains[name]), name)}</td></tr>"
        for name, y in sources.items()
    ]
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    obj = HTML(f"{head}<table class='conv2dsep-players'>{''.join(cells)}</table>")
    if not display:
        return obj
    _display(obj)
    return None


@dataclass(frozen=True)
class ABPlayer:
    """A self-contained A/B player (what :func:`ab_player` shows); its HTML is the output.

    Attributes
    ----------
    html : str
        The output (``text/html``): title, level note, one ``<audio>`` per source, script.
    names : list of str
        The sources, in button order.
    value : str
        The source selected first.
    gains : dict of str -> float
        The linear gain applied to each source (see :func:`loudness_gains`).
    levels_dbfs : dict of str -> float
        Each source's RMS before the gain (dB re full scale).
    level : str
        ``"rms"`` or ``"common"``.
    wav : dict of str -> bytes
        The embedded WAV files.
    element_id : str
        The ``id`` of the player's root ``<div>``.
    """

    html: str
    names: List[str]
    value: str
    gains: Dict[str, float]
    levels_dbfs: Dict[str, float]
    level: str
    wav: Dict[str, bytes] = field(repr=False)
    element_id: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        how = "loudness-matched" if self.level == "rms" else "common level"
        return f"<A/B player: {', '.join(self.names)} ({how})>"


# The script turns the list of players into the A/B switch (progressive enhancement:
# without it the list stays usable).  One timeline: a switch pauses the current
# source, gives the chosen one its position, volume and rate, and plays it if the
# current one was playing.  ES5, no dependencies; runs where the output is trusted
# (JupyterLab / Notebook for outputs of this session, an ipywidgets Output widget).
_SCRIPT = """
(function () {
  var me = document.currentScript;  // the same HTML may be shown twice (a live copy and a static one)
  var root = (me && me.closest && me.closest(".conv2dsep-ab")) || document.getElementById(%(id)s);
  if (!root || root.getAttribute("data-ab-ready")) { return; }
  root.setAttribute("data-ab-ready", "1");
  var names = %(names)s, active = %(start)d;
  var rows = root.querySelectorAll(".conv2dsep-ab-row");
  var audios = root.querySelectorAll("audio");
  var bar = document.createElement("div");
  bar.className = "conv2dsep-ab-bar";
  bar.style.cssText = "display:flex;flex-wrap:wrap;gap:4px;align-items:center;margin:4px 0";
  var play = document.createElement("button");
  play.type = "button";
  play.className = "conv2dsep-ab-play";
  play.style.cssText = "min-width:5.5em;margin-right:8px";
  bar.appendChild(play);
  var buttons = [];
  names.forEach(function (name, i) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "conv2dsep-ab-source";
    b.setAttribute("data-source", name);
    b.textContent = name;
    b.addEventListener("click", function () { select(i); });
    bar.appendChild(b);
    buttons.push(b);
  });
  var clock = document.createElement("span");
  clock.className = "conv2dsep-ab-time";
  clock.style.cssText = "margin-left:8px;font-family:monospace";
  bar.appendChild(clock);
  var list = root.querySelector(".conv2dsep-ab-list");
  list.parentNode.insertBefore(bar, list);
  var hint = root.querySelector(".conv2dsep-ab-hint");
  if (hint) { hint.style.display = ""; }
  function fmt(t) {
    t = isFinite(t) ? t : 0;
    var m = Math.floor(t / 60), s = t - 60 * m;
    return m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
  }
  function refresh() {
    var a = audios[active];
    play.textContent = a.paused ? "\\u25B6 play" : "\\u275A\\u275A pause";
    clock.textContent = fmt(a.currentTime) + " / " + fmt(a.duration);
  }
  function show() {
    for (var i = 0; i < rows.length; i++) {
      var on = i === active;
      rows[i].style.display = on ? "" : "none";
      buttons[i].setAttribute("aria-pressed", on ? "true" : "false");
      buttons[i].style.fontWeight = on ? "bold" : "normal";
      buttons[i].style.outline = on ? "2px solid #1a73e8" : "";
    }
    root.setAttribute("data-active", names[active]);
    refresh();
  }
  function select(i) {
    if (i === active || i < 0 || i >= audios.length) { return; }
    var cur = audios[active], next = audios[i];
    var t = cur.currentTime, playing = !cur.paused && !cur.ended;
    next.volume = cur.volume;
    next.muted = cur.muted;
    next.playbackRate = cur.playbackRate;
    cur.pause();
    try { next.currentTime = t; } catch (e) { /* before metadata: the start position */ }
    active = i;
    show();
    if (playing) {
      var p = next.play();
      if (p && p.catch) { p.catch(function () {}); }
    }
  }
  for (var k = 0; k < audios.length; k++) {
    (function (a) {
      a.addEventListener("play", function () {
        for (var j = 0; j < audios.length; j++) { if (audios[j] !== a) { audios[j].pause(); } }
        refresh();
      });
      ["pause", "ended", "timeupdate", "loadedmetadata", "seeked"].forEach(function (ev) {
        a.addEventListener(ev, refresh);
      });
    })(audios[k]);
  }
  play.addEventListener("click", function () {
    var a = audios[active];
    if (a.paused) {
      var p = a.play();
      if (p && p.catch) { p.catch(function () {}); }
    } else { a.pause(); }
  });
  root.conv2dsepSelect = function (name) { select(names.indexOf(name)); };
  show();
})();
"""


def _level_note(level: str, gains: Mapping[str, float], levels: Mapping[str, float]) -> str:
    if level == "rms":
        heard = [levels[n] + _db(g) for n, g in gains.items() if np.isfinite(levels[n])]
        rms = heard[0] if heard else TARGET_RMS_DBFS
        return (
            f"Loudness-matched: every source is scaled to the same RMS level ({rms:.1f} dBFS), so a "
            "switch compares content, not level; the gain applied is shown beside each name."
        )
    return "Common level: every source is scaled by the same factor (their relative levels are kept)."


def ab_player(
    sources: Mapping[str, np.ndarray],
    *,
    sr: int,
    value: Optional[str] = None,
    title: str = "",
    level: str = "rms",
    interactive: bool = True,
    display: bool = True,
):
    """An A/B player: one timeline, buttons switch the source without losing the position.

    A switch keeps the playback position and the play state (a playing source hands
    over to the chosen one, which goes on playing from the same time).  One
    self-contained HTML output: it needs no kernel and no widget, so it works the same
    in JupyterLab, in an executed (papermill) notebook and in a saved one; where
    scripts do not run it shows one plain player per source.

    Parameters
    ----------
    sources : dict of str -> np.ndarray [shape=(n,)]
        E.g. ``{"mixture": ..., "target": ..., "extracted": ..., "residual": ...}``.
    sr : int
    value : str, optional
        The source selected first (default the first).
    title : str
    level : {"rms", "common"}
        ``"rms"`` (default): loudness-matched, every source at the same RMS;
        ``"common"``: one gain for all.  See :func:`loudness_gains`.
    interactive : bool
        Accepted for symmetry with the explorers; the player is the same either way.
    display : bool
        Show it (``False`` returns it only).

    Returns
    -------
    ABPlayer or None
        With ``display=False``; ``None`` once shown.
    """
    del interactive  # the same self-contained player in both modes
    if not sources:
        raise ParameterError("ab_player needs at least one source")
    names = list(sources)
    value = names[0] if value is None else value
    if value not in sources:
        raise ParameterError(f"value={value!r} is not a source: allowed {', '.join(names)}")
    gains = loudness_gains(sources, level=level)
    levels = {name: _db(_rms(y)) for name, y in sources.items()}
    wavs = {name: pcm_wav(y, sr, scale=gains[name]) for name, y in sources.items()}
    start = names.index(value)
    uid = f"conv2dsep-ab-{uuid.uuid4().hex}"
    rows = []
    for name in names:
        g = gains[name]
        gain = f"{_db(g):+.1f} dB" if g > 0 else "silent"
        rows.append(  # every row is visible until the script runs
            f"<tr class='conv2dsep-ab-row'><td style='padding-right:1em'><b>{html.escape(name)}</b> "
            f"<small>(gain {gain})</small></td><td>{_audio_tag(wavs[name], name)}</td></tr>"
        )
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    script = _SCRIPT % {"id": json.dumps(uid), "names": json.dumps(names), "start": start}
    markup = (
        f"<div class='conv2dsep-ab' id='{uid}'>{head}"
        f"<div><small>{html.escape(_level_note(level, gains, levels))}</small></div>"
        "<div class='conv2dsep-ab-hint' style='display:none'><small>A/B: a button switches the "
        "source at the same position; a playing source keeps playing (one timeline).</small></div>"
        f"<table class='conv2dsep-ab-list'>{''.join(rows)}</table>"
        f'<script type="text/javascript">{script}</script></div>'
    )
    obj = ABPlayer(
        html=markup,
        names=names,
        value=value,
        gains=gains,
        levels_dbfs=levels,
        level=level,
        wav=wavs,
        element_id=uid,
    )
    if not display:
        return obj
    from IPython.display import HTML
    from IPython.display import display as _display

    _display(HTML(markup))
    return None
