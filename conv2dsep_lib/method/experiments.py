"""The seed's experiments: one slice step, progressive 1..N, and the greedy order.

Everything here works on magnitudes (no audio, no files); :mod:`conv2dsep_lib.run.experiment`
adds reconstruction, metrics and outputs.

* :func:`slice_step` -- SPEC section 6: fingerprint the working magnitude in view *k*,
  fit the EQ (Strategy 3 by default), expand it to all bins and apply it in dB.
* :func:`run_progressive` -- one pass: the state after step *k* is the k-slice result
  (running slices 1..k from the mixture for every k, as the seed did, gives the same
  states; computing them once is the same thing k times cheaper).
* :func:`run_greedy` -- repeatedly append the remaining slice whose next step scores
  best, starting every candidate from the chosen prefix's state (one slice step per
  candidate, never re-running the prefix).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..core.config import Config, check_n_slices
from .fingerprint import expand_points, fingerprint_db
from .strategies import EQResult, optimise_eq
from .transforms import from_db, to_db
from .views import VIEW_NAMES
from .yardstick import Yardstick, measure_yardstick

__all__ = [
    "TargetFingerprints",
    "StepResult",
    "GreedyResult",
    "slice_step",
    "run_progressive",
    "iter_progressive",
    "run_greedy",
    "Scorer",
]


class TargetFingerprints:
    """The vocal's dB fingerprints, computed once per view on first use.

    Parameters
    ----------
    vocal_mag : np.ndarray [shape=(n_bins, n_frames)]
    config : Config
    """

    def __init__(self, vocal_mag: np.ndarray, *, config: Config):
        self.magnitude = np.asarray(vocal_mag, dtype=np.float64)
        self.config = config
        self._cache: Dict[int, np.ndarray] = {}

    def __getitem__(self, view: int) -> np.ndarray:
        if view not in self._cache:
            self._cache[view] = fingerprint_db(self.magnitude, view, config=self.config)
        return self._cache[view]

    def forget(self, view: int) -> None:
        """Drop one view's fingerprint (recomputed if asked for again)."""
        self._cache.pop(view, None)


@dataclass(frozen=True)
class StepResult:
    """One slice step.

    Attributes
    ----------
    view : int
        The slice applied (1..18).
    fit : EQResult
        The fitted EQ: ``eq_db`` [shape=(n_points, n_frames)], ``loss`` and
        ``loss_curve`` [shape=(num_iterations,)] (dB²), also exposed here.
    working_db : np.ndarray [shape=(n_bins, n_frames)] or None
        ``dB(W)`` of the magnitude the step started from; released (``None``) once
        :attr:`magnitude` has been computed from it.
    start_db : np.ndarray [shape=(n_points, n_frames)] or None
        ``m``: the dB fingerprint in view :attr:`view` of the magnitude the step started
        from (``fingerprint_db(W, view)``), kept so the yardstick of that magnitude
        (:mod:`.yardstick`) need not compute it again; released with the step.
    magnitude : np.ndarray [shape=(n_bins, n_frames)]
        The working magnitude after the step, ``db_to_amplitude(dB(W) + E)``,
        computed on first access (a greedy candidate that is not chosen never needs
        it).
    """

    view: int
    fit: EQResult
    working_db: np.ndarray
    start_db: Optional[np.ndarray] = None

    @property
    def eq_db(self) -> np.ndarray:
        return self.fit.eq_db

    @property
    def loss_curve(self) -> np.ndarray:
        return self.fit.loss_curve

    @cached_property
    def magnitude(self) -> np.ndarray:
        if self.working_db is None:
            raise RuntimeError(f"the magnitude of step {self.name} was released")
        out = expand_points(self.eq_db, n_bins=self.working_db.shape[-2])
        np.add(self.working_db, out, out=out)
        from_db(out, out=out)
        # dB(W) is needed only for this; drop it so a long clip's N states do not
        # each hold a second full-size array (the frozen dataclass guards the fields
        # users see; this cache-side release is deliberate).
        object.__setattr__(self, "working_db", None)
        return out

    def release(self) -> None:
        """Free the large arrays (the magnitude and the EQ; the losses are kept) once they are
        no longer needed -- a whole song's N states would otherwise each hold ~40 MB.  Reading
        :attr:`magnitude` or :attr:`eq_db` afterwards is an error."""
        self.__dict__.pop("magnitude", None)
        object.__setattr__(self, "working_db", None)
        object.__setattr__(self, "start_db", None)
        self.fit.release()

    @property
    def loss(self) -> float:
        """The step loss, ``mean((m + e - v)**2)`` after the last iteration (dB²)."""
        return self.fit.loss

    @property
    def name(self) -> str:
        return VIEW_NAMES[self.view]


