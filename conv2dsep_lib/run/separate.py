"""``conv2dsep separate``: blind separation of a song file with a trained model (BLIND).

Writes, into a folder that appears complete or not at all::

    vocals_blind.wav  accompaniment_blind.wav      mono, the model's rate
    separation_blind.png                           mixture / vocals / accompaniment spectrograms
    separation.json                                kind "blind", the model, its record's summary,
                                                   the real-time factor

Nothing here sees a true vocal: the model reads the mixture only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import numpy as np

from ..core.errors import ParameterError
from ..core.files import PathLike, check_writable_folder, is_inside, staging_folder, write_json
from ..learned import SHIPPED_MODEL
from ..method.transforms import stft
from ..sources.audio import load_audio, write_wav
from ..viz.learned import save_separation_figure

__all__ = ["BLIND_NOTE", "SeparationResult", "resolve_device", "separate_file"]

BLIND_NOTE = "BLIND: separated from the mixture alone by a learned model; no true vocal was used."


@dataclass(frozen=True)
class SeparationResult:
    """Where a blind separation went and what it cost."""

    folder: Path
    seconds_audio: float
    seconds: float
    real_time_factor: float
    device: str


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cpu`` / ``cuda`` as given."""
    if device not in ("auto", "cpu", "cuda"):
        raise ParameterError(f"device {device!r} is unknown: allowed auto, cpu, cuda")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device 'cuda' was asked for but torch sees no GPU: allowed auto or cpu here")
    return device


def separate_file(
    mixture: PathLike,
    out_dir: PathLike,
    *,
    model_path: Optional[PathLike] = None,
    device: str = "auto",
    chunk_seconds: Optional[float] = None,
    plots: bool = True,
    on_chunk: Optional[Callable[[int, int], None]] = None,
) -> SeparationResult:
    """Separate *mixture* blind into *out_dir* (see the module docstring) with the model at
    *model_path* (default: the shipped one, :data:`conv2dsep_lib.learned.SHIPPED_MODEL`).

    Checked before any work: the model file, the device, that *out_dir* can be written and
    does not hold the input.
    """
    from ..learned.infer import CHUNK_SECONDS, separate_signal
    from ..learned.store import load_model

    src = Path(mixture)
    if not src.is_file():
        raise ParameterError(f"mixture {str(src)!r} does not exist or is not a file")
    out = Path(out_dir)
    check_writable_folder(out.parent if out.parent != Path("") else Path("."), name="--out")
    if is_inside(src, out):
        raise ParameterError(
            f"the input {str(src)!r} is inside {str(out)!r}, the folder this run replaces: allowed another --out"
        )
    model_path = Path(model_path) if model_path is not None else SHIPPED_MODEL
    dev = resolve_device(device)
    stored = load_model(model_path, device=dev)
    config = stored.stft
    y = load_audio(src, sr=config.sr, mono=True)
    sep = separate_signal(
        stored.model,
        y,
        config=config,
        chunk_seconds=chunk_seconds or CHUNK_SECONDS,
        device=dev,
        on_chunk=on_chunk,
    )
    with staging_folder(out) as tmp:
        write_wav(tmp / "vocals_blind.wav", sep.vocals, config.sr)
        write_wav(tmp / "accompaniment_blind.wav", sep.accompaniment, config.sr)
        if plots:
            save_separation_figure(
                {
                    name: np.abs(stft(a, config=config))
                    for name, a in (
                        ("mixture", y),
                        ("vocals", sep.vocals),
                        ("accompaniment", sep.accompaniment),
                    )
                },
                tmp / "separation_blind.png",
                config=config,
                title=f"BLIND separation of {src.name} (model {model_path.name})",
            )
        record: Dict[str, Any] = stored.record
        write_json(
            tmp / "separation.json",
            {
                "kind": "blind",
                "note": BLIND_NOTE,
                "mixture": str(src),
                "model": str(model_path),
                "model_parameters": stored.model.n_parameters(),
                "model_final_validation": record.get("history", {}).get("validation", [None])[-1]
                if record.get("history", {}).get("validation")
                else None,
                "sr": config.sr,
                "seconds_audio": len(y) / config.sr,
                "seconds": sep.seconds,
                "real_time_factor": sep.real_time_factor,
                "device": dev,
                "files": {"vocals": "vocals_blind.wav", "accompaniment": "accompaniment_blind.wav"},
            },
        )
    return SeparationResult(out, len(y) / config.sr, sep.seconds, sep.real_time_factor, dev)
