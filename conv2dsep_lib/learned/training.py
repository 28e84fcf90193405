"""The training loop: batches of (mixture, vocal) excerpts, L1 on magnitude, checkpoints.

:func:`train` fits an :class:`~.model.EQNet` on an :class:`ExamplePool` (any list of mono
``(mixture, vocal)`` pairs at the config's rate: the built-in sources, MUSDB18, your folders).
Each step draws a batch of random excerpts with random vocal gains, and with probability
``remix`` puts one track's vocal over another track's accompaniment; the loss is the mean
absolute difference between the predicted and the true vocal magnitude (as the prototype,
on magnitudes normalised to the mixture's RMS).  Every ``validate_every`` steps the model
separates a fixed validation set blind and its SI-SDR is recorded.

A checkpoint (model, optimiser, data RNG, history) is written atomically every
``checkpoint_every`` steps; :func:`train` called again on the same folder resumes from it, so a
killed run continues where it stopped and ends with the same number of steps (the data RNG is
restored too: the batches after a resume are those the killed run would have drawn).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike
from ..scoring.metrics import si_sdr
from .model import EQNet, ModelConfig
from .spectral import istft, stft
from .store import atomic_torch_save, save_model

__all__ = ["TrainConfig", "ExamplePool", "History", "train", "CHECKPOINT_NAME", "MODEL_NAME"]

CHECKPOINT_NAME = "checkpoint.pt"
MODEL_NAME = "model.pt"
#: Every excerpt is scaled to this RMS before the STFT (the model sees one level).
TARGET_RMS = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """How to train (saved with the checkpoint; a resume must use the same).

    Attributes
    ----------
    steps : int
        Optimiser steps in all.
    batch_size : int
    excerpt_seconds : float
        Length of each training excerpt.
    learning_rate : float
        Adam's step size.
    remix : float
        Probability that an example takes its accompaniment from another track.
    gain_db : float
        Vocal gains are drawn uniformly in +-``gain_db`` (relative to the accompaniment).
    validate_every, checkpoint_every : int
    seed : int
    model : ModelConfig
    """

    steps: int = 2000
    batch_size: int = 8
    excerpt_seconds: float = 3.0
    learning_rate: float = 2e-3
    remix: float = 0.5
    gain_db: float = 6.0
    validate_every: int = 100
    checkpoint_every: int = 50
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "validate_every", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name}={value!r} is invalid: allowed an integer >= 1")
        if not (0.5 <= self.excerpt_seconds <= 60):
            raise ParameterError(f"excerpt_seconds={self.excerpt_seconds!r} is out of range: allowed 0.5..60")
        if not (0.0 < self.learning_rate < 1.0):
            raise ParameterError(f"learning_rate={self.learning_rate!r} is out of range: allowed 0..1")

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TrainConfig":
        d = dict(d)
        d["model"] = ModelConfig.from_dict(d["model"])
        return cls(**d)


class ExamplePool:
    """Mono ``(mixture, vocal)`` pairs to draw training batches from.

    Parameters
    ----------
    pairs : sequence of (np.ndarray [shape=(n,)], np.ndarray [shape=(n,)])
        Mixture and true vocal, same length, at the config's rate.
    """

    def __init__(self, pairs: Sequence[Tuple[np.ndarray, np.ndarray]]):
        if not pairs:
            raise ParameterError("no training examples: allowed at least one (mixture, vocal) pair")
        self.vocals = [np.asarray(v, dtype=np.float32) for _, v in pairs]
        self.accompaniments = [np.asarray(m, dtype=np.float32) - v for (m, _), v in zip(pairs, self.vocals)]
        self.lengths = np.array([len(v) for v in self.vocals])

    def __len__(self) -> int:
        return len(self.vocals)

    def batch(self, rng: np.random.Generator, *, size: int, n: int, remix: float, gain_db: float):
        """A batch: mixtures and vocals [size, n], float32, each mixture at :data:`TARGET_RMS`."""
        mixes, vocals = np.zeros((size, n), np.float32), np.zeros((size, n), np.float32)
        for b in range(size):
            i = int(rng.integers(len(self)))
            j = int(rng.integers(len(self))) if rng.random() < remix else i
            v, a = _crop(self.vocals[i], n, rng), _crop(self.accompaniments[j], n, rng)
            g = 10.0 ** (rng.uniform(-gain_db, gain_db) / 20.0)
            v = v * g * _rms(a) / max(_rms(v), 1e-8) if _rms(a) > 0 else v
            m = v + a
            scale = TARGET_RMS / max(_rms(m), 1e-8)
            mixes[b], vocals[b] = m * scale, v * scale
        return mixes, vocals


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _crop(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(x) <= n:
        return np.pad(x, (0, n - len(x)))
    start = int(rng.integers(len(x) - n + 1))
    return x[start : start + n]


@dataclass
class History:
    """What a training run measured (saved in the checkpoint and the training record).

    Attributes
    ----------
    losses : list of float
        The loss of every step (L1 on magnitude).
    validation : list of dict
        ``{"step", "si_sdr", "si_sdr_i"}``: mean blind SI-SDR over the validation set and its
        mean improvement over the mixture, every ``validate_every`` steps.
    seconds : float
        Training time so far (over resumes).
    resumed_at : list of int
        The steps a killed run was resumed from.
    """

    losses: List[float] = field(default_factory=list)
    validation: List[Dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    resumed_at: List[int] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def separate_batch(model: EQNet, mixtures: torch.Tensor, *, config: Config) -> torch.Tensor:
    """Blind vocal estimates [B, n] of mixtures [B, n]: the predicted magnitude with the
    mixture's phase, inverted (``torch.istft``)."""
    X = stft(mixtures, config=config)
    mag = model(torch.abs(X))
    Y = mag * torch.exp(1j * torch.angle(X))
    return istft(Y, config=config, length=mixtures.shape[-1])


