"""The package's own STFT / ISTFT / resampling / soft mask / REPET-SIM neighbours give the numbers
of the library code they stand in for, to the last bit (librosa, scipy, scikit-learn are the
references here, in the tests only -- a run imports none of librosa, numba or scikit-learn)."""

from __future__ import annotations

import subprocess
import sys

import librosa
import numpy as np
import pytest
import scipy.signal

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.method import transforms as T
from conv2dsep_lib.separators import classic
from conv2dsep_lib.sources.audio import resample

SETTINGS = [(4.7, 2048, 1040), (3.3, 1024, 256), (2.0, 512, 512), (0.1, 2048, 1040), (0.5, 1024, 100)]


@pytest.mark.parametrize("n", [1, 2, 16, 511, 512, 2048])
def test_hann_is_scipys_periodic_hann(n):
    assert np.array_equal(T.hann(n), scipy.signal.get_window("hann", n, fftbins=True))


@pytest.mark.parametrize("duration,n_fft,hop", SETTINGS)
def test_stft_and_istft_are_librosas(duration, n_fft, hop):
    cfg = Config(duration=duration, n_fft=n_fft, hop_length=hop)
    n = int(duration * cfg.sr)
    rng = np.random.default_rng(n_fft + hop)
    y = rng.standard_normal(n).astype(np.float32)
    ref = librosa.stft(y, n_fft=n_fft, hop_length=hop, center=True)
    X = T.stft(y, config=cfg)
    assert X.dtype == ref.dtype and X.shape == ref.shape and X.flags.f_contiguous
    assert np.array_equal(X, ref)
    magnitude = np.abs(ref).astype(np.float64) * rng.random(ref.shape)
    phase = T.unit_phase(ref)
    for spec in (ref, magnitude * phase):  # complex64 (float32 arithmetic) and complex128
        for length in (n, n + 777, max(1, n - 1500)):
            expected = librosa.istft(spec, n_fft=n_fft, hop_length=hop, center=True, length=length)
            assert np.array_equal(T.istft(spec, config=cfg, length=length), expected.astype(np.float32))
    expected = librosa.istft(magnitude * phase, n_fft=n_fft, hop_length=hop, length=n).astype(np.float32)
    assert np.array_equal(T.istft_magnitude_phase(magnitude, phase, config=cfg, length=n), expected)


@pytest.mark.parametrize(
    "shape,orig,target", [((44100,), 44100, 22050), ((2, 44101), 44100, 22050), ((1, 16000), 16000, 22050)]
)
def test_resample_is_librosas_soxr_hq(shape, orig, target):
    y = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    expected = librosa.resample(y, orig_sr=orig, target_sr=target, res_type="soxr_hq", axis=-1)
    assert np.array_equal(resample(y, orig_sr=orig, sr=target), expected.astype(np.float32))


def test_softmask_is_librosas():
    rng = np.random.default_rng(1)
    X = rng.random((64, 50)).astype(np.float32)
    R = rng.random((64, 50)).astype(np.float32)
    X[:5] = 0
    R[:3] = 0
    for split in (False, True):
        expected = librosa.util.softmask(X, R, power=2, split_zeros=split)
        assert np.array_equal(classic.softmask(X, R, power=2, split_zeros=split), expected)


