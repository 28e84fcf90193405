"""The sweep's task function :func:`run_one`, and what a finished run leaves on disk.

Every run writes ``OUT/runs/<track>/<setting>/results.json``: the run's record (a
:class:`~conv2dsep_lib.results.record.RunRecord`, or the baselines of one excerpt)
plus a ``sweep`` section (:class:`SweepRun`: cache key, settings, code, timing).  A
failed run writes ``failed.json`` instead (an
:class:`~conv2dsep_lib.core.errors.ErrorRecord`), is reported and tried again next
time.  The tidy rows are derived from the stored record when the table is assembled,
so a change of the table code never invalidates a finished run.

A process that runs several tasks (a pool worker, a Dask worker, the driver) keeps the
last excerpts it loaded (:class:`PairCache`): the settings of one track read and resample
its audio once per process.  With several targets (``--targets``) the excerpt is loaded
once with all their stems, and each target's run takes its pair from it
(:func:`~conv2dsep_lib.sources.stems.pair_for_target`).  :func:`warm_up` imports and exercises, on a tiny synthetic
pair, what a run uses, so that a pool worker's first run costs what the others do.
"""

from __future__ import annotations

import collections
import copy
import datetime as _dt
import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, Hashable, List, Mapping, Optional, Tuple

import numpy as np

from ..core.config import Config
from ..core.errors import ErrorRecord
from ..core.files import remove_temporaries, write_json
from ..results.record import ORACLE_NOTE, BaselineRecord, RunRecord
from ..results.tables import baseline_rows, record_rows, record_target
from ..run.baselines import score_baselines
from ..run.experiment import build_record, run_experiment
from ..run.notebooks import list_notebooks, run_notebooks
from ..separators.registry import compute_baselines
from ..sources.audio import AudioPair, write_wav
from ..sources.stems import DEFAULT_TARGETS, pair_for_target
from .plan import BASELINE_FIELDS, Task, cache_key, code_version, open_source

__all__ = [
    "RESULTS_NAME",
    "FAILED_NAME",
    "SweepRun",
    "BaselinesRun",
    "TaskOutcome",
    "run_one",
    "finished_outcome",
    "failure_outcome",
    "request_stop",
    "PairCache",
    "pair_key",
    "load_pair",
    "forget_pairs",
    "warm_up",
]

RESULTS_NAME = "results.json"
FAILED_NAME = "failed.json"

_RUNNING = False  # True while run_one works (a pool worker's SIGTERM handler reads it)
_STOPPING = False  # set by SIGTERM in a pool worker: finish no further run


def request_stop() -> bool:
    """Tell this process to take no further run; returns whether one is running now."""
    global _STOPPING
    _STOPPING = True
    return _RUNNING


