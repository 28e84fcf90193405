"""Loss against quality, and the optimiser's convergence: two sections of the run record.

* :class:`LossVsQuality` -- does the fingerprint loss pick the k that SI-SDR picks?  The loss
  compared over k is the **common yardstick** (``yardstick.mean_19``: the fingerprint distance to
  the vocal averaged over all 19 views, :mod:`conv2dsep_lib.method.yardstick`), the same views for
  every k.  The seed's step loss of k slices is measured in view k, so its ranking over k compares
  different views; it is kept beside (``step_loss``) as the seed's number.
* :class:`ConvergenceRecord` -- how much of the dB correction Strategy 3 reached:
  ``1 - (1 - 2 lr)**n`` (:func:`conv2dsep_lib.method.strategies.fraction_reached`).

(Moved out of :mod:`.record`, which re-exports them.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np

from ..core.config import Config
from ..method.strategies import fraction_reached

__all__ = [
    "LOSS_VS_QUALITY_NOTE",
    "YARDSTICK_LOSS",
    "STEP_LOSS",
    "LossVsQuality",
    "loss_vs_quality",
    "best_by_loss_key",
    "ConvergenceRecord",
]

LOSS_VS_QUALITY_NOTE = "a negative rank correlation means lower fingerprint loss went with higher SI-SDR"
#: The loss "best k by loss" compares: the yardstick's mean over the 19 views (dB²).
YARDSTICK_LOSS = "yardstick.mean_19"
#: The seed's step loss (dB², measured in the view of the last slice applied).
STEP_LOSS = "step_loss"


def _opt_float(x: Any) -> Optional[float]:
    return None if x is None else float(x)


def _opt_int(x: Any) -> Optional[int]:
    return None if x is None else int(x)


@dataclass(frozen=True)
class LossVsQuality:
    """Whether the fingerprint loss and SI-SDR agree over k = 1..N.

    Attributes
    ----------
    spearman_loss_vs_si_sdr : float or None
        Spearman's rank correlation of *loss* and SI-SDR over k.
    best_k_by_loss : int
        The k with the lowest *loss*.
    best_k_by_si_sdr : int or None
    agree : bool
        ``best_k_by_loss == best_k_by_si_sdr``.
    loss : str
        What "loss" is: :data:`YARDSTICK_LOSS` (the common yardstick, mean over the 19 views),
        or :data:`STEP_LOSS` for a record written before the yardstick existed.
    step_loss_spearman_vs_si_sdr, best_k_by_step_loss : float or None, int or None
        The same with the seed's step loss, measured in view k (``None`` when *loss* is it).
    note : str
    """

    spearman_loss_vs_si_sdr: Optional[float]
    best_k_by_loss: int
    best_k_by_si_sdr: Optional[int]
    agree: bool
    note: str = LOSS_VS_QUALITY_NOTE
    loss: str = YARDSTICK_LOSS
    step_loss_spearman_vs_si_sdr: Optional[float] = None
    best_k_by_step_loss: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "loss": self.loss,
            "spearman_loss_vs_si_sdr": self.spearman_loss_vs_si_sdr,
            "best_k_by_loss": self.best_k_by_loss,
            "best_k_by_si_sdr": self.best_k_by_si_sdr,
            "agree": self.agree,
            "note": self.note,
        }
        if self.loss != STEP_LOSS:
            out["step_loss"] = {
                "spearman_loss_vs_si_sdr": self.step_loss_spearman_vs_si_sdr,
                "best_k_by_loss": self.best_k_by_step_loss,
                "note": "the seed's step loss of k slices is measured in view k",
            }
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "LossVsQuality":
        step = d.get("step_loss") or {}
        return cls(
            spearman_loss_vs_si_sdr=_opt_float(d.get("spearman_loss_vs_si_sdr")),
            best_k_by_loss=int(d["best_k_by_loss"]),
            best_k_by_si_sdr=_opt_int(d.get("best_k_by_si_sdr")),
            agree=bool(d["agree"]),
            note=d.get("note", LOSS_VS_QUALITY_NOTE),
            loss=d.get("loss", STEP_LOSS),  # written before the yardstick: the step loss
            step_loss_spearman_vs_si_sdr=_opt_float(step.get("spearman_loss_vs_si_sdr")),
            best_k_by_step_loss=_opt_int(step.get("best_k_by_loss")),
        )


def _average_ranks(v: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (``scipy.stats.rankdata``'s default)."""
    ranks = np.empty(len(v))
    ranks[np.argsort(v, kind="mergesort")] = np.arange(1, len(v) + 1)
    _, groups, counts = np.unique(v, return_inverse=True, return_counts=True)
    return (np.bincount(groups, weights=ranks) / counts)[groups]


