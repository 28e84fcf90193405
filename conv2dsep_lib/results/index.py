"""The outputs index: every run folder under an outputs root, with its settings and numbers.

``conv2dsep best`` / ``progressive`` write one folder per slice count *and settings*
(:mod:`.naming`): the seed's ``output_progressive_{N}slices`` for the seed's
``CONFIG``, ``output_progressive_{N}slices_<tag>`` for anything else, so two settings
never replace each other.  Each write lists its folder in ``OUT/index.json`` (read it
back with :func:`read_index`: a list of :class:`RunEntry`) and ``OUT/index.md`` (a table
for people)::

    {"schema_version": 1, "oracle": true, "note": "ORACLE: ...",
     "runs": [{"folder": "output_progressive_8slices_lr0.9", "command": "best",
               "command_line": "conv2dsep best --learning-rate 0.9", "n_slices": 8,
               "settings": {"learning_rate": 0.9}, "input": "demo_song_0", "offset": 0.0,
               "date": "2026-12-02T11:20:03+00:00", "git_commit": "4db2ed6...",
               "loss": 1.23, "final": {"name": "conv2d k=8", "kind": "oracle", "si_sdr": 5.1, ...},
               "best": {...}, "greedy": {...}, "baselines": [{"name": "oracle_irm", ...}, ...]},
              ...]}

Decisions:

* **Names** (:mod:`.naming`): the seed's folder name for the seed's ``CONFIG``, a tag of
  the changed fields for anything else (``output_progressive_8slices_lr0.9``).
* **Two runs at once**: an index update holds an exclusive lock (``OUT/.index.lock``,
  POSIX ``flock``, waiting for the other run; removed when released) from just before the
  run folder is swapped into place until the index is rewritten, so the index always
  describes the folders that are there; both files are written atomically.  An entry
  whose folder is gone is dropped; a run folder without an entry (written before the
  index existed) is added from its ``results.json``.

**ORACLE**: the Conv2D numbers come from an optimisation that read the true vocal; every
:class:`Score` carries its kind (``oracle``, ``blind`` or ``floor``).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_path, to_jsonable, write_json
from .naming import changed_settings, is_run_folder, settings_tag
from .record import ORACLE_NOTE, RunRecord, read_record

__all__ = [
    "INDEX_NAME",
    "INDEX_TABLE_NAME",
    "Score",
    "RunEntry",
    "entry_from_record",
    "read_index",
    "find_entry",
    "index_lock",
    "update_index",
    "index_markdown",
]

#: The machine-readable index, ``OUT/index.json``.
INDEX_NAME = "index.json"
#: The same as a Markdown table, ``OUT/index.md``.
INDEX_TABLE_NAME = "index.md"
LOCK_NAME = ".index.lock"
INDEX_VERSION = 1


# ------------------------------------------------------------------ entries
@dataclass(frozen=True)
class Score:
    """One headline number of a run: an estimate, its kind and its quality (dB).

    Attributes
    ----------
    name : str
        ``"conv2d k=8"``, ``"greedy"``, ``"oracle_irm"``, ``"repet_sim"``, ...
    kind : str
        ``"oracle"`` (saw the true vocal: the Conv2D method, ideal masks), ``"blind"``
        (the mixture only) or ``"floor"`` (the mixture itself).
    si_sdr : float or None
    sdr : float or None
        BSS Eval v4 SDR (``None`` without BSS Eval).
    """

    name: str
    kind: str
    si_sdr: Optional[float]
    sdr: Optional[float] = None

    @property
    def oracle(self) -> bool:
        return self.kind == "oracle"

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "si_sdr": self.si_sdr, "sdr": self.sdr}

    @classmethod
    def from_json(cls, d: Optional[Mapping[str, Any]]) -> Optional["Score"]:
        if not d:
            return None
        return cls(name=d["name"], kind=d["kind"], si_sdr=_opt(d.get("si_sdr")), sdr=_opt(d.get("sdr")))


def _opt(x: Any) -> Optional[float]:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


@dataclass(frozen=True)
class RunEntry:
    """One run folder of an outputs root (an entry of ``index.json``).

    Attributes
    ----------
    folder : str
        The folder's name, relative to the outputs root.
    command : str
        ``"best"`` or ``"progressive"``.
    n_slices : int
    settings : mapping
        The config fields that differ from the seed's (:func:`changed_settings`).
    input : str
        The input in short: the prepared folder's or the mixture file's name, or the
        MUSDB18 track.
    offset : float
        Excerpt start, seconds.
    date : str
        When the folder was written (ISO 8601, local time with offset).
    command_line : str
        ``conv2dsep best --learning-rate 0.9``; for a library call, what its caller
        recorded (e.g. ``notebook 04_greedy``).
    loss : float
        The fingerprint loss after all N slices (dB²).
    final : Score
        The Conv2D estimate after all N slices in the original order (ORACLE).
    best : Score or None
        The k whose SI-SDR is highest (ORACLE, and chosen with the true vocal).
    greedy : Score or None
        The greedy order over all N slices (``best`` runs).
    baselines : tuple of Score
        The reference points in report order (floor, oracle masks, blind separators).
    bss : bool
        BSS Eval v4 was computed (SDR columns).
    git_commit : str or None
    oracle : bool
        Always ``True``: the method reads the true vocal.
    """

    folder: str
    command: str
    n_slices: int
    settings: Mapping[str, Any]
    input: str
    offset: float
    date: str
    command_line: str
    loss: float
    final: Score
    best: Optional[Score] = None
    greedy: Optional[Score] = None
    baselines: Tuple[Score, ...] = ()
    bss: bool = False
    git_commit: Optional[str] = None
    oracle: bool = True

    @property
    def tag(self) -> str:
        """The settings tag of the folder name (``""`` for the seed's settings)."""
        return settings_tag(self.settings)

    @property
    def blind(self) -> Optional[Score]:
        """The best blind baseline by SI-SDR (``None`` without baselines)."""
        blind = [b for b in self.baselines if b.kind == "blind" and b.si_sdr is not None]
        return max(blind, key=lambda b: b.si_sdr) if blind else None

    def baseline(self, name: str) -> Optional[Score]:
        """The baseline called *name* (``"mixture"``, ``"oracle_irm"``, ...), or ``None``."""
        return next((b for b in self.baselines if b.name == name), None)

    def path(self, outputs: PathLike) -> Path:
        """The run folder under *outputs*."""
        return Path(outputs) / self.folder

    def record(self, outputs: PathLike) -> RunRecord:
        """The run's full ``results.json`` as a :class:`~conv2dsep_lib.results.record.RunRecord`."""
        return read_record(self.path(outputs))

    def to_json(self) -> Dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["settings"] = dict(self.settings)
        for key in ("final", "best", "greedy"):
            out[key] = None if out[key] is None else out[key].to_json()
        out["baselines"] = [b.to_json() for b in self.baselines]
        return to_jsonable(out)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "RunEntry":
        final = Score.from_json(d["final"])
        assert final is not None
        return cls(
            folder=str(d["folder"]),
            command=str(d["command"]),
            n_slices=int(d["n_slices"]),
            settings=MappingProxyType(dict(d.get("settings") or {})),
            input=str(d.get("input", "")),
            offset=float(d.get("offset") or 0.0),
            date=str(d.get("date", "")),
            command_line=str(d.get("command_line", "")),
            loss=float("nan") if d.get("loss") is None else float(d["loss"]),
            final=final,
            best=Score.from_json(d.get("best")),
            greedy=Score.from_json(d.get("greedy")),
            baselines=tuple(s for s in (Score.from_json(b) for b in d.get("baselines") or ()) if s),
            bss=bool(d.get("bss", False)),
            git_commit=d.get("git_commit"),
            oracle=bool(d.get("oracle", True)),
        )


def _input_text(source: Mapping[str, Any]) -> str:
    target = f", target {source['target']}" if source.get("target") else ""
    if source.get("track"):
        return f"{source['track']} (MUSDB18){target}"
    mixture = source.get("mixture")
    if not mixture:
        return ""
    p = Path(str(mixture))
    return (p.parent.name if p.name in ("stereo_mixture.wav", "mixture.wav") else p.name) + target


def _command_line(arguments: Mapping[str, Any], command: str) -> str:
    line = arguments.get("command_line")
    if line:
        return str(line)
    if arguments.get("notebook"):
        return f"notebook {arguments['notebook']}"
    return f"{command} (library call)"


def entry_from_record(record: RunRecord, *, folder: str, date: Optional[str] = None) -> RunEntry:
    """The index entry of a run (its record, written to *folder*).

    Parameters
    ----------
    record : RunRecord
    folder : str
        The run folder's name under the outputs root.
    date : str, optional
        ISO 8601; default now.
    """
    greedy = record.greedy is not None
    last = record.progressive[-1]
    best_k = record.loss_vs_quality.best_k_by_si_sdr

    def score(name: str, kind: str, metrics) -> Score:
        return Score(
            name=name,
            kind=kind,
            si_sdr=None if metrics is None else _opt(metrics.si_sdr),
            sdr=None if metrics is None else _opt(metrics.sdr),
        )

    return RunEntry(
        folder=folder,
        command=record.command,
        n_slices=record.n_slices,
        settings=MappingProxyType(changed_settings(record.config, greedy=greedy)),
        input=_input_text(record.input),
        offset=float(record.input.get("offset") or 0.0),
        date=date or _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        command_line=_command_line(record.arguments, record.command),
        loss=last.loss,
        final=score(f"conv2d k={record.n_slices}", "oracle", last.metrics),
        best=None
        if best_k is None
        else score(f"conv2d k={best_k}", "oracle", record.progressive[best_k - 1].metrics),
        greedy=score("greedy", "oracle", record.greedy.metrics) if record.greedy is not None else None,
        baselines=tuple(score(name, b.kind, b.metrics) for name, b in record.baselines.items()),
        bss=last.metrics is not None and last.metrics.sdr is not None,
        git_commit=record.git_commit,
    )


# ------------------------------------------------------------------ reading
#: Target subfolders of a multi-target run folder.
_TARGETS = ("vocals", "drums", "bass", "other")


def _scan_entry(folder: Path, name: str) -> Optional[RunEntry]:
    try:
        record = read_record(folder)
    except (ParameterError, KeyError, TypeError, ValueError):
        return None
    mtime = (folder / "results.json").stat().st_mtime
    date = _dt.datetime.fromtimestamp(mtime).astimezone().isoformat(timespec="seconds")
    return entry_from_record(record, folder=name, date=date)


def _read_entries(outputs: Path) -> Optional[List[RunEntry]]:
    """The entries of ``index.json``; ``None`` when it is missing or unreadable."""
    try:
        data = json.loads((outputs / INDEX_NAME).read_text())
        return [RunEntry.from_json(d) for d in data["runs"]]
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return None


def _current(outputs: Path, entries: Optional[List[RunEntry]]) -> List[RunEntry]:
    """*entries* whose folders exist, plus every run folder that has none (newest first)."""
    listed = {e.folder: e for e in entries or () if is_run_folder(outputs / e.folder)}
    if outputs.is_dir():
        for p in outputs.iterdir():
            # a multi-target run's folder holds one run folder per target
            for q in (p, *(p / t for t in _TARGETS)) if is_run_folder(p) else ():
                name = q.relative_to(outputs).as_posix()
                if name not in listed and is_run_folder(q):
                    entry = _scan_entry(q, name)
                    if entry is not None:
                        listed[name] = entry
    return sorted(listed.values(), key=lambda e: (e.date, e.folder), reverse=True)


def read_index(outputs: PathLike = "outputs") -> List[RunEntry]:
    """Every run folder under *outputs*, newest first, as typed entries.

    Reads ``outputs/index.json``; run folders it does not list (written before the index
    existed, or by an older conv2dsep) are read from their ``results.json``, and entries
    whose folder is gone are left out.  Nothing is written.

    Parameters
    ----------
    outputs : path
        An outputs root (``--out`` of ``best`` / ``progressive``).

    Returns
    -------
    list of RunEntry
        Empty when *outputs* holds no run.

    Examples
    --------
    >>> for run in read_index("outputs"):                       # doctest: +SKIP
    ...     print(run.folder, run.settings, run.final.si_sdr, run.blind)
    """
    outputs = Path(outputs)
    return _current(outputs, _read_entries(outputs))


def find_entry(outputs: PathLike, folder: str) -> Optional[RunEntry]:
    """The entry of run folder *folder* under *outputs* (``None`` when there is none)."""
    return next((e for e in read_index(outputs) if e.folder == folder), None)


# ------------------------------------------------------------------ writing
class _Lock:
    """An exclusive ``flock`` on ``OUT/.index.lock``, taken when asked (see :func:`index_lock`)."""

    def __init__(self, outputs: Path) -> None:
        self.path = outputs / LOCK_NAME
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Wait for the other writers of this outputs root, then hold the lock."""
        import fcntl

        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # waits: an index update takes milliseconds
                # the holder before us removes the file when it is done: lock the one that is there
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            self.path.unlink(missing_ok=True)  # before unlocking: a waiter then retries on a new file
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextmanager
def index_lock(outputs: PathLike, *, take: bool = True) -> Iterator[_Lock]:
    """Hold the index lock of *outputs* for the block (POSIX ``flock``; waits for others).

    With ``take=False`` the lock is only taken by ``lock.acquire()`` inside the block --
    :func:`conv2dsep_lib.run.outputs.write_outputs` takes it after writing its folder,
    just before swapping it into place, so the swap and the index update happen together.
    The lock file is removed on release (a writer waiting on it then locks a new one).
    """
    lock = _Lock(Path(outputs))
    try:
        if take:
            lock.acquire()
        yield lock
    finally:
        lock.release()


def update_index(outputs: PathLike, entry: RunEntry, *, lock: Optional[_Lock] = None) -> List[RunEntry]:
    """Put *entry* in ``outputs/index.json`` and ``outputs/index.md`` (replacing its folder's).

    Parameters
    ----------
    outputs : path
    entry : RunEntry
    lock : optional
        The held lock of :func:`index_lock` (default: take it for the update).

    Returns
    -------
    list of RunEntry
        The index as written (newest first).
    """
    outputs = Path(outputs)
    if lock is not None and lock.held:
        return _write_index(outputs, entry)
    with index_lock(outputs):
        return _write_index(outputs, entry)


def _write_index(outputs: Path, entry: RunEntry) -> List[RunEntry]:
    entries = [e for e in _read_entries(outputs) or () if e.folder != entry.folder]
    entries = _current(outputs, entries + [entry])
    write_json(
        outputs / INDEX_NAME,
        {
            "schema_version": INDEX_VERSION,
            "oracle": True,
            "note": ORACLE_NOTE,
            "runs": [e.to_json() for e in entries],
        },
    )
    with atomic_path(outputs / INDEX_TABLE_NAME) as tmp:
        tmp.write_text(index_markdown(entries))
    return entries


def _db(x: Optional[float]) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _named(s: Optional[Score]) -> str:
    return "" if s is None else f"{_db(s.si_sdr)} ({s.name})"


def index_markdown(entries: List[RunEntry]) -> str:
    """``index.md``: one row per run folder, newest first; SI-SDR in dB with each kind named."""
    lines = [
        "# Runs in this folder",
        "",
        f"{ORACLE_NOTE} Conv2D columns are ORACLE; `oracle_irm` is the ideal-ratio-mask ceiling "
        "(oracle), `blind` the best blind baseline (REPET-SIM, HPSS, the band-pass, the learned model: they "
        "see the mixture only), `mixture` the "
        "floor. SI-SDR in dB; loss in dB². Written by `conv2dsep best` / `progressive`; read it "
        "with `conv2dsep_lib.results.read_index`.",
        "",
        "| folder | command | settings | input | date | loss k=N | SI-SDR k=N (oracle) "
        "| best k (oracle) | greedy (oracle) | oracle_irm (oracle) | blind | mixture (floor) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        settings = ", ".join(f"{k}={v}" for k, v in e.settings.items()) or "seed defaults"
        where = e.input + (f" @ {e.offset:g} s" if e.offset else "")
        irm, mix = e.baseline("oracle_irm"), e.baseline("mixture")
        cells = [
            f"`{e.folder}`",
            f"`{e.command_line}`".replace("|", "\\|"),
            settings,
            where.replace("|", "\\|"),
            e.date,
            f"{e.loss:.4f}",
            _db(e.final.si_sdr),
            _named(e.best),
            _db(e.greedy.si_sdr) if e.greedy else "",
            _db(irm.si_sdr) if irm else "",
            _named(e.blind),
            _db(mix.si_sdr) if mix else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if not entries:
        lines.append("| (no runs) |" + " |" * 11)
    return "\n".join(lines) + "\n"
