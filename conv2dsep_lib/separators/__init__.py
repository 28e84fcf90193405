"""Separators: every way to get an estimate, behind one registry with kinds.

* :mod:`.base` -- :class:`Kind` (floor / oracle / blind), :class:`Mixture`,
  :class:`Reference`, :class:`Separator` (the signature is checked against the kind)
* :mod:`.masks` -- the mixture floor and the ideal ratio / binary masks (oracle)
* :mod:`.classic` -- REPET-SIM and HPSS (blind)
* :mod:`.fingerprinting` -- the Conv2D fingerprint method (oracle)
* :mod:`.registry` -- :data:`SEPARATORS`, :data:`BASELINES`, :func:`separate`,
  :func:`compute_baselines`
"""

from .base import Kind, Mixture, Reference, Separator
from .registry import (
    BASELINE_KINDS,
    BASELINES,
    SEPARATORS,
    baseline_estimate,
    compute_baselines,
    get_separator,
    separate,
)

__all__ = [
    "Kind",
    "Mixture",
    "Reference",
    "Separator",
    "BASELINE_KINDS",
    "BASELINES",
    "SEPARATORS",
    "baseline_estimate",
    "compute_baselines",
    "get_separator",
    "separate",
]
