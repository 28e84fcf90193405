"""The functional API: run an experiment on an audio pair, then write its outputs.

Three layers (as open-unmix): pure functions (views, fingerprints, strategies,
experiments) -> this module (``run_experiment``, ``write_outputs``) -> the CLI, which
only parses arguments and calls these two.

**This is an oracle method**: the optimisation needs the true vocal.  Every result
record carries ``"oracle": true`` and every plot title says ORACLE.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from .atomic import _umask, atomic_path
from .audio import AudioPair, write_wav
from .config import Config, check_n_slices
from .experiments import (GreedyResult, StepResult, TargetFingerprints, make_scorer,
                          run_greedy, run_progressive)
from .transforms import istft_with_phase, stft
from .views import VIEW_NAMES

__all__ = [
    "ORACLE_NOTE",
    "score_baselines",
    "Experiment",
    "run_experiment",
    "results_dict",
    "write_outputs",
    "output_dir_name",
    "atomic_write_json",
    "to_jsonable",
]

ORACLE_NOTE = ("ORACLE: the optimisation uses the true isolated vocal as its target; "
               "these numbers are an upper-bound study of the fingerprint, not blind separation.")


@dataclass
class Experiment:
    """Everything an experiment computed, in memory (for notebooks and writers).

    Attributes
    ----------
    pair : AudioPair
    config : Config
    n_slices : int
    command : str
        ``"progressive"`` or ``"best"``.
    mixture_stft : np.ndarray [shape=(n_bins, n_frames)], complex
    progressive : list of StepResult
        ``progressive[k-1]`` = slices 1..k.
    greedy : GreedyResult or None
    estimates : dict of str -> np.ndarray [shape=(n,)]
        Extracted vocals: ``"k=1"``..``"k=N"``, ``"greedy"`` (full greedy order),
        ``"greedy_best"`` (best prefix).
    metrics : dict of str -> dict
        :func:`conv2dsep_lib.metrics.separation_metrics` per estimate key.
    baselines : dict of str -> dict
        ``{"kind", "oracle", "estimate", "metrics"}`` per baseline name.
    timings : dict of str -> float
        Seconds.
    """

    pair: AudioPair
    config: Config
    n_slices: int
    command: str
    mixture_stft: np.ndarray
    progressive: List[StepResult]
    greedy: Optional[GreedyResult]
    estimates: Dict[str, np.ndarray] = field(default_factory=dict)
    metrics: Dict[str, dict] = field(default_factory=dict)
    baselines: Dict[str, dict] = field(default_factory=dict)
    timings: Dict[str, float] = field(default_factory=dict)

    def reconstruct(self, magnitude: np.ndarray) -> np.ndarray:
        """Audio of a magnitude with the mixture's phase [shape=(n,)]."""
        return istft_with_phase(magnitude, self.mixture_stft, config=self.config,
                                length=len(self.pair.mixture))


