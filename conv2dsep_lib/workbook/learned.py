"""Notebook 08's helpers: the learned model (BLIND) -- its record, kernels, held-out table, song.

* :func:`notebook_model` -- the ``model`` parameter (empty: the shipped model) loaded
* :func:`model_summary` -- the training record as (item, value) rows
* :func:`kernel_arrays`, :func:`kernel_table` -- the learned view kernels beside the
  hand-made ones they started from, and how far each moved
* :func:`training_history` -- the record's learning curves (``None`` when it holds none)
* :func:`heldout_seeds`, :func:`heldout_table`, :func:`write_heldout` -- the held-out
  comparison: BLIND learned vs BLIND classical vs ORACLE, with the learned model's margin over
  the best blind baseline
* :func:`song_sources`, :func:`separation_magnitudes`, :func:`show_saved_figure` -- the
  listening song's blind separation: players and spectrograms
* :func:`blind_banner` -- the BLIND note, as :func:`~.display.oracle_banner` shows the ORACLE one

The learned model reads the mixture only: everything it produces is BLIND.  The held-out table
also shows the oracles (the ideal ratio mask and the Conv2D fingerprint method with the true
vocal), labelled ORACLE.  torch is imported inside the functions that need it, so ``import
conv2dsep_lib.workbook`` stays free of it.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_write_bytes, write_json
from ..core.paths import project_root
from ..learned import SHIPPED_MODEL
from ..method.transforms import stft
from ..method.views import VIEW_NAMES
from ..run.heldout import heldout_markdown
from ..run.notebooks import parse_seeds
from ..viz.common import SAVE_DPI
from .display import DISPLAY_DPI

__all__ = [
    "BLIND_NOTE",
    "KIND_LABELS",
    "notebook_model",
    "model_summary",
    "training_history",
    "kernel_arrays",
    "kernel_table",
    "heldout_seeds",
    "heldout_table",
    "write_heldout",
    "song_sources",
    "separation_magnitudes",
    "show_saved_figure",
    "blind_banner",
]

BLIND_NOTE = (
    "BLIND: the learned model reads the mixture only; the true vocal is used for training and "
    "scoring, never by the separation."
)
#: How the held-out table labels each kind of method.
KIND_LABELS = {"blind": "BLIND", "floor": "BLIND (floor: the mixture)", "oracle": "ORACLE"}
#: Names of the held-out methods that are classical blind baselines.
_CLASSICAL = ("bandpass", "repet_sim", "hpss")


# ------------------------------------------------------------------ the model and its record
def notebook_model(model: str = "", *, device: str = "cpu") -> Any:
    """Load the notebook's ``model`` parameter (empty: the shipped model).

    Parameters
    ----------
    model : str
        A ``model.pt`` written by ``conv2dsep train``; a relative path is taken from the
        project root.  Empty: :data:`conv2dsep_lib.learned.SHIPPED_MODEL`.
    device : str

    Returns
    -------
    conv2dsep_lib.learned.store.StoredModel

    Raises
    ------
    ParameterError
        The file is missing (the shipped one too: ``make model`` trains it) or is not a model.
    """
    from ..learned.store import load_model

    path = Path(model) if model else SHIPPED_MODEL
    if not path.is_absolute():
        path = project_root() / path
    if not path.is_file():
        what = f"model {str(path)!r}" if model else f"the shipped model {str(path)!r}"
        raise ParameterError(
            f"{what} does not exist: allowed a model.pt written by `conv2dsep train` "
            "(-p model PATH), or `make model` to train the shipped one"
        )
    return load_model(path, device=device)


def training_history(stored: Any) -> Optional[Dict[str, Any]]:
    """The record's ``history`` (losses, validation, seconds, resumed_at), or ``None`` when the
    model was saved without one (no losses recorded)."""
    h = (stored.record or {}).get("history")
    if not isinstance(h, Mapping) or not h.get("losses"):
        return None
    return dict(h)


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s"
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return (f"{h} h " if h else "") + f"{m} min {s:02d} s"


def _data_summary(record: Mapping[str, Any]) -> str:
    data = record.get("data")
    counts = ", ".join(
        f"{record[k]} {k[2:]}" for k in ("n_train", "n_validation") if record.get(k) is not None
    )
    tail = f" ({counts} excerpts)" if counts else ""
    if not isinstance(data, Mapping):
        return "not recorded" + tail
    source = data.get("source", "unknown")
    if source == "built-in":
        train = data.get("train") or []
        kinds = Counter(str(e.get("kind")) for e in train if isinstance(e, Mapping))
        speakers = sorted({
            str(e["vocal"]["speaker"]) for e in train
            if isinstance(e.get("vocal"), Mapping) and e["vocal"].get("speaker")
        })  # fmt: skip
        parts = [", ".join(f"{n} {k}" for k, n in kinds.items())] if kinds else []
        if speakers:
            parts.append("speakers " + ", ".join(speakers))
        return "built-in material: " + ("; ".join(parts) or "no examples listed") + tail
    if source in ("musdb18", "folders"):
        tracks = data.get("tracks") or []
        where = data.get("root") or data.get("pattern") or ""
        return f"{source} {where}: {len(tracks)} tracks" + tail
    return str(source) + tail


def model_summary(stored: Any) -> pd.DataFrame:
    """The model and its training record as (item, value) rows.

    Parameters, shape and STFT, steps, training time (over resumes), the data it was trained
    on, the final validation SI-SDR (BLIND) and the commit -- ``"not recorded"`` where the
    record holds nothing.

    Parameters
    ----------
    stored : conv2dsep_lib.learned.store.StoredModel

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``value``.
    """
    record = stored.record or {}
    model = stored.model
    mc = model.config
    history = training_history(stored) or {}
    tc = record.get("train_config") or {}
    losses = history.get("losses") or []
    steps = f"{len(losses)}" if losses else "not recorded"
    if tc:
        steps += f" (of {tc.get('steps')}; batch {tc.get('batch_size')} x {tc.get('excerpt_seconds')} s)"
    resumed = history.get("resumed_at") or []
    time_ = _duration(float(history["seconds"])) if history.get("seconds") else "not recorded"
    if resumed:
        time_ += f" (resumed at step {', '.join(map(str, resumed))})"
    val = history.get("validation") or []
    final = (
        f"SI-SDR {val[-1]['si_sdr']:.2f} dB, {val[-1]['si_sdr_i']:+.2f} dB over the mixture "
        f"(step {val[-1]['step']})"
        if val
        else "not recorded"
    )
    rows = [
        ("kind", BLIND_NOTE),
        ("model file", str(stored.path)),
        ("parameters", f"{model.n_parameters():,}"),
        (
            "shape",
            f"view bank 18 x {mc.view_kernel[0]} x {mc.view_kernel[1]} (freq x time), U-Net widths "
            f"{', '.join(map(str, mc.widths))}, EQ on {mc.n_points} points within +-{mc.clip_db:g} dB",
        ),
        ("STFT", f"{stored.stft.sr} Hz, n_fft {stored.stft.n_fft}, hop {stored.stft.hop_length}"),
        ("steps", steps),
        ("training time", time_),
        ("data", _data_summary(record)),
        ("final validation (BLIND)", final),
        ("git commit", str(record.get("git_commit") or "not recorded")),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


# ------------------------------------------------------------------ kernels
def kernel_arrays(stored: Any) -> Tuple[np.ndarray, np.ndarray, Tuple[str, ...]]:
    """The view bank's hand-made start and its learned kernels, and the views' names.

    Returns
    -------
    initial, learned : np.ndarray [shape=(18, freq, time)]
    names : tuple of 18 str
        :data:`conv2dsep_lib.method.views.VIEW_NAMES` without view 0 (the raw spectrogram).
    """
    views = stored.model.views
    initial = views.initial.detach().cpu().numpy()[:, 0].astype(np.float64)
    learned = views.conv.weight.detach().cpu().numpy()[:, 0].astype(np.float64)
    return initial, learned, tuple(VIEW_NAMES[1:])


def kernel_table(initial: np.ndarray, learned: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """How far each view kernel moved from its hand-made start.

    Columns: ``view``, ``relative change`` (``||learned - initial|| / ||initial||``), ``cosine``
    (similarity of the two shapes, 1 = the same pattern) and ``norm ratio``
    (``||learned|| / ||initial||``).
    """
    rows = []
    for name, a, b in zip(names, np.asarray(initial), np.asarray(learned)):
        na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        rows.append(
            {
                "view": name,
                "relative change": float(np.linalg.norm(b - a)) / na if na > 0 else np.nan,
                "cosine": float(np.sum(a * b)) / (na * nb) if na > 0 and nb > 0 else np.nan,
                "norm ratio": nb / na if na > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["view", "relative change", "cosine", "norm ratio"])


# ------------------------------------------------------------------ held-out comparison
def heldout_seeds(text: Any) -> Tuple[int, ...]:
    """The ``heldout_seeds`` parameter (``"0,1,2"``) as seeds; see
    :func:`conv2dsep_lib.run.notebooks.parse_seeds` (the runner checks it with the same)."""
    return parse_seeds(text)


def _margins(rows: Sequence[Any]) -> List[Dict[str, Any]]:
    out = []
    for kind in dict.fromkeys(r.kind for r in rows):
        these = [r for r in rows if r.kind == kind]
        learned = next((r for r in these if r.method == "learned"), None)
        classical = [r for r in these if r.method in _CLASSICAL and r.method_kind == "blind"]
        if learned is None or not classical:
            continue
        best = max(classical, key=lambda r: r.mean)
        diff = [a - b for a, b in zip(learned.per_draw, best.per_draw)]
        out.append(
            {"material": kind, "baseline": best.method, "margin": float(np.mean(diff)),
             "low": float(np.min(diff)), "high": float(np.max(diff)), "per_draw": diff}
        )  # fmt: skip
    return out


def heldout_table(rows: Sequence[Any]) -> pd.DataFrame:
    """The held-out rows as a table, each material followed by the learned model's margin.

    Parameters
    ----------
    rows : sequence of conv2dsep_lib.run.heldout.HeldoutRow

    Returns
    -------
    pandas.DataFrame
        Columns ``material``, ``method``, ``kind`` (BLIND, BLIND (floor...), ORACLE),
        ``SI-SDR (dB)`` (mean over draws of each draw's median), ``low``, ``high`` (the
        lowest and highest draw) and ``draws``.  After each material's methods, the row
        ``learned - best BLIND baseline (<name>)``: the mean of the per-draw differences to the
        classical blind baseline with the best mean, with their min and max.
    """
    margins = {m["material"]: m for m in _margins(rows)}
    table = []
    for kind in dict.fromkeys(r.kind for r in rows):
        for r in (r for r in rows if r.kind == kind):
            table.append(
                {"material": kind, "method": r.method, "kind": KIND_LABELS.get(r.method_kind, r.method_kind),
                 "SI-SDR (dB)": r.mean, "low": r.low, "high": r.high, "draws": len(r.per_draw)}
            )  # fmt: skip
        m = margins.get(kind)
        if m is not None:
            table.append(
                {"material": kind, "method": f"learned - best BLIND baseline ({m['baseline']})",
                 "kind": "BLIND margin", "SI-SDR (dB)": m["margin"], "low": m["low"], "high": m["high"],
                 "draws": len(m["per_draw"])}
            )  # fmt: skip
    return pd.DataFrame(table, columns=["material", "method", "kind", "SI-SDR (dB)", "low", "high", "draws"])


def write_heldout(
    rows: Sequence[Any],
    folder: PathLike,
    *,
    model: PathLike,
    n: int,
    seeds: Sequence[int],
    seconds: float,
) -> Tuple[Path, Path]:
    """Write ``heldout.md`` (:func:`conv2dsep_lib.run.heldout.heldout_markdown` under a heading)
    and ``heldout.json`` (every row with its draws, and the margins) into *folder*.

    Returns
    -------
    (Path, Path)
        The Markdown and the JSON file.
    """
    folder = Path(folder)
    head = (
        "# Held-out SI-SDR: BLIND learned vs BLIND classical vs ORACLE\n\n"
        f"Model `{model}`; {n} excerpt{'' if n == 1 else 's'} of {seconds:g} s per draw and material, draws with seeds "
        f"{', '.join(map(str, seeds))}; each figure is a draw's median, then the mean over draws "
        "(spread: the lowest and highest draw).  blind = BLIND (the mixture only), oracle = ORACLE "
        "(reads the true vocal), floor = the mixture itself.\n\n"
    )
    md = atomic_write_bytes(folder / "heldout.md", (head + heldout_markdown(rows)).encode())
    js = write_json(
        folder / "heldout.json",
        {
            "kind": "heldout",
            "note": "learned and classical separators are BLIND; oracle_irm and conv2d_fingerprint are "
            "ORACLE (they read the true vocal); mixture is the floor",
            "model": str(model),
            "n": int(n),
            "seeds": [int(s) for s in seeds],
            "seconds": float(seconds),
            "rows": [
                {
                    "material": r.kind,
                    "method": r.method,
                    "kind": r.method_kind,
                    "per_draw": list(r.per_draw),
                    "mean": r.mean,
                    "low": r.low,
                    "high": r.high,
                }
                for r in rows
            ],  # fmt: skip
            "margins": _margins(rows),
        },
    )
    return md, js


# ------------------------------------------------------------------ the listening song
def song_sources(mixture: np.ndarray, separation: Any) -> Dict[str, np.ndarray]:
    """The A/B player's sources: ``mixture``, ``vocals (BLIND)``, ``accompaniment (BLIND)``."""
    return {
        "mixture": np.asarray(mixture, dtype=np.float32),
        "vocals (BLIND)": np.asarray(separation.vocals, dtype=np.float32),
        "accompaniment (BLIND)": np.asarray(separation.accompaniment, dtype=np.float32),
    }


