"""The method's STFT in torch (``torch.stft``; no torchaudio), for training batches.

:func:`magnitudes` equals ``abs(conv2dsep_lib.method.transforms.stft(y))`` to float32
rounding: a periodic Hann window, ``center=True`` with zero padding.
"""

from __future__ import annotations

import torch

from ..core.config import Config

__all__ = ["stft", "magnitudes"]


def stft(y: torch.Tensor, *, config: Config) -> torch.Tensor:
    """Complex STFT [B, n_fft // 2 + 1, 1 + n // hop] of signals [B, n] (float32)."""
    window = torch.hann_window(config.n_fft, periodic=True, dtype=y.dtype, device=y.device)
    return torch.stft(
        y,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )


def magnitudes(y: torch.Tensor, *, config: Config) -> torch.Tensor:
    """``|stft(y)|`` [B, n_bins, T]."""
    return torch.abs(stft(y, config=config))
