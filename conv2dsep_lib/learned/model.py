"""The learned model: Conv2D views that predict the fingerprint EQ from the mixture alone.

It mirrors the oracle so the two can be compared point by point (the seed's next steps 1
and 2, "replace hand-crafted filters with learned filters"):

1. **A learned view bank** -- one 2-D convolution with 18 output channels over the
   log-magnitude of the mixture (1025 bins x frames), each channel *initialised from one of
   the 18 hand-made kernels* (:mod:`conv2dsep_lib.method.views`; a kernel larger than the
   bank's 33 x 7 window is cut to its centre, the two pooling views start as a 2 x 2 average)
   and then trained.  What is learned: which spectro-temporal patterns tell the voice from the
   band -- the oracle fixes them by hand.  The absolute value of each response is taken, as
   the views do.
2. **The fingerprint grid** -- every channel (and the raw log-magnitude) is interpolated from
   the 1025 bins onto the 400 fingerprint points, the grid Strategy 3 fits its EQ on.
3. **A small U-Net over frequency** (three levels, 400 -> 200 -> 100 points, with 3-frame
   time context per layer) that predicts, for every frame, a **400-point EQ in dB**,
   ``clip_db * tanh(.)`` -- the same fingerprint space and the same +-``clip_db`` bound as the
   oracle's Strategy 3.  What is learned: the map from the mixture's views to the EQ that the
   oracle would fit with the true vocal in hand.
4. The EQ is interpolated back to the 1025 bins and applied to the mixture magnitude; the
   vocal estimate is that magnitude with the mixture's phase, the accompaniment is the
   mixture minus it.

Roughly 0.2 M parameters with the default widths.  torch is imported here only:
``import conv2dsep_lib`` does not import this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Tuple

import numpy as np
import torch
from torch import nn

from ..method.fingerprint import resampler
from ..method.views import VIEWS

__all__ = ["ModelConfig", "ViewBank", "EQNet", "Interpolation", "hand_made_kernels", "LOG_FLOOR"]

#: Magnitudes below this are floored before the log (about -100 dB re full scale).
LOG_FLOOR = 1e-5


@dataclass(frozen=True)
class ModelConfig:
    """The model's shape (saved with every checkpoint).

    Attributes
    ----------
    n_fft : int
        STFT size of the input (``n_fft // 2 + 1`` bins).
    n_points : int
        Fingerprint points (400, as the oracle).
    clip_db : float
        The EQ is ``clip_db * tanh(.)``: within +-``clip_db`` dB, as Strategy 3's clip.
    view_kernel : (int, int)
        The view bank's window (frequency bins, frames).
    widths : (int, int, int)
        Channels of the U-Net's three levels.
    """

    n_fft: int = 2048
    n_points: int = 400
    clip_db: float = 20.0
    view_kernel: Tuple[int, int] = (33, 7)
    widths: Tuple[int, int, int] = (16, 32, 64)

    def to_dict(self) -> Dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ModelConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _fit_kernel(kernel: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """*kernel* (freq x time) centred in a zero array of *shape*, cut to its centre when larger."""
    out = np.zeros(shape)
    kf, kt = kernel.shape
    sf, st = shape
    # the overlapping centre part of both
    cf, ct = min(kf, sf), min(kt, st)
    k0f, k0t = (kf - cf) // 2, (kt - ct) // 2
    o0f, o0t = (sf - cf) // 2, (st - ct) // 2
    out[o0f : o0f + cf, o0t : o0t + ct] = kernel[k0f : k0f + cf, k0t : k0t + ct]
    return out


def hand_made_kernels(shape: Tuple[int, int]) -> np.ndarray:
    """The 18 views' kernels fitted into one window [shape=(18, *shape)] (views 1..18; the
    pooling views as a 2 x 2 average), each scaled to unit L2 norm."""
    out = []
    for view in VIEWS[1:]:
        k = view.kernel if view.kernel is not None else np.full((2, 2), 0.25)
        k = _fit_kernel(np.asarray(k, dtype=np.float64), shape)
        out.append(k / max(float(np.linalg.norm(k)), 1e-12))
    return np.stack(out)


class ViewBank(nn.Module):
    """18 learned views over the log-magnitude, initialised from the hand-made kernels.

    ``forward(x [B, 1, n_bins, T]) -> |conv(x)| [B, 18, n_bins, T]``.
    """

    def __init__(self, shape: Tuple[int, int] = (33, 7)):
        super().__init__()
        self.conv = nn.Conv2d(1, 18, kernel_size=shape, padding=(shape[0] // 2, shape[1] // 2), bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(hand_made_kernels(shape)).float()[:, None])
        self.initial = self.conv.weight.detach().clone()  # the hand-made start, for comparisons

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(self.conv(x))


class Interpolation(nn.Module):
    """The fingerprint's linear interpolation along the frequency axis (the numbers of
    :func:`conv2dsep_lib.method.fingerprint.resampler`) as two gathers and a blend:
    ``down`` (bins to points) and ``up`` (points to bins) of tensors [..., n, T]."""

    def __init__(self, n_bins: int, n_points: int):
        super().__init__()
        r = resampler(n_bins, n_points)
        for name, lo, w in (("down", r.down_lo, r.down_w), ("up", r.up_lo, r.up_w)):
            self.register_buffer(
                f"{name}_lo", torch.from_numpy(np.array(lo, dtype=np.int64)), persistent=False
            )
            self.register_buffer(
                f"{name}_w", torch.from_numpy(np.array(w, dtype=np.float32))[:, None], persistent=False
            )

    @staticmethod
    def _blend(x: torch.Tensor, lo: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        a = x.index_select(-2, lo)
        return a + w * (x.index_select(-2, lo + 1) - a)

    def down(self, x: torch.Tensor) -> torch.Tensor:
        return self._blend(x, self.down_lo, self.down_w)

    def up(self, x: torch.Tensor) -> torch.Tensor:
        return self._blend(x, self.up_lo, self.up_w)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, (5, 3), padding=(2, 1)),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, (5, 3), padding=(2, 1)),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class EQNet(nn.Module):
    """Mixture magnitude -> per-frame 400-point EQ in dB -> vocal magnitude (see the module docstring).

    Parameters
    ----------
    config : ModelConfig
    """

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        n_bins = config.n_fft // 2 + 1
        self.grid = Interpolation(n_bins, config.n_points)
        self.views = ViewBank(tuple(config.view_kernel))
        w1, w2, w3 = config.widths
        self.enc1 = _block(19, w1)
        self.enc2 = _block(w1, w2)
        self.enc3 = _block(w2, w3)
        self.pool = nn.MaxPool2d((2, 1))
        self.up3 = nn.ConvTranspose2d(w3, w2, (2, 1), stride=(2, 1))
        self.dec2 = _block(2 * w2, w2)
        self.up2 = nn.ConvTranspose2d(w2, w1, (2, 1), stride=(2, 1))
        self.dec1 = _block(2 * w1, w1)
        self.head = nn.Conv2d(w1, 1, 1)

    def log_magnitude(self, mag: torch.Tensor) -> torch.Tensor:
        """``log10`` of the magnitude, floored at :data:`LOG_FLOOR` [B, n_bins, T]."""
        return torch.log10(torch.clamp(mag, min=LOG_FLOOR))

    def eq_db(self, mixture_mag: torch.Tensor) -> torch.Tensor:
        """The predicted EQ in dB [B, n_points, T] for mixture magnitudes [B, n_bins, T]."""
        x = self.log_magnitude(mixture_mag)[:, None]  # [B, 1, F, T]
        v = self.views(x)  # [B, 18, F, T]
        h = torch.cat([x, torch.log1p(v)], dim=1)  # raw view + the 18 views
        h = self.grid.down(h)  # onto the 400 points
        e1 = self.enc1(h)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up3(e3), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up2(d2), e1], dim=1))
        return self.config.clip_db * torch.tanh(self.head(d1)[:, 0])

    def forward(self, mixture_mag: torch.Tensor) -> torch.Tensor:
        """The vocal magnitude [B, n_bins, T]: the mixture magnitude with the predicted EQ."""
        eq_bins = self.grid.up(self.eq_db(mixture_mag))
        return mixture_mag * torch.pow(10.0, eq_bins / 20.0)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
