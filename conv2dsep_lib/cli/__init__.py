"""The ``conv2dsep`` command line (also ``python -m conv2dsep_lib``).

The CLI only parses arguments and calls the functional API
(:mod:`conv2dsep_lib.run`, :mod:`conv2dsep_lib.sources`, :mod:`conv2dsep_lib.scoring`,
:mod:`conv2dsep_lib.sweep`); heavy modules are imported inside the command that needs
them, so ``conv2dsep --help`` starts fast.  User errors -- a
:class:`~conv2dsep_lib.core.errors.ParameterError` or a bad argument -- print one line on
stderr and exit with code 2, without a traceback; nothing is half-written because
every writer is atomic.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import List, Optional

from ..core.config import Config, check_n_slices
from ..core.errors import ParameterError
from ..core.memory import tune_collector, tune_malloc
from ..core.provenance import __version__
from ..core.threads import run_threads
from .options import (
    PROG,
    ArgumentParser,
    add_evaluate_parser,
    add_experiment_parser,
    add_notebooks_parser,
    add_prepare_parser,
    add_sweep_parser,
    check_out,
    config_from_args,
    examples,
    recorded_arguments,
    wants_progress,
)

__all__ = ["main", "build_parser", "load_input_from_args"]


def load_input_from_args(args: argparse.Namespace, config: Config):
    """Load the input chosen by the input arguments (see :mod:`conv2dsep_lib.sources.inputs`)."""
    from ..sources.inputs import load_input
    from ..sources.stems import check_targets, pair_for_target

    targets = check_targets(getattr(args, "targets", None) or "vocals")
    pair = load_input(
        config=config,
        data_dir=args.data_dir,
        mixture=args.mixture,
        vocal=args.vocal,
        musdb=getattr(args, "musdb", None),
        track=getattr(args, "track", None),
        subset=getattr(args, "subset", "test"),
        offset=args.offset,
        pad=args.pad,
        targets=targets,
    )
    # one target: the run's pair is that target's (a vocals pair is today's, unchanged)
    return pair_for_target(pair, targets[0]) if len(targets) == 1 else pair


def _fmt(x, spec=".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def _print_summary(record, folder: Path) -> None:
    """The run's numbers on the terminal (a :class:`~conv2dsep_lib.results.record.RunRecord`)."""

    def metric(scores, key: str) -> str:
        return _fmt(None if scores is None else scores.value(key))

    print(f"\n{record.note}")
    print(f"{'k':>3}  {'loss (dB²)':>12}  {'SI-SDR':>7}  {'SDR':>7}  {'SIR':>7}  {'SAR':>7}   last slice")
    for p in record.progressive:
        print(
            f"{p.n_slices:>3}  {p.loss:>12.6f}  {metric(p.metrics, 'si_sdr'):>7}  {metric(p.metrics, 'sdr'):>7}  "
            f"{metric(p.metrics, 'sir'):>7}  {metric(p.metrics, 'sar'):>7}   {p.sequence[-1]}"
        )
    g = record.greedy
    if g is not None:
        b = g.best_prefix
        print(f"greedy ({g.score}): {' -> '.join(s.split('_', 2)[-1] for s in g.sequence)}")
        print(
            f"  all {len(g.sequence)}: loss {g.loss:.6f}, SI-SDR {metric(g.metrics, 'si_sdr')} dB; "
            f"best prefix {b.n_slices}: loss {b.loss:.6f}, SI-SDR {metric(b.metrics, 'si_sdr')} dB"
        )
    if record.baselines:
        print(
            "baselines: "
            + ", ".join(
                f"{n} ({b.kind}) {metric(b.metrics, 'si_sdr')} dB" for n, b in record.baselines.items()
            )
        )
    lq = record.loss_vs_quality
    print(
        f"loss vs SI-SDR: Spearman {_fmt(lq.spearman_loss_vs_si_sdr, '+.2f')}, best k by loss "
        f"{lq.best_k_by_loss}, by SI-SDR {lq.best_k_by_si_sdr}"
    )
    print(f"wrote {folder}")