def validate(
    model: EQNet, examples: Sequence[Tuple[np.ndarray, np.ndarray]], *, config: Config
) -> Dict[str, float]:
    """Mean blind SI-SDR (and its improvement over the mixture) over *examples*."""
    model.eval()
    values, gains = [], []
    with torch.no_grad():
        for mixture, vocal in examples:
            est = separate_batch(
                model, torch.from_numpy(np.asarray(mixture, np.float32))[None], config=config
            )[0]
            s = si_sdr(vocal, est.numpy())
            values.append(s)
            gains.append(s - si_sdr(vocal, mixture))
    model.train()
    return {"si_sdr": float(np.mean(values)), "si_sdr_i": float(np.mean(gains))}


def train(
    pool: ExamplePool,
    validation: Sequence[Tuple[np.ndarray, np.ndarray]],
    *,
    config: Config,
    train_config: TrainConfig,
    run_dir: PathLike,
    record: Optional[Dict[str, Any]] = None,
    on_step: Optional[Callable[[int, float, Optional[Dict[str, float]]], None]] = None,
    device: str = "cpu",
) -> Tuple[EQNet, History]:
    """Train (or resume training) an :class:`EQNet` into *run_dir*.

    Parameters
    ----------
    pool : ExamplePool
        Training material.
    validation : sequence of (mixture, vocal)
        Fixed excerpts, separated blind for the validation SI-SDR.
    config : Config
        The STFT (``sr``, ``n_fft``, ``hop_length``).
    train_config : TrainConfig
    run_dir : path
        Holds ``checkpoint.pt`` (resumed from when present) and, at the end, ``model.pt``.
    record : dict, optional
        Saved in ``model.pt`` beside the weights (config, data manifest, commit...).
    on_step : callable, optional
        ``on_step(step, loss, validation_or_None)`` after every step (a progress bar).
    device : str

    Returns
    -------
    model : EQNet
        In eval mode.
    history : History

    Raises
    ------
    ParameterError
        A checkpoint in *run_dir* written with other training settings (``steps`` may differ:
        a resumed run may be given more, or fewer, steps in all).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tc = train_config
    torch.manual_seed(tc.seed)
    model = EQNet(tc.model).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=tc.learning_rate)
    rng = np.random.default_rng(tc.seed)
    history = History()
    step = 0
    ckpt_path = run_dir / CHECKPOINT_NAME
    if ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        same = {k: v for k, v in ckpt["train_config"].items() if k != "steps"}
        if same != {k: v for k, v in tc.to_dict().items() if k != "steps"}:
            raise ParameterError(
                f"{str(ckpt_path)!r} was written with other training settings: allowed the same settings "
                "to resume, or another output folder"
            )
        model.load_state_dict(ckpt["model"])
        optimiser.load_state_dict(ckpt["optimiser"])
        rng.bit_generator.state = ckpt["rng"]
        torch.set_rng_state(ckpt["torch_rng"])
        history = History(**ckpt["history"])
        step = int(ckpt["step"])
        history.resumed_at.append(step)
    n = int(round(tc.excerpt_seconds * config.sr))
    model.train()
    t0 = time.perf_counter()
    spent = history.seconds

    def checkpoint() -> None:
        history.seconds = spent + time.perf_counter() - t0
        atomic_torch_save(
            {
                "step": step,
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "history": history.to_dict(),
                "train_config": tc.to_dict(),
            },
            ckpt_path,
        )

    while step < tc.steps:
        mixes, vocals = pool.batch(rng, size=tc.batch_size, n=n, remix=tc.remix, gain_db=tc.gain_db)
        X = torch.abs(stft(torch.from_numpy(mixes).to(device), config=config))
        V = torch.abs(stft(torch.from_numpy(vocals).to(device), config=config))
        loss = torch.mean(torch.abs(model(X) - V))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        step += 1
        value = float(loss.detach())
        if not math.isfinite(value):
            raise RuntimeError(f"training diverged at step {step} (loss {value})")
        history.losses.append(value)
        scores = None
        if step % tc.validate_every == 0 or step == tc.steps:
            scores = validate(model, validation, config=config)
            history.validation.append({"step": step, **scores})
        if step % tc.checkpoint_every == 0 or step == tc.steps:
            checkpoint()
        if on_step is not None:
            on_step(step, value, scores)
    model.eval()
    history.seconds = spent + time.perf_counter() - t0
    save_model(
        run_dir / MODEL_NAME,
        model,
        stft=config,
        record={**(record or {}), "train_config": tc.to_dict(), "history": history.to_dict()},
    )
    return model, history
