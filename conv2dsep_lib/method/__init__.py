"""The fingerprint method itself, on magnitudes: numpy and scipy (librosa for the STFT).

* :mod:`.transforms` -- the one STFT/ISTFT, mixture-phase reconstruction, dB conversion
* :mod:`.views` -- the 19 Conv2D views ("slices") and their kernels
* :mod:`.fingerprint` -- a view resampled to ``n_points`` per window, in dB
* :mod:`.strategies` -- gain strategies 1..4 (3 = the seed's dB-space descent)
* :mod:`.experiments` -- one slice step, progressive 1..N, the greedy order
* :mod:`.yardstick` -- the common yardstick: a state's fingerprint distance to the vocal in
  fixed views (raw, mean over all 19), comparable across k and greedy prefixes

Nothing here reads files, scores estimates or draws.
"""

from .experiments import GreedyResult, StepResult, TargetFingerprints, run_greedy, run_progressive, slice_step
from .fingerprint import expand_points, fingerprint, fingerprint_db, fingerprint_distance
from .strategies import STRATEGY_NAMES, EQResult, fraction_reached, optimise_eq
from .transforms import from_db, istft, istft_with_phase, stft, to_db
from .views import VIEW_NAMES, VIEWS, View, apply_view, get_view, slice_sequence
from .yardstick import Yardstick, measure_yardstick

__all__ = [
    "GreedyResult",
    "StepResult",
    "TargetFingerprints",
    "run_greedy",
    "run_progressive",
    "slice_step",
    "expand_points",
    "fingerprint",
    "fingerprint_db",
    "fingerprint_distance",
    "STRATEGY_NAMES",
    "EQResult",
    "fraction_reached",
    "optimise_eq",
    "from_db",
    "istft",
    "istft_with_phase",
    "stft",
    "to_db",
    "VIEW_NAMES",
    "VIEWS",
    "View",
    "apply_view",
    "get_view",
    "slice_sequence",
    "Yardstick",
    "measure_yardstick",
]
