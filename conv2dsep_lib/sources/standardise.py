"""Standardise one pair of arrays: resample, match channels, align, check levels, cut the excerpt.

Pure functions on arrays (no files); :mod:`.prepare` reads the sources and writes the
result.  The decisions (rate and channels, alignment, level checks, excerpt) are
written down in :mod:`.prepare`'s docstring.
"""

from __future__ import annotations

from typing import Dict, List, Tuple, Union

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from .align import auto_offset, db, levels, measure_lag, shift_signal
from .audio import resample

__all__ = ["MAX_LAG_MS", "LENGTH_WARNING_SECONDS", "Offset", "standardise_pair"]

Offset = Union[float, str]

#: Largest mixture--vocal lag accepted without ``align`` ("a few milliseconds").
MAX_LAG_MS = 5.0
#: Source files whose lengths differ by more than this (s) get a warning.
LENGTH_WARNING_SECONDS = 0.05


def standardise_pair(
    mix: np.ndarray, mix_sr: int, voc: np.ndarray, voc_sr: int, *, config: Config, offset: Offset, align: bool
) -> Tuple[Dict[str, np.ndarray], dict, List[str]]:
    """Resample, align, check and cut one pair.  Returns arrays, manifest parts, warnings."""
    sr = config.sr
    mix = resample(mix, mix_sr, sr)
    voc = resample(voc, voc_sr, sr)
    channels = max(mix.shape[0], voc.shape[0])
    if mix.shape[0] < channels:
        mix = np.repeat(mix, channels, axis=0)
    if voc.shape[0] < channels:
        voc = np.repeat(voc, channels, axis=0)
    warnings = []
    diff = abs(mix.shape[1] - voc.shape[1]) / sr
    if diff > LENGTH_WARNING_SECONDS:
        warnings.append(
            f"mixture ({mix.shape[1] / sr:.3f} s) and vocal ({voc.shape[1] / sr:.3f} s) "
            f"differ in length by {diff:.3f} s; the common span is used"
        )

    lag = measure_lag(mix, voc, sr=sr)
    lag_ms = 1000.0 * lag / sr
    if abs(lag_ms) > MAX_LAG_MS and not align:
        raise ParameterError(
            f"vocal lags the mixture by {lag_ms:.1f} ms ({lag} samples at {sr} Hz): allowed at most "
            f"{MAX_LAG_MS:g} ms; use --align (align=True) to shift the vocal into place"
        )
    after = lag
    if align and lag != 0:
        voc = shift_signal(voc, lag)
        after = measure_lag(mix, voc, sr=sr)
        if 1000.0 * abs(after) / sr > MAX_LAG_MS:
            raise ParameterError(
                f"vocal still lags the mixture by {1000.0 * after / sr:.1f} ms after shifting it by "
                f"{lag_ms:.1f} ms: allowed at most {MAX_LAG_MS:g} ms (is it the right stem?)"
            )
    n = min(mix.shape[1], voc.shape[1])
    mix, voc = mix[:, :n], voc[:, :n]

    n_win = config.n_samples
    if n < n_win:
        raise ParameterError(
            f"clip is too short: {n / sr:.3f} s, but duration {config.duration} s "
            "is needed (allowed: clips at least as long as the excerpt)"
        )
    if offset == "auto":
        start_s = auto_offset(voc, sr=sr, duration=config.duration)
        start = int(round(start_s * sr))
    else:
        start_s = float(offset)
        start = int(round(start_s * sr))
        if start + n_win > n:
            raise ParameterError(
                f"clip is too short: {n / sr:.3f} s, but offset {start_s} s + duration "
                f"{config.duration} s = {start_s + config.duration:.3f} s are needed"
            )
    start = min(start, n - n_win)

    e_mix = float(np.mean(mix.astype(np.float64) ** 2))
    e_voc = float(np.mean(voc.astype(np.float64) ** 2))
    e_res = float(np.mean((mix.astype(np.float64) - voc) ** 2))
    if e_voc > e_mix:
        warnings.append(f"vocal is louder than the mixture ({db(e_voc):.1f} dB vs {db(e_mix):.1f} dB RMS)")
    if e_res > e_mix:
        warnings.append(
            f"vocal is not contained in the mixture: mixture - vocal has "
            f"{db(e_res) - db(e_mix):+.1f} dB more energy than the mixture"
        )

    m = np.ascontiguousarray(mix[:, start : start + n_win])
    v = np.ascontiguousarray(voc[:, start : start + n_win])
    i = (m - v).astype(np.float32)
    if float(np.max(np.abs(v))) < 1e-8:
        raise ParameterError(
            f"vocal is silent in the excerpt [{start_s}, {start_s + config.duration}) s: "
            "allowed an excerpt where the vocal sounds (try offset='auto')"
        )
    arrays = {"mixture": m, "vocal": v, "instrumental": i}
    info = {
        "sr": sr,
        "channels": int(channels),
        "excerpt": {
            "offset": round(start_s, 6),
            "duration": float(config.duration),
            "start_sample": start,
            "n_samples": n_win,
            "mode": "auto" if offset == "auto" else "fixed",
        },
        "lag": {
            "measured_samples": lag,
            "measured_ms": round(lag_ms, 3),
            "max_allowed_ms": MAX_LAG_MS,
            "aligned": bool(align and lag != 0),
            "shift_samples": lag if (align and lag != 0) else 0,
            "after_samples": after,
            "after_ms": round(1000.0 * after / sr, 3),
        },
        "levels": {
            "excerpt": {role: levels(a) for role, a in arrays.items()},
            "vocal_to_instrumental_db": round(
                db(float(np.mean(v.astype(np.float64) ** 2))) - db(float(np.mean(i.astype(np.float64) ** 2))),
                3,
            ),
        },
        "checks": {
            "vocal_louder_than_mixture": e_voc > e_mix,
            "residual_to_mixture_db": round(db(e_res) - db(e_mix), 3),
            "vocal_not_contained": e_res > e_mix,
        },
    }
    return arrays, info, warnings
