"""How many threads one run may use.

``$CONV2DSEP_THREADS`` caps it (a sweep's pool workers set it to 1: their parallelism is the
processes); otherwise it is the cores this process may run on.
"""

from __future__ import annotations

import os
import sys
from typing import List

__all__ = ["THREADS_VARIABLE", "run_threads", "forked_after_torch"]

#: Set in a child process forked from one that had torch loaded (see :func:`forked_after_torch`).
_FORKED_AFTER_TORCH: List[bool] = [False]


def _after_fork_in_child() -> None:
    if "torch" in sys.modules:
        _FORKED_AFTER_TORCH[0] = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def forked_after_torch() -> bool:
    """Whether this process is a fork of one that had torch loaded (a sweep's pool worker, say).

    torch's OpenMP runtime (libgomp) is not fork-safe: a child that enters a parallel region
    with the parent's thread pool waits forever at its barrier, so such a child must run torch
    on one thread (``torch.set_num_threads(1)`` before any torch work).  Registered when the
    package is imported (:mod:`conv2dsep_lib.core` imports this module).
    """
    return _FORKED_AFTER_TORCH[0]


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