def _spearman(x: Sequence[float], y: Sequence[float]) -> Optional[float]:
    """Spearman's rank correlation over the pairs where both are finite (``scipy.stats.spearmanr``,
    whose import alone costs half a second of every run): ``None`` below 3 pairs or for a
    constant series."""
    a, b = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return None
    return float(np.corrcoef(_average_ranks(a[ok]), _average_ranks(b[ok]))[0, 1])


def _best_k(values: Sequence[float]) -> int:
    """1-based k of the lowest finite value (the first on ties; 1 if none is finite)."""
    v = np.asarray(values, float)
    return int(np.argmin(np.where(np.isfinite(v), v, np.inf))) + 1


def loss_vs_quality(progressive: Sequence[Any]) -> LossVsQuality:
    """Rank correlation of loss and SI-SDR over k, and the best k by each.

    Parameters
    ----------
    progressive : sequence of ProgressiveStep
        ``progressive[k-1]`` = slices 1..k.  When every entry has a ``yardstick``, the loss
        compared is its ``mean_19`` (the same views for every k) and the step loss is reported
        beside; otherwise (a record written before the yardstick) the step loss.
    """
    steps = [p.loss for p in progressive]
    si = [math.nan if p.metrics is None else p.metrics.si_sdr for p in progressive]
    best_si_k = int(np.nanargmax(si)) + 1 if np.isfinite(si).any() else None
    has_yardstick = bool(progressive) and all(getattr(p, "yardstick", None) is not None for p in progressive)
    losses = [p.yardstick.mean_19 for p in progressive] if has_yardstick else steps
    best = _best_k(losses)
    return LossVsQuality(
        spearman_loss_vs_si_sdr=_spearman(losses, si),
        best_k_by_loss=best,
        best_k_by_si_sdr=best_si_k,
        agree=best_si_k == best,
        loss=YARDSTICK_LOSS if has_yardstick else STEP_LOSS,
        # ranked by the yardstick: the seed's step-loss ranking is kept beside it
        step_loss_spearman_vs_si_sdr=_spearman(steps, si) if has_yardstick else None,
        best_k_by_step_loss=_best_k(steps) if has_yardstick else None,
    )


def best_by_loss_key(losses: Mapping[str, float]) -> str:
    """The key with the lowest loss (the first on ties; NaN never wins over a number): the one
    rule that picks "the method's best estimate", for the record and for the run that keeps its
    magnitude.  Callers pass the common yardstick's ``mean_19`` (the step loss only for records
    written before it existed)."""
    return min(losses, key=lambda key: (not math.isfinite(losses[key]), losses[key]))


@dataclass(frozen=True)
class ConvergenceRecord:
    """How far the optimiser got: the fraction of the dB correction reached.

    Attributes
    ----------
    strategy : int
    iterations : int
    learning_rate : float
    fraction_reached : float or None
        Strategy 3: ``1 - (1 - 2 * learning_rate)**iterations`` (unclipped; 0.867 at the
        seed's 100 x 0.01).  Strategy 2 is the fixed point itself (1.0); strategies 1 and 4
        have no closed form (``None``).
    formula : str
    """

    strategy: int
    iterations: int
    learning_rate: float
    fraction_reached: Optional[float]
    formula: str

    @classmethod
    def of(cls, config: Config) -> "ConvergenceRecord":
        """The record of *config*'s strategy, iterations and learning rate."""
        s, n, lr = config.strategy, config.num_iterations, config.learning_rate
        if s == 3:
            frac: Optional[float] = fraction_reached(learning_rate=lr, iterations=n)
            formula = "1 - (1 - 2*learning_rate)**iterations (Strategy 3, unclipped)"
        elif s == 2:
            frac, formula = 1.0, "Strategy 2 sets the correction in one step (the fixed point)"
        else:
            frac, formula = None, f"no closed form for strategy {s}"
        return cls(strategy=s, iterations=n, learning_rate=lr, fraction_reached=frac, formula=formula)

    def label(self) -> str:
        """One line for figure and table text, e.g. ``"100 iterations x lr 0.01 reach 87 % of the
        dB correction"``."""
        if self.fraction_reached is None:
            return f"strategy {self.strategy}: {self.iterations} iterations x lr {self.learning_rate:g}"
        pct = 100.0 * self.fraction_reached
        return (
            f"strategy {self.strategy}: {self.iterations} iterations x lr {self.learning_rate:g} "
            f"reach {pct:.0f} % of the dB correction"
        )

    def to_json(self) -> Dict[str, Any]:
        frac = self.fraction_reached
        return {
            "strategy": self.strategy,
            "iterations": self.iterations,
            "learning_rate": self.learning_rate,
            "fraction_reached": None if frac is None or not math.isfinite(frac) else frac,
            "formula": self.formula,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ConvergenceRecord":
        return cls(
            strategy=int(d["strategy"]),
            iterations=int(d["iterations"]),
            learning_rate=float(d["learning_rate"]),
            fraction_reached=_opt_float(d.get("fraction_reached")),
            formula=str(d.get("formula", "")),
        )
