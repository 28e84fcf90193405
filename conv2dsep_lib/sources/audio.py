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

import concurrent.futures
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Mapping, Optional, Tuple

import numpy as np

from ..core.checks import check_offset, check_signal
from ..core.errors import ParameterError
from ..core.files import PathLike, atomic_write_bytes
from ..core.threads import run_threads

__all__ = [
    "AudioPair",
    "audio_info",
    "excerpt_bounds",
    "fit_length",
    "load_audio",
    "downmix",
    "read_excerpt",
    "Excerpt",
    "audio_warnings",
    "FILE_RATES",
    "load_pair",
    "read_audio",
    "resample",
    "encode_audio",
    "write_wav",
]


#: Sample rates a file may declare (a header claiming 1 Hz is broken, not audio).
FILE_RATES = (1000, 768000)


def audio_info(path: PathLike) -> Any:
    """Return ``soundfile.info`` for *path*, or raise :class:`ParameterError`.

    Raises
    ------
    ParameterError
        If the path is missing, a folder, not a regular file (a FIFO, a device such as
        ``/dev/zero``), not readable audio, empty, or declares a sample rate outside
        :data:`FILE_RATES`.
    """
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise ParameterError(f"audio file {str(path)!r} does not exist")
    if path.is_dir():
        raise ParameterError(f"audio file {str(path)!r} is a folder: allowed an audio file")
    if not path.is_file():
        raise ParameterError(
            f"audio file {str(path)!r} is not a regular file (a FIFO, device or socket): "
            "allowed an audio file"
        )
    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile's errors are RuntimeError / LibsndfileError
        raise ParameterError(
            f"audio file {str(path)!r} is not readable audio "
            f"(allowed: WAV, FLAC, OGG, AIFF, MP3): {str(exc).splitlines()[0]}"
        ) from None
    if info.frames == 0:
        raise ParameterError(f"audio file {str(path)!r} is empty (0 samples)")
    lo, hi = FILE_RATES
    if not lo <= info.samplerate <= hi:
        raise ParameterError(
            f"audio file {str(path)!r} declares a sample rate of {info.samplerate} Hz: "
            f"allowed {lo}..{hi} Hz (is the header broken?)"
        )
    return info


def resample(y: np.ndarray, orig_sr: int, sr: int) -> np.ndarray:
    """Resample along the last axis with soxr (high quality); a no-op at the same rate.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)]
    orig_sr, sr : int

    Returns
    -------
    np.ndarray [shape=(..., ceil(n * sr / orig_sr))], float32, C-contiguous
    """
    if orig_sr == sr:
        return y
    import soxr

    # librosa.resample(y, orig_sr, target_sr=sr, res_type="soxr_hq"), written out: soxr per
    # channel, then fixed to ceil(n * sr / orig_sr) samples (librosa's loader is not imported)
    y = np.asarray(y)
    n_out = int(np.ceil(y.shape[-1] * float(sr) / orig_sr))
    rows = y.reshape(-1, y.shape[-1])
    out = np.zeros((len(rows), n_out), dtype=np.float32)
    for i, row in enumerate(rows):
        res = soxr.resample(row, orig_sr, sr, quality="soxr_hq")
        out[i, : min(n_out, len(res))] = res[:n_out]
    return np.ascontiguousarray(out.reshape(y.shape[:-1] + (n_out,)))


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


@dataclass(frozen=True)
class Excerpt:
    """An excerpt read from a file (see :func:`read_excerpt`).

    Attributes
    ----------
    audio : np.ndarray [shape=(n,) or (channels, n)], float32
    sr : int
    padding : float
        Fraction of the excerpt that lies past the end of the file (zeros).
    warnings : tuple of str
        What is odd about the audio but does not stop a run (see :func:`audio_warnings`).
    """

    audio: np.ndarray
    sr: int
    padding: float = 0.0
    warnings: Tuple[str, ...] = ()


