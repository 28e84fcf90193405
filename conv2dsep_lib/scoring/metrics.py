"""Separation quality: SI-SDR and BSS Eval v4 (museval), for one vocal estimate.

Decisions, written down:

* **Channel order.**  soundfile and museval store audio as *samples x channels*;
  librosa and IPython as *channels x samples*.  :func:`as_channels_first` and
  :func:`as_samples_channels` own that convention and every function here goes
  through them.  A 2-D array's *shorter* axis is taken as the channel axis (audio
  always has far fewer channels than samples); a square array is ambiguous and
  refused.
* **SI-SDR** follows Le Roux et al. (2019): both signals are made zero-mean first, the
  reference is scaled by the least-squares gain, and the ratio is capped at
  ``-10 log10(eps)`` dB (about 156.5 dB for the default ``eps``, the resolution of
  float64) so that a perfect copy gives a large finite number, not ``inf``.  SI-SDR
  is symmetric in its two arguments and equals ``10 log10(rho^2 / (1 - rho^2))`` with
  ``rho`` the correlation coefficient.  A silent reference is a user error
  (:class:`ParameterError`); a silent estimate has no defined SI-SDR and gives
  ``nan`` (never an exception), the same convention museval uses for silent windows.
* **BSS Eval** is museval's own v4 code (:func:`bss_eval_v4`), evaluated exactly as
  ``museval.evaluate`` does it (time-invariant distortion filters, no permutation,
  ``bss_eval_images`` criteria), with non-overlapping 1 s windows, and summarised by
  the NaN-aware median over windows, as in SiSEC 2018.
* :func:`~.pair.separation_metrics` and :class:`~.pair.PairScorer` (in :mod:`.pair`)
  evaluate vocal and accompaniment *jointly* (the references are ``[vocal, mixture -
  vocal]``, the estimates ``[estimate, mixture - estimate]``), because BSS Eval's
  interference term needs the other source.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from ..core.checks import check_signal
from ..core.errors import ParameterError
from .bsseval import BssEvalV4

__all__ = [
    "as_channels_first",
    "as_samples_channels",
    "si_sdr",
    "si_sdr_improvement",
    "bss_eval_v4",
    "nanmedian",
    "BSS_KEYS",
]

#: Framewise BSS Eval criteria, in the order museval returns them.
BSS_KEYS = ("sdr", "isr", "sir", "sar")

#: Default SI-SDR ``eps``: float64 resolution, caps SI-SDR at about 156.5 dB.
_EPS = float(np.finfo(np.float64).eps)
#: Samples per chunk where a scorer sums over a whole signal (bounds its temporaries).
_CHUNK = 1 << 20  # samples per channel that pair.py reads in float64 at a time

#: A zero-mean signal whose energy is below this fraction of its raw energy is
#: silent (a constant/DC signal leaves only rounding residue after mean removal).
_SILENT_REL = 1e-24


# --------------------------------------------------------------- channel order
def as_channels_first(y: Any) -> np.ndarray:
    """Return *y* as ``(channels, n)`` -- the librosa / IPython layout.

    Parameters
    ----------
    y : array_like [shape=(n,), (channels, n) or (n, channels)]
        A 1-D array is mono.  For a 2-D array the *shorter* axis is the channel
        axis, so both layouts are accepted.

    Returns
    -------
    y : np.ndarray [shape=(channels, n)]
        A view of the input where possible (no copy, dtype unchanged).

    Raises
    ------
    ParameterError
        If *y* is not 1-D or 2-D, or is square (``channels == n > 1``), where the
        layout cannot be told apart.

    See Also
    --------
    as_samples_channels

    Examples
    --------
    >>> as_channels_first(np.zeros(5)).shape
    (1, 5)
    >>> as_channels_first(np.zeros((5, 2))).shape
    (2, 5)
    """
    y = np.asarray(y)
    if y.ndim == 1:
        return y[np.newaxis, :]
    if y.ndim != 2:
        raise ParameterError(
            f"signal shape {y.shape} is invalid: allowed (n,), (channels, n) or (n, channels)"
        )
    rows, cols = y.shape
    if rows == cols and rows > 1:
        raise ParameterError(
            f"signal shape {y.shape} is ambiguous (channels == samples): allowed a "
            "2-D array whose channel axis is shorter than its sample axis"
        )
    return y if rows <= cols else y.T


def as_samples_channels(y: Any) -> np.ndarray:
    """Return *y* as ``(n, channels)`` -- the soundfile / museval layout.

    Parameters
    ----------
    y : array_like [shape=(n,), (channels, n) or (n, channels)]
        Same rules as :func:`as_channels_first` (1-D is mono; the shorter axis of a
        2-D array is the channel axis).

    Returns
    -------
    y : np.ndarray [shape=(n, channels)]
        A view of the input where possible.

    Examples
    --------
    >>> as_samples_channels(np.zeros(5)).shape
    (5, 1)
    >>> as_samples_channels(np.zeros((2, 5))).shape
    (5, 2)
    """
    return as_channels_first(y).T


# ------------------------------------------------------------------ validation
def _check_finite(name: str, y: np.ndarray) -> None:
    check_signal(y, name=name, allow_silence=True)  # silence has its own rules here


def _zero_mean_flat(y: np.ndarray) -> "tuple[np.ndarray, bool]":
    """Zero-mean each channel of a ``(channels, n)`` array, flatten, flag silence."""
    y = np.asarray(y, dtype=np.float64)
    raw = float(np.sum(y * y))
    y = (y - y.mean(axis=-1, keepdims=True)).ravel()
    energy = _dot(y, y)
    return y, energy <= _SILENT_REL * raw


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``<a, b>`` of two 1-D float64 arrays with numpy's own loop, not BLAS: a multithreaded BLAS
    serialises concurrent calls, and a run scores on two threads."""
    return float(np.einsum("i,i->", a, b))


