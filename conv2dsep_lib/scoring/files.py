"""Score any separated vocal file the way every run is scored (``conv2dsep evaluate``).

Another separator's output, an earlier run's wav, a hand-edited file: load it with
its reference (and, if given, the mixture), align them, and compute the same numbers
:func:`conv2dsep_lib.scoring.pair.separation_metrics` gives inside a run.

Decisions: all files are resampled to the reference's native rate (or ``sr``);
channel counts must agree unless ``mono=True`` downmixes everything; lengths may
differ by at most ``max_length_mismatch`` seconds (then all are cut to the shortest)
-- a larger difference means the files do not belong together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from ..core.config import LIMITS
from ..core.errors import ParameterError
from ..core.files import PathLike
from ..sources.audio import audio_info, load_audio
from .metrics import BSS_KEYS, as_samples_channels, bss_eval_v4, nanmedian, si_sdr
from .pair import separation_metrics
from .scores import Scores

__all__ = ["FileScores", "evaluate_files", "format_table"]


@dataclass(frozen=True)
class FileScores:
    """What :func:`evaluate_files` measured.

    Attributes
    ----------
    estimate, reference : str
        The files scored (the reference is the true vocal: an oracle reference).
    mixture : str or None
    sr : int
        Evaluation rate.
    channels : int
    seconds : float
        Length scored (all files cut to the shortest).
    scores : Scores
    """

    estimate: str
    reference: str
    mixture: Optional[str]
    sr: int
    channels: int
    seconds: float
    scores: Scores

    def to_json(self) -> Dict[str, Any]:
        """The JSON written by ``conv2dsep evaluate --json``."""
        return {
            "oracle_reference": True,
            "estimate": self.estimate,
            "reference": self.reference,
            "mixture": self.mixture,
            "sr": self.sr,
            "channels": self.channels,
            "seconds": self.seconds,
            "metrics": self.scores.to_json(),
        }


def evaluate_files(
    estimate: PathLike,
    reference: PathLike,
    mixture: Optional[PathLike] = None,
    *,
    sr: Optional[int] = None,
    mono: bool = False,
    bss: bool = True,
    max_length_mismatch: float = 0.05,
) -> FileScores:
    """Score a vocal estimate file against its reference file.

    Parameters
    ----------
    estimate, reference : path
        Audio files (any format soundfile reads).
    mixture : path, optional
        With it, SI-SDR improvement, SIR and the accompaniment's metrics
        (``mixture - reference`` vs ``mixture - estimate``) are reported too.
    sr : int, optional
        Evaluation rate; default the reference's native rate.
    mono : bool
        Downmix every file to mono (needed when channel counts differ).
    bss : bool
        Compute BSS Eval v4 besides SI-SDR.
    max_length_mismatch : float
        Largest allowed length difference in seconds.

    Returns
    -------
    FileScores
        ``scores`` as :func:`separation_metrics` gives them (without a mixture:
        ``si_sdr`` and, with ``bss``, ``sdr``, ``isr``, ``sar``).
    """
    if sr is not None:
        lo, hi = LIMITS["sr"]
        if isinstance(sr, bool) or not isinstance(sr, int) or not lo <= sr <= hi:
            raise ParameterError(f"sr={sr!r} is invalid: allowed an integer {int(lo)}..{int(hi)} Hz")
    paths = {"estimate": estimate, "reference": reference}
    if mixture is not None:
        paths["mixture"] = mixture
    infos = {role: audio_info(p) for role, p in paths.items()}
    sr = int(sr or infos["reference"].samplerate)
    if not mono:
        counts = {role: i.channels for role, i in infos.items()}
        if len(set(counts.values())) > 1:
            raise ParameterError(
                "channel counts differ ("
                + ", ".join(f"{r} {c}" for r, c in counts.items())
                + "): allowed equal counts, or --mono to downmix all files"
            )
    audio = {
        role: load_audio(p, sr=sr, mono=mono, allow_silence=(role == "estimate")) for role, p in paths.items()
    }
    lengths = {role: y.shape[-1] for role, y in audio.items()}
    if (max(lengths.values()) - min(lengths.values())) / sr > max_length_mismatch:
        raise ParameterError(
            "lengths differ ("
            + ", ".join(f"{r} {n / sr:.3f} s" for r, n in lengths.items())
            + f"): allowed at most {max_length_mismatch} s apart"
        )
    n = min(lengths.values())
    audio = {role: y[..., :n] for role, y in audio.items()}
    if mixture is not None:
        scores = separation_metrics(audio["reference"], audio["estimate"], audio["mixture"], sr=sr, bss=bss)
    else:
        bss_values: Dict[str, Any] = {}
        if bss:
            frames = bss_eval_v4(
                as_samples_channels(audio["reference"])[None],
                as_samples_channels(audio["estimate"])[None],
                sr=sr,
            )
            for key in BSS_KEYS:
                if key != "sir":  # SIR needs the other source: give --mixture
                    bss_values[key] = nanmedian(frames[key][0])
        scores = Scores(si_sdr=si_sdr(audio["reference"], audio["estimate"]), **bss_values)
    return FileScores(
        estimate=str(estimate),
        reference=str(reference),
        mixture=None if mixture is None else str(mixture),
        sr=sr,
        channels=1 if audio["reference"].ndim == 1 else int(audio["reference"].shape[0]),
        seconds=n / sr,
        scores=scores,
    )


def format_table(result: FileScores) -> str:
    """A small text table of :func:`evaluate_files`' scores (dB)."""
    rows = [("vocal", result.scores)]
    if result.scores.accompaniment is not None:
        rows.append(("accompaniment", result.scores.accompaniment))
    keys = [
        k
        for k in ("si_sdr", "si_sdr_i", "sdr", "sir", "sar", "isr")
        if any(r.value(k) is not None for _, r in rows)
    ]
    lines = [f"{'source':<14}" + "".join(f"{k:>10}" for k in keys)]
    for name, r in rows:
        cells = []
        for k in keys:
            v = r.value(k)
            cells.append(f"{'':>10}" if v is None else f"{v:>10.2f}")
        lines.append(f"{name:<14}" + "".join(cells))
    return "\n".join(lines)