def read_excerpt(
    path: PathLike,
    *,
    sr: int,
    offset: float = 0.0,
    duration: Optional[float] = None,
    mono: bool = True,
    pad: bool = False,
    allow_silence: bool = False,
) -> Excerpt:
    """Read an excerpt of an audio file at a given sample rate, with its warnings.

    Parameters are those of :func:`load_audio`.  The warnings are measured on the file's
    own samples (all channels, native rate) before any downmix or resampling.
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
    raw = data.T  # (channels, n), a view of the file's interleaved samples
    padding = max(0, stop - info.frames) / max(1, stop - start)
    y = downmix(raw) if mono else raw
    check_signal(y, name=name, allow_silence=True)  # NaN/inf before anything is measured
    warnings = tuple(audio_warnings(raw, sr=file_sr, name=repr(name), padding=padding))
    if file_sr != sr:
        y = resample(y, file_sr, sr)
    if duration is not None:
        y = fit_length(y, int(round(duration * sr)))
    y = np.ascontiguousarray(y, dtype=np.float32)
    check_signal(y, name=name, allow_silence=allow_silence)
    return Excerpt(audio=y, sr=sr, padding=padding, warnings=warnings)


def downmix(x: np.ndarray) -> np.ndarray:
    """Mean of the channels of *x* [shape=(channels, n)] -> [shape=(n,)], float32.

    The same numbers as ``x.mean(axis=0)`` (numpy adds the rows in order, then divides),
    4x faster on interleaved samples, without a transposed copy.
    """
    out = np.array(x[0], dtype=np.float32)
    for row in x[1:]:
        out += row
    out /= x.shape[0]
    return out


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
    return read_excerpt(
        path, sr=sr, offset=offset, duration=duration, mono=mono, pad=pad, allow_silence=allow_silence
    ).audio


#: A signal exceeds full scale above this peak; it looks clipped when this share of its
#: samples sit within 0.1 % of full scale.
CLIP_SHARE = 1e-3
#: A DC offset is worth a warning above this share of the signal's RMS (and 1e-3 absolute).
DC_SHARE = 0.1
#: Band-limited: the upper half of the band holds less than this share of the energy
#: (-80 dB: nothing there -- typically a low-rate recording resampled up).
EMPTY_BAND = 1e-8
#: Mostly padding: more than this share of the excerpt lies past the end of the file.
PADDING_SHARE = 0.5


#: Welch segments for the band check: length (samples) and how many at most.
SPECTRUM_SEGMENT = 8192
SPECTRUM_SEGMENTS = 64


def _average_spectrum(x: np.ndarray, *, offset: float) -> np.ndarray:
    """Power spectrum of the channel mean of *x* [shape=(channels, n)] minus *offset* (its
    mean), averaged over up to :data:`SPECTRUM_SEGMENTS` Hann-windowed segments spread over
    it (Welch's estimate; a short signal is one segment).  Only the segments are mixed down."""
    length = x.shape[-1]
    n = min(length, SPECTRUM_SEGMENT)
    starts = np.unique(np.linspace(0, length - n, min(SPECTRUM_SEGMENTS, max(1, length // n))).astype(int))
    segments = np.stack([x[:, s : s + n].mean(axis=0, dtype=np.float64) for s in starts]) - offset
    segments *= np.hanning(n)  # no edge leakage
    return np.mean(np.abs(np.fft.rfft(segments, axis=-1)) ** 2, axis=0)


def audio_warnings(y: np.ndarray, *, sr: int, name: str, padding: float = 0.0) -> List[str]:
    """What is odd about a signal but does not stop a run (one line each).

    Parameters
    ----------
    y : np.ndarray [shape=(channels, n)] or [shape=(n,)]
        At its own rate *sr*.
    sr : int
    name : str
        The signal's name in the messages.
    padding : float
        The share of the excerpt that is zero padding.

    Returns
    -------
    list of str
        Exceeds full scale / looks clipped, carries a DC offset, is band-limited far
        below Nyquist, is mostly padding -- each with its measured value.
    """
    x = np.atleast_2d(np.asarray(y))
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    out: List[str] = []
    peak = float(max(np.max(x), -np.min(x))) if x.size else 0.0
    if peak > 1.0:
        out.append(f"{name} exceeds full scale: peak {20 * np.log10(peak):+.1f} dBFS (allowed <= 0 dBFS)")
    elif peak >= 0.999:
        share = float(np.mean(np.abs(x) >= 0.999))
        if share >= CLIP_SHARE:
            out.append(f"{name} looks clipped: {100 * share:.2f} % of its samples are at full scale")
    # einsum: float64 sums without float64 copies, fast on interleaved (file-order) samples too
    mean = np.einsum("ij->i", x, dtype=np.float64) / x.shape[-1]
    rms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64) / x.shape[-1])
    worst = int(np.argmax(np.abs(mean)))
    if abs(mean[worst]) > max(1e-3, DC_SHARE * rms[worst]):
        out.append(
            f"{name} carries a DC offset of {mean[worst]:+.4f} ({100 * abs(mean[worst]) / rms[worst]:.0f} % "
            "of its RMS)"
        )
    power = _average_spectrum(x, offset=float(mean.mean()))
    total = float(power.sum())
    if total > 0 and len(power) > 8:
        upper = float(power[len(power) // 2 :].sum()) / total
        if upper < EMPTY_BAND:
            edge = np.searchsorted(np.cumsum(power) / total, 1 - 1e-6) * (sr / 2) / (len(power) - 1)
            out.append(
                f"{name} is band-limited: nothing above {edge / 1000:.1f} kHz (Nyquist {sr / 2000:.1f} kHz; "
                f"upper half-band {10 * np.log10(max(upper, 1e-30)):.0f} dB) -- a low-rate recording resampled up?"
            )
    if padding > PADDING_SHARE:
        out.append(
            f"{name} is mostly padding: {100 * padding:.0f} % of the excerpt lies past the end of the file"
        )
    return out


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
    files : tuple of Path
        The files that were read (an output folder must not replace them).
    warnings : tuple of str
        What is odd about the inputs (clipping, DC, band limit, padding): the run goes on.
    stems : dict of str -> np.ndarray [shape=(n,)], float32
        The true stems by target (``vocals``, ``drums``, ``bass``, ``other``) when the input
        has more than the vocal; empty means ``{"vocals": vocal}``
        (:func:`conv2dsep_lib.sources.stems.pair_stems`).
    """

    mixture: np.ndarray
    vocal: np.ndarray
    sr: int
    source: dict
    files: Tuple[Path, ...] = ()
    warnings: Tuple[str, ...] = ()
    stems: Mapping[str, np.ndarray] = field(default_factory=dict)

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
    read = functools.partial(read_excerpt, sr=sr, offset=offset, duration=duration, pad=pad)
    if run_threads() > 1:  # decoding, the checks and soxr release the GIL: the two files at once
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="read-vocal") as pool:
            vocal_read = pool.submit(read, vocal_path)
            mixture = read(mixture_path)
            vocal = vocal_read.result()
    else:
        mixture, vocal = read(mixture_path), read(vocal_path)
    source = {
        "mixture": str(mixture_path),
        "vocal": str(vocal_path),
        "offset": float(offset),
        "duration": float(duration),
        "native_sr": {"mixture": int(infos["mixture"].samplerate), "vocal": int(infos["vocal"].samplerate)},
        "native_channels": {"mixture": int(infos["mixture"].channels), "vocal": int(infos["vocal"].channels)},
    }
    return AudioPair(
        mixture=mixture.audio,
        vocal=vocal.audio,
        sr=sr,
        source=source,
        files=(Path(mixture_path), Path(vocal_path)),
        warnings=mixture.warnings + vocal.warnings,
    )


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