def _museval_silent(src: np.ndarray) -> bool:
    """museval's silence rule for one ``(n, channels)`` source: channel sum is 0."""
    if src.shape[-1] == 1:
        return not np.any(src)
    return bool(np.all(np.sum(src, axis=-1) == 0))


# ---------------------------------------------------------------------- SI-SDR
def si_sdr(reference: Any, estimate: Any, *, eps: float = _EPS) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019).

    Both signals are made zero-mean (per channel), then::

        alpha = <estimate, reference> / <reference, reference>
        SI-SDR = 10 log10(|alpha reference|^2 / |estimate - alpha reference|^2)

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n,) or (channels, n) or (n, channels)]
        Same shape.  Multichannel signals are zero-meaned per channel and the
        channels concatenated into one signal (one gain for all channels).
    eps : float in [0, 1)
        Relative floor of the distortion energy, ``eps * |alpha reference|^2``: the
        result is capped at ``-10 log10(eps)`` dB (156.5 dB by default).  ``eps=0``
        lets an exact copy give ``inf``.

    Returns
    -------
    si_sdr : float
        In dB.  ``nan`` if the estimate is silent (zero, or constant, after mean
        removal): SI-SDR is undefined there.  ``-inf`` if the estimate is exactly
        orthogonal to the reference.

    Raises
    ------
    ParameterError
        If the shapes differ, a signal is empty or has NaN/inf samples, *eps* is out
        of range, or the reference is silent.

    References
    ----------
    .. [1] J. Le Roux, S. Wisdom, H. Erdogan, J. R. Hershey, "SDR -- half-baked or
       well done?", ICASSP 2019.

    Examples
    --------
    >>> t = np.linspace(0, 1, 22050)
    >>> ref = np.sin(2 * np.pi * 440 * t)
    >>> round(si_sdr(ref, 0.3 * ref)) > 100
    True
    """
    if (
        isinstance(eps, bool)
        or not isinstance(eps, (int, float, np.floating, np.integer))
        or not math.isfinite(eps)
        or not 0 <= eps < 1
    ):
        raise ParameterError(f"eps={eps!r} is invalid: allowed a number in [0, 1)")
    ref = np.asarray(reference)
    est = np.asarray(estimate)
    if ref.shape != est.shape:
        raise ParameterError(
            f"reference shape {ref.shape} and estimate shape {est.shape} differ: allowed identical shapes"
        )
    ref = as_channels_first(ref)
    est = as_channels_first(est)
    _check_finite("reference", ref)
    _check_finite("estimate", est)
    r, ref_silent = _zero_mean_flat(ref)
    e, est_silent = _zero_mean_flat(est)
    if ref_silent:
        raise ParameterError(
            "reference is silent: SI-SDR is undefined (allowed a reference that is not zero or constant)"
        )
    if est_silent:
        return float("nan")
    return _si_sdr_zero_mean(r, _dot(r, r), e, eps)


def _si_sdr_zero_mean(r: np.ndarray, rr: float, e: np.ndarray, eps: float) -> float:
    """SI-SDR of zero-mean flat signals, the reference's energy ``rr = <r, r>`` given."""
    alpha = _dot(e, r) / rr
    target = alpha * r
    t_energy = _dot(target, target)
    if t_energy == 0.0:
        return float("-inf")
    noise = e - target
    n_energy = max(_dot(noise, noise), eps * t_energy)
    if n_energy == 0.0:
        return float("inf")
    return float(10.0 * np.log10(t_energy / n_energy))


