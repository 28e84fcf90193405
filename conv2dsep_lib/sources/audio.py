"""Audio input and output: load at the config's rate, validate, write atomically.

Decisions (the seed loaded with ``librosa.load(..., sr=22050, duration=4.7)``):

* Files are read with :mod:`soundfile` (WAV, FLAC, OGG, AIFF, MP3 where libsndfile
  supports it) and resampled with :func:`librosa.resample` (soxr, high quality).
* ``mono=True`` downmixes by averaging channels -- the method works on one channel.
* An excerpt is ``[offset, offset + duration)`` seconds.  A file that ends before the
  excerpt does is an error unless ``pad=True`` (zero padding at the end).
* Mixture and vocal (:func:`load_pair`) are resampled to the same rate and downmixed
  the same way; files whose lengths differ by more than ``max_length_mismatch``
  seconds are refused, because a truncated or shifted stem would silently misalign
  the oracle target.  ``conv2dsep prepare`` checks alignment properly.
* NaN/inf samples, empty files and all-silent signals are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..core.checks import check_offset, check_signal
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_write_bytes

__all__ = [
    "AudioPair",
    "audio_info",
    "excerpt_bounds",
    "fit_length",
    "load_audio",
    "load_pair",
    "read_audio",
    "resample",
    "encode_audio",
    "write_wav",
]


def audio_info(path: PathLike):
    """Return ``soundfile.info`` for *path*, or raise :class:`ParameterError`.

    Raises
    ------
    ParameterError
        If the file is missing or not a readable audio file.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"audio file {str(path)!r} does not exist")
    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile's errors are RuntimeError / LibsndfileError
        raise ParameterError(
            f"audio file {str(path)!r} is not readable audio "
            f"(allowed: WAV, FLAC, OGG, AIFF, MP3): {str(exc).splitlines()[0]}"
        ) from None
    if info.frames == 0:
        raise ParameterError(f"audio file {str(path)!r} is empty (0 samples)")
    return info


def resample(y: np.ndarray, orig_sr: int, sr: int) -> np.ndarray:
    """Resample along the last axis with soxr (high quality); a no-op at the same rate.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)]
    orig_sr, sr : int

    Returns
    -------
    np.ndarray [shape=(..., round(n * sr / orig_sr))], float32, C-contiguous
    """
    if orig_sr == sr:
        return y
    import librosa

    return np.ascontiguousarray(
        librosa.resample(y, orig_sr=orig_sr, target_sr=sr, res_type="soxr_hq", axis=-1), dtype=np.float32
    )


def read_audio(path: PathLike, *, name: Optional[str] = None):
    """Read a whole file at its native rate: ``(y [shape=(channels, n)] float32, sr)``.

    Raises
    ------
    ParameterError
        Missing/unreadable/empty file, more than two channels, or a decoding error
        (*name* -- default the file name -- is used in the message).
    """
    import soundfile as sf

    path = Path(path)
    name = name or repr(path.name)
    info = audio_info(path)
    if info.channels > 2:
        raise ParameterError(f"{name} has {info.channels} channels: allowed mono or stereo")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise ParameterError(f"{name} could not be decoded: {str(exc).splitlines()[0]}") from None
    return np.ascontiguousarray(data.T), int(sr)


