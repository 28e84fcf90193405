"""The method's STFT in torch (``torch.stft``; no torchaudio), for training batches.

:func:`magnitudes` equals ``abs(conv2dsep_lib.method.transforms.stft(y))`` to float32
rounding: a periodic Hann window, ``center=True`` with zero padding.
"""

from __future__ import annotations

import torch

from ..core.config import Config

__all__ = ["stft", "istft", "magnitudes"]


def _window(config: Config, like: torch.Tensor) -> torch.Tensor:
    return torch.hann_window(config.n_fft, periodic=True, dtype=like.dtype, device=like.device)


def stft(y: torch.Tensor, *, config: Config) -> torch.Tensor:
    """Complex STFT [B, n_fft // 2 + 1, 1 + n // hop] of signals [B, n] (float32)."""
    return torch.stft(
        y,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        window=_window(config, y),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )


def istft(X: torch.Tensor, *, config: Config, length: int) -> torch.Tensor:
    """Signals [B, length] of complex STFTs [B, n_bins, T] (the inverse of :func:`stft`)."""
    window = _window(config, torch.zeros((), dtype=X.real.dtype, device=X.device))
    return torch.istft(
        X, n_fft=config.n_fft, hop_length=config.hop_length, window=window, center=True, length=length
    )


def magnitudes(y: torch.Tensor, *, config: Config) -> torch.Tensor:
    """``|stft(y)|`` [B, n_bins, T]."""
    return torch.abs(stft(y, config=config))
