"""Score any separated vocal file the way every run is scored (``conv2dsep evaluate``).

Another separator's output, an earlier run's wav, a hand-edited file: load it with
its reference (and, if given, the mixture), align them, and compute the same numbers
:func:`conv2dsep_lib.metrics.separation_metrics` gives inside a run.

Decisions: all files are resampled to the reference's native rate (or ``sr``);
channel counts must agree unless ``mono=True`` downmixes everything; lengths may
differ by at most ``max_length_mismatch`` seconds (then all are cut to the shortest)
-- a larger difference means the files do not belong together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from .audio import audio_info, load_audio
from .errors import ParameterError
from .metrics import BSS_KEYS, _nanmedian, bss_eval_v4, as_samples_channels, separation_metrics, si_sdr

__all__ = ["evaluate_files", "format_table"]


def evaluate_files(estimate, reference, mixture=None, *, sr: Optional[int] = None, mono: bool = False,
                   bss: bool = True, max_length_mismatch: float = 0.05) -> Dict[str, Any]:
    """Score a vocal estimate file against its reference file.

    Parameters
    ----------
    estimate, reference : path
        Audio files (any format soundfile reads).
    mixture : path, optional
        With it, SI-SDR improvement, SIR and the accompaniment's metrics
        (``mixture - reference`` vs ``mixture - estimate``) are reported too.
    sr : int, optional
        Evaluation rate; default the reference's native rate.
    mono : bool
        Downmix every file to mono (needed when channel counts differ).
    bss : bool
        Compute BSS Eval v4 besides SI-SDR.
    max_length_mismatch : float
        Largest allowed length difference in seconds.

    Returns
    -------
    dict
        ``{"estimate", "reference", "mixture", "sr", "channels", "seconds",
        "metrics": {...}}`` with the keys of :func:`separation_metrics` (without a
        mixture: ``si_sdr`` and, with ``bss``, ``sdr``, ``isr``, ``sar``).
    """
    paths = {"estimate": estimate, "reference": reference}
    if mixture is not None:
        paths["mixture"] = mixture
    infos = {role: audio_info(p) for role, p in paths.items()}
    sr = int(sr or infos["reference"].samplerate)
    if not mono:
        counts = {role: i.channels for role, i in infos.items()}
        if len(set(counts.values())) > 1:
            raise ParameterError(
                "channel counts differ (" + ", ".join(f"{r} {c}" for r, c in counts.items())
                + "): allowed equal counts, or --mono to downmix all files")
    audio = {role: load_audio(p, sr=sr, mono=mono, allow_silence=(role == "estimate"))
             for role, p in paths.items()}
    lengths = {role: y.shape[-1] for role, y in audio.items()}
    if (max(lengths.values()) - min(lengths.values())) / sr > max_length_mismatch:
        raise ParameterError(
            "lengths differ (" + ", ".join(f"{r} {n / sr:.3f} s" for r, n in lengths.items())
            + f"): allowed at most {max_length_mismatch} s apart")
    n = min(lengths.values())
    audio = {role: y[..., :n] for role, y in audio.items()}
    if mixture is not None:
        metrics = separation_metrics(audio["reference"], audio["estimate"], audio["mixture"], sr=sr, bss=bss)
    else:
        metrics = {"si_sdr": si_sdr(audio["reference"], audio["estimate"])}
        if bss:
            frames = bss_eval_v4(as_samples_channels(audio["reference"])[None],
                                 as_samples_channels(audio["estimate"])[None], sr=sr)
            for key in BSS_KEYS:
                if key != "sir":  # SIR needs the other source: give --mixture
                    metrics[key] = _nanmedian(frames[key][0])
    return {
        "oracle_reference": True,
        "estimate": str(estimate), "reference": str(reference),
        "mixture": None if mixture is None else str(mixture),
        "sr": sr, "channels": 1 if audio["reference"].ndim == 1 else int(audio["reference"].shape[0]),
        "seconds": n / sr, "metrics": metrics,
    }


def format_table(result: Dict[str, Any]) -> str:
    """A small text table of :func:`evaluate_files`' metrics (dB)."""
    m = result["metrics"]
    rows = [("vocal", m)]
    if "accompaniment" in m:
        rows.append(("accompaniment", m["accompaniment"]))
    keys = ["si_sdr", "si_sdr_i", "sdr", "sir", "sar", "isr"]
    keys = [k for k in keys if any(k in r for _, r in rows)]
    lines = [f"{'source':<14}" + "".join(f"{k:>10}" for k in keys)]
    for name, r in rows:
        cells = []
        for k in keys:
            v = r.get(k)
            cells.append(f"{'':>10}" if v is None else f"{v:>10.2f}")
        lines.append(f"{name:<14}" + "".join(cells))
    return "\n".join(lines)
