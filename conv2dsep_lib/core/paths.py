"""Where the project is: notebooks, relative paths and default outputs are taken from here."""

from __future__ import annotations

import os
from pathlib import Path

from .provenance import PACKAGE_DIR

__all__ = ["project_root", "use_project_root"]


def project_root() -> Path:
    """The project folder: the one holding ``conv2dsep_lib/`` (and ``notebooks/``).

    Falls back to the current folder when the package is installed elsewhere (not
    editable) and the current folder has a ``notebooks/`` folder.
    """
    here = PACKAGE_DIR.parent
    if (here / "notebooks").is_dir() or (here / "pyproject.toml").is_file():
        return here
    return Path.cwd().resolve()


def use_project_root() -> Path:
    """``chdir`` to :func:`project_root` and return it.

    The notebooks call this first, so relative paths (parameters, the default input
    ``data/rtg/100-window/`` or the demo song, ``outputs/``) mean the same in
    JupyterLab (kernel started in ``notebooks/``), under papermill and on the command
    line run from the project root.
    """
    root = project_root()
    os.chdir(root)
    return root
