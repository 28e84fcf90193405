"""Process-level memory behaviour (conv2dsep_lib.core.memory): glibc only, in a child process
so this test process's allocator is left as it is."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is Linux's")

_CHILD = textwrap.dedent(
    """
    import numpy as np
    from conv2dsep_lib.core.memory import release_free_memory, tune_malloc

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    assert tune_malloc()
    blocks = [np.ones(1 << 20) for _ in range(40)]  # 40 x 8 MiB, kept in the heap (< 32 MiB)
    keep = blocks[-1]  # the block on top: the heap cannot simply shrink from its end
    del blocks
    before = rss_mib()
    release_free_memory()
    after = rss_mib()
    print(before, after, float(keep[0]))
    """
)


@glibc_only
def test_release_free_memory_hands_freed_heap_pages_back():
    """With the command line's malloc settings, freed song-sized blocks stay resident (kept for
    reuse); :func:`release_free_memory` gives their pages back -- the run calls it after each
    job on the lanes (every arena, the method thread's too), so the peak is what is live, not
    what was once."""
    proc = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    before, after, kept = map(float, proc.stdout.split())
    assert kept == 1.0
    assert before - after > 200, (before, after)  # ~300 MiB of freed blocks


_COLLECTOR_CHILD = textwrap.dedent(
    """
    import gc
    from conv2dsep_lib.cli import main

    before = gc.get_threshold()
    code = main(["best", "--slices", "0"])  # a user error: returns 2 after the process set-up
    print(code, *before, *gc.get_threshold())
    """
)


def test_command_line_raises_the_collector_threshold_and_keeps_the_older_ones():
    """The command line runs the cycle collector less often (a first run on a song: 656
    collections, ~0.5 s with the GIL held, down to ~45); the older generations' thresholds stay."""
    from conv2dsep_lib.core.memory import COLLECTOR_THRESHOLD

    proc = subprocess.run(
        [sys.executable, "-c", _COLLECTOR_CHILD], capture_output=True, text=True, timeout=120
    )
    code, *thresholds = map(int, proc.stdout.split())
    before, after = thresholds[:3], thresholds[3:]
    assert code == 2 and "n_slices=0" in proc.stderr
    assert before[0] < COLLECTOR_THRESHOLD
    assert after == [COLLECTOR_THRESHOLD, before[1], before[2]]
