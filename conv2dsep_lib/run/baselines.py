"""The reference points of a track excerpt, scored once and remembered.

The baselines (mixture floor, ideal masks, REPET-SIM, HPSS, the band-pass, the learned model) depend on the excerpt's audio
and the STFT only -- not on the method's settings -- so ``progressive`` then ``best``, the
notebooks and every setting of a sweep share them.  :func:`score_baselines` keeps their
scores in a small cache keyed by content:

* the mixture's and the vocal's samples (sha256 of the float32 bytes: the excerpt and its
  rate are in them),
* the STFT settings (``sr``, ``n_fft``, ``hop_length``) and whether BSS Eval was asked for,
* the code that makes the numbers (:data:`CODE_PARTS`: the separators, the scoring, the
  STFT and the config).

The cache lives in ``$CONV2DSEP_CACHE`` (default ``$XDG_CACHE_HOME/conv2dsep`` or
``~/.cache/conv2dsep``), one JSON file per excerpt under ``baselines/``; deleting it only
costs time.  A cached baseline has its scores but not its audio (``estimate`` is ``None``):
who needs the audio (a sweep's ``--keep-audio``) asks with ``keep_estimates=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, Optional

import numpy as np

from ..core.config import Config
from ..core.files import write_json
from ..core.provenance import code_hash
from ..core.threads import THREADS_VARIABLE, run_threads
from ..learned import SHIPPED_MODEL
from ..results.record import BaselineRecord
from ..scoring.pair import PairScorer
from ..scoring.scores import Scores
from ..separators.registry import baseline_kinds, compute_baselines
from ..sources.audio import AudioPair
from ..sources.stems import pair_target

__all__ = [
    "CODE_PARTS",
    "ScoredBaseline",
    "cache_dir",
    "baseline_key",
    "cached_baselines",
    "store_baselines",
    "score_baselines",
    "workers",
    "THREADS_VARIABLE",
]

#: The code whose edits change a baseline's numbers (relative to the package); the shipped
#: model's weights are part of the key too (:func:`baseline_key`).
CODE_PARTS = ("separators", "scoring", "learned", "method/transforms.py", "core/config.py")


def workers() -> int:
    """Threads one run may use (:func:`conv2dsep_lib.core.threads.run_threads`)."""
    return run_threads()


@dataclass(frozen=True)
class ScoredBaseline:
    """A reference point of a run: its kind, its estimate [shape=(n,)] (``None`` when the
    scores came from the cache) and its scores."""

    kind: str
    estimate: Optional[np.ndarray]
    metrics: Scores

    def record(self) -> BaselineRecord:
        """The part that goes into ``results.json``."""
        return BaselineRecord(kind=self.kind, metrics=self.metrics)


def cache_dir() -> Path:
    """``$CONV2DSEP_CACHE``, else ``$XDG_CACHE_HOME/conv2dsep``, else ``~/.cache/conv2dsep``."""
    if os.environ.get("CONV2DSEP_CACHE"):
        return Path(os.environ["CONV2DSEP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "conv2dsep"


def baseline_key(pair: AudioPair, *, config: Config, bss: bool) -> str:
    """The content key of a pair's baselines (see the module docstring)."""
    h = hashlib.sha256()
    for y in (pair.mixture, pair.vocal):
        h.update(np.ascontiguousarray(y, dtype=np.float32).tobytes())
    stft = {"sr": config.sr, "n_fft": config.n_fft, "hop_length": config.hop_length}
    what = {"stft": stft, "bss": bool(bss), "code": code_hash(CODE_PARTS), "model": _model_hash()}
    if pair_target(pair) != "vocals":  # another target has other baselines (a vocals key is unchanged)
        what["target"] = pair_target(pair)
    h.update(json.dumps(what).encode())
    return h.hexdigest()[:32]


@lru_cache(maxsize=1)
def _model_hash() -> str:
    """sha256 (16 digits) of the shipped model's weights: retraining it re-keys the cache."""
    try:
        return hashlib.sha256(SHIPPED_MODEL.read_bytes()).hexdigest()[:16]
    except OSError:
        return "none"


