"""Real-song scale: the four measures of the scale issue, measured in one run.

    .venv/bin/python benchmarks/bench_scale.py [--skip-sweep] [--repeats 3]

1. ``conv2dsep best --slices 8`` on the demo clip (4.7 s), whole process (start-up, method,
   BSS Eval of every estimate, baselines, figures, files), against ``seed_style.py`` -- the
   seed's script as its write-up describes it, whole process -- on the same clip: ratio.
2. A 3-minute song (synthesised once, 44.1 kHz stereo, cached in ``$CONV2DSEP_CACHE``):
   ``conv2dsep progressive --slices 8`` with full evaluation and baselines computed (an
   empty baseline cache): wall time, peak resident memory of the process, and where the
   time goes (the run's own timings: its lanes' busy seconds per kind of work); the run
   after it on the same cache (the song's baselines' scores read, as every later run on the
   song does, like row 1's warm run); then the same with ``--no-baselines`` (the method and
   its full evaluation alone).
3. A realistic sweep on 1 and 2 workers (``bench_sweep.py``): ratio.
4. BSS Eval v4 against a real ``museval.evaluate`` call on 30 s of that song: the largest
   difference over every framewise value.

Timings are wall clock of separate processes on this machine, the best of ``--repeats``
(the song run: median); nothing is asserted -- the table says where each measure stands
against its target.  Every number the runs report is ORACLE (they use the true vocal).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from conv2dsep_lib.run.baselines import cache_dir  # noqa: E402
from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir  # noqa: E402

CLI = [sys.executable, "-m", "conv2dsep_lib"]
SONG_SECONDS = 180.0


def timed(cmd, *, env=None, cwd=None) -> tuple:
    """Run *cmd*; return (wall seconds, peak RSS in MiB of that process, from its own rusage)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{err.read().decode(errors='replace')}")
    return dt, usage.ru_maxrss / 1024


def fresh_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["CONV2DSEP_CACHE"] = str(tempfile.mkdtemp(prefix="cache_", dir=tmp))
    return env


def row_best(tmp: Path, repeats: int) -> dict:
    """Whole-process ``best --slices 8``: first on an empty baseline cache (cold: the first run on
    this excerpt computes its baselines, the learned model's torch start-up included), then
    again with the excerpt's baselines cached (warm: every later run on it)."""
    build_demo_set(ROOT / "data" / "demo")
    d = demo_song_dir(ROOT / "data" / "demo", 0)
    cold, warm = [], []
    for i in range(repeats):
        env = fresh_env(tmp)
        for label, times in (("cold", cold), ("warm", warm)):
            cmd = CLI + [
                "best",
                "--slices",
                "8",
                "--data-dir",
                str(d),
                "--out",
                str(tmp / f"best_{label}{i}"),
                "--quiet",
            ]
            times.append(timed(cmd, env=env, cwd=ROOT)[0])
    seed, _ = timed(
        [
            sys.executable,
            str(HERE / "seed_style.py"),
            str(d / "stereo_mixture.wav"),
            str(d / "isolated_vocal.wav"),
            str(tmp / "seed"),
        ],
        cwd=ROOT,
    )
    return {
        "ours": min(warm),
        "cold": min(cold),
        "seed": seed,
        "ratio": seed / min(warm),
        "ratio_cold": seed / min(cold),
    }


def song(tmp: Path) -> Path:
    """The 3-minute synthetic song (44.1 kHz stereo WAVs), made once and kept in the cache."""
    from conv2dsep_lib.sources.song import synthesize_song, write_song

    folder = cache_dir() / "bench" / f"song_{int(SONG_SECONDS)}s_seed7"
    if not (folder / "stereo_mixture.wav").exists():
        print(f"  synthesising a {SONG_SECONDS:.0f} s song into {folder} (once) ...", flush=True)
        write_song(synthesize_song(seed=7, duration=SONG_SECONDS), folder)
    return folder


def _song_run(folder: Path, out: Path, env: dict, *, baselines: bool) -> tuple:
    wall, rss = timed(
        CLI
        + [
            "progressive",
            "--slices",
            "8",
            "--mixture",
            str(folder / "stereo_mixture.wav"),
            "--vocal",
            str(folder / "isolated_vocal.wav"),
            "--duration",
            str(SONG_SECONDS),
            "--out",
            str(out),
            "--quiet",
        ]
        + ([] if baselines else ["--no-baselines"]),
        env=env,
        cwd=ROOT,
    )
    (folder_written,) = out.glob("output_progressive_8slices*")  # tagged: --duration is not the seed's
    return wall, rss, json.loads((folder_written / "results.json").read_text())["timings"]