def _clips():
    rng = np.random.default_rng(2)
    sr = 22050
    t = np.arange(int(6 * sr)) / sr
    beat = np.sin(2 * np.pi * 110 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    tune = 0.3 * np.sin(2 * np.pi * (440 + 40 * np.sin(2 * np.pi * 0.3 * t)) * t)
    yield (beat + tune + 0.01 * rng.standard_normal(len(t))).astype(np.float32)  # a loop and a voice
    yield np.tile(rng.standard_normal(2080).astype(np.float32), 22)[: 2 * sr]  # exact repeats: ties
    yield np.zeros(2 * sr, dtype=np.float32)  # silent frames: zero norms


@pytest.mark.parametrize("clip", list(_clips()), ids=["loop+voice", "exact-repeats", "silence"])
def test_repet_neighbours_are_librosas_and_scikit_learns(clip):
    cfg = Config()
    S = np.abs(T.stft(clip, config=cfg))
    width = classic.repet_width(S.shape[-1], config=cfg)
    rec = librosa.segment.recurrence_matrix(S, metric="cosine", width=width, sparse=True).tocsc()
    expected = [np.sort(rec.indices[rec.indptr[i] : rec.indptr[i + 1]]) for i in range(S.shape[-1])]
    got = classic.repet_neighbours(S, width=width)
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    ref = librosa.decompose.nn_filter(S, aggregate=np.median, metric="cosine", width=width)
    assert np.array_equal(classic._neighbour_median(S, got), ref)


def test_a_run_imports_neither_librosa_nor_numba_nor_scikit_learn(tmp_path):
    code = (
        "import sys\n"
        "from conv2dsep_lib.cli import main\n"
        f"code = main(['best', '--slices', '2', '--out', {str(tmp_path)!r}, '--quiet'])\n"
        "print(code, sorted(m for m in ('librosa', 'numba', 'llvmlite', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["0", "[]"], out.stdout


@pytest.mark.parametrize("chunk", [1, 13, 100])
def test_hpss_in_chunks_gives_the_numbers_of_one_pass(chunk, monkeypatch):
    rng = np.random.default_rng(4)
    y = np.concatenate([next(iter(_clips())), rng.standard_normal(22050).astype(np.float32) * 0.1])
    X = T.stft(y, config=Config())
    monkeypatch.setattr(classic, "HPSS_CHUNK", 10**9)
    whole = classic.hpss_mask(X, Config())
    monkeypatch.setattr(classic, "HPSS_CHUNK", chunk)
    assert np.array_equal(classic.hpss_mask(X, Config()), whole)


def test_neighbour_median_is_numpys_median_for_odd_even_and_no_neighbours():
    rng = np.random.default_rng(5)
    S = rng.random((33, 40)).astype(np.float32)
    counts = [0, 1, 2, 3, 7, 8] * 7
    neighbours = [np.sort(rng.choice(40, size=c, replace=False)) for c in counts[:40]]
    got = classic._neighbour_median(S, neighbours)
    for i, nb in enumerate(neighbours):
        expected = S[:, i] if len(nb) == 0 else np.median(S[:, nb], axis=1)
        assert np.array_equal(got[:, i], expected), (i, len(nb))


@pytest.mark.parametrize("n_fft,hop", [(2048, 1040), (1024, 256), (512, 512), (2048, 100)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_sumsquare_in_parts_is_librosas(n_fft, hop, dtype):
    n_frames = 230
    expected = librosa.filters.window_sumsquare(
        window="hann", n_frames=n_frames, hop_length=hop, n_fft=n_fft, dtype=dtype
    )
    for segment in (1, 7, hop, 3 * hop + 5, 5000, len(expected) + 10):
        parts = [
            T._window_sumsquare(lo, lo + segment, n_frames=n_frames, n_fft=n_fft, hop_length=hop, dtype=dtype)
            for lo in range(0, len(expected), segment)
        ]
        got = np.concatenate(parts)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), segment


def test_istft_of_a_long_signal_in_small_segments_is_librosas(monkeypatch):
    cfg = Config(duration=12.0)
    rng = np.random.default_rng(9)
    y = rng.standard_normal(int(12.0 * cfg.sr)).astype(np.float32)
    spec = librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length, center=True)
    monkeypatch.setattr(T, "WSS_SEGMENT", 3 * cfg.hop_length + 17)  # many inner parts, reused
    for length in (len(y), len(y) + 3000):
        expected = librosa.istft(spec, n_fft=cfg.n_fft, hop_length=cfg.hop_length, center=True, length=length)
        assert np.array_equal(T.istft(spec, config=cfg, length=length), expected.astype(np.float32))
