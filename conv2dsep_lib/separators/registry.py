"""The registry: every way to get an estimate, by name, with its kind.

``SEPARATORS`` is read-only; a new separator is one entry here (its function in a
module of this package, taking ``(mixture)`` if blind or ``(mixture, reference)`` if
oracle -- see :mod:`.base`).  :data:`BASELINES` are the reference points every run
reports, in report order.

====================  =========  ===========================================
name                  kind       vocal estimate
====================  =========  ===========================================
``mixture``           floor      the mixture itself (no separation)
``oracle_irm``        oracle     ideal ratio mask ``|V| / (|V| + |A|)``
``oracle_ibm``        oracle     ideal binary mask ``|V| > |A|``
``repet_sim``         blind      REPET-SIM, librosa's vocal-separation recipe
``hpss``              blind      two-stage median-filter HPSS
``bandpass``          blind      fixed 200-5000 Hz band-pass (the honest blind floor)
``learned``           blind      the learned Conv2D EQ model (:mod:`conv2dsep_lib.learned`)
``hpss_percussive``   blind      its percussive part (a drums estimate)
``conv2d_fingerprint`` oracle    the fingerprint method, slices 1..8 (not a baseline)
====================  =========  ===========================================
"""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np

from ..core.checks import check_signal
from ..core.config import Config
from ..core.errors import ParameterError
from .bandpass import bandpass
from .base import Kind, Mixture, Reference, Separator
from .classic import hpss, hpss_percussive, repet_sim
from .fingerprinting import fingerprint_oracle
from .learned import learned_vocals
from .masks import mixture_floor, oracle_ibm, oracle_irm

__all__ = [
    "SEPARATORS",
    "BASELINES",
    "BASELINE_KINDS",
    "TARGET_BASELINES",
    "baseline_kinds",
    "get_separator",
    "separate",
    "baseline_estimate",
    "compute_baselines",
    "baseline_jobs",
]

SEPARATORS: Mapping[str, Separator] = MappingProxyType(
    {
        s.name: s
        for s in (
            Separator("mixture", Kind.FLOOR, mixture_floor, "the mixture itself (no separation)"),
            Separator("oracle_irm", Kind.ORACLE, oracle_irm, "ideal ratio mask |V| / (|V| + |A|)"),
            Separator("oracle_ibm", Kind.ORACLE, oracle_ibm, "ideal binary mask |V| > |A|"),
            Separator(
                "repet_sim", Kind.BLIND, repet_sim, "REPET-SIM (librosa's recipe)", targets=("vocals",)
            ),
            Separator("hpss", Kind.BLIND, hpss, "two-stage median-filter HPSS", targets=("vocals",)),
            Separator(
                "bandpass",
                Kind.BLIND,
                bandpass,
                "fixed 200-5000 Hz band-pass, 4th-order Butterworth, zero phase (the blind floor)",
                targets=("vocals",),
            ),
            Separator(
                "learned",
                Kind.BLIND,
                learned_vocals,
                "the learned Conv2D EQ model (shipped; trained by make model)",
                targets=("vocals",),
            ),
            Separator(
                "hpss_percussive",
                Kind.BLIND,
                hpss_percussive,
                "two-stage median-filter HPSS, percussive part",
                targets=("drums",),
            ),
            Separator(
                "conv2d_fingerprint",
                Kind.ORACLE,
                fingerprint_oracle,
                "Conv2D fingerprint method, slices 1..8, Strategy 3",
                baseline=False,
            ),
        )
    }
)

#: The four targets a separator may estimate (as :data:`conv2dsep_lib.sources.layout.TARGETS`).
TARGETS = ("vocals", "drums", "bass", "other")


def _baselines_of(target: str) -> Tuple[Tuple[str, str], ...]:
    return tuple(
        (s.name, s.kind.value)
        for s in SEPARATORS.values()
        if s.baseline and (s.targets is None or target in s.targets)
    )


#: Target -> ``(name, kind)`` of its baselines, in report order: the floor and the oracle masks
#: for every target; the blind ones where they apply (REPET-SIM, HPSS's vocal, the band-pass and
#: the learned model for vocals, HPSS's percussive part for drums; none for bass and other).
TARGET_BASELINES: Mapping[str, Tuple[Tuple[str, str], ...]] = MappingProxyType(
    {t: _baselines_of(t) for t in TARGETS}
)
#: ``(name, kind)`` of every baseline of a vocals run (the default target), in report order.
BASELINES: Tuple[Tuple[str, str], ...] = TARGET_BASELINES["vocals"]
#: name -> kind of the baselines of a vocals run.
BASELINE_KINDS: Mapping[str, str] = MappingProxyType(dict(BASELINES))


def baseline_kinds(target: str = "vocals") -> Mapping[str, str]:
    """name -> kind of the baselines of a run for *target*, in report order."""
    if target not in TARGET_BASELINES:
        raise ParameterError(f"target {target!r} is unknown: allowed " + ", ".join(TARGETS))
    return MappingProxyType(dict(TARGET_BASELINES[target]))


