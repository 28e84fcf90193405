"""The run record: what ``results.json`` holds, as typed, frozen dataclasses.

:class:`RunRecord` is built by :func:`conv2dsep_lib.run.experiment.build_record` and
read back with :meth:`RunRecord.from_json` / :func:`read_record`; every consumer (the
command line's summary, the notebooks, the figures, the sweep's tables) reads its
attributes, never a dict by string key.  :meth:`RunRecord.to_json` writes exactly the
JSON of earlier versions plus ``schema_version``.

**ORACLE**: every Conv2D number here comes from an optimisation that read the true
vocal; ``oracle`` is always ``True`` and :data:`ORACLE_NOTE` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, to_jsonable
from ..method.yardstick import YARDSTICK_NOTE, Yardstick
from ..scoring.scores import Scores
from .naming import read_results_json
from .quality import (  # re-exported: their home until the yardstick came
    LOSS_VS_QUALITY_NOTE,
    ConvergenceRecord,
    LossVsQuality,
    _spearman,  # noqa: F401  (tests read it here)
    best_by_loss_key,
    loss_vs_quality,
)

__all__ = [
    "SCHEMA_VERSION",
    "ORACLE_NOTE",
    "ORACLE_LABEL",
    "ProgressiveStep",
    "Candidate",
    "BestPrefix",
    "GreedyRecord",
    "Comparison",
    "LossVsQuality",
    "ConvergenceRecord",
    "Yardstick",
    "YARDSTICK_NOTE",
    "LOSS_VS_QUALITY_NOTE",
    "BaselineRecord",
    "EstimateEntry",
    "RunRecord",
    "loss_vs_quality",
    "best_by_loss_key",
    "read_record",
]

#: Version of the ``results.json`` layout (1: the first typed layout; keys added since --
#: ``yardstick`` on every progressive entry and greedy prefix, ``comparison.yardstick``,
#: ``loss_vs_quality.loss`` and ``.step_loss``, ``convergence`` -- are optional when read).
SCHEMA_VERSION = 1
ORACLE_NOTE = (
    "ORACLE: the optimisation uses the true isolated vocal as its target; "
    "these numbers are an upper-bound study of the fingerprint, not blind separation."
)
#: The short label every figure title carries.
ORACLE_LABEL = "ORACLE (uses the true vocal)"


def _opt_float(x: Any) -> Optional[float]:
    return None if x is None else float(x)


def _finite_or_none(x: Optional[float]) -> Optional[float]:
    return None if x is None or not math.isfinite(x) else float(x)


def _ys_json(y: Optional[Yardstick]) -> Optional[Dict[str, Any]]:
    return None if y is None else y.to_json()


@dataclass(frozen=True)
class ProgressiveStep:
    """Slices 1..k of the original order (one k of the progressive experiment).

    Attributes
    ----------
    n_slices : int
        k.
    sequence : tuple of str
        The view names applied, in order.
    loss : float
        The step loss of the last slice, ``mean((m + e - v)**2)`` in dB², measured in
        view k (the seed's number).
    step_losses : tuple of float
        The step loss after each of the k slices.
    loss_curve : tuple of float
        Slice k's loss after every iteration.
    metrics : Scores or None
    audio : str or None
        The wav of the extracted vocal, relative to the run folder.
    yardstick : Yardstick or None
        The common yardstick of the state after k slices (the fingerprint distance to the
        vocal in view 0 and averaged over all 19 views, dB²): comparable across k, unlike
        *loss*.  ``None`` in a record written before it existed.
    """

    n_slices: int
    sequence: Tuple[str, ...]
    loss: float
    step_losses: Tuple[float, ...]
    loss_curve: Tuple[float, ...]
    metrics: Optional[Scores] = None
    audio: Optional[str] = None
    yardstick: Optional[Yardstick] = None

    def to_json(self) -> Dict[str, Any]:
        return {
            "n_slices": self.n_slices,
            "sequence": list(self.sequence),
            "loss": self.loss,
            "step_losses": list(self.step_losses),
            "loss_curve": list(self.loss_curve),
            "yardstick": _ys_json(self.yardstick),
            "metrics": None if self.metrics is None else self.metrics.to_json(),
            "audio": self.audio,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ProgressiveStep":
        return cls(
            n_slices=int(d["n_slices"]),
            sequence=tuple(d["sequence"]),
            loss=float(d["loss"]),
            step_losses=tuple(float(x) for x in d["step_losses"]),
            loss_curve=tuple(float(x) for x in d.get("loss_curve") or ()),
            metrics=Scores.from_json(d.get("metrics")),
            audio=d.get("audio"),
            yardstick=Yardstick.from_json(d.get("yardstick")),
        )


@dataclass(frozen=True)
class Candidate:
    """One greedy candidate: its score (the criterion) and its step loss (dB²)."""

    score: float
    loss: float


@dataclass(frozen=True)
class BestPrefix:
    """The greedy order's best-scoring prefix (by the greedy's own score), with its common
    yardstick."""

    n_slices: int
    sequence: Tuple[str, ...]
    loss: float
    score: float
    metrics: Optional[Scores] = None
    audio: Optional[str] = None
    yardstick: Optional[Yardstick] = None

    def to_json(self) -> Dict[str, Any]:
        return {
            "n_slices": self.n_slices,
            "sequence": list(self.sequence),
            "loss": self.loss,
            "score": self.score,
            "yardstick": _ys_json(self.yardstick),
            "metrics": None if self.metrics is None else self.metrics.to_json(),
            "audio": self.audio,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "BestPrefix":
        return cls(
            n_slices=int(d["n_slices"]),
            sequence=tuple(d["sequence"]),
            loss=float(d["loss"]),
            score=float(d["score"]),
            metrics=Scores.from_json(d.get("metrics")),
            audio=d.get("audio"),
            yardstick=Yardstick.from_json(d.get("yardstick")),
        )


@dataclass(frozen=True)
class GreedyRecord:
    """The greedy search (``best``): the order found, its losses, the best prefix.

    Attributes
    ----------
    score : str
        The criterion (``"step_loss"``, the seed's; ``"si_sdr"``; ``"fingerprint"``).
    sequence : tuple of str
        The whole greedy order.
    losses, scores : tuple of float
        Step loss and score of the chosen slice at every position.
    loss : float
        The last step loss (all N slices).
    metrics : Scores or None
        Of all N slices in the greedy order.
    audio : str or None
    best_prefix : BestPrefix
    slice_steps : int
        Slice steps evaluated, ``N + (N-1) + ... + 1``.
    candidates : tuple of mapping
        Per position, view name -> :class:`Candidate`.
    yardsticks : tuple of Yardstick
        The common yardstick of every prefix (``yardsticks[k-1]`` = the first k slices of the
        greedy order); empty in a record written before it existed.
    """

    score: str
    sequence: Tuple[str, ...]
    losses: Tuple[float, ...]
    scores: Tuple[float, ...]
    loss: float
    best_prefix: BestPrefix
    slice_steps: int
    candidates: Tuple[Mapping[str, Candidate], ...]
    metrics: Optional[Scores] = None
    audio: Optional[str] = None
    yardsticks: Tuple[Yardstick, ...] = ()

    @property
    def yardstick(self) -> Optional[Yardstick]:
        """The yardstick of the whole greedy order (all N slices)."""
        return self.yardsticks[-1] if self.yardsticks else None

    def to_json(self) -> Dict[str, Any]:
        return {
            "score": self.score,
            "sequence": list(self.sequence),
            "losses": list(self.losses),
            "scores": list(self.scores),
            "yardsticks": [y.to_json() for y in self.yardsticks],
            "yardstick": _ys_json(self.yardstick),
            "loss": self.loss,
            "metrics": None if self.metrics is None else self.metrics.to_json(),
            "audio": self.audio,
            "best_prefix": self.best_prefix.to_json(),
            "slice_steps": self.slice_steps,
            "candidates": [
                {name: {"score": c.score, "loss": c.loss} for name, c in pos.items()}
                for pos in self.candidates
            ],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "GreedyRecord":
        cands = tuple(
            MappingProxyType(
                {
                    name: Candidate(score=_nan_if_none(c["score"]), loss=_nan_if_none(c["loss"]))
                    for name, c in pos.items()
                }
            )
            for pos in d.get("candidates") or ()
        )
        return cls(
            score=d["score"],
            sequence=tuple(d["sequence"]),
            losses=tuple(float(x) for x in d["losses"]),
            scores=tuple(_nan_if_none(x) for x in d["scores"]),
            loss=float(d["loss"]),
            metrics=Scores.from_json(d.get("metrics")),
            audio=d.get("audio"),
            best_prefix=BestPrefix.from_json(d["best_prefix"]),
            slice_steps=int(d.get("slice_steps", 0)),
            candidates=cands,
            yardsticks=tuple(y for y in map(Yardstick.from_json, d.get("yardsticks") or ()) if y is not None),
        )


def _nan_if_none(x: Any) -> float:
    return math.nan if x is None else float(x)


@dataclass(frozen=True)
class Comparison:
    """Original order 1..N against the greedy order (``best`` only).

    ``*_loss`` are the seed's step losses (each measured in the view of its last slice);
    ``lower_loss`` compares like with like: the common yardstick's ``mean_19`` of the two
    orders (``lower_loss_by`` says which measure; ``"step_loss"`` in a record written before
    the yardstick existed).
    """

    original_order_loss: float
    greedy_order_loss: float
    greedy_best_prefix_loss: float
    lower_loss: str
    original_order_si_sdr: Optional[float]
    greedy_order_si_sdr: Optional[float]
    higher_si_sdr: Optional[str] = None
    lower_loss_by: str = "step_loss"
    original_order_yardstick: Optional[Yardstick] = None
    greedy_order_yardstick: Optional[Yardstick] = None
    greedy_best_prefix_yardstick: Optional[Yardstick] = None

    def to_json(self) -> Dict[str, Any]:
        out = {
            "original_order_loss": self.original_order_loss,
            "greedy_order_loss": self.greedy_order_loss,
            "greedy_best_prefix_loss": self.greedy_best_prefix_loss,
            "lower_loss": self.lower_loss,
            "original_order_si_sdr": _finite_or_none(self.original_order_si_sdr),
            "greedy_order_si_sdr": _finite_or_none(self.greedy_order_si_sdr),
        }
        if self.higher_si_sdr is not None:
            out["higher_si_sdr"] = self.higher_si_sdr
        out["lower_loss_by"] = self.lower_loss_by
        if self.original_order_yardstick is not None:
            out["yardstick"] = {
                "original_order": _ys_json(self.original_order_yardstick),
                "greedy_order": _ys_json(self.greedy_order_yardstick),
                "greedy_best_prefix": _ys_json(self.greedy_best_prefix_yardstick),
            }
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Comparison":
        ys = d.get("yardstick") or {}
        return cls(
            original_order_loss=float(d["original_order_loss"]),
            greedy_order_loss=float(d["greedy_order_loss"]),
            greedy_best_prefix_loss=float(d["greedy_best_prefix_loss"]),
            lower_loss=d["lower_loss"],
            original_order_si_sdr=_opt_float(d.get("original_order_si_sdr")),
            greedy_order_si_sdr=_opt_float(d.get("greedy_order_si_sdr")),
            higher_si_sdr=d.get("higher_si_sdr"),
            lower_loss_by=d.get("lower_loss_by", "step_loss"),
            original_order_yardstick=Yardstick.from_json(ys.get("original_order")),
            greedy_order_yardstick=Yardstick.from_json(ys.get("greedy_order")),
            greedy_best_prefix_yardstick=Yardstick.from_json(ys.get("greedy_best_prefix")),
        )


@dataclass(frozen=True)
class BaselineRecord:
    """A reference point's kind (``floor``, ``oracle``, ``blind``) and its scores."""

    kind: str
    metrics: Optional[Scores]

    @property
    def oracle(self) -> bool:
        return self.kind == "oracle"

    def to_json(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "oracle": self.oracle,
            "metrics": None if self.metrics is None else self.metrics.to_json(),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "BaselineRecord":
        return cls(kind=d["kind"], metrics=Scores.from_json(d.get("metrics")))


@dataclass(frozen=True)
class EstimateEntry:
    """One Conv2D estimate of a record, for tables and choices (see :meth:`RunRecord.estimates`).

    Attributes
    ----------
    key : str
        ``"k=3"``, ``"greedy"`` or ``"greedy_best"`` (as ``Experiment.estimates``).
    method : str
        ``"progressive"``, ``"greedy"`` or ``"greedy_best"``.
    k : int
        Slices applied.
    sequence : tuple of str
    loss : float
        The last step loss (dB², measured in the last slice's view).
    metrics : Scores or None
    audio : str or None
    yardstick : Yardstick or None
        The common yardstick (dB², the same views for every estimate).
    """

    key: str
    method: str
    k: int
    sequence: Tuple[str, ...]
    loss: float
    metrics: Optional[Scores]
    audio: Optional[str]
    yardstick: Optional[Yardstick] = None


@dataclass(frozen=True)
class RunRecord:
    """Everything a ``progressive`` / ``best`` run measured (the content of ``results.json``).

    Attributes
    ----------
    command : str
        ``"progressive"`` or ``"best"``.
    n_slices : int
    config : Config
    input : mapping
        Where the audio came from (files, offset, duration, native rates; or the
        dataset and track) -- provenance, as the source reported it.
    progressive : tuple of ProgressiveStep
        ``progressive[k-1]`` = slices 1..k.
    loss_vs_quality : LossVsQuality
        Over k, on the common yardstick (``loss_vs_quality.loss``).
    convergence : ConvergenceRecord or None
        The fraction of the dB correction the optimiser reached (derived from *config*
        when a record written before it is read).
    greedy : GreedyRecord or None
    comparison : Comparison or None
    baselines : mapping of str -> BaselineRecord
        In report order.
    timings : mapping of str -> float
        Seconds per stage.
    arguments : mapping
        The command line (or notebook parameters), as given.
    git_commit : str or None
    versions : mapping of str -> str
    method : str
        One line naming the method and gain strategy.
    oracle : bool
        Always ``True`` (see the module docstring); ``note`` says so in words.
    schema_version : int
    """

    command: str
    n_slices: int
    config: Config
    input: Mapping[str, Any]
    progressive: Tuple[ProgressiveStep, ...]
    loss_vs_quality: LossVsQuality
    method: str
    greedy: Optional[GreedyRecord] = None
    comparison: Optional[Comparison] = None
    convergence: Optional[ConvergenceRecord] = None
    baselines: Mapping[str, BaselineRecord] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    arguments: Mapping[str, Any] = field(default_factory=dict)
    git_commit: Optional[str] = None
    versions: Mapping[str, str] = field(default_factory=dict)
    oracle: bool = True
    note: str = ORACLE_NOTE
    schema_version: int = SCHEMA_VERSION

    # ------------------------------------------------------------------ views
    def estimates(self, *, greedy: bool = True) -> List[EstimateEntry]:
        """Every Conv2D estimate: each k of the original order, then (with *greedy*) the
        greedy order (all N) and its best prefix -- the one place a record becomes rows."""
        out = [
            EstimateEntry(
                f"k={p.n_slices}",
                "progressive",
                p.n_slices,
                p.sequence,
                p.loss,
                p.metrics,
                p.audio,
                p.yardstick,
            )
            for p in self.progressive
        ]
        g = self.greedy
        if greedy and g is not None:
            b = g.best_prefix
            out.append(
                EstimateEntry(
                    "greedy", "greedy", len(g.sequence), g.sequence, g.loss, g.metrics, g.audio, g.yardstick
                )
            )
            out.append(
                EstimateEntry(
                    "greedy_best",
                    "greedy_best",
                    b.n_slices,
                    b.sequence,
                    b.loss,
                    b.metrics,
                    b.audio,
                    b.yardstick,
                )
            )
        return out

    def best_by_loss(self) -> EstimateEntry:
        """The estimate with the lowest fingerprint loss (each k, and the greedy best
        prefix): the method's own choice, without looking at the true vocal's quality.

        The loss is the common yardstick's ``mean_19`` (the same 19 views for every
        estimate); a record written before the yardstick existed falls back to the step loss.
        """
        cands = {e.key: e for e in self.estimates() if e.method != "greedy"}
        if all(e.yardstick is not None for e in cands.values()):
            losses = {key: e.yardstick.mean_19 for key, e in cands.items() if e.yardstick is not None}
        else:
            losses = {key: e.loss for key, e in cands.items()}
        return cands[best_by_loss_key(losses)]

    def estimate(self, key: str) -> EstimateEntry:
        """The estimate called *key* (``"k=3"``, ``"greedy"``, ``"greedy_best"``)."""
        for e in self.estimates():
            if e.key == key:
                return e
        raise ParameterError(
            f"estimate {key!r} is not in this record: allowed " + ", ".join(e.key for e in self.estimates())
        )

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> Dict[str, Any]:
        """The ``results.json`` content (strict JSON types: NaN/inf are ``None``)."""
        out: Dict[str, Any] = {
            "schema_version": self.schema_version,
            "oracle": self.oracle,
            "note": self.note,
            "method": self.method,
            "command": self.command,
            "n_slices": self.n_slices,
            "config": self.config.to_dict(),
            "convergence": (self.convergence or ConvergenceRecord.of(self.config)).to_json(),
            "yardstick_note": YARDSTICK_NOTE,
            "input": dict(self.input),
            "progressive": [p.to_json() for p in self.progressive],
        }
        if self.greedy is not None:
            out["greedy"] = self.greedy.to_json()
        if self.comparison is not None:
            out["comparison"] = self.comparison.to_json()
        out["loss_vs_quality"] = self.loss_vs_quality.to_json()
        out["baselines"] = {name: b.to_json() for name, b in self.baselines.items()}
        out["timings"] = dict(self.timings)
        out["arguments"] = dict(self.arguments)
        out["git_commit"] = self.git_commit
        out["versions"] = dict(self.versions)
        return to_jsonable(out)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "RunRecord":
        """Read :meth:`to_json`'s form (a record without ``schema_version`` is version 1)."""
        version = int(d.get("schema_version", 1))
        if version > SCHEMA_VERSION:
            raise ParameterError(
                f"results record has schema_version {version}: allowed <= "
                f"{SCHEMA_VERSION} (written by a newer conv2dsep)"
            )
        progressive = tuple(ProgressiveStep.from_json(p) for p in d["progressive"])
        lq = d.get("loss_vs_quality")
        config = Config.from_dict(d["config"])
        conv = d.get("convergence")
        return cls(
            command=d["command"],
            n_slices=int(d["n_slices"]),
            config=config,
            convergence=ConvergenceRecord.from_json(conv) if conv else ConvergenceRecord.of(config),
            input=MappingProxyType(dict(d.get("input") or {})),
            progressive=progressive,
            loss_vs_quality=LossVsQuality.from_json(lq) if lq else loss_vs_quality(progressive),
            method=d.get("method", ""),
            greedy=GreedyRecord.from_json(d["greedy"]) if d.get("greedy") else None,
            comparison=Comparison.from_json(d["comparison"]) if d.get("comparison") else None,
            baselines=MappingProxyType(
                {n: BaselineRecord.from_json(b) for n, b in (d.get("baselines") or {}).items()}
            ),
            timings=MappingProxyType(dict(d.get("timings") or {})),
            arguments=MappingProxyType(dict(d.get("arguments") or {})),
            git_commit=d.get("git_commit"),
            versions=MappingProxyType(dict(d.get("versions") or {})),
            oracle=bool(d.get("oracle", True)),
            note=d.get("note", ORACLE_NOTE),
            schema_version=SCHEMA_VERSION,
        )


def read_record(path: PathLike) -> RunRecord:
    """Read a ``results.json`` (or the run folder holding one) as a :class:`RunRecord`.

    Raises
    ------
    ParameterError
        Missing or unreadable file, or not a run record.
    """
    p, data = read_results_json(path)
    if not isinstance(data, dict) or "progressive" not in data:
        raise ParameterError(f"{str(p)!r} is not a run's results.json (no 'progressive' section)")
    return RunRecord.from_json(data)
