"""The command line's options: one parser per subcommand, the shared input and config flags.

Only argument definitions live here (argparse and the config); the commands that run
are in :mod:`conv2dsep_lib.cli`.  Every parser error is a
:class:`~conv2dsep_lib.core.errors.ParameterError`: one line on stderr, exit code 2.

Every subcommand lists only the options it reads (``progressive`` has no
``--greedy-score``: it runs no greedy search), and its ``--help`` ends with an
``examples:`` section (:func:`examples`).  Progress bars go to stderr when it is a
terminal and ``--quiet`` was not given, or always with ``--progress``
(:func:`wants_progress`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict

from ..core.checks import check_offset
from ..core.config import GREEDY_SCORES, LIMITS, MAX_SLICES, Config
from ..core.errors import ParameterError
from ..core.files import check_writable_folder
from ..sources.layout import MIXTURE_NAME, VOCAL_NAME

__all__ = [
    "PROG",
    "HelpFormatter",
    "ArgumentParser",
    "examples",
    "wants_progress",
    "integer",
    "positive_integer",
    "number",
    "CONFIG_FLAGS",
    "add_config_arguments",
    "config_from_args",
    "add_input_arguments",
    "check_out",
    "recorded_arguments",
    "add_experiment_parser",
    "add_prepare_parser",
    "add_evaluate_parser",
    "add_notebooks_parser",
    "add_sweep_parser",
    "add_excerpts_argument",
    "add_targets_argument",
]

PROG = "conv2dsep"
#: The first line of every ``--help`` epilog.
EXAMPLES = "examples:"


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that the ``examples:`` epilog keeps its lines as written
    (one command per line; the description is still wrapped to the terminal)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EXAMPLES):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def examples(*lines: str) -> str:
    """The ``--help`` epilog: ``examples:`` and one command (with its comment) per line."""
    return "\n".join([EXAMPLES, *("  " + line for line in lines)])


def wants_progress(args: argparse.Namespace) -> bool:
    """Show progress bars: ``--progress``, or stderr is a terminal and no ``--quiet``."""
    if getattr(args, "progress", False):
        return True
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _add_quiet(parser: argparse.ArgumentParser, help_: str) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help=help_)


def add_targets_argument(parser, *, joint: bool = False) -> None:
    """``--targets vocals,drums,bass,other`` (default vocals: today's run), checked before any
    work by :func:`conv2dsep_lib.sources.stems.check_targets`; *joint* adds ``--no-joint``."""
    parser.add_argument(
        "--targets",
        default=None,
        metavar="T1,T2,...",
        help="targets to separate, each against its own stem: any of vocals,drums,bass,other "
        "(default vocals; MUSDB18, the demo songs and folders with isolated_<target>.wav have them)",
    )
    if joint:
        parser.add_argument(
            "--no-joint",
            action="store_true",
            help="with several targets: skip the joint estimate (masks that sum to one)",
        )


def add_excerpts_argument(parser, *, what: str) -> None:
    """``--excerpts``: offsets ``0,30,60``, ``N`` evenly spaced, or ``all`` (checked before any
    work by :func:`conv2dsep_lib.sweep.excerpts.parse_excerpts`)."""
    parser.add_argument(
        "--excerpts",
        metavar="OFFSETS|N|all",
        default=None,
        help="excerpts as repeats: offsets in seconds (0,30,60), N evenly spaced over each track, or "
        f"'all' non-overlapping excerpts of the excerpt length (duration, default 4.7 s); {what}",
    )


def _add_progress(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--progress",
        action="store_true",
        help=f"{what} on stderr even when it is not a terminal (default: on a terminal, unless --quiet)",
    )


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (:class:`ParameterError`, exit code 2) and help that ends
    with examples (:class:`HelpFormatter`).

    The message names the subcommand once (``main`` prints the program name):
    ``conv2dsep: error: best: argument --slices: invalid value 'x': allowed an integer``.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        hint = f" (see '{self.prog} --help')" if message.startswith(("unrecognized", "the following")) else ""
        raise ParameterError(f"{command}: {message}{hint}" if command else f"{message}{hint}")


def integer(text: str) -> int:
    """argparse type: an integer, with what is allowed in the message."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: allowed an integer") from None