def cmd_experiment(args: argparse.Namespace) -> int:
    """``progressive`` and ``best``.

    The run goes to ``OUT/output_progressive_{N}slices`` for the seed's settings and to
    ``OUT/output_progressive_{N}slices_<tag>`` for others (:mod:`conv2dsep_lib.results.index`),
    listed in ``OUT/index.json`` / ``index.md``.  A bar on stderr shows the stages
    (:mod:`conv2dsep_lib.run.progress`) on a terminal, or always with ``--progress``.
    With ``--excerpts`` every excerpt runs into its own folder (:mod:`.excerpts`).
    """
    if getattr(args, "excerpts", None) is not None:
        from .excerpts import run_excerpts

        return run_excerpts(args, load_input=load_input_from_args)
    from ..results.index import find_entry
    from ..results.record import read_record
    from ..run.experiment import run_experiment
    from ..run.outputs import check_outputs, output_dir_name, write_outputs
    from ..run.progress import start_progress
    from ..separators.registry import baseline_kinds
    from ..sources.inputs import input_files
    from ..sources.stems import check_targets

    config = config_from_args(args)
    n_slices = check_n_slices(args.slices)
    targets = check_targets(args.targets or "vocals")
    if len(targets) > 1 and getattr(args, "excerpts", None) is not None:
        raise ParameterError(
            "--excerpts with several --targets is not supported: allowed one target per excerpt run"
        )
    greedy = args.command == "best"
    out = Path(args.out)
    name = output_dir_name(n_slices, config=config, greedy=greedy)
    inputs = input_files(
        data_dir=args.data_dir, mixture=args.mixture, vocal=args.vocal, musdb=args.musdb, track=args.track
    )
    check_outputs(out, n_slices=n_slices, inputs=inputs, name=name)  # before any work
    previous = find_entry(out, name) if not args.quiet else None
    arguments = recorded_arguments(args)
    if len(targets) > 1:
        return _run_targets(
            args, config=config, n_slices=n_slices, targets=targets, out=out, arguments=arguments
        )
    with start_progress(
        wants_progress(args),
        command=args.command,
        n_slices=n_slices,
        greedy=greedy,
        baselines=0 if args.no_baselines else len(baseline_kinds(targets[0])),
        loading=True,
        writing=True,
    ) as progress:
        with progress.during("loading"):
            pair = load_input_from_args(args, config)
        for warning in pair.warnings:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
        exp = run_experiment(
            pair,
            config=config,
            n_slices=n_slices,
            greedy=greedy,
            baselines=not args.no_baselines,
            bss=not args.no_bss,
            progress=progress,
        )
        folder = write_outputs(
            exp,
            out,
            arguments=arguments,
            by_settings=True,
            index=True,
            figure_processes=min(2, run_threads()),
            progress=progress,
        )
    if not args.quiet:
        _print_summary(read_record(folder), folder)
        if previous is not None:
            print(f"replaced the previous run in {folder.name}: {previous.command_line} ({previous.date})")
        print(f"index of runs: {out / 'index.md'}")
    return 0


def _run_targets(args, *, config, n_slices: int, targets, out: Path, arguments) -> int:
    """``progressive`` / ``best`` with several ``--targets`` (:mod:`conv2dsep_lib.run.targets`)."""
    from ..results.targets import read_targets_record
    from ..run.target_outputs import write_target_outputs
    from ..run.targets import run_targets
    from ..sources.stems import targets_of

    pair = load_input_from_args(args, config)
    targets_of(pair, targets)  # a missing or silent stem is refused before any work
    for warning in pair.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if wants_progress(args):
        print(
            f"{PROG}: {args.command} --slices {n_slices} for {len(targets)} targets: {', '.join(targets)}",
            file=sys.stderr,
        )
    texp = run_targets(
        pair,
        config=config,
        n_slices=n_slices,
        targets=targets,
        greedy=args.command == "best",
        baselines=not args.no_baselines,
        bss=not args.no_bss,
        joint=not args.no_joint,
    )
    folder = write_target_outputs(texp, out, arguments=arguments, by_settings=True, index=True)
    if not args.quiet:
        _print_targets_summary(read_targets_record(folder), folder)
        print(f"index of runs: {out / 'index.md'}")
    return 0


