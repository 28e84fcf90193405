"""``best`` / ``progressive`` with ``--excerpts``: one run per excerpt, and their median.

Each excerpt of the input runs the experiment unchanged
(:func:`conv2dsep_lib.run.experiment.run_experiment`) into its own folder, the run's usual
name with the excerpt's suffix (``output_progressive_8slices_at30s``, listed in
``OUT/index.md``); a small summary -- each excerpt's numbers and their median -- is
printed and written to ``OUT/excerpts_<name>.md`` and ``.json``.  Excerpts of one
track are repeats of one measurement: the median says more than any one of them.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import atomic_path, write_json
from ..core.threads import run_threads
from ..sweep.excerpts import ExcerptSpec, excerpt_label, excerpt_offsets, files_seconds, parse_excerpts
from .options import PROG, recorded_arguments

__all__ = ["ExcerptRow", "input_offsets", "run_excerpts", "excerpts_markdown"]


@dataclass(frozen=True)
class ExcerptRow:
    """One excerpt's headline numbers (dB; loss in dB²).  ORACLE: the method read the true vocal.

    Attributes
    ----------
    offset : float
    folder : str
    si_sdr_all : float or None
        SI-SDR after all N slices in the original order.
    loss_all : float
        The step loss after all N slices (measured in view N: the seed's number).
    best_k : int or None
        The k with the highest SI-SDR.
    si_sdr_best_k : float or None
    greedy_best : float or None
        SI-SDR of the greedy order's best prefix (``best`` only).
    oracle_irm : float or None
        SI-SDR of the ideal ratio mask (an oracle ceiling).
    """

    offset: float
    folder: str
    si_sdr_all: Optional[float]
    loss_all: float
    best_k: Optional[int]
    si_sdr_best_k: Optional[float]
    greedy_best: Optional[float]
    oracle_irm: Optional[float]

    def to_json(self) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


#: Columns of the summary: attribute -> heading.
_COLUMNS = (
    ("si_sdr_all", "SI-SDR k=N"),
    ("loss_all", "loss k=N (dB², view N)"),
    ("best_k", "best k (SI-SDR)"),
    ("si_sdr_best_k", "SI-SDR best k"),
    ("greedy_best", "SI-SDR greedy best prefix"),
    ("oracle_irm", "SI-SDR oracle_irm"),
)


def input_offsets(args: argparse.Namespace, spec: ExcerptSpec, config: Config) -> Tuple[float, ...]:
    """The excerpt offsets of the command's input (its length read from the file headers)."""
    from ..sources.datasets import open_musdb
    from ..sources.inputs import resolve_pair_paths

    if args.offset:
        raise ParameterError(
            f"--offset {args.offset:g} was given with --excerpts {spec.text!r}: allowed one of them"
        )
    if args.musdb is not None:
        if args.track is None:
            raise ParameterError("--musdb with --excerpts needs --track NAME: allowed one MUSDB18 track")
        entry = open_musdb(args.musdb, subset=args.subset).track(args.track)
        files, name = entry.files, f"track {args.track!r}"
    else:
        mix, voc = resolve_pair_paths(data_dir=args.data_dir, mixture=args.mixture, vocal=args.vocal)
        files, name = {"mixture": mix, "vocal": voc}, repr(str(mix))
    return excerpt_offsets(spec, track_seconds=files_seconds(files), duration=config.duration, track=name)


def _median(values: Sequence[Optional[float]]) -> Optional[float]:
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def _row(record: Any, offset: float, folder: str) -> ExcerptRow:
    last = record.progressive[-1]
    si = [None if p.metrics is None else p.metrics.value("si_sdr") for p in record.progressive]
    finite = [(v, i + 1) for i, v in enumerate(si) if v is not None and math.isfinite(v)]
    best = max(finite) if finite else None
    g = record.greedy
    gb = None if g is None or g.best_prefix.metrics is None else g.best_prefix.metrics.value("si_sdr")
    irm = record.baselines.get("oracle_irm")
    return ExcerptRow(
        offset=float(offset),
        folder=folder,
        si_sdr_all=si[-1],
        loss_all=float(last.loss),
        best_k=None if best is None else best[1],
        si_sdr_best_k=None if best is None else best[0],
        greedy_best=gb,
        oracle_irm=None if irm is None or irm.metrics is None else irm.metrics.value("si_sdr"),
    )


def excerpts_markdown(rows: Sequence[ExcerptRow], *, title: str) -> str:
    """The summary table: one line per excerpt and their median (ORACLE)."""
    from ..results.record import ORACLE_NOTE

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "n/a"
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    head = ["excerpt (s)", *(h for _, h in _COLUMNS), "folder"]
    lines = [
        f"# {title} -- ORACLE",
        "",
        f"**{ORACLE_NOTE}** Excerpts of one track are repeats of one measurement: their median is the result.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        lines.append(
            "| " + " | ".join([f"{r.offset:g}", *(cell(getattr(r, a)) for a, _ in _COLUMNS), r.folder]) + " |"
        )
    med = [cell(_median([getattr(r, a) for r in rows])) for a, _ in _COLUMNS]
    lines.append("| **median** | " + " | ".join(med) + f" | {len(rows)} excerpts |")
    return "\n".join(lines) + "\n"


def run_excerpts(args: argparse.Namespace, *, load_input: Any) -> int:
    """``best`` / ``progressive`` over ``--excerpts``: each run, then the summary.

    Parameters
    ----------
    args : argparse.Namespace
        The command's arguments (``args.excerpts`` given).
    load_input : callable
        ``(args, config) -> AudioPair`` (the CLI's input loader; ``args.offset`` set per excerpt).

    Returns
    -------
    int
        0.
    """
    from ..core.config import check_n_slices
    from ..results.record import read_record
    from ..run.experiment import run_experiment
    from ..run.outputs import check_outputs, output_dir_name, write_outputs
    from ..sources.inputs import input_files
    from .options import check_out, config_from_args

    spec = parse_excerpts(args.excerpts)
    config = config_from_args(args)
    n_slices = check_n_slices(args.slices)
    greedy = args.command == "best"
    out = check_out(Path(args.out))
    offsets = input_offsets(args, spec, config)  # before any work
    name = output_dir_name(n_slices, config=config, greedy=greedy)
    inputs = input_files(
        data_dir=args.data_dir, mixture=args.mixture, vocal=args.vocal, musdb=args.musdb, track=args.track
    )
    for off in offsets:  # before any work
        check_outputs(out, n_slices=n_slices, inputs=inputs, name=f"{name}_{excerpt_label(off)}")
    rows: List[ExcerptRow] = []
    for i, off in enumerate(offsets, start=1):
        if not args.quiet:
            print(f"excerpt {i}/{len(offsets)} at {off:g} s", file=sys.stderr)
        args.offset = off
        pair = load_input(args, config)
        for warning in pair.warnings:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
        exp = run_experiment(
            pair,
            config=config,
            n_slices=n_slices,
            greedy=greedy,
            baselines=not args.no_baselines,
            bss=not args.no_bss,
        )
        arguments = recorded_arguments(args)
        # the same crash-safe swap, input check and locked index update as a single run
        final = write_outputs(
            exp,
            out,
            arguments=arguments,
            by_settings=True,
            index=True,
            suffix=f"_{excerpt_label(off)}",
            figure_processes=min(2, run_threads()),
        )
        rows.append(_row(read_record(final), off, final.name))
    title = f"{args.command} --slices {n_slices}: {len(rows)} excerpts of one input"
    text = excerpts_markdown(rows, title=title)
    md = out / f"excerpts_{name}.md"
    with atomic_path(md) as tmp:
        tmp.write_text(text)
    write_json(
        out / f"excerpts_{name}.json",
        {
            "oracle": True,
            "excerpts": spec.to_json(),
            "rows": [r.to_json() for r in rows],
            "median": {a: _median([getattr(r, a) for r in rows]) for a, _ in _COLUMNS},
        },
    )
    if not args.quiet:
        print(text)
        print(f"wrote {md} and {md.with_suffix('.json').name}; index of runs: {out / 'index.md'}")
    return 0
