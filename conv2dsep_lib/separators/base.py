"""What a separator is: a kind, and a function from the inputs it may see to an estimate.

Three kinds, as in nussl's ``separation/benchmark`` vs ``separation/primitive``:

* ``floor`` -- no separation at all (the mixture as the estimate): every method must beat it.
* ``oracle`` -- reads the true target stem: the ideal masks and the fingerprint method
  (its optimisation fits the *true* vocal's fingerprint).  Ceilings, not separators.
* ``blind`` -- sees the mixture only: REPET-SIM, HPSS, the band-pass floor, the learned model.

The kind is structure, not a label: a floor or blind function takes one positional
argument, the :class:`Mixture`; an oracle function takes two, the :class:`Mixture`
and the :class:`Reference`.  :class:`Separator` checks the signature when it is
built, and :func:`~conv2dsep_lib.separators.registry.separate` never hands a
reference to a blind function.
"""

from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Optional, Tuple, Union

import numpy as np

from ..core.config import Config
from ..method.transforms import istft, stft

__all__ = ["Kind", "Mixture", "Reference", "Separator", "BlindFunction", "OracleFunction", "masked"]


class Kind(str, enum.Enum):
    """What an estimate was allowed to see."""

    FLOOR = "floor"
    ORACLE = "oracle"
    BLIND = "blind"


@dataclass(frozen=True, eq=False)
class Mixture:
    """What every separator may see: the mono mixture and the STFT settings.

    Attributes
    ----------
    audio : np.ndarray [shape=(n,)], float32
        At ``config.sr``.
    config : Config
    stft : np.ndarray [shape=(n_bins, n_frames)], complex
        The method's STFT of the mixture, computed once and shared by every separator
        that asks for it.
    """

    audio: np.ndarray
    config: Config

    @cached_property
    def stft(self) -> np.ndarray:
        return stft(self.audio, config=self.config)

    @classmethod
    def with_stft(cls, audio: np.ndarray, config: Config, X: Optional[np.ndarray]) -> "Mixture":
        """A mixture whose STFT the caller already has (``X = stft(audio, config=config)``)."""
        out = cls(audio, config)
        if X is not None:
            out.__dict__["stft"] = X  # the cached_property's slot
        return out

    def reconstruct(self, mask_or_stft: np.ndarray, *, is_mask: bool = True) -> np.ndarray:
        """Audio [shape=(n,)] of ``mask * stft`` (or of a complex STFT), the mixture's length."""
        X = mask_or_stft * self.stft if is_mask else mask_or_stft
        return istft(X, config=self.config, length=len(self.audio))


@dataclass(frozen=True, eq=False)
class Reference:
    """The true target stem (oracle separators only).

    Attributes
    ----------
    audio : np.ndarray [shape=(n,)], float32
        As long as the mixture, at ``config.sr``.
    config : Config
    stft : np.ndarray [shape=(n_bins, n_frames)], complex
    """

    audio: np.ndarray
    config: Config

    @cached_property
    def stft(self) -> np.ndarray:
        return stft(self.audio, config=self.config)

    @classmethod
    def with_stft(cls, audio: np.ndarray, config: Config, V: Optional[np.ndarray]) -> "Reference":
        """A reference whose STFT the caller already has (``V = stft(audio, config=config)``)."""
        out = cls(audio, config)
        if V is not None:
            out.__dict__["stft"] = V  # the cached_property's slot
        return out


#: ``fn(mixture) -> estimate [shape=(n,)]``.
BlindFunction = Callable[[Mixture], np.ndarray]
#: ``fn(mixture, reference) -> estimate [shape=(n,)]``.
OracleFunction = Callable[[Mixture, Reference], np.ndarray]


def _positional_count(fn: Callable) -> int:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = inspect.signature(fn).parameters.values()
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return -1
    return sum(1 for p in params if p.kind in kinds)


@dataclass(frozen=True)
class Separator:
    """One way to get an estimate.

    Attributes
    ----------
    name : str
        As in ``results.json`` and the tables (``"oracle_irm"``, ``"repet_sim"``, ...).
    kind : Kind
    function : callable
        ``fn(mixture)`` for floor and blind, ``fn(mixture, reference)`` for oracle.
    description : str
        One line for tables and the README.
    baseline : bool
        Reported as a reference point in every run (the fingerprint method itself is
        a separator but not a baseline).
    targets : tuple of str or None
        The targets it estimates (``("vocals",)`` for a vocal separator such as REPET-SIM);
        ``None``: any target (the floor, and the oracle masks built from the target's stem).

    Raises
    ------
    TypeError
        When the function's positional parameters do not match the kind -- e.g. a
        blind separator that would take the reference.
    """

    name: str
    kind: Kind
    function: Union[BlindFunction, OracleFunction]
    description: str
    baseline: bool = True
    targets: Optional[Tuple[str, ...]] = None

    def __post_init__(self) -> None:
        want = 2 if self.kind is Kind.ORACLE else 1
        got = _positional_count(self.function)
        if got != want:
            seen = "(mixture, reference)" if want == 2 else "(mixture) and nothing else"
            raise TypeError(
                f"{self.kind.value} separator {self.name!r} must take {seen} as its "
                f"positional parameters; its function takes {got if got >= 0 else '*args'}"
            )


def masked(mixture: Mixture, mask: np.ndarray) -> np.ndarray:
    """The estimate of a magnitude mask: ``istft(mask * X)`` with the mixture's phase."""
    return mixture.reconstruct(mask)
