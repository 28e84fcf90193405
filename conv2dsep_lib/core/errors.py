"""The package's one exception type for user errors.

Every mistake a user can make -- a bad parameter, a missing or unreadable file, a
wrong sample rate, a stereo/mono mismatch, a too-short clip, silence, NaN samples --
raises :class:`ParameterError` with a message that names the bad value and what is
allowed.  The command line turns it into one line on stderr and exit code 2; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import traceback
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Mapping, Optional

__all__ = ["ParameterError", "ErrorRecord"]


class ParameterError(ValueError):
    """A user error: a bad parameter, file or signal.

    The message names the offending value and the allowed range or form, e.g.
    ``"n_slices=19 is out of range: allowed 1..18"``.
    """


@dataclass(frozen=True)
class ErrorRecord:
    """A failure as recorded in a run's files (a sweep's ``failed.json``, a notebook run's
    ``run.json``): one shape for every place that keeps going after an error.

    Attributes
    ----------
    type : str
        The exception's class name (``"ParameterError"`` for a user error).
    message : str
        Its first line.
    user_error : bool
        A :class:`ParameterError` (bad input), not a bug.
    traceback : str
        The formatted traceback ("" where none is kept).
    cell_index, execution_count : int or None
        For a notebook cell that failed: its index and ``In [n]`` number.
    cell_source : str or None
        The failing cell's first line.
    """

    type: str
    message: str
    user_error: bool = False
    traceback: str = ""
    cell_index: Optional[int] = None
    execution_count: Optional[int] = None
    cell_source: Optional[str] = None

    @classmethod
    def from_exception(cls, exc: BaseException, *, with_traceback: bool = True) -> "ErrorRecord":
        text = str(exc).strip()
        return cls(
            type=type(exc).__name__,
            message=text.splitlines()[0] if text else type(exc).__name__,
            user_error=isinstance(exc, ParameterError),
            traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if with_traceback
            else "",
        )

    def describe(self) -> str:
        """``"Type: message"``."""
        return f"{self.type}: {self.message}"

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ErrorRecord":
        return cls(**{f.name: data.get(f.name, f.default) for f in fields(cls)})
