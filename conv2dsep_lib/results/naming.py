"""Run folder names: the seed's for the seed's settings, a settings tag for any other.

``conv2dsep best`` / ``progressive`` write one folder per slice count *and settings*:
the seed's ``output_progressive_{N}slices`` for the seed's ``CONFIG``,
``output_progressive_{N}slices_<tag>`` for anything else (:func:`run_folder_name`), so two
settings never replace each other's results.  :mod:`.index` lists the folders.

Decisions:

* **Settings** are the fields of :class:`~conv2dsep_lib.core.config.Config` that differ
  from the seed's (``greedy_score`` only for a run with the greedy search): they change
  the method's numbers.  The command (``progressive`` writes a subset of ``best``'s
  files, as the seed's two scripts shared the folder, SPEC section 8), the input and
  excerpt, and ``--no-bss`` / ``--no-baselines`` are recorded in the index entry, not in
  the name; the command line's summary says when a run replaced an earlier one.
* **Tag**: ``<abbreviation><value>`` per changed field in :data:`TAGS` order, joined by
  ``_`` (``it50_lr0.9``; a value as the shortest text that reads back the same).  Longer
  than :data:`MAX_TAG` characters, it keeps the leading parts that fit and 8 hex digits of
  a hash of all the settings (``it50_lr0.9_clip10_strategy1_3f9a0c21``): every setting
  keeps a name of its own, and the same settings always get the same one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, to_jsonable

__all__ = ["TAGS", "MAX_TAG", "changed_settings", "settings_tag", "run_folder_name", "is_run_folder"]

#: Config field -> its abbreviation in a folder's settings tag (the tag's order).
TAGS: Mapping[str, str] = MappingProxyType(
    {
        "num_iterations": "it",
        "learning_rate": "lr",
        "clip_db": "clip",
        "strategy": "strategy",
        "greedy_score": "greedy-",
        "n_points": "pts",
        "sr": "sr",
        "duration": "dur",
        "n_fft": "nfft",
        "hop_length": "hop",
        "amin": "amin",
        "top_db": "topdb",
    }
)
#: A longer tag is shortened to the parts that fit and a hash of all the settings.
MAX_TAG = 40
_SEED_NAME = re.compile(r"^output_progressive_(\d+)slices(?:_[A-Za-z0-9.\-_]+)?$")


def changed_settings(config: Config, *, greedy: bool = True) -> Dict[str, Any]:
    """The fields of *config* that differ from the seed's ``CONFIG`` (:class:`Config` defaults).

    Parameters
    ----------
    config : Config
    greedy : bool
        The run has the greedy search; without it ``greedy_score`` does not matter and is
        left out.

    Returns
    -------
    dict
        Field -> value, in :data:`TAGS` order; empty for the seed's settings.
    """
    seed = Config()
    return {
        name: getattr(config, name)
        for name in TAGS
        if getattr(config, name) != getattr(seed, name) and (greedy or name != "greedy_score")
    }


def _value_text(value: Any) -> str:
    """The shortest text that gives *value* back (``0.9``, ``1e-10``, ``20`` for 20.0)."""
    if value is None:
        return "none"
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9.\-_]", "", text.replace("+", ""))


def settings_tag(settings: Mapping[str, Any]) -> str:
    """A short, deterministic, file-name-safe tag of *settings* (:func:`changed_settings`).

    ``{"learning_rate": 0.9}`` -> ``"lr0.9"``; ``{}`` -> ``""``.  A tag longer than
    :data:`MAX_TAG` keeps its leading parts that fit and ends with 8 hex digits of a hash
    of all the settings.

    Examples
    --------
    >>> settings_tag({"learning_rate": 0.9, "num_iterations": 50})
    'it50_lr0.9'
    """
    unknown = sorted(set(settings) - set(TAGS))
    if unknown:
        raise ParameterError(
            f"settings {', '.join(unknown)} are not config fields: allowed " + ", ".join(TAGS)
        )
    parts = [f"{TAGS[name]}{_value_text(settings[name])}" for name in TAGS if name in settings]
    tag = "_".join(parts)
    if len(tag) <= MAX_TAG:
        return tag
    digest = hashlib.sha1(
        json.dumps(to_jsonable({k: settings[k] for k in sorted(settings)}), sort_keys=True).encode()
    ).hexdigest()[:8]
    kept: List[str] = []
    for part in parts:
        if len("_".join(kept + [part, digest])) > MAX_TAG:
            break
        kept.append(part)
    return "_".join(kept + [digest])


def run_folder_name(n_slices: int, *, config: Optional[Config] = None, greedy: bool = True) -> str:
    """A run's folder: ``output_progressive_{N}slices`` (the seed's name) for the seed's
    settings, ``output_progressive_{N}slices_<tag>`` otherwise (:func:`settings_tag`).

    Examples
    --------
    >>> run_folder_name(8)
    'output_progressive_8slices'
    >>> run_folder_name(8, config=Config(learning_rate=0.9))
    'output_progressive_8slices_lr0.9'
    """
    base = f"output_progressive_{n_slices}slices"
    tag = "" if config is None else settings_tag(changed_settings(config, greedy=greedy))
    return f"{base}_{tag}" if tag else base


def is_run_folder(path: PathLike) -> bool:
    """Whether *path* is a run folder: a seed-style name holding a ``results.json`` -- or a
    target's folder inside one (``output_progressive_8slices/drums``, a multi-target run)."""
    p = Path(path)
    named = bool(_SEED_NAME.match(p.name)) or (
        p.name in ("vocals", "drums", "bass", "other") and bool(_SEED_NAME.match(p.parent.name))
    )
    return named and (p / "results.json").is_file()


def read_results_json(path: PathLike) -> "tuple[Path, Any]":
    """A run's ``results.json`` (or the run folder holding one), parsed: ``(file, data)``.

    Raises
    ------
    ParameterError
        Missing or unreadable file.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    try:
        return p, json.loads(p.read_text())
    except FileNotFoundError:
        raise ParameterError(f"results file {str(p)!r} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ParameterError(f"results file {str(p)!r} is not readable JSON: {exc}") from None
