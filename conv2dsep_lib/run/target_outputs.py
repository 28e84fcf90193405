"""Write a multi-target run: the seed's layout per target, and the joint estimates.

Layout (``--targets vocals,drums,bass,other``)::

    output_progressive_{N}slices/
      vocals/   drums/   bass/   other/       each: the seed's layout and results.json
                                              (extracted_vocal.wav for vocals as today,
                                              extracted_drums.wav ... for the others)
      separate/{source}.wav                   each target's k = N estimate (+ rest)
      joint/{source}.wav                      the joint estimates (masks that sum to one)
      targets_quality.png                     one panel per target
      results.json                            keyed by target (TargetsRecord)

Everything is written into one temporary folder that replaces the final one only when
complete, like a one-target run; each target's folder is listed in the outputs index.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Optional

from ..core.files import PathLike, staging_folder, write_json
from ..core.provenance import git_output, library_versions
from ..results.index import entry_from_record, index_lock, update_index
from ..results.targets import SourceEstimate, TargetsRecord
from ..sources.audio import write_wav
from ..viz.targets import save_targets_figures
from .outputs import check_outputs, folder_for, write_run_folder
from .progress import NO_PROGRESS, NoProgress
from .targets import TargetsExperiment

__all__ = ["build_targets_record", "write_target_outputs"]


def build_targets_record(
    texp: TargetsExperiment,
    by_target: Mapping[str, Any],
    *,
    arguments: Optional[Mapping[str, Any]] = None,
) -> TargetsRecord:
    """The typed record of a multi-target run (*by_target*: each target's RunRecord)."""

    def estimates(kind: str) -> Mapping[str, SourceEstimate]:
        scores = texp.scores.get(kind, {})
        audio = texp.separate if kind == "separate" else texp.joint
        return MappingProxyType(
            {
                s: SourceEstimate(audio=f"{kind}/{s}.wav", metrics=scores.get(s))
                for s in texp.sources
                if s in audio
            }
        )

    source = {k: v for k, v in texp.pair.source.items() if k != "target"}
    return TargetsRecord(
        command=texp.command,
        n_slices=texp.n_slices,
        config=texp.config,
        targets=texp.targets,
        sources=texp.sources,
        by_target=MappingProxyType(dict(by_target)),
        folders=MappingProxyType({t: t for t in texp.targets}),
        separate=estimates("separate"),
        joint=estimates("joint"),
        joint_stft_error=texp.joint_stft_error,
        band_limited=texp.band_limited,
        input=MappingProxyType(source),
        arguments=MappingProxyType(dict(arguments or {})),
        git_commit=git_output("rev-parse", "HEAD") or None,
        versions=MappingProxyType(library_versions()),
    )


def write_target_outputs(
    texp: TargetsExperiment,
    out_root: PathLike,
    *,
    arguments: Optional[Mapping[str, Any]] = None,
    plots: bool = True,
    by_settings: bool = False,
    index: bool = False,
    progress: NoProgress = NO_PROGRESS,
) -> Path:
    """Write *texp* under ``out_root/output_progressive_{N}slices[_<tag>]/`` (see the module
    docstring); ``arguments``, ``plots``, ``by_settings`` and ``index`` as
    :func:`~conv2dsep_lib.run.outputs.write_outputs`.  Returns the folder."""
    first = texp.runs[texp.targets[0]]
    name = folder_for(first, by_settings=by_settings)
    final = check_outputs(out_root, n_slices=texp.n_slices, inputs=texp.pair.files, name=name)
    sr = texp.config.sr
    with index_lock(out_root, take=False) as lock:
        with staging_folder(final) as tmp:
            records = {}
            for t in texp.targets:
                records[t] = write_run_folder(
                    texp.runs[t], tmp / t, arguments=arguments, plots=plots, progress=progress
                )
            for kind, audio in (("separate", texp.separate), ("joint", texp.joint)):
                for s, y in audio.items():
                    write_wav(tmp / kind / f"{s}.wav", y, sr)
            write_wav(tmp / "mixture.wav", texp.pair.mixture, sr)
            record = build_targets_record(texp, records, arguments=arguments)
            if plots:
                save_targets_figures(record, tmp)
            write_json(tmp / "results.json", record.to_json())
            if index:
                lock.acquire()
        if index:
            for t in texp.targets:
                update_index(out_root, entry_from_record(records[t], folder=f"{name}/{t}"), lock=lock)
    return final