def _summary(runs: list) -> dict:
    runs = sorted(runs, key=lambda r: r[0])
    wall, _rss, timings = runs[len(runs) // 2]
    return {"wall": wall, "rss": max(r[1] for r in runs), "timings": timings, "walls": [r[0] for r in runs]}


def _described(row: dict) -> str:
    """``wall ... s (median of ...), peak RSS ... MiB`` of a :func:`_summary`."""
    walls = ", ".join(f"{w:.2f}" for w in row["walls"])
    return f"wall {row['wall']:.2f} s (median of {walls}), peak RSS {row['rss']:.0f} MiB"


def row_song(tmp: Path, repeats: int, *, baselines: bool = True) -> dict:
    """The song run, *repeats* times, each on an empty baseline cache (cold: the first run on
    this song computes its baselines, the learned model's torch start-up included) and then,
    with ``baselines=True``, again on the cache that run filled (warm: every later run on the
    song reads the baselines' scores, as the ``best`` row's warm run does).
    ``baselines=False``: ``--no-baselines``, the method with its full evaluation alone.
    Returns ``{"cold": ..., "warm": ...}`` (``warm`` only with the baselines)."""
    folder = song(tmp)
    cold, warm = [], []
    for i in range(repeats):
        env = fresh_env(tmp)
        tag = "" if baselines else "_nobaselines"
        cold.append(_song_run(folder, tmp / f"song{i}{tag}", env, baselines=baselines))
        if baselines:
            warm.append(_song_run(folder, tmp / f"song{i}_warm", env, baselines=True))
    return {"cold": _summary(cold), "warm": _summary(warm) if warm else None}


def row_sweep(tmp: Path) -> dict:
    sys.path.insert(0, str(HERE))
    import bench_sweep

    return bench_sweep.measure_realistic(tmp)


MUSEVAL = textwrap.dedent(
    """
    import sys
    import numpy as np
    import museval
    import museval.metrics

    data = np.load(sys.argv[1])
    out = {}
    sdr, isr, sir, sar = museval.evaluate(data["ref"], data["est"], win=int(data["win"]),
                                          hop=int(data["win"]), mode="v4")
    out.update(sdr=sdr, isr=isr, sir=sir, sar=sar)

    class NumpyFFT:  # museval's arithmetic with numpy's FFT in place of scipy.fftpack's
        fft = staticmethod(lambda x, n=None, axis=-1: np.fft.fft(x, n=n, axis=axis))
        ifft = staticmethod(lambda x, n=None, axis=-1: np.fft.ifft(x, n=n, axis=axis))

    museval.metrics.scipy.fftpack = NumpyFFT
    sdr, isr, sir, sar = museval.evaluate(data["ref"], data["est"], win=int(data["win"]),
                                          hop=int(data["win"]), mode="v4")
    out.update(np_sdr=sdr, np_isr=isr, np_sir=sir, np_sar=sar)
    np.savez(sys.argv[2], **out)
    """
)


def museval_env(tmp: Path) -> dict:
    """museval imports stempeg, which only checks that ffmpeg/ffprobe exist: stand-ins if absent.
    museval on one BLAS thread: LAPACK's parallel LU rounds differently with the thread count
    (museval's numbers move by ~5e-5 dB on music between 1 and 2 threads); ours use one."""
    import shutil
    import stat

    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return env
    bindir = tmp / "fake-ffmpeg-bin"
    bindir.mkdir(exist_ok=True)
    for tool in ("ffmpeg", "ffprobe"):
        path = bindir / tool
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    return env


def row_museval(tmp: Path) -> dict:
    from conv2dsep_lib.scoring.metrics import bss_eval_v4
    from conv2dsep_lib.sources.audio import load_pair

    folder = song(tmp)
    sr = 22050
    pair = load_pair(
        folder / "stereo_mixture.wav", folder / "isolated_vocal.wav", sr=sr, duration=30.0, offset=60.0
    )
    vocal, acc = pair.vocal.astype(np.float64), (pair.mixture - pair.vocal).astype(np.float64)
    rng = np.random.default_rng(0)
    est_v = vocal + 0.3 * acc + 0.01 * rng.standard_normal(len(vocal))
    refs = np.stack([vocal, acc])[:, :, None]
    ests = np.stack([est_v, vocal + acc - est_v])[:, :, None]
    infile, outfile = tmp / "museval_in.npz", tmp / "museval_out.npz"
    np.savez(infile, ref=refs, est=ests, win=np.array(sr))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MUSEVAL, str(infile), str(outfile)],
        env=museval_env(tmp),
        capture_output=True,
        text=True,
    )
    t_museval = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit("museval.evaluate failed:\n" + proc.stderr)
    want = np.load(outfile)
    t0 = time.perf_counter()
    got = bss_eval_v4(refs, ests, sr=sr)
    t_ours = time.perf_counter() - t0
    diff, own, n = 0.0, 0.0, 0
    for key in ("sdr", "isr", "sir", "sar"):
        a, b, c = got[key], want[key], want["np_" + key]
        ok = np.isfinite(a) & np.isfinite(b)
        assert np.array_equal(np.isfinite(a), np.isfinite(b)), key
        diff = max(diff, float(np.max(np.abs(a[ok] - b[ok]))))
        own = max(own, float(np.max(np.abs(c[ok] - b[ok]))))
        n += int(ok.sum())
    return {
        "max_diff": diff,
        "museval_spread": own,
        "values": n,
        "museval_s": t_museval / 2,
        "ours_s": t_ours,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-sweep", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp_name:
        tmp = Path(tmp_name)
        print(
            "1. best --slices 8, whole process, vs the seed-style script (demo clip, 4.7 s) ...", flush=True
        )
        best = row_best(tmp, args.repeats)
        print(
            f"   conv2dsep {best['ours']:.2f} s with the excerpt's baselines cached, {best['cold']:.2f} s on an "
            f"empty cache (best of {args.repeats} each), seed-style {best['seed']:.2f} s",
            flush=True,
        )
        print(
            f"2. a {SONG_SECONDS / 60:.0f}-minute song, progressive 8, full evaluation + baselines ...",
            flush=True,
        )
        song_rows = row_song(tmp, args.repeats)
        long, warm = song_rows["cold"], song_rows["warm"]
        t = long["timings"]
        busy = {k[5:]: v for k, v in t.items() if k.startswith("busy.")}
        print(
            f"   first run (empty cache): {_described(long)}",
            flush=True,
        )
        inside = t["stft"] + t["progressive"] + t.get("evaluation", 0.0)
        print(
            f"   wall: start-up, reading, resampling {long['wall'] - inside - 0.0:.2f} s in all outside the run "
            f"(with figures and files); in the run: STFT {t['stft']:.2f} s, method lane {t['progressive']:.2f} s, "
            f"evaluation after it {t.get('evaluation', 0.0):.2f} s",
            flush=True,
        )
        total = sum(busy.values())
        print(
            "   busy seconds over both lanes: "
            + ", ".join(
                f"{k} {v:.2f} ({100 * v / total:.0f} %)"
                for k, v in sorted(busy.items(), key=lambda kv: -kv[1])
            ),
            flush=True,
        )
        print(
            f"   every later run on the song (its baselines' scores cached by the first): {_described(warm)}",
            flush=True,
        )
        bare = row_song(tmp, args.repeats, baselines=False)["cold"]
        print(
            f"   the same without its baselines (--no-baselines: the method, its yardstick, every estimate "
            f"scored with BSS Eval): {_described(bare)}",
            flush=True,
        )
        sweep = None
        if not args.skip_sweep:
            print("3. a realistic sweep on 1 and 2 workers ...", flush=True)
            sweep = row_sweep(tmp)
        print("4. BSS Eval v4 vs museval.evaluate, 30 s of the song ...", flush=True)
        bss = row_museval(tmp)
        print(
            f"   {bss['values']} framewise values, museval {bss['museval_s']:.2f} s, ours {bss['ours_s']:.2f} s",
            flush=True,
        )

    print("\n| measure | result | target |")
    print("|---|---|---|")
    print(
        f"| `best --slices 8`, whole process, vs seed-style script | {best['ratio']:.1f}x "
        f"({best['ours']:.2f} s vs {best['seed']:.1f} s) with the excerpt's baselines cached; "
        f"{best['ratio_cold']:.1f}x ({best['cold']:.2f} s) on the first run (empty cache) | >= 10x |"
    )
    print(
        f"| 3-min song, progressive 8, full evaluation + baselines | {warm['wall']:.1f} s, "
        f"{warm['rss']:.0f} MiB with the song's baselines cached; {long['wall']:.1f} s, {long['rss']:.0f} MiB "
        f"on the first run (empty cache); without the baselines (`--no-baselines`) {bare['wall']:.1f} s, "
        f"{bare['rss']:.0f} MiB | <= 10 s, <= 1024 MiB |"
    )
    if sweep is not None:
        print(
            f"| sweep ({sweep['label']}), 2 workers vs 1 | {sweep['ratio']:.2f}x "
            f"({sweep['one']:.1f} s vs {sweep['two']:.1f} s); this machine's ceiling for two "
            f"independent runs at once: {sweep['ceiling']:.2f}x | >= 1.8x |"
        )
    print(
        f"| BSS Eval vs `museval.evaluate` (30 s of the song) | max {bss['max_diff']:.1e} dB over {bss['values']} "
        f"values; museval vs itself with numpy's FFT: {bss['museval_spread']:.1e} dB | <= 1e-6 dB |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
