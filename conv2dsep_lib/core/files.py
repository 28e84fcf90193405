"""Files: atomic writes, the one JSON writer, and folders that appear complete.

A reader (or a crash) never sees a half-written file: the target either keeps its
old content or has the complete new one.  Files get the usual permissions
(``0o666`` minus the umask), not ``mkstemp``'s owner-only ``0o600``.

* :func:`atomic_path` / :func:`atomic_write_bytes` -- one file, temporary sibling + rename.
* :func:`to_jsonable` / :func:`write_json` -- strict JSON (NaN/inf become ``null``).
* :func:`staging_folder` -- a folder written under a temporary name and swapped into
  place when complete (the run outputs).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Union

import numpy as np

__all__ = [
    "PathLike",
    "umask",
    "atomic_path",
    "atomic_write_bytes",
    "to_jsonable",
    "json_text",
    "write_json",
    "staging_folder",
    "remove_temporaries",
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
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
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


@contextmanager
def staging_folder(final: PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside *final*; on success it replaces *final*.

    Everything is written into ``.<name>.XXXX.tmp`` next to *final*; when the block
    ends without an exception that folder takes *final*'s place (an existing *final*
    is moved aside first and removed after), so a reader finds the previous complete
    folder or the new complete one, never a half-written one.  On an exception the
    temporary folder is removed and *final* is left as it was.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes it owner-only
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
            os.replace(final, old / final.name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_temporaries(folder: PathLike) -> None:
    """Remove what an interrupted writer left in *folder*: hidden ``*.tmp`` / ``*.old`` entries."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.name.startswith(".") and (p.name.endswith(".tmp") or p.name.endswith(".old")):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
