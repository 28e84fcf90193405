"""The Conv2D fingerprint method as a separator -- an ORACLE one.

Strategy 3 fits, per window, an EQ that moves the mixture's fingerprint toward the
*true vocal's* (SPEC section 6): it reads the reference, so it registers as
``oracle`` beside the ideal masks.  As a separator it runs the seed's best setting,
slices 1..:data:`SEPARATOR_SLICES` in the original order, and resynthesises with the
mixture's phase; the experiments in :mod:`conv2dsep_lib.run.experiment` report every k.
"""

from __future__ import annotations

import numpy as np

from ..method.experiments import TargetFingerprints, run_progressive
from ..method.transforms import istft_with_phase
from .base import Mixture, Reference

__all__ = ["SEPARATOR_SLICES", "fingerprint_oracle"]

#: Slices the separator applies: the seed's "8 slices in the original order".
SEPARATOR_SLICES = 8


def fingerprint_oracle(mixture: Mixture, reference: Reference) -> np.ndarray:
    """Progressive slices 1..8 (``mixture.config``'s optimiser) from the mixture: the estimate."""
    config = mixture.config
    mix_mag = np.abs(mixture.stft).astype(np.float64)
    targets = TargetFingerprints(np.abs(reference.stft).astype(np.float64), config=config)
    steps = run_progressive(mix_mag, targets, n_slices=SEPARATOR_SLICES, config=config)
    return istft_with_phase(steps[-1].magnitude, mixture.stft, config=config, length=len(mixture.audio))