def slice_step(
    working_mag: np.ndarray,
    view: int,
    targets: TargetFingerprints,
    *,
    config: Config,
    working_db: Optional[np.ndarray] = None,
) -> StepResult:
    """Apply one slice's optimisation to the working magnitude (SPEC section 6).

    ``m = dB(fp_k(W))``, ``v = dB(fp_k(V))``; fit ``e`` (``config.strategy``); expand
    ``e`` from ``n_points`` to the bins (per window) as ``E``;
    ``W_next = db_to_amplitude(dB(W) + E)``.

    Parameters
    ----------
    working_mag : np.ndarray [shape=(n_bins, n_frames)]
    view : int
        1..18 (0 works too: the raw view).
    targets : TargetFingerprints
        The vocal's fingerprints.
    config : Config
    working_db : np.ndarray, optional
        ``dB(W)`` if the caller already has it (the greedy search shares it between
        candidates).

    Returns
    -------
    StepResult
    """
    m = fingerprint_db(working_mag, view, config=config)
    fit = optimise_eq(m, targets[view], config=config)
    if working_db is None:
        working_db = to_db(working_mag, amin=config.amin, top_db=config.top_db, axis=(-2, -1))
    return StepResult(view=int(view), fit=fit, working_db=working_db, start_db=m)


def run_progressive(
    mixture_mag: np.ndarray,
    targets: TargetFingerprints,
    *,
    n_slices: int,
    config: Config,
    sequence: Optional[Sequence[int]] = None,
) -> List[StepResult]:
    """Progressive 1..N: the state after step k is the k-slice result.

    Parameters
    ----------
    mixture_mag : np.ndarray [shape=(n_bins, n_frames)]
    targets : TargetFingerprints
    n_slices : int in 1..18
    config : Config
    sequence : sequence of int, optional
        Slice order; default the original ``1..N``.

    Returns
    -------
    list of StepResult, length N
        Element ``k - 1`` holds the magnitude after slices ``sequence[:k]``.
    """
    return list(iter_progressive(mixture_mag, targets, n_slices=n_slices, config=config, sequence=sequence))


def iter_progressive(
    mixture_mag: np.ndarray,
    targets: TargetFingerprints,
    *,
    n_slices: int,
    config: Config,
    sequence: Optional[Sequence[int]] = None,
) -> Iterator[StepResult]:
    """:func:`run_progressive` one step at a time, for callers that use each state as it comes.

    When step ``k + 1`` is yielded, step ``k``'s magnitude is no longer needed here: the
    caller may :meth:`~StepResult.release` it (a whole song's N states are ~30 MB each).

    Yields
    ------
    StepResult
        The state after slices ``sequence[:k]``, for k = 1..N.
    """
    n_slices = check_n_slices(n_slices)
    sequence = tuple(range(1, n_slices + 1)) if sequence is None else tuple(sequence)
    W = np.asarray(mixture_mag, dtype=np.float64)
    del mixture_mag  # a caller that lets go of the mixture's magnitude frees it after step 1
    for view in sequence[:n_slices]:
        step = slice_step(W, view, targets, config=config)
        yield step
        W = step.magnitude


@dataclass
class GreedyResult:
    """The greedy search's outcome.

    Attributes
    ----------
    sequence : tuple of int
        The whole greedy order.
    steps : list of StepResult
        The chosen step at every position (``steps[k-1].magnitude`` = prefix k).
    scores : list of float
        The chosen candidate's score at every position (lower is better).
    candidates : list of dict
        Per position, ``{view: (score, step loss)}`` of every candidate tried.
    score : str
        The criterion used.
    yardsticks : list of Yardstick
        The common yardstick of every prefix (``yardsticks[k-1]`` = prefix k), when the
        search was asked to measure it; else empty.
    """

    sequence: Tuple[int, ...]
    steps: List[StepResult]
    scores: List[float]
    candidates: List[Dict[int, Tuple[float, float]]]
    score: str = "step_loss"
    yardsticks: List[Yardstick] = field(default_factory=list)

    @property
    def losses(self) -> List[float]:
        """Step loss of the chosen slice at every position (dB²)."""
        return [s.loss for s in self.steps]

    @property
    def best_prefix(self) -> int:
        """Length of the prefix with the best score (1-based)."""
        return int(np.argmin(self.scores)) + 1

    @property
    def n_steps(self) -> int:
        """Slice steps evaluated: ``N + (N-1) + ... + 1``."""
        return sum(len(c) for c in self.candidates)


