"""``numpy.linalg.solve`` with its LU factors kept: numpy's own LAPACK, factored once.

BSS Eval's filter solve must be museval's call, ``numpy.linalg.solve(A, D)``, to the bit (on
music the solve is ill-conditioned and a last-bit change moves the scores by ~1e-4 dB).
That call is LAPACK's ``dgesv`` of the library numpy ships: an LU factorisation (``dgetrf``)
then triangular solves (``dgetrs``).  A run solves with the same ``A`` for every estimate,
so :class:`LUSolver` factors ``A`` once with that same library's ``dgetrf`` and solves each
``D`` with its ``dgetrs`` -- the same routines on the same data, so the same bits (on one
BLAS thread, where ``dgesv`` runs exactly these two; tested against ``numpy.linalg.solve``).

The library is found through threadpoolctl (the BLAS that numpy loaded) and called with
ctypes.  Where it cannot be found or its symbols are not the expected ones (a numpy built
against MKL, say), :class:`LUSolver` calls ``numpy.linalg.solve`` itself: the same numbers,
with a factorisation per solve.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any, List, Optional, Tuple

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["LUSolver", "numpy_lapack"]

#: Symbol names of dgetrf/dgetrs in the LAPACK builds numpy ships, with their integer type:
#: numpy's wheels (scipy-openblas64, 64-bit integers), then an ILP64 OpenBLAS with plain names.
_NAMES: Tuple[Tuple[str, str, Any], ...] = (
    ("scipy_dgetrf_64_", "scipy_dgetrs_64_", ctypes.c_int64),
    ("dgetrf_64_", "dgetrs_64_", ctypes.c_int64),
)

_FOUND: List[Optional[Tuple[Any, Any, Any]]] = []


def numpy_lapack() -> Optional[Tuple[Any, Any, Any]]:
    """``(dgetrf, dgetrs, int type)`` of the LAPACK numpy uses, or ``None`` (looked up once)."""
    if not _FOUND:
        _FOUND.append(_find())
    return _FOUND[0]


def _find() -> Optional[Tuple[Any, Any, Any]]:
    numpy_dir = Path(np.__file__).resolve().parent
    own = (numpy_dir, numpy_dir.parent / "numpy.libs")  # where numpy's wheels keep their BLAS
    for lib in ThreadpoolController().info():
        path = Path(lib.get("filepath") or "")
        if lib.get("user_api") != "blas" or not path.is_file():
            continue
        if not any(folder in path.resolve().parents for folder in own):
            continue
        try:
            dll = ctypes.CDLL(str(path))
        except OSError:
            continue
        for getrf_name, getrs_name, int_t in _NAMES:
            getrf, getrs = getattr(dll, getrf_name, None), getattr(dll, getrs_name, None)
            if getrf is not None and getrs is not None:
                getrf.restype = getrs.restype = None
                return getrf, getrs, int_t
    return None


class LUSolver:
    """Solves ``A x = D`` exactly as ``numpy.linalg.solve(A, D)`` does, ``A`` factored once.

    Call on one BLAS thread (OpenBLAS's parallel LU rounds differently); the caller holds
    the thread limit (:mod:`.bsseval`).

    Parameters
    ----------
    A : np.ndarray [shape=(n, n)], float64

    Raises
    ------
    numpy.linalg.LinAlgError
        ``A`` is exactly singular (as ``numpy.linalg.solve`` raises).
    """

    def __init__(self, A: np.ndarray):
        self.n = A.shape[0]
        self._lapack = numpy_lapack()
        if self._lapack is None:
            self._A = np.array(A, dtype=np.float64)
            return
        getrf, _, int_t = self._lapack
        self._lu = np.array(A, dtype=np.float64, order="F")
        self._ipiv = np.empty(self.n, dtype=np.int64 if int_t is ctypes.c_int64 else np.int32)
        n, info = int_t(self.n), int_t(0)
        getrf(
            ctypes.byref(n),
            ctypes.byref(n),
            _ptr(self._lu),
            ctypes.byref(n),
            _ptr(self._ipiv),
            ctypes.byref(info),
        )
        if info.value > 0:
            raise np.linalg.LinAlgError("Singular matrix")
        if info.value < 0:  # pragma: no cover - a wrong argument: the library is not what we think
            raise RuntimeError(f"dgetrf argument {-info.value} refused")

    @property
    def factored(self) -> bool:
        """Whether the factors are kept (numpy's LAPACK was found)."""
        return self._lapack is not None

    def __call__(self, D: np.ndarray) -> np.ndarray:
        """``x`` [shape=D.shape] for ``D`` [shape=(n,) or (n, k)]."""
        if self._lapack is None:
            return np.linalg.solve(self._A, D)
        _, getrs, int_t = self._lapack
        x = np.array(D, dtype=np.float64, order="F")
        cols = 1 if x.ndim == 1 else x.shape[1]
        n, k, info = int_t(self.n), int_t(cols), int_t(0)
        trans = ctypes.c_char(b"N")
        getrs(
            ctypes.byref(trans),
            ctypes.byref(n),
            ctypes.byref(k),
            _ptr(self._lu),
            ctypes.byref(n),
            _ptr(self._ipiv),
            _ptr(x),
            ctypes.byref(n),
            ctypes.byref(info),
            ctypes.c_size_t(1),  # the Fortran length of TRANS
        )
        if info.value != 0:  # pragma: no cover - see above
            raise RuntimeError(f"dgetrs argument {-info.value} refused")
        return np.ascontiguousarray(x)


def _ptr(a: np.ndarray) -> Any:
    return a.ctypes.data_as(ctypes.c_void_p)
