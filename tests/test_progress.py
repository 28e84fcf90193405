"""Progress: a bar over every stage of a run, on stderr when asked or on a terminal, never
when quiet; its plan of steps matches the steps a run takes; the notebook runner shows a bar
per notebook over its cells."""

import json

import pytest

from conv2dsep_lib.cli import main
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.run import progress as P
from conv2dsep_lib.run.experiment import run_experiment
from conv2dsep_lib.run.outputs import write_outputs
from conv2dsep_lib.separators.registry import BASELINE_KINDS
from conv2dsep_lib.sources.audio import load_pair

STAGES = ("loading", "STFT", "progressive k=1/2", "progressive k=2/2", "greedy", "metrics and baselines")


@pytest.fixture
def pair_args(write_pair):
    mp, vp = write_pair(seconds=5.0)
    return ["--mixture", str(mp), "--vocal", str(vp)]


def test_forced_progress_names_every_stage_on_stderr(tmp_path, pair_args, capsys):
    code = main(["best", "--slices", "2", *pair_args, "--out", str(tmp_path), "--no-bss", "--progress", "-q"])
    assert code == 0
    err = capsys.readouterr().err
    for stage in STAGES + ("figures", "writing"):
        assert f"best: {stage}" in err, stage
    assert "steps" in err and "Traceback" not in err


def test_no_bar_when_stderr_is_not_a_terminal_or_quiet(tmp_path, pair_args, capsys):
    fast = ["--slices", "1", *pair_args, "--no-bss", "--no-baselines", "--iterations", "5"]
    assert main(["progressive", *fast, "--out", str(tmp_path / "a")]) == 0
    captured = capsys.readouterr()
    assert "steps" not in captured.err and "wrote" in captured.out  # the summary, no bar
    assert main(["progressive", *fast, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    captured = capsys.readouterr()  # (the synthetic pair's warnings are still printed)
    assert captured.out == "" and "steps" not in captured.err and "progressive:" not in captured.err


class Counting(P.NoProgress):
    """Counts the steps a run advances and the steps it says it skips."""

    enabled = True

    def __init__(self):
        self.done, self.skipped, self.stages = 0, 0, []

    def stage(self, name):
        self.stages.append(name)

    def advance(self, n=1):
        self.done += n

    def skip(self, n):
        self.skipped += n

    def counting(self, fn):
        def counted(*a, **k):
            try:
                return fn(*a, **k)
            finally:
                self.advance()

        return counted


@pytest.mark.parametrize("greedy", [True, False])
@pytest.mark.parametrize("baselines", [True, False])
def test_the_planned_steps_are_the_steps_a_run_takes(tmp_path, write_pair, greedy, baselines):
    mp, vp = write_pair(seconds=5.0)
    config = Config(num_iterations=5)
    pair = load_pair(mp, vp, sr=config.sr, duration=config.duration)
    n_baselines = len(BASELINE_KINDS) if baselines else 0
    planned = P.run_steps(n_slices=3, greedy=greedy, baselines=n_baselines, writing=True)
    hooks = Counting()
    exp = run_experiment(
        pair, config=config, n_slices=3, greedy=greedy, baselines=baselines, bss=False, progress=hooks
    )
    write_outputs(exp, tmp_path, plots=True, progress=hooks)
    assert hooks.done + hooks.skipped == planned  # skipped: baselines found in the cache
    assert hooks.stages[0] == "STFT" and "figures" in hooks.stages and hooks.stages[-1] == "writing"
    assert any(s.startswith("greedy") for s in hooks.stages) is greedy


def test_a_library_call_with_progress_true_draws_and_closes_its_own_bar(write_pair, capsys):
    mp, vp = write_pair(seconds=5.0)
    config = Config(num_iterations=5)
    pair = load_pair(mp, vp, sr=config.sr, duration=config.duration)
    run_experiment(pair, config=config, n_slices=2, greedy=True, baselines=False, bss=False, progress=True)
    err = capsys.readouterr().err
    assert "best: STFT" in err and "best: greedy (step_loss)" in err
    run_experiment(pair, config=config, n_slices=1, greedy=False, baselines=False, bss=False)
    assert capsys.readouterr().err == ""  # progress=False: nothing


def test_no_progress_costs_nothing_and_a_shared_bar_stays_open():
    assert P.progress_hooks(False, n_slices=8, greedy=True, baselines=5) is P.NO_PROGRESS
    f = P.NO_PROGRESS.counting(len)
    assert f is len  # no wrapper around the greedy scorer without a bar

    import io

    bar = P.RunProgress(command="best", total=3, file=io.StringIO())
    with bar.shared() as lent:
        lent.advance(2)
    assert bar._bar is not None and bar._bar.n == 2  # the callee's exit left the owner's bar open
    bar.close()
    assert bar._bar is None


def test_notebooks_show_a_bar_per_notebook_over_its_cells(tmp_path, capsys):
    """Also: a notebook that declares neither ``out_dir`` nor ``interactive`` (06 alone:
    ``--only 06``) runs; the runner passes them only to notebooks that declare them."""
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
    nb = {
        "cells": [
            {
                **cell,
                "metadata": {"tags": ["parameters"]},
                "source": "x: int = 1  # no out_dir, no interactive",
            },
            {**cell, "source": "x = x + 1"},
            {**cell, "source": "print(x)"},
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    (nbdir / "00_tiny.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "run"
    code = main(
        ["notebooks", "--notebooks-dir", str(nbdir), "--out", str(out), "-p", "x", "41", "--progress"]
    )
    assert code == 0  # the runner's own out_dir / interactive go only to notebooks that declare them
    captured = capsys.readouterr()
    assert "00_tiny" in captured.err and "cell" in captured.err  # tqdm: "00_tiny: ...| 3/3 [..., cell/s]"
    assert "00_tiny.ipynb: ok" in captured.out
    executed = json.loads((out / "notebooks" / "00_tiny.ipynb").read_text())
    assert "".join(executed["cells"][-1]["outputs"][0]["text"]) == "42\n"
