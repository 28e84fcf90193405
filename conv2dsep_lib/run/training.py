"""``conv2dsep train``: the material, the training loop, the training record beside the weights.

Training material (mono ``(mixture, vocal)`` pairs at the config's rate), by source:

* **built-in** (a machine with no dataset): :func:`conv2dsep_lib.sources.training_material.make_examples`
  -- synthetic songs from the demo synthesiser and a richer singer, and real CC-BY voices
  turned into sung phrases over real CC instrumentals and synthetic bands; the held-out
  speaker, instrumentals and song seeds are never drawn (``split="train"``); validation uses
  the same kinds from their own seeds;
* **MUSDB18** (``musdb=ROOT``): the standard split -- the train subset minus the 14
  validation tracks for training, those 14 for validation (the list in the ``musdb``
  package's ``mus.yaml``), a few random excerpts per track;
* **folders** (``tracks=GLOB``): prepared pairs or stem folders (:func:`open_dataset`).

The run folder gets ``checkpoint.pt`` (resumable), ``model.pt`` (the weights with their
record), ``training.json`` (config, data manifest, git commit, loss and validation curves) and
``training.png``.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, write_json
from ..core.provenance import git_output, library_versions
from ..sources.datasets import open_dataset, open_musdb
from ..sources.training_material import make_examples
from ..viz.learned import save_training_figure

__all__ = [
    "Material",
    "built_in_material",
    "musdb_material",
    "folder_material",
    "train_model",
    "material_summary",
    "musdb_validation_tracks",
]

Pair = Tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Material:
    """Training and validation pairs and a JSON-able description of what went in."""

    train: List[Pair]
    validation: List[Pair]
    manifest: Dict[str, Any]


def built_in_material(
    *, n_train: int, n_validation: int, seconds: float, seed: int = 0, config: Config
) -> Material:
    """The built-in sources (no dataset needed): see the module docstring."""
    train = make_examples(split="train", n=n_train, seconds=seconds, sr=config.sr, seed=seed)
    # validation: new excerpts of the training split (other seeds); the held-out set stays unseen
    valid = make_examples(split="train", n=n_validation, seconds=seconds, sr=config.sr, seed=seed + 10_000)
    return Material(
        train=[(e.mixture, e.vocal) for e in train],
        validation=[(e.mixture, e.vocal) for e in valid],
        manifest={
            "source": "built-in",
            "train": [e.info for e in train],
            "validation": [e.info for e in valid],
        },
    )


def musdb_validation_tracks() -> Tuple[str, ...]:
    """MUSDB18's standard validation tracks (from the installed ``musdb`` package's ``mus.yaml``,
    read without importing it: its import needs ffmpeg)."""
    import yaml

    spec = importlib.util.find_spec("musdb")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError(
            "the musdb package is not installed: allowed pip install musdb (it lists the split)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "configs" / "mus.yaml"
    return tuple(yaml.safe_load(path.read_text())["validation_tracks"])


def _excerpts(mixture: np.ndarray, vocal: np.ndarray, *, n: int, count: int, rng) -> List[Pair]:
    if len(mixture) <= n:
        return [(mixture, vocal)]
    starts = sorted(int(s) for s in rng.integers(0, len(mixture) - n, size=count))
    return [(mixture[s : s + n].copy(), vocal[s : s + n].copy()) for s in starts]


def musdb_material(
    root: PathLike, *, config: Config, seconds: float = 10.0, per_track: int = 4, seed: int = 0
) -> Material:
    """MUSDB18's train subset, split into train / validation by the standard list."""
    ds = open_musdb(root, subset="train", config=config)
    valid_names = set(musdb_validation_tracks())
    rng = np.random.default_rng(seed)
    n = int(seconds * config.sr)
    train: List[Pair] = []
    valid: List[Pair] = []
    for name in ds.tracks:
        stems = ds.load_stems(name, mono=True)
        pairs = _excerpts(stems.mixture, stems.vocal, n=n, count=per_track, rng=rng)
        (valid if name in valid_names else train).extend(pairs[:1] if name in valid_names else pairs)
    if not train or not valid:
        raise ParameterError(
            f"MUSDB18 root {str(root)!r} gave {len(train)} training and {len(valid)} validation excerpts: "
            "allowed the train subset with the standard validation tracks"
        )
    return Material(
        train=train,
        validation=valid,
        manifest={
            "source": "musdb18",
            "root": str(root),
            "tracks": list(ds.tracks),
            "validation": sorted(valid_names),
        },
    )


