"""The functional API: run an experiment on an audio pair and build its record.

As in open-unmix: pure functions (:mod:`conv2dsep_lib.method`, scoring, separators) ->
this module (:func:`run_experiment`, :func:`build_record`; :mod:`.outputs` writes the
folder) -> the command line, the notebooks and the sweep, which only call these.

**This is an oracle method**: the optimisation needs the true vocal.  Every result
record carries ``"oracle": true`` and every plot title says ORACLE.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np

from ..core.config import STRATEGIES, Config, check_n_slices
from ..core.errors import ParameterError
from ..core.provenance import git_output, library_versions
from ..method.experiments import (
    GreedyResult,
    Scorer,
    StepResult,
    TargetFingerprints,
    iter_progressive,
    run_greedy,
)
from ..method.fingerprint import fingerprint_distance
from ..method.transforms import istft_magnitude_phase, stft, unit_phase
from ..method.views import VIEW_NAMES
from ..method.yardstick import MAX_FRAMES as YARDSTICK_MAX_FRAMES
from ..method.yardstick import Yardstick, measure_yardstick
from ..results.record import (
    BestPrefix,
    Candidate,
    Comparison,
    ConvergenceRecord,
    GreedyRecord,
    ProgressiveStep,
    RunRecord,
    best_by_loss_key,
    loss_vs_quality,
)
from ..results.targets import oracle_note
from ..scoring.metrics import si_sdr
from ..scoring.pair import PairScorer, separation_metrics
from ..scoring.scores import Scores
from ..separators.registry import baseline_jobs, baseline_kinds
from ..sources.audio import AudioPair
from ..sources.stems import pair_target
from .baselines import ScoredBaseline, cached_baselines, store_baselines, workers
from .lanes import Lanes
from .progress import NoProgress, progress_hooks
from .slices import PairSpectra, SliceReport, slice_report  # re-exported: their home until now

#: Key prefix of a baseline's scores among a run's (``"baseline:repet_sim"``).
BASELINE_KEY = "baseline:"
#: The order a run computes its baselines in (one not listed goes last): the band-pass and the
#: learned model (the longest job) first, then the oracle masks (they free the vocal's STFT),
#: then the other blind ones.  On a 3-minute song, the first two last changed neither time nor peak.
BASELINE_ORDER = (
    "bandpass",
    "learned",
    "oracle_irm",
    "oracle_ibm",
    "mixture",
    "repet_sim",
    "hpss",
    "hpss_percussive",
)

__all__ = [
    "make_scorer",
    "Experiment",
    "run_experiment",
    "build_record",
    "compare_strategies",
    "PairSpectra",
    "SliceReport",
    "slice_report",
]


@dataclass
class Experiment:
    """Everything an experiment computed, in memory (for notebooks and writers).

    Attributes
    ----------
    pair : AudioPair
    config : Config
    n_slices : int
    command : str
        ``"progressive"`` or ``"best"``.
    mixture_stft : np.ndarray [shape=(n_bins, n_frames)], complex
    progressive : list of StepResult
        ``progressive[k-1]`` = slices 1..k.
    greedy : GreedyResult or None
    estimates : dict of str -> np.ndarray [shape=(n,)]
        Extracted vocals: ``"k=1"``..``"k=N"``, ``"greedy"`` (full greedy order),
        ``"greedy_best"`` (best prefix).
    metrics : dict of str -> Scores
        :func:`conv2dsep_lib.scoring.pair.separation_metrics` per estimate key.
    baselines : dict of str -> ScoredBaseline
        Per baseline name, in report order (scores only: ``estimate`` is ``None``; ask
        :func:`conv2dsep_lib.run.baselines.score_baselines` with ``keep_estimates=True``
        for their audio).
    timings : dict of str -> float
        Seconds, wall clock: ``stft``, ``progressive`` (the method and resynthesis on this
        thread), ``greedy``, ``evaluation`` (waiting for scoring and baselines after the
        method); and ``busy.<kind>``: time spent on each kind of work summed over both lanes
        (``busy.scoring``, ``busy.resynthesis``, ``busy.baseline.repet_sim``, ...).
    yardsticks : dict of str -> Yardstick
        The common yardstick (:mod:`conv2dsep_lib.method.yardstick`) of every estimate's
        working magnitude, keys as *estimates*.
    shown : str
        The estimate with the lowest yardstick ``mean_19`` (the one the spectrogram figure
        shows); the other steps' full-size magnitudes are released after reconstruction.
    shown_magnitude : np.ndarray [shape=(n_bins, n_frames)] or None
        Its working magnitude (kept for the figure).
    last_magnitude : np.ndarray [shape=(n_bins, n_frames)] or None
        The working magnitude of k = N, when asked for (``keep_last``: a multi-target run's
        joint estimate is built from it).
    """

    pair: AudioPair
    config: Config
    n_slices: int
    command: str
    mixture_stft: np.ndarray
    progressive: List[StepResult]
    greedy: Optional[GreedyResult]
    estimates: Dict[str, np.ndarray] = field(default_factory=dict)
    metrics: Dict[str, Scores] = field(default_factory=dict)
    baselines: Dict[str, ScoredBaseline] = field(default_factory=dict)
    timings: Dict[str, float] = field(default_factory=dict)
    yardsticks: Dict[str, Yardstick] = field(default_factory=dict)
    shown: str = "k=1"
    shown_magnitude: Optional[np.ndarray] = None
    last_magnitude: Optional[np.ndarray] = None

    @cached_property
    def phase(self) -> np.ndarray:
        """The mixture's phase factor [shape=(n_bins, n_frames)], complex (computed once)."""
        return unit_phase(self.mixture_stft)

    def reconstruct(self, magnitude: np.ndarray) -> np.ndarray:
        """Audio of a magnitude with the mixture's phase [shape=(n,)] (the numbers of
        :func:`~conv2dsep_lib.method.transforms.istft_with_phase`)."""
        return istft_magnitude_phase(magnitude, self.phase, config=self.config, length=len(self.pair.mixture))