def load_audio(
    path: PathLike,
    *,
    sr: int,
    offset: float = 0.0,
    duration: Optional[float] = None,
    mono: bool = True,
    pad: bool = False,
    allow_silence: bool = False,
) -> np.ndarray:
    """Load an excerpt of an audio file at a given sample rate.

    Parameters
    ----------
    path : str or Path
    sr : int > 0
        Target sample rate; the file is resampled when it differs.
    offset : float >= 0
        Start of the excerpt in seconds.
    duration : float > 0 or None
        Length of the excerpt in seconds; ``None`` reads to the end.
    mono : bool
        Downmix to one channel (mean of channels).
    pad : bool
        Zero-pad a file that ends before ``offset + duration``; otherwise that is an
        error.
    allow_silence : bool
        Accept an all-zero excerpt.

    Returns
    -------
    y : np.ndarray [shape=(n,) if mono else (channels, n)], float32
        ``n = round(duration * sr)`` when *duration* is given.

    Raises
    ------
    ParameterError
        Missing/unreadable file, negative offset, excerpt beyond the end of the file
        (without ``pad``), NaN/inf samples, silence.

    Examples
    --------
    >>> y = load_audio("data/demo/rtg/100-window/stereo_mixture.wav", sr=22050,
    ...                duration=4.7)                      # doctest: +SKIP
    >>> y.shape                                            # doctest: +SKIP
    (103635,)
    """
    import soundfile as sf

    if duration is not None and not (np.isfinite(duration) and duration > 0):
        raise ParameterError(f"duration={duration!r} is invalid: allowed a number of seconds > 0")
    info = audio_info(path)
    name = Path(path).name
    file_sr = int(info.samplerate)
    start, stop = excerpt_bounds(
        info.frames, file_sr, offset=offset, duration=duration, pad=pad, name=repr(name)
    )
    try:
        data, _ = sf.read(
            str(path), start=start, stop=min(stop, info.frames), dtype="float32", always_2d=True
        )
    except Exception as exc:
        raise ParameterError(f"audio file {name!r} could not be decoded: {exc}") from None
    y = data.T  # (channels, n)
    if mono:
        y = y.mean(axis=0)
    if file_sr != sr:
        check_signal(y, name=name, allow_silence=True)
        y = resample(y, file_sr, sr)
    if duration is not None:
        y = fit_length(y, int(round(duration * sr)))
    y = np.ascontiguousarray(y, dtype=np.float32)
    check_signal(y, name=name, allow_silence=allow_silence)
    return y


def excerpt_bounds(
    n_frames: int,
    sr: int,
    *,
    offset: float,
    duration: Optional[float],
    pad: bool = False,
    name: str = "the audio",
) -> Tuple[int, int]:
    """Sample range ``[start, stop)`` of the excerpt ``[offset, offset + duration)`` s.

    The one excerpt check of the package: the offset must be a number of seconds >= 0
    inside the signal, and the signal must reach ``offset + duration`` unless *pad*.

    Parameters
    ----------
    n_frames : int
        Length of the signal in samples.
    sr : int
        Its rate.
    offset : float >= 0
    duration : float > 0 or None
        ``None``: to the end.
    pad : bool
        Allow an excerpt that runs past the end (the caller zero-pads, see
        :func:`fit_length`).
    name : str
        The signal's name in messages (e.g. ``"'mix.wav'"`` or ``"track 'A'"``).

    Returns
    -------
    (start, stop) : (int, int)
        ``stop = start + ceil(duration * sr)`` (may exceed *n_frames* with *pad*).

    Raises
    ------
    ParameterError
        A bad offset, an offset past the end, or a signal that ends too early.
    """
    offset = float(check_offset(offset))
    seconds = n_frames / sr
    start = int(round(offset * sr))
    if start >= n_frames:
        raise ParameterError(f"offset={offset} s is past the end of {name} ({seconds:.3f} s long)")
    if duration is None:
        return start, n_frames
    stop = start + int(np.ceil(duration * sr))
    if stop > n_frames and not pad:
        raise ParameterError(
            f"{name} is too short: {seconds:.3f} s, but offset {offset} s + duration {duration} s = "
            f"{offset + duration:.3f} s are needed (use a longer clip, a smaller offset, or "
            "pad=True / --pad)"
        )
    return start, stop


def fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Cut *y* [shape=(..., m)] to *n* samples along the last axis, zero-padding a short one."""
    if y.shape[-1] < n:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n - y.shape[-1])])
    return y[..., :n]


@dataclass(frozen=True)
class AudioPair:
    """A mixture and its true vocal, mono, aligned, at one rate.

    Attributes
    ----------
    mixture, vocal : np.ndarray [shape=(n,)], float32
    sr : int
    source : dict
        JSON-able description of where the audio came from.
    """

    mixture: np.ndarray
    vocal: np.ndarray
    sr: int
    source: dict

    @property
    def instrumental(self) -> np.ndarray:
        """``mixture - vocal`` [shape=(n,)]."""
        return self.mixture - self.vocal


def load_pair(
    mixture_path: PathLike,
    vocal_path: PathLike,
    *,
    sr: int,
    duration: float,
    offset: float = 0.0,
    pad: bool = False,
    max_length_mismatch: float = 0.05,
) -> AudioPair:
    """Load a mixture and its isolated vocal as one aligned mono excerpt.

    Both files are resampled to *sr* (they may have different native rates) and
    downmixed to mono (a stereo mixture with a mono vocal is fine).  Files with more
    than two channels are refused, and so are files whose total lengths differ by
    more than *max_length_mismatch* seconds (a sign of a trimmed or shifted stem).

    Parameters
    ----------
    mixture_path, vocal_path : str or Path
    sr : int
    duration : float
        Excerpt length in seconds.
    offset : float
        Excerpt start in seconds (the same in both files).
    pad : bool
        Zero-pad when the files end before the excerpt does.
    max_length_mismatch : float
        Allowed difference of the two files' lengths in seconds.

    Returns
    -------
    AudioPair
        ``mixture`` and ``vocal`` of shape ``(round(duration * sr),)``.
    """
    infos = {}
    for role, path in (("mixture", mixture_path), ("vocal", vocal_path)):
        info = audio_info(path)
        if info.channels > 2:
            raise ParameterError(
                f"{role} {Path(path).name!r} has {info.channels} channels: allowed mono or stereo"
            )
        infos[role] = info
    len_mix = infos["mixture"].frames / infos["mixture"].samplerate
    len_voc = infos["vocal"].frames / infos["vocal"].samplerate
    if abs(len_mix - len_voc) > max_length_mismatch:
        raise ParameterError(
            f"mixture ({len_mix:.3f} s) and vocal ({len_voc:.3f} s) differ in length by "
            f"{abs(len_mix - len_voc):.3f} s: allowed at most {max_length_mismatch} s "
            "(trim them to the same span, or run `conv2dsep prepare`)"
        )
    mixture = load_audio(mixture_path, sr=sr, offset=offset, duration=duration, pad=pad)
    vocal = load_audio(vocal_path, sr=sr, offset=offset, duration=duration, pad=pad)
    source = {
        "mixture": str(mixture_path),
        "vocal": str(vocal_path),
        "offset": float(offset),
        "duration": float(duration),
        "native_sr": {"mixture": int(infos["mixture"].samplerate), "vocal": int(infos["vocal"].samplerate)},
        "native_channels": {"mixture": int(infos["mixture"].channels), "vocal": int(infos["vocal"].channels)},
    }
    return AudioPair(mixture=mixture, vocal=vocal, sr=sr, source=source)


def strip_peak_chunk(data: bytes) -> bytes:
    """Remove the ``PEAK`` chunk libsndfile adds to float WAVs: it holds a timestamp."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    out, i = [data[:12]], 12
    while i + 8 <= len(data):
        cid = data[i : i + 4]
        size = int.from_bytes(data[i + 4 : i + 8], "little")
        end = min(len(data), i + 8 + size + (size & 1))
        if cid == b"data":
            end = len(data)
        if cid != b"PEAK":
            out.append(data[i:end])
        i = end
    body = b"".join(out)
    return b"RIFF" + (len(body) - 8).to_bytes(4, "little") + body[8:]


def encode_audio(y: np.ndarray, sr: int, *, subtype: str = "FLOAT", format: str = "WAV") -> bytes:
    """The bytes of an audio file holding *y*, deterministic.

    The package's one audio encoder: :func:`write_wav` writes these bytes, the demo set
    writes its FLAC/AIFF sources with them, and the notebooks' players embed them.
    libsndfile's ``PEAK`` chunk is dropped from WAVs: it records the writing time,
    which would make two runs on the same input differ.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)]
        Channels-first, as librosa; transposed for soundfile.
    sr : int
    subtype : str
        soundfile subtype; ``"FLOAT"`` keeps float32 samples exact, ``"PCM_16"``
        clips to +-1.
    format : str
        soundfile format (``"WAV"``, ``"FLAC"``, ``"AIFF"``, ...).
    """
    import io

    import soundfile as sf

    y = np.asarray(y, dtype=np.float32)
    buf = io.BytesIO()
    sf.write(buf, y.T if y.ndim == 2 else y, int(sr), subtype=subtype, format=format)
    return strip_peak_chunk(buf.getvalue())


def write_wav(path: PathLike, y: np.ndarray, sr: int, *, subtype: str = "FLOAT") -> Path:
    """Write audio to a WAV file atomically (temporary file, then rename).

    The same samples always give the same bytes (see :func:`encode_audio`).

    Parameters
    ----------
    path : str or Path
    y : np.ndarray [shape=(n,) or (channels, n)]
        Channels-first, as librosa; transposed for soundfile.
    sr : int
    subtype : str
        soundfile subtype; ``"FLOAT"`` keeps samples exact.

    Returns
    -------
    Path
    """
    return atomic_write_bytes(path, encode_audio(y, sr, subtype=subtype))
