"""conv2dsep: a research workbook for *oracle* vocal separation by Conv2D spectral
fingerprinting.

The method (the researcher's ``best.py``): 18 hand-made Conv2D views of a magnitude
spectrogram, each resampled to 400 points per window, and a per-window EQ fitted in
dB so that the mixture's fingerprint matches the **true vocal's** -- an oracle study
of how much vocal information the views carry.

Layers: pure functions (:mod:`.views`, :mod:`.fingerprint`, :mod:`.strategies`,
:mod:`.experiments`, :mod:`.metrics`, :mod:`.baselines`) -> the functional API
(:mod:`.pipeline`) -> the command line (:mod:`.cli`).
"""

__version__ = "0.1.0"

from .config import Config  # noqa: E402
from .errors import ParameterError  # noqa: E402

__all__ = ["Config", "ParameterError", "__version__"]
