"""Grids of settings: read, validate and expand them; name each setting.

A grid is a YAML mapping of parameter -> list of values; every combination is one
setting.  Parameters are the :class:`~conv2dsep_lib.core.config.Config` fields
(``num_iterations`` -- alias ``iterations`` --, ``learning_rate``, ``clip_db``,
``strategy``, ``greedy_score``, ``n_points``, ...) and the run parameters
:data:`RUN_PARAMETERS` (``n_slices``, ``offset``, ``greedy``).  Everything is checked
for the whole grid before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..core.checks import check_offset
from ..core.config import Config, check_n_slices
from ..core.errors import ParameterError
from ..core.files import PathLike

__all__ = [
    "RUN_PARAMETERS",
    "GRID_ALIASES",
    "NOTEBOOK_GRID_KEYS",
    "read_grid",
    "validate_grid",
    "canonical_fixed",
    "parse_set",
    "setting_key",
    "expand_grid",
    "shown_parameters",
    "split_settings",
]

#: Run parameters a grid may hold besides the :class:`Config` fields, with defaults.
RUN_PARAMETERS: Dict[str, Any] = {"n_slices": 8, "offset": 0.0, "greedy": True}
#: Accepted alternative names of grid keys.
GRID_ALIASES = {"iterations": "num_iterations"}
#: Grid keys the notebook sequence (``notebooks=True``) takes as parameters.
NOTEBOOK_GRID_KEYS = (
    "n_slices",
    "offset",
    "greedy",
    "num_iterations",
    "learning_rate",
    "clip_db",
    "strategy",
    "greedy_score",
)
#: Short names of parameters in setting keys (folder names).
_ABBREV = {
    "n_slices": "n",
    "offset": "off",
    "num_iterations": "it",
    "learning_rate": "lr",
    "clip_db": "clip",
    "strategy": "s",
    "greedy_score": "gs",
    "n_points": "pts",
    "duration": "dur",
    "hop_length": "hop",
    "n_fft": "fft",
    "top_db": "top",
}
_CONFIG_DEFAULTS = Config().to_dict()


def _kind_of(name: str) -> type:
    if name in RUN_PARAMETERS:
        return type(RUN_PARAMETERS[name])
    default = _CONFIG_DEFAULTS[name]
    return float if default is None else type(default)  # top_db: Optional[float]


def _canonical_key(key: Any, *, where: str) -> str:
    if not isinstance(key, str):
        raise ParameterError(f"{where} key {key!r} is not a name: allowed " + _allowed_keys())
    name = GRID_ALIASES.get(key, key)
    if name not in RUN_PARAMETERS and name not in _CONFIG_DEFAULTS:
        raise ParameterError(f"{where} key {key!r} is unknown: allowed " + _allowed_keys())
    return name


def _allowed_keys() -> str:
    return ", ".join(list(RUN_PARAMETERS) + list(_CONFIG_DEFAULTS)) + " (alias: iterations)"


def _canonical_value(name: str, value: Any, *, where: str) -> Any:
    """Validate one value of parameter *name*; floats become float (stable keys)."""
    kind = _kind_of(name)
    label = f"{where} {name!r}"
    if name == "n_slices":
        try:
            return check_n_slices(value)
        except ParameterError as exc:
            raise ParameterError(f"{label}: {exc}") from None
    if name == "greedy":
        if not isinstance(value, bool):
            raise ParameterError(f"{label}: value {value!r} is invalid: allowed true or false")
        return value
    if kind is float and isinstance(value, str):
        try:  # YAML 1.1 reads 1e-3 (no dot) as text
            value = float(value)
        except ValueError:
            pass
    if name == "top_db" and value is None:
        pass
    elif kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    if name == "offset":
        try:
            return check_offset(value, name="value")
        except ParameterError as exc:
            raise ParameterError(f"{label}: {exc}") from None
    try:
        Config().replace(**{name: value})
    except ParameterError as exc:
        raise ParameterError(f"{label}: {exc}") from None
    except TypeError:
        raise ParameterError(f"{label}: value {value!r} is invalid: allowed a {kind.__name__}") from None
    return value


def read_grid(path: PathLike) -> Dict[str, List[Any]]:
    """Read and validate a grid file (YAML mapping of parameter -> list of values).

    Parameters
    ----------
    path : path
        YAML file, e.g.::

            n_slices: [1, 2, 4, 8, 18]
            learning_rate: [0.01, 0.05]
            strategy: [3]
            iterations: [100]         # alias of num_iterations
            offset: [0.0]             # excerpt start (s)
            greedy: [true]            # also run the greedy order

    Returns
    -------
    dict of str -> list
        Canonical names (aliases resolved), validated values.

    Raises
    ------
    ParameterError
        Missing or unreadable file, not a mapping, and everything
        :func:`expand_grid` refuses.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ParameterError(
            f"grid file {str(p)!r} does not exist: allowed a YAML file of parameter: [values] lines"
        )
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParameterError(f"grid file {str(p)!r} is not valid YAML: {first}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParameterError(
            f"grid file {str(p)!r} holds a {type(data).__name__}: allowed a mapping "
            "of parameter: [values], e.g. 'n_slices: [1, 2, 4]'"
        )
    return validate_grid(data)


def validate_grid(grid: Mapping[str, Any]) -> Dict[str, List[Any]]:
    out: Dict[str, List[Any]] = {}
    for key, values in grid.items():
        name = _canonical_key(key, where="grid")
        if name in out:
            raise ParameterError(f"grid key {key!r} repeats {name!r}: allowed each parameter once")
        if not isinstance(values, (list, tuple)):
            raise ParameterError(
                f"grid key {key!r} has the value {values!r}: allowed a list, "
                f"e.g. {key}: [{values!r}] (fixed values can also go to --set)"
            )
        if not values:
            raise ParameterError(f"grid key {key!r} has an empty list: allowed one or more values")
        canon = [_canonical_value(name, v, where="grid key") for v in values]
        seen = set()
        for v in canon:
            tag = json.dumps(v)
            if tag in seen:
                raise ParameterError(f"grid key {key!r} lists {v!r} twice: allowed distinct values")
            seen.add(tag)
        out[name] = canon
    return out


