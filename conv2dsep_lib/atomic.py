"""Atomic file writes: write a temporary sibling, then rename it into place.

A reader (or a crash) never sees a half-written file: the target either keeps its
old content or has the complete new one.  The file gets the usual permissions
(``0o666`` minus the umask), not ``mkstemp``'s owner-only ``0o600``.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

__all__ = ["atomic_path", "atomic_write_bytes"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Union[str, os.PathLike]) -> Iterator[Path]:
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
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Union[str, os.PathLike], data: bytes) -> Path:
    """Write *data* to *path* atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