def run_experiment(pair: AudioPair, *, config: Config, n_slices: int, greedy: bool = True,
                   baselines: bool = True, bss: bool = True,
                   progress: bool = False) -> Experiment:
    """Run progressive 1..N (and the greedy order) on a mixture/vocal pair.

    Parameters
    ----------
    pair : AudioPair
        Mono, aligned, at ``config.sr``.
    config : Config
    n_slices : int in 1..18
    greedy : bool
        Also run the greedy search (``conv2dsep best``).
    baselines : bool
        Compute the reference points (mixture floor, oracle masks, blind baselines).
    bss : bool
        Compute BSS Eval v4 (SDR/SIR/SAR/ISR) besides SI-SDR.
    progress : bool
        tqdm progress bar on the greedy search.

    Returns
    -------
    Experiment
    """
    from .metrics import separation_metrics

    n_slices = check_n_slices(n_slices)
    if pair.sr != config.sr:
        from .errors import ParameterError

        raise ParameterError(f"pair sample rate {pair.sr} differs from config sr={config.sr}")
    timings: Dict[str, float] = {}
    t0 = time.perf_counter()
    X = stft(pair.mixture, config=config)
    mixture_mag = np.abs(X).astype(np.float64)
    vocal_mag = np.abs(stft(pair.vocal, config=config)).astype(np.float64)
    targets = TargetFingerprints(vocal_mag, config=config)
    timings["stft"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    steps = run_progressive(mixture_mag, targets, n_slices=n_slices, config=config)
    timings["progressive"] = time.perf_counter() - t0

    g = None
    if greedy:
        t0 = time.perf_counter()
        scorer = make_scorer(config.greedy_score, config=config, targets=targets,
                             mixture_stft=X, vocal=pair.vocal)
        g = run_greedy(mixture_mag, targets, n_slices=n_slices, config=config,
                       scorer=scorer, score_name=config.greedy_score, progress=progress)
        timings["greedy"] = time.perf_counter() - t0

    exp = Experiment(pair=pair, config=config, n_slices=n_slices,
                     command="best" if greedy else "progressive", mixture_stft=X,
                     progressive=steps, greedy=g)
    for k, step in enumerate(steps, start=1):
        exp.estimates[f"k={k}"] = exp.reconstruct(step.magnitude)
    if g is not None:
        exp.estimates["greedy"] = exp.reconstruct(g.steps[-1].magnitude)
        exp.estimates["greedy_best"] = exp.reconstruct(g.steps[g.best_prefix - 1].magnitude)

    t0 = time.perf_counter()
    for key, est in exp.estimates.items():
        exp.metrics[key] = separation_metrics(pair.vocal, est, pair.mixture, sr=config.sr, bss=bss)
    timings["metrics"] = time.perf_counter() - t0

    if baselines:
        t0 = time.perf_counter()
        exp.baselines = score_baselines(pair, config=config, bss=bss)
        timings["baselines"] = time.perf_counter() - t0
    exp.timings = timings
    return exp


def score_baselines(pair: AudioPair, *, config: Config, bss: bool = True) -> Dict[str, dict]:
    """The reference points of a pair, each scored like an extraction.

    Returns
    -------
    dict of str -> dict
        Per baseline name (:data:`conv2dsep_lib.baselines.BASELINES`): ``kind``,
        ``oracle``, ``estimate`` [shape=(n,)] and ``metrics``
        (:func:`conv2dsep_lib.metrics.separation_metrics`).
    """
    from .baselines import compute_baselines
    from .metrics import separation_metrics

    scored = {}
    for name, b in compute_baselines(pair.mixture, pair.vocal, config=config).items():
        scored[name] = dict(b, metrics=separation_metrics(pair.vocal, b["estimate"], pair.mixture,
                                                          sr=config.sr, bss=bss))
    return scored


# ------------------------------------------------------------------ results record
def output_dir_name(n_slices: int) -> str:
    """The seed's folder name, ``output_progressive_{N}slices``."""
    return f"output_progressive_{n_slices}slices"


def _names(seq) -> List[str]:
    return [VIEW_NAMES[k] for k in seq]


def _spearman(x, y) -> Optional[float]:
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return None
    return float(spearmanr(x[ok], y[ok]).statistic)


def git_output(*args: str) -> Optional[str]:
    """``git ARGS`` run in the package's folder: its stripped output, or ``None``
    when git or a checkout is not there (an installed package is not a checkout)."""
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10)
    except Exception:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _versions() -> Dict[str, str]:
    import librosa
    import scipy

    from . import __version__

    return {"conv2dsep": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "librosa": librosa.__version__}


