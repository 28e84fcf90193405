"""Separators: every way to get an estimate, behind one registry with kinds.

* :mod:`.base` -- :class:`Kind` (floor / oracle / blind), :class:`Mixture`,
  :class:`Reference`, :class:`Separator` (the signature is checked against the kind)
* :mod:`.masks` -- the mixture floor and the ideal ratio / binary masks (oracle)
* :mod:`.classic` -- REPET-SIM and HPSS (blind)
* :mod:`.fingerprinting` -- the Conv2D fingerprint method (oracle)
* :mod:`.registry` -- :data:`SEPARATORS`, :data:`BASELINES`, :func:`separate`,
  :func:`compute_baselines`
"""

from ..core.lazy import lazy_exports

#: Exported name -> the submodule it lives in (imported on first use).
_EXPORTS = {
    "Kind": "base",
    "Mixture": "base",
    "Reference": "base",
    "Separator": "base",
    "BASELINE_KINDS": "registry",
    "BASELINES": "registry",
    "SEPARATORS": "registry",
    "baseline_estimate": "registry",
    "compute_baselines": "registry",
    "get_separator": "registry",
    "separate": "registry",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
