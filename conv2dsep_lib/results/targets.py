"""The record of a multi-target run: ``results.json`` keyed by target.

A run with ``--targets vocals,drums,bass,other`` writes the seed's layout once per target
(``output_progressive_{N}slices/{target}/``, each with its own :class:`~.record.RunRecord`)
and, at the top, a :class:`TargetsRecord`: the targets, each target's record, and the two
estimates of every source -- *separate* (each target's own EQ'd magnitude, k = N) and
*joint* (masks that sum to one) -- scored with one multi-source BSS Eval v4 call.
**ORACLE**: every estimate is built from the true stems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Tuple

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, to_jsonable
from ..scoring.scores import Scores
from .naming import read_results_json
from .record import ORACLE_NOTE, RunRecord

__all__ = [
    "TARGETS_SCHEMA",
    "TARGETS_NOTE",
    "SourceEstimate",
    "TargetsRecord",
    "read_targets_record",
    "is_targets_record",
]

#: ``results.json["kind"]`` of a multi-target run.
TARGETS_SCHEMA = "targets"
#: The note of a multi-target run.
TARGETS_NOTE = (
    "ORACLE: the optimisation uses each target's true isolated stem as its target; "
    "these numbers are an upper-bound study of the fingerprint, not blind separation."
)


@dataclass(frozen=True)
class SourceEstimate:
    """One source's estimate in a multi-target run: its audio file and its scores."""

    audio: Optional[str]
    metrics: Optional[Scores]

    def to_json(self) -> Dict[str, Any]:
        return {"audio": self.audio, "metrics": None if self.metrics is None else self.metrics.to_json()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "SourceEstimate":
        return cls(audio=d.get("audio"), metrics=Scores.from_json(d.get("metrics")))


@dataclass(frozen=True)
class TargetsRecord:
    """A multi-target run (ORACLE).

    Attributes
    ----------
    command : str
        ``"progressive"`` or ``"best"``.
    n_slices : int
    config : Config
    targets : tuple of str
        In ``vocals, drums, bass, other`` order.
    sources : tuple of str
        The targets, plus ``rest`` when they do not cover the mixture.
    by_target : mapping of str -> RunRecord
        Each target's own run (as a vocals run's ``results.json``, in ``{target}/``).
    folders : mapping of str -> str
        Target -> its subfolder.
    separate, joint : mapping of str -> SourceEstimate
        Per source: each target's own k = N estimate / the joint (Wiener) estimate, scored with
        one multi-source BSS Eval v4 call (museval's numbers) and SI-SDR.
    joint_stft_error : float or None
        ``max |sum of joint STFTs - mixture STFT| / max |mixture STFT|``.
    band_limited : tuple of str
        Sources whose reference leaves most of the spectrum empty: the multi-source SIR and
        SAR are ill-posed there (read SI-SDR, SDR and ISR; see :attr:`bss_warning`).
    input, arguments, versions : mapping
    git_commit : str or None
    """

    command: str
    n_slices: int
    config: Config
    targets: Tuple[str, ...]
    sources: Tuple[str, ...]
    by_target: Mapping[str, RunRecord]
    folders: Mapping[str, str]
    separate: Mapping[str, SourceEstimate]
    joint: Mapping[str, SourceEstimate] = field(default_factory=lambda: MappingProxyType({}))
    joint_stft_error: Optional[float] = None
    band_limited: Tuple[str, ...] = ()
    input: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    arguments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    git_commit: Optional[str] = None
    versions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    oracle: bool = True
    note: str = TARGETS_NOTE

    @property
    def bss_warning(self) -> Optional[str]:
        """What to distrust in the multi-source BSS Eval numbers (``None``: nothing)."""
        if not self.band_limited:
            return None
        return (
            f"{', '.join(self.band_limited)}: the reference leaves most of the spectrum empty "
            "(nothing within 100 dB of its peak in half the bins), so BSS Eval's 512-tap projections "
            "are ill-posed: the multi-source SIR and SAR of every source are not meaningful here; "
            "SI-SDR, SDR and ISR are"
        )

    def to_json(self) -> Dict[str, Any]:
        """The top ``results.json`` (strict JSON: NaN/inf are ``None``)."""
        return to_jsonable(
            {
                "kind": TARGETS_SCHEMA,
                "oracle": self.oracle,
                "note": self.note,
                "command": self.command,
                "n_slices": self.n_slices,
                "config": self.config.to_dict(),
                "targets": {t: self.by_target[t].to_json() for t in self.targets},
                "folders": dict(self.folders),
                "sources": list(self.sources),
                "separate": {s: e.to_json() for s, e in self.separate.items()},
                "joint": {s: e.to_json() for s, e in self.joint.items()},
                "joint_stft_error": self.joint_stft_error,
                "band_limited": list(self.band_limited),
                "bss_warning": self.bss_warning,
                "scoring": "BSS Eval v4 over all sources at once (museval's multi-source call, as SiSEC "
                "2018); SI-SDR per source",
                "input": dict(self.input),
                "arguments": dict(self.arguments),
                "git_commit": self.git_commit,
                "versions": dict(self.versions),
            }
        )

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "TargetsRecord":
        if d.get("kind") != TARGETS_SCHEMA:
            raise ParameterError("not a multi-target results.json (no kind: targets)")
        by_target = {t: RunRecord.from_json(r) for t, r in d["targets"].items()}
        return cls(
            command=d["command"],
            n_slices=int(d["n_slices"]),
            config=Config.from_dict(d["config"]),
            targets=tuple(by_target),
            sources=tuple(d.get("sources") or by_target),
            by_target=MappingProxyType(by_target),
            folders=MappingProxyType(dict(d.get("folders") or {})),
            separate=MappingProxyType(
                {s: SourceEstimate.from_json(e) for s, e in (d.get("separate") or {}).items()}
            ),
            joint=MappingProxyType(
                {s: SourceEstimate.from_json(e) for s, e in (d.get("joint") or {}).items()}
            ),
            joint_stft_error=d.get("joint_stft_error"),
            band_limited=tuple(d.get("band_limited") or ()),
            input=MappingProxyType(dict(d.get("input") or {})),
            arguments=MappingProxyType(dict(d.get("arguments") or {})),
            git_commit=d.get("git_commit"),
            versions=MappingProxyType(dict(d.get("versions") or {})),
            oracle=bool(d.get("oracle", True)),
            note=d.get("note", TARGETS_NOTE),
        )


def oracle_note(target: str = "vocals") -> str:
    """:data:`~.record.ORACLE_NOTE` for a run of *target* (``vocals``: exactly that note)."""
    if target == "vocals":
        return ORACLE_NOTE
    return ORACLE_NOTE.replace("the true isolated vocal", f"the true isolated {target} stem")


def is_targets_record(data: Any) -> bool:
    """A parsed ``results.json`` of a multi-target run."""
    return isinstance(data, dict) and data.get("kind") == TARGETS_SCHEMA


def read_targets_record(path: PathLike) -> TargetsRecord:
    """Read a multi-target run's ``results.json`` (or its folder).

    Raises
    ------
    ParameterError
        Missing, unreadable, or not a multi-target record.
    """
    p, data = read_results_json(path)
    if not is_targets_record(data):
        raise ParameterError(f"{str(p)!r} is not a multi-target run's results.json (run with --targets)")
    return TargetsRecord.from_json(data)