#: A greedy criterion: ``StepResult -> float``, lower is better (see
#: :func:`conv2dsep_lib.run.experiment.make_scorer` for the named ones).
Scorer = Callable[[StepResult], float]


def run_greedy(
    mixture_mag: np.ndarray,
    targets: TargetFingerprints,
    *,
    n_slices: int,
    config: Config,
    scorer: Optional[Scorer] = None,
    score_name: str = "step_loss",
    progress: bool = False,
    keep_states: bool = True,
    yardstick: bool = False,
    on_prefix: Optional[Callable[[int, np.ndarray, Dict[int, Optional[np.ndarray]]], None]] = None,
) -> GreedyResult:
    """Greedy ordering of slices 1..N.

    At each position every remaining slice is tried once from the chosen prefix's
    state (``dB(W)`` shared between candidates); the one with the lowest score is
    appended and its state becomes the new prefix.  ``N(N+1)/2`` slice steps in all.

    Parameters
    ----------
    mixture_mag : np.ndarray [shape=(n_bins, n_frames)]
    targets : TargetFingerprints
    n_slices : int in 1..18
    config : Config
    scorer : callable, optional
        ``StepResult -> float``, lower is better; default the step loss.
    score_name : str
        Recorded in the result.
    progress : bool
        Show a tqdm progress bar over the slice steps.
    keep_states : bool
        Keep every prefix's magnitude (default).  ``False`` keeps only the last prefix's
        and the best-scoring prefix's -- all a run reconstructs -- so a whole song's
        search holds two states, not N.
    yardstick : bool
        Measure every prefix's :class:`~.yardstick.Yardstick` (``GreedyResult.yardsticks``):
        prefix k's fingerprints in the remaining views come from the candidates of position
        k + 1, which start from it, so only the other views are computed.
    on_prefix : callable, optional
        ``on_prefix(k, magnitude, known)`` for every prefix k = 1..N as soon as its
        fingerprints in the remaining views are known (*known*: view -> dB fingerprint of
        *magnitude*): a caller that measures the yardstick elsewhere (another thread) instead
        of *yardstick*.  *magnitude* must not be modified.

    Returns
    -------
    GreedyResult
    """
    n_slices = check_n_slices(n_slices)
    scorer = scorer or (lambda step: step.loss)
    remaining = list(range(1, n_slices + 1))
    W = np.asarray(mixture_mag, dtype=np.float64)
    steps: List[StepResult] = []
    scores: List[float] = []
    candidates: List[Dict[int, Tuple[float, float]]] = []
    yardsticks: List[Yardstick] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=n_slices * (n_slices + 1) // 2, desc=f"greedy ({score_name})", unit="step", leave=False
        )
    try:
        while remaining:
            W_db = to_db(W, amin=config.amin, top_db=config.top_db, axis=(-2, -1))
            tried: Dict[int, Tuple[float, float, StepResult]] = {}
            for view in remaining:
                step = slice_step(W, view, targets, config=config, working_db=W_db)
                tried[view] = (float(scorer(step)), step.loss, step)
                if bar is not None:
                    bar.update(1)
            if steps and (yardstick or on_prefix):  # W is prefix len(steps): the candidates measured it
                known = {k: tried[k][2].start_db for k in remaining}
                if on_prefix is not None:
                    on_prefix(len(steps), W, known)
                if yardstick:
                    yardsticks.append(measure_yardstick(W, targets, config=config, known=known))
            best = min(remaining, key=lambda k: (tried[k][0], k))
            steps.append(tried[best][2])
            scores.append(tried[best][0])
            candidates.append({k: (score, loss) for k, (score, loss, _) in tried.items()})
            remaining.remove(best)
            W = tried[best][2].magnitude
            del tried
            if not keep_states:
                best_prefix = int(np.argmin(scores))
                for i, done in enumerate(steps[:-1]):
                    if i != best_prefix:
                        done.release()
        if on_prefix is not None:
            on_prefix(len(steps), W, {})
        if yardstick:
            yardsticks.append(measure_yardstick(W, targets, config=config))
    finally:
        if bar is not None:
            bar.close()
    return GreedyResult(
        sequence=tuple(s.view for s in steps),
        steps=steps,
        scores=scores,
        candidates=candidates,
        score=score_name,
        yardsticks=yardsticks,
    )
