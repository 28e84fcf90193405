"""Scoring several sources at once: BSS Eval v4 over all targets, as SiSEC 2018 does.

A four-stem evaluation asks museval once with every source's reference and estimate
(``museval.evaluate(references, estimates)``, shape ``(n_sources, n, channels)``): a source's
SIR then measures leakage from *every* other true source, not only from ``mixture - stem``.
:func:`score_sources` is that call (museval's arithmetic, :class:`~.bsseval.BssEvalV4`), with
SI-SDR and its improvement over the mixture per source beside it.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

import numpy as np

from ..core.errors import ParameterError
from .bsseval import BssEvalV4
from .metrics import BSS_KEYS, _bss_medians, _museval_silent, as_channels_first, si_sdr
from .scores import Scores

__all__ = ["score_sources", "band_limited_sources", "BAND_LIMIT_DB", "BAND_LIMIT_SHARE"]

#: A reference whose power spectrum is this far below its peak (dB) ...
BAND_LIMIT_DB = -100.0
#: ... in at least this share of its frequency bins is band-limited (see :func:`band_limited_sources`).
BAND_LIMIT_SHARE = 0.5


def score_sources(
    references: Mapping[str, Any],
    estimates: Mapping[str, Any],
    mixture: Any,
    *,
    sr: int,
    bss: bool = True,
    window_s: float = 1.0,
) -> Dict[str, Scores]:
    """Every source's quality, BSS Eval v4 computed over all sources in one call.

    Parameters
    ----------
    references, estimates : mapping of str -> np.ndarray [shape=(n,) or (channels, n)]
        True and estimated sources by name, the same names (``vocals``, ``drums``, ...).
    mixture : np.ndarray [shape=(n,) or (channels, n)]
        For SI-SDR's improvement over the mixture (``si_sdr_i``).
    sr : int
    bss : bool
        Also BSS Eval v4 (``sdr``, ``sir``, ``sar``, ``isr``: NaN-aware median over windows).
    window_s : float
        BSS Eval window and hop (1 s, SiSEC 2018).

    Returns
    -------
    dict of str -> Scores
        In the order of *references*.  A silent estimate gets ``nan`` BSS numbers (museval
        refuses it); the other sources are still evaluated, each with the silent-window rule
        over its own estimate (:func:`~.metrics._bss_medians`).

    Raises
    ------
    ParameterError
        Different names, shapes, or a silent reference (BSS Eval is undefined).
    """
    names = list(references)
    if set(names) != set(estimates) or len(names) < 1:
        raise ParameterError(
            f"references {sorted(references)} and estimates {sorted(estimates)} name different sources: "
            "allowed the same names"
        )
    refs = np.stack([as_channels_first(references[n]).T for n in names]).astype(np.float64)
    ests = np.stack([as_channels_first(estimates[n]).T for n in names]).astype(np.float64)
    mix = as_channels_first(mixture).T.astype(np.float64)
    if refs.shape != ests.shape or refs.shape[1:] != mix.shape:
        raise ParameterError(
            f"references {refs.shape}, estimates {ests.shape} and mixture {mix.shape} do not match: "
            "allowed one shape (n,) or (channels, n) for all"
        )
    for j, name in enumerate(names):
        if _museval_silent(refs[j]):
            raise ParameterError(
                f"the {name} reference is silent: BSS Eval is undefined (allowed non-silent sources)"
            )
    medians = None
    if bss:
        evaluator = BssEvalV4(refs, window=int(window_s * sr))
        medians = _bss_medians(evaluator, ests)
    out = {}
    for j, name in enumerate(names):
        value = si_sdr(refs[j].T, ests[j].T)
        floor = si_sdr(refs[j].T, mix.T)
        if medians is None:
            out[name] = Scores(si_sdr=value, si_sdr_i=value - floor)
            continue
        sdr, isr, sir, sar = (float(medians[j, BSS_KEYS.index(k)]) for k in ("sdr", "isr", "sir", "sar"))
        out[name] = Scores(si_sdr=value, si_sdr_i=value - floor, sdr=sdr, sir=sir, sar=sar, isr=isr)
    return out


def band_limited_sources(references: Mapping[str, Any]) -> Tuple[str, ...]:
    """The references that leave most of the spectrum empty -- where multi-source BSS Eval is ill-posed.

    BSS Eval projects an estimate onto 512 lagged copies of every reference.  A reference with
    (numerically) nothing in most frequency bins -- a synthesised bass with nothing above
    0.5 kHz, say -- has lagged copies that are almost linearly dependent, the Gram matrix is
    singular to float precision, and the interference and artefact parts of the projection
    become huge and cancel: SIR and SAR of *every* source then read tens of dB below zero and
    differ between two exact implementations, while SDR and ISR stay meaningful.  Real
    recordings carry a noise floor and are not affected; the demo songs' bass and chords are.

    Returns
    -------
    tuple of str
        Names whose Welch power spectrum (1024-point segments) is more than
        :data:`BAND_LIMIT_DB` below its peak in at least :data:`BAND_LIMIT_SHARE` of the bins.
    """
    from scipy.signal import welch

    out = []
    for name, y in references.items():
        x = np.asarray(as_channels_first(y), dtype=np.float64).mean(axis=0)
        _, power = welch(x, nperseg=min(1024, x.size))
        peak = float(power.max())
        if peak > 0 and np.mean(power < peak * 10.0 ** (BAND_LIMIT_DB / 10.0)) >= BAND_LIMIT_SHARE:
            out.append(name)
    return tuple(out)
