"""Benchmark: `best --slices 8` against a loop-for-loop reference of the seed's code.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_best.py``).

1. The whole ``best --slices 8`` computation (progressive 1..8 + greedy order, the
   fingerprint losses; no metrics, no file I/O) on the demo song, two ways in the
   same process:

   * **reference** -- the seed's snippet loop for loop: per window, per iteration,
     ``amplitude_to_db`` inside the loop, ``np.interp`` per window, progressive test
     k re-running slices 1..k from the mixture, and the greedy search re-running
     every prefix from the mixture for every candidate;
   * **conv2dsep** -- :func:`run_progressive` + :func:`run_greedy` (vectorised over
     windows and iterations, prefix states reused, vocal fingerprints cached).

   Prints both times, the ratio, and the largest loss difference (must be < 1e-6).

2. Time and peak memory of progressive 8 slices on a 3-minute clip processed as one
   long spectrogram.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import librosa
import numpy as np

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.method.experiments import TargetFingerprints, run_greedy, run_progressive
from conv2dsep_lib.sources.audio import load_pair
from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir
from conv2dsep_lib.sources.song import synthesize_song

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_reference import reference_best  # noqa: E402


def fast_best(mix_mag, vocal_mag, n_slices, cfg):
    targets = TargetFingerprints(vocal_mag, config=cfg)
    steps = run_progressive(mix_mag, targets, n_slices=n_slices, config=cfg)
    g = run_greedy(mix_mag, targets, n_slices=n_slices, config=cfg)
    return [s.loss for s in steps], list(g.sequence), g.losses


def magnitudes(mixture, vocal, cfg):
    kw = dict(n_fft=cfg.n_fft, hop_length=cfg.hop_length, center=True)
    return (
        np.abs(librosa.stft(mixture, **kw)).astype(np.float64),
        np.abs(librosa.stft(vocal, **kw)).astype(np.float64),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--long-seconds", type=float, default=180.0)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the fast run (best time)")
    args = parser.parse_args(argv)
    cfg = Config()
    build_demo_set("data/demo")
    d = demo_song_dir("data/demo", 0)
    pair = load_pair(d / "stereo_mixture.wav", d / "isolated_vocal.wav", sr=cfg.sr, duration=cfg.duration)
    mix_mag, voc_mag = magnitudes(pair.mixture, pair.vocal, cfg)
    print(
        f"best --slices {args.slices} on the demo song: {mix_mag.shape[0]} bins x {mix_mag.shape[1]} windows"
    )

    fast_times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        f_prog, f_order, f_greedy = fast_best(mix_mag, voc_mag, args.slices, cfg)
        fast_times.append(time.perf_counter() - t0)
    t_fast = min(fast_times)
    t0 = time.perf_counter()
    r_prog, r_order, r_greedy = reference_best(mix_mag, voc_mag, args.slices, cfg)
    t_ref = time.perf_counter() - t0

    diff_prog = max(abs(a - b) for a, b in zip(f_prog, r_prog[-1]))
    diff_prog_k = max(abs(f_prog[k - 1] - r_prog[k - 1][-1]) for k in range(1, args.slices + 1))
    diff_greedy = max(abs(a - b) for a, b in zip(f_greedy, r_greedy))
    same_order = f_order == r_order
    print(f"  reference (seed loop for loop): {t_ref:9.3f} s")
    print(f"  conv2dsep (vectorised):         {t_fast:9.3f} s   (best of {args.repeats})")
    print(f"  speed-up ratio:                 {t_ref / t_fast:9.1f} x")
    print(
        f"  max |loss difference|: progressive {max(diff_prog, diff_prog_k):.2e}, greedy {diff_greedy:.2e}; "
        f"greedy order identical: {same_order}"
    )
    print(f"  losses k=1..{args.slices}: " + ", ".join(f"{x:.6f}" for x in f_prog))
    print(f"  greedy order {f_order}: final loss {f_greedy[-1]:.6f}")
    ok = max(diff_prog, diff_prog_k, diff_greedy) < 1e-6 and same_order

    # ----------------------------------------------------------- long clip
    n = int(args.long_seconds * cfg.sr)
    song = synthesize_song(seed=1, sr=cfg.sr, duration=args.long_seconds)
    mixture = song.mixture.mean(axis=0)[:n]
    vocal = song.vocal.mean(axis=0)[:n]
    tracemalloc.start()
    t0 = time.perf_counter()
    mix_mag, voc_mag = magnitudes(mixture, vocal, cfg)
    targets = TargetFingerprints(voc_mag, config=cfg)
    steps = run_progressive(mix_mag, targets, n_slices=args.slices, config=cfg)
    t_long = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"\nprogressive {args.slices} slices on a {args.long_seconds:.0f} s clip as one spectrogram "
        f"({mix_mag.shape[0]} x {mix_mag.shape[1]}):"
    )
    print(
        f"  time {t_long:.2f} s, peak traced memory {peak / 2**20:.0f} MiB, final loss {steps[-1].loss:.6f}"
    )
    if not ok:
        print("FAILED: the fast and reference losses differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
