"""The typed result of scoring one estimate: :class:`Scores`.

Every number is in dB.  A field is ``None`` when it was not computed (no BSS Eval,
no mixture given) and ``nan`` when it was computed but is undefined (a silent
estimate, every window silent).  In JSON the first is an absent key, the second
``null`` -- so :meth:`Scores.to_json` and :meth:`Scores.from_json` round-trip exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Dict, Mapping, Optional

from ..core.errors import ParameterError

__all__ = ["Scores", "METRIC_NAMES"]

#: The metrics a :class:`Scores` can hold (besides ``accompaniment``), in JSON order.
METRIC_NAMES = ("si_sdr", "si_sdr_i", "sdr", "sir", "sar", "isr")


def _from_json_value(value: Any) -> float:
    return math.nan if value is None else float(value)


_UNDEFINED = object()  # stands for every nan in comparisons: nan == nan for Scores


def _same_key(value: Any) -> Any:
    return _UNDEFINED if isinstance(value, float) and math.isnan(value) else value


@dataclass(frozen=True)
class Scores:
    """Separation quality of one estimate (dB).

    Attributes
    ----------
    si_sdr : float
        Scale-invariant SDR against the reference (Le Roux et al. 2019).
    si_sdr_i : float or None
        Its improvement over the mixture as the estimate (needs the mixture).
    sdr, sir, sar, isr : float or None
        BSS Eval v4 (museval), NaN-aware median over 1 s windows.
    accompaniment : Scores or None
        The same numbers for the other source (``mixture - reference`` against
        ``mixture - estimate``).
    """

    si_sdr: float
    si_sdr_i: Optional[float] = None
    sdr: Optional[float] = None
    sir: Optional[float] = None
    sar: Optional[float] = None
    isr: Optional[float] = None
    accompaniment: Optional["Scores"] = None

    def _key(self) -> tuple:
        return tuple(_same_key(getattr(self, f.name)) for f in fields(self))

    def __eq__(self, other: Any) -> bool:
        """Field by field, with nan (undefined) equal to nan, so JSON round-trips compare equal."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def value(self, metric: str) -> Optional[float]:
        """One metric by name (for tables and plots that let the user choose it).

        Raises
        ------
        ParameterError
            *metric* is not one of :data:`METRIC_NAMES`.
        """
        if metric not in METRIC_NAMES:
            raise ParameterError(f"metric={metric!r} is invalid: allowed one of " + ", ".join(METRIC_NAMES))
        return getattr(self, metric)

    def to_json(self) -> Dict[str, Any]:
        """The JSON form: computed metrics only; NaN (undefined) becomes ``None``."""
        out: Dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, Scores):
                out[f.name] = v.to_json()
            else:
                out[f.name] = float(v) if math.isfinite(v) else None
        return out

    @classmethod
    def from_json(cls, data: Optional[Mapping[str, Any]]) -> Optional["Scores"]:
        """Read :meth:`to_json`'s form (``None`` stays ``None``)."""
        if data is None:
            return None
        values: Dict[str, Any] = {name: _from_json_value(data[name]) for name in METRIC_NAMES if name in data}
        values["accompaniment"] = cls.from_json(data.get("accompaniment"))
        return cls(**values)