def run_experiment(
    pair: AudioPair,
    *,
    config: Config,
    n_slices: int,
    greedy: bool = True,
    baselines: bool = True,
    bss: bool = True,
    progress: Union[bool, NoProgress] = False,
    keep_last: bool = False,
) -> Experiment:
    """Run progressive 1..N (and the greedy order) on a mixture/vocal pair.

    Parameters
    ----------
    pair : AudioPair
        Mono, aligned, at ``config.sr``.
    config : Config
    n_slices : int in 1..18
    greedy : bool
        Also run the greedy search (``conv2dsep best``).
    baselines : bool
        Compute the reference points (mixture floor, oracle masks, blind baselines).
    bss : bool
        Compute BSS Eval v4 (SDR/SIR/SAR/ISR) besides SI-SDR.
    progress : bool or NoProgress
        ``True``: a bar over the run's stages (:mod:`.progress`; a widget in Jupyter,
        text on stderr); the caller's :class:`~.progress.RunProgress` (the command
        line's, which also counts loading and writing) is advanced and left open.
    keep_last : bool
        Keep k = N's working magnitude as :attr:`Experiment.last_magnitude`.

    Returns
    -------
    Experiment
    """
    n_slices = check_n_slices(n_slices)
    if pair.sr != config.sr:
        raise ParameterError(f"pair sample rate {pair.sr} differs from config sr={config.sr}")
    timings: Dict[str, float] = {}
    kinds = baseline_kinds(pair_target(pair))  # the target's own (vocals: today's five)
    n_baselines = len(kinds) if baselines else 0
    bar = progress_hooks(progress, n_slices=n_slices, greedy=greedy, baselines=n_baselines)
    bar.stage("STFT")
    t0 = time.perf_counter()
    X = stft(pair.mixture, config=config)
    mixture_mag = np.abs(X).astype(np.float64)
    V: Optional[np.ndarray] = stft(pair.vocal, config=config)
    targets = TargetFingerprints(np.abs(V).astype(np.float64), config=config)
    timings["stft"] = time.perf_counter() - t0
    bar.advance()

    exp = Experiment(
        pair=pair,
        config=config,
        n_slices=n_slices,
        command="best" if greedy else "progressive",
        mixture_stft=X,
        progressive=[],
        greedy=None,
    )
    scorer = PairScorer(pair.vocal, pair.mixture, sr=config.sr, bss=bss)
    scores: Dict[str, Scores] = {}
    busy: Dict[str, float] = {}  # seconds spent per kind of work, over both lanes

    @contextmanager
    def spent(kind: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            busy[kind] = busy.get(kind, 0.0) + time.perf_counter() - t

    def score(key: str, estimate: np.ndarray) -> None:
        with spent("scoring"):
            scores[key] = scorer.score(estimate)
        bar.advance()

    def prepare() -> None:
        with spent("scoring.reference_statistics"):
            scorer.prepare()
        bar.advance()

    def baseline(name: str, job: Callable[[], np.ndarray]) -> None:
        with spent(f"baseline.{name}"):
            estimate = job()
        bar.advance()
        lanes.add(score, BASELINE_KEY + name, estimate)

    cached = cached_baselines(pair, config=config, bss=bss) if baselines else None
    # Two lanes (see .lanes): a helper thread builds the scorer's reference statistics and the
    # baselines; this thread runs the method, resynthesises each state as it comes and queues
    # its scoring, then helps with what is left.  A state's magnitude is dropped once it is
    # audio, except the lowest-yardstick one (the figures show it).
    bar.skip(2 * n_baselines if cached is not None else 0)
    with bar, Lanes(helpers=workers() - 1) as lanes:
        lanes.add(prepare)
        if baselines and cached is None:
            jobs = baseline_jobs(
                pair.mixture, pair.vocal, config=config, names=list(kinds), mixture_stft=X, vocal_stft=V
            )
            bar.skip(2 * (n_baselines - len(jobs)))
            for name in sorted(
                jobs, key=lambda n: BASELINE_ORDER.index(n) if n in BASELINE_ORDER else len(BASELINE_ORDER)
            ):
                lanes.add(baseline, name, jobs[name])
            del jobs
        V = None  # the baseline jobs hold it as long as they need it

        def extract(key: str, step: StepResult) -> None:
            with spent("resynthesis"):
                exp.estimates[key] = exp.reconstruct(step.magnitude)
                step.loss_curve  # computed now, so the step can drop what it was computed from
            lanes.add(score, key, exp.estimates[key])

        # The yardstick of every state (k = 1..N, every greedy prefix) is a job on the lanes,
        # computed from the state's magnitude before the state is released: the job holds the
        # array, and keeps it only if it is the lowest so far (the spectrogram figure shows it).
        # At most MAX_PENDING_YARDSTICKS wait in the queue (each holds a full-size magnitude);
        # beyond that this thread measures the state itself.
        # The vocal's fingerprints (and its magnitude) are needed by the method and the yardstick
        # only: they are dropped once both are done, before the rest of the evaluation runs
        # (~150 MB on a 3-minute song).
        ys_lock = threading.Lock()
        ys_targets: Optional[TargetFingerprints] = targets
        pending = [0]
        method_done = [False]

        def drop_targets() -> None:  # under ys_lock, when the method and every yardstick are done
            nonlocal ys_targets
            if method_done[0] and pending[0] == 0:
                ys_targets = None

        best_progressive: List[Any] = [(math.inf, 0), None]  # ((mean_19, k), magnitude)

        def yardstick_job(
            key: str, magnitude: np.ndarray, known: Dict[int, Optional[np.ndarray]], queued: bool
        ) -> None:
            with spent("yardstick"):
                ys = measure_yardstick(magnitude, ys_targets, config=config, known=known)
            with ys_lock:
                exp.yardsticks[key] = ys
                pending[0] -= queued
                drop_targets()
                if key.startswith("k="):
                    rank = (ys.mean_19 if math.isfinite(ys.mean_19) else math.inf, int(key[2:]))
                    if best_progressive[1] is None or rank < best_progressive[0]:
                        best_progressive[:] = [rank, magnitude]

        def measure(key: str, magnitude: np.ndarray, known: Dict[int, Optional[np.ndarray]]) -> None:
            with ys_lock:  # a long input is measured on blocks (cheap): here, holding nothing
                queued = pending[0] < MAX_PENDING_YARDSTICKS and magnitude.shape[-1] <= YARDSTICK_MAX_FRAMES
                pending[0] += queued
            if queued:
                lanes.add(yardstick_job, key, magnitude, known, True)
            else:
                yardstick_job(key, magnitude, known, False)

        t0 = time.perf_counter()
        bar.stage(f"progressive k=1/{n_slices}")
        states = iter_progressive(mixture_mag, targets, n_slices=n_slices, config=config)
        if not greedy:
            del mixture_mag  # the states own the start; the figures take |X| again
        for k, step in enumerate(states, 1):
            bar.advance()
            bar.stage(f"progressive k={k + 1}/{n_slices}" if k < n_slices else "progressive done")
            exp.progressive.append(step)
            extract(f"k={k}", step)
            if not greedy:  # only the greedy search asks for a view's fingerprint again
                targets.forget(step.view)
            if k > 1:  # step k started from state k - 1: its fingerprint in view k is known
                prev = exp.progressive[k - 2]
                measure(f"k={k - 1}", prev.magnitude, {step.view: step.start_db})
                prev.release()  # the generator has moved past it; the job holds the array
        measure(f"k={n_slices}", exp.progressive[-1].magnitude, {})
        if keep_last:
            exp.last_magnitude = exp.progressive[-1].magnitude
        exp.progressive[-1].release()
        timings["progressive"] = time.perf_counter() - t0

        if greedy:
            t0 = time.perf_counter()
            bar.stage(f"greedy ({config.greedy_score})")
            exp.greedy = run_greedy(
                mixture_mag,
                targets,
                n_slices=n_slices,
                config=config,
                scorer=bar.counting(
                    make_scorer(
                        config.greedy_score, config=config, targets=targets, mixture_stft=X, vocal=pair.vocal
                    )
                ),
                score_name=config.greedy_score,
                progress=False,  # the run's bar counts the candidate steps
                keep_states=False,
                on_prefix=lambda k, magnitude, known: measure(f"greedy:{k}", magnitude, known),
            )
            g = exp.greedy
            extract("greedy", g.steps[-1])
            extract("greedy_best", g.steps[g.best_prefix - 1])
            timings["greedy"] = time.perf_counter() - t0
        del states
        targets = mixture_mag = None  # noqa: F841 - the yardstick jobs still queued hold ys_targets
        with ys_lock:
            method_done[0] = True
            drop_targets()
        # the states are audio: the mixture's phase goes (recomputed if reconstruct is called again)
        exp.__dict__.pop("phase", None)

        t0 = time.perf_counter()
        bar.stage("metrics and baselines")
        lanes.finish()
        timings["evaluation"] = time.perf_counter() - t0
    _settle_shown(exp, best_progressive[1])
    timings.update({f"busy.{kind}": seconds for kind, seconds in sorted(busy.items())})
    exp.metrics = {key: scores[key] for key in exp.estimates}
    if cached is not None:
        exp.baselines = cached
    elif baselines:
        exp.baselines = {
            name: ScoredBaseline(kind=kind, estimate=None, metrics=scores[BASELINE_KEY + name])
            for name, kind in kinds.items()
        }
        store_baselines(pair, exp.baselines, config=config, bss=bss)
    exp.timings = timings
    return exp


#: Yardstick jobs that may wait on the lanes at once (each holds one state's magnitude).
MAX_PENDING_YARDSTICKS = 3


def _settle_shown(exp: Experiment, best_progressive: Optional[np.ndarray]) -> None:
    """After the lanes: the greedy prefixes' yardsticks in order, the estimate with the lowest
    yardstick ``mean_19`` as :attr:`Experiment.shown` (its magnitude kept for the figure), every
    other state released."""
    g = exp.greedy
    if g is not None:
        g.yardsticks = [exp.yardsticks.pop(f"greedy:{k}") for k in range(1, len(g.steps) + 1)]
        exp.yardsticks["greedy"] = g.yardsticks[-1]
        exp.yardsticks["greedy_best"] = g.yardsticks[g.best_prefix - 1]
    order = [f"k={k}" for k in range(1, exp.n_slices + 1)] + (["greedy_best"] if g is not None else [])
    exp.yardsticks = {key: exp.yardsticks[key] for key in (*order, "greedy") if key in exp.yardsticks}
    exp.shown = best_by_loss_key({key: exp.yardsticks[key].mean_19 for key in order})
    if g is not None:
        best_step = g.steps[g.best_prefix - 1]
        exp.shown_magnitude = best_step.magnitude if exp.shown == "greedy_best" else best_progressive
        for s in (g.steps[-1], best_step):
            s.release()
    else:
        exp.shown_magnitude = best_progressive


def make_scorer(
    name: str,
    *,
    config: Config,
    targets: TargetFingerprints,
    mixture_stft: Optional[np.ndarray] = None,
    vocal: Optional[np.ndarray] = None,
) -> Scorer:
    """Return a greedy criterion (lower is better) by name.

    * ``"step_loss"`` -- the step's own loss (the seed's; note it is measured in a
      different view for every candidate).
    * ``"si_sdr"`` -- minus the SI-SDR of the candidate's reconstruction (mixture
      phase) against the true vocal: a common yardstick.  Needs *mixture_stft* and
      *vocal*.
    * ``"fingerprint"`` -- the mean fingerprint distance over all 19 views to the
      vocal: a common yardstick in the method's own terms.
    """
    if name == "step_loss":
        return lambda step: step.loss
    if name == "si_sdr":
        if mixture_stft is None or vocal is None:
            raise ParameterError("the si_sdr greedy score needs the mixture STFT and the vocal")
        phase, reference = unit_phase(mixture_stft), vocal

        def score(step: StepResult) -> float:
            est = istft_magnitude_phase(step.magnitude, phase, config=config, length=len(reference))
            value = -si_sdr(reference, est)
            return value if np.isfinite(value) or value == np.inf else np.inf  # silent: worst

        return score
    if name == "fingerprint":
        return lambda step: fingerprint_distance(step.magnitude, config=config, target_fps=targets)
    raise ParameterError(f"greedy score {name!r} is unknown: allowed step_loss, si_sdr, fingerprint")


# ------------------------------------------------------------------ the record
def _names(seq: Sequence[int]) -> tuple:
    return tuple(VIEW_NAMES[k] for k in seq)


def _si(metrics: Optional[Scores]) -> Optional[float]:
    return None if metrics is None else metrics.si_sdr


def _greedy_record(exp: Experiment, audio_paths: Mapping[str, str]) -> GreedyRecord:
    g = exp.greedy
    assert g is not None
    b = g.best_prefix
    return GreedyRecord(
        score=g.score,
        sequence=_names(g.sequence),
        losses=tuple(g.losses),
        scores=tuple(g.scores),
        loss=g.losses[-1],
        metrics=exp.metrics.get("greedy"),
        audio=audio_paths.get("greedy"),
        best_prefix=BestPrefix(
            n_slices=b,
            sequence=_names(g.sequence[:b]),
            loss=g.losses[b - 1],
            score=g.scores[b - 1],
            metrics=exp.metrics.get("greedy_best"),
            audio=audio_paths.get("greedy_best"),
            yardstick=g.yardsticks[b - 1] if g.yardsticks else None,
        ),
        yardsticks=tuple(g.yardsticks),
        slice_steps=g.n_steps,
        candidates=tuple(
            {VIEW_NAMES[k]: Candidate(score=score, loss=loss) for k, (score, loss) in c.items()}
            for c in g.candidates
        ),
    )


def _comparison(original: ProgressiveStep, greedy: GreedyRecord) -> Comparison:
    orig_si, greedy_si = _si(original.metrics), _si(greedy.metrics)
    higher = None
    if orig_si is not None and greedy_si is not None and math.isfinite(orig_si) and math.isfinite(greedy_si):
        higher = "greedy" if greedy_si > orig_si else "original"
    ys_orig, ys_greedy = original.yardstick, greedy.yardstick
    if ys_orig is not None and ys_greedy is not None:  # like with like: the same 19 views
        by, lower = "yardstick.mean_19", ys_greedy.mean_19 < ys_orig.mean_19
    else:
        by, lower = "step_loss", greedy.loss < original.loss
    return Comparison(
        original_order_loss=original.loss,
        greedy_order_loss=greedy.loss,
        greedy_best_prefix_loss=greedy.best_prefix.loss,
        lower_loss="greedy" if lower else "original",
        original_order_si_sdr=orig_si,
        greedy_order_si_sdr=greedy_si,
        higher_si_sdr=higher,
        lower_loss_by=by,
        original_order_yardstick=ys_orig,
        greedy_order_yardstick=ys_greedy,
        greedy_best_prefix_yardstick=greedy.best_prefix.yardstick,
    )


def build_record(
    exp: Experiment,
    *,
    audio_paths: Optional[Mapping[str, str]] = None,
    arguments: Optional[Mapping[str, Any]] = None,
) -> RunRecord:
    """The typed record of an experiment (``results.json`` is its :meth:`~RunRecord.to_json`).

    Parameters
    ----------
    exp : Experiment
    audio_paths : mapping, optional
        Relative path of each estimate's wav (keys as ``exp.estimates``).
    arguments : mapping, optional
        The command-line arguments (or notebook parameters), recorded as given.
    """
    audio_paths = audio_paths or {}
    steps = exp.progressive
    progressive = tuple(
        ProgressiveStep(
            n_slices=k,
            sequence=_names([s.view for s in steps[:k]]),
            loss=steps[k - 1].loss,
            step_losses=tuple(s.loss for s in steps[:k]),
            loss_curve=tuple(steps[k - 1].loss_curve.tolist()),
            metrics=exp.metrics.get(f"k={k}"),
            audio=audio_paths.get(f"k={k}"),
            yardstick=exp.yardsticks.get(f"k={k}"),
        )
        for k in range(1, exp.n_slices + 1)
    )
    greedy = _greedy_record(exp, audio_paths) if exp.greedy is not None else None
    return RunRecord(
        command=exp.command,
        n_slices=exp.n_slices,
        config=exp.config,
        input=dict(exp.pair.source),
        progressive=progressive,
        loss_vs_quality=loss_vs_quality(progressive),
        method=f"Conv2D spectral fingerprinting, gain strategy {exp.config.strategy} (3 = the seed's dB-space descent)",
        greedy=greedy,
        comparison=None if greedy is None else _comparison(progressive[-1], greedy),
        convergence=ConvergenceRecord.of(exp.config),
        baselines={name: b.record() for name, b in exp.baselines.items()},
        timings=dict(exp.timings),
        arguments=dict(arguments or {}),
        git_commit=git_output("rev-parse", "HEAD") or None,
        versions=library_versions(),
        note=oracle_note(pair_target(exp.pair)),
    )


def compare_strategies(
    pair: AudioPair,
    *,
    config: Config,
    n_slices: int,
    strategies: Sequence[int] = STRATEGIES,
    bss: bool = True,
) -> Dict[int, RunRecord]:
    """Progressive 1..N with every gain strategy on the same pair (notebook 02).

    SI-SDR is measured for every k; BSS Eval v4 (SDR/SIR/SAR, the slow part) only for
    the last k of each strategy, when *bss*.

    Returns
    -------
    dict of int -> RunRecord
        Strategy -> the record of its progressive run (ORACLE).
    """
    records = {}
    for s in strategies:
        exp = run_experiment(
            pair,
            config=config.replace(strategy=s),
            n_slices=n_slices,
            greedy=False,
            baselines=False,
            bss=False,
        )
        if bss:
            key = f"k={exp.n_slices}"
            exp.metrics[key] = separation_metrics(
                pair.vocal, exp.estimates[key], pair.mixture, sr=config.sr, bss=True
            )
        records[s] = build_record(exp)
    return records
