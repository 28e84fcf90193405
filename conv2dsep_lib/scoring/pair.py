"""Scoring one (vocal, mixture) pair: :class:`PairScorer` and :func:`separation_metrics`.

The true sources' statistics (BSS Eval's reference correlations, the references' energies)
are computed once per pair; every estimate of a run -- k = 1..N, greedy, the baselines -- is
then scored against them, from several threads at once, reading its float32 samples a chunk
at a time.  The arithmetic is :mod:`.metrics`'s (SI-SDR) and museval's (BSS Eval v4); the
conventions are written down there.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional

import numpy as np

from ..core.errors import ParameterError
from .bsseval import BssEvalV4
from .metrics import (
    _CHUNK,
    _EPS,
    _SILENT_REL,
    BSS_KEYS,
    _bss_medians,
    _check_finite,
    _dot,
    as_channels_first,
)
from .scores import Scores

__all__ = ["PairScorer", "separation_metrics"]


def _energies(x: "_Signal", mean: np.ndarray) -> "tuple[float, float]":
    """Energy of ``x - mean`` and of ``x``, summed in chunks."""
    raw = energy = 0.0
    for c, start in x.chunks():
        xc = x.chunk(c, start)
        raw += _dot(xc, xc)
        ec = xc - mean[c]
        energy += _dot(ec, ec)
    return energy, raw


class PairScorer:
    """Scores estimates of the vocal of one (vocal, mixture) pair: everything that depends on
    the true sources alone (BSS Eval's reference statistics) is computed once.

    ``PairScorer(vocal, mixture, sr=sr).score(estimate)`` equals
    ``separation_metrics(vocal, estimate, mixture, sr=sr)``; a run scores its k = 1..N
    estimates, the greedy ones and the baselines with one scorer, from several threads
    at once (the heavy parts are numpy FFTs and LAPACK, which release the GIL).

    Parameters
    ----------
    vocal, mixture : np.ndarray [shape=(n,) or (channels, n) or (n, channels)]
    sr : int
    bss : bool
        Also BSS Eval v4 (SDR/SIR/SAR/ISR); ``False`` gives the SI-SDR numbers only.
    window_s : float
        BSS Eval window (1 s, SiSEC 2018).

    Raises
    ------
    ParameterError
        Shapes differ, NaN/inf samples, the vocal is silent, or the accompaniment
        (``mixture - vocal``) is silent.
    """

    def __init__(self, vocal: Any, mixture: Any, *, sr: int, bss: bool = True, window_s: float = 1.0):
        v = as_channels_first(vocal)
        m = as_channels_first(mixture)
        if v.shape != m.shape:
            raise ParameterError(
                f"vocal {np.shape(vocal)} and mixture {np.shape(mixture)} shapes differ: allowed identical "
                "shapes (channels, n) or (n, channels)"
            )
        for name, y in (("vocal", v), ("mixture", m)):
            _check_finite(name, y)
        self.shape, self.sr = v.shape, sr
        # The true sources, museval's (2, n, channels) float64 layout, are derived a block at a
        # time from the caller's arrays (views; float32 is read as exact float64): the vocal,
        # and the accompaniment as mixture - vocal.  A whole song's float64 copies would be
        # ~100 MB.
        self._vocal, self._mixture = v.T, m.T
        self._refs = (_Signal(self._vocal), _Signal(self._vocal, minuend=self._mixture))
        self._means = [r.mean() for r in self._refs]  # per channel: the zero-mean references' offsets
        self._energies = []
        for j, role in enumerate(("vocal", "accompaniment (mixture - vocal)")):
            energy, raw = _energies(self._refs[j], self._means[j])
            if energy <= _SILENT_REL * raw:
                detail = "a non-silent vocal reference" if j == 0 else "a mixture that is not the vocal alone"
                raise ParameterError(f"{role} is silent: separation metrics are undefined (allowed {detail})")
            self._energies.append(energy)
        self.mixture_si_sdr = self._si_sdr(0, _Signal(self._mixture))
        self.bss = bool(bss)
        self._window = int(window_s * sr)
        self._bss: Optional[BssEvalV4] = None
        self._mixture_correlations: Optional[np.ndarray] = None
        self._lock = threading.Lock()

    def _sources(self, start: int, stop: int) -> np.ndarray:
        """The true sources' samples ``start:stop`` [shape=(2, stop - start, channels)], float64."""
        out = np.empty((2,) + self._vocal[start:stop].shape)
        out[0] = self._vocal[start:stop]
        np.subtract(self._mixture[start:stop], out[0], out=out[1], dtype=np.float64)
        return out

    def prepare(self) -> "PairScorer":
        """Compute the reference statistics now (else the first :meth:`score` does): museval's ``G``
        and its factors; the per-window statistics follow at the first :meth:`score`.

        Thread-safe and idempotent: a run starts this on one core while the method runs
        on the other; a thread that scores meanwhile waits for it.
        """
        with self._lock:
            if self.bss and self._bss is None:
                n, channels = self._vocal.shape
                self._bss = BssEvalV4(source=self._sources, shape=(2, n, channels), window=self._window)
        return self

    def _mixture_d(self) -> np.ndarray:
        """The mixture's BSS Eval correlations ``D`` (long signals: ``D(mixture - e) = D(mixture) -
        D(e)``), made at the first score."""
        with self._lock:
            if self._mixture_correlations is None:
                assert self._bss is not None
                self._mixture_correlations = self._bss.correlations(self._mixture)
            return self._mixture_correlations

    def _zero_mean_chunks(self, j: int):
        """Reference *j*'s zero-mean samples, channel by channel, in chunks (float64)."""
        ref, mean = self._refs[j], self._means[j]
        for c, start in ref.chunks():
            yield ref.chunk(c, start) - mean[c]

    def _si_sdr(self, j: int, x: "_Signal") -> float:
        """``si_sdr(reference j, x)`` (0 = vocal, 1 = accompaniment): :func:`si_sdr`'s arithmetic
        in chunks, the reference's energy computed once."""
        mean = x.mean()
        energy, raw = _energies(x, mean)
        if energy <= _SILENT_REL * raw:
            return float("nan")  # silent estimate: undefined
        refs = self._zero_mean_chunks(j)
        dot = 0.0
        for c, start in x.chunks():
            dot += _dot(x.chunk(c, start) - mean[c], next(refs))
        alpha = dot / self._energies[j]
        refs = self._zero_mean_chunks(j)
        t_energy = n_energy = 0.0
        for c, start in x.chunks():
            target = alpha * next(refs)
            noise = (x.chunk(c, start) - mean[c]) - target
            t_energy += _dot(target, target)
            n_energy += _dot(noise, noise)
        if t_energy == 0.0:
            return float("-inf")
        n_energy = max(n_energy, _EPS * t_energy)
        if n_energy == 0.0:
            return float("inf")
        return float(10.0 * np.log10(t_energy / n_energy))

    def score(self, estimate: Any) -> Scores:
        """The :class:`Scores` of one vocal estimate (same shape as the vocal).

        The estimate is read where it lies (float32 is fine): its float64 samples and the
        accompaniment estimate ``mixture - estimate`` are formed a chunk or a batch of BSS
        Eval windows at a time, never whole.
        """
        e = as_channels_first(estimate)
        if e.shape != self.shape:
            raise ParameterError(
                f"estimate {np.shape(estimate)} and vocal {self.shape} shapes differ: allowed identical "
                "shapes (channels, n) or (n, channels)"
            )
        _check_finite("estimate", e)
        vocal, accompaniment_est = _Signal(e.T), _Signal(e.T, minuend=self._mixture)
        vocal_si = self._si_sdr(0, vocal)
        vocal_bss: Dict[str, Any] = {}
        acc_bss: Dict[str, Any] = {}
        if self.bss:
            self.prepare()
            bss = self._bss
            assert bss is not None
            d_est = bss.correlations(e.T)
            if bss.exact_correlations:  # museval's bits: the accompaniment estimate's own D
                d_acc = bss.correlations(np.subtract(self._mixture, e.T, dtype=np.float64))
            else:  # D is linear: D(mixture - e) = D(mixture) - D(e)
                d_acc = self._mixture_d() - d_est
            w = bss.w

            def windows(b: slice) -> np.ndarray:
                lo, hi = b.start * w, b.stop * w
                out = np.empty((2, b.stop - b.start, w, self.shape[0]))
                out[0] = e.T[lo:hi].reshape(out.shape[1:])
                np.subtract(self._mixture[lo:hi].reshape(out.shape[1:]), out[0], out=out[1], dtype=np.float64)
                return out

            med = _bss_medians(
                bss,
                correlations=[d_est, d_acc],
                silent=[vocal.museval_silent(), accompaniment_est.museval_silent()],
                windows=windows,
            )
            for key in ("sdr", "sir", "sar", "isr"):
                k = BSS_KEYS.index(key)
                vocal_bss[key] = float(med[0, k])
                acc_bss[key] = float(med[1, k])
        accompaniment = Scores(si_sdr=self._si_sdr(1, accompaniment_est), **acc_bss)
        return Scores(
            si_sdr=vocal_si, si_sdr_i=vocal_si - self.mixture_si_sdr, **vocal_bss, accompaniment=accompaniment
        )


class _Signal:
    """An estimate source read in float64 chunks: ``x`` [shape=(n, channels)] itself, or
    ``minuend - x`` (the accompaniment a vocal estimate leaves)."""

    def __init__(self, x: np.ndarray, *, minuend: Optional[np.ndarray] = None):
        self.x, self.minuend = x, minuend
        self.n, self.channels = x.shape

    def chunks(self):
        """``(channel, start)`` of every chunk, in order."""
        for c in range(self.channels):
            for start in range(0, self.n, _CHUNK):
                yield c, start

    def chunk(self, c: int, start: int) -> np.ndarray:
        part = self.x[start : start + _CHUNK, c].astype(np.float64)
        if self.minuend is not None:
            np.subtract(self.minuend[start : start + _CHUNK, c], part, out=part, dtype=np.float64)
        return part

    def mean(self) -> np.ndarray:
        """Per channel (float64)."""
        if self.minuend is None:
            return self.x.mean(axis=0, dtype=np.float64)
        return self.minuend.mean(axis=0, dtype=np.float64) - self.x.mean(axis=0, dtype=np.float64)

    def museval_silent(self) -> bool:
        """museval's rule: the channel sum is zero at every sample."""
        starts = range(0, self.n, _CHUNK)
        return all(not np.any(sum(self.chunk(c, start) for c in range(self.channels))) for start in starts)


def separation_metrics(vocal: Any, estimate: Any, mixture: Any, *, sr: int, bss: bool = True) -> Scores:
    """All quality numbers of one vocal estimate.

    The accompaniment reference is ``mixture - vocal`` and its estimate ``mixture -
    estimate`` (what a vocal separator leaves behind).

    Parameters
    ----------
    vocal, estimate, mixture : np.ndarray [shape=(n,) or (channels, n) or (n, channels)]
        True vocal, vocal estimate and mixture; same shape after
        :func:`as_channels_first`.
    sr : int > 0
        Sample rate in Hz (BSS Eval windows are 1 s).
    bss : bool
        Also compute BSS Eval v4 (slow part, see Notes).  ``False`` gives the SI-SDR
        keys only, for fast inner loops.

    Returns
    -------
    metrics : Scores
        ``si_sdr``, ``si_sdr_i`` (vocal SI-SDR and its improvement over the mixture)
        and, with ``bss=True``, ``sdr``, ``sir``, ``sar``, ``isr`` (vocal, NaN-aware
        median over 1 s windows); ``accompaniment`` holds ``si_sdr`` and, with
        ``bss=True``, ``sdr``, ``sir``, ``sar``, ``isr``.  All values are plain Python
        floats in dB.  They may be ``nan`` (silent estimate; all windows silent) or
        ``+-inf`` (e.g. no interference at all); :meth:`Scores.to_json` writes both
        as ``null``.

    Raises
    ------
    ParameterError
        Shapes differ, NaN/inf samples, the vocal is silent, or the accompaniment
        (``mixture - vocal``) is silent.

    Notes
    -----
    BSS Eval evaluates ``[vocal, accompaniment]`` jointly, as SiSEC does.  museval
    refuses an estimate that is silent over the whole signal -- e.g. the accompaniment
    estimate of the "estimate = mixture" floor is all zeros; that source's BSS
    numbers are then ``nan`` and the other source is still evaluated (see
    ``_bss_medians``).  Windows where any signal is silent are ``nan`` and skipped
    by the median.
    """
    shapes = [np.shape(vocal), np.shape(estimate), np.shape(mixture)]
    if not (
        np.shape(as_channels_first(vocal))
        == np.shape(as_channels_first(estimate))
        == np.shape(as_channels_first(mixture))
    ):
        raise ParameterError(
            f"vocal {shapes[0]}, estimate {shapes[1]} and mixture {shapes[2]} shapes "
            "differ: allowed identical shapes (channels, n) or (n, channels)"
        )
    _check_finite("estimate", np.asarray(as_channels_first(estimate), dtype=np.float64))
    return PairScorer(vocal, mixture, sr=sr, bss=bss).score(estimate)