def si_sdr_improvement(reference: Any, estimate: Any, mixture: Any, *, eps: float = _EPS) -> float:
    """SI-SDR improvement over the mixture, ``si_sdr(ref, est) - si_sdr(ref, mix)``.

    Parameters
    ----------
    reference, estimate, mixture : np.ndarray [shape=(n,) or (channels, n)]
        Same shape.
    eps : float
        See :func:`si_sdr`.

    Returns
    -------
    si_sdr_i : float
        In dB; ``nan`` if the estimate or the mixture is silent.
    """
    return si_sdr(reference, estimate, eps=eps) - si_sdr(reference, mixture, eps=eps)


# ------------------------------------------------------------------- BSS Eval
def _as_sources(x: Any, name: str) -> np.ndarray:
    """``(n_sources, n)`` or ``(n_sources, n, channels)`` -> float64 ``(n_sources, n, channels)``."""
    x = np.asarray(x)
    if x.ndim == 2:
        out = x[:, :, np.newaxis]
    elif x.ndim == 3:
        out = np.stack([as_samples_channels(s) for s in x]) if len(x) else x
    else:
        raise ParameterError(
            f"{name} shape {x.shape} is invalid: allowed (n_sources, n_samples) or (n_sources, n_samples, n_channels)"
        )
    out = np.asarray(out, dtype=np.float64)
    _check_finite(name, out)
    return out


