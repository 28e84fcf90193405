"""Two lanes of work on a two-core machine: this thread and one helper share a job list.

A run has one long chain that cannot be split -- the method's steps, each needing the
previous one -- and many independent jobs: building the scorer's reference statistics,
each baseline, scoring each estimate.  The chain runs on the calling thread and adds a
job whenever an estimate exists; the helper thread takes jobs from the start; when the
chain is done, the calling thread takes jobs too, until none are left.  Exactly two
busy threads on two cores: no oversubscription, no idle core while work is left.
(With more cores, the helpers can be more: ``Lanes(helpers=n)``; with none, the caller
does every job in :meth:`finish`.)
"""

from __future__ import annotations

import collections
import threading
from typing import Any, Callable, Deque, List, Optional, Tuple

from ..core.memory import release_free_memory

__all__ = ["Lanes"]


class Lanes:
    """A job list worked on by helper threads and, once it calls :meth:`finish`, the caller.

    Use as a context manager::

        with Lanes() as lanes:
            lanes.add(job, arg)        # helpers start at once
            ...                        # the caller's own chain, adding jobs as it goes
            lanes.finish()             # the caller works too, until every job is done

    A job may add jobs.  The first exception of any job is raised by :meth:`finish` (the
    jobs not yet started are dropped); leaving the ``with`` block early stops the helpers
    after their current job.
    """

    def __init__(self, *, helpers: int = 1):
        self._jobs: Deque[Tuple[Callable[..., Any], Tuple[Any, ...]]] = collections.deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._closed = False
        self._error: Optional[BaseException] = None
        self._threads: List[threading.Thread] = [
            threading.Thread(target=self._work, name=f"conv2dsep-lane-{i + 1}", daemon=True)
            for i in range(max(0, helpers))
        ]

    def __enter__(self) -> "Lanes":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._cond:
            if exc[0] is not None or self._error is not None:
                self._jobs.clear()
            self._closed = True
            self._cond.notify_all()
        for t in self._threads:
            t.join()

    def add(self, job: Callable[..., Any], *args: Any) -> None:
        """Queue ``job(*args)`` (taken in the order added)."""
        with self._cond:
            self._jobs.append((job, args))
            self._cond.notify_all()

    def finish(self) -> None:
        """Work on the jobs from this thread too; return when all are done (or raise the first
        job's exception)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._work()
        for t in self._threads:
            t.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and self._error is None and not (self._closed and self._busy == 0):
                    self._cond.wait()
                if self._error is not None or not self._jobs:
                    self._cond.notify_all()
                    return
                job, args = self._jobs.popleft()
                self._busy += 1
            try:
                job(*args)
            except BaseException as exc:  # handed to the caller by finish()
                with self._cond:
                    if self._error is None:
                        self._error = exc
                    self._jobs.clear()
            finally:
                job = args = None  # type: ignore[assignment]
                release_free_memory()
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
