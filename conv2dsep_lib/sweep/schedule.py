"""The order a sweep's runs start in, and how long the rest will take.

* **Cost** (:func:`task_cost`): a run's rough seconds on one core, from its excerpt's size
  and what it computes -- the slice steps (``n_slices``, and ``n(n+1)/2`` more with
  ``greedy``; the iterations of an iterative gain strategy), the estimates it scores (BSS
  Eval or SI-SDR only) and, for a baseline run, its target's baselines (five for vocals).  Only the ratios
  between runs matter.
* **Order** (:func:`order_tasks`): longest first, so that no long run starts while the
  other cores are running out of work, and one excerpt at a time (a process that runs
  several of its runs reads its audio once, see :class:`~.tasks.PairCache`): the excerpts
  by their longest run (then their total), each excerpt's runs longest first.  The first
  run is the longest of all and the last ones are short.  With the notebook sequence,
  where every run computes its excerpt's baselines unless a run before it stored them,
  every excerpt's first run comes first: no two processes start on the same excerpt's
  baselines at once.
* **Which run a free worker takes** (:func:`next_for_worker`): the next run of the excerpt
  it ran last if one is left (it has that audio loaded), else the next run of an excerpt no
  other worker is on, else the next run.  The pool keeps one run per worker in flight, so
  the run submitted when a worker finishes goes to that worker.
* **Remaining time** (:class:`SweepProgress`): the elapsed time scaled by the cost still
  to run over the cost finished -- a long run finishing early in the sweep does not make
  the rest look long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple

from ..core.config import Config
from ..separators.registry import baseline_kinds
from .plan import Task

__all__ = [
    "COST",
    "CostModel",
    "task_cost",
    "excerpt_key",
    "order_tasks",
    "next_for_worker",
    "SweepProgress",
    "format_seconds",
]


@dataclass(frozen=True)
class CostModel:
    """Seconds of one core per unit of work (fitted to runs on 30-s excerpts, one thread).

    Attributes
    ----------
    fixed : float
        Per spectrogram cell (``n_bins x n_frames``), once per run: the STFTs and the
        vocal's fingerprints.
    step : float
        Per spectrogram cell and slice step.
    iteration : float
        Per point-iteration of an iterative slice (:attr:`Config.iteration_cost`).
    estimate : float
        Per sample and estimate: its resynthesis and SI-SDR.
    bss : float
        Per sample and estimate, added by BSS Eval.
    bss_fixed : float
        Per sample, once per run with BSS Eval: the reference statistics.
    baselines : float
        Per sample: the five baselines' estimates (a baseline run).
    notebooks : float
        Seconds added to a run of the notebook sequence (kernels, figures).
    """

    fixed: float = 7.7e-8
    step: float = 1.5e-8
    iteration: float = 5.5e-9
    estimate: float = 7.0e-8
    bss: float = 4.8e-8
    bss_fixed: float = 1.8e-7
    baselines: float = 9.6e-7
    notebooks: float = 20.0


#: The cost model :func:`task_cost` uses by default.
COST = CostModel()


def _config(task: Task) -> Config:
    """The run's config (a baseline task's ``config`` holds the offset and the STFT fields)."""
    return Config.from_dict({k: v for k, v in task.config.items() if k in _FIELDS})


_FIELDS = frozenset(Config().to_dict())
_N_VOCAL_BASELINES = len(baseline_kinds("vocals"))


def task_cost(task: Task, *, model: CostModel = COST) -> float:
    """A run's rough duration on one core (seconds); see the module docstring.

    Parameters
    ----------
    task : Task
    model : CostModel

    Returns
    -------
    float > 0
    """
    config = _config(task)
    samples = float(config.n_samples)
    cells = float(config.n_bins * config.n_frames)
    scoring = model.estimate + (model.bss if task.bss else 0.0)
    fixed = samples * (model.bss_fixed if task.bss else 0.0)
    if task.kind == "baselines":
        n = len(baseline_kinds(task.target))  # the target's own (vocals: today's five)
        return fixed + samples * (model.baselines * (n / _N_VOCAL_BASELINES) + n * scoring)
    n = int(task.settings.get("n_slices", 1))
    greedy = bool(task.settings.get("greedy", True))
    steps = n + (n * (n + 1) // 2 if greedy else 0)
    estimates = n + (2 if greedy else 0)
    cost = (
        fixed
        + cells * (model.fixed + steps * model.step)
        + steps * model.iteration * config.iteration_cost
        + samples * estimates * scoring
    )
    if task.notebooks:
        cost = 2 * cost + model.notebooks  # 03 and 04 both run, in their own kernels
    return cost


def excerpt_key(task: Task) -> Tuple[Hashable, ...]:
    """The audio a run reads: its track, offset, excerpt length and rate."""
    config = _config(task)
    return (task.track.name, float(task.settings["offset"]), float(config.duration), int(config.sr))


def order_tasks(tasks: Sequence[Task], *, cost: Optional[Callable[[Task], float]] = None) -> List[Task]:
    """The runs in the order they should start (see the module docstring).

    Parameters
    ----------
    tasks : sequence of Task
    cost : callable, optional
        ``Task -> float``; default :func:`task_cost`.

    Returns
    -------
    list of Task
        The same tasks; ties keep the plan's order.
    """
    cost = cost or task_cost
    costs = {t.id: cost(t) for t in tasks}
    groups: Dict[Tuple[Hashable, ...], List[Task]] = {}
    for t in tasks:
        groups.setdefault(excerpt_key(t), []).append(t)
    ranked = [sorted(g, key=lambda t: -costs[t.id]) for g in groups.values()]
    ranked.sort(key=lambda g: (-costs[g[0].id], -sum(costs[t.id] for t in g)))
    if any(t.notebooks and t.baselines for t in tasks):
        return [g[0] for g in ranked] + [t for g in ranked for t in g[1:]]
    return [t for g in ranked for t in g]


def next_for_worker(remaining: Sequence[Task], *, last: Optional[Hashable], busy: Sequence[Hashable]) -> int:
    """Index in *remaining* of the run a free worker should take next (see the module docstring).

    Parameters
    ----------
    remaining : sequence of Task
        The runs not started yet, in :func:`order_tasks` order; not empty.
    last : hashable or None
        :func:`excerpt_key` of the run this worker finished (``None``: it has run nothing).
    busy : sequence of hashable
        The excerpt keys the other workers are running.

    Returns
    -------
    int
    """
    keys = [excerpt_key(t) for t in remaining]
    if last is not None and last in keys:
        return keys.index(last)
    for i, key in enumerate(keys):
        if key not in busy:
            return i
    return 0


def format_seconds(seconds: Optional[float]) -> str:
    """``"1:02:03"``, ``"02:03"`` or ``"?"`` (unknown)."""
    if seconds is None:
        return "?"
    s = int(round(max(0.0, seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


@dataclass
class SweepProgress:
    """Throughput and remaining time of the runs a sweep executes.

    Parameters
    ----------
    costs : mapping of str -> float
        Task id -> estimated cost (:func:`task_cost`) of every run to execute.
    clock : callable
        Seconds (default :func:`time.monotonic`); started at construction.
    """

    costs: Mapping[str, float]
    clock: Callable[[], float] = time.monotonic
    start: float = field(init=False)
    finished: Dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def done(self, task_id: str) -> None:
        """A run finished (ran or failed)."""
        self.finished[task_id] = self.costs.get(task_id, 0.0)

    @property
    def elapsed(self) -> float:
        return self.clock() - self.start

    @property
    def rate(self) -> Optional[float]:
        """Runs per second so far (``None`` before the first)."""
        elapsed = self.elapsed
        return len(self.finished) / elapsed if self.finished and elapsed > 0 else None

    @property
    def eta(self) -> Optional[float]:
        """Seconds until every run has finished (``None`` before the first; 0 at the end)."""
        total = sum(self.costs.values())
        done = sum(self.finished.values())
        if len(self.finished) >= len(self.costs):
            return 0.0
        if not self.finished or done <= 0:
            return None
        return self.elapsed * (total - done) / done

    def text(self) -> str:
        """``"eta 02:03, 0.85 run/s"`` (``"eta ?, ? run/s"`` before the first run finishes)."""
        rate = self.rate
        return f"eta {format_seconds(self.eta)}, {'?' if rate is None else f'{rate:.2f}'} run/s"
