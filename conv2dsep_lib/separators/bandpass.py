"""The honest blind floor: a fixed vocal-band band-pass (BLIND: the mixture only).

A blind method means something only above what a fixed filter does.  A throwaway prototype
of the learned model found that a plain band-pass over the voice's band beat HPSS and
REPET-SIM on real excerpts (and the model itself on one), so every vocals run reports it:
a 4th-order Butterworth band-pass from :data:`BAND_HZ` [0] to [1] Hz, applied forwards and
backwards (``scipy.signal.sosfiltfilt``: zero phase, the magnitude response squared -- an
8th-order roll-off), to the mixture's samples.  The band covers the fundamentals of sung
voices (from about 200 Hz) and their formants and consonant energy (up to 5 kHz); what lies
outside it -- kick, bass, cymbals -- is removed.
"""

from __future__ import annotations

import numpy as np

from .base import Mixture

__all__ = ["BAND_HZ", "ORDER", "bandpass"]

#: The pass band (Hz) and the Butterworth order of :func:`bandpass`.
BAND_HZ = (200.0, 5000.0)
ORDER = 4


def bandpass(mixture: Mixture) -> np.ndarray:
    """The vocal-band band-pass of the mixture [shape=(n,)], float32 (zero phase)."""
    from scipy.signal import butter, sosfiltfilt  # scipy.signal costs 0.6 s to import: only when used

    sr = mixture.config.sr
    high = min(BAND_HZ[1], 0.45 * sr)
    sos = butter(ORDER, [BAND_HZ[0], high], btype="band", fs=sr, output="sos")
    return sosfiltfilt(sos, np.asarray(mixture.audio, dtype=np.float64)).astype(np.float32)
