"""Sweeps: grid validation, pool vs Dask tables, failures and re-runs, interrupts, CLI, notebook 06."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from conv2dsep_lib import sweep as sw
from conv2dsep_lib.cli import main
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.results.aggregate import headline, summarise
from conv2dsep_lib.results.tables import read_table
from conv2dsep_lib.separators.registry import BASELINES
from conv2dsep_lib.sweep import plan as sweep_plan
from conv2dsep_lib.sweep import tasks as sweep_tasks

ROOT = Path(__file__).resolve().parent.parent
FAST = {"num_iterations": 10}
QUIET = {"progress": False, "bss": False}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Two prepared demo songs (4.7 s excerpts) in <tmp>/demo/rtg/100-window/<name>/."""
    from conv2dsep_lib.sources.demo_set import build_demo_set

    root = tmp_path_factory.mktemp("sweepdata") / "demo"
    result = build_demo_set(root, seeds=(0, 1), duration=5.0)
    assert not result.skipped
    return root / "rtg" / "100-window"


@pytest.fixture(scope="module")
def tiny_sweep(demo, tmp_path_factory):
    """A finished sweep with baselines and plots: 2 songs x n_slices [1, 2], in this process."""
    out = tmp_path_factory.mktemp("tiny") / "sweep"
    res = sw.run_sweep(str(demo / "*"), {"n_slices": [1, 2]}, fixed=FAST, out=out, workers=1, **QUIET)
    return res


def _assert_same_table(a, b):
    assert len(a) == len(b) > 0
    assert list(a.columns) == list(b.columns)
    # same columns, dtypes and values (missing = missing); floats to 1e-9; not the wall time
    pd.testing.assert_frame_equal(
        a.drop(columns="seconds"), b.drop(columns="seconds"), check_exact=False, rtol=1e-9, atol=1e-12
    )


def _results_mtimes(out):
    return {p: p.stat().st_mtime_ns for p in Path(out).rglob("results.json")}


# ------------------------------------------------------------------ grid
def test_expand_grid_is_the_validated_cartesian_product():
    settings = sw.expand_grid({"n_slices": [1, 2], "iterations": [5, 10]}, fixed={"learning_rate": 1})
    assert [(s["n_slices"], s["num_iterations"]) for s in settings] == [(1, 5), (1, 10), (2, 5), (2, 10)]
    assert all(s["offset"] == 0.0 and s["greedy"] is True for s in settings)
    assert all(isinstance(s["learning_rate"], float) for s in settings)  # 1 -> 1.0: one key
    assert sw.expand_grid() == [{"n_slices": 8, "offset": 0.0, "greedy": True}]
    keys = [sw.setting_key(s) for s in settings]
    assert len(set(keys)) == 4 and keys[0].startswith("n1_off0_greedy_lr1_it5-")
    assert sw.setting_key({"learning_rate": 1.0}) == sw.setting_key({"learning_rate": 1.0})
    assert sw.expand_grid({"learning_rate": ["1e-3"]})[0]["learning_rate"] == 0.001  # YAML 1.1 text


@pytest.mark.parametrize(
    "grid, fixed, needle",
    [
        ({"bogus": [1]}, None, "'bogus' is unknown"),
        ({"n_slices": 4}, None, "'n_slices' has the value 4: allowed a list"),
        ({"n_slices": []}, None, "empty list"),
        ({"n_slices": [1, 1]}, None, "twice"),
        ({"n_slices": [1, 19]}, None, "n_slices=19 is out of range"),
        ({"learning_rate": [0.01, -1]}, None, "learning_rate=-1.0 is invalid"),
        ({"strategy": [3, 7]}, None, "strategy=7 is invalid"),
        ({"greedy": ["yes"]}, None, "'greedy': value 'yes' is invalid"),
        ({"offset": [-1]}, None, "grid key 'offset': value=-1.0 is invalid"),
        ({"iterations": [5]}, {"num_iterations": 5}, "both in the grid and in --set"),
        ({"n_points": [100]}, None, None),
    ],
)
def test_expand_grid_errors_name_the_key(grid, fixed, needle):
    if needle is None:
        with pytest.raises(ParameterError, match="not a notebook parameter"):
            sw.expand_grid(grid, notebooks=True)
        return
    with pytest.raises(ParameterError) as info:
        sw.expand_grid(grid, fixed=fixed)
    assert needle in str(info.value)


