"""The checks every layer shares: an audio signal, an excerpt offset.

Each raises :class:`~conv2dsep_lib.core.errors.ParameterError` with a message that
names the value and what is allowed; the rest of the package calls these instead of
writing its own.
"""

from __future__ import annotations

import math
from typing import Any, Union

import numpy as np

from .errors import ParameterError

__all__ = ["SILENCE_PEAK", "MAX_OFFSET", "check_signal", "check_offset"]

#: Peak below which a signal counts as silent (about -160 dBFS).
SILENCE_PEAK = 1e-8
#: The latest excerpt start accepted (s): a day of audio.
MAX_OFFSET = 86400.0


def check_signal(
    y: Any, *, name: str = "signal", allow_silence: bool = False, mono: bool = False
) -> np.ndarray:
    """Refuse an empty signal, NaN/inf samples and (unless allowed) silence.

    Parameters
    ----------
    y : array_like [shape=(n,) or (channels, n)]
    name : str
        Used in the message (a file name, or a role such as ``"mixture"``).
    allow_silence : bool
        Accept a signal whose peak is below :data:`SILENCE_PEAK`.
    mono : bool
        Require a 1-D array ``(n,)``.

    Returns
    -------
    y : np.ndarray
        The same data as an array (no copy).

    Raises
    ------
    ParameterError
        ``"vocal has 3 NaN/inf samples (the first at index 10: nan): allowed finite
        samples only"``, ``"mix.wav is silent (peak < 1e-8): allowed a non-silent
        signal"``, ...
    """
    y = np.asarray(y)
    if mono and y.ndim != 1:
        raise ParameterError(f"{name} has shape {y.shape}: allowed a mono 1-D array (n,)")
    if y.size == 0:
        raise ParameterError(f"{name} is empty (0 samples): allowed >= 1 sample")
    finite = np.isfinite(y)
    if not finite.all():
        first = np.argwhere(~finite)[0]
        index = int(first[0]) if first.size == 1 else tuple(int(i) for i in first)
        raise ParameterError(
            f"{name} has {int(y.size - np.count_nonzero(finite))} NaN/inf samples (the first at "
            f"index {index}: {float(y[tuple(first)])!r}): allowed finite samples only"
        )
    if not allow_silence and float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise ParameterError(f"{name} is silent (peak < {SILENCE_PEAK:g}): allowed a non-silent signal")
    return y


def check_offset(offset: Any, *, name: str = "offset", allow_auto: bool = False) -> Union[float, str]:
    """An excerpt start in seconds: a finite number >= 0 (or ``"auto"`` where allowed).

    Text is accepted where it reads as a number (``"2.5"``), so the command line, a
    notebook parameter and a grid file share this one check.

    Returns
    -------
    float or "auto"

    Raises
    ------
    ParameterError
        ``"offset=-1 is invalid: allowed a number of seconds 0..86400"``.
    """
    allowed = f"a number of seconds 0..{MAX_OFFSET:g}" + (" or 'auto'" if allow_auto else "")
    value = offset
    if isinstance(value, str):
        if allow_auto and value.strip() == "auto":
            return "auto"
        try:
            value = float(value)
        except ValueError:
            raise ParameterError(f"{name}={offset!r} is invalid: allowed {allowed}") from None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or not 0 <= value <= MAX_OFFSET
    ):
        shown = offset if isinstance(offset, str) else repr(offset)
        raise ParameterError(f"{name}={shown} is invalid: allowed {allowed}")
    return float(value)