@dataclass(frozen=True)
class SweepRun:
    """The ``sweep`` section of a run's ``results.json``: what makes it reusable."""

    key: str
    run: str
    kind: str
    track: str
    setting: str
    settings: Mapping[str, Any]
    code: Mapping[str, str]
    bss: bool
    notebooks: bool
    seconds: float
    finished: str
    pid: int
    audio: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {
            "key": self.key,
            "run": self.run,
            "kind": self.kind,
            "track": self.track,
            "setting": self.setting,
            "settings": dict(self.settings),
            "code": dict(self.code),
            "bss": self.bss,
            "notebooks": self.notebooks,
            "audio": self.audio,
            "seconds": self.seconds,
            "pid": self.pid,
            "finished": self.finished,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "SweepRun":
        return cls(
            key=d["key"],
            run=d["run"],
            kind=d["kind"],
            track=d["track"],
            setting=d["setting"],
            settings=MappingProxyType(dict(d["settings"])),
            code=MappingProxyType(dict(d["code"])),
            bss=bool(d["bss"]),
            notebooks=bool(d["notebooks"]),
            seconds=float(d["seconds"]),
            finished=d["finished"],
            pid=int(d["pid"]),
            audio=d.get("audio"),
        )


@dataclass(frozen=True)
class BaselinesRun:
    """The reference points of one track excerpt (a ``baselines_*`` run's record)."""

    input: Mapping[str, Any]
    config: Config
    baselines: Mapping[str, BaselineRecord]

    note = (
        "Reference points of the sweep (floor, oracle masks, blind methods) for one excerpt; "
        "the Conv2D method's rows are " + ORACLE_NOTE
    )

    def to_json(self) -> Dict[str, Any]:
        return {
            "oracle": True,
            "note": self.note,
            "input": dict(self.input),
            "config": self.config.to_dict(),
            "baselines": {n: b.to_json() for n, b in self.baselines.items()},
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "BaselinesRun":
        return cls(
            input=MappingProxyType(dict(d.get("input") or {})),
            config=Config.from_dict(d["config"]),
            baselines={n: BaselineRecord.from_json(b) for n, b in d["baselines"].items()},
        )


@dataclass(frozen=True)
class TaskOutcome:
    """What one task gave the driver: ``status`` ``"ok"``, ``"cached"`` or ``"failed"``,
    the tidy rows (without track / setting / parameter columns), and the error if failed."""

    id: str
    status: str
    rows: Tuple[Mapping[str, Any], ...] = ()
    seconds: Optional[float] = None
    error: Optional[ErrorRecord] = None
    code: Mapping[str, str] = field(default_factory=dict)
    code_differs: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def _rows(record: Any, seconds: float) -> Tuple[Mapping[str, Any], ...]:
    if isinstance(record, BaselinesRun):
        return tuple(baseline_rows(record.baselines, seconds=seconds, target=record_target(record)))
    return tuple(record_rows(record, seconds=seconds))


#: Excerpts a process keeps (most recently used), and their most bytes (mixture + vocal):
#: a sweep's runs come one excerpt at a time (see :mod:`.schedule`), so two are enough.
PAIR_CACHE_ITEMS = 2
PAIR_CACHE_BYTES = 256 * 2**20


class PairCache:
    """The last excerpts this process loaded, by key (least recently used dropped first).

    A cached pair is shared by the runs that ask for it: its arrays are read-only (a run
    that wrote into its input would fail instead of changing the next run's numbers) and
    each caller gets its own ``source`` dict.  Thread-safe.

    Parameters
    ----------
    max_items : int >= 0
    max_bytes : int >= 0
        A pair larger than this is not kept.
    """

    def __init__(self, *, max_items: int = PAIR_CACHE_ITEMS, max_bytes: int = PAIR_CACHE_BYTES):
        self.max_items, self.max_bytes = int(max_items), int(max_bytes)
        self._pairs: "collections.OrderedDict[Hashable, AudioPair]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._pairs)

    @property
    def nbytes(self) -> int:
        return sum(_pair_bytes(p) for p in self._pairs.values())

    def clear(self) -> None:
        with self._lock:
            self._pairs.clear()
            self.hits = self.misses = 0

    def get(self, key: Hashable, load: Any) -> AudioPair:
        """The pair under *key*, else ``load()`` (a zero-argument callable), kept for next time."""
        with self._lock:
            pair = self._pairs.get(key)
            if pair is not None:
                self._pairs.move_to_end(key)
                self.hits += 1
                return _handed_out(pair)
            self.misses += 1
        pair = _read_only(load())
        with self._lock:
            self._pairs[key] = pair
            self._pairs.move_to_end(key)
            self._shrink()
        return _handed_out(pair)

    def _shrink(self) -> None:
        while self._pairs and (len(self._pairs) > self.max_items or self.nbytes > self.max_bytes):
            self._pairs.popitem(last=False)


def _pair_bytes(pair: AudioPair) -> int:
    """Bytes of a pair's arrays (the mixture, the vocal and any further stems), each once."""
    arrays = {id(y): y for y in (pair.mixture, pair.vocal, *pair.stems.values())}
    return sum(y.nbytes for y in arrays.values())


def _read_only(pair: AudioPair) -> AudioPair:
    for y in (pair.mixture, pair.vocal, *pair.stems.values()):
        y.flags.writeable = False  # the loader's own arrays: no copy needed
    return pair


def _handed_out(pair: AudioPair) -> AudioPair:
    return replace(pair, source=copy.deepcopy(pair.source))


#: This process's excerpts (see :class:`PairCache`).
_PAIRS = PairCache()


def forget_pairs() -> None:
    """Drop this process's cached excerpts (the driver does at the end of a sweep)."""
    _PAIRS.clear()


def pair_key(task: Task, config: Config) -> Tuple[Hashable, ...]:
    """What identifies the excerpt a task loads: the source, the track and its files' identity
    (size, mtime), the offset, the excerpt length, the rate and the stems loaded with it."""
    identity = json.dumps(task.track.identity, sort_keys=True, default=str)
    return (
        task.track.source,
        task.track.name,
        identity,
        float(task.settings["offset"]),
        float(config.duration),
        int(config.sr),
        tuple(task.load_targets),
    )


def load_pair(task: Task, config: Config, *, cache: Optional[PairCache] = None) -> AudioPair:
    """The pair *task* runs on: its excerpt at *config*'s rate and length, from this process's
    :class:`PairCache` (or *cache*) when it loaded it before, made the pair of the task's
    target when the sweep has several (:func:`~conv2dsep_lib.sources.stems.pair_for_target`:
    a missing or silent stem raises a ``ParameterError`` naming it)."""
    cache = _PAIRS if cache is None else cache
    targets = tuple(task.load_targets)

    def load() -> AudioPair:
        ds = open_source(task.track.source, config)
        if targets == DEFAULT_TARGETS:  # today's load, unchanged
            return ds.load(task.track.name, offset=task.settings["offset"])
        return ds.load(task.track.name, offset=task.settings["offset"], targets=targets)

    pair = cache.get(pair_key(task, config), load)
    return pair if targets == DEFAULT_TARGETS else pair_for_target(pair, task.target)


#: The synthetic pair :func:`warm_up` runs on: seconds, slices.
WARM_UP_SECONDS = 2.0
WARM_UP_SLICES = 2


def warm_up() -> None:
    """Import and exercise what a run uses, once per process, on a tiny synthetic pair.

    A pool worker's initializer calls it: whatever a run imports on first use and its
    first-call set-ups (the method, the separators, BSS Eval) are paid here, not by the
    worker's first run.  Nothing is read or written; any error is ignored (the first run
    then pays, or reports, it).
    """
    try:
        config = Config(duration=WARM_UP_SECONDS)
        t = np.arange(config.n_samples) / config.sr
        vocal = (0.3 * np.sin(2 * np.pi * 220.0 * t) * (t % 0.5 < 0.3)).astype(np.float32)
        band = np.random.default_rng(0).standard_normal(t.size).astype(np.float32) * 0.05
        pair = _read_only(AudioPair(mixture=vocal + band, vocal=vocal, sr=config.sr, source={}))
        run_experiment(pair, config=config, n_slices=WARM_UP_SLICES, greedy=True, baselines=False, bss=True)
        compute_baselines(pair.mixture, pair.vocal, config=config)
    except Exception:  # pragma: no cover - an optimisation only
        pass


def _run_experiment_task(task: Task, run_dir: Path) -> Tuple[RunRecord, Optional[str]]:
    config = Config.from_dict(dict(task.config))
    s = task.settings
    pair = load_pair(task, config)
    exp = run_experiment(
        pair, config=config, n_slices=s["n_slices"], greedy=s["greedy"], baselines=False, bss=task.bss
    )
    arguments = {"sweep": True, "run": task.id, "settings": dict(s), "bss": task.bss}
    if task.keep_audio:
        from ..run.outputs import write_outputs  # figures: imported only by who writes them

        folder = write_outputs(exp, run_dir, arguments=arguments)
        return RunRecord.from_json(json.loads((folder / RESULTS_NAME).read_text())), folder.name
    return build_record(exp, arguments=arguments), None


def _run_baselines_task(task: Task, run_dir: Path) -> Tuple[BaselinesRun, Optional[str]]:
    s = task.settings
    config = Config().replace(**{f: s[f] for f in BASELINE_FIELDS})
    pair = load_pair(task, config)
    out = {}
    for name, b in score_baselines(pair, config=config, bss=task.bss, keep_estimates=task.keep_audio).items():
        if task.keep_audio:
            write_wav(run_dir / f"{name}.wav", b.estimate, config.sr)
        out[name] = b.record()
    return BaselinesRun(input=pair.source, config=config, baselines=out), "." if task.keep_audio else None


def _run_notebooks_task(task: Task, run_dir: Path) -> Tuple[RunRecord, Optional[str]]:
    from ..run.outputs import output_dir_name  # run.outputs imports the figures: only who needs it

    s, cfg = task.settings, task.config
    params: Dict[str, Any] = dict(task.track.notebook_input)
    params.update(
        {
            "offset": s["offset"],
            "n_slices": s["n_slices"],
            "iterations": cfg["num_iterations"],
            "learning_rate": cfg["learning_rate"],
            "clip_db": cfg["clip_db"],
            "strategy": cfg["strategy"],
            "greedy_score": cfg["greedy_score"],
            "bss": task.bss,
            "baselines": task.baselines,
        }
    )
    only = [p.stem for p in list_notebooks() if int(p.name[:2]) < 6]  # 06, 07: sweep and claims views
    summary = run_notebooks(out_dir=run_dir / "workbook", parameters=params, only=only)
    if summary.failed:
        raise RuntimeError(
            "; ".join(n.describe_failure() for n in summary.failed)
            + f" (executed notebooks in {run_dir / 'workbook' / 'notebooks'})"
        )
    part = "04_greedy" if s["greedy"] else "03_progressive"
    folder = run_dir / "workbook" / part / output_dir_name(s["n_slices"])
    record = RunRecord.from_json(json.loads((folder / RESULTS_NAME).read_text()))
    return record, str(folder.relative_to(run_dir))


def failure_outcome(task: Task, exc: BaseException, seconds: float) -> TaskOutcome:
    """Record a failed run in its ``failed.json`` and return its outcome."""
    error = ErrorRecord.from_exception(exc)
    write_json(
        Path(task.run_dir) / FAILED_NAME,
        {
            "oracle": True,
            "key": task.key,
            "run": task.id,
            "kind": task.kind,
            "settings": dict(task.settings),
            "error": error.to_json(),
            "seconds": round(seconds, 3),
            "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        },
    )
    return TaskOutcome(id=task.id, status="failed", error=error, seconds=round(seconds, 3))


def run_one(task: Task) -> TaskOutcome:
    """Run one track x setting (or one track's baselines) and write its ``results.json``.

    The sweep's task function: module-level and picklable; the local process pool and
    Dask call it unchanged.

    Notes
    -----
    Any exception of the run is recorded in ``failed.json`` and returned, not raised:
    the sweep goes on.  ``KeyboardInterrupt`` is not caught (the atomic writers drop
    their temporary files on the way out).  On success ``results.json`` is written
    last and a stale ``failed.json`` removed.  The key written names the code that ran
    (this process's), which differs from the driver's when the package was edited
    since, or a cluster runs another version.
    """
    global _RUNNING
    t0 = time.perf_counter()
    run_dir = Path(task.run_dir)
    _RUNNING = True
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_temporaries(run_dir)
        code = code_version()
        key = task.key if code == dict(task.code) else cache_key({**task.key_payload, "code": code})
        try:
            record: Any
            if task.kind == "baselines":
                record, audio = _run_baselines_task(task, run_dir)
            elif task.notebooks:
                record, audio = _run_notebooks_task(task, run_dir)
            else:
                record, audio = _run_experiment_task(task, run_dir)
            seconds = round(time.perf_counter() - t0, 3)
            info = SweepRun(
                key=key,
                run=task.id,
                kind=task.kind,
                track=task.track.name,
                setting=task.setting,
                settings=task.settings,
                code=code,
                bss=task.bss,
                notebooks=task.notebooks,
                audio=audio,
                seconds=seconds,
                pid=os.getpid(),
                finished=_dt.datetime.now().isoformat(timespec="seconds"),
            )
            write_json(run_dir / RESULTS_NAME, {**record.to_json(), "sweep": info.to_json()})
        except Exception as exc:  # recorded in failed.json and reported by the sweep
            return failure_outcome(task, exc, time.perf_counter() - t0)
        (run_dir / FAILED_NAME).unlink(missing_ok=True)
        return TaskOutcome(
            id=task.id,
            status="ok",
            rows=_rows(record, seconds),
            seconds=seconds,
            code=code,
            code_differs=code != dict(task.code),
        )
    finally:
        _RUNNING = False
        if _STOPPING:  # pragma: no cover - pool worker told to stop
            os._exit(1)  # after the atomic writers cleaned up; take no queued run


def finished_outcome(task: Task) -> Optional[TaskOutcome]:
    """The stored outcome of a finished run with the same key, else ``None``."""
    try:
        data = json.loads((Path(task.run_dir) / RESULTS_NAME).read_text())
        info = SweepRun.from_json(data["sweep"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if info.key != task.key or (task.keep_audio and not info.audio):
        return None
    try:
        record: Any = BaselinesRun.from_json(data) if task.kind == "baselines" else RunRecord.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None
    return TaskOutcome(id=task.id, status="cached", rows=_rows(record, info.seconds), seconds=info.seconds)


def outcome_rows(outcome: TaskOutcome) -> List[Dict[str, Any]]:
    """The outcome's rows as fresh dicts (the driver adds its columns to them)."""
    return [dict(r) for r in outcome.rows]
