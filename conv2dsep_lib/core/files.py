"""Files: atomic writes, the one JSON writer, and folders that appear complete.

A reader (or a crash) never sees a half-written file: the target either keeps its
old content or has the complete new one.  Files get the usual permissions
(``0o666`` minus the umask), not ``mkstemp``'s owner-only ``0o600``.

* :func:`atomic_path` / :func:`atomic_write_bytes` -- one file, temporary sibling + rename.
* :func:`to_jsonable` / :func:`write_json` -- strict JSON (NaN/inf become ``null``).
* :func:`staging_folder` -- a folder written under a temporary name and swapped into
  place when complete (the run outputs); :func:`recover_folder` completes a swap a
  killed run left half-way; :func:`remove_temporaries` cleans what killed runs left.
* :func:`check_writable_folder` -- refuse an unwritable output folder before any work.
"""

from __future__ import annotations

import ctypes
import errno
import json
import math
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List, Optional, Union

import numpy as np

from .errors import ParameterError

__all__ = [
    "PathLike",
    "umask",
    "atomic_path",
    "atomic_write_bytes",
    "to_jsonable",
    "json_text",
    "write_json",
    "staging_folder",
    "recover_folder",
    "remove_temporaries",
    "check_writable_folder",
    "is_inside",
    "exclusive_lock",
]

PathLike = Union[str, os.PathLike]


def umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to *path*; on success rename it onto *path*.

    Parent folders are created.  On any exception the temporary file is removed and
    *path* is left as it was.

    Examples
    --------
    >>> with atomic_path("outputs/x.json") as tmp:        # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write *data* to *path* atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types; NaN/inf become ``None`` (strict JSON has no NaN).

    Mappings (keys as text), sequences and numpy arrays are converted recursively;
    numpy scalars become Python scalars.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def json_text(obj: Any) -> str:
    """Strict, indented JSON text of *obj* (see :func:`to_jsonable`), newline-terminated."""
    return json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"


def write_json(path: PathLike, obj: Any) -> Path:
    """Write *obj* as strict JSON atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    text = json_text(obj)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[^.]+\.(?:tmp|old)$")


def remove_temporaries(folder: PathLike, *, name: Optional[str] = None) -> List[Path]:
    """Remove what a killed writer left in *folder*: hidden ``.<name>.<pid>-*.tmp/.old``
    entries whose process is gone (a live writer's temporaries are left alone).

    Parameters
    ----------
    folder : path
    name : str, optional
        Only the temporaries of this entry (default: all).

    Returns
    -------
    list of Path
        What was removed.
    """
    folder = Path(folder)
    removed: List[Path] = []
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = _TEMP_NAME.match(p.name)
        if m is None or (name is not None and m.group("name") != name) or _pid_alive(int(m.group("pid"))):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def _temporary_name(final: Path, suffix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}-", suffix=suffix, dir=final.parent))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns ``False`` where the C library, the kernel or the file system has no such
    call (then :func:`staging_folder` falls back to its journal).
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _journal(final: Path) -> Path:
    return final.parent / f".{final.name}.swap.json"


def recover_folder(final: PathLike) -> None:
    """Finish a swap of *final* that a killed run left half-way, and clean its temporaries.

    :func:`staging_folder` writes a journal before a two-rename swap (systems without
    an atomic exchange): when the journal is there, the process died between the two
    renames or before cleaning up.  If *final* is missing, the complete new folder (or,
    failing that, the old one) is renamed into place; then the journal and the old
    copy are removed.  Called at the start of every write, so the next run completes
    what a killed one began.
    """
    final = Path(final)
    journal = _journal(final)
    if journal.is_file():
        try:
            entry = json.loads(journal.read_text())
            old, new = Path(entry["old"]), Path(entry["new"])
        except (OSError, ValueError, KeyError, TypeError):
            old = new = None
        if not final.exists() and new is not None:
            for candidate in (new, old):
                if candidate is not None and candidate.is_dir():
                    os.replace(candidate, final)
                    break
        if old is not None and old.exists() and final.exists():
            shutil.rmtree(old.parent if old.parent != final.parent else old, ignore_errors=True)
        journal.unlink(missing_ok=True)
    remove_temporaries(final.parent, name=final.name)
    remove_temporaries(final.parent, name=journal.name)  # a journal being written when killed


def _swap_in(tmp: Path, final: Path) -> None:
    """Put the complete folder *tmp* at *final*: a reader sees the old or the new one."""
    if not final.exists():
        os.replace(tmp, final)
        return
    if _exchange(tmp, final):  # one atomic step; tmp now holds the old folder
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old_parent = _temporary_name(final, ".old")
    old = old_parent / final.name
    journal = _journal(final)
    write_json(journal, {"old": str(old), "new": str(tmp)})
    os.replace(final, old)
    os.replace(tmp, final)
    journal.unlink()
    shutil.rmtree(old_parent, ignore_errors=True)


@contextmanager
def staging_folder(final: PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside *final*; on success it replaces *final*.

    Everything is written into ``.<name>.<pid>-XXXX.tmp`` next to *final*; when the block
    ends without an exception that folder takes *final*'s place: in one atomic step
    (rename-exchange) where the system has it, else by two renames under a journal that
    :func:`recover_folder` completes if the process dies between them.  A reader finds
    the previous complete folder or the new complete one, never a half-written one.  On
    an exception the temporary folder is removed and *final* is left as it was; a
    killed run's temporaries are removed by the next write.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(final)
    tmp = _temporary_name(final, ".tmp")
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes it owner-only
        _swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def exclusive_lock(path: PathLike, *, what: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on *path* for the block (POSIX ``flock``).

    The lock file records who holds it and is removed on release.  A second process
    asking for the same lock is refused at once.

    Raises
    ------
    ParameterError
        ``"<what> is in use by another process (pid 123 since 10:31:02): allowed one at a time"``.
    """
    import datetime
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        f = open(path, "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise ParameterError(
                f"{what} is in use by another process ({holder}): allowed one at a time "
                "(wait for it to finish)"
            ) from None
        try:  # the holder before us may have removed the file after we opened it: lock the new one
            if os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        f.close()
    try:
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} since {datetime.datetime.now().isoformat(timespec='seconds')}")
        f.flush()
        yield
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


def is_inside(path: PathLike, folder: PathLike) -> bool:
    """Whether *path* is *folder* or lies below it (symbolic links resolved)."""
    p, f = Path(path).resolve(), Path(folder).resolve()
    return p == f or f in p.parents


def check_writable_folder(folder: PathLike, *, name: str = "--out") -> Path:
    """Refuse, before any work, an output folder that cannot be created or written.

    The folder itself need not exist yet: its nearest existing ancestor must be a
    writable folder.  Nothing is created.

    Raises
    ------
    ParameterError
        ``"--out '/proc/x' cannot be written: ..."``, ``"--out 'f.txt/x' is inside a file"``.
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == folder else f"is inside the file {str(probe)!r}"
        raise ParameterError(
            f"{name} {str(folder)!r} {where}: allowed a folder that can be created and written"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ParameterError(
            f"{name} {str(folder)!r} cannot be written ({str(probe)!r} is not writable): "
            "allowed a writable folder"
        )
    try:
        fd, test = tempfile.mkstemp(prefix=".conv2dsep-write-test.", dir=probe)
    except OSError as exc:
        raise ParameterError(
            f"{name} {str(folder)!r} cannot be written ({exc.strerror or exc}): allowed a writable folder"
        ) from None
    os.close(fd)
    os.unlink(test)
    return folder
