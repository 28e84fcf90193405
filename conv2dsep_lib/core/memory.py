"""Process-level memory behaviour of the command line: glibc's allocator (glibc only; elsewhere
a no-op) and Python's cycle collector.

Measured on a whole-song run (3 minutes, ``progressive --slices 8``, 2 cores):

* glibc gives every thread that allocates its own malloc arena; a run's two lanes (see
  :mod:`conv2dsep_lib.run.lanes`) then each keep freed blocks the other cannot reuse, and
  the peak resident memory grows by ~100 MB for nothing -> one arena (``M_ARENA_MAX``).
* A whole song's spectrograms are ~31 MB each.  glibc's default thresholds hand such
  blocks back to the kernel when freed and fault them in again at the next allocation; on
  the VMs this was measured on a page fault is expensive (1-2 s of system time per run).
  A fixed mmap threshold of 32 MB (glibc's largest) and a trim threshold of 64 MB keep
  them in the heap for reuse (system time ~0.8 s) without raising the peak.
* Python's cycle collector, at its default first threshold (700 allocations), ran 656
  times in a first run on a song (torch's import and the model's calls make many objects):
  0.44-0.56 s, holding the GIL.  At :data:`COLLECTOR_THRESHOLD` it runs ~45 times (0.1 s);
  the peak is unchanged (1174-1188 MiB against 1197-1201 MiB, two runs each).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys
from typing import Optional

__all__ = ["tune_malloc", "tune_collector", "release_free_memory", "COLLECTOR_THRESHOLD"]

#: glibc ``mallopt`` options and the values used.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
SETTINGS = ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 64 << 20))


def tune_malloc() -> bool:
    """Apply :data:`SETTINGS` to this process (call before starting threads).

    Returns
    -------
    bool
        Whether glibc took them (False elsewhere).
    """
    libc = _glibc()
    if libc is None:
        return False
    return all(bool(libc.mallopt(ctypes.c_int(k), ctypes.c_int(v))) for k, v in SETTINGS)


#: The cycle collector's first-generation threshold the command line sets (Python's is 700).
COLLECTOR_THRESHOLD = 10_000


def tune_collector() -> None:
    """Raise the cycle collector's first threshold to :data:`COLLECTOR_THRESHOLD` (the older
    generations' thresholds are kept): fewer collections, each over more objects."""
    first, older, oldest = gc.get_threshold()
    gc.set_threshold(max(COLLECTOR_THRESHOLD, first), older, oldest)


def release_free_memory() -> None:
    """Hand the pages of freed heap blocks back to the kernel (glibc ``malloc_trim(0)``; elsewhere
    a no-op)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(ctypes.c_size_t(0))


@functools.lru_cache(maxsize=None)
def _glibc() -> Optional[ctypes.CDLL]:
    """The C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else None;
    loaded once (``find_library`` may run ``ldconfig``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - AttributeError: not glibc
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None
    return libc