def folder_material(
    pattern: str, *, config: Config, seconds: float = 10.0, per_track: int = 4, seed: int = 0
) -> Material:
    """Prepared pairs or stem folders matched by *pattern*; every fifth track validates."""
    ds = open_dataset(pattern, config=config)
    rng = np.random.default_rng(seed)
    n = int(seconds * config.sr)
    train: List[Pair] = []
    valid: List[Pair] = []
    names = list(ds.tracks)
    for i, name in enumerate(names):
        stems = ds.load_stems(name, mono=True)
        pairs = _excerpts(stems.mixture, stems.vocal, n=n, count=per_track, rng=rng)
        (valid if len(names) > 1 and i % 5 == 4 else train).extend(pairs)
    if not valid:
        valid = train[-1:]
    return Material(
        train=train, validation=valid, manifest={"source": "folders", "pattern": pattern, "tracks": names}
    )


def train_model(
    material: Material,
    *,
    out_dir: PathLike,
    config: Config,
    train_config: Any,
    progress: bool = True,
    device: str = "cpu",
    arguments: Optional[Dict[str, Any]] = None,
) -> Path:
    """Train on *material* into *out_dir* (resuming a checkpoint there); returns ``model.pt``'s path.

    Writes ``training.json`` (the record) and ``training.png`` (the curves) beside the weights.
    """
    from ..learned.training import MODEL_NAME, ExamplePool, train

    out = Path(out_dir)
    record = {
        "kind": "blind",
        "note": "BLIND: the model sees the mixture only; the true vocal is used for training and scoring only.",
        "config": {"sr": config.sr, "n_fft": config.n_fft, "hop_length": config.hop_length},
        "train_config": train_config.to_dict(),
        "data": material.manifest,
        "n_train": len(material.train),
        "n_validation": len(material.validation),
        "git_commit": git_output("rev-parse", "HEAD") or None,
        "versions": library_versions(),
        "arguments": dict(arguments or {}),
    }
    bar = _bar(train_config.steps, progress)
    last: Dict[str, Optional[float]] = {"si_sdr": None}

    def on_step(step: int, loss: float, scores: Optional[Dict[str, float]]) -> None:
        if scores is not None:
            last["si_sdr"] = scores["si_sdr"]
        if bar is not None:
            bar.n = step
            si = last["si_sdr"]
            bar.set_postfix_str(
                f"loss {loss:.4f}" + ("" if si is None else f", val SI-SDR {si:.2f} dB"), refresh=False
            )
            bar.refresh()

    t0 = time.perf_counter()
    try:
        model, history = train(
            ExamplePool(material.train),
            material.validation,
            config=config,
            train_config=train_config,
            run_dir=out,
            record=record,
            on_step=on_step,
            device=device,
        )
    finally:
        if bar is not None:
            bar.close()
    record.update(
        {
            "parameters": model.n_parameters(),
            "history": history.to_dict(),
            "wall_seconds_this_run": time.perf_counter() - t0,
            "final_validation": history.validation[-1] if history.validation else None,
        }
    )
    write_json(out / "training.json", record)
    save_training_figure(history, out / "training.png")
    return out / MODEL_NAME


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="training", unit="step", dynamic_ncols=True)


def material_summary(material: Material, *, sr: int) -> str:
    """One line: how much audio went in."""
    seconds = sum(len(m) for m, _ in material.train) / sr
    return f"{len(material.train)} training excerpts ({seconds:.0f} s), {len(material.validation)} validation"
