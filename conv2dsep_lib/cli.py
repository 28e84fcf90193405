"""The ``conv2dsep`` command line (also ``python -m conv2dsep_lib``).

The CLI only parses arguments and calls the functional API
(:mod:`conv2dsep_lib.pipeline` and friends).  User errors -- a
:class:`~conv2dsep_lib.errors.ParameterError` or a bad argument -- print one line on
stderr and exit with code 2, without a traceback; nothing is half-written because
every writer is atomic.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from .config import GREEDY_SCORES, MAX_SLICES, Config
from .errors import ParameterError

__all__ = ["main", "build_parser", "config_from_args", "load_input_from_args"]

PROG = "conv2dsep"
from .inputs import MIXTURE_NAME, VOCAL_NAME


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str):  # noqa: D401
        raise ParameterError(f"{self.prog}: {message}")


# ------------------------------------------------------------------ shared options
#: config field -> (flag, type, help)
CONFIG_FLAGS = (
    ("sr", "--sr", int, "sample rate in Hz"),
    ("duration", "--duration", float, "excerpt length in seconds"),
    ("n_fft", "--n-fft", int, "FFT size"),
    ("hop_length", "--hop-length", int, "STFT hop in samples"),
    ("n_points", "--n-points", int, "fingerprint points per window"),
    ("num_iterations", "--iterations", int, "gradient steps per slice"),
    ("learning_rate", "--learning-rate", float, "EQ step size"),
    ("clip_db", "--clip-db", float, "EQ clip in dB"),
    ("amin", "--amin", float, "amplitude floor of the dB conversion"),
    ("strategy", "--strategy", int, "gain strategy 1..4 (3 = the seed's dB descent)"),
    ("greedy_score", "--greedy-score", str,
     "greedy criterion: " + ", ".join(GREEDY_SCORES) + " (step_loss = the seed's)"),
)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per config field, defaults from :class:`Config`."""
    defaults = Config()
    group = parser.add_argument_group("method settings (defaults = the seed's CONFIG)")
    for field, flag, typ, help_ in CONFIG_FLAGS:
        group.add_argument(flag, dest=f"cfg_{field}", type=typ, default=None, metavar=typ.__name__.upper(),
                           help=f"{help_} (default {getattr(defaults, field)})")


def config_from_args(args: argparse.Namespace) -> Config:
    """A :class:`Config` with the flags that were given (validated)."""
    changes = {field: getattr(args, f"cfg_{field}") for field, *_ in CONFIG_FLAGS
               if getattr(args, f"cfg_{field}", None) is not None}
    return Config().replace(**changes)


def add_input_arguments(parser: argparse.ArgumentParser, *, pad: bool = True,
                        defaults: bool = True) -> None:
    """``--data-dir`` or ``--mixture/--vocal`` or ``--musdb/--track/--subset``, ``--offset``
    (and ``--pad``).  ``defaults=False`` leaves unset flags ``None`` (to tell what was given)."""
    group = parser.add_argument_group("input (default: data/rtg/100-window/ if present, else the demo song)")
    group.add_argument("--data-dir", type=Path, help=f"folder holding {MIXTURE_NAME} + {VOCAL_NAME}")
    group.add_argument("--mixture", type=Path, help="mixture audio file (with --vocal)")
    group.add_argument("--vocal", type=Path, help="isolated vocal audio file (with --mixture)")
    group.add_argument("--offset", type=float, default=0.0 if defaults else None,
                       help="excerpt start in seconds (default 0)")
    if pad:
        group.add_argument("--pad", action="store_true", help="zero-pad a clip shorter than the excerpt")
    group.add_argument("--musdb", type=Path, metavar="ROOT",
                       help="MUSDB18 root (train/, test/): HQ wav folders, or .stem.mp4 via musdb + ffmpeg")
    group.add_argument("--track", metavar="NAME", help="MUSDB18 track name (with --musdb)")
    group.add_argument("--subset", choices=("train", "test"), default="test" if defaults else None,
                       help="MUSDB18 subset (default test)")


