"""How many threads one run may use.

``$CONV2DSEP_THREADS`` caps it (a sweep's pool workers set it to 1: their parallelism is the
processes); otherwise it is the cores this process may run on.
"""

from __future__ import annotations

import os

__all__ = ["THREADS_VARIABLE", "run_threads"]

#: Environment variable that caps the threads one run uses.
THREADS_VARIABLE = "CONV2DSEP_THREADS"


def run_threads() -> int:
    """Threads one run may use: ``$CONV2DSEP_THREADS`` if set (an integer >= 1), else the cores
    this process may use."""
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if value.isdigit() and int(value) >= 1:
        return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
