"""BSS Eval v4 with museval's numbers, its reference statistics computed once per reference set.

``museval.evaluate(mode="v4")`` (SiSEC 2018) scores an estimate in three steps: the
auto- and cross-correlations of the true sources (the Gram matrix ``G`` of their delayed
copies, 512 lags), least-squares distortion filters from ``G`` and the correlations of
the references with the estimate (``D``), and per 1 s window the projections of the
references through those filters, from which SDR, ISR, SIR and SAR follow.  The first
step depends on the references only -- yet museval redoes it for every estimate, and on a
whole song it is most of the work.

:class:`BssEvalV4` does it once: ``G``, the LU factors of ``G + eps I``, the references'
block spectra for the correlations and their window spectra for the projections.  Each
estimate then costs two block-FFT passes, two triangular solves and a few batched inverse
FFTs.

On music the references are band-limited and correlated, and the 512-lag solve is
ill-conditioned: a last-bit change in ``G`` or in the solve moves ISR/SIR/SAR by ~1e-4 dB
(museval itself moves that much when its FFT library is swapped for numpy's).  So ``G`` is
built exactly as museval builds it (:func:`museval_gram`: bit for bit), and the filters are
museval's ``numpy.linalg.solve(G + eps I, D)`` to the bit -- numpy's own LAPACK, factored
once (:mod:`.numpy_lapack`; scipy's LAPACK is another OpenBLAS build and rounds
differently), on one BLAS thread: the parallel LU rounds differently with the thread
count, so museval's own numbers move by ~5e-5 dB on music between 1 and 2 BLAS threads;
ours are museval's on one (``OPENBLAS_NUM_THREADS=1``).  The estimates' correlations ``D``
are museval's arithmetic too up to :data:`EXACT_CORRELATIONS_FFT` (the demo clips and
default excerpts: every number museval's to the bit); beyond, block FFTs, whose rounding the
solve amplifies far less: on 30 s of a song every number is within ~3e-7 dB of museval's
(``benchmarks/bench_scale.py``).  ``tests/test_metrics.py`` compares both paths against real
``museval.evaluate`` calls at 1e-6 dB, on music too.

Conventions (as museval): sources ``(nsrc, nsampl, nchan)``; non-overlapping windows of
``window`` samples, the trailing partial window dropped (one window for a signal shorter
than ``window``); a window where any reference or estimate source is silent (its channels
sum to zero at every sample) is ``nan`` for all sources; ``bss_eval_images`` criteria;
time-invariant filters; no permutation search.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import scipy.fftpack
from scipy.linalg import toeplitz
from threadpoolctl import ThreadpoolController

from .numpy_lapack import LUSolver

__all__ = [
    "FILTERS_LEN",
    "EXACT_CORRELATIONS_FFT",
    "fast_length",
    "lagged_products",
    "museval_spectra",
    "museval_gram",
    "gram_from_spectra",
    "museval_correlations",
    "BssEvalV4",
]

#: Length of museval's distortion filters (lags 0..511).
FILTERS_LEN = 512
#: Block length of the correlations (their FFTs are ``BLOCK + FILTERS_LEN`` long).
BLOCK = 16384
#: Blocks of a signal transformed at once for its correlations.
BLOCKS_AT_ONCE = 32
#: Windows projected at once (an estimate's working memory is a few of these batches).
WINDOW_BATCH = 16
#: Up to this FFT length (2^17: signals up to 5.9 s at 22050 Hz, the default excerpts and the
#: demo clips) the estimates' correlations ``D`` are museval's arithmetic too (one full-length
#: FFT and ``nsrc * nchan^2`` inverse FFTs per estimate, ~8 ms), so every number is museval's
#: to the bit; beyond, block FFTs (a song's full-length FFTs would cost ~1 s per estimate).
EXACT_CORRELATIONS_FFT = 2**17


def fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= *n* (a size the FFT handles fast)."""
    best = 1 << int(np.ceil(np.log2(max(n, 1))))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = p35
            while q < n:
                q *= 2
            best = min(best, q)
            p35 *= 3
        p5 *= 5
    return best


