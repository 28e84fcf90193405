"""save_figures: half the figures drawn in a forked child, the same files as in one process."""

import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from conv2dsep_lib.viz.common import save_figures


def _line(seed):
    def build():
        fig = Figure(figsize=(3, 2))
        ax = fig.add_subplot()
        ax.plot(np.random.default_rng(seed).standard_normal(50))
        ax.set_title(f"figure {seed}")
        return fig

    return build


def _jobs():
    return [(f"f{i}.png", _line(i)) for i in range(5)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="two processes on Linux only")
def test_two_processes_write_the_same_files_as_one(tmp_path):
    one = save_figures(_jobs(), tmp_path / "one", processes=1)
    two = save_figures(_jobs(), tmp_path / "two", processes=2)
    assert list(one) == list(two) == [f"f{i}.png" for i in range(5)]
    for name in one:
        assert one[name].read_bytes() == two[name].read_bytes(), name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="two processes on Linux only")
def test_a_failure_in_the_child_is_raised_here(tmp_path):
    def broken():
        raise ValueError("no figure")

    jobs = [("a.png", _line(0)), ("b.png", broken), ("c.png", _line(2))]  # b is the child's
    with pytest.raises(RuntimeError, match="b.png"):
        save_figures(jobs, tmp_path, processes=2)
    assert (tmp_path / "a.png").is_file() and (tmp_path / "c.png").is_file()
