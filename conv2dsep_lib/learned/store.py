"""Saving and loading a trained model: weights, shape, STFT settings and its training record.

A model file (``model.pt``) is a ``torch.save`` of plain data -- read back with
``weights_only=True``, so loading one runs no code from the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_path
from .model import EQNet, ModelConfig

__all__ = ["MODEL_FORMAT", "StoredModel", "save_model", "load_model", "atomic_torch_save"]

#: ``model.pt["format"]``.
MODEL_FORMAT = "conv2dsep-eqnet-1"


@dataclass(frozen=True)
class StoredModel:
    """A loaded model: the network (eval mode), the STFT it was trained with, its record.

    Attributes
    ----------
    model : EQNet
    stft : Config
        ``sr``, ``n_fft``, ``hop_length`` (and ``clip_db``) the model expects.
    record : dict
        The training record saved with it (config, data manifest, commit, curves).
    path : Path
    """

    model: EQNet
    stft: Config
    record: Dict[str, Any]
    path: Path


def atomic_torch_save(obj: Any, path: PathLike) -> Path:
    """``torch.save`` through :func:`~conv2dsep_lib.core.files.atomic_path` (never half-written)."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def save_model(
    path: PathLike, model: EQNet, *, stft: Config, record: Optional[Dict[str, Any]] = None
) -> Path:
    """Write *model* (its weights and shape), the STFT settings and *record* to *path*."""
    return atomic_torch_save(
        {
            "format": MODEL_FORMAT,
            "model_config": model.config.to_dict(),
            "stft": {"sr": stft.sr, "n_fft": stft.n_fft, "hop_length": stft.hop_length},
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "record": dict(record or {}),
        },
        path,
    )


def load_model(path: PathLike, *, device: str = "cpu") -> StoredModel:
    """Read a model file written by :func:`save_model`.

    Raises
    ------
    ParameterError
        Missing, unreadable, or not a conv2dsep model.
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError(
            f"model {str(p)!r} does not exist: allowed a model.pt written by `conv2dsep train`"
        )
    try:
        data = torch.load(p, map_location=device, weights_only=True)
    except Exception as exc:  # a corrupt or foreign file
        raise ParameterError(f"model {str(p)!r} could not be read: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ParameterError(f"model {str(p)!r} is not a conv2dsep model (format {MODEL_FORMAT})")
    config = ModelConfig.from_dict(data["model_config"])
    model = EQNet(config)
    model.load_state_dict(data["state_dict"])
    # channels-last weights: oneDNN's convolutions run ~25 % faster on a CPU (the outputs move
    # by a few parts in a million: float32 sums in another order, ~1e-5 dB)
    model.to(device, memory_format=torch.channels_last).eval()
    stft = Config(**data["stft"], clip_db=config.clip_db)
    return StoredModel(model=model, stft=stft, record=dict(data.get("record") or {}), path=p)
