"""Real speech turned into singing: an LPC vocoder that keeps the speaker and sings a melody.

Read speech over music is the wrong kind of voice for a separator that must find a
singer (a prototype trained on it did worse on real songs).  This module keeps what
is real about a recording -- the speaker's vocal tract (spectral envelope), its
vowels and consonants, their order and timing within a syllable -- and replaces what
makes it speech: the speaking F0 becomes a melody with vibrato and portamento, and
syllable nuclei are stretched into sustained notes.

Method
------
*Analysis* (:func:`analyse_speech`, once per recording).  STFT frames (1024 samples,
hop 128) of the recording; per frame an all-pole envelope of order ~ sr / 1000 + 4
(autocorrelation of the pre-emphasised frame, a lag window, Levinson-Durbin,
vectorised over frames; de-emphasised), the frame's energy, and a voiced/unvoiced
decision (normalised autocorrelation peak between 60 and 500 Hz, corrected for the
window, above 0.45 and the frame within 35 dB of the loudest; cleaned by a median
filter).

*Timing* (:func:`sing_speech`).  The notes of a melody plan take the recording's
voiced runs in order, one chunk of 0.12..0.3 s of voicing per note (a long run feeds
several legato notes).  The unvoiced frames before a chunk (a consonant, up to
0.2 s) are copied unchanged just before the note's onset, as singers place
consonants before the beat.  The chunk is time-warped onto the note: its first and
last quarter play at speaking rate (the consonant-vowel transitions), its middle is
stretched over the rest of the note -- the envelope frames are interpolated in the
log domain, so the vowel holds.  Rests stay silent.

*Synthesis.*  A band-limited pulse train (:func:`.song_dsp.pulse_train`, flat
spectrum, with jitter and shimmer) follows the melody's F0 (:func:`.singer.pitch_track`:
glides, scoops, drift, vibrato); each voiced output frame is the pulse train's STFT
frame times the speaker's envelope at the warped position, scaled to the
recording's frame energy there, with a little breath noise; consonant frames are the
recording's own STFT frames; an inverse STFT joins them.  A room reverb may follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from ..core.errors import ParameterError
from .singer import pitch_track
from .song_dsp import pulse_train, room_reverb, smoothstep
from .song_score import Plan

__all__ = ["N_FFT", "HOP", "SpeechAnalysis", "SungPhrase", "analyse_speech", "sing_speech"]

N_FFT = 1024
HOP = 128
_PRE_EMPHASIS = 0.97


@dataclass(frozen=True)
class SpeechAnalysis:
    """A recording analysed for the vocoder (frame *j* is centred on sample ``j * HOP``).

    Attributes
    ----------
    stft : np.ndarray [shape=(N_FFT // 2 + 1, n_frames), dtype=complex64]
        The recording's STFT (Hann, centred).
    log_envelope : np.ndarray [shape=(N_FFT // 2 + 1, n_frames), dtype=float32]
        Natural log of the all-pole envelope's magnitude, up to a per-frame constant.
    energy : np.ndarray [shape=(n_frames,)]
        ``sum(|stft| ** 2)`` per frame.
    voiced : np.ndarray [shape=(n_frames,), dtype=bool]
    sr : int
    """

    stft: np.ndarray
    log_envelope: np.ndarray
    energy: np.ndarray
    voiced: np.ndarray
    sr: int

    @property
    def n_frames(self) -> int:
        return int(self.stft.shape[1])


@dataclass(frozen=True)
class SungPhrase:
    """A recording sung: the audio and the melody it follows.

    Attributes
    ----------
    audio : np.ndarray [shape=(n,), dtype=float32]
        Peak 0.5 (silent only if the plan has no notes in the first *n* samples).
    f0 : np.ndarray [shape=(1 + n // HOP,)]
        The melody's F0 in Hz where the output is vocoded (voiced), NaN elsewhere.
    sr : int
    hop : int
    info : dict
        JSON-able: ``notes``, ``voiced_fraction``, ``source_frames`` (first and last
        recording frames used), ``reverb``.
    """

    audio: np.ndarray
    f0: np.ndarray
    sr: int
    hop: int = HOP
    info: dict = field(default_factory=dict)


def _levinson(r: np.ndarray, order: int) -> np.ndarray:
    """Levinson-Durbin on rows of autocorrelations r [shape=(F, >= order + 1)] -> a (F, order + 1)."""
    n = r.shape[0]
    a = np.zeros((n, order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, order + 1):
        acc = r[:, i] + np.einsum("fj,fj->f", a[:, 1:i], r[:, i - 1 : 0 : -1]) if i > 1 else r[:, 1].copy()
        k = -acc / np.maximum(err, 1e-30)
        k = np.clip(k, -0.9999, 0.9999)
        prev = a[:, 1:i].copy()
        a[:, 1:i] = prev + k[:, None] * prev[:, ::-1]
        a[:, i] = k
        err = err * (1.0 - k * k)
    return a


def _runs(mask: np.ndarray) -> List[Tuple[int, int]]:
    """(start, stop) of the runs of True in a 1-D mask."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def analyse_speech(y: np.ndarray, *, sr: int) -> SpeechAnalysis:
    """Analyse a speech recording: STFT, all-pole envelopes, energies, voicing.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono speech, at least 0.5 s.
    sr : int
        Its sample rate, 8000..192000 Hz.

    Returns
    -------
    SpeechAnalysis

    Raises
    ------
    ParameterError
        Not mono, shorter than 0.5 s, silent or with non-finite samples, or no voiced frames.
    """
    import librosa
    from scipy.ndimage import median_filter

    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or len(y) < 0.5 * sr:
        raise ParameterError(f"speech of shape {y.shape} is not allowed: allowed mono, at least 0.5 s")
    if not np.all(np.isfinite(y)) or not np.any(y):
        raise ParameterError("speech is silent or has NaN/inf samples: allowed finite, non-silent audio")
    stft = librosa.stft(y, n_fft=N_FFT, hop_length=HOP, window="hann", center=True)
    power = np.abs(stft) ** 2
    energy = power.sum(axis=0)
    # all-pole envelope of the pre-emphasised frames (autocorrelation from the power spectrum)
    bins = np.arange(power.shape[0])
    emphasis = np.abs(1.0 - _PRE_EMPHASIS * np.exp(-2j * np.pi * bins / N_FFT)) ** 2
    order = int(sr / 1000) + 4
    r = np.fft.irfft(power * emphasis[:, None], n=N_FFT, axis=0)[: order + 1].T
    lag = np.arange(order + 1)
    r = r * np.exp(-0.5 * (2.0 * np.pi * 60.0 * lag / sr) ** 2)[None, :]  # lag window (60 Hz)
    r[:, 0] *= 1.0 + 1e-6
    a = _levinson(r, order)
    inverse = np.abs(np.fft.rfft(a, n=N_FFT, axis=1)).T  # |A|, (bins, frames)
    log_env = -np.log(np.maximum(inverse, 1e-9)) - 0.5 * np.log(emphasis)[:, None]
    # voicing: window-corrected normalised autocorrelation peak in 60..500 Hz
    ac = np.fft.irfft(power, n=N_FFT, axis=0)
    window_ac = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(N_FFT + 1)[:-1])) ** 2, n=N_FFT)
    lo, hi = int(sr / 500), min(int(sr / 60), N_FFT // 2)
    corrected = ac[lo:hi] / np.maximum(ac[0], 1e-30) * (window_ac[0] / window_ac[lo:hi])[:, None]
    periodicity = corrected.max(axis=0)
    loud = energy > energy.max() * 10.0 ** (-35.0 / 10.0)
    voiced = median_filter((periodicity > 0.45) & loud, size=5)
    if not voiced.any():
        raise ParameterError("speech has no voiced frames: allowed a recording of a voice")
    return SpeechAnalysis(
        stft=stft.astype(np.complex64),
        log_envelope=log_env.astype(np.float32),
        energy=energy,
        voiced=voiced,
        sr=int(sr),
    )


def _chunks(rng, analysis: SpeechAnalysis, n_notes: int, start_frame: int):
    """Per note: (consonant frames (start, stop) or None, voiced chunk (start, stop)) in order."""
    runs = [(s, e) for s, e in _runs(analysis.voiced) if e - s >= 4]
    if not runs:
        runs = _runs(analysis.voiced)
    loud = analysis.energy > analysis.energy.max() * 10.0 ** (-40.0 / 10.0)
    frame_rate = analysis.sr / HOP
    i = int(np.searchsorted([s for s, _ in runs], start_frame)) % len(runs)
    pos = runs[i][0]

    def consonant(k: int):
        """The loud frames of the (up to 0.2 s) gap before run *k*, or None."""
        run_start = runs[k][0]
        gap_start = max(runs[k - 1][1] if k > 0 else 0, run_start - int(0.2 * frame_rate))
        gap = np.flatnonzero(loud[gap_start:run_start])
        return (gap_start + int(gap[0]), run_start) if len(gap) else None

    out = []
    for _ in range(n_notes):
        if pos >= runs[i][1]:
            i = (i + 1) % len(runs)
            pos = runs[i][0]
        run_stop = runs[i][1]
        cons = consonant(i) if pos == runs[i][0] else None
        length = max(int(rng.uniform(0.12, 0.3) * frame_rate), 1)
        stop = run_stop if run_stop - pos < 1.5 * length else pos + length
        out.append((cons, (pos, stop)))
        pos = stop
    return out


def _warp(n_out: int, src: Tuple[int, int]) -> np.ndarray:
    """Fractional source frames for *n_out* output frames: the ends at speaking rate, the middle stretched."""
    s0, s1 = src
    length = s1 - s0
    if n_out <= length or length < 4:
        return s0 + np.linspace(0.0, max(length - 1, 0), n_out)
    head = min(int(round(0.25 * length)), n_out // 3)
    tail = min(int(round(0.25 * length)), n_out // 3)
    middle = np.linspace(head, length - 1 - tail, n_out - head - tail, endpoint=False)
    return s0 + np.concatenate([np.arange(head), middle, length - tail + np.arange(tail)]).astype(np.float64)


def sing_speech(
    analysis: SpeechAnalysis,
    plan: Plan,
    *,
    n: int,
    rng: np.random.Generator,
    start_frame: Optional[int] = None,
    jitter: float = 0.006,
    shimmer: float = 0.04,
    breathiness: float = 0.05,
    vibrato_rate: float = 5.5,
    vibrato_depth: float = 0.4,
    portamento: float = 0.08,
    rt60: float = 0.8,
    reverb_wet: float = 0.0,
) -> SungPhrase:
    """Sing a melody plan with the voice of an analysed recording.

    Parameters
    ----------
    analysis : SpeechAnalysis
        From :func:`analyse_speech`; its ``sr`` is the output's rate.
    plan : Plan
        Notes (``onset``, ``end``, ``midi``) and phrases, e.g. from
        :func:`.singer.singer_plan` in a range that suits the speaker.
    n : int
        Output length in samples.
    rng : numpy.random.Generator
    start_frame : int, optional
        Recording frame to start reading syllables from (drawn when None); the
        recording wraps around when the notes need more syllables than remain.
    jitter, shimmer : float
        Relative standard deviations of the pulses' periods and amplitudes.
    breathiness : float
        Breath noise in voiced frames, relative to the pulses.
    vibrato_rate, vibrato_depth, portamento : float
        Hz, semitones (peak) and seconds, as :func:`.singer.pitch_track`.
    rt60, reverb_wet : float
        Room reverb (``reverb_wet=0``: dry).

    Returns
    -------
    SungPhrase

    Raises
    ------
    ParameterError
        *n* < 1.
    """
    import librosa

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n={n!r} is not allowed: allowed an integer >= 1")
    sr = analysis.sr
    frame_rate = sr / HOP
    n_out = 1 + n // HOP
    notes = [nt for nt in plan.notes if nt.onset < n / sr]
    if not notes:
        return SungPhrase(np.zeros(n, np.float32), np.full(n_out, np.nan), sr, HOP, {"notes": 0})
    if start_frame is None:
        start_frame = int(rng.integers(analysis.n_frames))
    chunks = _chunks(rng, analysis, len(notes), int(start_frame) % analysis.n_frames)
    src = np.full(n_out, -1.0)  # fractional source frame per output frame, -1: silence
    copy = np.zeros(n_out, dtype=bool)  # consonant frames copied from the recording
    amp = np.zeros(n_out)
    onsets = [int(round(nt.onset * frame_rate)) for nt in notes]
    cons_len = [0 if c is None else min(c[1] - c[0], onsets[i]) for i, (c, _) in enumerate(chunks)]
    for i, (note, (cons, voiced)) in enumerate(zip(notes, chunks)):
        v0 = onsets[i]
        if i + 1 < len(notes) and notes[i + 1].onset - note.end < 1e-6:  # legato or consonant next
            v1 = onsets[i + 1] - cons_len[i + 1]
        else:
            v1 = int(round((note.end - 0.04) * frame_rate))
        v1 = min(max(v1, v0 + 2), n_out)
        if v0 >= n_out:
            break
        src[v0:v1] = _warp(v1 - v0, voiced)
        tt = np.arange(v1 - v0) / frame_rate
        amp[v0:v1] = smoothstep(tt / rng.uniform(0.02, 0.05)) * (
            1.0 - smoothstep((tt - tt[-1] + 0.04) / 0.04)
        )
        if cons is not None and cons_len[i] > 0:
            c0 = v0 - cons_len[i]
            src[c0:v0] = np.arange(cons[1] - cons_len[i], cons[1], dtype=np.float64)
            copy[c0:v0] = True
            amp[c0:v0] = 1.0
    voiced_out = (src >= 0) & ~copy
    # envelopes and energies at the warped positions (log-domain interpolation)
    pos = np.clip(src, 0.0, analysis.n_frames - 1.0)
    j0 = np.floor(pos).astype(int)
    j1 = np.minimum(j0 + 1, analysis.n_frames - 1)
    w = (pos - j0)[None, :]
    log_env = (1.0 - w) * analysis.log_envelope[:, j0] + w * analysis.log_envelope[:, j1]
    log_e = np.log(analysis.energy[j0] + 1e-20) * (1.0 - w[0]) + np.log(analysis.energy[j1] + 1e-20) * w[0]
    # the melody's source
    f0 = pitch_track(
        notes,
        rng=rng,
        n_frames=n_out,
        frame_rate=frame_rate,
        vibrato_rate=vibrato_rate,
        vibrato_depth=vibrato_depth,
        portamento=portamento,
    )
    f0_s = np.interp(np.arange(n), np.arange(n_out) * HOP, f0)
    excitation = pulse_train(f0_s, sr=sr, rng=rng, jitter=jitter, shimmer=shimmer)
    excitation += breathiness * rng.standard_normal(n)
    pulses = librosa.stft(excitation, n_fft=N_FFT, hop_length=HOP, window="hann", center=True)[:, :n_out]
    shaped = pulses * np.exp(log_env - log_env.max(axis=0, keepdims=True))
    gain = np.sqrt(np.exp(log_e) / np.maximum((np.abs(shaped) ** 2).sum(axis=0), 1e-20))
    spec = np.where(voiced_out[None, :], shaped * gain[None, :], 0.0)
    spec = np.where(copy[None, :], analysis.stft[:, np.round(pos).astype(int)], spec) * amp[None, :]
    audio = librosa.istft(spec.astype(np.complex64), hop_length=HOP, window="hann", length=n).astype(
        np.float64
    )
    audio = room_reverb(audio, rng, sr, rt60=rt60, wet=reverb_wet)
    peak = float(np.abs(audio).max())
    audio = audio * (0.5 / peak if peak > 0 else 0.0)
    used = src[src >= 0]
    info = {
        "notes": len(notes),
        "voiced_fraction": round(float(voiced_out.mean()), 4),
        "source_frames": [int(used.min()), int(math.ceil(used.max()))] if len(used) else [],
        "reverb": {"rt60": round(float(rt60), 3), "wet": round(float(reverb_wet), 4)},
    }
    return SungPhrase(audio.astype(np.float32), np.where(voiced_out, f0, np.nan), sr, HOP, info)
