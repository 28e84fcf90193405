"""Scoring several sources at once: BSS Eval v4 over all targets, as SiSEC 2018 does.

A four-stem evaluation asks museval once with every source's reference and estimate
(``museval.evaluate(references, estimates)``, shape ``(n_sources, n, channels)``): a source's
SIR then measures leakage from *every* other true source, not only from ``mixture - stem``.
:func:`score_sources` is that call (museval's arithmetic, :class:`~.bsseval.BssEvalV4`), with
SI-SDR and its improvement over the mixture per source beside it.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping

import numpy as np

from ..core.errors import ParameterError
from .bsseval import BssEvalV4
from .metrics import BSS_KEYS, _bss_medians, _museval_silent, as_channels_first, si_sdr
from .scores import Scores

__all__ = ["score_sources"]


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
