"""Tests for the synthetic demo song (:mod:`conv2dsep_lib.sources.song`)."""

from __future__ import annotations

import json
import os
import time

import librosa
import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf

from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.sources.song import (
    DEFAULT_NAMES,
    REGISTERS,
    DemoSong,
    synthesize_song,
    write_song,
)
from conv2dsep_lib.sources.song_score import Note as _Note
from conv2dsep_lib.sources.song_voice import _pitch_track as pitch_control_track

EXCERPT = 4.7  # seconds: the default excerpt the workbook loads


@pytest.fixture(scope="module")
def song() -> DemoSong:
    return synthesize_song(seed=0)


def _db(x: float) -> float:
    return 20.0 * np.log10(x)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _power_spec(x: np.ndarray, sr: int, n_fft: int = 2048, hop: int = 512):
    spec = np.abs(librosa.stft(x.astype(np.float64), n_fft=n_fft, hop_length=hop)) ** 2
    return spec, librosa.fft_frequencies(sr=sr, n_fft=n_fft)


def _band(spec: np.ndarray, freqs: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return spec[(freqs >= lo) & (freqs < hi)].sum(axis=0)


# ----------------------------------------------------------------- shape, sum, levels


def test_shapes_dtype_and_info(song):
    n = int(round(12.0 * 44100))
    for arr in (song.mixture, song.vocal, song.instrumental):
        assert arr.shape == (2, n)
        assert arr.dtype == np.float32
    assert song.sr == 44100
    info = json.loads(json.dumps(song.info))  # JSON-able
    for key in ("seed", "tempo", "key", "register", "duration", "vocal_to_accompaniment_db"):
        assert key in info
    assert info["seed"] == 0 and info["duration"] == 12.0
    assert 84 <= info["tempo"] <= 128


def test_mixture_is_exact_sum_finite_and_normalised(song):
    assert np.array_equal(song.mixture, song.vocal + song.instrumental)
    for arr in (song.mixture, song.vocal, song.instrumental):
        assert np.isfinite(arr).all()
    peak = float(np.abs(song.mixture).max())
    assert peak <= 1.0
    assert abs(_db(peak) - (-1.0)) < 0.05


def test_no_silence_at_start_and_vocal_starts_early(song):
    sr = song.sr
    assert _rms(song.mixture[:, : int(0.05 * sr)]) > 0.01
    vocal = song.vocal.mean(axis=0)
    frame = int(0.02 * sr)
    rms = np.sqrt(np.mean(vocal[: len(vocal) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    first = int(np.argmax(rms > 0.1 * rms.max())) * frame / sr
    assert first < 0.3


def test_vocal_present_and_balanced_in_default_excerpt(song):
    n = int(EXCERPT * song.sr)
    vocal, band = song.vocal[:, :n], song.instrumental[:, :n]
    assert _db(_rms(vocal)) > -30.0  # far above silence
    assert -4.0 <= _db(_rms(vocal) / _rms(band)) <= 2.0
    # and most 100 ms frames of the excerpt contain singing
    frame = int(0.1 * song.sr)
    mono = vocal.mean(axis=0)[: n // frame * frame].reshape(-1, frame)
    frame_rms = np.sqrt(np.mean(mono**2, axis=1))
    assert np.mean(frame_rms > 0.1 * frame_rms.max()) > 0.6


@pytest.mark.parametrize("seed", range(6))
def test_vocal_to_accompaniment_ratio_in_range(seed):
    s = synthesize_song(seed=seed, sr=16000, duration=8.0)
    measured = _db(_rms(s.vocal) / _rms(s.instrumental))
    assert -3.0 <= measured <= 1.0
    assert s.info["vocal_to_accompaniment_db"] == pytest.approx(measured, abs=0.01)


def test_stereo_placement(song):
    sr = song.sr

    def bandpass(x, lo, hi):
        sos = ss.butter(4, [lo / (sr / 2), hi / (sr / 2)], btype="bandpass", output="sos")
        return ss.sosfilt(sos, x)

    def correlation(x):
        return float(np.corrcoef(x[0], x[1])[0, 1])

    def balance_db(x):
        return _db(_rms(x[0]) / _rms(x[1]))

    assert correlation(song.vocal) > 0.8  # vocal near the centre
    assert abs(balance_db(song.vocal)) < 1.0
    chords = bandpass(song.instrumental, 300, 2000)  # pad: detuned copies spread
    assert correlation(chords) < 0.7
    hats = bandpass(song.instrumental, 8000, 16000)  # hi-hats off to one side
    assert abs(balance_db(hats)) > 1.0


# ----------------------------------------------------------------- determinism, seeds


def test_same_seed_gives_identical_bytes():
    a = synthesize_song(seed=7, sr=16000, duration=3.0)
    b = synthesize_song(seed=7, sr=16000, duration=3.0)
    assert a.mixture.tobytes() == b.mixture.tobytes()
    assert a.vocal.tobytes() == b.vocal.tobytes()
    assert a.info == b.info


def test_different_seeds_differ():
    a = synthesize_song(seed=0, sr=16000, duration=3.0)
    b = synthesize_song(seed=1, sr=16000, duration=3.0)
    assert not np.allclose(a.mixture, b.mixture)
    for key in ("tempo", "key", "register"):
        assert a.info[key] != b.info[key]
    styles = {
        (s.info["tempo"], s.info["key"], s.info["register"])
        for s in (synthesize_song(seed=k, sr=8000, duration=1.0) for k in range(8))
    }
    assert len(styles) >= 6
    assert {r for _, _, r in styles} == set(REGISTERS)


def test_overrides_are_respected():
    s = synthesize_song(seed=3, sr=16000, duration=2.0, tempo=90, key="Am", register="high")
    assert (s.info["tempo"], s.info["key"], s.info["register"]) == (90.0, "Am", "high")


@pytest.mark.parametrize(
    "kwargs", [dict(sr=8000, duration=1.0), dict(tempo=240, duration=4.0), dict(tempo=40, duration=1.0)]
)
def test_extreme_but_valid_parameters(kwargs):
    s = synthesize_song(**kwargs)
    assert np.isfinite(s.mixture).all() and np.abs(s.mixture).max() <= 1.0
    assert np.array_equal(s.mixture, s.vocal + s.instrumental)


def test_speed():
    start = time.perf_counter()
    synthesize_song(seed=5)
    assert time.perf_counter() - start < 6.0  # ~0.5 s; generous for busy CI


# ----------------------------------------------------------------- the voice


def _pitch_track(s: DemoSong):
    """yin f0 (MIDI) of the low-passed mono vocal over the default excerpt."""
    sr, hop = s.sr, 256
    x = s.vocal.mean(axis=0)[: int(EXCERPT * sr)].astype(np.float64)
    x = ss.sosfilt(ss.butter(4, 1200 / (sr / 2), output="sos"), x)  # drop consonants
    centre = REGISTERS[s.info["register"]][0]
    f0 = librosa.yin(
        x,
        fmin=librosa.midi_to_hz(centre - 12),
        fmax=librosa.midi_to_hz(centre + 14),
        sr=sr,
        frame_length=2048,
        hop_length=hop,
    )
    rms = librosa.feature.rms(y=x, frame_length=1024, hop_length=hop)[0][: len(f0)]
    return librosa.hz_to_midi(f0), rms > 0.1 * rms.max(), hop / sr


@pytest.mark.parametrize("seed", [0, 1, 2])  # mid, high, low register
def test_vocal_pitch_has_melody_glides_and_vibrato(seed):
    s = synthesize_song(seed=seed, sr=22050, duration=6.0)
    midi, voiced, dt = _pitch_track(s)
    assert voiced.mean() > 0.6  # sung most of the time
    sung = midi[voiced]
    assert np.percentile(sung, 95) - np.percentile(sung, 5) > 2.0  # a melody
    # continuous pitch: many small (sub-semitone) frame-to-frame changes
    step = np.abs(np.diff(sung))
    assert np.mean((step > 0.02) & (step < 1.0)) > 0.3
    # vibrato: the residual around a 0.25 s running median peaks at 4.5..7 Hz
    residual = np.where(voiced, midi - ss.medfilt(midi, 21), 0.0)
    spectrum = np.abs(np.fft.rfft(residual * np.hanning(len(residual))))
    freqs = np.fft.rfftfreq(len(residual), dt)
    band = (freqs > 2.0) & (freqs < 15.0)
    assert 4.5 <= freqs[band][np.argmax(spectrum[band])] <= 7.0
    assert 0.05 < np.std(residual[voiced]) < 0.6


@pytest.mark.parametrize("seed", [0, 1, 2])  # mid, high, low register
def test_vocal_has_formants_that_change(seed):
    s = synthesize_song(seed=seed, sr=22050, duration=6.0)
    spec, freqs = _power_spec(s.vocal.mean(axis=0)[: int(EXCERPT * s.sr)], s.sr)
    total = spec.sum(axis=0)
    voiced = total > 0.05 * np.median(total)
    assert _band(spec, freqs, 200, 4000).sum() / spec.sum() > 0.75
    # F2 region vs F1 region: i/e have a high F2, o/u a low one.  One fixed vowel
    # gives a spread below ~9 dB (from pitch alone); changing vowels 15..30 dB.
    f2_over_f1 = 10 * np.log10(_band(spec, freqs, 1500, 2800) / _band(spec, freqs, 250, 1100))
    lo, hi = np.percentile(f2_over_f1[voiced], [10, 90])
    assert hi - lo > 12.0


def test_pitch_control_track_glides_and_delays_vibrato():
    rate = 1000.0
    t = np.arange(int(2.5 * rate)) / rate
    notes = [_Note(0.0, 1.2, 60.0, "a", None, True), _Note(1.2, 2.4, 64.0, "o", None, False)]
    spans = [(0.03, 1.22), (1.2, 2.35)]
    midi = librosa.hz_to_midi(pitch_control_track(np.random.default_rng(0), notes, spans, t, rate))
    # glide: 60 -> 64 passes through the interval over tens of milliseconds
    between = (t > 1.0) & (t < 1.4) & (midi > 60.7) & (midi < 63.3)
    assert 0.03 <= between.sum() / rate <= 0.2
    # vibrato is delayed: steady just after the glide, 5..6 Hz swings later on
    early = midi[(t > 1.3) & (t < 1.45)]
    late = midi[(t > 1.8) & (t < 2.2)]
    assert np.ptp(early) < 0.3
    assert 0.4 < np.ptp(late) < 1.3
    crossings = np.sum(np.diff(np.sign(late - late.mean())) != 0)
    assert 4.0 <= crossings / 2 / 0.4 <= 7.5  # vibrato rate, Hz


def test_vocal_has_consonant_noise_bursts(song):
    spec, freqs = _power_spec(song.vocal.mean(axis=0), song.sr, n_fft=1024, hop=256)
    total = spec.sum(axis=0)
    active = total > 1e-3 * total.max()
    hf_db = 10 * np.log10(_band(spec, freqs, 4000, 11000) + 1e-20)
    bursts = hf_db > np.median(hf_db[active]) + 12.0
    n_bursts = int(np.sum(np.diff(bursts.astype(int)) == 1))
    assert n_bursts >= 3  # several separate bursts
    assert bursts.mean() < 0.15  # and short ones


def test_band_has_low_end_the_vocal_lacks(song):
    v_spec, freqs = _power_spec(song.vocal.mean(axis=0), song.sr)
    b_spec, _ = _power_spec(song.instrumental.mean(axis=0), song.sr)
    v_low = _band(v_spec, freqs, 0, 80).sum() / v_spec.sum()
    b_low = _band(b_spec, freqs, 0, 80).sum() / b_spec.sum()
    assert b_low > 0.1
    assert v_low < 0.01
    # kick and bass sit in the centre
    low = ss.sosfilt(ss.butter(4, 100 / (song.sr / 2), output="sos"), song.instrumental)
    assert np.corrcoef(low[0], low[1])[0, 1] > 0.95


# ----------------------------------------------------------------- files


def test_write_song_roundtrip(tmp_path):
    s = synthesize_song(seed=2, sr=22050, duration=2.0)
    paths = write_song(s, tmp_path / "new" / "dir")
    assert set(paths) == {"mixture", "vocal", "instrumental"}
    assert [p.name for p in paths.values()] == list(DEFAULT_NAMES)
    for role, path in paths.items():
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        assert sr == 22050
        assert data.shape == (s.mixture.shape[1], 2)
        np.testing.assert_array_equal(data.T, getattr(s, role))
    assert sorted(os.listdir(paths["mixture"].parent)) == sorted(DEFAULT_NAMES)  # no temp files


def test_write_song_custom_names_and_subtype(tmp_path):
    s = synthesize_song(seed=2, sr=16000, duration=1.0)
    paths = write_song(s, tmp_path, names=("m.wav", "v.wav", "i.wav"), subtype="PCM_16")
    assert [p.name for p in paths.values()] == ["m.wav", "v.wav", "i.wav"]
    info = sf.info(str(paths["vocal"]))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 2, "PCM_16")


# ----------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(
    "kwargs, shown",
    [
        (dict(duration=0), "duration=0"),
        (dict(duration=-2.0), "duration=-2.0"),
        (dict(duration=0.5), "duration=0.5"),
        (dict(sr=4000), "sr=4000"),
        (dict(key="H"), "key='H'"),
        (dict(register="falsetto"), "register='falsetto'"),
        (dict(tempo=300), "tempo=300"),
        (dict(tempo=39.5), "tempo=39.5"),
        (dict(seed=-1), "seed=-1"),
    ],
)
def test_bad_parameters_raise(kwargs, shown):
    with pytest.raises(ParameterError) as excinfo:
        synthesize_song(**kwargs)
    message = str(excinfo.value)
    assert shown in message
    assert "allowed" in message


def test_tempo_message_names_range():
    with pytest.raises(ParameterError, match=r"tempo=300 is out of range: allowed 40\.\.240"):
        synthesize_song(tempo=300)