def _pad_or_truncate(references: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """museval's ``pad_or_truncate``: fit the estimates to the references' length."""
    n_ref, n_est = references.shape[1], estimates.shape[1]
    if n_est > n_ref:
        return estimates[:, :n_ref, :]
    if n_est < n_ref:
        return np.pad(estimates, [(0, 0), (0, n_ref - n_est), (0, 0)], mode="constant")
    return estimates


def bss_eval_v4(references: Any, estimates: Any, *, sr: int, window_s: float = 1.0) -> Dict[str, np.ndarray]:
    """Framewise BSS Eval v4, exactly as ``museval.evaluate(mode="v4")`` computes it.

    The estimates are padded with zeros or truncated to the references' length (as
    museval does), then museval's ``bss_eval`` runs with time-invariant distortion
    filters (512 taps), no permutation search and the ``bss_eval_images`` criteria,
    on non-overlapping windows of ``window_s`` seconds (``window = hop =
    int(window_s * sr)`` samples; one window if the signal is shorter).

    Parameters
    ----------
    references, estimates : np.ndarray [shape=(n_sources, n) or (n_sources, n, channels)]
        True and estimated sources (mono rows, or per-source multichannel arrays in
        either channel layout, see :func:`as_samples_channels`).  Same number of
        sources and channels; the sample counts may differ (see above).
    sr : int > 0
        Sample rate in Hz.
    window_s : float > 0
        Window and hop in seconds.  Default 1.0 (SiSEC 2018).

    Returns
    -------
    metrics : dict of str -> np.ndarray [shape=(n_sources, n_windows)]
        ``"sdr"``, ``"isr"``, ``"sir"``, ``"sar"`` in dB.  A window in which any
        reference or estimate is silent is ``nan`` for all sources (museval's rule).

    Raises
    ------
    ParameterError
        Bad shapes, NaN/inf samples, bad *sr*/*window_s*, or a reference or
        estimate that is silent over the whole signal (museval cannot evaluate it).
    """
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} is invalid: allowed an integer > 0")
    if (
        isinstance(window_s, bool)
        or not isinstance(window_s, (int, float, np.floating, np.integer))
        or not math.isfinite(window_s)
        or window_s <= 0
    ):
        raise ParameterError(f"window_s={window_s!r} is invalid: allowed a finite number > 0")
    win = int(window_s * sr)
    if win < 1:
        raise ParameterError(
            f"window_s={window_s!r} is shorter than one sample at sr={sr}: allowed >= {1 / sr:.3g} s"
        )
    refs = _as_sources(references, "references")
    ests = _as_sources(estimates, "estimates")
    if refs.shape[0] != ests.shape[0] or refs.shape[2] != ests.shape[2]:
        raise ParameterError(
            f"references (n_sources, n, channels)={refs.shape} and estimates {ests.shape} "
            "do not match: allowed the same number of sources and channels"
        )
    ests = _pad_or_truncate(refs, ests)
    for name, arr in (("reference", refs), ("estimate", ests)):
        for j, src in enumerate(arr):
            if _museval_silent(src):
                raise ParameterError(
                    f"{name} source {j} is silent over the whole signal: BSS Eval is "
                    "undefined (allowed non-silent sources)"
                )
    return BssEvalV4(refs, window=win).evaluate(ests)


def nanmedian(x: np.ndarray) -> float:
    """NaN-aware median as a plain float; ``nan`` (silently) if all values are NaN."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="All-NaN slice", category=RuntimeWarning)
        return float(np.nanmedian(x))


def _bss_medians(
    evaluator: BssEvalV4,
    ests: Optional[np.ndarray] = None,
    correlations: Optional[list] = None,
    *,
    silent: Optional[List[bool]] = None,
    windows: Optional[Callable[[slice], np.ndarray]] = None,
) -> np.ndarray:
    """Median framewise BSS Eval per source: ``(n_sources, 4)`` in :data:`BSS_KEYS` order.

    Sources whose *estimate* is silent over the whole signal get ``nan`` instead of
    museval's exception.  Every source's criteria depend only on the references and
    on that source's own estimate (no permutation, time-invariant filters), plus the
    silent-window rule; so a live source is then evaluated with the silence rule over
    its own estimate -- museval's numbers with every estimate slot holding it.

    The estimates are *ests* [shape=(nsrc, n, channels)], or their *windows* (see
    :meth:`BssEvalV4.evaluate`) with *correlations* and each source's whole-signal
    *silent* flag.
    """
    if silent is None:
        assert ests is not None
        silent = [_museval_silent(e) for e in ests]
    n = len(silent)
    out = np.full((n, len(BSS_KEYS)), np.nan)
    groups = [tuple(range(n))] if not any(silent) else [(j,) for j in range(n) if not silent[j]]
    for group in groups:
        frames = evaluator.evaluate(
            ests, sources=group if any(silent) else (), correlations=correlations, windows=windows
        )
        for k, key in enumerate(BSS_KEYS):
            for j in group:
                out[j, k] = nanmedian(frames[key][j])
    return out