def load_input_from_args(args: argparse.Namespace, config: Config):
    """Load the input chosen by the input arguments (see :mod:`conv2dsep_lib.inputs`)."""
    from .inputs import load_input

    return load_input(config=config, data_dir=args.data_dir, mixture=args.mixture, vocal=args.vocal,
                      musdb=getattr(args, "musdb", None), track=getattr(args, "track", None),
                      subset=getattr(args, "subset", "test"), offset=args.offset, pad=args.pad)


def _check_out(out: Path) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {str(out)!r} exists and is not a folder")
    return out


# ------------------------------------------------------------------ experiment commands
def _fmt(x, spec=".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def _print_summary(record: dict, folder: Path) -> None:
    print(f"\n{record['note']}")
    print(f"{'k':>3}  {'loss (dB^2)':>12}  {'SI-SDR':>7}  {'SDR':>7}  {'SIR':>7}  {'SAR':>7}   last slice")
    for p in record["progressive"]:
        m = p["metrics"] or {}
        print(f"{p['n_slices']:>3}  {p['loss']:>12.6f}  {_fmt(m.get('si_sdr')):>7}  {_fmt(m.get('sdr')):>7}  "
              f"{_fmt(m.get('sir')):>7}  {_fmt(m.get('sar')):>7}   {p['sequence'][-1]}")
    if "greedy" in record:
        g = record["greedy"]
        m = g["metrics"] or {}
        b = g["best_prefix"]
        print(f"greedy ({g['score']}): {' -> '.join(s.split('_', 2)[-1] for s in g['sequence'])}")
        print(f"  all {len(g['sequence'])}: loss {g['loss']:.6f}, SI-SDR {_fmt(m.get('si_sdr'))} dB; "
              f"best prefix {b['n_slices']}: loss {b['loss']:.6f}, "
              f"SI-SDR {_fmt((b['metrics'] or {}).get('si_sdr'))} dB")
    if record.get("baselines"):
        print("baselines: " + ", ".join(
            f"{n} ({b['kind']}) {_fmt((b['metrics'] or {}).get('si_sdr'))} dB" for n, b in record["baselines"].items()))
    lq = record["loss_vs_quality"]
    print(f"loss vs SI-SDR: Spearman {_fmt(lq['spearman_loss_vs_si_sdr'], '+.2f')}, best k by loss "
          f"{lq['best_k_by_loss']}, by SI-SDR {lq['best_k_by_si_sdr']}")
    print(f"wrote {folder}")


def cmd_experiment(args: argparse.Namespace) -> int:
    """``progressive`` and ``best``."""
    from .config import check_n_slices
    from .pipeline import run_experiment, write_outputs

    config = config_from_args(args)
    n_slices = check_n_slices(args.slices)
    out = _check_out(args.out)
    pair = load_input_from_args(args, config)
    greedy = args.command == "best"
    exp = run_experiment(pair, config=config, n_slices=n_slices, greedy=greedy,
                         baselines=not args.no_baselines, bss=not args.no_bss,
                         progress=not args.quiet)
    arguments = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                 if k != "func"}
    folder = write_outputs(exp, out, arguments=arguments)
    if not args.quiet:
        import json

        _print_summary(json.loads((folder / "results.json").read_text()), folder)
    return 0


def _add_experiment_parser(sub, name: str, help_: str) -> None:
    p = sub.add_parser(name, help=help_, description=help_ + " ORACLE: uses the true vocal.")
    p.add_argument("--slices", type=int, default=8, metavar=f"1..{MAX_SLICES}",
                   help="number of slices N (default 8)")
    add_input_arguments(p)
    p.add_argument("--out", type=Path, default=Path("outputs"),
                   help="output root; writes OUT/output_progressive_{N}slices/ (default outputs/)")
    p.add_argument("--no-bss", action="store_true", help="skip BSS Eval v4 (SI-SDR only; faster)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline separators")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_config_arguments(p)
    p.set_defaults(func=cmd_experiment)


# ------------------------------------------------------------------ prepare
def _offset_value(text: str):
    """``--offset`` of ``prepare``: seconds >= 0 or ``auto``."""
    if text == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: allowed a number of seconds >= 0 or 'auto'")
    return value


