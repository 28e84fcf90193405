"""Gain strategies: fit a per-window EQ curve (dB) that moves a mixture fingerprint
toward the vocal fingerprint.

All four take the fingerprints in dB, ``m`` (working mixture) and ``v`` (vocal), both
[shape=(..., n_points, n_frames)], and return an :class:`EQResult` whose ``eq_db`` is
the additive dB correction ``e`` and whose ``loss_curve[t]`` is the seed's loss
``mean((m + e_t - v) ** 2)`` (dB²) after iteration ``t + 1``.  Using one loss for all
four makes them comparable (notebook 02).

* **Strategy 3** (the seed's, :func:`strategy3_db_descent`): gradient descent on the
  dB-space squared error, ``e <- clip(e - lr * 2 * ((m + e) - v), +-clip_db)``.
* Strategy 1 (:func:`strategy1_linear_gain`): the naive linear-amplitude gain.
* Strategy 2 (:func:`strategy2_direct_ratio`): the direct ratio, no iterations.
* Strategy 4 (:func:`strategy4_linear_loss`): dB-parameterised gain, linear loss.

All windows are processed at once.  Strategy 3 needs no loop over iterations
either: for ``0 < 2 * lr <= 1`` the clipped recursion has a closed form (see its
docstring), and the whole loss curve comes from two cumulative sums.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ..core.config import Config

__all__ = [
    "EQResult",
    "optimise_eq",
    "strategy1_linear_gain",
    "strategy2_direct_ratio",
    "strategy3_db_descent",
    "strategy4_linear_loss",
    "STRATEGY_NAMES",
    "fraction_reached",
]

STRATEGY_NAMES = {
    1: "linear-amplitude gain",
    2: "direct ratio",
    3: "dB-space descent (seed)",
    4: "dB gain, linear loss",
}


class EQResult:
    """The fitted EQ and its loss history.

    Attributes
    ----------
    eq_db : np.ndarray [shape=(..., n_points, n_frames)]
        Additive correction in dB, within ``+-clip_db``.
    loss : float
        The step loss ``mean((m + e - v) ** 2)`` after the last iteration (dB²).
    loss_curve : np.ndarray [shape=(num_iterations,)]
        The loss after each iteration (dB²), ``loss_curve[-1] == loss``.  It may be
        computed on first access (a greedy candidate that is not chosen never needs
        it).
    """

    def __init__(
        self,
        eq_db: np.ndarray,
        loss_curve: Optional[np.ndarray] = None,
        *,
        loss: Optional[float] = None,
        curve: Optional[Callable[[], np.ndarray]] = None,
    ):
        if loss_curve is None and (loss is None or curve is None):
            raise ValueError("EQResult needs a loss_curve, or a loss and a curve function")
        self._eq_db: Optional[np.ndarray] = eq_db
        self._curve_value = None if loss_curve is None else np.asarray(loss_curve, dtype=np.float64)
        self._curve = curve
        self.loss = float(loss) if loss is not None else float(np.asarray(loss_curve)[-1])

    @property
    def eq_db(self) -> np.ndarray:
        if self._eq_db is None:
            raise RuntimeError("this EQ was released")
        return self._eq_db

    def release(self) -> None:
        """Drop the EQ (the loss and its curve are kept): a whole song's is ~12 MB per step."""
        self.loss_curve  # noqa: B018 - computed while its inputs exist
        self._eq_db = None

    @property
    def loss_curve(self) -> np.ndarray:
        if self._curve_value is None:
            assert self._curve is not None
            self._curve_value = self._curve()
            self._curve = None  # the closure holds a full-size array: release it
        return self._curve_value


def fraction_reached(*, learning_rate: float, iterations: int) -> float:
    """The fraction of the dB correction Strategy 3 reaches: ``1 - (1 - 2 * lr)**n``.

    Unclipped, Strategy 3's recursion ``e_{t+1} = e_t - lr * 2 * ((m + e_t) - v)`` from
    ``e_0 = 0`` is ``e_t = (1 - (1 - 2 * lr)**t) * (v - m)``: after *iterations* steps every
    point has moved this fraction of its way to the vocal's fingerprint (0.867 at the seed's
    100 x 0.01: the default optimiser is not converged).  1 means converged (e.g.
    ``lr = 0.5``, one step); above 1 or negative, the steps overshoot (``2 * lr > 1``) or
    diverge (``lr > 1``).  Points whose correction reaches the +-clip_db bound stop there,
    so for them the fraction of the *clipped* target is higher.

    Parameters
    ----------
    learning_rate : float > 0
    iterations : int >= 0

    Returns
    -------
    float
    """
    return 1.0 - (1.0 - 2.0 * float(learning_rate)) ** int(iterations)


