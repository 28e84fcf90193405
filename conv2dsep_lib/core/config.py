"""The one frozen, validated configuration object.

:class:`Config` carries the seed's ``CONFIG`` (``best.py``) through the library.  It is
immutable: notebooks and command-line flags derive a new one with
:meth:`Config.replace`; nothing mutates a global dict.

Decisions the seed left implicit, written down here:

* ``top_db = 80.0`` -- the seed calls ``librosa.amplitude_to_db(x, ref=1.0, amin=1e-8)``,
  whose default ``top_db=80`` floors every dB array at (its maximum - 80 dB).  We keep
  that floor.  For fingerprints the seed converts one window (400 points) at a time, so
  the floor is per window; for the working magnitude it converts the whole
  spectrogram, so the floor is global.  ``top_db=None`` switches the floor off.
* ``strategy = 3`` -- the seed's dB-space gain (see :mod:`conv2dsep_lib.strategies`).
* ``greedy_score = "step_loss"`` -- the seed's greedy criterion.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .errors import ParameterError

__all__ = ["Config", "N_VIEWS", "MAX_SLICES", "GREEDY_SCORES", "STRATEGIES", "LIMITS", "MAX_ITERATION_COST"]

#: Number of views (slice 0 = raw magnitude, then 18 filtered views).
N_VIEWS = 19
#: "N slices" counts slices 1..N; slice 0 is the reference view.
MAX_SLICES = N_VIEWS - 1
#: Criteria the greedy search can rank candidates by.
GREEDY_SCORES = ("step_loss", "si_sdr", "fingerprint")
#: Gain strategies (3 is the seed's).
STRATEGIES = (1, 2, 3, 4)


#: Allowed range of every numeric field: ``(lowest, highest)``, both included.  The upper
#: bounds keep a run to something a machine can do (a typo such as ``--sr 1e12`` is refused
#: before any work instead of allocating terabytes).
LIMITS: Dict[str, Tuple[float, float]] = {
    "sr": (1000, 384000),
    "duration": (1e-3, 3600.0),
    "n_fft": (16, 65536),
    "hop_length": (1, 65536),
    "n_points": (2, 16384),
    "num_iterations": (1, 100_000),
    "learning_rate": (1e-9, 10.0),
    "clip_db": (1e-3, 200.0),
    "amin": (1e-20, 1e-2),
    "top_db": (1.0, 400.0),
}
#: The most point-iterations (``num_iterations x n_points x n_frames``) one slice of an
#: iterative strategy (1, 4, or 3 with ``2 * learning_rate > 1``) may cost: about ten
#: seconds of one core.  Strategy 3 in its closed form (``2 * lr <= 1``) and strategy 2 cost
#: nothing per iteration.
MAX_ITERATION_COST = 1e9


def _check_int(name: str, value: Any) -> None:
    lo, hi = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ParameterError(f"{name}={value!r} is invalid: allowed an integer {int(lo)}..{int(hi)}")


def _check_float(name: str, value: Any) -> None:
    lo, hi = LIMITS[name]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not lo <= value <= hi
    ):
        raise ParameterError(f"{name}={value!r} is invalid: allowed a number {lo:g}..{hi:g}")


@dataclass(frozen=True)
class Config:
    """Frozen, validated settings of a Conv2D fingerprinting run.

    Parameters
    ----------
    sr : int > 0
        Sample rate in Hz; audio is loaded and resampled to it.  Default 22050.
    duration : float > 0
        Excerpt length in seconds.  Default 4.7 (with ``hop_length=1040`` and
        ``center=True`` exactly 100 windows).
    n_fft : int > 0
        FFT size; ``n_fft // 2 + 1`` frequency bins (1025 by default).
    hop_length : int > 0
        STFT hop in samples.  Default 1040.
    n_points : int >= 2
        Fingerprint points per window.  Default 400.
    num_iterations : int >= 1
        Gradient steps per slice.  Default 100.
    learning_rate : float > 0
        Step size of the EQ descent.  Default 0.01.
    clip_db : float > 0
        EQ clipped to ``[-clip_db, +clip_db]`` dB after every step.  Default 20.
    amin : float > 0
        Floor of ``amplitude_to_db`` (``ref=1.0``).  Default 1e-8.
    top_db : float > 0 or None
        Dynamic-range floor of ``amplitude_to_db`` (librosa's default 80, used
        implicitly by the seed).  ``None`` disables it.
    strategy : {1, 2, 3, 4}
        Gain strategy; 3 is the seed's dB-space descent.
    greedy_score : {"step_loss", "si_sdr", "fingerprint"}
        What the greedy search ranks candidates by.  Default ``"step_loss"``.

    Every numeric field has a range (:data:`LIMITS`), ``hop_length <= n_fft``, the excerpt
    holds at least one window, and an iterative strategy's cost per slice is bounded
    (:data:`MAX_ITERATION_COST`).

    Raises
    ------
    ParameterError
        If a value is out of range; the message names the value and the range.

    Examples
    --------
    >>> cfg = Config()
    >>> cfg.n_frames, cfg.n_bins
    (100, 1025)
    >>> cfg.replace(learning_rate=0.05).learning_rate
    0.05
    """

    sr: int = 22050
    duration: float = 4.7
    n_fft: int = 2048
    hop_length: int = 1040
    n_points: int = 400
    num_iterations: int = 100
    learning_rate: float = 0.01
    clip_db: float = 20.0
    amin: float = 1e-8
    top_db: Optional[float] = 80.0
    strategy: int = 3
    greedy_score: str = "step_loss"

    def __post_init__(self) -> None:
        for name in ("sr", "n_fft", "hop_length", "n_points", "num_iterations"):
            _check_int(name, getattr(self, name))
        for name in ("duration", "learning_rate", "clip_db", "amin"):
            _check_float(name, getattr(self, name))
        if self.top_db is not None:
            _check_float("top_db", self.top_db)
        if self.strategy not in STRATEGIES or isinstance(self.strategy, bool):
            raise ParameterError(f"strategy={self.strategy!r} is invalid: allowed one of 1, 2, 3, 4")
        if self.greedy_score not in GREEDY_SCORES:
            raise ParameterError(
                f"greedy_score={self.greedy_score!r} is invalid: allowed one of " + ", ".join(GREEDY_SCORES)
            )
        if self.hop_length > self.n_fft:
            raise ParameterError(
                f"hop_length={self.hop_length} is larger than n_fft={self.n_fft}: allowed hop_length <= n_fft "
                "(windows that do not overlap or leave gaps cannot be inverted)"
            )
        if self.n_samples < self.n_fft:
            raise ParameterError(
                f"duration={self.duration!r} s is too short for one window of n_fft={self.n_fft} at "
                f"sr={self.sr}: allowed >= n_fft/sr = {self.n_fft / self.sr:.4f} s"
            )
        cost = self.iteration_cost
        if cost > MAX_ITERATION_COST:
            raise ParameterError(
                f"num_iterations={self.num_iterations} with strategy {self.strategy} costs {cost:.1e} "
                f"point-iterations per slice ({self.n_points} points x {self.n_frames} windows): allowed at "
                f"most {MAX_ITERATION_COST:.0e} (fewer iterations, a shorter excerpt, or strategy 3 with "
                "learning_rate <= 0.5, whose iterations cost nothing)"
            )

    # ------------------------------------------------------------------ derived
    @property
    def n_samples(self) -> int:
        """Samples in one excerpt, ``round(duration * sr)``."""
        return int(round(self.duration * self.sr))

    @property
    def n_bins(self) -> int:
        """Frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def iteration_cost(self) -> float:
        """Point-iterations one slice costs (0 for the closed forms: strategy 2, and 3 with
        ``2 * learning_rate <= 1``)."""
        closed = self.strategy == 2 or (self.strategy == 3 and 2 * self.learning_rate <= 1)
        return 0.0 if closed else float(self.num_iterations) * self.n_points * self.n_frames

    @property
    def n_frames(self) -> int:
        """STFT windows of one excerpt with ``center=True``."""
        return 1 + self.n_samples // self.hop_length

    # ------------------------------------------------------------------ helpers
    def replace(self, **changes: Any) -> "Config":
        """Return a new validated config with some fields changed.

        Unknown field names raise :class:`ParameterError`.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ParameterError(
                f"unknown config field(s) {', '.join(unknown)}: allowed " + ", ".join(sorted(names))
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> Dict[str, Any]:
        """The fields as a JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "Config":
        """Build a config from a dict (e.g. ``results.json["config"]``)."""
        return cls().replace(**values)


def check_n_slices(n_slices: Any) -> int:
    """Validate a slice count: an integer in ``1..18``.

    Raises
    ------
    ParameterError
        ``"n_slices=19 is out of range: allowed 1..18"``.
    """
    if isinstance(n_slices, bool) or not isinstance(n_slices, int) or not (1 <= n_slices <= MAX_SLICES):
        raise ParameterError(f"n_slices={n_slices!r} is out of range: allowed 1..{MAX_SLICES}")
    return n_slices
