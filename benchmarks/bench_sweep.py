"""Sweep throughput: the same grid on the demo set with 1 and 2 local workers (and Dask).

    .venv/bin/python benchmarks/bench_sweep.py [--workers 1 2] [--dask] [--no-bss]

Builds the demo set (3 songs, data/demo/, reused when present), sweeps a small grid
(n_slices [4, 8] x learning_rate [0.01, 0.05], the seed's 100 iterations, greedy on,
baselines on, BSS Eval on unless --no-bss) into fresh temporary folders -- nothing is
cached -- and prints runs per second and the speed-up over one worker.  Wall times
include starting the workers (each spawned process imports numpy, scipy, librosa,
museval: a few seconds) and writing the table, so short sweeps (--no-bss: ~0.2 s per
run) understate the steady-state speed-up or even show a slow-down.  One worker runs
in this process with one BLAS thread, as every pool worker does.
ORACLE: every run of the method uses the true vocal.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conv2dsep_lib.sources.demo_set import build_demo_set  # noqa: E402
from conv2dsep_lib.sources.layout import DEFAULT_DEMO_ROOT  # noqa: E402
from conv2dsep_lib.sweep import run_sweep  # noqa: E402

GRID = {"n_slices": [4, 8], "learning_rate": [0.01, 0.05]}


def one(label: str, tracks: str, *, bss: bool, **backend) -> float:
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        t0 = time.perf_counter()
        res = run_sweep(
            tracks, GRID, out=Path(tmp) / "sweep", bss=bss, progress=False, plots=False, **backend
        )
        dt = time.perf_counter() - t0
    c = res.counts
    assert c.failed == 0 and c.cached == 0, c
    print(f"{label:<22} {c.runs:>4} runs  {dt:7.2f} s  {c.runs / dt:6.2f} runs/s", flush=True)
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--dask", action="store_true", help="also a local Dask cluster with the largest worker count"
    )
    ap.add_argument("--no-bss", action="store_true", help="SI-SDR only (about 10x faster runs)")
    args = ap.parse_args()
    args.bss = not args.no_bss
    os.chdir(ROOT)
    result = build_demo_set(DEFAULT_DEMO_ROOT, seeds=(0, 1, 2))
    assert not result.skipped, [r.reason for r in result.skipped]
    tracks = str(DEFAULT_DEMO_ROOT / "rtg" / "100-window" / "demo_song_*")
    n_settings = len(GRID["n_slices"]) * len(GRID["learning_rate"])
    print(
        f"ORACLE sweep benchmark: 3 demo songs x {n_settings} settings ({GRID}) + 3 baseline runs, "
        f"BSS Eval {'on' if args.bss else 'off'}; {os.cpu_count()} cores"
    )
    run_sweep(
        tracks,
        {"n_slices": [1]},
        fixed={"num_iterations": 2},
        names=["demo_song_0"],
        out=Path(tempfile.mkdtemp(prefix="bench_warm_")),
        bss=False,
        baselines=False,
        progress=False,
        plots=False,
    )  # imports and caches warmed in this process
    times = {}
    for w in args.workers:
        times[w] = one(f"local, {w} worker{'s' if w > 1 else ''}", tracks, bss=args.bss, workers=w)
    if args.dask:
        w = max(args.workers)
        times[f"dask{w}"] = one(f"dask-local, {w} workers", tracks, bss=args.bss, workers=w, dask_local=True)
    base = times.get(1)
    if base:
        for k, dt in times.items():
            if k != 1:
                print(f"speed-up {k} vs 1 worker: {base / dt:.2f}x")


if __name__ == "__main__":
    main()
