"""Blind mode: the shipped model's held-out table, its real-time factor and memory (one run).

    .venv/bin/python benchmarks/report_learned.py [--model PATH] [--n 12] [--seeds 0,1,2] [--skip-rtf]

1. Held-out material no training run saw (``split="heldout"``: unseen synthetic songs; an
   unseen speaker and instrumental, sung and mixed the same way): SI-SDR of the learned model
   (BLIND) beside the blind baselines (band-pass, REPET-SIM, HPSS), the floor and the oracles
   (ideal ratio mask, the fingerprint method with the true vocal), the median over each draw's
   excerpts, the mean over draws with the spread; the margin over the best blind baseline.
2. ``conv2dsep separate`` on a 3-minute song in a separate process: the real-time factor it
   prints and the process's peak resident memory (``getrusage``).

Targets (the issue's): >= 2 dB above the best blind baseline on both kinds of held-out
material; real-time factor <= 0.05 on 2 CPU cores; a 3-minute song within 1 GiB.  Nothing is
asserted: the table says where each stands.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conv2dsep_lib.learned import SHIPPED_MODEL  # noqa: E402
from conv2dsep_lib.run.heldout import evaluate_heldout, heldout_markdown  # noqa: E402


def _song(path: Path, seconds: float = 180.0) -> Path:
    """A 3-minute song (the demo synthesiser, 44.1 kHz stereo), written once."""
    if not path.is_file():
        import soundfile as sf

        from conv2dsep_lib.sources.song import synthesize_song

        song = synthesize_song(seed=7, duration=seconds)
        sf.write(path, song.mixture.T, song.sr, subtype="FLOAT")
    return path


def rtf(model: Path) -> dict:
    tmp = Path(tempfile.gettempdir()) / "conv2dsep_bench"
    tmp.mkdir(exist_ok=True)
    song = _song(tmp / "song_180s.wav")
    code = (
        "import resource, sys; from conv2dsep_lib.cli import main; "
        f"rc = main(['separate', '--mixture', {str(song)!r}, '--model', {str(model)!r}, '--out', "
        f"{str(tmp / 'sep')!r}, '--device', 'cpu', '--no-plots']); "
        "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)"
    )
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    meta = json.loads((tmp / "sep" / "separation.json").read_text())
    rss = int(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("RSS")))
    return {"rtf": meta["real_time_factor"], "seconds": meta["seconds"], "wall": wall, "rss_mib": rss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    ap.add_argument("--n", type=int, default=12, help="excerpts per draw and kind")
    ap.add_argument("--seeds", default="0,1,2", help="one draw per seed")
    ap.add_argument("--skip-rtf", action="store_true")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.perf_counter()
    rows = evaluate_heldout(args.model, n=args.n, seeds=seeds)
    print(
        f"Held-out SI-SDR (dB), {args.n} excerpts of 4.7 s per draw and kind, draws {seeds}, model {args.model}"
    )
    print(
        "(learned and the band-pass / REPET-SIM / HPSS are BLIND; oracle_irm and conv2d_fingerprint use the true vocal)\n"
    )
    print(heldout_markdown(rows))
    print(f"({time.perf_counter() - t0:.0f} s)\n")
    if not args.skip_rtf:
        r = rtf(args.model)
        print("| measure | result | target |\n|---|---|---|")
        print(
            f"| real-time factor, 3-min song, 2 CPU cores | {r['rtf']:.4f} ({r['seconds']:.1f} s) | <= 0.05 |"
        )
        print(f"| peak RSS of `conv2dsep separate` on it | {r['rss_mib']:.0f} MiB | <= 1024 MiB |")
        print(f"| whole process, wall clock | {r['wall']:.1f} s | |")


if __name__ == "__main__":
    main()
