"""The blind classics: REPET-SIM and two-stage HPSS, on the method's STFT.

Both see the mixture only (``fn(mixture)``), keep its phase and go back with the
method's ISTFT, so a difference to the fingerprint method comes from the magnitudes.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ..core.config import Config
from ..core.errors import ParameterError
from .base import Mixture, masked

__all__ = [
    "REPET_WIDTH_S",
    "REPET_MARGIN_V",
    "HPSS_STAGE1",
    "HPSS_STAGE2",
    "repet_width",
    "repet_sim_mask",
    "hpss_mask",
    "repet_sim",
    "hpss",
]

#: REPET-SIM: nearest neighbours are searched at least this far apart (librosa gallery).
REPET_WIDTH_S = 2.0
#: REPET-SIM soft-mask margin for the foreground (vocal), as in the librosa gallery.
REPET_MARGIN_V = 10.0
#: HPSS stage 1 (sustained instruments vs. the rest): time kernel, frequency kernel.
HPSS_STAGE1 = (1.0, 30.0)  # (seconds, Hz): 21 frames x 3 bins at the default config
#: HPSS stage 2 (voice vs. drums, on stage 1's percussive part).
HPSS_STAGE2 = (0.2, 200.0)  # (seconds, Hz): 5 frames x 19 bins at the default config


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


def repet_sim_mask(X: np.ndarray, config: Config) -> np.ndarray:
    """librosa gallery "Vocal separation" (REPET-SIM, Rafii & Pardo 2012) foreground mask."""
    import librosa

    S = np.abs(X)
    width = repet_width(S.shape[-1], config=config)
    S_filter = librosa.decompose.nn_filter(S, aggregate=np.median, metric="cosine", width=width)
    S_filter = np.minimum(S, S_filter)
    return librosa.util.softmask(S - S_filter, REPET_MARGIN_V * S_filter, power=2)


def hpss_mask(X: np.ndarray, config: Config) -> np.ndarray:
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


def repet_sim(mixture: Mixture) -> np.ndarray:
    """REPET-SIM (Rafii & Pardo 2012), librosa's vocal-separation recipe: the vocal estimate."""
    return masked(mixture, repet_sim_mask(mixture.stft, mixture.config))


def hpss(mixture: Mixture) -> np.ndarray:
    """Two-stage median-filter HPSS (after FitzGerald & Gainza 2010): the vocal estimate."""
    return masked(mixture, hpss_mask(mixture.stft, mixture.config))
