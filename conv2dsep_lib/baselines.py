"""Reference points for the vocal estimate: a floor, two oracle masks, two blind methods.

Every baseline works on the *same* STFT as the method (``librosa.stft`` with
``config.n_fft``, ``config.hop_length``, ``center=True``, Hann window), keeps the
**mixture's phase**, and goes back with ``librosa.istft(..., length=len(mixture))``,
so differences between the method and a baseline come from the magnitudes alone.

====================  =========  ===========================================
name                  kind       vocal estimate
====================  =========  ===========================================
``mixture``           floor      the mixture itself (no separation)
``oracle_irm``        oracle     ideal ratio mask ``|V| / (|V| + |A|)``
``oracle_ibm``        oracle     ideal binary mask ``|V| > |A|``
``repet_sim``         blind      REPET-SIM, librosa's vocal-separation recipe
``hpss``              blind      two-stage median-filter HPSS
====================  =========  ===========================================

``V`` is the STFT of the true vocal, ``A`` that of the accompaniment ``mixture -
vocal``.  *Oracle* baselines read the true vocal (like the method, which is an oracle
study); *blind* ones see the mixture only.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Tuple

import numpy as np

from .config import Config
from .errors import ParameterError

__all__ = ["BASELINES", "BASELINE_KINDS", "baseline_estimate", "compute_baselines"]

#: ``(name, kind)`` of every baseline, in report order.
BASELINES: Tuple[Tuple[str, str], ...] = (
    ("mixture", "floor"),
    ("oracle_irm", "oracle"),
    ("oracle_ibm", "oracle"),
    ("repet_sim", "blind"),
    ("hpss", "blind"),
)
#: name -> kind.
BASELINE_KINDS: Dict[str, str] = dict(BASELINES)

#: REPET-SIM: nearest neighbours are searched at least this far apart (librosa gallery).
REPET_WIDTH_S = 2.0
#: REPET-SIM soft-mask margin for the foreground (vocal), as in the librosa gallery.
REPET_MARGIN_V = 10.0
#: HPSS stage 1 (sustained instruments vs. the rest): time kernel, frequency kernel.
HPSS_STAGE1 = (1.0, 30.0)  # (seconds, Hz): 21 frames x 3 bins at the default config
#: HPSS stage 2 (voice vs. drums, on stage 1's percussive part).
HPSS_STAGE2 = (0.2, 200.0)  # (seconds, Hz): 5 frames x 19 bins at the default config


# ------------------------------------------------------------------- helpers
def _check_name(name: Any) -> str:
    if name not in BASELINE_KINDS:
        raise ParameterError(
            f"baseline {name!r} is unknown: allowed " + ", ".join(BASELINE_KINDS)
        )
    return name


def _check_mono(y: Any, role: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ParameterError(
            f"{role} has shape {y.shape}: allowed a mono 1-D array (n,)"
        )
    if y.size == 0:
        raise ParameterError(f"{role} is empty: allowed >= 1 sample")
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{role} has NaN or inf samples: allowed finite values only")
    return y.astype(np.float32, copy=False)


def _stft(y: np.ndarray, config: Config) -> np.ndarray:
    import librosa

    return librosa.stft(
        y, n_fft=config.n_fft, hop_length=config.hop_length, window="hann", center=True
    )


def _istft(X: np.ndarray, n: int, config: Config) -> np.ndarray:
    import librosa

    y = librosa.istft(
        X, n_fft=config.n_fft, hop_length=config.hop_length, window="hann", center=True,
        length=n,
    )
    return np.asarray(y, dtype=np.float32)


def _odd(n: float, minimum: int = 1) -> int:
    """Nearest odd integer >= *minimum* (median kernels are centred)."""
    k = max(minimum, int(round(n)))
    return k if k % 2 else k + 1


def _hpss_kernels(config: Config) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """The two HPSS kernels in (frames, bins) for *config*'s STFT."""
    frame_s = config.hop_length / config.sr
    bin_hz = config.sr / config.n_fft
    return tuple(  # type: ignore[return-value]
        (_odd(sec / frame_s, 3), _odd(hz / bin_hz, 3)) for sec, hz in (HPSS_STAGE1, HPSS_STAGE2)
    )


