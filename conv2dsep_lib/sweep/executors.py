"""Where a sweep's tasks run: this process, a local process pool, or Dask.

* **Local pool** (``workers > 1``): ``fork``-started worker processes (all started at the
  first submission, while the driver runs one thread; they begin with the modules the
  driver has imported, which made a 4-song sweep ~4 % faster than ``spawn``) with one thread
  each (``CONV2DSEP_THREADS=1`` and one BLAS / OpenMP thread: environment variables set
  before they start, plus ``threadpoolctl``): the processes are the parallelism.  A worker
  sets malloc up as the command line does, imports and exercises what a run uses once, in
  its initializer (:func:`~.tasks.warm_up`), and stays for all the runs, taking the next
  one whenever it is free: the driver keeps one run per worker in flight and gives a worker
  that finishes the next run of the excerpt it has loaded, else of an excerpt no other worker
  is on (:func:`~.schedule.next_for_worker`; runs in the order given, the longest first).
  The pool hands a submitted run to whichever worker is idle: almost always the one that just
  finished; when two finish at once they may swap, which only costs a re-read of the audio.  The workers ignore SIGINT from their first instruction.
  Ctrl-C in the driver cancels what has not started and stops the workers (SIGTERM
  interrupts a running run; its atomic writers drop their temporary files).
* **Dask** (``scheduler``, ``dask_local`` or a ``client``): the same task function via
  ``client.map``, in the same order; workers need the same conv2dsep and the same paths.

Both yield :class:`~conv2dsep_lib.sweep.tasks.TaskOutcome` objects as runs finish.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

from ..core.errors import ErrorRecord, ParameterError
from ..core.memory import tune_malloc
from .plan import Task
from .schedule import excerpt_key, next_for_worker
from .tasks import TaskOutcome, failure_outcome, forget_pairs, request_stop, run_one, warm_up

__all__ = ["iter_local", "iter_dask", "dask_client"]

_BLAS_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "CONV2DSEP_THREADS",  # one thread per run: the pool's processes are the parallelism
)


@contextmanager
def _single_thread_env() -> Iterator[None]:
    old = {k: os.environ.get(k) for k in _BLAS_VARS}
    os.environ.update({k: "1" for k in _BLAS_VARS})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_THREAD_LIMITS = None


@contextmanager
def _blas_single_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _on_sigterm(signum, frame):  # pragma: no cover - runs in pool workers
    if request_stop():
        raise KeyboardInterrupt  # unwinds through the atomic writers, then run_one exits
    os._exit(0)


#: A pool worker checks this often (s) whether its driver is still alive.
PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:  # pragma: no cover - runs in pool workers
    """Watchdog thread of a pool worker: exit when the driver is gone (e.g. SIGKILLed),
    instead of waiting forever for work that will never come.  What the run was writing
    is atomic; its temporaries are pid-tagged and removed by the next run."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _init_worker(parent: int) -> None:  # pragma: no cover - runs in pool workers
    """Pool worker set-up: malloc as the command line's (before any thread starts); exit with
    the driver; one BLAS thread; Ctrl-C is the driver's business; then import and exercise
    what a run uses (:func:`~.tasks.warm_up`)."""
    global _THREAD_LIMITS
    tune_malloc()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watchdog").start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from threadpoolctl import threadpool_limits

        _THREAD_LIMITS = threadpool_limits(limits=1)
    except ImportError:  # threadpoolctl is optional; the *_NUM_THREADS variables still apply
        pass
    warm_up()


@contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Processes started inside ignore SIGINT from their first instruction: an ignored signal
    stays ignored across ``exec`` and Python keeps it so.  (A Ctrl-C in these few
    milliseconds is lost; outside the main thread nothing is changed.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _outcome_of_exception(task: Task, exc: BaseException) -> TaskOutcome:
    """A run that died outside run_one (worker crash, cancelled, pickling): record it."""
    try:
        return failure_outcome(task, exc, 0.0)
    except Exception:  # pragma: no cover - the folder is not writable
        return TaskOutcome(id=task.id, status="failed", error=ErrorRecord.from_exception(exc), seconds=0.0)


def _stop_pool(ex, futures) -> None:
    for f in futures:
        f.cancel()
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()  # SIGTERM: interrupts a running run (see _on_sigterm)
    for p in procs:
        p.join(timeout=15)
        if p.is_alive():  # pragma: no cover
            p.kill()
            p.join(timeout=5)


def iter_local(tasks: List[Task], workers: int) -> Iterator[TaskOutcome]:
    """Run *tasks* here (``workers == 1``) or in a forked process pool, in their order (the
    next one goes to whichever worker is free); yield outcomes as they finish."""
    try:
        if workers == 1 or len(tasks) <= 1:
            with _blas_single_thread():  # as in the pool workers: faster for small BLAS calls
                for t in tasks:
                    yield run_one(t)
            return
        yield from _iter_pool(tasks, min(workers, len(tasks)))
    finally:
        forget_pairs()  # the excerpts this process kept for its runs


def _run_in_worker(task: Task) -> "tuple[int, TaskOutcome]":  # pragma: no cover - in workers
    """:func:`run_one` and the worker's pid (the driver gives that worker its next run)."""
    return os.getpid(), run_one(task)


def _iter_pool(tasks: List[Task], workers: int) -> Iterator[TaskOutcome]:
    """One run per worker in flight: when a worker finishes, its next run is chosen for it
    (:func:`~.schedule.next_for_worker`: the excerpt it has loaded first) and submitted."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ex = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )
    remaining = list(tasks)
    futures: Dict[Any, Task] = {}
    last: Dict[int, Any] = {}  # worker pid -> excerpt it ran last

    def submit(worker_last: Any) -> None:
        busy = [excerpt_key(t) for t in futures.values()]
        task = remaining.pop(next_for_worker(remaining, last=worker_last, busy=busy))
        futures[ex.submit(_run_in_worker, task)] = task

    try:
        with _single_thread_env():
            with _children_ignore_sigint():  # the first submission starts the workers
                for _ in range(min(workers, len(remaining))):
                    submit(None)
            while futures:
                done, _pending = wait(list(futures), return_when=FIRST_COMPLETED)
                for f in done:
                    task = futures.pop(f)
                    worker_last: Any = None
                    try:
                        pid, outcome = f.result()
                        last[pid] = worker_last = excerpt_key(task)
                    except Exception as exc:
                        outcome = _outcome_of_exception(task, exc)
                    if remaining:
                        submit(worker_last)
                    yield outcome
    except BaseException:
        _stop_pool(ex, futures)
        raise
    ex.shutdown(wait=True)


def iter_dask(tasks: List[Task], client: Any) -> Iterator[TaskOutcome]:
    """Run *tasks* on a Dask client; yield outcomes as they finish."""
    from distributed import as_completed

    futures = client.map(run_one, tasks, pure=False)
    by_key = {f.key: t for f, t in zip(futures, tasks)}
    try:
        for f in as_completed(futures):
            try:
                yield f.result()
            except Exception as exc:
                yield _outcome_of_exception(by_key[f.key], exc)
    except BaseException:
        client.cancel(futures)
        raise


@contextmanager
def dask_client(*, scheduler: Optional[str], dask_local: bool, workers: int, client: Any) -> Iterator[Any]:
    """A Dask client: *client* as given, one connected to *scheduler*, or a fresh local cluster."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            c = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(
                f"could not connect to the Dask scheduler {scheduler!r}: {exc} "
                "(allowed an address like tcp://HOST:8786 of a running scheduler)"
            ) from None
        try:
            yield c
        finally:
            c.close()
        return
    import dask

    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc give
    # every large numpy temporary back to the system: runs here took twice as long with it.
    # One thread per run, as in the local pool: the worker processes are the parallelism.
    environ = {
        k: v
        for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
        if k != "MALLOC_TRIM_THRESHOLD_"
    }
    environ.update({k: "1" for k in _BLAS_VARS})
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()