def positive_integer(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: allowed an integer >= 1")
    return value


def number(text: str) -> float:
    """argparse type: a finite number, with what is allowed in the message."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: allowed a finite number")
    return value


#: config field -> (flag, type, help)
CONFIG_FLAGS = (
    ("sr", "--sr", integer, "sample rate in Hz"),
    ("duration", "--duration", number, "excerpt length in seconds"),
    ("n_fft", "--n-fft", integer, "FFT size"),
    ("hop_length", "--hop-length", integer, "STFT hop in samples (<= n_fft)"),
    ("n_points", "--n-points", integer, "fingerprint points per window"),
    ("num_iterations", "--iterations", integer, "gradient steps per slice"),
    ("learning_rate", "--learning-rate", number, "EQ step size"),
    ("clip_db", "--clip-db", number, "EQ clip in dB"),
    ("amin", "--amin", number, "amplitude floor of the dB conversion"),
    ("strategy", "--strategy", integer, "gain strategy 1..4 (3 = the seed's dB descent)"),
    (
        "greedy_score",
        "--greedy-score",
        str,
        "greedy criterion: " + ", ".join(GREEDY_SCORES) + " (step_loss = the seed's)",
    ),
)


def add_config_arguments(parser: argparse.ArgumentParser, *, greedy: bool = True) -> None:
    """One flag per config field, defaults from :class:`Config` (``--greedy-score`` only
    with *greedy*: a command without the greedy search does not read it)."""
    defaults = Config()
    group = parser.add_argument_group("method settings (defaults = the seed's CONFIG)")
    for field, flag, typ, help_ in CONFIG_FLAGS:
        if field == "greedy_score" and not greedy:
            continue
        lo, hi = LIMITS.get(field, (None, None))
        limits = f"; {lo:g}..{hi:g}" if lo is not None else ""
        group.add_argument(
            flag,
            dest=f"cfg_{field}",
            type=typ,
            default=None,
            metavar={integer: "INT", number: "NUMBER"}.get(typ, "TEXT"),
            help=f"{help_} (default {getattr(defaults, field)}{limits})",
        )


def config_from_args(args: argparse.Namespace) -> Config:
    """A :class:`Config` with the flags that were given (validated)."""
    changes = {
        field: getattr(args, f"cfg_{field}")
        for field, *_ in CONFIG_FLAGS
        if getattr(args, f"cfg_{field}", None) is not None
    }
    return Config().replace(**changes)


def add_input_arguments(parser: argparse.ArgumentParser, *, pad: bool = True, defaults: bool = True) -> None:
    """``--data-dir`` or ``--mixture/--vocal`` or ``--musdb/--track/--subset``, ``--offset``
    (and ``--pad``).  ``defaults=False`` leaves unset flags ``None`` (to tell what was given)."""
    group = parser.add_argument_group("input (default: data/rtg/100-window/ if present, else the demo song)")
    group.add_argument("--data-dir", type=Path, help=f"folder holding {MIXTURE_NAME} + {VOCAL_NAME}")
    group.add_argument("--mixture", type=Path, help="mixture audio file (with --vocal)")
    group.add_argument("--vocal", type=Path, help="isolated vocal audio file (with --mixture)")
    group.add_argument(
        "--offset",
        type=number,
        default=0.0 if defaults else None,
        help="excerpt start in seconds (default 0)",
    )
    if pad:
        group.add_argument("--pad", action="store_true", help="zero-pad a clip shorter than the excerpt")
    group.add_argument(
        "--musdb",
        type=Path,
        metavar="ROOT",
        help="MUSDB18 root (train/, test/): HQ wav folders, or .stem.mp4 via musdb + ffmpeg",
    )
    group.add_argument("--track", metavar="NAME", help="MUSDB18 track name (with --musdb)")
    group.add_argument(
        "--subset",
        choices=("train", "test"),
        default="test" if defaults else None,
        help="MUSDB18 subset (default test)",
    )


def recorded_arguments(args: argparse.Namespace) -> Dict[str, Any]:
    """The command's arguments as ``results.json`` records them (paths as text)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "func"}


def check_out(out: Path, *, name: str = "--out") -> Path:
    """Before any work: the output folder can be created and written."""
    return check_writable_folder(out, name=name)


def _offset_value(text: str):
    """``--offset`` of ``prepare``: seconds >= 0 or ``auto`` (the shared offset check)."""
    try:
        return check_offset(text, allow_auto=True)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_EXPERIMENT_EXAMPLES = {
    "best": (
        "conv2dsep best --slices 8                    # the seed's best.py -> outputs/output_progressive_8slices/",
        "conv2dsep best --learning-rate 0.05 -q       # other settings -> outputs/output_progressive_8slices_lr0.05/",
        "conv2dsep best --data-dir data/rtg/100-window/ --excerpts 0,30,60   # 3 runs (_at0s, _at30s, _at60s) + their median",
    ),
    "progressive": (
        "conv2dsep progressive --slices 8             # the seed's sanity_check_progressive script",
        "conv2dsep progressive --slices 18 --data-dir data/rtg/100-window/ --offset 30",
        "conv2dsep progressive --slices 18 --musdb ~/data/musdb18hq --track 'A Classic Education - NightOwl' --excerpts 3",
    ),
}


def add_experiment_parser(sub, name: str, help_: str) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name,
        help=help_,
        description=help_ + " ORACLE: uses the true vocal. Writes OUT/output_progressive_{N}slices/ for "
        "the seed's settings and OUT/output_progressive_{N}slices_<settings>/ for others "
        "(e.g. _lr0.05), and lists every run in OUT/index.md and OUT/index.json.",
        epilog=examples(*_EXPERIMENT_EXAMPLES[name]),
    )
    p.add_argument(
        "--slices", type=integer, default=8, metavar=f"1..{MAX_SLICES}", help="number of slices N (default 8)"
    )
    add_input_arguments(p)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("outputs"),
        help="output root (default outputs/): OUT/output_progressive_{N}slices[_<settings>]/, OUT/index.md",
    )
    add_excerpts_argument(
        p,
        what="runs each into its own folder (suffix _at<offset>s) and writes their median to "
        "OUT/excerpts_<folder>.md (replaces --offset)",
    )
    add_targets_argument(p, joint=True)
    p.add_argument("--no-bss", action="store_true", help="skip BSS Eval v4 (SI-SDR only; faster)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline separators")
    _add_quiet(p, "no progress bar or summary")
    _add_progress(p, "the stage bar (loading, STFT, method, metrics and baselines, figures, writing)")
    add_config_arguments(p, greedy=name == "best")
    return p