def get_separator(name: Any) -> Separator:
    """The registered separator *name*.

    Raises
    ------
    ParameterError
        Unknown name; the message lists the registered ones.
    """
    if name not in SEPARATORS:
        raise ParameterError(f"separator {name!r} is unknown: allowed " + ", ".join(SEPARATORS))
    return SEPARATORS[name]


def separate(name: str, mixture: Mixture, reference: Optional[Reference] = None) -> np.ndarray:
    """Run separator *name*: ``fn(mixture)``, or ``fn(mixture, reference)`` for an oracle.

    A blind or floor separator never receives the reference, even when one is given.

    Returns
    -------
    estimate : np.ndarray [shape=(n,)], float32

    Raises
    ------
    ParameterError
        Unknown name, or an oracle without a reference.
    """
    sep = get_separator(name)
    if sep.kind is not Kind.ORACLE:
        return sep.function(mixture)  # type: ignore[call-arg]
    if reference is None:
        raise ParameterError(
            f"{name} is an oracle separator: it needs the true vocal (allowed: a reference as long as the mixture)"
        )
    return sep.function(mixture, reference)  # type: ignore[call-arg]


def _signals(
    mixture: Any,
    vocal: Any,
    names: Iterable[str],
    config: Config,
    mixture_stft: Optional[np.ndarray] = None,
    vocal_stft: Optional[np.ndarray] = None,
):
    names = list(names)
    every = {s.name: s.kind.value for s in SEPARATORS.values() if s.baseline}
    for n in names:
        if n not in every:
            raise ParameterError(f"baseline {n!r} is unknown: allowed " + ", ".join(every))
    mix = check_signal(mixture, name="mixture", mono=True, allow_silence=True).astype(np.float32, copy=False)
    ref = None
    if vocal is not None or any(every[n] == Kind.ORACLE.value for n in names):
        if vocal is None:
            raise ParameterError(
                "vocal=None is invalid for oracle baselines: allowed the true vocal, a 1-D array as long as the mixture"
            )
        voc = check_signal(vocal, name="vocal", mono=True, allow_silence=True).astype(np.float32, copy=False)
        if voc.shape != mix.shape:
            raise ParameterError(
                f"vocal length {voc.shape[0]} differs from mixture length {mix.shape[0]}: allowed equal lengths"
            )
        ref = Reference.with_stft(voc, config, vocal_stft)
    return names, Mixture.with_stft(mix, config, mixture_stft), ref


def baseline_estimate(
    name: str, mixture: np.ndarray, vocal: Optional[np.ndarray], *, config: Config
) -> np.ndarray:
    """The vocal estimate of one baseline.

    Parameters
    ----------
    name : str
        One of :data:`BASELINES`.
    mixture : np.ndarray [shape=(n,)]
        Mono mixture at ``config.sr``.
    vocal : np.ndarray [shape=(n,)] or None
        The true vocal; may be ``None`` for the floor and blind baselines, which never
        receive it.
    config : Config

    Returns
    -------
    estimate : np.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ParameterError
        Unknown *name*, non-mono or non-finite input, length mismatch, a missing vocal
        for an oracle, or a clip too short for ``repet_sim``.
    """
    (name,), mix, ref = _signals(mixture, vocal, [name], config)
    return separate(name, mix, ref)


def compute_baselines(
    mixture: np.ndarray,
    vocal: Optional[np.ndarray],
    *,
    config: Config,
    names: Optional[Iterable[str]] = None,
    mixture_stft: Optional[np.ndarray] = None,
    vocal_stft: Optional[np.ndarray] = None,
) -> Dict[str, np.ndarray]:
    """Several baselines' estimates, sharing one STFT of the mixture and of the vocal.

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,)]
        Mono, at ``config.sr``, equal length (``vocal`` may be ``None`` if only floor and
        blind baselines are asked for).
    config : Config
    names : iterable of str, optional
        Default all of :data:`BASELINES`, in that order.
    mixture_stft, vocal_stft : np.ndarray [shape=(n_bins, n_frames)], complex, optional
        ``stft(mixture, config=config)`` and ``stft(vocal, ...)`` if the caller has them.

    Returns
    -------
    dict of str -> np.ndarray [shape=(n,), float32]
        In the order asked; each name's kind is ``BASELINE_KINDS[name]``.
    """
    jobs = baseline_jobs(
        mixture, vocal, config=config, names=names, mixture_stft=mixture_stft, vocal_stft=vocal_stft
    )
    return {name: job() for name, job in jobs.items()}


def baseline_jobs(
    mixture: np.ndarray,
    vocal: Optional[np.ndarray],
    *,
    config: Config,
    names: Optional[Iterable[str]] = None,
    mixture_stft: Optional[np.ndarray] = None,
    vocal_stft: Optional[np.ndarray] = None,
) -> Dict[str, Callable[[], np.ndarray]]:
    """:func:`compute_baselines` as one call per baseline (to spread them over threads): the
    inputs are checked now, each call returns that baseline's estimate [shape=(n,), float32]."""
    if names is None:
        names = [n for n, _ in BASELINES]
    elif isinstance(names, str):
        names = [names]
    names, mix, ref = _signals(mixture, vocal, names, config, mixture_stft, vocal_stft)
    return {name: functools.partial(separate, name, mix, ref) for name in names}
