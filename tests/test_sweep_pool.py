"""The local pool: the per-process pair cache, the workers taking the runs in order (same numbers
as one process), and the ETA of the progress bar (prepared tracks and MUSDB)."""

import json
import os
import re
import time

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import _voice_and_band

from conv2dsep_lib import sweep as sw
from conv2dsep_lib.cli import main
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.sweep import tasks as sweep_tasks
from conv2dsep_lib.sweep.tasks import PairCache, load_pair, pair_key

FAST = {"num_iterations": 10}
ETA = re.compile(r"eta (\d+:)?\d\d:\d\d, \d+\.\d\d run/s")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Two prepared demo songs (4.7 s excerpts of 5-s songs)."""
    from conv2dsep_lib.sources.demo_set import build_demo_set

    root = tmp_path_factory.mktemp("pooldata") / "demo"
    assert not build_demo_set(root, seeds=(0, 1), duration=5.0).skipped
    return root / "rtg" / "100-window"


@pytest.fixture
def long_track(tmp_path):
    """One 8-s prepared-layout track (room for other offsets and lengths)."""
    folder = tmp_path / "tracks" / "song"
    folder.mkdir(parents=True)
    voice, band = _voice_and_band(22050, 8 * 22050, 3)
    sf.write(folder / "stereo_mixture.wav", voice + band, 22050, subtype="FLOAT")
    sf.write(folder / "isolated_vocal.wav", voice, 22050, subtype="FLOAT")
    return folder


def _tasks(track_dir, out, *, baselines=False, **grid):
    plan = sw.plan_sweep(str(track_dir), grid or {"n_slices": [1]}, out=out, baselines=baselines)
    return list(plan.tasks)


def _config(task):
    return Config.from_dict({k: v for k, v in task.config.items() if k != "offset"})


# ------------------------------------------------------------------ pair cache
def test_pair_cache_hits_on_second_use_and_hands_out_read_only_arrays(long_track, tmp_path):
    cache = PairCache()
    base, a, b = _tasks(long_track, tmp_path / "o", baselines=True, n_slices=[1, 2])  # one excerpt
    assert base.kind == "baselines"
    assert pair_key(a, _config(a)) == pair_key(b, _config(b)) == pair_key(base, _config(base))
    first = load_pair(a, _config(a), cache=cache)
    second = load_pair(b, _config(b), cache=cache)
    assert (cache.misses, cache.hits, len(cache)) == (1, 1, 1)
    assert np.shares_memory(first.mixture, second.mixture)  # not read again
    assert not second.mixture.flags.writeable and not second.vocal.flags.writeable
    with pytest.raises(ValueError):
        second.vocal[0] = 1.0  # a run cannot change the next run's input
    second.source["offset"] = 99.0  # each caller's own record of where it came from
    assert load_pair(a, _config(a), cache=cache).source["offset"] == 0.0
    fresh = sw.plan.open_source(a.track.source, _config(a)).load(a.track.name, offset=0.0)
    np.testing.assert_array_equal(second.mixture, fresh.mixture)
    assert first.source == fresh.source and second.sr == fresh.sr


def test_pair_cache_key_holds_offset_duration_rate_and_the_files(long_track, tmp_path):
    cache = PairCache()
    (t0,) = _tasks(long_track, tmp_path / "a", offset=[0.0])
    (t1,) = _tasks(long_track, tmp_path / "b", offset=[1.0])
    (t2,) = _tasks(long_track, tmp_path / "c", duration=[3.0])
    (t3,) = _tasks(long_track, tmp_path / "d", sr=[16000])
    pairs = [load_pair(t, _config(t), cache=cache) for t in (t0, t1, t2, t3)]
    assert cache.misses == 4 and cache.hits == 0 and len({pair_key(t, _config(t)) for t in (t0, t1, t2)}) == 3
    for t, p in zip((t0, t1, t2, t3), pairs):  # no stale excerpt: each as a fresh load gives it
        cfg = _config(t)
        fresh = sw.plan.open_source(t.track.source, cfg).load(t.track.name, offset=t.settings["offset"])
        np.testing.assert_array_equal(p.mixture, fresh.mixture)
        np.testing.assert_array_equal(p.vocal, fresh.vocal)
        assert p.mixture.size == cfg.n_samples and p.sr == cfg.sr
    assert not np.array_equal(pairs[0].mixture[:1000], pairs[1].mixture[:1000])
    # the file changes: a new plan has a new identity, so the old excerpt is not used
    time.sleep(0.01)
    voice, band = _voice_and_band(22050, 8 * 22050, 4)
    sf.write(long_track / "stereo_mixture.wav", voice + band, 22050, subtype="FLOAT")
    (t4,) = _tasks(long_track, tmp_path / "e", offset=[0.0])
    assert pair_key(t4, _config(t4)) != pair_key(t0, _config(t0))
    p4 = load_pair(t4, _config(t4), cache=cache)
    assert cache.misses == 5 and not np.array_equal(p4.mixture, pairs[0].mixture)


def test_pair_cache_is_bounded():
    def pair(n):
        y = np.full(n, 0.1, dtype=np.float32)
        return sweep_tasks.AudioPair(mixture=y, vocal=y.copy(), sr=22050, source={"n": n})

    cache = PairCache(max_items=2, max_bytes=10_000)
    for key in ("a", "b", "c"):
        cache.get(key, lambda: pair(100))
    assert len(cache) == 2 and cache.misses == 3
    cache.get("b", lambda: pair(100))  # kept
    cache.get("a", lambda: pair(100))  # dropped first (least recently used)
    assert (cache.hits, cache.misses) == (1, 4)
    cache.get("big", lambda: pair(5_000))  # 40 kB: handed out, not kept
    assert "big" not in cache._pairs and cache.nbytes <= 10_000
    cache.clear()
    assert len(cache) == 0 and cache.hits == cache.misses == 0


# ------------------------------------------------------------------ pool
def test_two_workers_give_the_numbers_of_one(demo, tmp_path):
    """The pool's workers (one thread each) give the table of one process (two threads)."""
    grid = {"n_slices": [1, 2]}
    kw = dict(fixed=FAST, plots=False, progress=False, bss=False)
    one = sw.run_sweep(str(demo / "*"), grid, out=tmp_path / "one", workers=1, **kw)
    two = sw.run_sweep(str(demo / "*"), grid, out=tmp_path / "two", workers=2, **kw)
    assert (
        two.counts.to_json()
        == one.counts.to_json()
        == {
            "runs": 6,
            "ran": 6,
            "cached": 0,
            "failed": 0,
            "remaining": 0,
        }
    )
    pids = {json.loads(p.read_text())["sweep"]["pid"] for p in (tmp_path / "two").rglob("results.json")}
    assert pids and os.getpid() not in pids  # ran in the workers
    assert len(one.table) > 0 and list(one.table.columns) == list(two.table.columns)
    pd.testing.assert_frame_equal(
        one.table.drop(columns="seconds"), two.table.drop(columns="seconds"), check_exact=True
    )