def canonical_fixed(fixed: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Fixed values (``--set``) under their canonical names, each validated."""
    out: Dict[str, Any] = {}
    for key, value in (fixed or {}).items():
        name = _canonical_key(key, where="fixed")
        out[name] = _canonical_value(name, value, where="fixed")
    return out


def parse_set(items: Iterable[str]) -> Dict[str, Any]:
    """``KEY=VALUE`` strings (``--set``) as fixed parameters; values parsed as YAML.

    Raises
    ------
    ParameterError
        No ``=``, unknown key, a list, or an invalid value.
    """
    import yaml

    out: Dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ParameterError(f"--set {item!r} has no '=': allowed KEY=VALUE, e.g. --set iterations=50")
        key, text = item.split("=", 1)
        key = key.strip()
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        name = _canonical_key(key, where="--set")
        if isinstance(value, (list, dict)):
            raise ParameterError(
                f"--set {key}={text} is a {type(value).__name__}: allowed one value (put lists into the grid file)"
            )
        out[name] = _canonical_value(name, value, where="--set")
    return out


def setting_key(settings: Mapping[str, Any], *, shown: Optional[Sequence[str]] = None) -> str:
    """Folder name of a setting: a short readable slug and a hash of all its values.

    Parameters
    ----------
    settings : dict
        Canonical settings (:func:`expand_grid`).
    shown : sequence of str, optional
        Parameters named in the slug (default: all, in order).

    Returns
    -------
    str
        E.g. ``"n4_lr0.05-3fa2b1c0"``.
    """
    parts = []
    for name in shown if shown is not None else list(settings):
        v = settings[name]
        if name == "greedy":
            parts.append("greedy" if v else "nogreedy")
            continue
        text = format(v, "g") if isinstance(v, float) else str(v)
        parts.append(_ABBREV.get(name, name) + re.sub(r"[^A-Za-z0-9.+-]", "", text))
    slug = "_".join(parts)[:60] or "default"
    digest = hashlib.sha1(json.dumps(dict(settings), sort_keys=True).encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


def expand_grid(
    grid: Optional[Mapping[str, Any]] = None,
    *,
    fixed: Optional[Mapping[str, Any]] = None,
    notebooks: bool = False,
) -> List[Dict[str, Any]]:
    """The cartesian product of a grid, every combination validated.

    Parameters
    ----------
    grid : dict of str -> list, optional
        Parameter -> values: :class:`~conv2dsep_lib.core.config.Config` fields
        (``num_iterations`` -- alias ``iterations`` --, ``learning_rate``,
        ``clip_db``, ``strategy``, ``greedy_score``, ``n_points``, ...) and the run
        parameters ``n_slices`` (1..18), ``offset`` (s), ``greedy`` (bool).
    fixed : dict, optional
        One value per parameter for every setting (``--set``); may not repeat a grid key.
    notebooks : bool
        Settings for the notebook sequence: only :data:`NOTEBOOK_GRID_KEYS` allowed.

    Returns
    -------
    list of dict
        One dict per setting: ``n_slices``, ``offset``, ``greedy`` (defaults
        :data:`RUN_PARAMETERS`) and the config fields that were given, in grid order
        (the last key varies fastest).

    Raises
    ------
    ParameterError
        Unknown keys, non-list values, invalid values, a key both in the grid and
        *fixed*, or an invalid combination -- naming the key; checked for the whole
        grid before anything runs.

    Examples
    --------
    >>> [s["n_slices"] for s in expand_grid({"n_slices": [1, 2]}, fixed={"iterations": 20})]
    [1, 2]
    """
    g = validate_grid(grid or {})
    f = canonical_fixed(fixed)
    both = sorted(set(g) & set(f))
    if both:
        raise ParameterError(f"parameter {both[0]!r} is both in the grid and in --set: allowed one of them")
    if notebooks:
        bad = [k for k in list(g) + list(f) if k not in NOTEBOOK_GRID_KEYS]
        if bad:
            raise ParameterError(
                f"grid key {bad[0]!r} is not a notebook parameter: with --notebooks "
                "allowed " + ", ".join(NOTEBOOK_GRID_KEYS)
            )
    settings = []
    keys = list(g)
    for combo in itertools.product(*(g[k] for k in keys)):
        values = {**f, **dict(zip(keys, combo))}
        s = {name: values.get(name, default) for name, default in RUN_PARAMETERS.items()}
        s.update({k: v for k, v in values.items() if k not in RUN_PARAMETERS})
        try:
            Config().replace(**{k: v for k, v in s.items() if k not in RUN_PARAMETERS})
        except ParameterError as exc:
            shown = ", ".join(f"{k}={values[k]!r}" for k in values)
            raise ParameterError(f"grid setting ({shown}): {exc}") from None
        settings.append(s)
    return settings


def shown_parameters(grid: Mapping[str, Any], fixed: Mapping[str, Any]) -> List[str]:
    names = ["n_slices"] + [GRID_ALIASES.get(k, k) for k in list(grid) + list(fixed)]
    return list(dict.fromkeys(names))


def split_settings(settings: Mapping[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    run = {k: settings[k] for k in RUN_PARAMETERS}
    cfg = {k: v for k, v in settings.items() if k not in RUN_PARAMETERS}
    return run, cfg
