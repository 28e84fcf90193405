"""A seed-style ``best.py --slices 8`` run, whole process: the reference for bench_scale.py.

    .venv/bin/python benchmarks/seed_style.py MIXTURE VOCAL OUT

What the seed's script does, as its write-up describes it: ``librosa.load`` of the pair
(22050 Hz, mono, 4.7 s), the loop-for-loop computation of :mod:`seed_reference`
(progressive 1..8 re-running every prefix, greedy re-running every candidate prefix), and
its outputs -- each k's extracted vocal with the mixture's phase, the mixture and the
target, and its three figures (loss progression, final losses, spectrograms).  No metrics
and no baselines: the seed had none.
"""

from __future__ import annotations

import sys
from pathlib import Path

import librosa
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seed_reference import reference_best  # noqa: E402

from conv2dsep_lib.core.config import Config  # noqa: E402


def main(argv) -> int:
    mixture_path, vocal_path, out = argv[1], argv[2], Path(argv[3])
    cfg = Config()
    n_slices = 8
    mixture, _ = librosa.load(mixture_path, sr=cfg.sr, duration=cfg.duration)
    vocal, _ = librosa.load(vocal_path, sr=cfg.sr, duration=cfg.duration)
    X = librosa.stft(mixture, n_fft=cfg.n_fft, hop_length=cfg.hop_length)
    V = librosa.stft(vocal, n_fft=cfg.n_fft, hop_length=cfg.hop_length)
    mix_mag, voc_mag = np.abs(X).astype(np.float64), np.abs(V).astype(np.float64)
    keep = {}
    progressive, order, greedy_losses = reference_best(mix_mag, voc_mag, n_slices, cfg, keep=keep)
    phase = np.exp(1j * np.angle(X))
    root = out / f"output_progressive_{n_slices}slices"
    for k in range(1, n_slices + 1):
        folder = root / f"{k}_slices"
        folder.mkdir(parents=True, exist_ok=True)
        y = librosa.istft(keep[k] * phase, hop_length=cfg.hop_length, length=len(mixture))
        sf.write(folder / "extracted_vocal.wav", y, cfg.sr)
        if k == 1:
            sf.write(folder / "1_original_mixture.wav", mixture, cfg.sr)
            sf.write(folder / "2_target_vocal.wav", vocal, cfg.sr)
    folder = root / "greedy"
    folder.mkdir(parents=True, exist_ok=True)
    y = librosa.istft(keep["greedy"] * phase, hop_length=cfg.hop_length, length=len(mixture))
    sf.write(folder / "extracted_vocal_best_sequence.wav", y, cfg.sr)

    fig, ax = plt.subplots(figsize=(10, 5))
    for k, losses in enumerate(progressive, start=1):
        ax.plot(range(1, k + 1), losses, marker="o", label=f"{k} slices")
    ax.set(xlabel="slice", ylabel="loss", title="Loss progression")
    ax.legend()
    fig.savefig(root / "all_tests_loss_progression.png", dpi=110, bbox_inches="tight")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar([str(k) for k in range(1, n_slices + 1)], [p[-1] for p in progressive])
    ax.bar(["greedy"], [greedy_losses[-1]])
    ax.set(ylabel="final loss", title="Final loss comparison")
    fig.savefig(root / "final_loss_comparison.png", dpi=110, bbox_inches="tight")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    best = min(range(1, n_slices + 1), key=lambda k: progressive[k - 1][-1])
    for ax, (title, mag) in zip(axes, [("mixture", mix_mag), ("vocal", voc_mag), ("extracted", keep[best])]):
        ax.imshow(librosa.amplitude_to_db(mag, ref=np.max), origin="lower", aspect="auto", cmap="magma")
        ax.set_title(title)
    fig.savefig(root / "spectrogram_comparison.png", dpi=110, bbox_inches="tight")
    print(f"losses k=1..{n_slices}: " + ", ".join(f"{p[-1]:.6f}" for p in progressive))
    print(f"greedy order {order}: final loss {greedy_losses[-1]:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