def results_dict(exp: Experiment, *, audio_paths: Optional[Dict[str, str]] = None,
                 arguments: Optional[dict] = None) -> Dict[str, Any]:
    """The JSON-able record of an experiment (the content of ``results.json``).

    Parameters
    ----------
    exp : Experiment
    audio_paths : dict, optional
        Relative path of each estimate's wav (keys as ``exp.estimates``).
    arguments : dict, optional
        The command-line arguments, recorded as given.

    Returns
    -------
    dict
        ``oracle``, ``config``, ``progressive`` (per k: ``n_slices``, ``sequence``,
        ``loss``, ``step_losses``, ``metrics``, ``audio``), ``greedy``, ``baselines``,
        ``comparison``, ``timings`` and provenance.
    """
    audio_paths = audio_paths or {}
    N = exp.n_slices
    progressive = []
    for k in range(1, N + 1):
        steps = exp.progressive[:k]
        progressive.append({
            "n_slices": k,
            "sequence": _names(s.view for s in steps),
            "loss": steps[-1].loss,
            "step_losses": [s.loss for s in steps],
            "loss_curve": exp.progressive[k - 1].loss_curve.tolist(),
            "metrics": exp.metrics.get(f"k={k}"),
            "audio": audio_paths.get(f"k={k}"),
        })
    record: Dict[str, Any] = {
        "oracle": True,
        "note": ORACLE_NOTE,
        "method": "Conv2D spectral fingerprinting, gain strategy "
                  f"{exp.config.strategy} (3 = the seed's dB-space descent)",
        "command": exp.command,
        "n_slices": N,
        "config": exp.config.to_dict(),
        "input": exp.pair.source,
        "progressive": progressive,
    }
    g = exp.greedy
    if g is not None:
        b = g.best_prefix
        record["greedy"] = {
            "score": g.score,
            "sequence": _names(g.sequence),
            "losses": g.losses,
            "scores": g.scores,
            "loss": g.losses[-1],
            "metrics": exp.metrics.get("greedy"),
            "audio": audio_paths.get("greedy"),
            "best_prefix": {
                "n_slices": b,
                "sequence": _names(g.sequence[:b]),
                "loss": g.losses[b - 1],
                "score": g.scores[b - 1],
                "metrics": exp.metrics.get("greedy_best"),
                "audio": audio_paths.get("greedy_best"),
            },
            "slice_steps": g.n_steps,
            "candidates": [{VIEW_NAMES[k]: {"score": s, "loss": l} for k, (s, l) in c.items()}
                           for c in g.candidates],
        }
        orig = progressive[-1]
        record["comparison"] = {
            "original_order_loss": orig["loss"],
            "greedy_order_loss": g.losses[-1],
            "greedy_best_prefix_loss": g.losses[b - 1],
            "lower_loss": "greedy" if g.losses[-1] < orig["loss"] else "original",
            "original_order_si_sdr": (orig["metrics"] or {}).get("si_sdr"),
            "greedy_order_si_sdr": (exp.metrics.get("greedy") or {}).get("si_sdr"),
        }
        si = record["comparison"]
        if si["original_order_si_sdr"] is not None and si["greedy_order_si_sdr"] is not None:
            si["higher_si_sdr"] = ("greedy" if si["greedy_order_si_sdr"] > si["original_order_si_sdr"]
                                   else "original")
    losses = [p["loss"] for p in progressive]
    si_sdrs = [(p["metrics"] or {}).get("si_sdr", float("nan")) for p in progressive]
    best_loss_k = int(np.argmin(losses)) + 1
    best_si_k = int(np.nanargmax(si_sdrs)) + 1 if np.isfinite(si_sdrs).any() else None
    record["loss_vs_quality"] = {
        "spearman_loss_vs_si_sdr": _spearman(losses, si_sdrs),
        "best_k_by_loss": best_loss_k,
        "best_k_by_si_sdr": best_si_k,
        "agree": best_si_k == best_loss_k,
        "note": "a negative rank correlation means lower fingerprint loss went with higher SI-SDR",
    }
    record["baselines"] = {
        name: {k: v for k, v in b.items() if k != "estimate"} for name, b in exp.baselines.items()
    }
    record["timings"] = dict(exp.timings)
    record["arguments"] = arguments or {}
    record["git_commit"] = git_output("rev-parse", "HEAD") or None
    record["versions"] = _versions()
    return to_jsonable(record)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types; NaN/inf become ``None`` (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def atomic_write_json(path, obj: Any) -> Path:
    """Write JSON atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    text = json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


# ------------------------------------------------------------------ writing
def _audio_layout(exp: Experiment) -> Dict[str, str]:
    paths = {f"k={k}": f"{k}_slices/extracted_vocal.wav" for k in range(1, exp.n_slices + 1)}
    if exp.greedy is not None:
        paths["greedy_best"] = "best_sequence_found/extracted_vocal_best_sequence.wav"
        paths["greedy"] = "best_sequence_found/extracted_vocal_greedy_order.wav"
    return paths


def write_outputs(exp: Experiment, out_root, *, arguments: Optional[dict] = None,
                  plots: bool = True) -> Path:
    """Write the seed's output layout under ``out_root/output_progressive_{N}slices/``.

    Everything is written into a temporary sibling folder that replaces the final
    one only when complete, so an interrupted run leaves the previous outputs (or
    nothing), never a half-written folder.

    Layout::

        {k}_slices/extracted_vocal.wav              k = 1..N
        1_slices/1_original_mixture.wav  1_slices/2_target_vocal.wav
        best_sequence_found/extracted_vocal_best_sequence.wav   (best only)
        all_tests_loss_progression.png  final_loss_comparison.png
        spectrogram_comparison.png  separation_quality.png  loss_vs_si_sdr.png
        results.json

    Returns
    -------
    Path
        The output folder.
    """
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / output_dir_name(exp.n_slices)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=out_root))
    try:
        sr = exp.config.sr
        paths = _audio_layout(exp)
        for key, rel in paths.items():
            write_wav(tmp / rel, exp.estimates[key], sr)
        write_wav(tmp / "1_slices" / "1_original_mixture.wav", exp.pair.mixture, sr)
        write_wav(tmp / "1_slices" / "2_target_vocal.wav", exp.pair.vocal, sr)
        record = results_dict(exp, audio_paths=paths, arguments=arguments)
        if plots:
            from . import plots as plotting

            plotting.save_experiment_figures(exp, record, tmp)
        atomic_write_json(tmp / "results.json", record)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it owner-only
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=out_root))
            os.replace(final, old / final.name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
