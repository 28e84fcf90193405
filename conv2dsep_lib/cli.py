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
import importlib
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from .config import GREEDY_SCORES, MAX_SLICES, Config
from .errors import ParameterError

__all__ = ["main", "build_parser", "config_from_args", "resolve_input"]

PROG = "conv2dsep"
MIXTURE_NAME = "stereo_mixture.wav"
VOCAL_NAME = "isolated_vocal.wav"
DEFAULT_DATA_DIR = Path("data/rtg/100-window")
DEFAULT_DEMO_ROOT = Path("data/demo")

#: Subcommands contributed by other modules: (module, function adding the parser).
EXTRA_COMMANDS: Sequence[str] = ()


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


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` or ``--mixture/--vocal``, ``--offset``, ``--pad``."""
    group = parser.add_argument_group("input (default: data/rtg/100-window/ if present, else the demo song)")
    group.add_argument("--data-dir", type=Path, help=f"folder holding {MIXTURE_NAME} + {VOCAL_NAME}")
    group.add_argument("--mixture", type=Path, help="mixture audio file (with --vocal)")
    group.add_argument("--vocal", type=Path, help="isolated vocal audio file (with --mixture)")
    group.add_argument("--offset", type=float, default=0.0, help="excerpt start in seconds (default 0)")
    group.add_argument("--pad", action="store_true", help="zero-pad a clip shorter than the excerpt")


def resolve_input(args: argparse.Namespace):
    """Return ``(mixture_path, vocal_path)`` from the input arguments.

    ``--mixture`` and ``--vocal`` go together; ``--data-dir`` must hold both
    standard names; with neither, ``data/rtg/100-window/`` if it holds them, else the
    demo song (synthesised on first use).
    """
    if (args.mixture is None) != (args.vocal is None):
        given = "--mixture" if args.mixture is not None else "--vocal"
        raise ParameterError(f"{given} was given alone: allowed --mixture and --vocal together, or --data-dir")
    if args.mixture is not None:
        if args.data_dir is not None:
            raise ParameterError("--data-dir and --mixture/--vocal were both given: allowed one of them")
        return args.mixture, args.vocal
    if args.data_dir is not None:
        d = Path(args.data_dir)
        if not d.is_dir():
            raise ParameterError(f"--data-dir {str(d)!r} is not a folder")
        for name in (MIXTURE_NAME, VOCAL_NAME):
            if not (d / name).is_file():
                raise ParameterError(f"--data-dir {str(d)!r} has no {name}: it must hold {MIXTURE_NAME} and {VOCAL_NAME}")
        return d / MIXTURE_NAME, d / VOCAL_NAME
    if (DEFAULT_DATA_DIR / MIXTURE_NAME).is_file() and (DEFAULT_DATA_DIR / VOCAL_NAME).is_file():
        return DEFAULT_DATA_DIR / MIXTURE_NAME, DEFAULT_DATA_DIR / VOCAL_NAME
    from .demo import ensure_demo_song

    d = ensure_demo_song(DEFAULT_DEMO_ROOT)
    return d / MIXTURE_NAME, d / VOCAL_NAME


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
    from .audio import load_pair
    from .config import check_n_slices
    from .pipeline import run_experiment, write_outputs

    config = config_from_args(args)
    n_slices = check_n_slices(args.slices)
    out = _check_out(args.out)
    mixture_path, vocal_path = resolve_input(args)
    pair = load_pair(mixture_path, vocal_path, sr=config.sr, duration=config.duration,
                     offset=args.offset, pad=args.pad)
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


def build_parser() -> argparse.ArgumentParser:
    """The full parser (core commands plus :data:`EXTRA_COMMANDS`)."""
    from . import __version__

    parser = _Parser(prog=PROG, description="Conv2D spectral fingerprinting workbook: ORACLE vocal "
                                            "separation experiments (the optimisation uses the true vocal).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_experiment_parser(sub, "progressive", "Progressive 1..N slices (the seed's sanity_check_progressive).")
    _add_experiment_parser(sub, "best", "Progressive 1..N plus the greedy slice order (the seed's best.py).")
    for entry in EXTRA_COMMANDS:
        module, func = entry.split(":")
        getattr(importlib.import_module(module, __package__), func)(sub)
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