def cmd_prepare(args: argparse.Namespace) -> int:
    """``prepare``: standardise source pairs (a folder, MUSDB18 or the demo set).

    Exit code 0 when every pair was prepared or unchanged, 1 when some pair was
    skipped (each named on stderr), 2 for a user error.
    """
    from . import data

    config = config_from_args(args)
    if args.demo:
        given = [flag for flag, value in (("--source", args.source), ("--dest", args.dest),
                                          ("--musdb", args.musdb), ("--track", args.track),
                                          ("--offset", args.offset)) if value is not None]
        if given or args.align:
            raise ParameterError(f"--demo was given with {', '.join(given + ['--align'] * args.align)}: "
                                 "allowed --demo alone (with --force, --sr, --duration); it writes data/demo/")
        result = data.build_demo_set(data.DEFAULT_DEMO_ROOT, config=config, force=args.force)
    elif args.musdb is not None:
        if args.source is not None:
            raise ParameterError("--source and --musdb were both given: allowed one of them")
        result = data.prepare_musdb(args.musdb, args.dest, subset=args.subset, tracks=args.track,
                                    config=config, offset="auto" if args.offset is None else args.offset,
                                    align=args.align, force=args.force)
    else:
        if args.track is not None:
            raise ParameterError("--track was given without --musdb ROOT: allowed only with --musdb")
        result = data.prepare(data.DEFAULT_SOURCE if args.source is None else args.source,
                              data.DEFAULT_DEST if args.dest is None else args.dest, config=config,
                              offset=0.0 if args.offset is None else args.offset,
                              align=args.align, force=args.force)
    for r in result.pairs:
        if r.skipped:
            print(f"{PROG}: skipped {r.name}: {r.reason}", file=sys.stderr)
            continue
        for w in r.warnings:
            print(f"{PROG}: warning: {r.name}: {w}", file=sys.stderr)
        if not args.quiet:
            ex, lag = r.manifest["excerpt"], r.manifest["lag"]
            print(f"{r.status:<11} {r.name} -> {r.folder}  (excerpt {ex['offset']:g} s + {ex['duration']:g} s, "
                  f"lag {lag['measured_ms']:+.2f} ms{', aligned' if lag['aligned'] else ''})")
    if not args.quiet:
        counts = {s: sum(r.status == s for r in result.pairs)
                  for s in ("written", "overwritten", "unchanged", "skipped")}
        print(", ".join(f"{n} {s}" for s, n in counts.items()) + f" -> {result.dest}")
    return result.exit_code


