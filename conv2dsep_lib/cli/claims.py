"""``conv2dsep claims``: test the seed's claims on a dataset (:mod:`conv2dsep_lib.sweep.claims`).

A claims study is a sweep (progressive 1..18, greedy by step loss and by SI-SDR, on every
excerpt): it runs on a local process pool, is resumable, and a second run reuses the
finished runs.  ``--targets vocals,drums`` runs it per target and decides the claims per
target ((d), about vocal separation, is not applicable to another target).  Exit codes as ``sweep``: 0 all runs finished, 1 some failed, 2 a user
error (nothing run), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..core.errors import ParameterError
from .options import (
    PROG,
    add_excerpts_argument,
    add_targets_argument,
    examples,
    positive_integer,
    recorded_arguments,
    wants_progress,
)

__all__ = ["add_claims_parser", "cmd_claims"]


def add_claims_parser(sub) -> argparse.ArgumentParser:
    help_ = "Test the seed's four claims on a dataset, with intervals (claims.md, claims.json, figures)."
    p = sub.add_parser(
        "claims",
        help=help_,
        description=help_ + " ORACLE: every run of the method uses the true vocal. Runs progressive "
        "k = 1..18 and the greedy order (by step loss and by SI-SDR) on every excerpt of every track "
        "as a sweep into OUT (resumable: finished runs are reused), then decides each claim -- holds, "
        "does not hold, inconclusive -- by the rule written in claims.md. Default tracks: the demo set.",
        epilog=examples(
            "conv2dsep claims                                   # the 3 demo songs -> outputs/claims/claims.md",
            "conv2dsep claims --musdb ~/data/musdb18hq --subset test --excerpts 3 --out outputs/claims_musdb",
            "conv2dsep claims --tracks 'data/rtg/100-window/*' --excerpts all --converged --targets vocals,drums "
            "--out outputs/claims_mine   # per target",
        ),
    )
    g = p.add_argument_group("tracks (default: the demo set, prepared if needed)")
    g.add_argument("--tracks", metavar="GLOB", help="prepared folders: a glob (quote it) or a prepare output")
    g.add_argument("--musdb", type=Path, metavar="ROOT", help="a MUSDB18 root (HQ wav folders or .stem.mp4)")
    g.add_argument(
        "--subset", choices=("train", "test"), default="test", help="MUSDB18 subset (default test)"
    )
    g.add_argument("--track", action="append", metavar="NAME", help="only this track (repeatable)")
    s = p.add_argument_group("study")
    add_excerpts_argument(
        s, what="each is a repeat; claims use the median over a track's excerpts (default: one at 0 s)"
    )
    s.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a config value for every run, e.g. --set iterations=1000 (converged); not n_slices, greedy, "
        "greedy_score, offset",
    )
    s.add_argument(
        "--bss", action="store_true", help="also BSS Eval v4 (SDR/SIR/SAR; slower; not used by the claims)"
    )
    s.add_argument(
        "--converged",
        action="store_true",
        help="also run progressive 1..18 with converged settings (iterations=1000) into OUT/converged/ "
        "and report convergence's effect on SI-SDR at k = 8",
    )
    add_targets_argument(s)  # the claims decided per target; (d) is about vocals only
    s.add_argument("--yes", action="store_true", help="run more than 1000 runs")
    # a small scale for tests: k = 1..N with k = SEED_K standing for the seed's 8
    s.add_argument("--slices", type=positive_integer, default=18, help=argparse.SUPPRESS)
    s.add_argument("--seed-k", type=positive_integer, default=8, help=argparse.SUPPRESS)
    e = p.add_argument_group("execution and output")
    e.add_argument(
        "--workers",
        type=positive_integer,
        default=None,
        metavar="N",
        help="local worker processes (default: all cores)",
    )
    e.add_argument(
        "--out", type=Path, default=Path("outputs/claims"), help="study folder (default outputs/claims)"
    )
    e.add_argument("--no-plots", action="store_true", help="no PNGs")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    e.add_argument(
        "--progress", action="store_true", help="the runs bar on stderr even when it is not a terminal"
    )
    return p


def cmd_claims(args: argparse.Namespace) -> int:
    """Run the claims study and print the claims table."""
    from ..core.config import MAX_SLICES, check_n_slices
    from ..sweep.claims import run_claims
    from ..sweep.driver import SweepInterrupted
    from ..sweep.excerpts import parse_excerpts
    from ..sweep.grid import parse_set

    if args.tracks is not None and args.musdb is not None:
        raise ParameterError(
            "--tracks and --musdb were both given: allowed one of them (or neither: the demo set)"
        )
    n_slices = check_n_slices(args.slices)
    if n_slices > MAX_SLICES or args.seed_k > n_slices:
        raise ParameterError(f"--seed-k {args.seed_k} is invalid: allowed 1..{n_slices}")
    fixed = parse_set(args.set or [])
    excerpts = None if args.excerpts is None else parse_excerpts(args.excerpts)
    arguments = recorded_arguments(args)
    try:
        res = run_claims(
            args.tracks,
            out=args.out,
            musdb=args.musdb,
            subset=args.subset,
            names=args.track,
            excerpts=excerpts,
            fixed=fixed,
            n_slices=n_slices,
            seed_k=args.seed_k,
            workers=args.workers if args.workers is not None else (os.cpu_count() or 1),
            bss=args.bss,
            plots=not args.no_plots,
            progress=wants_progress(args),
            arguments=arguments,
            yes=args.yes,
            converged=args.converged,
            targets=args.targets,
        )
    except SweepInterrupted as exc:
        c = exc.result.counts
        print(
            f"{PROG}: interrupted: {c.ran + c.cached} of {c.runs} runs finished; the same command completes the rest",
            file=sys.stderr,
        )
        return 130
    sweep = res.sweep
    assert sweep is not None
    for f in sweep.failures:
        print(f"{PROG}: run failed: {f.run}: {f.type}: {f.message} (see {f.file})", file=sys.stderr)
    if not args.quiet:
        several = list(res.targets) != ["vocals"]
        for target, part in res.targets.items():
            r = part.report
            what = f"target {target}, " if several else ""
            stem = "vocal" if target == "vocals" else f"{target} stem"
            print(
                f"\nThe seed's claims on {what}{r.n_tracks} tracks, {r.n_excerpts} excerpts -- ORACLE "
                f"(uses the true {stem}):"
            )
            for row in r.rows:
                print(
                    f"  ({row.id}) {row.verdict:<13} {row.measure}: {row.spread.text(unit=row.unit)}; "
                    f"{row.agree} of {row.total} tracks agree"
                )
            if part.convergence is not None:
                print(f"  {part.convergence.text()}")
        c = sweep.counts
        print(f"{c.runs} runs: {c.ran} ran, {c.cached} cached, {c.failed} failed in {sweep.seconds:.0f} s")
        if res.converged_sweep is not None:
            c = res.converged_sweep.counts
            print(f"converged: {c.runs} runs: {c.ran} ran, {c.cached} cached, {c.failed} failed")
        print(f"report: {res.files.get('claims_md')} (+ {Path(res.files.get('claims_json', '')).name})")
    failed = sweep.counts.failed + (res.converged_sweep.counts.failed if res.converged_sweep else 0)
    if res.converged_sweep is not None:
        for f in res.converged_sweep.failures:
            print(f"{PROG}: run failed: {f.run}: {f.type}: {f.message} (see {f.file})", file=sys.stderr)
    return 1 if failed else 0
