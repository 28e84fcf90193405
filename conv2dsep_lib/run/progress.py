"""Progress of a run's stages: a tqdm bar on a terminal, a widget bar in Jupyter.

A ``best`` / ``progressive`` run shows one bar over its stages -- ``loading``, ``STFT``,
``progressive k=3/8``, ``greedy``, ``metrics and baselines``, ``figures``, ``writing`` --
whose description names the stage running now and whose count advances by one *step*
per unit of work: the file pair, the STFT, each slice of the progressive chain, each
candidate slice step of the greedy search, each estimate scored, each baseline computed
and scored, the figures, the files.  Steps differ in cost, so the bar shows the elapsed
time and no estimate of the rest.

``tqdm.auto`` draws a widget in Jupyter and text on stderr elsewhere; it is imported only
when a bar is shown, so a run without one (``--quiet``, stderr not a terminal, a library
call) pays nothing: every hook is a method of :data:`NO_PROGRESS`, which does nothing.
Both lanes of a run (:mod:`.lanes`) advance the same bar, under a lock.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, TextIO, TypeVar, Union

__all__ = ["RunProgress", "NoProgress", "NO_PROGRESS", "run_steps", "start_progress", "progress_hooks"]

T = TypeVar("T")
#: The bar: stage, share done, steps, elapsed time (steps differ in cost: no remaining time).
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}]"


def run_steps(
    *, n_slices: int, greedy: bool, baselines: int, loading: bool = False, writing: bool = False
) -> int:
    """The steps of a run (see the module docstring).

    Parameters
    ----------
    n_slices : int
    greedy : bool
    baselines : int
        Baselines computed and scored (0 when off or cached).
    loading, writing : bool
        Count the file pair read before the run, and the figures and files written after.
    """
    n = n_slices
    steps = 1 + n + n + 1  # STFT, the chain, its estimates scored, the scorer's reference statistics
    if greedy:
        steps += n * (n + 1) // 2 + 2  # every candidate step; the greedy order and its best prefix scored
    steps += 2 * baselines
    return steps + int(loading) + 2 * int(writing)


class NoProgress:
    """The progress hooks of a run without a bar: each does nothing.

    As a context manager, the hooks close their bar on exit if they own it (see
    :func:`progress_hooks`).
    """

    enabled = False

    def __enter__(self) -> "NoProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def shared(self) -> "NoProgress":
        """The same hooks for a callee, whose exit leaves the bar open."""
        return self

    def stage(self, name: str) -> None:
        """Name the stage running now."""

    def advance(self, n: int = 1) -> None:
        """*n* steps are done."""

    def skip(self, n: int) -> None:
        """*n* planned steps will not run (e.g. baselines found in the cache)."""

    def counting(self, fn: Callable[..., T]) -> Callable[..., T]:
        """*fn*, advancing one step per call (the greedy search's candidate scorer)."""
        return fn

    @contextmanager
    def during(self, name: str, steps: int = 1) -> Iterator[None]:
        """A stage of *steps* steps: named on entry, advanced on success."""
        self.stage(name)
        yield
        self.advance(steps)

    def close(self) -> None:
        """Remove the bar."""


class RunProgress(NoProgress):
    """One bar over a run's stages (``tqdm.auto``: a widget in Jupyter, text on stderr).

    Parameters
    ----------
    command : str
        ``"best"`` or ``"progressive"``: the bar's prefix.
    total : int
        Planned steps (:func:`run_steps`).
    file : file, optional
        Default ``sys.stderr``.
    """

    enabled = True

    def __init__(self, *, command: str, total: int, file: Optional[TextIO] = None) -> None:
        from tqdm.auto import tqdm

        self._prefix = command
        self._lock = threading.Lock()
        self._bar: Any = tqdm(
            total=total,
            desc=f"{command}: starting",
            unit="step",
            file=file if file is not None else sys.stderr,
            bar_format=BAR_FORMAT,
            dynamic_ncols=True,
            leave=False,
        )

    def stage(self, name: str) -> None:
        with self._lock:
            self._bar.set_description_str(f"{self._prefix}: {name}", refresh=True)

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self._bar.update(n)

    def skip(self, n: int) -> None:
        with self._lock:
            self._bar.total = max(self._bar.n, self._bar.total - n)
            self._bar.refresh()

    def counting(self, fn: Callable[..., T]) -> Callable[..., T]:
        def counted(*args: Any, **kwargs: Any) -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                self.advance()

        return counted

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    def shared(self) -> NoProgress:
        return _Shared(self)


class _Shared(NoProgress):
    """A bar's hooks lent to a callee: closing them leaves the bar to its owner."""

    enabled = True

    def __init__(self, owner: RunProgress) -> None:
        self.owner = owner
        self.stage, self.advance, self.skip = owner.stage, owner.advance, owner.skip
        self.counting, self.during = owner.counting, owner.during


#: The hooks of a run without a bar.
NO_PROGRESS = NoProgress()


def start_progress(
    show: bool,
    *,
    command: str,
    n_slices: int,
    greedy: bool,
    baselines: int,
    loading: bool = False,
    writing: bool = False,
    file: Optional[TextIO] = None,
) -> NoProgress:
    """A :class:`RunProgress` bar for a run when *show*, else :data:`NO_PROGRESS`.

    The command line decides *show* (a terminal on stderr and no ``--quiet``, or
    ``--progress``); a notebook passes ``progress=True`` to
    :func:`~conv2dsep_lib.run.experiment.run_experiment`, which starts its own.
    """
    if not show:
        return NO_PROGRESS
    total = run_steps(n_slices=n_slices, greedy=greedy, baselines=baselines, loading=loading, writing=writing)
    return RunProgress(command=command, total=total, file=file)


def progress_hooks(
    progress: Union[bool, NoProgress], *, n_slices: int, greedy: bool, baselines: int
) -> NoProgress:
    """The hooks a run advances: the caller's bar (left open when the run ends), a bar of
    its own when *progress* is ``True`` (closed when the run ends), else none."""
    if isinstance(progress, NoProgress):
        return progress.shared()
    command = "best" if greedy else "progressive"
    return start_progress(
        bool(progress), command=command, n_slices=n_slices, greedy=greedy, baselines=baselines
    )
