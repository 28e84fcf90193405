"""Standardise one pair of arrays: resample, match channels, align, check levels, cut the excerpt.

Pure functions on arrays (no files); :mod:`.prepare` reads the sources and writes the
result.  The decisions (rate and channels, alignment, level checks, excerpt) are
written down in :mod:`.prepare`'s docstring.

Optional extra stems (``drums``, ``bass``, ``other``) follow the vocal: the mixture and
the vocal alone decide everything (channels, lag, common length, excerpt), so the
mixture, vocal and instrumental come out the same with or without stems; each stem
is then resampled, given the outputs' channels (a mono stem copied to both, a stereo
stem averaged when the outputs are mono), shifted by the vocal's shift, cut or
zero-padded to the common length and cut to the same excerpt.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from .align import auto_offset, db, levels, measure_lag, shift_signal
from .audio import resample

__all__ = ["MAX_LAG_MS", "LENGTH_WARNING_SECONDS", "Offset", "standardise_pair", "standardise_stem"]

Offset = Union[float, str]

#: Largest mixture--vocal lag accepted without ``align`` ("a few milliseconds").
MAX_LAG_MS = 5.0
#: Source files whose lengths differ by more than this (s) get a warning.
LENGTH_WARNING_SECONDS = 0.05


def standardise_stem(
    y: np.ndarray, y_sr: int, *, target: str, sr: int, channels: int, shift: int, n: int
) -> Tuple[np.ndarray, List[str]]:
    """Bring one extra stem to the vocal's rate, channels, alignment and length.

    Parameters
    ----------
    y : np.ndarray [shape=(channels_in, n_in), dtype=float32]
        The stem at its file rate.
    y_sr : int
        Its rate.
    target : str
        Its name in messages (``"drums"``, ``"bass"``, ``"other"``).
    sr : int
        The outputs' rate.
    channels : {1, 2}
        The outputs' channels: a mono stem is copied, a stereo one averaged to mono.
    shift : int
        Samples to move the stem earlier (the vocal's shift; 0 when not aligned).
    n : int
        The common length of mixture and vocal: the stem is cut or zero-padded to it.

    Returns
    -------
    y : np.ndarray [shape=(channels, n), dtype=float32]
    warnings : list of str
        A downmix, or a length differing from the common span by more than
        :data:`LENGTH_WARNING_SECONDS`.
    """
    warnings = []
    y = resample(y, y_sr, sr)
    if y.shape[0] < channels:
        y = np.repeat(y, channels, axis=0)
    elif y.shape[0] > channels:
        warnings.append(f"{target} is stereo but the mixture and vocal are mono: averaged to mono")
        y = y.mean(axis=0, keepdims=True)
    diff = abs(y.shape[1] - n) / sr
    if diff > LENGTH_WARNING_SECONDS:
        fix = "zero-padded" if y.shape[1] < n else "cut"
        warnings.append(
            f"{target} ({y.shape[1] / sr:.3f} s) and the mixture/vocal span ({n / sr:.3f} s) "
            f"differ in length by {diff:.3f} s; {target} is {fix} to the span"
        )
    if shift:
        y = shift_signal(y, shift)
    out = np.zeros((channels, n), dtype=np.float32)
    m = min(n, y.shape[1])
    out[:, :m] = y[:, :m]
    return out, warnings


def standardise_pair(
    mix: np.ndarray,
    mix_sr: int,
    voc: np.ndarray,
    voc_sr: int,
    *,
    config: Config,
    offset: Offset,
    align: bool,
    stems: Optional[Mapping[str, Tuple[np.ndarray, int]]] = None,
) -> Tuple[Dict[str, np.ndarray], dict, List[str]]:
    """Resample, align, check and cut one pair (and its extra stems).

    Parameters
    ----------
    mix, voc : np.ndarray [shape=(channels, n), dtype=float32]
        Mixture and vocal at their file rates *mix_sr* and *voc_sr*.
    config : Config
        ``sr`` and ``duration`` of the excerpt.
    offset : float >= 0 or "auto"
    align : bool
        Shift the vocal (and the stems) by the measured lag.
    stems : mapping of str -> (np.ndarray [shape=(channels, n)], int), optional
        Extra stems by target (``"drums"``, ``"bass"``, ``"other"``) with their rates;
        they follow the vocal (:func:`standardise_stem`) and decide nothing.

    Returns
    -------
    arrays : dict of str -> np.ndarray [shape=(channels, n_samples), dtype=float32]
        ``mixture``, ``vocal``, ``instrumental`` (= mixture - vocal), then each stem
        by its target.
    info : dict
        Manifest parts: ``sr``, ``channels``, ``excerpt``, ``lag``, ``levels``,
        ``checks`` (with stems: their excerpt levels in ``levels.excerpt``, and
        ``checks.stems_residual_to_mixture_db`` when all three are given).
    warnings : list of str

    Raises
    ------
    ParameterError
        A lag above :data:`MAX_LAG_MS` without *align*, a clip shorter than the
        excerpt, or a vocal silent in the excerpt.
    """
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
    for target, (y, y_sr) in (stems or {}).items():
        shift = lag if (align and lag != 0) else 0
        full, stem_warnings = standardise_stem(
            y, y_sr, target=target, sr=sr, channels=channels, shift=shift, n=n
        )
        warnings += stem_warnings
        arrays[target] = np.ascontiguousarray(full[:, start : start + n_win])
        if float(np.max(np.abs(arrays[target]))) < 1e-8:
            warnings.append(f"{target} is silent in the excerpt [{start_s}, {start_s + config.duration}) s")
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
    if stems and all(t in arrays for t in ("drums", "bass", "other")):
        rest = m.astype(np.float64) - v - arrays["drums"] - arrays["bass"] - arrays["other"]
        e_m = float(np.mean(m.astype(np.float64) ** 2))
        info["checks"]["stems_residual_to_mixture_db"] = round(db(float(np.mean(rest**2))) - db(e_m), 3)
    return arrays, info, warnings