def repet_width(n_frames: int, *, config: Config) -> int:
    """REPET-SIM's neighbour exclusion width in frames for a clip of *n_frames*.

    The librosa recipe uses ``time_to_frames(2 s)`` (42 frames at the default
    config).  ``librosa.segment.recurrence_matrix`` needs ``1 <= width < (n_frames -
    1) // 2``, so short clips use the largest allowed width instead:
    ``min(time_to_frames(2 s), (n_frames - 1) // 2 - 1)``.

    Raises
    ------
    ParameterError
        If the clip has fewer than 5 frames (no width is allowed).
    """
    import librosa

    target = int(librosa.time_to_frames(REPET_WIDTH_S, sr=config.sr, hop_length=config.hop_length))
    limit = (n_frames - 1) // 2 - 1
    if limit < 1:
        raise ParameterError(
            f"clip has {n_frames} STFT frames, too few for repet_sim: allowed >= 5 frames "
            f"(>= {4 * config.hop_length / config.sr:.3f} s at sr={config.sr}, "
            f"hop_length={config.hop_length})"
        )
    return max(1, min(target, limit))


# ----------------------------------------------------------------- baselines
def _oracle_masks(X: np.ndarray, V: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Ideal ratio and binary masks; ``A = X - V`` (the accompaniment STFT, by linearity)."""
    mag_v = np.abs(V)
    mag_a = np.abs(X - V)
    total = mag_v + mag_a
    irm = np.divide(mag_v, total, out=np.zeros_like(mag_v), where=total > 0)
    ibm = (mag_v > mag_a).astype(mag_v.dtype)
    return irm, ibm


def _repet_sim_mask(X: np.ndarray, config: Config) -> np.ndarray:
    """librosa gallery "Vocal separation" (REPET-SIM, Rafii & Pardo 2012) foreground mask."""
    import librosa

    S = np.abs(X)
    width = repet_width(S.shape[-1], config=config)
    S_filter = librosa.decompose.nn_filter(S, aggregate=np.median, metric="cosine", width=width)
    S_filter = np.minimum(S, S_filter)
    return librosa.util.softmask(S - S_filter, REPET_MARGIN_V * S_filter, power=2)


def _hpss_mask(X: np.ndarray, config: Config) -> np.ndarray:
    """Two-stage median-filter HPSS vocal mask (after FitzGerald & Gainza, 2010).

    FitzGerald & Gainza separate the voice in two passes whose kernels see it
    differently; here both passes use the method's STFT and differ in kernel sizes
    (converted from seconds/Hz to odd frame/bin counts by ``_hpss_kernels``):

    * Stage 1, long time kernel (:data:`HPSS_STAGE1`, ~1 s = 21 frames) and narrow
      frequency kernel (~30 Hz = 3 bins, about a Hann main lobe): only what is stable
      for about a second in a frequency bin -- sustained chords, pads, bass -- is
      "harmonic"; the voice (notes of a few hundred ms, vibrato, glides) and drums go
      to the percussive part.  With a wider frequency kernel the median across a
      voice partial drops and the partial leaks into the harmonic part (on the test
      signal 9 bins cost ~10 dB SI-SDR).
    * Stage 2 on the stage-1 percussive magnitude, short time kernel
      (:data:`HPSS_STAGE2`, ~0.2 s = 5 frames, a short sung note) and wide frequency
      kernel (~200 Hz = 19 bins): voice partials are stable over a note and narrow in
      frequency -> harmonic; drum hits are short and broadband -> percussive.

    The vocal mask is ``P1 * H2``, the product of librosa's soft masks (``mask=True``,
    power 2, margin 1).
    """
    import librosa

    (h1, p1), (h2, p2) = _hpss_kernels(config)
    S = np.abs(X)
    _, mask_p1 = librosa.decompose.hpss(S, kernel_size=(h1, p1), mask=True)
    mask_h2, _ = librosa.decompose.hpss(S * mask_p1, kernel_size=(h2, p2), mask=True)
    return mask_p1 * mask_h2


def _estimate(name: str, mixture: np.ndarray, X: np.ndarray, V: Optional[np.ndarray],
              config: Config) -> np.ndarray:
    if name == "mixture":
        return mixture.astype(np.float32, copy=True)
    if name in ("oracle_irm", "oracle_ibm"):
        irm, ibm = _oracle_masks(X, V)
        mask = irm if name == "oracle_irm" else ibm
    elif name == "repet_sim":
        mask = _repet_sim_mask(X, config)
    else:  # hpss
        mask = _hpss_mask(X, config)
    return _istft(mask * X, len(mixture), config)


def _prepare(mixture: Any, vocal: Any, names: Iterable[str]):
    names = [_check_name(n) for n in names]
    mix = _check_mono(mixture, "mixture")
    voc = None
    needs_vocal = any(BASELINE_KINDS[n] == "oracle" for n in names)
    if vocal is not None or needs_vocal:
        if vocal is None:
            raise ParameterError(
                "vocal=None is invalid for oracle baselines: allowed the true vocal, a "
                "1-D array as long as the mixture"
            )
        voc = _check_mono(vocal, "vocal")
        if voc.shape != mix.shape:
            raise ParameterError(
                f"vocal length {voc.shape[0]} differs from mixture length {mix.shape[0]}: "
                "allowed equal lengths"
            )
    return names, mix, voc


# ------------------------------------------------------------------------ API
def baseline_estimate(name: str, mixture: np.ndarray, vocal: Optional[np.ndarray], *,
                      config: Config) -> np.ndarray:
    """The vocal estimate of one baseline.

    Parameters
    ----------
    name : str
        One of the names in :data:`BASELINES`.
    mixture : np.ndarray [shape=(n,)]
        Mono mixture at ``config.sr``.
    vocal : np.ndarray [shape=(n,)] or None
        The true vocal (same length); may be ``None`` for the floor and blind
        baselines, which do not read it.
    config : Config
        STFT settings (``n_fft``, ``hop_length``) and ``sr``.

    Returns
    -------
    estimate : np.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ParameterError
        Unknown *name* (the message lists the allowed names), non-mono or non-finite
        input, length mismatch, missing vocal for an oracle, or a clip too short for
        ``repet_sim``.
    """
    (name,), mix, voc = _prepare(mixture, vocal, [name])
    X = _stft(mix, config)
    V = _stft(voc, config) if voc is not None else None
    return _estimate(name, mix, X, V, config)


def compute_baselines(mixture: np.ndarray, vocal: Optional[np.ndarray], *, config: Config,
                      names: Optional[Iterable[str]] = None) -> Dict[str, Dict[str, Any]]:
    """Compute several baselines, sharing one STFT of the mixture and of the vocal.

    Parameters
    ----------
    mixture, vocal : np.ndarray [shape=(n,)]
        Mono signals at ``config.sr``, equal length (``vocal`` may be ``None`` if only
        floor/blind baselines are asked for).
    config : Config
    names : iterable of str, optional
        Subset of :data:`BASELINES` names; default all, in :data:`BASELINES` order.

    Returns
    -------
    baselines : dict of str -> dict
        ``{"kind": "oracle" | "blind" | "floor", "oracle": bool,
        "estimate": np.ndarray [shape=(n,), float32]}`` per name.

    Raises
    ------
    ParameterError
        As :func:`baseline_estimate`.
    """
    if names is None:
        names = [n for n, _ in BASELINES]
    elif isinstance(names, str):
        names = [names]
    names, mix, voc = _prepare(mixture, vocal, list(names))
    X = _stft(mix, config)
    V = _stft(voc, config) if voc is not None else None
    out: Dict[str, Dict[str, Any]] = {}
    for name in names:
        kind = BASELINE_KINDS[name]
        out[name] = {
            "kind": kind,
            "oracle": kind == "oracle",
            "estimate": _estimate(name, mix, X, V, config),
        }
    return out