def _print_targets_summary(record, folder: Path) -> None:
    """A multi-target run's numbers (a :class:`~conv2dsep_lib.results.targets.TargetsRecord`)."""

    def metric(estimate, key: str):
        return None if estimate is None or estimate.metrics is None else estimate.metrics.value(key)

    def baseline(run, name: str):
        b = run.baselines.get(name)
        return None if b is None or b.metrics is None else b.metrics.si_sdr

    print(f"\n{record.note}")
    print("         SI-SDR (dB)                                BSS Eval SDR, all sources")
    print(
        f"{'target':<8} {'k=N':>7} {'best k':>7} {'joint':>7} {'floor':>7} {'IRM':>7}   {'k=N':>7} {'joint':>7}"
    )
    for t in record.targets:
        run = record.by_target[t]
        last = run.progressive[-1].metrics
        sep, joint = record.separate.get(t), record.joint.get(t)
        print(
            f"{t:<8} {_fmt(last.si_sdr if last else None):>7} {str(run.loss_vs_quality.best_k_by_si_sdr):>7} "
            f"{_fmt(metric(joint, 'si_sdr')):>7} {_fmt(baseline(run, 'mixture')):>7} "
            f"{_fmt(baseline(run, 'oracle_irm')):>7}   {_fmt(metric(sep, 'sdr')):>7} {_fmt(metric(joint, 'sdr')):>7}"
        )
    print(
        "all ORACLE (the true stems are the targets); k=N: each target's own estimate; joint: masks that sum to one"
    )
    if record.bss_warning:
        print(f"note: {record.bss_warning}")
    if record.joint_stft_error is not None:
        print(f"joint estimates sum to the mixture: max STFT error {record.joint_stft_error:.1e} of the peak")
    print(f"wrote {folder}")


