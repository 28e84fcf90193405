"""What a sweep covers -- tracks, slice counts, iterations -- so its titles claim no more.

The seed claims "8 slices is optimal".  A sweep can only speak to that when its
progressive rows reach below *and* above 8 slices; notebook 06 titles its slices plot
with :attr:`SweepScope.n_slices_title`, which asks the seed's question only then and
otherwise says what the sweep measured (``k = 1..2 on 2 synthetic demo tracks, 20
iterations (smoke test)``).

**ORACLE**: the Conv2D rows of a sweep come from an optimisation that read the true vocal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import pandas as pd

from ..core.config import Config

__all__ = ["CLAIMED_OPTIMUM", "MIN_TRACKS", "SweepScope", "sweep_scope"]

#: The seed's claimed best slice count.
CLAIMED_OPTIMUM = 8
#: Fewer tracks than this make a sweep a smoke test, whatever its grid.
MIN_TRACKS = 3
_DEMO_TRACK = re.compile(r"^demo_song_\d+$")


def _ints(values: Any) -> Tuple[int, ...]:
    return tuple(sorted({int(v) for v in values if v is not None and not pd.isna(v)}))


@dataclass(frozen=True)
class SweepScope:
    """The extent of a sweep table.

    Attributes
    ----------
    tracks : tuple of str
    synthetic : bool
        Every track is one of the synthesised demo songs (``demo_song_<n>``).
    k : tuple of int
        The slice counts of the progressive rows (each k <= a setting's N).
    iterations : tuple of int
        The ``num_iterations`` values of the settings (the seed's is 100).
    bss : bool
        BSS Eval v4 columns (SDR, SIR, SAR) hold numbers.
    n_settings : int
    """

    tracks: Tuple[str, ...]
    synthetic: bool
    k: Tuple[int, ...]
    iterations: Tuple[int, ...]
    bss: bool
    n_settings: int

    @property
    def n_tracks(self) -> int:
        return len(self.tracks)

    def spans(self, k: int) -> bool:
        """Whether the sweep measured slice counts below and above *k* (and *k* itself)."""
        return bool(self.k) and self.k[0] < k < self.k[-1] and k in self.k

    @property
    def smoke(self) -> bool:
        """Too small to decide the seed's claim: fewer than :data:`MIN_TRACKS` tracks, or a
        k range that does not span :data:`CLAIMED_OPTIMUM`."""
        return self.n_tracks < MIN_TRACKS or not self.spans(CLAIMED_OPTIMUM)

    def _k_text(self) -> str:
        if not self.k:
            return "no progressive rows"
        ks = self.k
        if ks == tuple(range(ks[0], ks[-1] + 1)):
            return f"k = {ks[0]}" if len(ks) == 1 else f"k = {ks[0]}..{ks[-1]}"
        return "k = " + ", ".join(map(str, ks))

    @property
    def description(self) -> str:
        """One line: ``k = 1..2 on 2 synthetic demo tracks, 20 iterations, SI-SDR only (smoke test)``."""
        tracks = (
            f"{self.n_tracks} {'synthetic demo ' if self.synthetic else ''}track{'s' * (self.n_tracks != 1)}"
        )
        parts = [f"{self._k_text()} on {tracks}"]
        seed = Config().num_iterations
        if self.iterations and self.iterations != (seed,):
            its = "/".join(map(str, self.iterations))
            parts.append(f"{its} iterations (the seed's: {seed})")
        if not self.bss:
            parts.append("SI-SDR only")
        return ", ".join(parts) + (" (smoke test)" if self.smoke else "")

    @property
    def n_slices_title(self) -> str:
        """The heading of the quality-against-slices plot: the seed's question only when the
        sweep can answer it."""
        n = CLAIMED_OPTIMUM
        if self.spans(n) and self.n_tracks >= MIN_TRACKS:
            return f"Is {n} slices optimal? Quality against the number of slices ({self.description})"
        if self.spans(n):
            why = f"only {self.n_tracks} track{'s' * (self.n_tracks != 1)}: too few to decide whether {n} is optimal"
        elif self.k and self.k[-1] <= n:
            why = f"it stops at k = {self.k[-1]}: it cannot say whether {n} slices is optimal"
        else:
            why = f"it does not measure both sides of k = {n}: it cannot say whether {n} is optimal"
        return f"Quality against the number of slices: {self.description}; {why}"


def sweep_scope(table: pd.DataFrame) -> SweepScope:
    """The :class:`SweepScope` of a sweep table (:func:`conv2dsep_lib.results.read_table`)."""
    tracks = tuple(sorted({str(t) for t in table["track"]})) if "track" in table else ()
    progressive = table[table["method"] == "progressive"] if "method" in table else table.iloc[:0]
    sdr: Optional[pd.Series] = table.get("sdr")
    return SweepScope(
        tracks=tracks,
        synthetic=bool(tracks) and all(_DEMO_TRACK.match(t) for t in tracks),
        k=_ints(progressive["k"]) if "k" in progressive else (),
        iterations=_ints(table["num_iterations"])
        if "num_iterations" in table
        else (Config().num_iterations,),
        bss=sdr is not None and bool(sdr.notna().any()),
        n_settings=int(table["setting"].nunique()) if "setting" in table else 0,
    )