def add_prepare_parser(sub) -> argparse.ArgumentParser:
    help_ = "Standardise source pairs into the rtg layout (mixture, vocal, instrumental + manifest.json)."
    p = sub.add_parser(
        "prepare",
        help=help_,
        description=help_ + " Reads <name>_100-full.<ext> (mixture) + <name>_100-stem.<ext> (vocal) "
        "pairs; never modifies the source. Exit code 0: all prepared or unchanged; "
        "1: some pairs skipped (named on stderr); 2: user error.",
        epilog=examples(
            "conv2dsep prepare                 # data/process/100-window/ -> data/rtg/100-window/",
            "conv2dsep prepare --demo          # synthesise the 3 demo songs into data/demo/",
            "conv2dsep prepare --musdb ~/data/musdb18hq --subset test --offset auto",
        ),
    )
    p.add_argument(
        "--source", type=Path, default=None, help="folder of source pairs (default data/process/100-window/)"
    )
    p.add_argument(
        "--dest",
        type=Path,
        default=None,
        help="output folder (default data/rtg/100-window/; with --musdb data/rtg/musdb18/SUBSET/); "
        "one pair is written directly into it, several into DEST/NAME/",
    )
    p.add_argument(
        "--offset",
        type=_offset_value,
        default=None,
        metavar="S|auto",
        help="excerpt start in seconds, or 'auto' = the window with the most vocal energy "
        "(default 0; with --musdb auto)",
    )
    p.add_argument(
        "--align",
        action="store_true",
        help="shift a lagging vocal into place (otherwise a lag above 5 ms skips the pair)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing outputs that differ")
    p.add_argument(
        "--demo",
        action="store_true",
        help="synthesise the demo songs as source files in data/demo/process/100-window/ "
        "and prepare them into data/demo/rtg/100-window/<name>/",
    )
    p.add_argument(
        "--musdb",
        type=Path,
        metavar="ROOT",
        help="prepare MUSDB18 tracks (HQ wav folders, or .stem.mp4 via musdb + ffmpeg)",
    )
    p.add_argument(
        "--subset", choices=("train", "test"), default="test", help="MUSDB18 subset (default test)"
    )
    p.add_argument(
        "--track",
        action="append",
        metavar="NAME",
        help="with --musdb: only this track (repeatable; default all tracks of the subset)",
    )
    _add_quiet(p, "print only warnings and skipped pairs")
    defaults = Config()
    group = p.add_argument_group("excerpt settings")
    group.add_argument(
        "--sr",
        dest="cfg_sr",
        type=integer,
        default=None,
        metavar="INT",
        help=f"sample rate of the written files (default {defaults.sr})",
    )
    group.add_argument(
        "--duration",
        dest="cfg_duration",
        type=number,
        default=None,
        metavar="NUMBER",
        help=f"excerpt length in seconds (default {defaults.duration})",
    )
    return p


