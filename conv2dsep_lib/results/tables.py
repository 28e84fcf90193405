"""Tidy tables: one row per track x excerpt x setting x method x target (pandas).

:func:`record_rows` turns one :class:`~conv2dsep_lib.results.record.RunRecord` into
rows (each k of the progressive experiment, the greedy order, its best prefix) and
:func:`baseline_rows` a run's reference points; the sweep adds the track, setting and
parameter columns and writes them with :func:`write_table`, which
:func:`read_table` reads back with the same types and the floats exact.

Columns of a sweep table, in order::

    track, excerpt, setting, <parameters...>, target, method, kind, k, sequence,
    loss, si_sdr, si_sdr_i, sdr, sir, sar, oracle, seconds

``excerpt`` is the excerpt's start in seconds (the run's offset).  Several excerpts of a
track are repeats of one measurement, not settings: ``setting`` leaves them out, and
:mod:`.aggregate` takes the median over a track's excerpts before the median over tracks.

``kind`` is ``method`` for the Conv2D rows (all ORACLE) and the separator's kind
(``floor``, ``oracle``, ``blind``) for a baseline.  ``loss`` is the fingerprint step
loss (dB², in the last slice's view); the metrics are dB; an empty cell is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_path
from ..method.views import VIEW_NAMES
from ..scoring.scores import Scores
from .record import BaselineRecord, RunRecord

if TYPE_CHECKING:  # pandas is imported where a table is built (0.2 s a run that writes none)
    import pandas as pd

__all__ = [
    "TARGET",
    "METRICS",
    "HEAD",
    "TAIL",
    "record_rows",
    "record_target",
    "baseline_rows",
    "parameter_columns",
    "write_table",
    "read_table",
]

#: The target of a run that does not name one (every run before the four-stem study).
TARGET = "vocals"
#: Metric columns (dB; ``loss`` is the fingerprint step loss in dB², measured in the last
#: slice's view; ``yardstick`` / ``yardstick_raw`` the common yardstick in dB² -- the
#: fingerprint distance to the vocal averaged over all 19 views / in the raw view, the same
#: views for every k -- empty for runs recorded before it existed).
METRICS = ("loss", "yardstick", "yardstick_raw", "si_sdr", "si_sdr_i", "sdr", "sir", "sar")
#: Columns before the parameters, and after them.
HEAD = ("track", "excerpt", "setting")
TAIL = ("target", "method", "kind", "k", "sequence") + METRICS + ("oracle", "seconds")

_SCORE_COLUMNS = ("si_sdr", "si_sdr_i", "sdr", "sir", "sar")
_CONFIG_TYPES = {
    name: (float if value is None else type(value)) for name, value in Config().to_dict().items()
}
_PARAMETER_TYPES: Dict[str, type] = {**_CONFIG_TYPES, "n_slices": int, "offset": float, "greedy": bool}


def _view_numbers(names: Sequence[str]) -> str:
    return "-".join(str(VIEW_NAMES.index(n)) for n in names)


def _scores(metrics: Optional[Scores]) -> Dict[str, Optional[float]]:
    return {k: (None if metrics is None else metrics.value(k)) for k in _SCORE_COLUMNS}


def _yardstick(entry: Any) -> Dict[str, Optional[float]]:
    y = getattr(entry, "yardstick", None)
    if y is None:
        return {"yardstick": None, "yardstick_raw": None}
    return {"yardstick": y.mean_19, "yardstick_raw": y.raw}


def record_target(record: RunRecord) -> str:
    """The target a run separated (``input["target"]``; ``"vocals"`` for a run that names none)."""
    return str(record.input.get("target", TARGET))


def record_rows(record: RunRecord, *, seconds: Optional[float] = None) -> List[Dict[str, Any]]:
    """Tidy rows of one run's Conv2D estimates (without track / setting / parameter columns).

    One row per k of the original order (``method="progressive"``), then ``greedy`` (all
    N in the greedy order) and ``greedy_best`` (its best prefix) when the run had them.
    Every row has ``kind="method"`` and ``oracle=True``.
    """
    target = record_target(record)
    return [
        {
            "target": target,
            "method": e.method,
            "kind": "method",
            "k": e.k,
            "sequence": _view_numbers(e.sequence),
            "loss": e.loss,
            **_yardstick(e),
            **_scores(e.metrics),
            "oracle": True,
            "seconds": None if seconds is None else round(seconds, 3),
        }
        for e in record.estimates()
    ]


def baseline_rows(
    baselines: Mapping[str, BaselineRecord], *, seconds: Optional[float] = None, target: str = TARGET
) -> List[Dict[str, Any]]:
    """Tidy rows of a run's reference points (``k``, ``sequence`` and ``loss`` empty) for
    *target*."""
    return [
        {
            "target": target,
            "method": name,
            "kind": b.kind,
            "k": None,
            "sequence": None,
            "loss": None,
            "yardstick": None,
            "yardstick_raw": None,
            **_scores(b.metrics),
            "oracle": b.oracle,
            "seconds": None if seconds is None else round(seconds, 3),
        }
        for name, b in baselines.items()
    ]


def parameter_columns(table: pd.DataFrame) -> List[str]:
    """The parameter columns of a tidy table (those between ``setting`` and ``target``)."""
    return [c for c in table.columns if c not in HEAD and c not in TAIL]


def _dtype(column: str) -> Any:
    if column in METRICS or column in ("seconds", "excerpt"):
        return "float64"
    kind = _PARAMETER_TYPES.get(column)
    if column == "k" or kind is int or column in ("n_tracks", "n_excerpts"):
        return "Int64"
    if column == "oracle" or kind is bool:
        return "boolean"
    if kind is float or column.endswith(("_median", "_q25", "_q75", "_iqr", "_ci_low", "_ci_high")):
        return "float64"
    return "string"


def typed(rows: Any, columns: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """A DataFrame of *rows* (list of dicts or a DataFrame) with the table's column types:
    nullable ``Int64`` for integers, ``boolean`` for flags, ``float64`` for numbers (NaN =
    missing), ``string`` for text."""
    import pandas as pd

    frame = pd.DataFrame(
        list(rows) if not isinstance(rows, pd.DataFrame) else rows,
        columns=list(columns) if columns is not None else None,
    )
    return frame.astype({c: _dtype(c) for c in frame.columns})


def write_table(table: pd.DataFrame, path: PathLike) -> Path:
    """Write a table as CSV atomically: floats exact (shortest repr), missing values empty."""
    path = Path(path)
    text = table.to_csv(index=False, lineterminator="\n", float_format=None, na_rep="")
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def read_table(path: PathLike, *, name: str = "sweep.csv") -> pd.DataFrame:
    """Read a table written by :func:`write_table` with its types (see :func:`typed`).

    A folder means ``folder/name``.

    Raises
    ------
    ParameterError
        The file does not exist.
    """
    p = Path(path)
    if p.is_dir():
        p = p / name
    if not p.is_file():
        raise ParameterError(
            f"table {str(p)!r} does not exist: run `conv2dsep sweep ... --out {p.parent}` first"
        )
    import pandas as pd

    frame = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    types = {c: _dtype(c) for c in frame.columns}
    out = frame.copy()
    for c, t in types.items():
        if t == "float64":
            out[c] = pd.to_numeric(frame[c], errors="raise").astype("float64")
        elif t == "Int64":
            out[c] = pd.to_numeric(frame[c], errors="raise").astype("Int64")
        elif t == "boolean":
            out[c] = frame[c].map({"True": True, "False": False}).astype("boolean")
        else:
            out[c] = frame[c].astype("string")
    return out
