"""The package's one exception type for user errors.

Every mistake a user can make -- a bad parameter, a missing or unreadable file, a
wrong sample rate, a stereo/mono mismatch, a too-short clip, silence, NaN samples --
raises :class:`ParameterError` with a message that names the bad value and what is
allowed.  The command line turns it into one line on stderr and exit code 2; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["ParameterError"]


class ParameterError(ValueError):
    """A user error: a bad parameter, file or signal.

    The message names the offending value and the allowed range or form, e.g.
    ``"n_slices=19 is out of range: allowed 1..18"``.
    """
