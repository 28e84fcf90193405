"""The held-out evaluation of a learned model: BLIND beside the blind floor and the oracles.

Held-out material (:func:`conv2dsep_lib.sources.training_material.make_examples` with
``split="heldout"``) is what no training run sees: unseen synthetic songs (seeds 100..199),
and a speaker and an instrumental that no training example used, sung and mixed the same way.
On every excerpt the same estimates are scored with SI-SDR against the true vocal:

* ``learned`` (blind) -- the model;
* ``bandpass``, ``repet_sim``, ``hpss`` (blind) -- the classical baselines; the best of them is
  the bar a blind method has to clear;
* ``mixture`` (floor), ``oracle_irm`` (oracle ceiling) and ``conv2d_fingerprint`` (the oracle
  fingerprint method, slices 1..8: what the views do when the true vocal is known).

Each figure is the median over a draw's excerpts; draws with other seeds give other excerpts
(other songs, phrases, gains and remixes), and the report shows the mean over draws with the
spread (min..max) -- a prototype's numbers moved by about 1 dB between checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.config import Config
from ..core.files import PathLike
from ..scoring.metrics import si_sdr
from ..separators.base import Mixture, Reference
from ..separators.learned import shipped_model
from ..separators.registry import separate
from ..sources.training_material import make_examples

__all__ = ["HELDOUT_METHODS", "BLIND_CLASSICAL", "HeldoutRow", "evaluate_heldout", "heldout_markdown"]

#: What is scored on every held-out excerpt, and its kind.
HELDOUT_METHODS: Tuple[Tuple[str, str], ...] = (
    ("learned", "blind"),
    ("bandpass", "blind"),
    ("repet_sim", "blind"),
    ("hpss", "blind"),
    ("mixture", "floor"),
    ("oracle_irm", "oracle"),
    ("conv2d_fingerprint", "oracle"),
)
BLIND_CLASSICAL = ("bandpass", "repet_sim", "hpss")


@dataclass(frozen=True)
class HeldoutRow:
    """One method on one kind of held-out material.

    Attributes
    ----------
    kind : str
        ``"synthetic"`` (unseen synthetic songs) or ``"sung_speech"`` (unseen speaker and
        instrumentals, sung).
    method, method_kind : str
    per_draw : tuple of float
        Median SI-SDR (dB) over each draw's excerpts.
    mean, low, high : float
        Mean over draws, and the lowest and highest draw.
    """

    kind: str
    method: str
    method_kind: str
    per_draw: Tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_draw))

    @property
    def low(self) -> float:
        return float(np.min(self.per_draw))

    @property
    def high(self) -> float:
        return float(np.max(self.per_draw))


def evaluate_heldout(
    model_path: Optional[PathLike] = None,
    *,
    kinds: Sequence[str] = ("synthetic", "sung_speech"),
    n: int = 12,
    seconds: float = 4.7,
    seeds: Sequence[int] = (0, 1, 2),
    config: Optional[Config] = None,
    methods: Sequence[Tuple[str, str]] = HELDOUT_METHODS,
) -> List[HeldoutRow]:
    """Score every method of *methods* on held-out excerpts (see the module docstring).

    Parameters
    ----------
    model_path : path, optional
        The model for ``learned`` (default: the shipped one).
    kinds : sequence of str
    n : int
        Excerpts per draw and kind.
    seconds : float
    seeds : sequence of int
        One draw per seed.
    config : Config, optional
        The STFT of the classical and oracle estimates (default the seed's).
    methods : sequence of (name, kind)

    Returns
    -------
    list of HeldoutRow
    """
    from ..learned.infer import separate_signal
    from ..learned.store import load_model

    config = config or Config()
    stored = load_model(model_path) if model_path is not None else shipped_model()
    rows = []
    for kind in kinds:
        per_method: Dict[str, List[float]] = {name: [] for name, _ in methods}
        for seed in seeds:
            scores: Dict[str, List[float]] = {name: [] for name, _ in methods}
            for ex in make_examples(
                split="heldout", kinds=(kind,), n=n, seconds=seconds, sr=config.sr, seed=seed
            ):
                mix = Mixture(ex.mixture, config)
                ref = Reference(ex.vocal, config)
                for name, _ in methods:
                    if name == "learned":
                        est = separate_signal(stored.model, ex.mixture, config=stored.stft).vocals
                    else:
                        est = separate(name, mix, ref)
                    scores[name].append(si_sdr(ex.vocal, est))
            for name in scores:
                per_method[name].append(float(np.nanmedian(scores[name])))
        rows += [HeldoutRow(kind, name, mk, tuple(per_method[name])) for name, mk in methods]
    return rows


def heldout_markdown(rows: Sequence[HeldoutRow]) -> str:
    """The held-out table: SI-SDR (dB) per kind of material, with the margin over the best
    classical blind baseline."""
    lines = [
        "| material | method | kind | SI-SDR (dB), mean of draws | spread (min..max) |",
        "|---|---|---|---|---|",
    ]
    for kind in dict.fromkeys(r.kind for r in rows):
        these = [r for r in rows if r.kind == kind]
        for r in these:
            lines.append(
                f"| {kind} | {r.method} | {r.method_kind} | {r.mean:.2f} | {r.low:.2f}..{r.high:.2f} |"
            )
        learned = next((r for r in these if r.method == "learned"), None)
        classical = [r for r in these if r.method in BLIND_CLASSICAL]
        if learned is not None and classical:
            best = max(classical, key=lambda r: r.mean)
            lines.append(
                f"| {kind} | **learned − best blind ({best.method})** | | **{learned.mean - best.mean:+.2f}** | "
                f"{min(a - b for a, b in zip(learned.per_draw, best.per_draw)):+.2f}.."
                f"{max(a - b for a, b in zip(learned.per_draw, best.per_draw)):+.2f} |"
            )
    return "\n".join(lines) + "\n"