def test_parse_set():
    assert sw.parse_set(["iterations=50", "learning_rate=0.05", "greedy=false"]) == {
        "num_iterations": 50,
        "learning_rate": 0.05,
        "greedy": False,
    }
    for bad, needle in (
        ("iterations", "no '='"),
        ("lr=0.1", "'lr' is unknown"),
        ("n_slices=[1, 2]", "list"),
        ("strategy=9", "strategy=9"),
    ):
        with pytest.raises(ParameterError, match=needle):
            sw.parse_set([bad])


# ------------------------------------------------------------------ execution
def test_pool_and_dask_give_identical_tables(demo, tmp_path):
    from distributed import Client, LocalCluster

    grid = {"n_slices": [1, 2]}
    a = sw.run_sweep(
        str(demo / "*"),
        grid,
        fixed=FAST,
        out=tmp_path / "pool",
        workers=2,
        baselines=False,
        plots=False,
        **QUIET,
    )
    assert a.counts.to_json() == {"runs": 4, "ran": 4, "cached": 0, "failed": 0, "remaining": 0}, a.failures
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        b = sw.run_sweep(
            str(demo / "*"),
            grid,
            fixed=FAST,
            out=tmp_path / "dask",
            client=client,
            baselines=False,
            plots=False,
            **QUIET,
        )
    assert b.counts == a.counts
    _assert_same_table(a.table, b.table)
    _assert_same_table(read_table(a.table_file), read_table(b.table_file))
    # one row per track x setting x method (x k): progressive k=1..N, greedy, greedy_best
    assert len(a.table) == 2 * ((1 + 2) + (2 + 2))
    assert set(a.table["method"]) == {"progressive", "greedy", "greedy_best"}
    assert a.table["oracle"].tolist() == [True] * len(a.table) and set(a.table["kind"]) == {"method"}
    assert set(a.table["track"]) == {"demo_song_0", "demo_song_1"}
    # the CSV holds the floats exactly (and the column types)
    pd.testing.assert_frame_equal(read_table(a.table_file), a.table, check_exact=True)


def test_baselines_once_per_track_joined_to_every_setting(tiny_sweep):
    res = tiny_sweep
    assert res.counts.to_json() == {"runs": 2 * 2 + 2, "ran": 6, "cached": 0, "failed": 0, "remaining": 0}
    kinds = dict(BASELINES)
    base = [r for r in res.table.to_dict("records") if r["method"] in kinds]
    assert len(base) == 2 * 2 * len(kinds)  # tracks x settings x baselines
    for r in base:
        assert r["kind"] == kinds[r["method"]] and pd.isna(r["loss"]) and pd.isna(r["k"])
        assert r["oracle"] is (r["kind"] == "oracle")
        assert not pd.isna(r["si_sdr"])
    for track in ("demo_song_0", "demo_song_1"):  # the same numbers beside every setting
        by_setting = {}
        for r in base:
            if r["track"] == track:
                by_setting.setdefault(r["setting"], []).append((r["method"], r["si_sdr"]))
        assert len(by_setting) == 2 and len({tuple(v) for v in by_setting.values()}) == 1
    out = res.out
    for name in (
        "sweep.csv",
        "sweep_summary.csv",
        "sweep_summary.md",
        "sweep.json",
        "si_sdr_vs_n_slices.png",
        "greedy_vs_original.png",
    ):
        assert (out / name).is_file(), name
    assert not (out / "strategy_comparison.png").exists()
    assert any("strategy does not vary" in n for n in res.notes)
    md = (out / "sweep_summary.md").read_text()
    assert "ORACLE" in md and "oracle_irm" in md and "strategy does not vary" in md
    assert "blind: repet_sim, hpss, bandpass, learned)" in md  # every blind baseline of the registry
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["oracle"] is True and "ORACLE" in manifest["note"] and manifest["status"] == "complete"
    summary = read_table(out / "sweep_summary.csv")
    assert len(summary) == len(summarise(res.table))
    row = next(s for s in summary.to_dict("records") if s["method"] == "progressive" and s["k"] == 2)
    assert row["n_tracks"] == 2 and row["si_sdr_q25"] <= row["si_sdr_median"] <= row["si_sdr_q75"]
    head = headline(res.table).to_dict("records")
    assert len(res.summary) == len(summary)  # the summary the sweep computed once, as written
    pd.testing.assert_frame_equal(headline(res.table, summary=res.summary), headline(res.table))
    assert [h["n_slices"] for h in head] == [1, 2]
    assert all(not pd.isna(h["oracle_irm"]) and not pd.isna(h["progressive k=N"]) for h in head)


