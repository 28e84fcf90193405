"""Several targets in the notebooks: the ``targets`` parameter of 03 and 05 (ORACLE).

With ``targets="vocals"`` (the default) notebooks 03 and 05 run as they always did.  With
several (``"vocals,drums,bass,other"``) they run the fingerprint method once per target
against that target's own stem (:func:`conv2dsep_lib.run.targets.run_targets`) and show:

* :func:`targets_table` -- per target, every estimate (each k, the greedy order if run) and
  that target's baselines: fingerprint loss beside SI-SDR/SDR (one block per target);
* :func:`joint_table` -- every source's *separate* estimate (its own EQ'd magnitude, k = N)
  beside its *joint* one (masks that sum to one), scored with one multi-source BSS Eval v4
  call;
* :func:`stem_sources` -- the A/B player's sources: the mixture, every true stem and every
  estimate;
* :func:`load_or_run_targets` -- notebook 05's reuse of a matching multi-target
  ``results.json`` (else a ``best`` run per target).

Also :func:`notebook_targets` (the parameter, checked), :func:`target_pair` (one target:
the pair of that stem) and :func:`run_sources` (a one-target run's player sources).
**ORACLE**: every estimate here is built from the true stems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ..core.config import Config, check_n_slices
from ..core.errors import ParameterError
from ..core.files import PathLike, to_jsonable
from ..results.record import ORACLE_LABEL
from ..results.targets import TargetsRecord, read_targets_record
from ..run.experiment import Experiment
from ..run.outputs import STEM_WORDS, output_dir_name
from ..run.target_outputs import write_target_outputs
from ..run.targets import REST, TargetsExperiment, run_targets
from ..sources.audio import AudioPair, read_audio
from ..sources.stems import check_targets, pair_for_target, pair_target, targets_of
from ..viz.experiment import target_word
from .helpers import _matches, _norm_source
from .tables import metric_columns, summary_table

__all__ = [
    "notebook_targets",
    "oracle_label",
    "target_pair",
    "run_sources",
    "targets_table",
    "joint_table",
    "joint_notes",
    "stem_sources",
    "find_targets_results",
    "load_or_run_targets",
]

#: The joint/separate estimates' names in tables and players.
_KIND_LABELS = {"separate": "separate (k = N)", "joint": "joint (masks sum to 1)"}


def notebook_targets(targets: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """The ``targets`` parameter, checked: ``"vocals,drums"`` -> ``("vocals", "drums")``.

    Raises
    ------
    ParameterError
        Unknown, repeated or no targets (the message lists the allowed names).
    """
    return check_targets(targets if isinstance(targets, str) else list(targets))


def oracle_label(targets: Sequence[str] = ("vocals",)) -> str:
    """The ORACLE label of a caption: ``"ORACLE (uses the true vocal)"`` for vocals (as every
    caption said), ``"ORACLE (uses the true drums stem)"`` for one other target,
    ``"ORACLE (uses each target's true stem)"`` for several."""
    targets = notebook_targets(targets)
    if targets == ("vocals",):
        return ORACLE_LABEL
    if len(targets) == 1:
        return f"ORACLE (uses the true {targets[0]} stem)"
    return "ORACLE (uses each target's true stem)"


def target_pair(pair: AudioPair, targets: Sequence[str]) -> AudioPair:
    """The pair a one-target notebook run works on: *pair* itself for ``("vocals",)`` (today's
    pair), the target's stem as ``vocal`` for another single target, and *pair* unchanged
    (with all its stems) for several targets.

    Raises
    ------
    ParameterError
        A target whose stem is missing or silent.
    """
    targets = notebook_targets(targets)
    if len(targets) == 1:
        return pair_for_target(pair, targets[0])
    targets_of(pair, targets)  # every stem checked before any work
    return pair


def run_sources(exp: Experiment) -> Dict[str, np.ndarray]:
    """A one-target run's player sources: mixture, the true stem and every estimate.

    ``{"mixture", "target vocal", "k=1", ...}`` for a vocals run (as notebook 03 always
    played them), ``"target drums"`` ... for another target.
    """
    word = target_word(pair_target(exp.pair))
    return {"mixture": exp.pair.mixture, f"target {word}": exp.pair.vocal, **exp.estimates}


def _check_target(record: TargetsRecord, target: str) -> None:
    if target not in record.targets:
        raise ParameterError(f"target={target!r} is not in this run: allowed {', '.join(record.targets)}")


def targets_table(record: TargetsRecord, *, target: Optional[str] = None) -> pd.DataFrame:
    """Per target: every estimate of its run and its baselines (ORACLE).

    One block of rows per target (the ``target`` column first), each as
    :func:`~conv2dsep_lib.workbook.tables.summary_table` of that target's run: Conv2D per k
    (the greedy order and its best prefix when the run has them) with the fingerprint loss
    and SI-SDR/SDR against that target's own stem, then the target's baselines (floor, ideal
    masks, the blind separators that apply).

    Parameters
    ----------
    record : TargetsRecord
    target : str, optional
        Only this target's block.
    """
    if target is not None:
        _check_target(record, target)
    frames = []
    for t in record.targets if target is None else (target,):
        block = summary_table(record.by_target[t])
        block.insert(0, "target", t)
        frames.append(block)
    return pd.concat(frames, ignore_index=True)


def joint_table(record: TargetsRecord) -> pd.DataFrame:
    """Every source's separate and joint estimate: SI-SDR and multi-source BSS Eval v4.

    Rows: per source (the targets, then ``rest`` when the targets do not cover the mixture),
    its *separate* estimate (the target's own k = N magnitude; for ``rest``, the mixture minus
    the separate targets) and its *joint* one (Wiener masks that sum to one), when the run made
    it.  BSS Eval is one call over all sources at once, as SiSEC 2018 scores them.
    """
    rows = []
    for s in record.sources:
        for kind, estimates in (("separate", record.separate), ("joint", record.joint)):
            e = estimates.get(s)
            if e is None:
                continue
            rows.append(
                {
                    "source": s,
                    "estimate": _KIND_LABELS[kind],
                    **metric_columns(e.metrics),
                    "ISR (dB)": None if e.metrics is None else e.metrics.isr,
                }
            )
    return pd.DataFrame(rows)


def joint_notes(record: TargetsRecord) -> str:
    """What to read beside :func:`joint_table`: how exactly the joint estimates add up to the
    mixture, the residual source, and what of the multi-source BSS Eval to distrust (if
    anything)."""
    notes = []
    if record.joint_stft_error is not None:
        notes.append(
            f"the joint estimates sum to the mixture: max STFT error {record.joint_stft_error:.1e} of its peak"
        )
    if REST in record.sources:
        notes.append(f"{REST} = the mixture minus the targets' stems (the targets do not cover the mixture)")
    if record.bss_warning:
        notes.append(f"BSS Eval: {record.bss_warning}")
    return "; ".join(notes)


def _mono(path: Path) -> np.ndarray:
    y, _ = read_audio(path)
    return y[0] if y.shape[0] == 1 else y.mean(axis=0)


def _source_label(source: str, kind: str, n_slices: int) -> str:
    if kind == "true":
        return "true rest (mixture - targets)" if source == REST else f"true {source}"
    return f"{source} separate (k={n_slices})" if kind == "separate" else f"{source} joint"


def stem_sources(
    run: Union[TargetsExperiment, TargetsRecord], folder: Optional[PathLike] = None
) -> Dict[str, np.ndarray]:
    """The A/B player's sources of a multi-target run: every stem and every estimate.

    ``mixture``, then per source (each target, then ``rest`` when the targets do not cover
    the mixture): ``true <source>``, ``<source> separate (k=N)`` and ``<source> joint`` (when
    the run made the joint estimate).

    Parameters
    ----------
    run : TargetsExperiment or TargetsRecord
        The run in memory, or its record read back (then *folder* is needed).
    folder : path, optional
        The run's folder (:func:`~conv2dsep_lib.run.target_outputs.write_target_outputs`):
        ``mixture.wav``, each target's true stem as its run wrote it
        (``{target}/1_slices/2_target_{word}.wav``), ``separate/`` and ``joint/``.

    Raises
    ------
    ParameterError
        A record without *folder*, or a file of the run missing.
    """
    if isinstance(run, TargetsExperiment):
        mixture = run.pair.mixture
        true = dict(run.references)
        estimates = {"separate": run.separate, "joint": run.joint}
    else:
        if folder is None:
            raise ParameterError("stem_sources(record) needs the run's folder: stem_sources(record, folder)")
        folder = Path(folder)
        mixture = _mono(folder / "mixture.wav")
        true = {
            t: _mono(folder / run.folders.get(t, t) / "1_slices" / f"2_target_{STEM_WORDS[t]}.wav")
            for t in run.targets
        }
        if REST in run.sources:
            true[REST] = mixture - np.sum([true[t] for t in run.targets], axis=0)
        estimates = {
            kind: {s: _mono(folder / e.audio) for s, e in ests.items() if e.audio}
            for kind, ests in (("separate", run.separate), ("joint", run.joint))
        }
    sources = {"mixture": mixture}
    for s in run.sources:
        sources[_source_label(s, "true", run.n_slices)] = true[s]
        for kind in ("separate", "joint"):
            if s in estimates[kind]:
                sources[_source_label(s, kind, run.n_slices)] = estimates[kind][s]
    return sources


# ------------------------------------------------------------------ notebook 05: reuse
def _targets_match(
    rec: TargetsRecord,
    *,
    n_slices: int,
    config: Config,
    source: Mapping[str, Any],
    targets: Tuple[str, ...],
    bss: bool,
    greedy: bool,
) -> bool:
    common = {k: v for k, v in source.items() if k != "target"}
    return (
        tuple(rec.targets) == targets
        and rec.n_slices == n_slices
        and bool(rec.joint)
        and to_jsonable(rec.config.to_dict()) == to_jsonable(config.to_dict())
        and _norm_source(rec.input) == _norm_source(common)
        and all(
            _matches(
                rec.by_target[t],
                n_slices=n_slices,
                config=config,
                source={**common, "target": t},
                bss=bss,
                greedy=greedy,
            )
            for t in targets
        )
    )


def find_targets_results(
    folders: Iterable[PathLike],
    *,
    n_slices: int,
    config: Config,
    source: Mapping[str, Any],
    targets: Sequence[str],
    bss: bool = True,
    greedy: bool = True,
) -> Optional[Path]:
    """The first multi-target ``results.json`` under *folders* that matches this run, or ``None``.

    A folder may be a run root (holding ``output_progressive_{N}slices[_<tag>]/``), the run's
    folder itself, or its ``results.json``.  It matches when the targets, slices, config and
    input agree, every target's run matches as
    :func:`~conv2dsep_lib.workbook.helpers.find_results` asks (greedy part, baselines, SDR if
    *bss*), and the run has the joint estimate.
    """
    targets = notebook_targets(targets)
    names = dict.fromkeys(
        (output_dir_name(n_slices), output_dir_name(n_slices, config=config, greedy=greedy))
    )
    for f in folders:
        if not f:
            continue
        f = Path(f)
        for cand in (*(f / name / "results.json" for name in names), f / "results.json", f):
            if not (cand.is_file() and cand.name == "results.json"):
                continue
            try:
                rec = read_targets_record(cand)
            except (ParameterError, KeyError, TypeError, ValueError):
                continue
            if _targets_match(
                rec, n_slices=n_slices, config=config, source=source, targets=targets, bss=bss, greedy=greedy
            ):
                return cand
    return None


def load_or_run_targets(
    pair: AudioPair,
    *,
    config: Config,
    n_slices: int,
    targets: Sequence[str],
    out_root: PathLike,
    search: Iterable[PathLike] = (),
    bss: bool = True,
) -> Tuple[TargetsRecord, Path, bool]:
    """Reuse a matching multi-target ``results.json`` (:func:`find_targets_results`) or run
    ``best`` once per target (:func:`~conv2dsep_lib.run.targets.run_targets`, greedy, baselines,
    the joint estimate) and write it under *out_root*.

    Returns
    -------
    (record, folder, reused)

    Raises
    ------
    ParameterError
        Bad targets, or a target whose stem is missing or silent (before any work).
    """
    n_slices = check_n_slices(n_slices)
    targets = notebook_targets(targets)
    found = find_targets_results(
        search, n_slices=n_slices, config=config, source=pair.source, targets=targets, bss=bss
    )
    if found is not None:
        return read_targets_record(found), found.parent, True
    texp = run_targets(
        pair, config=config, n_slices=n_slices, targets=targets, greedy=True, baselines=True, bss=bss
    )
    folder = write_target_outputs(
        texp, out_root, arguments={"notebook": "05_results", "bss": bss, "targets": ",".join(targets)}
    )
    return read_targets_record(folder), folder, False