def _read(path: Path) -> Optional[Dict[str, ScoredBaseline]]:
    try:
        data = json.loads(path.read_text())
        return {
            name: ScoredBaseline(
                kind=entry["kind"], estimate=None, metrics=Scores.from_json(entry["metrics"])
            )
            for name, entry in data["baselines"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _path(pair: AudioPair, *, config: Config, bss: bool) -> Path:
    return cache_dir() / "baselines" / f"{baseline_key(pair, config=config, bss=bss)}.json"


def cached_baselines(
    pair: AudioPair, *, config: Config, bss: bool = True
) -> Optional[Dict[str, ScoredBaseline]]:
    """The pair's baselines from the cache (scores only, ``estimate=None``), or ``None``."""
    kinds = baseline_kinds(pair_target(pair))
    cached = _read(_path(pair, config=config, bss=bss))
    if cached is None or set(cached) != set(kinds):
        return None
    return {name: cached[name] for name in kinds}


def store_baselines(
    pair: AudioPair, baselines: Dict[str, ScoredBaseline], *, config: Config, bss: bool = True
) -> None:
    """Remember the pair's baseline scores (an unwritable cache only costs time)."""
    path = _path(pair, config=config, bss=bss)
    try:
        write_json(
            path,
            {
                "key": path.stem,
                "baselines": {
                    name: {"kind": b.kind, "metrics": b.metrics.to_json()} for name, b in baselines.items()
                },
            },
        )
    except OSError:
        pass


def score_baselines(
    pair: AudioPair,
    *,
    config: Config,
    bss: bool = True,
    scorer: Optional[PairScorer] = None,
    cache: bool = True,
    keep_estimates: bool = False,
) -> Dict[str, ScoredBaseline]:
    """The reference points of a pair, each scored like an extraction, from the cache when
    they were scored before.

    Parameters
    ----------
    pair : AudioPair
    config : Config
        Its STFT settings are the baselines'.
    bss : bool
        BSS Eval v4 besides SI-SDR.
    scorer : PairScorer, optional
        The pair's scorer, if the caller has one (its reference statistics are shared).
    cache : bool
        Read and write the cache (see the module docstring).
    keep_estimates : bool
        Also return the estimates' audio (computes what the cache lacks).

    Returns
    -------
    dict of str -> ScoredBaseline
        In report order (:data:`conv2dsep_lib.separators.registry.BASELINES`).
    """
    if not cache:
        return _score(pair, config=config, bss=bss, scorer=scorer, cache=False)
    if not keep_estimates:
        cached = cached_baselines(pair, config=config, bss=bss)
        if cached is not None:
            return cached
    with _computing(_path(pair, config=config, bss=bss)):  # one process computes, the others wait
        if not keep_estimates:
            cached = cached_baselines(pair, config=config, bss=bss)
            if cached is not None:
                return cached
        return _score(pair, config=config, bss=bss, scorer=scorer, cache=True)


@contextmanager
def _computing(path: Path) -> Iterator[None]:
    """Wait for, then hold, the lock of one cache entry (``<key>.lock``, POSIX ``flock``): the
    settings of a sweep that reach the same excerpt at once compute its baselines once."""
    lock = path.with_suffix(".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        f = open(lock, "a+")
    except OSError:  # an unwritable cache only costs time
        yield
        return
    with f:
        try:
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX)
        except (ImportError, OSError):  # pragma: no cover - no flock here
            pass
        yield


def _score(
    pair: AudioPair, *, config: Config, bss: bool, scorer: Optional[PairScorer], cache: bool
) -> Dict[str, ScoredBaseline]:
    kinds = baseline_kinds(pair_target(pair))
    estimates = compute_baselines(pair.mixture, pair.vocal, config=config, names=list(kinds))
    scorer = scorer or PairScorer(pair.vocal, pair.mixture, sr=config.sr, bss=bss)
    with ThreadPoolExecutor(workers()) as pool:
        scores = dict(zip(estimates, pool.map(scorer.score, estimates.values())))
    out = {
        name: ScoredBaseline(kind=kinds[name], estimate=estimates[name], metrics=scores[name])
        for name in estimates
    }
    if cache:
        store_baselines(pair, out, config=config, bss=bss)
    return out
