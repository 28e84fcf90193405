"""Provenance: which code and which library versions produced a result.

* :func:`git_output` -- ``git`` run in the package's checkout (``None`` outside one).
* :func:`library_versions` -- the versions recorded in every ``results.json``.
* :func:`numeric_code_hash` -- a hash of the code that changes numbers: the method, the
  separators, the scoring, the sources, the config and the experiment runner.  Figures,
  the command line, notebooks and the sweep machinery are left out, so editing a plot
  label does not invalidate a cached sweep run (:mod:`conv2dsep_lib.sweep`).
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

__all__ = [
    "__version__",
    "PACKAGE_DIR",
    "NUMERIC_CODE",
    "git_output",
    "library_versions",
    "code_hash",
    "numeric_code_hash",
]

#: The package version (also ``conv2dsep_lib.__version__``).
__version__ = "0.1.0"
#: The package folder (``conv2dsep_lib/``).
PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: Parts of the package whose code changes numbers (folders or files, relative to it).
NUMERIC_CODE: Tuple[str, ...] = (
    "core/config.py",
    "method",
    "scoring",
    "separators",
    "sources",
    "run/experiment.py",
)


def git_output(*args: str) -> Optional[str]:
    """``git ARGS`` run in the package's folder: its stripped output, or ``None``
    when git or a checkout is not there (an installed package is not a checkout)."""
    try:
        out = subprocess.run(["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10)
    except Exception:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def library_versions() -> Dict[str, str]:
    """Versions of Python and the numerical libraries (recorded in every result)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:  # pragma: no cover
            return "not installed"

    return {
        "conv2dsep": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": installed("scipy"),
        "librosa": installed("librosa"),
    }


@lru_cache(maxsize=8)
def code_hash(parts: Tuple[str, ...]) -> str:
    """16 hex digits of sha256 over some parts of the package (folders or files relative to
    it; paths and bytes), read once per process -- the code this process runs, with or
    without git."""
    h = hashlib.sha256()
    for part in parts:
        p = PACKAGE_DIR / part
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            h.update(f.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def numeric_code_hash() -> str:
    """:func:`code_hash` of :data:`NUMERIC_CODE`: what keys a sweep's cached runs."""
    return code_hash(NUMERIC_CODE)
