"""Process-level memory behaviour of the command line (glibc only; elsewhere a no-op).

glibc gives every thread that allocates its own malloc arena; a run's two lanes (see
:mod:`conv2dsep_lib.run.lanes`) then each keep freed blocks the other cannot reuse, and a
whole-song run's peak resident memory grows by ~100 MB for nothing.  One arena for the
process (``mallopt(M_ARENA_MAX, 1)``) gives it back at no measured cost in time (the
large blocks are numpy arrays, allocated a few hundred times per run).  Unlike the
``MALLOC_*`` environment variables, this leaves glibc's dynamic mmap threshold alone:
on the VMs this was measured on, page faults on freshly mapped memory are what make a
run slow.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["limit_malloc_arenas"]

#: glibc's ``M_ARENA_MAX`` option of ``mallopt``.
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 1) -> bool:
    """Cap glibc's malloc arenas for this process (call before starting threads).

    Returns
    -------
    bool
        Whether the cap was set (False off glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(ctypes.c_int(M_ARENA_MAX), ctypes.c_int(arenas)))
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
