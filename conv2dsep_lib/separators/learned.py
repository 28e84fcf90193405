"""The learned model as a separator (BLIND: it sees the mixture only).

:func:`learned_vocals` separates with the model that ships with the package
(:data:`conv2dsep_lib.learned.SHIPPED_MODEL`, trained by ``make model``); torch and the
model are loaded on first use, once per process.  Its signature takes the mixture and nothing
else -- the registry checks that a blind separator cannot receive the reference.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..core.threads import forked_after_torch, run_threads
from ..learned import SHIPPED_MODEL
from ..sources.audio import resample
from .base import Mixture

__all__ = ["learned_vocals", "shipped_model"]


@lru_cache(maxsize=1)
def shipped_model() -> Any:
    """The shipped model (:class:`~conv2dsep_lib.learned.store.StoredModel`), loaded once."""
    from ..learned.store import load_model

    return load_model(SHIPPED_MODEL)


def _set_threads(n: int) -> None:
    """torch's thread count: *n*, or one in a fork of a process that had torch loaded."""
    import torch

    n = 1 if forked_after_torch() else n
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def learned_vocals(mixture: Mixture) -> np.ndarray:
    """The learned model's vocal estimate [shape=(n,)], float32, from the mixture alone.

    A run computes it on its helper lane while the method lane keeps one core busy, so torch
    gets the cores that lane leaves (one of two): with both, its OpenMP threads wait at
    barriers for a core the other lane holds -- on a 3-minute song that was 3x slower.
    In a fork of a process that had torch loaded, one thread (see ``forked_after_torch``).
    """
    from ..learned.infer import separate_signal

    _set_threads(max(1, run_threads() - 1))  # before any torch work here
    stored = shipped_model()
    y = np.asarray(mixture.audio, dtype=np.float32)
    sr = mixture.config.sr
    if sr != stored.stft.sr:
        y = resample(y, sr, stored.stft.sr)
    vocals = separate_signal(stored.model, y, config=stored.stft).vocals
    if sr != stored.stft.sr:
        vocals = resample(vocals, stored.stft.sr, sr)
        vocals = np.pad(vocals, (0, max(0, len(mixture.audio) - len(vocals))))[: len(mixture.audio)]
    return vocals.astype(np.float32)
