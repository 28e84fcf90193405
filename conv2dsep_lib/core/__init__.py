"""Core: the one user-error type, the frozen config, atomic files and JSON, provenance.

Everything else in the package imports from here; this layer imports nothing of the
package above it.
"""

from .config import GREEDY_SCORES, MAX_SLICES, N_VIEWS, STRATEGIES, Config, check_n_slices
from .errors import ParameterError
from .provenance import __version__
from .threads import forked_after_torch  # registers the fork hook (torch and libgomp)

__all__ = [
    "Config",
    "ParameterError",
    "check_n_slices",
    "N_VIEWS",
    "MAX_SLICES",
    "GREEDY_SCORES",
    "STRATEGIES",
    "__version__",
    "forked_after_torch",
]
