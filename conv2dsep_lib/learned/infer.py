"""Blind separation of a song of any length with a trained model (BLIND: the mixture only).

The song is cut into chunks of ``chunk_seconds`` that overlap by ``overlap_seconds``; each chunk
is separated on its own (STFT, the model's EQ, the mixture's phase, inverse STFT) and the
chunks are joined by overlap-add with linear cross-fades, so memory is bounded by the chunk,
not the song.  The accompaniment is the mixture minus the vocal estimate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Tuple

import numpy as np
import torch

from ..core.config import Config
from ..core.errors import ParameterError
from ..method.transforms import istft_magnitude_phase, stft, unit_phase
from .model import EQNet

__all__ = ["CHUNK_SECONDS", "OVERLAP_SECONDS", "Separation", "separate_chunk", "separate_signal", "chunks"]

#: Chunk length and overlap of :func:`separate_signal` (seconds).
CHUNK_SECONDS = 10.0
OVERLAP_SECONDS = 1.0


@dataclass(frozen=True)
class Separation:
    """A blind separation: vocals and accompaniment [shape=(n,)], float32, and its cost.

    ``real_time_factor`` is the separation's wall-clock time divided by the audio's length.
    """

    vocals: np.ndarray
    accompaniment: np.ndarray
    sr: int
    seconds: float
    real_time_factor: float


def separate_chunk(model: EQNet, mixture: np.ndarray, *, config: Config, device: str = "cpu") -> np.ndarray:
    """The vocal estimate [shape=(n,)] of one mono chunk (float32)."""
    X = stft(mixture, config=config)
    with torch.no_grad():
        mag = model(torch.from_numpy(np.abs(X)).to(device)[None])[0].cpu().numpy()
    return istft_magnitude_phase(mag, unit_phase(X), config=config, length=len(mixture))


def chunks(n: int, *, sr: int, chunk_seconds: float, overlap_seconds: float) -> Iterator[Tuple[int, int]]:
    """``(start, stop)`` sample ranges covering ``0..n``, consecutive ones overlapping."""
    size = max(int(chunk_seconds * sr), 1)
    overlap = min(int(overlap_seconds * sr), size // 2)
    step = size - overlap
    start = 0
    while True:
        stop = min(start + size, n)
        yield start, stop
        if stop >= n:
            return
        start += step


def separate_signal(
    model: EQNet,
    mixture: np.ndarray,
    *,
    config: Config,
    chunk_seconds: float = CHUNK_SECONDS,
    overlap_seconds: float = OVERLAP_SECONDS,
    device: str = "cpu",
    on_chunk: Optional[Callable[[int, int], None]] = None,
) -> Separation:
    """Separate a mono mixture [shape=(n,)] at ``config.sr`` blind, chunk by chunk.

    Parameters
    ----------
    model : EQNet
    mixture : np.ndarray [shape=(n,)]
    config : Config
        The model's STFT settings.
    chunk_seconds, overlap_seconds : float
    device : str
    on_chunk : callable, optional
        ``on_chunk(done_samples, n)`` after each chunk (a progress bar).

    Returns
    -------
    Separation
    """
    mixture = np.asarray(mixture, dtype=np.float32)
    if mixture.ndim != 1 or mixture.size == 0:
        raise ParameterError(f"mixture has shape {mixture.shape}: allowed a non-empty mono signal (n,)")
    if chunk_seconds <= 2 * overlap_seconds:
        raise ParameterError(
            f"chunk_seconds={chunk_seconds!r} is too short for overlap_seconds={overlap_seconds!r}: "
            "allowed chunks longer than twice the overlap"
        )
    t0 = time.perf_counter()
    n = mixture.size
    vocals = np.zeros(n, dtype=np.float32)
    weight = np.zeros(n, dtype=np.float32)
    overlap = int(overlap_seconds * config.sr)
    for start, stop in chunks(n, sr=config.sr, chunk_seconds=chunk_seconds, overlap_seconds=overlap_seconds):
        part = separate_chunk(model, mixture[start:stop], config=config, device=device)
        w = np.ones(stop - start, dtype=np.float32)
        ramp = min(overlap, (stop - start) // 2)
        if ramp > 0:
            fade = np.linspace(0.0, 1.0, ramp + 2, dtype=np.float32)[1:-1]
            if start > 0:
                w[:ramp] = fade
            if stop < n:
                w[-ramp:] = fade[::-1]
        vocals[start:stop] += part * w
        weight[start:stop] += w
        if on_chunk is not None:
            on_chunk(stop, n)
    vocals /= np.maximum(weight, 1e-8)
    seconds = time.perf_counter() - t0
    return Separation(
        vocals=vocals,
        accompaniment=(mixture - vocals).astype(np.float32),
        sr=config.sr,
        seconds=seconds,
        real_time_factor=seconds / (n / config.sr),
    )
