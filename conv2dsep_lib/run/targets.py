"""Several targets in one run: the fingerprint method per stem, and a joint estimate.

The seed's third next step, as an oracle study: for each target (``vocals``, ``drums``,
``bass``, ``other``) :func:`run_targets` runs the same experiment as a vocals run --
the same 18 views, Strategy 3, progressive and greedy -- against that target's own stem
(:func:`conv2dsep_lib.sources.stems.pair_for_target`), with that target's baselines (the
floor and ideal masks for every target; the blind ones where they apply).

Two estimates per target are reported:

* **separate** -- the target's own EQ'd magnitude after N slices (k = N), inverted with the
  mixture phase.  The separate estimates need not add up to the mixture.
* **joint** -- the separate magnitudes turned into masks that sum to one, as open-unmix does
  with norbert: the Wiener gains of the sources' magnitudes (:func:`joint_estimates`).  When the targets asked for do not cover the mixture (e.g.
  ``vocals,drums``), a residual source ``rest`` (magnitude ``max(|X| - sum, 0)``, reference
  ``mixture - sum of the stems``) completes the set.  The joint estimates sum to the mixture
  in the STFT domain (:attr:`TargetsExperiment.joint_stft_error`).

Both sets are scored with one multi-source BSS Eval v4 call over all sources
(:func:`conv2dsep_lib.scoring.multi.score_sources`, museval's numbers), as SiSEC does; each
target's own run keeps its two-source numbers (target vs ``mixture - target``) as a vocals run
has them.  **ORACLE**: every estimate here is built from the true stems.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from ..core.config import Config
from ..method.transforms import istft
from ..scoring.multi import band_limited_sources, score_sources
from ..scoring.scores import Scores
from ..sources.audio import AudioPair
from ..sources.layout import TARGETS
from ..sources.stems import check_targets, pair_stems, targets_of
from .experiment import Experiment, run_experiment

__all__ = ["REST", "TargetsExperiment", "run_targets", "joint_estimates"]

#: The residual source that completes a subset of targets.
REST = "rest"


@dataclass
class TargetsExperiment:
    """A multi-target run, in memory.

    Attributes
    ----------
    pair : AudioPair
        The input, with its stems.
    config : Config
    targets : tuple of str
        In :data:`~conv2dsep_lib.sources.layout.TARGETS` order.
    runs : dict of str -> Experiment
        Each target's own run (its ``pair.vocal`` is the target's stem).
    sources : tuple of str
        The targets, plus :data:`REST` when they do not cover the mixture.
    references : dict of str -> np.ndarray [shape=(n,)]
        True source per name (``rest``: the mixture minus the targets' stems).
    separate, joint : dict of str -> np.ndarray [shape=(n,)], float32
        The estimates per source (see the module docstring; the separate ``rest`` is the
        mixture minus the separate targets).  ``joint`` is empty without the joint step.
    scores : dict of str -> dict of str -> Scores
        ``"separate"`` / ``"joint"`` -> source -> SI-SDR and multi-source BSS Eval v4.
    joint_stft_error : float or None
        ``max |sum_j Y_j - X| / max |X|`` over the STFT: how exactly the joint estimates add
        up to the mixture (``None`` without the joint step).
    band_limited : tuple of str
        References whose spectrum is mostly empty: the multi-source SIR/SAR are ill-posed
        (:func:`~conv2dsep_lib.scoring.multi.band_limited_sources`).
    """

    pair: AudioPair
    config: Config
    targets: Tuple[str, ...]
    runs: Dict[str, Experiment]
    sources: Tuple[str, ...] = ()
    references: Dict[str, np.ndarray] = field(default_factory=dict)
    separate: Dict[str, np.ndarray] = field(default_factory=dict)
    joint: Dict[str, np.ndarray] = field(default_factory=dict)
    scores: Dict[str, Dict[str, Scores]] = field(default_factory=dict)
    joint_stft_error: Optional[float] = None
    band_limited: Tuple[str, ...] = ()

    @property
    def n_slices(self) -> int:
        return next(iter(self.runs.values())).n_slices

    @property
    def command(self) -> str:
        return next(iter(self.runs.values())).command


def joint_estimates(magnitudes: Sequence[np.ndarray], mixture_stft: np.ndarray) -> np.ndarray:
    """The joint (Wiener) estimates of several sources from their magnitudes.

    For a mono mixture the multichannel Wiener filter reduces to power-ratio masks
    ``G_j = |V_j|^2 / sum_i |V_i|^2`` -- the gain of :func:`norbert.wiener`'s EM step, whose
    spatial covariances are then 1.  It is computed as :func:`norbert.softmask` over the powers
    (the mixture scaled to a peak of 1 first): norbert's EM adds a fixed ``sqrt(eps)`` to the
    mixture power, which on quiet bins would keep the estimates from adding up to the
    mixture; the soft masks add up to one to float64 rounding.

    Parameters
    ----------
    magnitudes : sequence of np.ndarray [shape=(n_bins, n_frames)]
        Non-negative magnitude estimates, one per source.
    mixture_stft : np.ndarray [shape=(n_bins, n_frames)], complex

    Returns
    -------
    np.ndarray [shape=(n_sources, n_bins, n_frames)], complex
        Source STFTs whose sum is the mixture STFT.
    """
    with warnings.catch_warnings():  # norbert.contrib imports a deprecated scipy path
        warnings.simplefilter("ignore", DeprecationWarning)
        import norbert  # light, but only multi-target runs need it

    scale = max(float(np.max(np.abs(mixture_stft))), 1e-30)
    v = np.stack([np.square(m / scale) for m in magnitudes], axis=-1).transpose(1, 0, 2)[:, :, None, :]
    x = (mixture_stft.astype(np.complex128) / scale).T[:, :, None]
    y = norbert.softmask(v.astype(np.float64), x)  # (frames, bins, 1, sources)
    return y[:, :, 0, :].transpose(2, 1, 0) * scale


def run_targets(
    pair: AudioPair,
    *,
    config: Config,
    n_slices: int,
    targets: Sequence[str],
    greedy: bool = True,
    baselines: bool = True,
    bss: bool = True,
    joint: bool = True,
    progress: bool = False,
) -> TargetsExperiment:
    """Run the experiment once per target, then the joint estimate and the multi-source scores.

    Parameters
    ----------
    pair : AudioPair
        With the stems the targets need (``load_input(..., targets=...)``).
    config, n_slices, greedy, baselines, bss, progress
        As :func:`~conv2dsep_lib.run.experiment.run_experiment`, for every target.
    targets : sequence of str
        Two or more of :data:`~conv2dsep_lib.sources.layout.TARGETS` (one target is a plain
        :func:`run_experiment`).
    joint : bool
        Also the joint (Wiener) estimate.

    Raises
    ------
    ParameterError
        Unknown targets, or a target whose stem is missing or silent -- all checked before
        any work.
    """
    targets = check_targets(targets if isinstance(targets, str) else list(targets))
    pairs = targets_of(pair, targets)  # every target checked before any run
    runs = {
        t: run_experiment(
            p,
            config=config,
            n_slices=n_slices,
            greedy=greedy,
            baselines=baselines,
            bss=bss,
            progress=progress,
            keep_last=True,
        )
        for t, p in pairs.items()
    }
    exp = TargetsExperiment(pair=pair, config=config, targets=targets, runs=runs)
    stems = pair_stems(pair)
    n = pair.mixture.shape[0]
    exp.references = {t: np.asarray(stems[t], dtype=np.float32) for t in targets}
    exp.separate = {t: runs[t].estimates[f"k={runs[t].n_slices}"] for t in targets}
    covered = set(targets) == set(TARGETS) or set(targets) == set(stems) and _adds_up(pair, stems)
    sources = list(targets)
    if not covered:
        rest_ref = pair.mixture - np.sum([exp.references[t] for t in targets], axis=0)
        exp.references[REST] = rest_ref.astype(np.float32)
        exp.separate[REST] = (pair.mixture - np.sum([exp.separate[t] for t in targets], axis=0)).astype(
            np.float32
        )
        sources.append(REST)
    exp.sources = tuple(sources)
    if joint:
        X = runs[targets[0]].mixture_stft  # every target's run has the same mixture
        mags = [runs[t].last_magnitude for t in targets]
        if not covered:
            mags.append(np.maximum(np.abs(X) - np.sum(mags, axis=0), 0.0))
        Y = joint_estimates(mags, X)
        exp.joint_stft_error = float(np.max(np.abs(Y.sum(axis=0) - X)) / max(float(np.max(np.abs(X))), 1e-30))
        exp.joint = {
            s: istft(Y[j], config=config, length=n).astype(np.float32) for j, s in enumerate(sources)
        }
        del Y
    for t in targets:
        runs[t].last_magnitude = None
    exp.band_limited = band_limited_sources(exp.references) if bss else ()
    scored = {"separate": exp.separate, **({"joint": exp.joint} if joint else {})}
    exp.scores = {
        name: score_sources(exp.references, estimates, pair.mixture, sr=config.sr, bss=bss)
        for name, estimates in scored.items()
    }
    return exp


def _adds_up(pair: AudioPair, stems) -> bool:
    """The stems add up to the mixture (to 1e-4 of its RMS): no residual source is needed."""
    total = np.sum([np.asarray(y, dtype=np.float64) for y in stems.values()], axis=0)
    diff = np.sqrt(np.mean((pair.mixture - total) ** 2))
    return bool(diff <= 1e-4 * max(float(np.sqrt(np.mean(np.square(pair.mixture, dtype=np.float64)))), 1e-12))
