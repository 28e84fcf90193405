"""One slice optimised from the mixture and measured: what the optimisation explorer and
notebook 02 show (moved here from :mod:`.experiment`, which re-exports it).

**ORACLE**: the optimisation reads the true isolated vocal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..core.config import Config
from ..method.experiments import StepResult, TargetFingerprints, slice_step
from ..method.fingerprint import fingerprint_db
from ..method.transforms import istft_with_phase, stft
from ..scoring.pair import separation_metrics
from ..scoring.scores import Scores

__all__ = ["PairSpectra", "SliceReport", "slice_report"]


@dataclass(frozen=True)
class PairSpectra:
    """The STFT of a mixture and the magnitudes of it and of its vocal (computed once)."""

    config: Config
    mixture_stft: np.ndarray
    mixture_mag: np.ndarray
    vocal_mag: np.ndarray

    @classmethod
    def of(cls, mixture: np.ndarray, vocal: np.ndarray, *, config: Config) -> "PairSpectra":
        X = stft(mixture, config=config)
        return cls(
            config=config,
            mixture_stft=X,
            mixture_mag=np.abs(X).astype(np.float64),
            vocal_mag=np.abs(stft(vocal, config=config)).astype(np.float64),
        )

    def fits(self, config: Config) -> bool:
        """Whether *config* has the same STFT (rate, FFT size, hop) as these spectra."""
        c = self.config
        return (c.sr, c.n_fft, c.hop_length) == (config.sr, config.n_fft, config.hop_length)


@dataclass(frozen=True)
class SliceReport:
    """One slice optimised from the mixture and measured (the optimisation explorer's work).

    Attributes
    ----------
    m, v : np.ndarray [shape=(n_points, n_frames)]
        The mixture's and the vocal's dB fingerprints in the slice's view.
    step : StepResult
        The fitted EQ, its loss curve and the new magnitude.
    after : np.ndarray [shape=(n_points, n_frames)]
        The fingerprint re-measured after the step (differs from ``m + e`` because the
        EQ is interpolated back to the bins).
    mixture_mag : np.ndarray [shape=(n_bins, n_frames)]
    estimate : np.ndarray [shape=(n,)]
        The audio of the new magnitude with the mixture's phase.
    metrics : Scores
        SI-SDR and its improvement (ORACLE).
    """

    m: np.ndarray
    v: np.ndarray
    step: StepResult
    after: np.ndarray
    mixture_mag: np.ndarray
    estimate: np.ndarray
    metrics: Scores

    @property
    def loss(self) -> float:
        """The step loss (dB²)."""
        return self.step.loss


def slice_report(
    mixture: np.ndarray,
    vocal: np.ndarray,
    *,
    view: int,
    config: Config,
    spectra: Optional[PairSpectra] = None,
) -> SliceReport:
    """Optimise one slice from the mixture (``config``'s strategy, iterations, rate, clip)
    and measure it.

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,)]
    view : int
        1..18 (0 = raw view).
    config : Config
    spectra : PairSpectra, optional
        Reused when its STFT fits *config* (the explorer keeps it between calls).
    """
    if spectra is None or not spectra.fits(config):
        spectra = PairSpectra.of(mixture, vocal, config=config)
    targets = TargetFingerprints(spectra.vocal_mag, config=config)
    m = fingerprint_db(spectra.mixture_mag, view, config=config)
    step = slice_step(spectra.mixture_mag, view, targets, config=config)
    after = fingerprint_db(step.magnitude, view, config=config)
    estimate = istft_with_phase(step.magnitude, spectra.mixture_stft, config=config, length=len(mixture))
    return SliceReport(
        m=m,
        v=targets[view],
        step=step,
        after=after,
        mixture_mag=spectra.mixture_mag,
        estimate=estimate,
        metrics=separation_metrics(vocal, estimate, mixture, sr=config.sr, bss=False),
    )
