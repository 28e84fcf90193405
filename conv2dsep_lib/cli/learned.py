"""``conv2dsep train`` and ``conv2dsep separate``: the learned, BLIND model.

torch is imported inside the commands only (``conv2dsep --help`` stays fast).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.config import Config
from ..core.errors import ParameterError
from .options import PROG, _add_quiet, examples, integer, number, recorded_arguments

__all__ = ["add_train_parser", "cmd_train", "add_separate_parser", "cmd_separate"]


def add_train_parser(sub) -> argparse.ArgumentParser:
    help_ = "Train the learned Conv2D EQ model (BLIND: it will separate from the mixture alone)."
    p = sub.add_parser(
        "train",
        help=help_,
        description=help_ + " Material: the built-in sources (synthetic songs and CC voices sung over CC "
        "instrumentals; default), --musdb ROOT (the standard train/validation split) or --tracks GLOB. "
        "Writes OUT/checkpoint.pt (a killed run resumes from it), OUT/model.pt, OUT/training.json and "
        "OUT/training.png.",
        epilog=examples(
            "conv2dsep train --out outputs/train                      # built-in sources",
            "conv2dsep train --musdb ~/data/musdb18hq --steps 20000 --out outputs/train_musdb",
            "conv2dsep train --tracks 'data/rtg/musdb18/train/*' --out outputs/train_mine",
        ),
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--musdb", type=Path, default=None, help="a MUSDB18 root (its train subset, standard split)"
    )
    src.add_argument("--tracks", default=None, help="a glob of prepared folders or stem folders")
    p.add_argument(
        "--out", type=Path, default=Path("outputs/train"), help="run folder (default outputs/train)"
    )
    p.add_argument("--steps", type=integer, default=2000, help="optimiser steps (default 2000)")
    p.add_argument("--batch-size", type=integer, default=8, help="excerpts per step (default 8)")
    p.add_argument("--excerpt-seconds", type=number, default=3.0, help="excerpt length (default 3 s)")
    p.add_argument("--learning-rate", type=number, default=2e-3, help="Adam step size (default 0.002)")
    p.add_argument("--examples", type=integer, default=160, help="built-in training examples (default 160)")
    p.add_argument(
        "--example-seconds", type=number, default=6.0, help="length of each built-in example (6 s)"
    )
    p.add_argument("--validation", type=integer, default=12, help="built-in validation examples (default 12)")
    p.add_argument("--validate-every", type=integer, default=100, help="steps between validations (100)")
    p.add_argument("--seed", type=integer, default=0, help="seed of the data and the initial weights")
    p.add_argument(
        "--widths", default="16,32,64", help="U-Net channels of its three levels (default 16,32,64)"
    )
    p.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu or cuda")
    _add_quiet(p, "no progress bar")
    return p


def _widths(text: str):
    try:
        w = tuple(int(x) for x in text.split(","))
    except ValueError:
        w = ()
    if len(w) != 3 or any(x < 1 or x > 512 for x in w):
        raise ParameterError(f"--widths {text!r} is invalid: allowed three integers 1..512, e.g. 16,32,64")
    return w


def cmd_train(args: argparse.Namespace) -> int:
    """``train``: material, then the loop (resumable), then the record."""
    from ..core.files import check_writable_folder
    from ..learned.model import ModelConfig
    from ..learned.training import TrainConfig
    from ..run.separate import resolve_device
    from ..run.training import (
        built_in_material,
        folder_material,
        material_summary,
        musdb_material,
        train_model,
    )

    config = Config()
    tc = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        excerpt_seconds=args.excerpt_seconds,
        learning_rate=args.learning_rate,
        validate_every=args.validate_every,
        seed=args.seed,
        model=ModelConfig(widths=_widths(args.widths), clip_db=config.clip_db),
    )
    check_writable_folder(args.out.parent if str(args.out.parent) else Path("."), name="--out")
    device = resolve_device(args.device)
    if args.musdb is not None:
        material = musdb_material(args.musdb, config=config, seed=args.seed)
    elif args.tracks is not None:
        material = folder_material(args.tracks, config=config, seed=args.seed)
    else:
        material = built_in_material(
            n_train=args.examples,
            n_validation=args.validation,
            seconds=args.example_seconds,
            seed=args.seed,
            config=config,
        )
    if not args.quiet:
        print(f"{PROG}: training on {material_summary(material, sr=config.sr)} ({device})", file=sys.stderr)
    path = train_model(
        material,
        out_dir=args.out,
        config=config,
        train_config=tc,
        progress=not args.quiet,
        device=device,
        arguments=recorded_arguments(args),
    )
    if not args.quiet:
        print(f"wrote {path} (BLIND model), {args.out / 'training.json'}, {args.out / 'training.png'}")
    return 0


def add_separate_parser(sub) -> argparse.ArgumentParser:
    help_ = "Separate a song blind with a learned model (vocals and accompaniment WAVs, labelled BLIND)."
    p = sub.add_parser(
        "separate",
        help=help_,
        description=help_
        + " Any length (chunked with overlap-add, bounded memory); prints the real-time factor.",
        epilog=examples(
            "conv2dsep separate --mixture song.wav                   # the shipped model -> outputs/separate/song/",
            "conv2dsep separate --mixture song.flac --model outputs/train/model.pt --out outputs/sep",
        ),
    )
    p.add_argument("--mixture", type=Path, required=True, help="the song (any format soundfile reads)")
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a model.pt (default: the shipped conv2dsep_lib/learned/shipped/vocals.pt)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="output folder (default outputs/separate/<song name>/)"
    )
    p.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu or cuda")
    p.add_argument("--chunk-seconds", type=number, default=None, help="chunk length (default 10 s)")
    p.add_argument("--no-plots", action="store_true", help="skip the spectrogram figure")
    _add_quiet(p, "no summary")
    return p


def cmd_separate(args: argparse.Namespace) -> int:
    """``separate``: the blind model on one file."""
    from ..run.separate import separate_file

    out = args.out if args.out is not None else Path("outputs") / "separate" / args.mixture.stem
    result = separate_file(
        args.mixture,
        out,
        model_path=args.model,
        device=args.device,
        chunk_seconds=args.chunk_seconds,
        plots=not args.no_plots,
    )
    if not args.quiet:
        print(
            f"BLIND separation of {args.mixture} ({result.seconds_audio:.1f} s of audio) in {result.seconds:.2f} s "
            f"on {result.device}: real-time factor {result.real_time_factor:.4f}"
        )
        print(f"wrote {result.folder}/vocals_blind.wav, accompaniment_blind.wav, separation.json")
    return 0