def _loss(m, e, v) -> float:
    r = m + e - v
    return float(np.mean(r * r))


def strategy3_db_descent(
    m: np.ndarray, v: np.ndarray, *, num_iterations: int, learning_rate: float, clip_db: float
) -> EQResult:
    """Strategy 3, the seed's: gradient descent on the dB-space squared error.

    ``e_0 = 0``;  ``e_{t+1} = clip(e_t - lr * 2 * ((m + e_t) - v), -clip_db, clip_db)``.

    Vectorised over windows *and* iterations.  With ``d = v - m`` and
    ``r = 1 - 2 * lr``, the unclipped recursion is ``e_t = (1 - r**t) * d``.  For
    ``0 < 2 * lr <= 1`` it approaches ``d`` monotonically from 0, so once it reaches
    a clip bound it stays there: ``e_t = sign(d) * min(clip_db, (1 - r**t) * |d|)``
    exactly.  Then ``loss_t = mean((|d| - min(clip_db, a_t |d|))**2)`` with
    ``a_t = 1 - r**t``: each point that ever clips (``|d| > clip_db``) switches from
    the first term to ``(|d| - clip_db)**2`` at one iteration, found by a binary
    search in ``a``; two cumulative sums over those switch times give every
    ``loss_t`` without a loop (and without sorting).  For ``2 * lr > 1`` (the
    recursion overshoots) the iterations are run one by one, still over all windows.

    Parameters
    ----------
    m, v : np.ndarray [shape=(..., n_points, n_frames)]
        Mixture and vocal fingerprints in dB.
    num_iterations : int >= 1
    learning_rate : float > 0
    clip_db : float > 0

    Returns
    -------
    EQResult
    """
    m = np.asarray(m, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    d = v - m
    r = 1.0 - 2.0 * learning_rate
    if not (0.0 <= r < 1.0):
        return _iterate_db(m, v, num_iterations, clip_db, lambda e: e - learning_rate * 2.0 * ((m + e) - v))
    a = 1.0 - r ** np.arange(1, num_iterations + 1, dtype=np.float64)  # (iters,)
    e = np.clip(a[-1] * d, -clip_db, clip_db)
    return EQResult(eq_db=e, loss=_loss(m, e, v), curve=lambda: _strategy3_loss_curve(d, a, clip_db))


def _strategy3_loss_curve(d: np.ndarray, a: np.ndarray, clip_db: float) -> np.ndarray:
    """Every iteration's loss of the closed-form Strategy 3 (see its docstring)."""
    n_iter, n = len(a), d.size
    # Only points with |d| > clip_db are ever clipped; find the first iteration at
    # which each one is (a_t |d| > clip_db), then sum their two regimes per iteration.
    big = np.abs(d[np.abs(d) > clip_db])
    first = np.searchsorted(a, clip_db / big, side="right")  # 0..n_iter
    moved_d2 = np.cumsum(np.bincount(first, weights=big * big, minlength=n_iter + 1))
    clipped = np.cumsum(np.bincount(first, weights=(big - clip_db) ** 2, minlength=n_iter + 1))
    unclipped_d2 = float(np.sum(d * d)) - moved_d2[:n_iter]
    return ((1.0 - a) ** 2 * unclipped_d2 + clipped[:n_iter]) / n


def _iterate_db(m, v, num_iterations, clip_db, step) -> EQResult:
    """Run ``e <- clip(step(e), +-clip_db)`` from 0, recording the loss after each step."""
    e = np.zeros_like(m)
    losses = np.empty(num_iterations)
    for i in range(num_iterations):
        e = np.clip(step(e), -clip_db, clip_db)
        losses[i] = _loss(m, e, v)
    return EQResult(eq_db=e, loss_curve=losses)


def strategy1_linear_gain(
    m: np.ndarray, v: np.ndarray, *, num_iterations: int, learning_rate: float, clip_db: float
) -> EQResult:
    """Strategy 1: gradient descent on a linear gain in linear amplitude.

    ``g_0 = 1``; ``g <- clip(g - lr * 2 * M * (g * M - V), 10**(-clip/20), 10**(clip/20))``
    with ``M, V`` the linear-amplitude fingerprints.  The naive approach, and
    **unstable**: the gradient scales with amplitude squared, so loud points overshoot
    and bounce between the clip limits while quiet points (most of a spectrum) never
    move.  Kept to show why the seed moved to dB space.

    Parameters and returns as :func:`strategy3_db_descent`; ``eq_db = 20 log10 g``.
    """
    M = np.power(10.0, m / 20.0)
    V = np.power(10.0, v / 20.0)
    lo, hi = 10.0 ** (-clip_db / 20.0), 10.0 ** (clip_db / 20.0)
    g = np.ones_like(M)
    losses = np.empty(num_iterations)
    for i in range(num_iterations):
        g = np.clip(g - learning_rate * 2.0 * M * (g * M - V), lo, hi)
        losses[i] = _loss(m, 20.0 * np.log10(g), v)
    return EQResult(eq_db=20.0 * np.log10(g), loss_curve=losses)


def strategy2_direct_ratio(
    m: np.ndarray, v: np.ndarray, *, num_iterations: int, learning_rate: float, clip_db: float
) -> EQResult:
    """Strategy 2: the direct ratio ``V / M``, clipped -- no iterations.

    ``e = clip(v - m, +-clip_db)``: the fixed point Strategy 3 converges to.  Stable
    (no step size), but brittle: where ``M`` is at the ``amin``/top-dB floor the ratio
    is noise, and it fits the target view exactly without regard to how that view's
    EQ maps back to the spectrum.  The loss curve is constant (one value per
    "iteration", for plotting beside the others); ``learning_rate`` is unused.
    """
    e = np.clip(np.asarray(v, dtype=np.float64) - m, -clip_db, clip_db)
    return EQResult(eq_db=e, loss_curve=np.full(num_iterations, _loss(m, e, v)))


def strategy4_linear_loss(
    m: np.ndarray, v: np.ndarray, *, num_iterations: int, learning_rate: float, clip_db: float
) -> EQResult:
    """Strategy 4: a dB-parameterised gain fitted to a linear-amplitude loss.

    ``e`` in dB, ``g = 10**(e/20)``, loss ``mean((g * Mn - Vn)**2)`` with ``Mn, Vn`` the
    linear fingerprints divided by each window's mixture peak (so the step size does
    not depend on the recording level); ``e <- clip(e - lr * dL/de)``.  Stable, but
    the gradient weights points by their amplitude: loud partials are fitted, quiet
    points barely move within 100 iterations of lr 0.01 -- slow, loud-biased.
    """
    M = np.power(10.0, m / 20.0)
    V = np.power(10.0, v / 20.0)
    peak = np.max(M, axis=-2, keepdims=True)
    Mn, Vn = M / peak, V / peak
    scale = np.log(10.0) / 20.0

    def step(e):
        g = np.power(10.0, e / 20.0)
        return e - learning_rate * 2.0 * (g * Mn - Vn) * Mn * g * scale

    return _iterate_db(m, v, num_iterations, clip_db, step)


_STRATEGIES = {
    1: strategy1_linear_gain,
    2: strategy2_direct_ratio,
    3: strategy3_db_descent,
    4: strategy4_linear_loss,
}


def optimise_eq(m: np.ndarray, v: np.ndarray, *, config: Config) -> EQResult:
    """Fit the EQ with ``config.strategy`` and the config's iterations, rate and clip.

    Parameters
    ----------
    m, v : np.ndarray [shape=(..., n_points, n_frames)]
        Working-mixture and vocal fingerprints in dB.
    config : Config

    Returns
    -------
    EQResult
    """
    fn = _STRATEGIES[config.strategy]
    return fn(
        m, v, num_iterations=config.num_iterations, learning_rate=config.learning_rate, clip_db=config.clip_db
    )