def add_evaluate_parser(sub) -> argparse.ArgumentParser:
    help_ = "Score any vocal estimate (wav/flac/...) against its reference: SI-SDR, BSS Eval v4."
    p = sub.add_parser(
        "evaluate",
        help=help_,
        description=help_,
        epilog=examples(
            "conv2dsep evaluate --estimate other_separator.wav --reference vocal.wav",
            "conv2dsep evaluate --estimate est.flac --reference vocal.wav --mixture mix.wav --json score.json",
            "conv2dsep evaluate --estimate est.wav --reference vocal.wav --no-bss --mono",
        ),
    )
    p.add_argument("--estimate", type=Path, required=True, help="the separated vocal to score")
    p.add_argument("--reference", type=Path, required=True, help="the true isolated vocal")
    p.add_argument("--mixture", type=Path, help="the mixture (adds SI-SDRi, SIR and accompaniment metrics)")
    p.add_argument("--sr", type=integer, help="evaluation rate in Hz (default: the reference's)")
    p.add_argument("--mono", action="store_true", help="downmix all files to mono")
    p.add_argument("--no-bss", action="store_true", help="SI-SDR only (skip BSS Eval v4)")
    p.add_argument("--json", type=Path, help="also write the result as JSON here")
    return p


def add_notebooks_parser(sub) -> argparse.ArgumentParser:
    help_ = "Execute the numbered notebooks (notebooks/NN_*.ipynb) headlessly with papermill."
    p = sub.add_parser(
        "notebooks",
        help=help_,
        description=help_ + " Executed copies go to OUT/notebooks/ (with run.json), each notebook's "
        "artefacts beside them in OUT/. A failing notebook is kept and named; the "
        "next ones still run; exit code 1. ORACLE: the experiments use the true vocal.",
        epilog=examples(
            "conv2dsep notebooks --out outputs/myrun     # 00..08 into outputs/myrun/notebooks/",
            "conv2dsep notebooks --only 03 -p n_slices 5 -p iterations 50 --data-dir data/rtg/100-window",
            "conv2dsep notebooks -f params.yaml --mixture mix.flac --vocal vocal.wav",
        ),
    )
    add_input_arguments(p, pad=False, defaults=False)
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="notebook parameter, parsed as papermill does (True/False/None, int, float, "
        "else text), e.g. -p n_slices 5; repeatable",
    )
    p.add_argument(
        "-f",
        "--parameters-file",
        type=Path,
        metavar="PARAMS.yaml",
        help="YAML mapping of notebook parameters (-p and the input flags override it)",
    )
    p.add_argument(
        "--only",
        action="append",
        metavar="NN",
        help="run only these notebooks: number or name, comma-separated or repeated (e.g. --only 03 --only 05_results)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="run folder OUT (default outputs/<name>/; name: --name, else 'workbook' or 'workbook_<input>')",
    )
    p.add_argument("--name", help="run name for the default OUT")
    p.add_argument("--notebooks-dir", type=Path, default=None, help="default: the project's notebooks/")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3 = this interpreter)")
    p.add_argument(
        "--timeout",
        type=positive_integer,
        default=None,
        metavar="SECONDS",
        help="whole seconds allowed per cell (default: no limit)",
    )
    p.add_argument("--log-output", action="store_true", help="stream the cells' output")
    _add_quiet(p, "print only failures")
    _add_progress(p, "a bar per notebook over its cells")
    return p