class _Blocks:
    """Block spectra of fixed signals, for :func:`lagged_products` against many others."""

    def __init__(self, x: np.ndarray, lags: int, block: int = BLOCK):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        self.n = x.shape[-1]
        self.lags = lags
        self.block = min(block, self.n)
        self.nb = -(-self.n // self.block)
        self.size = fast_length(self.block + lags - 1)
        # (..., nb, size/2+1): each block zero-padded to the FFT size, conjugated; made a few
        # blocks at a time (a whole song's signal is not copied)
        self.conj_spectra = np.empty(x.shape[:-1] + (self.nb, self.size // 2 + 1), dtype=complex)
        for first in range(0, self.nb, BLOCKS_AT_ONCE):
            last = min(first + BLOCKS_AT_ONCE, self.nb)
            part = x[..., first * self.block : last * self.block]
            blocks = np.zeros(x.shape[:-1] + (last - first, self.block))
            flat = blocks.reshape(x.shape[:-1] + (-1,))
            flat[..., : part.shape[-1]] = part
            spec = self.conj_spectra[..., first:last, :]
            spec[...] = np.fft.rfft(blocks, n=self.size, axis=-1)
            np.conjugate(spec, out=spec)

    def against(self, y: np.ndarray) -> np.ndarray:
        """``out[..., m] = sum_n x[..., n] * y[n + m]`` for ``m = 0..lags-1`` (``y`` zero past its end).

        *y*'s blocks are transformed :data:`BLOCKS_AT_ONCE` at a time (bounded temporaries).
        """
        y = np.asarray(y)
        total = np.zeros(self.conj_spectra.shape[:-2] + self.conj_spectra.shape[-1:], dtype=complex)
        # blocks whose FFT frame lies inside y are strided views of it; the rest get zeros past the end
        inside = max(0, min(self.nb, (len(y) - self.size) // self.block + 1))
        views = np.lib.stride_tricks.sliding_window_view(y, self.size)[:: self.block] if inside else None
        for first in range(0, self.nb, BLOCKS_AT_ONCE):
            last = min(first + BLOCKS_AT_ONCE, self.nb)
            frames = np.zeros((last - first, self.size))
            if views is not None and first < inside:
                frames[: min(last, inside) - first] = views[first : min(last, inside)]
            for b in range(max(first, inside), last):
                part = y[b * self.block : b * self.block + self.size]
                frames[b - first, : len(part)] = part
            spec = np.fft.rfft(frames, axis=-1)  # (blocks, size/2+1)
            total += np.einsum("...bf,bf->...f", self.conj_spectra[..., first:last, :], spec)
        return np.fft.irfft(total, n=self.size, axis=-1)[..., : self.lags]


def lagged_products(x: np.ndarray, y: np.ndarray, lags: int) -> np.ndarray:
    """``out[..., m] = sum_n x[..., n] * y[n + m]`` for ``m = 0..lags-1``, by block FFTs.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n)]
    y : np.ndarray [shape=(n,)] (shorter or longer is fine: zero past its end)
    lags : int
    """
    return _Blocks(x, lags).against(y)


#: One filter solve at a time, on one BLAS thread.  museval's numbers are those at
#: ``OPENBLAS_NUM_THREADS=1`` (LAPACK's parallel LU rounds differently with the thread count).
#: threadpoolctl's limit is process-wide, so it is set and restored under this lock: a version
#: that let two lanes' solves overlap (the first in set the limit, the last out restored it) gave
#: other numbers from two threads than from one (``test_metrics``), so solves are serialised.
_LAPACK = threading.Lock()
_CONTROLLER: List[ThreadpoolController] = []


def _one_blas_thread() -> Any:
    """threadpoolctl's context that runs BLAS/LAPACK on one thread (its controller made once)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


class _Solver:
    """museval's filter solve for one Gram matrix ``G``.

    museval: ``np.linalg.solve(G + eps * I, D)``, and where that matrix is exactly singular
    (e.g. stereo references whose channels are proportional) ``np.linalg.lstsq(G, D)``.
    The same numbers here, ``G + eps I`` factored once with numpy's own LAPACK
    (:class:`.numpy_lapack.LUSolver`: the routines ``np.linalg.solve`` runs, so the same
    bits), on one BLAS thread (see :data:`_LAPACK`).
    """

    def __init__(self, G: np.ndarray):
        self._G = G
        self._lu: Optional[LUSolver] = None
        with _LAPACK, _one_blas_thread():
            try:
                self._lu = LUSolver(G + np.finfo(float).eps * np.eye(G.shape[0]))
            except np.linalg.LinAlgError:
                pass

    def __call__(self, D: np.ndarray) -> np.ndarray:
        with _LAPACK, _one_blas_thread():
            if self._lu is not None:
                try:
                    return self._lu(D)
                except np.linalg.LinAlgError:  # numpy's LAPACK not found: np.linalg.solve raised
                    pass
            return np.linalg.lstsq(self._G, D, rcond=None)[0]


def museval_spectra(references: np.ndarray, filters_len: int = FILTERS_LEN) -> np.ndarray:
    """museval's ``sf``: each reference channel's ``scipy.fftpack`` FFT of the whole signal
    zero-padded to a power of two >= ``nsampl + L - 1`` [shape=(nsrc, nchan, n_fft)], complex."""
    nsampl = references.shape[1]
    n_fft = int(2 ** np.ceil(np.log2(nsampl + filters_len - 1.0)))
    return scipy.fftpack.fft(np.moveaxis(references, 1, 2), n=n_fft, axis=2)


def museval_gram(
    references: np.ndarray, filters_len: int = FILTERS_LEN, *, spectra: Optional[np.ndarray] = None
) -> np.ndarray:
    """museval's ``G`` of the true sources, bit for bit: its ``_compute_reference_correlations``.

    Written out as museval writes it -- one ``scipy.fftpack`` FFT of the whole zero-padded
    signal per reference channel (:func:`museval_spectra`, or *spectra* if given), each pair's
    product, its inverse FFT, the Toeplitz blocks, in museval's order -- because nothing else
    gives the same bits: numpy's complex product takes different SIMD paths (fused
    multiply-adds or not) with its operands' memory alignment, and the filter solve on music
    amplifies such last-bit differences to ~1e-4 dB.

    Parameters
    ----------
    references : np.ndarray [shape=(nsrc, nsampl, nchan)], float64
    filters_len : int
    spectra : np.ndarray [shape=(nsrc, nchan, n_fft)], optional
        :func:`museval_spectra` of *references*, if the caller has them.

    Returns
    -------
    np.ndarray [shape=(nsrc, nsrc, nchan, nchan, L, L)]
    """
    return gram_from_spectra(
        museval_spectra(references, filters_len) if spectra is None else spectra, filters_len
    )


def gram_from_spectra(spectra: np.ndarray, filters_len: int = FILTERS_LEN) -> np.ndarray:
    """:func:`museval_gram` from the references' :func:`museval_spectra` [shape=(nsrc, nchan, n_fft)]
    alone (the references themselves can be freed first).

    One pair at a time, its inverse FFT done in place (``overwrite_x``: the same transform, the
    same bits) and only the 2 L - 1 lags kept: on a whole song the transient is one spectrum
    (~67 MB) instead of four.
    """
    nsrc, nchan, _ = spectra.shape
    L = filters_len
    G = np.zeros((nsrc, nsrc, nchan, nchan, L, L))
    pairs = [(j, c) for j in range(nsrc) for c in range(nchan)]
    for a, (i, c1) in enumerate(pairs):
        for j, c2 in pairs[a:]:  # museval's combinations_with_replacement order
            ssf = spectra[j, c2] * np.conj(spectra[i, c1])
            ssf = scipy.fftpack.ifft(ssf, overwrite_x=True)
            column, row = np.hstack((ssf[0].real, ssf[-1:-L:-1].real)), ssf[:L].real.copy()
            del ssf
            ss = toeplitz(column, r=row)
            G[j, i, c2, c1] = ss
            G[i, j, c1, c2] = ss.T
    return G


def museval_correlations(
    spectra: np.ndarray, signal: np.ndarray, filters_len: int = FILTERS_LEN
) -> np.ndarray:
    """museval's ``D`` of one signal, bit for bit (as its ``_compute_projection_filters`` forms it).

    Parameters
    ----------
    spectra : np.ndarray [shape=(nsrc, nchan, n_fft)]
        :func:`museval_spectra` of the references.
    signal : np.ndarray [shape=(nsampl, nchan)], float64
    filters_len : int

    Returns
    -------
    np.ndarray [shape=(nsrc * nchan, L, nchan)]
    """
    nsrc, nchan, n_fft = spectra.shape
    L = filters_len
    sef = scipy.fftpack.fft(np.asarray(signal, dtype=np.float64).T, n=n_fft)
    D = np.zeros((nsrc, nchan, L, nchan))
    for j in range(nsrc):
        for cj in range(nchan):
            for c in range(nchan):
                ssef = spectra[j, cj] * np.conj(sef[c])
                ssef = np.real(scipy.fftpack.ifft(ssef))
                D[j, cj, :, c] = np.hstack((ssef[0], ssef[-1:-L:-1]))
    return D.reshape(nsrc * nchan, L, nchan)


def _db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(den == 0, np.inf, 10 * np.log10(num / np.where(den == 0, 1.0, den)))


class BssEvalV4:
    """museval's BSS Eval v4 for many estimates of one set of true sources.

    Parameters
    ----------
    references : np.ndarray [shape=(nsrc, nsampl, nchan)], float, optional
        The true sources (none silent).  Or give *source* and *shape* instead.
    window : int
        Window (= hop) in samples; museval's ``win``.
    filters_len : int
        Distortion filter length (museval: 512).
    source : callable, optional
        ``source(start, stop)`` -> the true sources' samples ``start:stop`` as float64
        [shape=(nsrc, stop - start, nchan)] -- for a caller that derives them (e.g. the
        accompaniment as mixture - vocal) instead of holding a whole song's float64 copy.
    shape : tuple of int, optional
        ``(nsrc, nsampl, nchan)`` of *source*.

    Examples
    --------
    >>> ev = BssEvalV4(refs, window=44100)                       # doctest: +SKIP
    >>> sdr = ev.evaluate(estimates)["sdr"]    # (nsrc, nwin)     # doctest: +SKIP
    """

    def __init__(
        self,
        references: Optional[np.ndarray] = None,
        *,
        window: int,
        filters_len: int = FILTERS_LEN,
        source: Optional[Callable[[int, int], np.ndarray]] = None,
        shape: Optional[Tuple[int, int, int]] = None,
    ):
        if references is not None:
            refs = np.asarray(references, dtype=np.float64)
            source, shape = (lambda a, b: refs[:, a:b]), refs.shape
        if source is None or shape is None:
            raise ValueError("BssEvalV4 needs the references, or a source and its shape")
        self._source = source
        self.nsrc, self.n, self.nchan = shape
        L = self.L = filters_len
        w = self.w = int(window) if window < self.n else self.n
        self.nwin = (self.n - w + w) // w if w < self.n else 1
        # --- museval's G (bit for bit), and block spectra of the references for the estimates' D
        spectra = museval_spectra(source(0, self.n), L)  # the float64 copy of the sources goes at once
        G = gram_from_spectra(spectra, L)
        self._spectra: Optional[np.ndarray] = None
        if spectra.shape[-1] <= EXACT_CORRELATIONS_FFT:
            self._spectra = spectra  # D with museval's arithmetic too
        del spectra
        self._solve_all = _Solver(self._reshape(G))
        self._solve_own = [_Solver(self._reshape(G[j : j + 1, j : j + 1])) for j in range(self.nsrc)]
        self.size = fast_length(w + L - 1)
        # The references' block spectra (for the estimates' D on long signals) and per-window
        # statistics (for the projections) are made when first needed: a run builds this object
        # while the method runs and scores later, and on a song they are ~130 MB.
        self._lazy = threading.Lock()
        self._blocks_made: Optional[_Blocks] = None
        self._windows_made: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None

    @property
    def _blocks(self) -> _Blocks:
        """Block spectra of the references (long signals' :meth:`correlations`), made once."""
        with self._lazy:
            if self._blocks_made is None:
                full = self._source(0, self.n)
                self._blocks_made = _Blocks(
                    full.transpose(0, 2, 1).reshape(self.nsrc * self.nchan, self.n), self.L
                )
            return self._blocks_made

    def _window_statistics(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per window: the references' spectra (for the projections) [shape=(nsrc, nwin, size // 2 + 1,
        nchan)], energies [shape=(nsrc, nwin)] and silence [shape=(nwin,)], made once."""
        with self._lazy:
            if self._windows_made is None:
                spectra = np.empty((self.nsrc, self.nwin, self.size // 2 + 1, self.nchan), dtype=complex)
                energy = np.empty((self.nsrc, self.nwin))
                silent = np.empty(self.nwin, dtype=bool)
                for start in range(0, self.nwin, WINDOW_BATCH):
                    batch = slice(start, min(start + WINDOW_BATCH, self.nwin))
                    wins = self._ref_batch(batch)  # (nsrc, n, w, nchan)
                    spectra[:, batch] = np.fft.rfft(wins, n=self.size, axis=2)
                    for j in range(self.nsrc):
                        energy[j, batch] = _energy(wins[j])
                    silent[batch] = np.any(_silent_windows(wins), axis=0)
                self._windows_made = (spectra, energy, silent)
            return self._windows_made

    def _ref_batch(self, b: slice) -> np.ndarray:
        """The references' windows *b* [shape=(nsrc, len(b), w, nchan)], float64."""
        x = self._source(b.start * self.w, b.stop * self.w)
        return x.reshape(self.nsrc, b.stop - b.start, self.w, self.nchan)

    @staticmethod
    def _reshape(G: np.ndarray) -> np.ndarray:
        """museval's ``_reshape_G``: (nsrc, nsrc, nchan, nchan, L, L) -> square."""
        G = np.moveaxis(G, (1, 3), (3, 4))
        nsrc, nchan, L = G.shape[0:3]
        return np.reshape(G, (nsrc * nchan * L, nsrc * nchan * L))

    @property
    def exact_correlations(self) -> bool:
        """Whether :meth:`correlations` is museval's arithmetic to the bit (a short signal,
        :data:`EXACT_CORRELATIONS_FFT`); else block FFTs, within ~3e-7 dB of museval on music."""
        return self._spectra is not None

    def correlations(self, signal: np.ndarray) -> np.ndarray:
        """museval's ``D`` of one signal [shape=(nsampl, nchan)]: its products with every reference
        at lags 0..L-1, [shape=(nsrc * nchan, L, nchan)].  Linear in the signal: with block FFTs
        (not :attr:`exact_correlations`) the ``D`` of a difference of signals may be taken as the
        difference of their ``D``; museval's bits need the difference's own ``D``."""
        if self._spectra is not None:
            return museval_correlations(self._spectra, signal, self.L)
        signal = np.asarray(signal)  # float32 is read as exact float64, a block at a time
        return np.stack([self._blocks.against(signal[:, c]) for c in range(self.nchan)], axis=-1)

    def _filters(self, D: np.ndarray, j: int) -> Tuple[np.ndarray, np.ndarray]:
        """The distortion filters of an estimate (its correlations *D*) as source *j*: through all
        references (``C``, [shape=(nsrc, nchan, L, nchan)]) and through reference *j* alone (``Cj``)."""
        L, nchan = self.L, self.nchan
        C = self._solve_all(D.reshape(-1, nchan)).reshape(self.nsrc, nchan, L, nchan)
        own = D.reshape(self.nsrc, nchan * L, nchan)[j]
        Cj = self._solve_own[j](own).reshape(nchan, L, nchan)
        return C, Cj

    def _filter_spectra(self, C: np.ndarray) -> np.ndarray:
        """Spectra of distortion filters [shape=(n, nchan_in, L, nchan_out)] at the window FFT size."""
        return np.fft.rfft(C, n=self.size, axis=-2)  # (n, nchan_in, F, nchan_out)

    def _project(
        self, ref_spectra: np.ndarray, sources: List[int], filt: np.ndarray, wins: slice
    ) -> np.ndarray:
        """Windows *wins* of the references *sources* (per-window spectra *ref_spectra*) filtered
        by *filt* (their filters' spectra, summed): (n_windows, w + L - 1, nchan)."""
        n_out = self.w + self.L - 1
        spectra = ref_spectra[:, wins]
        total = np.zeros((spectra.shape[1], filt.shape[-2], self.nchan), dtype=complex)
        for s_i, s in enumerate(sources):
            for cj in range(self.nchan):
                total += spectra[s, :, :, cj, None] * filt[s_i, cj][None]
        return np.fft.irfft(total, n=self.size, axis=1)[:, :n_out, :]

    def evaluate(
        self,
        estimates: Optional[np.ndarray] = None,
        *,
        sources: Tuple[int, ...] = (),
        correlations: Optional[List[np.ndarray]] = None,
        windows: Optional[Callable[[slice], np.ndarray]] = None,
    ) -> Dict[str, np.ndarray]:
        """SDR, ISR, SIR, SAR of each estimate source and window, as ``museval.evaluate`` gives them.

        Parameters
        ----------
        estimates : np.ndarray [shape=(nsrc, nsampl, nchan)], optional
            Already padded / truncated to the references' length (museval's
            ``pad_or_truncate``).  Or give *windows* and *correlations* instead.
        sources : tuple of int
            Only these estimate sources (the others are ``nan``), and the silence rule
            looks at these estimates only -- what museval gives when every estimate slot
            holds the same source.  Default: all, with museval's joint rule.
        correlations : list of np.ndarray, optional
            :meth:`correlations` of each estimate source, if the caller has them (e.g. by
            linearity: ``D(mixture - e) = D(mixture) - D(e)``).
        windows : callable, optional
            ``windows(b)`` -> the estimates' windows ``b`` (a slice of window indices) as
            float64 [shape=(nsrc, len(b), window, nchan)] -- for a caller that derives the
            estimates on the fly instead of holding them whole.

        Returns
        -------
        dict of str -> np.ndarray [shape=(nsrc, nwin)]

        Notes
        -----
        Everything after the filters is done :data:`WINDOW_BATCH` windows at a time, so an
        estimate's working memory does not grow with the song's length.
        """
        chosen = list(sources) if sources else list(range(self.nsrc))
        if windows is None:
            if estimates is None:
                raise ValueError("evaluate needs the estimates, or their windows and correlations")
            ests = np.asarray(estimates, dtype=np.float64)
            est_wins = self._windows(ests)  # (nsrc, nwin, w, nchan), a view
            windows = lambda b: est_wins[:, b]  # noqa: E731
            if correlations is None:
                correlations = [self.correlations(ests[j]) for j in range(self.nsrc)]
        elif correlations is None:
            raise ValueError("evaluate with windows needs the correlations")
        ref_spectra, ref_energy, ref_silent_win = self._window_statistics()
        out = {key: np.full((self.nsrc, self.nwin), np.nan) for key in ("sdr", "isr", "sir", "sar")}
        w = self.w
        filters = {}
        for j in chosen:
            C, Cj = self._filters(correlations[j], j)
            filters[j] = (self._filter_spectra(C), self._filter_spectra(Cj[None]))
        for start in range(0, self.nwin, WINDOW_BATCH):
            b = slice(start, min(start + WINDOW_BATCH, self.nwin))
            wins = windows(b)
            refs = self._ref_batch(b)
            dead = ref_silent_win[b] | np.any(_silent_windows(wins[chosen]), axis=0)
            for j in chosen:
                filt_all, filt_own = filters[j]
                p_spat = self._project(ref_spectra, [j], filt_own, b)  # (n, w+L-1, nchan)
                p_all = self._project(ref_spectra, list(range(self.nsrc)), filt_all, b)
                ref, est = refs[j], wins[j]  # (n, w, nchan); zero past w
                # museval's e_spat = p_spat - s_true, e_interf = p_all - p_spat, e_artif = est - p_all
                # (s_true and est are the windows zero-padded to w + L - 1 samples)
                e_true = ref_energy[j][b]
                crit = {
                    "sdr": _db(e_true, _energy(est - ref)),
                    "isr": _db(e_true, _energy(p_spat[:, :w] - ref) + _energy(p_spat[:, w:])),
                    "sir": _db(_energy(p_spat), _energy(p_all - p_spat)),
                    "sar": _db(_energy(p_all), _energy(est - p_all[:, :w]) + _energy(p_all[:, w:])),
                }
                for key, value in crit.items():
                    out[key][j, b] = np.where(dead, np.nan, value)
        return out

    def _windows(self, x: np.ndarray) -> np.ndarray:
        """The windows of signals [shape=(nsrc, nsampl, nchan)] as a view (nsrc, nwin, w, nchan)."""
        return x[:, : self.nwin * self.w].reshape(x.shape[0], self.nwin, self.w, x.shape[-1])


def _silent_windows(wins: np.ndarray) -> np.ndarray:
    """museval's silent windows: (nsrc, nwin, w, nchan) -> (nsrc, nwin), True where the channel
    sum is zero at every sample (in batches of windows)."""
    out = np.empty(wins.shape[:2], dtype=bool)
    for start in range(0, wins.shape[1], WINDOW_BATCH):
        b = slice(start, start + WINDOW_BATCH)
        part = wins[:, b, :, 0] if wins.shape[-1] == 1 else np.sum(wins[:, b], axis=-1)
        out[:, b] = ~np.any(part != 0, axis=2)
    return out


def _energy(x: np.ndarray) -> np.ndarray:
    """Sum of squares per window: (nwin, t, nchan) -> (nwin,)."""
    return np.einsum("wtc,wtc->w", x, x)
