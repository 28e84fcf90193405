"""The floor and the oracle masks: what the mixture gives by itself, and the ceilings.

``V`` is the STFT of the true vocal, ``A = X - V`` that of the accompaniment (by
linearity of the STFT).  Every mask keeps the mixture's phase, like the method.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from .base import Mixture, Reference, masked

__all__ = ["mixture_floor", "ideal_masks", "oracle_irm", "oracle_ibm"]


def mixture_floor(mixture: Mixture) -> np.ndarray:
    """The mixture itself as the vocal estimate (no separation): the floor."""
    return np.array(mixture.audio, dtype=np.float32, copy=True)


def ideal_masks(X: np.ndarray, V: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Ideal ratio and binary masks [shape=X.shape] of a mixture STFT *X* and a target STFT *V*.

    ``irm = |V| / (|V| + |A|)`` (0 where both are 0), ``ibm = |V| > |A|``, ``A = X - V``.
    """
    mag_v = np.abs(V)
    mag_a = np.abs(X - V)
    total = mag_v + mag_a
    irm = np.divide(mag_v, total, out=np.zeros_like(mag_v), where=total > 0)
    ibm = (mag_v > mag_a).astype(mag_v.dtype)
    return irm, ibm


def oracle_irm(mixture: Mixture, reference: Reference) -> np.ndarray:
    """Ideal ratio mask ``|V| / (|V| + |A|)``: the ceiling for mixture-phase magnitude methods."""
    return masked(mixture, ideal_masks(mixture.stft, reference.stft)[0])


def oracle_ibm(mixture: Mixture, reference: Reference) -> np.ndarray:
    """Ideal binary mask ``|V| > |A|``."""
    return masked(mixture, ideal_masks(mixture.stft, reference.stft)[1])