def _add_prepare_parser(sub) -> None:
    help_ = "Standardise source pairs into the rtg layout (mixture, vocal, instrumental + manifest.json)."
    p = sub.add_parser(
        "prepare", help=help_,
        description=help_ + " Reads <name>_100-full.<ext> (mixture) + <name>_100-stem.<ext> (vocal) "
                            "pairs; never modifies the source. Exit code 0: all prepared or unchanged; "
                            "1: some pairs skipped (named on stderr); 2: user error.")
    p.add_argument("--source", type=Path, default=None,
                   help="folder of source pairs (default data/process/100-window/)")
    p.add_argument("--dest", type=Path, default=None,
                   help="output folder (default data/rtg/100-window/; with --musdb data/rtg/musdb18/SUBSET/); "
                        "one pair is written directly into it, several into DEST/NAME/")
    p.add_argument("--offset", type=_offset_value, default=None, metavar="S|auto",
                   help="excerpt start in seconds, or 'auto' = the window with the most vocal energy "
                        "(default 0; with --musdb auto)")
    p.add_argument("--align", action="store_true",
                   help="shift a lagging vocal into place (otherwise a lag above 5 ms skips the pair)")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs that differ")
    p.add_argument("--demo", action="store_true",
                   help="synthesise the demo songs as source files in data/demo/process/100-window/ "
                        "and prepare them into data/demo/rtg/100-window/<name>/")
    p.add_argument("--musdb", type=Path, metavar="ROOT",
                   help="prepare MUSDB18 tracks (HQ wav folders, or .stem.mp4 via musdb + ffmpeg)")
    p.add_argument("--subset", choices=("train", "test"), default="test", help="MUSDB18 subset (default test)")
    p.add_argument("--track", action="append", metavar="NAME",
                   help="with --musdb: only this track (repeatable; default all tracks of the subset)")
    p.add_argument("--quiet", action="store_true", help="print only warnings and skipped pairs")
    defaults = Config()
    group = p.add_argument_group("excerpt settings")
    group.add_argument("--sr", dest="cfg_sr", type=int, default=None, metavar="INT",
                       help=f"sample rate of the written files (default {defaults.sr})")
    group.add_argument("--duration", dest="cfg_duration", type=float, default=None, metavar="FLOAT",
                       help=f"excerpt length in seconds (default {defaults.duration})")
    p.set_defaults(func=cmd_prepare)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``evaluate``: score any vocal estimate file like a run does."""
    from .evaluation import evaluate_files, format_table
    from .pipeline import atomic_write_json

    if args.json is not None and args.json.exists() and args.json.is_dir():
        raise ParameterError(f"--json {str(args.json)!r} is a folder: allowed a file path")
    result = evaluate_files(args.estimate, args.reference, args.mixture, sr=args.sr,
                            mono=args.mono, bss=not args.no_bss)
    print(format_table(result))
    print("(reference = the true vocal; metrics in dB)")
    if args.json is not None:
        atomic_write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


def _add_evaluate_parser(sub) -> None:
    help_ = "Score any vocal estimate (wav/flac/...) against its reference: SI-SDR, BSS Eval v4."
    p = sub.add_parser("evaluate", help=help_, description=help_)
    p.add_argument("--estimate", type=Path, required=True, help="the separated vocal to score")
    p.add_argument("--reference", type=Path, required=True, help="the true isolated vocal")
    p.add_argument("--mixture", type=Path, help="the mixture (adds SI-SDRi, SIR and accompaniment metrics)")
    p.add_argument("--sr", type=int, help="evaluation rate (default: the reference's)")
    p.add_argument("--mono", action="store_true", help="downmix all files to mono")
    p.add_argument("--no-bss", action="store_true", help="SI-SDR only (skip BSS Eval v4)")
    p.add_argument("--json", type=Path, help="also write the result as JSON here")
    p.set_defaults(func=cmd_evaluate)


# ------------------------------------------------------------------ notebooks
def cmd_notebooks(args: argparse.Namespace) -> int:
    """``notebooks``: execute the numbered notebooks with papermill (:mod:`conv2dsep_lib.notebooks`).

    Exit code 0 when every notebook ran, 1 when one failed (each failure named on
    stderr; its executed notebook is kept and the next notebooks still run), 2 for a
    user error (nothing run).
    """
    from .notebooks import (default_run_name, describe_failure, parse_parameter_value,
                            read_parameters_file, run_notebooks)

    params = dict(read_parameters_file(args.parameters_file)) if args.parameters_file else {}
    for name, value in args.parameter or []:
        params[name] = parse_parameter_value(value)
    for name in ("data_dir", "mixture", "vocal", "musdb", "track", "subset", "offset"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = str(value) if isinstance(value, Path) else value
    out = args.out
    if out is None:
        out = Path("outputs") / (args.name or default_run_name(
            data_dir=params.get("data_dir") or params.get("musdb"),
            mixture=params.get("track") or params.get("mixture")))
    out = _check_out(out)
    summary = run_notebooks(out_dir=out, parameters=params, only=args.only,
                            notebooks_dir=args.notebooks_dir, kernel_name=args.kernel,
                            log_output=args.log_output, timeout=args.timeout,
                            echo=None if args.quiet else print,
                            arguments={k: (str(v) if isinstance(v, Path) else v)
                                       for k, v in vars(args).items() if k != "func"})
    failed = [e for e in summary["notebooks"] if e["status"] != "ok"]
    for e in failed:
        print(f"{PROG}: error: {describe_failure(e)}; executed notebook kept: "
              f"{Path(summary['out_dir']) / e['output']}", file=sys.stderr)
    if not args.quiet:
        n = len(summary["notebooks"])
        print(f"{n - len(failed)}/{n} notebooks ok in {summary['seconds']:.0f} s; executed notebooks in "
              f"{Path(summary['out_dir']) / 'notebooks'} (run.json records parameters and git commit)")
    return 1 if failed else 0


def _add_notebooks_parser(sub) -> None:
    help_ = "Execute the numbered notebooks (notebooks/NN_*.ipynb) headlessly with papermill."
    p = sub.add_parser(
        "notebooks", help=help_,
        description=help_ + " Executed copies go to OUT/notebooks/ (with run.json), each notebook's "
                            "artefacts beside them in OUT/. A failing notebook is kept and named; the "
                            "next ones still run; exit code 1. ORACLE: the experiments use the true vocal.")
    add_input_arguments(p, pad=False, defaults=False)
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="notebook parameter, parsed as papermill does (True/False/None, int, float, "
                        "else text), e.g. -p n_slices 5; repeatable")
    p.add_argument("-f", "--parameters-file", type=Path, metavar="PARAMS.yaml",
                   help="YAML mapping of notebook parameters (-p and the input flags override it)")
    p.add_argument("--only", action="append", metavar="NN",
                   help="run only these notebooks: number or name, comma-separated or repeated "
                        "(e.g. --only 03 --only 05_results)")
    p.add_argument("--out", type=Path, default=None,
                   help="run folder OUT (default outputs/<name>/; name: --name, else 'workbook' or "
                        "'workbook_<input>')")
    p.add_argument("--name", help="run name for the default OUT")
    p.add_argument("--notebooks-dir", type=Path, default=None, help="default: the project's notebooks/")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3 = this interpreter)")
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per cell (default none)")
    p.add_argument("--log-output", action="store_true", help="stream the cells' output")
    p.add_argument("--quiet", action="store_true", help="print only failures")
    p.set_defaults(func=cmd_notebooks)


# ------------------------------------------------------------------ sweep
def _print_sweep(res) -> None:
    from .pipeline import ORACLE_NOTE
    from .sweep import headline_rows

    print(f"\n{ORACLE_NOTE}")
    rows = headline_rows(res.rows)
    if rows:
        cols = list(rows[0])
        cells = [[("n/a" if r.get(c) is None else format(r[c], ".2f") if isinstance(r.get(c), float)
                   else str(r[c])) for c in cols] for r in rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        print("median SI-SDR over tracks (dB); 'progressive k=N' = all N slices in the original order:")
        print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
        for row in cells:
            print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    for note in res.notes:
        print(f"note: {note}")
    c = res.counts
    print(f"{c['runs']} runs: {c['ran']} ran, {c['cached']} cached (finished before), {c['failed']} failed "
          f"in {res.seconds:.0f} s; {len(res.rows)} rows -> {res.table}")
    print(f"summary: {res.files.get('summary_md')} (+ {Path(res.files.get('summary', '')).name}, "
          + ", ".join(Path(v).name for k, v in res.files.items() if k.startswith("plot_")) + ")")


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sweep``: the experiment over many tracks x settings (:mod:`conv2dsep_lib.sweep`).

    Exit code 0 when every run finished, 1 when some failed (each named on stderr; the
    others finished and are in the table), 2 for a user error (nothing run), 130 when
    interrupted (the table of the finished runs is written; the same command completes it).
    """
    import os

    from . import sweep as sw

    if args.scheduler is not None and args.workers is not None:
        raise ParameterError("--workers was given with --scheduler: allowed --workers for the local pool "
                             "or --dask-local; a cluster has its own workers")
    if args.scheduler is not None and args.dask_local:
        raise ParameterError("--scheduler and --dask-local were both given: allowed one of them")
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers {args.workers} is invalid: allowed an integer >= 1")
    if (args.tracks is None) == (args.musdb is None):
        raise ParameterError("tracks: allowed exactly one of --tracks GLOB (prepared folders) or --musdb ROOT")
    fixed = sw.parse_set(args.set or [])
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    arguments = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "func"}
    try:
        res = sw.run_sweep(args.tracks, args.grid, out=args.out, fixed=fixed, musdb=args.musdb,
                           subset=args.subset, names=args.track, workers=workers, scheduler=args.scheduler,
                           dask_local=args.dask_local, bss=not args.no_bss, baselines=not args.no_baselines,
                           keep_audio=args.keep_audio, notebooks=args.notebooks, plots=not args.no_plots,
                           progress=not args.quiet, arguments=arguments)
    except sw.SweepInterrupted as exc:
        r = exc.result
        print(f"{PROG}: interrupted: {r.ran + r.cached} of {r.runs} runs finished, {r.remaining} not run; "
              f"{r.table} holds the finished ones; the same command completes the rest", file=sys.stderr)
        return 130
    for f in res.failures:
        print(f"{PROG}: run failed: {f['run']}: {f['type']}: {f['message']} (see {f['file']})", file=sys.stderr)
    for w in res.warnings:
        print(f"{PROG}: warning: {w}", file=sys.stderr)
    if not args.quiet:
        _print_sweep(res)
    return 1 if res.failed else 0