def test_failing_run_is_recorded_and_rerun_redoes_only_what_is_missing(demo, tmp_path, capsys):
    from conv2dsep_lib.sources.audio import write_wav
    from conv2dsep_lib.sources.song import synthesize_song

    tracks = tmp_path / "tracks"
    shutil.copytree(demo / "demo_song_0", tracks / "short")  # a 4.7 s excerpt
    song = synthesize_song(seed=1, duration=6.0)
    write_wav(tracks / "long" / "stereo_mixture.wav", song.mixture, song.sr)
    write_wav(tracks / "long" / "isolated_vocal.wav", song.vocal, song.sr)
    grid = tmp_path / "grid.yaml"
    grid.write_text("offset: [0.0, 1.0]   # 1.0 s + 4.7 s is past the end of 'short'\n")
    out = tmp_path / "out"
    args = [
        "sweep",
        "--tracks",
        str(tracks / "*"),
        "--grid",
        str(grid),
        "--out",
        str(out),
        "--set",
        "n_slices=1",
        "--set",
        "iterations=10",
        "--set",
        "greedy=false",
        "--no-bss",
        "--no-baselines",
        "--workers",
        "1",
        "--quiet",
    ]

    res = sw.run_sweep(
        str(tracks / "*"),
        grid,
        out=out,
        fixed=sw.parse_set(["n_slices=1", "iterations=10", "greedy=false"]),
        workers=1,
        baselines=False,
        **QUIET,
    )
    assert res.counts.to_json() == {"runs": 4, "ran": 3, "cached": 0, "failed": 1, "remaining": 0}
    (fail,) = res.failures
    assert fail.run.startswith("short/n1_off1_") and fail.type == "ParameterError"
    assert "too short" in fail.message
    record = json.loads(Path(fail.file).read_text())
    assert record["error"]["type"] == "ParameterError" and "Traceback" in record["error"]["traceback"]
    assert set(zip(res.table["track"], res.table["offset"])) == {("short", 0.0), ("long", 0.0), ("long", 1.0)}
    before = _results_mtimes(out)
    assert len(before) == 3

    # re-run with the failure still there (CLI): only the failed run is tried again
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and err[0].startswith("conv2dsep: run failed: short/n1_off1_") and "too short" in err[0]
    )
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["counts"] == {"runs": 4, "ran": 0, "cached": 3, "failed": 1, "remaining": 0}
    assert _results_mtimes(out) == before

    # fix the data (longer files for 'short'): its runs are redone (new identity), the others kept
    for name in ("stereo_mixture.wav", "isolated_vocal.wav"):
        shutil.copy(tracks / "long" / name, tracks / "short" / name)
    assert main(args) == 0
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["counts"] == {"runs": 4, "ran": 2, "cached": 2, "failed": 0, "remaining": 0}
    after = _results_mtimes(out)
    assert len(after) == 4
    assert all(after[p] == t for p, t in before.items() if "long" in p.parts)
    assert not list(out.rglob("failed.json"))
    table = read_table(out)
    assert len(set(zip(table["track"], table["offset"]))) == 4