def add_sweep_parser(sub) -> argparse.ArgumentParser:
    help_ = "Run the experiment over many tracks x settings and aggregate (sweep.csv, summary, plots)."
    p = sub.add_parser(
        "sweep",
        help=help_,
        description=help_ + " ORACLE: every run of the method uses the true vocal. Runs go to a local "
        "process pool (--workers) or to Dask (--scheduler ADDRESS, --dask-local); each "
        "writes OUT/runs/<track>/<setting>/results.json. A re-run skips finished runs "
        "(same track files, settings and code) and redoes the rest. Exit code 0: all "
        "runs finished; 1: some failed (named on stderr, the sweep went on); 2: user "
        "error (nothing run); 130: interrupted (finished runs are kept).",
        epilog=examples(
            "conv2dsep sweep --tracks 'data/demo/rtg/100-window/*' --track demo_song_0 --track demo_song_1 "
            "--grid sweeps/smoke.yaml --no-bss --out outputs/sweep_smoke   # make demo's smoke test",
            "conv2dsep sweep --musdb ~/data/musdb18hq --grid sweeps/musdb.yaml --out outputs/sweep_musdb "
            "--scheduler tcp://HOST:8786",
            "conv2dsep sweep --tracks 'data/demo/rtg/100-window/*' --grid sweeps/demo.yaml --targets vocals,drums "
            "--out outputs/sweep_demo   # each target against its own stem",
        ),
    )
    g = p.add_argument_group("tracks (one of --tracks, --musdb)")
    g.add_argument(
        "--tracks",
        metavar="GLOB",
        help="prepared folders: a glob such as 'data/demo/rtg/100-window/*' (quote it) or a "
        "`conv2dsep prepare` output folder",
    )
    g.add_argument(
        "--musdb",
        type=Path,
        metavar="ROOT",
        help="a MUSDB18 root (train/, test/): HQ wav folders, or .stem.mp4 via musdb + ffmpeg",
    )
    g.add_argument(
        "--subset", choices=("train", "test"), default="test", help="MUSDB18 subset (default test)"
    )
    g.add_argument("--track", action="append", metavar="NAME", help="only this track (repeatable)")
    s = p.add_argument_group("settings")
    s.add_argument(
        "--grid",
        type=Path,
        metavar="GRID.yaml",
        help="YAML mapping 'parameter: [values]' (config fields such as iterations, learning_rate, "
        "clip_db, strategy, greedy_score, n_points; and n_slices, offset, greedy); every "
        "combination is run (example: sweeps/demo.yaml). Default: one setting",
    )
    s.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a fixed value for every setting, e.g. --set iterations=50 (repeatable)",
    )
    add_excerpts_argument(
        s,
        what="every setting runs on each; the table's excerpt column holds the offset and the "
        "summary is the median over a track's excerpts, then over tracks (not with an offset in the grid)",
    )
    add_targets_argument(s)  # every track x excerpt x setting once per target, each with its baselines
    s.add_argument("--no-bss", action="store_true", help="skip BSS Eval v4 (SI-SDR only; much faster)")
    s.add_argument("--no-baselines", action="store_true", help="skip the baseline runs")
    s.add_argument(
        "--yes",
        action="store_true",
        help="run a sweep of more than 1000 runs (without it a large grid is refused, naming its size)",
    )
    e = p.add_argument_group("execution")
    e.add_argument(
        "--workers",
        type=positive_integer,
        default=None,
        metavar="N",
        help="local worker processes, one BLAS thread each (default: all cores); 1 runs in this "
        "process; with --dask-local the number of Dask workers",
    )
    e.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (tcp://HOST:8786); its workers need the same conv2dsep "
        "code and the tracks and OUT at the same paths",
    )
    e.add_argument("--dask-local", action="store_true", help="run on a fresh local Dask cluster")
    e.add_argument(
        "--notebooks",
        action="store_true",
        help="run the papermill notebook sequence (00..05) per track x setting instead of the "
        "library call (slow; keeps the executed notebooks in each run folder)",
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--out", type=Path, default=Path("outputs/sweep"), help="sweep folder (default outputs/sweep)"
    )
    o.add_argument("--keep-audio", action="store_true", help="also write every run's wavs and figures")
    o.add_argument("--no-plots", action="store_true", help="no summary PNGs")
    _add_quiet(o, "no progress bar or summary (failures are still named)")
    _add_progress(o, "the runs bar")
    return p