def _add_sweep_parser(sub) -> None:
    help_ = "Run the experiment over many tracks x settings and aggregate (sweep.csv, summary, plots)."
    p = sub.add_parser(
        "sweep", help=help_,
        description=help_ + " ORACLE: every run of the method uses the true vocal. Runs go to a local "
                            "process pool (--workers) or to Dask (--scheduler ADDRESS, --dask-local); each "
                            "writes OUT/runs/<track>/<setting>/results.json. A re-run skips finished runs "
                            "(same track files, settings and code) and redoes the rest. Exit code 0: all "
                            "runs finished; 1: some failed (named on stderr, the sweep went on); 2: user "
                            "error (nothing run); 130: interrupted (finished runs are kept).")
    g = p.add_argument_group("tracks (one of --tracks, --musdb)")
    g.add_argument("--tracks", metavar="GLOB",
                   help="prepared folders: a glob such as 'data/demo/rtg/100-window/*' (quote it) or a "
                        "`conv2dsep prepare` output folder")
    g.add_argument("--musdb", type=Path, metavar="ROOT",
                   help="a MUSDB18 root (train/, test/): HQ wav folders, or .stem.mp4 via musdb + ffmpeg")
    g.add_argument("--subset", choices=("train", "test"), default="test", help="MUSDB18 subset (default test)")
    g.add_argument("--track", action="append", metavar="NAME", help="only this track (repeatable)")
    s = p.add_argument_group("settings")
    s.add_argument("--grid", type=Path, metavar="GRID.yaml",
                   help="YAML mapping 'parameter: [values]' (config fields such as iterations, learning_rate, "
                        "clip_db, strategy, greedy_score, n_points; and n_slices, offset, greedy); every "
                        "combination is run (example: sweeps/demo.yaml). Default: one setting")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a fixed value for every setting, e.g. --set iterations=50 (repeatable)")
    s.add_argument("--no-bss", action="store_true", help="skip BSS Eval v4 (SI-SDR only; much faster)")
    s.add_argument("--no-baselines", action="store_true", help="skip the baseline runs")
    e = p.add_argument_group("execution")
    e.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes, one BLAS thread each (default: all cores); 1 runs in this "
                        "process; with --dask-local the number of Dask workers")
    e.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on this Dask scheduler (tcp://HOST:8786); its workers need the same conv2dsep "
                        "code and the tracks and OUT at the same paths")
    e.add_argument("--dask-local", action="store_true", help="run on a fresh local Dask cluster")
    e.add_argument("--notebooks", action="store_true",
                   help="run the papermill notebook sequence (00..05) per track x setting instead of the "
                        "library call (slow; keeps the executed notebooks in each run folder)")
    o = p.add_argument_group("output")
    o.add_argument("--out", type=Path, default=Path("outputs/sweep"), help="sweep folder (default outputs/sweep)")
    o.add_argument("--keep-audio", action="store_true", help="also write every run's wavs and figures")
    o.add_argument("--no-plots", action="store_true", help="no summary PNGs")
    o.add_argument("--quiet", action="store_true", help="no progress bar or summary (failures are still named)")
    p.set_defaults(func=cmd_sweep)


def build_parser() -> argparse.ArgumentParser:
    """The full parser: one ``_add_*_parser`` per subcommand."""
    from . import __version__

    parser = _Parser(prog=PROG, description="Conv2D spectral fingerprinting workbook: ORACLE vocal "
                                            "separation experiments (the optimisation uses the true vocal).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_experiment_parser(sub, "progressive", "Progressive 1..N slices (the seed's sanity_check_progressive).")
    _add_experiment_parser(sub, "best", "Progressive 1..N plus the greedy slice order (the seed's best.py).")
    _add_prepare_parser(sub)
    _add_evaluate_parser(sub)
    _add_notebooks_parser(sub)
    _add_sweep_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: returns the exit code (0 ok, 2 user error, 1 failure)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args) or 0)
    except ParameterError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