def test_code_change_invalidates_and_results_are_keyed_by_the_code_that_ran(demo, tmp_path, monkeypatch):
    kw = dict(
        out=tmp_path / "out",
        fixed={**FAST, "greedy": False},
        names=["demo_song_0"],
        workers=1,
        baselines=False,
        plots=False,
        **QUIET,
    )
    assert sw.run_sweep(str(demo / "*"), {"n_slices": [1]}, **kw).counts.ran == 1
    assert sw.run_sweep(str(demo / "*"), {"n_slices": [1]}, **kw).counts.cached == 1
    edited = {"version": "0.1.0", "sources": "edited"}
    monkeypatch.setattr(sweep_plan, "code_version", lambda: dict(edited))
    monkeypatch.setattr(sweep_tasks, "code_version", lambda: dict(edited))
    res = sw.run_sweep(str(demo / "*"), {"n_slices": [1]}, **kw)
    assert (res.counts.ran, res.counts.cached, tuple(res.warnings)) == (1, 0, ())
    # a worker with other code (edited package, other version on a cluster): it runs, keys the
    # result with its own code, and the sweep warns; the planned key does not match it
    plan = sw.plan_sweep(str(demo / "*"), {"n_slices": [1]}, out=tmp_path / "other", names=["demo_song_0"])
    other = {"version": "0.0.9", "sources": "elsewhere"}
    task = replace(
        plan.tasks[-1], code=other, key=sweep_plan.cache_key({**plan.tasks[-1].key_payload, "code": other})
    )
    outcome = sw.run_one(task)
    assert outcome.status == "ok" and outcome.code_differs is True
    assert sw.finished_outcome(task) is None and sw.finished_outcome(plan.tasks[-1]) is not None


def test_keep_audio_writes_the_run_layout(demo, tmp_path):
    kw = dict(
        out=tmp_path / "out",
        fixed={**FAST, "greedy": False},
        names=["demo_song_1"],
        workers=1,
        baselines=False,
        plots=False,
        **QUIET,
    )
    sw.run_sweep(str(demo / "*"), {"n_slices": [1]}, **kw)
    res = sw.run_sweep(str(demo / "*"), {"n_slices": [1]}, keep_audio=True, **kw)
    assert res.counts.ran == 1  # finished, but without the audio asked for now
    (run_dir,) = (tmp_path / "out" / "runs" / "demo_song_1").iterdir()
    assert (run_dir / "output_progressive_1slices" / "1_slices" / "extracted_vocal.wav").is_file()
    assert sw.run_sweep(str(demo / "*"), {"n_slices": [1]}, **kw).counts.cached == 1