def cmd_prepare(args: argparse.Namespace) -> int:
    """``prepare``: standardise source pairs (a folder, MUSDB18 or the demo set).

    Exit code 0 when every pair was prepared or unchanged, 1 when some pair was
    skipped (each named on stderr), 2 for a user error.
    """
    from ..sources import demo_set, layout
    from ..sources.prepare import prepare as prepare_folder
    from ..sources.prepare import prepare_musdb

    config = config_from_args(args)
    if args.demo:
        given = [
            flag
            for flag, value in (
                ("--source", args.source),
                ("--dest", args.dest),
                ("--musdb", args.musdb),
                ("--track", args.track),
                ("--offset", args.offset),
            )
            if value is not None
        ]
        if given or args.align:
            raise ParameterError(
                f"--demo was given with {', '.join(given + ['--align'] * args.align)}: "
                "allowed --demo alone (with --force, --sr, --duration); it writes data/demo/"
            )
        check_out(layout.DEFAULT_DEMO_ROOT, name="the demo folder")
        result = demo_set.build_demo_set(layout.DEFAULT_DEMO_ROOT, config=config, force=args.force)
    elif args.musdb is not None:
        if args.source is not None:
            raise ParameterError("--source and --musdb were both given: allowed one of them")
        check_out(args.dest if args.dest is not None else layout.DEFAULT_MUSDB_DEST, name="--dest")
        result = prepare_musdb(
            args.musdb,
            args.dest,
            subset=args.subset,
            tracks=args.track,
            config=config,
            offset="auto" if args.offset is None else args.offset,
            align=args.align,
            force=args.force,
        )
    else:
        if args.track is not None:
            raise ParameterError("--track was given without --musdb ROOT: allowed only with --musdb")
        check_out(layout.DEFAULT_DEST if args.dest is None else args.dest, name="--dest")
        result = prepare_folder(
            layout.DEFAULT_SOURCE if args.source is None else args.source,
            layout.DEFAULT_DEST if args.dest is None else args.dest,
            config=config,
            offset=0.0 if args.offset is None else args.offset,
            align=args.align,
            force=args.force,
        )
    for r in result.pairs:
        if r.skipped:
            print(f"{PROG}: skipped {r.name}: {r.reason}", file=sys.stderr)
            continue
        for w in r.warnings:
            print(f"{PROG}: warning: {r.name}: {w}", file=sys.stderr)
        if not args.quiet:
            ex, lag = r.manifest["excerpt"], r.manifest["lag"]
            print(
                f"{r.status:<11} {r.name} -> {r.folder}  (excerpt {ex['offset']:g} s + {ex['duration']:g} s, "
                f"lag {lag['measured_ms']:+.2f} ms{', aligned' if lag['aligned'] else ''})"
            )
    for name in result.ignored:
        print(
            f"{PROG}: warning: ignored {name!r}: not <name>_100-full.<ext> or <name>_100-stem.<ext>",
            file=sys.stderr,
        )
    if not args.quiet:
        counts = {
            s: sum(r.status == s for r in result.pairs)
            for s in ("written", "overwritten", "unchanged", "skipped")
        }
        counts["ignored"] = len(result.ignored)
        print(", ".join(f"{n} {s}" for s, n in counts.items()) + f" -> {result.dest}")
    return result.exit_code


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``evaluate``: score any vocal estimate file like a run does."""
    from ..core.files import write_json
    from ..scoring.files import evaluate_files, format_table

    if args.json is not None:
        if args.json.is_dir():
            raise ParameterError(f"--json {str(args.json)!r} is a folder: allowed a file path")
        for flag, path in (
            ("--estimate", args.estimate),
            ("--reference", args.reference),
            ("--mixture", args.mixture),
        ):
            if path is not None and Path(path).resolve() == args.json.resolve():
                raise ParameterError(
                    f"--json {str(args.json)!r} is the {flag} file: allowed a new file "
                    "(an input is never overwritten)"
                )
        check_out(args.json.parent, name="--json's folder")
    result = evaluate_files(
        args.estimate, args.reference, args.mixture, sr=args.sr, mono=args.mono, bss=not args.no_bss
    )
    print(format_table(result))
    print("(reference = the true vocal; metrics in dB)")
    if args.json is not None:
        write_json(args.json, result.to_json())
        print(f"wrote {args.json}")
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    """``notebooks``: execute the numbered notebooks with papermill (:mod:`conv2dsep_lib.run.notebooks`).

    Exit code 0 when every notebook ran, 1 when one failed (each failure named on
    stderr; its executed notebook is kept and the next notebooks still run), 2 for a
    user error (nothing run).
    """
    from ..run.notebooks import default_run_name, parse_parameter_value, read_parameters_file, run_notebooks

    params = dict(read_parameters_file(args.parameters_file)) if args.parameters_file else {}
    for name, value in args.parameter or []:
        params[name] = parse_parameter_value(value)
    for name in ("data_dir", "mixture", "vocal", "musdb", "track", "subset", "offset"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = str(value) if isinstance(value, Path) else value
    out = args.out
    if out is None:
        out = Path("outputs") / (
            args.name
            or default_run_name(
                data_dir=params.get("data_dir") or params.get("musdb"),
                mixture=params.get("track") or params.get("mixture"),
            )
        )
    out = check_out(out)
    run = run_notebooks(
        out_dir=out,
        parameters=params,
        only=args.only,
        notebooks_dir=args.notebooks_dir,
        kernel_name=args.kernel,
        log_output=args.log_output,
        timeout=args.timeout,
        progress_bar=wants_progress(args),
        echo=None if args.quiet else print,
        arguments=recorded_arguments(args),
    )
    for e in run.failed:
        print(
            f"{PROG}: error: {e.describe_failure()}; executed notebook kept: {run.out_dir / e.output}",
            file=sys.stderr,
        )
    if not args.quiet:
        n = len(run.notebooks)
        print(
            f"{n - len(run.failed)}/{n} notebooks ok in {run.seconds:.0f} s; executed notebooks in "
            f"{run.out_dir / 'notebooks'} (run.json records parameters and git commit)"
        )
    return 1 if run.failed else 0


def _print_sweep(res) -> None:
    from ..results.aggregate import headline
    from ..results.record import ORACLE_NOTE

    print(f"\n{ORACLE_NOTE}")
    rows = headline(res.table, summary=res.summary).to_dict("records")
    if rows:
        cols = list(rows[0])

        def cell(v) -> str:
            if v is None or (isinstance(v, float) and v != v):
                return "n/a"
            return format(v, ".2f") if isinstance(v, float) else str(v)

        cells = [[cell(r.get(c)) for c in cols] for r in rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        print("median SI-SDR over tracks (dB); 'progressive k=N' = all N slices in the original order:")
        print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
        for row in cells:
            print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    for note in res.notes:
        print(f"note: {note}")
    c = res.counts
    print(
        f"{c.runs} runs: {c.ran} ran, {c.cached} cached (finished before), {c.failed} failed "
        f"in {res.seconds:.0f} s; {len(res.table)} rows -> {res.table_file}"
    )
    print(
        f"summary: {res.files.get('summary_md')} (+ {Path(res.files.get('summary', '')).name}, "
        + ", ".join(Path(v).name for k, v in res.files.items() if k.startswith("plot_"))
        + ")"
    )


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sweep``: the experiment over many tracks x settings (:mod:`conv2dsep_lib.sweep`).

    Exit code 0 when every run finished, 1 when some failed (each named on stderr; the
    others finished and are in the table), 2 for a user error (nothing run), 130 when
    interrupted (the table of the finished runs is written; the same command completes it).
    """
    import os

    from ..sweep.driver import SweepInterrupted, run_sweep
    from ..sweep.excerpts import parse_excerpts
    from ..sweep.grid import parse_set

    if args.scheduler is not None and args.workers is not None:
        raise ParameterError(
            "--workers was given with --scheduler: allowed --workers for the local pool "
            "or --dask-local; a cluster has its own workers"
        )
    if args.scheduler is not None and args.dask_local:
        raise ParameterError("--scheduler and --dask-local were both given: allowed one of them")
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers {args.workers} is invalid: allowed an integer >= 1")
    if (args.tracks is None) == (args.musdb is None):
        raise ParameterError(
            "tracks: allowed exactly one of --tracks GLOB (prepared folders) or --musdb ROOT"
        )
    fixed = parse_set(args.set or [])
    excerpts = None if args.excerpts is None else parse_excerpts(args.excerpts)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    arguments = recorded_arguments(args)
    try:
        res = run_sweep(
            args.tracks,
            args.grid,
            out=args.out,
            fixed=fixed,
            musdb=args.musdb,
            subset=args.subset,
            names=args.track,
            workers=workers,
            scheduler=args.scheduler,
            dask_local=args.dask_local,
            bss=not args.no_bss,
            baselines=not args.no_baselines,
            keep_audio=args.keep_audio,
            notebooks=args.notebooks,
            plots=not args.no_plots,
            progress=wants_progress(args),
            arguments=arguments,
            yes=args.yes,
            excerpts=excerpts,
            targets=args.targets,
        )
    except SweepInterrupted as exc:
        r = exc.result
        c = r.counts
        print(
            f"{PROG}: interrupted: {c.ran + c.cached} of {c.runs} runs finished, {c.remaining} not run; "
            f"{r.table_file} holds the finished ones; the same command completes the rest",
            file=sys.stderr,
        )
        return 130
    for f in res.failures:
        print(f"{PROG}: run failed: {f.run}: {f.type}: {f.message} (see {f.file})", file=sys.stderr)
    for w in res.warnings:
        print(f"{PROG}: warning: {w}", file=sys.stderr)
    if not args.quiet:
        _print_sweep(res)
    return 1 if res.counts.failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The full parser: one ``add_*_parser`` of :mod:`.options` per subcommand."""
    parser = ArgumentParser(
        prog=PROG,
        description="Conv2D spectral fingerprinting workbook: ORACLE vocal "
        "separation experiments (the optimisation uses the true vocal).",
        epilog=examples(
            "conv2dsep best --slices 8                   # the seed's best.py -> outputs/output_progressive_8slices/",
            "conv2dsep notebooks --out outputs/workbook  # the notebooks 00..08, headless",
            "conv2dsep COMMAND --help                    # a command's options and examples",
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    add_experiment_parser(
        sub, "progressive", "Progressive 1..N slices (the seed's sanity_check_progressive)."
    ).set_defaults(func=cmd_experiment)
    add_experiment_parser(
        sub, "best", "Progressive 1..N plus the greedy slice order (the seed's best.py)."
    ).set_defaults(func=cmd_experiment)
    add_prepare_parser(sub).set_defaults(func=cmd_prepare)
    add_evaluate_parser(sub).set_defaults(func=cmd_evaluate)
    add_notebooks_parser(sub).set_defaults(func=cmd_notebooks)
    add_sweep_parser(sub).set_defaults(func=cmd_sweep)
    from .claims import add_claims_parser, cmd_claims

    add_claims_parser(sub).set_defaults(func=cmd_claims)
    from .learned import add_separate_parser, add_train_parser, cmd_separate, cmd_train

    add_train_parser(sub).set_defaults(func=cmd_train)
    add_separate_parser(sub).set_defaults(func=cmd_separate)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: returns the exit code (0 ok, 2 user error, 1 failure)."""
    try:
        parser = build_parser()
        args, extras = parser.parse_known_args(argv)
        if extras:
            where = f"{args.command}: " if getattr(args, "command", None) else ""
            help_ = f"{PROG} {args.command}" if where else PROG
            raise ParameterError(f"{where}unrecognized arguments: {' '.join(extras)} (see '{help_} --help')")
        if getattr(args, "func", None) is None:
            parser.print_help(sys.stderr)
            return 2
        if args.command in ("best", "progressive"):  # recorded in results.json and the outputs index
            given = list(sys.argv[1:] if argv is None else argv)
            args.command_line = " ".join([PROG, shlex.join(given)]) if given else PROG
        tune_malloc()  # one arena, large blocks kept for reuse (see core.memory)
        tune_collector()  # fewer cycle collections (see core.memory)
        return int(args.func(args) or 0)
    except ParameterError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