def test_pool_workers_take_the_runs_in_the_order_given(demo, tmp_path):
    """Runs start in the order given (the driver's: longest first, one excerpt at a time): with
    one worker they finish in that order, as in this process; with two, every run runs once.
    Which worker takes which run is the pool's (the one that is idle when the driver submits
    it); the choice the driver makes for a finishing worker is tested in test_sweep_schedule."""
    from conv2dsep_lib.sweep.executors import _iter_pool, iter_local
    from conv2dsep_lib.sweep.schedule import order_tasks

    plan = sw.plan_sweep(str(demo / "*"), {"n_slices": [1, 2, 3]}, fixed=FAST, out=tmp_path, bss=False)
    tasks = list(reversed(order_tasks(plan.tasks)))
    assert [o.id for o in iter_local(tasks, 1)] == [t.id for t in tasks]
    assert [o.id for o in _iter_pool(tasks, 1)] == [t.id for t in tasks]
    outcomes = list(_iter_pool(tasks, 2))
    assert sorted(o.id for o in outcomes) == sorted(t.id for t in tasks)
    assert all(o.status == "ok" for o in outcomes), [o for o in outcomes if o.status != "ok"]


# ------------------------------------------------------------------ ETA
def test_progress_bar_shows_the_eta_and_rate(demo, tmp_path, capsys):
    sw.run_sweep(
        str(demo / "*"),
        {"n_slices": [1, 2]},
        fixed=FAST,
        out=tmp_path / "out",
        workers=1,
        bss=False,
        baselines=False,
        plots=False,
        progress=True,
    )
    err = capsys.readouterr().err
    assert ETA.search(err), err
    assert "done=4, failed=0, cached=0, remaining=0" in err


@pytest.fixture
def musdb_root(tmp_path):
    """A MUSDB18-HQ root with one 5.2-s test track."""
    folder = tmp_path / "musdb18hq" / "test" / "Alpha - One"
    folder.mkdir(parents=True)
    n = int(44100 * 5.2)
    voice, band = _voice_and_band(44100, n, 0)
    stereo = lambda x: np.stack([x, 0.9 * x], 1).astype(np.float32)  # noqa: E731
    stems = {
        "vocals": stereo(voice),
        "drums": stereo(band),
        "bass": stereo(0 * band),
        "other": stereo(0 * band),
    }
    stems["mixture"] = sum(stems.values())
    for name, y in stems.items():
        sf.write(folder / f"{name}.wav", y, 44100, subtype="FLOAT")
    (tmp_path / "musdb18hq" / "train").mkdir()
    return tmp_path / "musdb18hq"


def test_musdb_sweep_shows_the_eta(musdb_root, tmp_path, capsys):
    args = [
        "sweep",
        "--musdb",
        str(musdb_root),
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "1",
        "--progress",
    ]
    args += ["--set", "n_slices=1", "--set", "iterations=5", "--set", "greedy=false", "--no-bss"]
    assert main(args + ["--no-baselines"]) == 0
    err = capsys.readouterr().err
    assert ETA.search(err), err