def test_interrupted_sweep_keeps_finished_runs_and_rerun_completes_the_rest(demo, tmp_path):
    grid = tmp_path / "grid.yaml"
    # 2 songs x 16 settings: work left after the first run for the interrupt to land mid-sweep
    # (the earlier failures read as "finished before the signal" were SIGINT inherited as
    # ignored, see the Popen below; the margin stays)
    grid.write_text("n_slices: [1, 2, 3, 4, 5, 6, 7, 8]\nlearning_rate: [0.01, 0.05]\n")
    total = 32
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "conv2dsep_lib",
        "sweep",
        "--tracks",
        str(demo / "*"),
        "--grid",
        str(grid),
        "--out",
        str(out),
        "--set",
        "iterations=20",
        "--set",
        "greedy=false",
        "--no-baselines",
        "--workers",
        "2",
    ]  # BSS: slow
    # Ctrl-C as a terminal's foreground job has it: SIGINT at its default.  (A test process
    # started as an asynchronous command of a non-interactive shell, e.g. `make test &` in a
    # script, ignores SIGINT, a child inherits that across exec and Python keeps it ignored: the
    # sweep would run to the end.)
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.monotonic()
    while not list((out / "runs").glob("*/*/results.json")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < 120
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "conv2dsep: interrupted:" in err and "Traceback" not in err
    assert not [p for p in out.rglob(".*")]  # no temporary files left
    table = read_table(out)
    finished = {p.parent for p in out.rglob("results.json")}
    assert 1 <= len(finished) < total
    listed = set(zip(table["track"], table["setting"]))
    assert listed <= {(p.parent.name, p.name) for p in finished}
    assert json.loads((out / "sweep.json").read_text())["status"] == "interrupted"

    res = sw.run_sweep(
        str(demo / "*"),
        grid,
        fixed=sw.parse_set(["iterations=20", "greedy=false"]),
        out=out,
        workers=1,
        baselines=False,
        plots=False,
        progress=False,
    )
    assert (res.counts.cached, res.counts.ran, res.counts.failed) == (len(finished), total - len(finished), 0)
    assert len(set(zip(res.table["track"], res.table["setting"]))) == total


# ------------------------------------------------------------------ command line
@pytest.mark.parametrize(
    "grid_text, needle",
    [
        ("bogus: [1]\n", "grid key 'bogus' is unknown"),
        ("n_slices: 4\n", "allowed a list"),
        ("n_slices: [1, 19]\n", "n_slices=19 is out of range"),
        ("learning_rate: [0.01, -1]\n", "learning_rate=-1.0 is invalid"),
        ("strategy: [3, 7]\n", "strategy=7"),
        ("greedy: [maybe]\n", "'greedy'"),
        ("- 1\n- 2\n", "allowed a mapping"),
        ("n_slices: [1, 2\n", "not valid YAML"),
    ],
)
def test_cli_grid_errors_exit_2_with_one_line(demo, tmp_path, capsys, grid_text, needle):
    grid = tmp_path / "grid.yaml"
    grid.write_text(grid_text)
    out = tmp_path / "out"
    code = main(
        ["sweep", "--tracks", str(demo / "*"), "--grid", str(grid), "--out", str(out), "--workers", "1"]
    )
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("conv2dsep: error:") and needle in lines[0], err
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--set", "lr=0.1"], "'lr' is unknown"),
        (["--set", "iterations"], "no '='"),
        (["--musdb", "/nonexistent"], "exactly one of --tracks"),
        (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers was given with --scheduler"),
        (["--track", "no_such_song"], "'no_such_song' is not in"),
        (["--notebooks", "--set", "n_points=100"], "not a notebook parameter"),
        (["--workers", "0"], "argument --workers: invalid value '0': allowed an integer >= 1"),
    ],
)
def test_cli_option_errors_exit_2_with_one_line(demo, tmp_path, capsys, extra, needle):
    out = tmp_path / "out"
    code = main(["sweep", "--tracks", str(demo / "*"), "--out", str(out)] + extra)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
    assert not out.exists()


def test_cli_tracks_pattern_matching_nothing(tmp_path, capsys):
    code = main(["sweep", "--tracks", str(tmp_path / "nothing" / "*"), "--out", str(tmp_path / "out")])
    assert code == 2 and "matches no folder" in capsys.readouterr().err


# ------------------------------------------------------------------ notebook
def test_notebook_06_executes_on_a_finished_sweep(tiny_sweep, tmp_path):
    import papermill as pm

    dest = tmp_path / "06.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "06_sweep_summary.ipynb"),
        str(dest),
        parameters={"sweep_dir": str(tiny_sweep.out), "interactive": False},
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    nb = json.loads(dest.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "ORACLE" in html and "oracle_irm" in html
    src = json.loads((ROOT / "notebooks" / "06_sweep_summary.ipynb").read_text())
    assert all(not c.get("outputs") for c in src["cells"] if c["cell_type"] == "code")  # stored clean
    assert src["cells"][1]["metadata"]["tags"] == ["parameters"]
    assert not any(
        line.lstrip().startswith(("def ", "class "))
        for c in src["cells"]
        for line in "".join(c["source"]).splitlines()
    )
