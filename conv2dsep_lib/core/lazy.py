"""Lazy re-exports for a subpackage's ``__init__`` (PEP 562, as scipy and librosa do).

A subpackage lists the names it offers and the submodule each lives in; a name's
submodule is imported the first time the name is asked for.  ``conv2dsep --help`` and a
single command then import only what they use (``conv2dsep_lib.sources`` alone would
otherwise pull in scipy.signal, ``results`` pandas, ``viz`` matplotlib).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, List, Mapping, Tuple

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str -> str
        Exported name -> the submodule (relative to *package*) that defines it.

    Returns
    -------
    (__getattr__, __dir__)
        Assign both at the package's top level.  A name that is not exported but is a
        submodule is imported as the submodule (``package.audio``).
    """

    def __getattr__(name: str) -> Any:
        submodule = exports.get(name)
        if submodule is not None:
            value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        elif not name.startswith("__"):
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> List[str]:
        return sorted(set(exports) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