def separation_magnitudes(sources: Mapping[str, np.ndarray], *, config: Config) -> Dict[str, np.ndarray]:
    """|STFT| of each source (its name without the ``(BLIND)`` the figure adds itself)."""
    return {
        name.replace(" (BLIND)", ""): np.abs(stft(np.asarray(y, dtype=np.float32), config=config))
        for name, y in sources.items()
    }


def show_saved_figure(path: PathLike, *, scale: float = DISPLAY_DPI / SAVE_DPI, display: bool = True):
    """Show a PNG the library saved (e.g. :func:`conv2dsep_lib.viz.learned.save_separation_figure`)
    at the notebooks' inline resolution.

    Parameters
    ----------
    path : path
        A PNG written by :func:`conv2dsep_lib.viz.save_figure` (150 dpi).
    scale : float
        Resize factor for the inline copy (default: 150 dpi to the inline 100 dpi); the file is
        left as it is.
    display : bool

    Returns
    -------
    IPython.display.Image or None
        With ``display=False``; ``None`` once shown.
    """
    import io

    from IPython.display import Image
    from IPython.display import display as _display
    from PIL import Image as PILImage

    with PILImage.open(path) as img:
        if scale != 1.0:
            size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            img = img.resize(size, PILImage.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
    obj = Image(data=buf.getvalue(), format="png")
    if not display:
        return obj
    _display(obj)
    return None


def blind_banner(*, display: bool = True):
    """The BLIND note as a highlighted HTML line (the learned model reads the mixture only)."""
    from IPython.display import HTML
    from IPython.display import display as _display

    obj = HTML(
        "<div style='border-left:4px solid #06c;padding:4px 8px;background:#e8f1fb'>"
        f"<b>{html.escape(BLIND_NOTE)}</b></div>"
    )
    if not display:
        return obj
    _display(obj)
    return None
