"""Is the optimiser converged?  SI-SDR of one slice against iterations x learning rate.

Strategy 3 from ``e_0 = 0`` moves every point a fraction ``1 - (1 - 2 lr)**n`` of its way to
the vocal's fingerprint (unclipped; :func:`conv2dsep_lib.method.strategies.fraction_reached`):
87 % at the seed's 100 x 0.01.  :func:`convergence_grid` optimises one slice from the mixture
for every pair of a small grid and scores each result, so notebook 02 can show whether more
of the correction gives a better vocal.

**ORACLE**: every optimisation reads the true isolated vocal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from ..method.experiments import TargetFingerprints, slice_step
from ..method.strategies import fraction_reached
from ..method.transforms import istft_with_phase
from ..method.views import VIEW_NAMES
from ..scoring.metrics import si_sdr
from .slices import PairSpectra

__all__ = ["GRID_ITERATIONS", "GRID_LEARNING_RATES", "ConvergenceGrid", "convergence_grid"]

#: The default grid: the seed's 100 x 0.01 in the middle.
GRID_ITERATIONS = (25, 50, 100, 200, 400)
GRID_LEARNING_RATES = (0.005, 0.01, 0.05, 0.25)


@dataclass(frozen=True)
class ConvergenceGrid:
    """SI-SDR and step loss of one slice optimised with every iterations x learning rate pair.

    Attributes
    ----------
    view : int
        The slice (1..18; 0 = raw view), optimised from the mixture with Strategy 3.
    iterations : tuple of int [shape=(n_iter,)]
    learning_rates : tuple of float [shape=(n_lr,)]
    si_sdr : np.ndarray [shape=(n_iter, n_lr)]
        dB, of the extracted vocal (mixture phase) against the true vocal.
    loss : np.ndarray [shape=(n_iter, n_lr)]
        The step loss (dB², measured in the slice's view).
    fraction : np.ndarray [shape=(n_iter, n_lr)]
        ``1 - (1 - 2 lr)**n``: the fraction of the dB correction reached (unclipped).
    mixture_si_sdr : float
        The mixture's own SI-SDR (the floor).
    config : Config
        Everything else (clip, n_points, STFT) as used.
    """

    view: int
    iterations: Tuple[int, ...]
    learning_rates: Tuple[float, ...]
    si_sdr: np.ndarray
    loss: np.ndarray
    fraction: np.ndarray
    mixture_si_sdr: float
    config: Config
    oracle: bool = True

    @property
    def view_name(self) -> str:
        return VIEW_NAMES[self.view]

    def rows(self) -> List[Dict[str, Any]]:
        """One row per pair: ``iterations``, ``learning_rate``, ``fraction_reached``,
        ``si_sdr``, ``si_sdr_i`` (over the mixture), ``step_loss``, ``oracle``."""
        return [
            {
                "iterations": n,
                "learning_rate": lr,
                "fraction_reached": float(self.fraction[i, j]),
                "si_sdr": float(self.si_sdr[i, j]),
                "si_sdr_i": float(self.si_sdr[i, j] - self.mixture_si_sdr),
                "step_loss": float(self.loss[i, j]),
                "oracle": True,
            }
            for i, n in enumerate(self.iterations)
            for j, lr in enumerate(self.learning_rates)
        ]

    def best(self) -> Tuple[int, float]:
        """``(iterations, learning_rate)`` of the highest SI-SDR (the first on ties)."""
        i, j = np.unravel_index(int(np.nanargmax(self.si_sdr)), self.si_sdr.shape)
        return self.iterations[i], self.learning_rates[j]


def convergence_grid(
    mixture: np.ndarray,
    vocal: np.ndarray,
    *,
    view: int,
    config: Config,
    iterations: Sequence[int] = GRID_ITERATIONS,
    learning_rates: Sequence[float] = GRID_LEARNING_RATES,
    spectra: Optional[PairSpectra] = None,
) -> ConvergenceGrid:
    """Optimise one slice from the mixture for every iterations x learning rate and score it.

    Strategy 3 always (the fraction reached is its closed form; ``config.strategy`` is
    ignored); the clip, ``n_points`` and the STFT are *config*'s.  Strategy 3 has a closed
    form for ``2 lr <= 1``, so a pair costs one slice step, one ISTFT and one SI-SDR whatever
    its iterations (~10 ms for 4.7 s).

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,)]
    view : int
        1..18 (0 = raw view).
    config : Config
    iterations : sequence of int >= 1
    learning_rates : sequence of float > 0
    spectra : PairSpectra, optional
        Reused when its STFT fits *config*.

    Returns
    -------
    ConvergenceGrid
        ORACLE.
    """
    its, lrs = tuple(int(n) for n in iterations), tuple(float(lr) for lr in learning_rates)
    if not its or not lrs:
        raise ParameterError("convergence_grid needs at least one iterations value and one learning rate")
    base = config.replace(strategy=3)
    for n in its:  # every pair validated (ranges, iteration cost) before any work
        for lr in lrs:
            base.replace(num_iterations=n, learning_rate=lr)
    if spectra is None or not spectra.fits(base):
        spectra = PairSpectra.of(mixture, vocal, config=base)
    targets = TargetFingerprints(spectra.vocal_mag, config=base)
    shape = (len(its), len(lrs))
    scores, losses, fraction = np.empty(shape), np.empty(shape), np.empty(shape)
    for i, n in enumerate(its):
        for j, lr in enumerate(lrs):
            cfg = base.replace(num_iterations=n, learning_rate=lr)
            step = slice_step(spectra.mixture_mag, view, targets, config=cfg)
            estimate = istft_with_phase(step.magnitude, spectra.mixture_stft, config=cfg, length=len(mixture))
            scores[i, j] = si_sdr(vocal, estimate)
            losses[i, j] = step.loss
            fraction[i, j] = fraction_reached(learning_rate=lr, iterations=n)
    return ConvergenceGrid(
        view=int(view),
        iterations=its,
        learning_rates=lrs,
        si_sdr=scores,
        loss=losses,
        fraction=fraction,
        mixture_si_sdr=float(si_sdr(vocal, mixture)),
        config=base,
    )
