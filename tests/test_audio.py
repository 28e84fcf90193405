"""Audio loading and writing: rates, channels, excerpts, and every bad input."""

import numpy as np
import pytest
import soundfile as sf

from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.sources.audio import load_audio, load_pair, write_wav


def test_load_resamples_and_downmixes(write_pair):
    mp, vp = write_pair(sr=48000, seconds=5.0)
    y = load_audio(mp, sr=22050, duration=4.7)
    assert y.shape == (int(round(4.7 * 22050)),) and y.dtype == np.float32
    st = load_audio(mp, sr=22050, duration=1.0, mono=False)
    assert st.shape == (2, 22050)


@pytest.mark.parametrize("sr,ext", [(44100, "wav"), (48000, "flac"), (22050, "wav"), (16000, "flac")])
@pytest.mark.parametrize("stereo_mix,stereo_vocal", [(True, True), (True, False), (False, False)])
def test_pair_any_rate_format_and_channels(write_pair, sr, ext, stereo_mix, stereo_vocal):
    mp, vp = write_pair(
        sr=sr,
        ext=ext,
        stereo_mix=stereo_mix,
        stereo_vocal=stereo_vocal,
        subdir=f"p{sr}{ext}{stereo_mix}{stereo_vocal}",
    )
    pair = load_pair(mp, vp, sr=22050, duration=4.7)
    assert pair.mixture.shape == pair.vocal.shape == (103635,)
    # the mono downmix of mixture minus vocal is the band (no misalignment)
    corr = np.corrcoef(pair.mixture - pair.vocal, pair.mixture)[0, 1]
    assert corr > 0.3
    assert pair.source["native_sr"]["mixture"] == sr


def test_offset_selects_the_excerpt(tmp_path):
    sr = 8000
    y = np.zeros(sr * 3, dtype=np.float32)
    y[sr * 2 : sr * 2 + 10] = 0.5  # a click at 2 s
    sf.write(tmp_path / "a.wav", y, sr)
    ex = load_audio(tmp_path / "a.wav", sr=sr, offset=1.5, duration=1.0)
    assert np.argmax(ex) == sr // 2


def test_too_short_is_an_error_unless_padded(write_pair):
    mp, vp = write_pair(seconds=3.0)
    with pytest.raises(ParameterError, match=r"too short: 3\.000 s"):
        load_pair(mp, vp, sr=22050, duration=4.7)
    pair = load_pair(mp, vp, sr=22050, duration=4.7, pad=True)
    assert pair.mixture.shape == (103635,) and np.all(pair.mixture[-1000:] == 0)


def test_missing_and_unreadable(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_audio(tmp_path / "nope.wav", sr=22050)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(ParameterError, match="not readable audio"):
        load_audio(bad, sr=22050)


def test_nan_and_silence(tmp_path):
    y = np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1
    y[100] = np.nan
    sf.write(tmp_path / "nan.wav", y, 8000, subtype="FLOAT")
    with pytest.raises(
        ParameterError,
        match=r"nan\.wav has 1 NaN/inf samples \(the first at index 100: nan\): "
        r"allowed finite samples only",
    ):
        load_audio(tmp_path / "nan.wav", sr=8000)
    sf.write(tmp_path / "silent.wav", np.zeros(8000, np.float32), 8000)
    with pytest.raises(
        ParameterError, match=r"silent\.wav is silent \(peak < 1e-08\): allowed a non-silent signal"
    ):
        load_audio(tmp_path / "silent.wav", sr=8000)


def test_length_mismatch_and_channels(tmp_path, write_pair):
    mp, _ = write_pair(seconds=6.0, subdir="long")
    _, vp = write_pair(seconds=5.0, subdir="short")
    with pytest.raises(ParameterError, match="differ in length"):
        load_pair(mp, vp, sr=22050, duration=4.7)
    sf.write(tmp_path / "quad.wav", np.zeros((44100 * 5, 4), np.float32) + 0.1, 44100)
    with pytest.raises(ParameterError, match="4 channels"):
        load_pair(tmp_path / "quad.wav", vp, sr=22050, duration=4.7)


def test_bad_offset(write_pair):
    mp, _ = write_pair()
    with pytest.raises(ParameterError, match=r"offset=-1 is invalid: allowed a number of seconds 0..86400"):
        load_audio(mp, sr=22050, offset=-1)
    with pytest.raises(ParameterError, match="past the end"):
        load_audio(mp, sr=22050, offset=60)


def test_write_wav_roundtrip_is_exact_and_atomic(tmp_path):
    y = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32) * 0.1
    p = write_wav(tmp_path / "sub" / "x.wav", y, 22050)
    back, sr = sf.read(p, dtype="float32", always_2d=True)
    assert sr == 22050 and np.array_equal(back.T, y)
    assert [f.name for f in p.parent.iterdir()] == ["x.wav"]  # no temporary left behind


def test_write_wav_is_deterministic(tmp_path):
    """No PEAK chunk (libsndfile stamps it with the time): same samples, same bytes."""
    import time

    y = np.linspace(-0.5, 0.5, 4410, dtype=np.float32)
    a = write_wav(tmp_path / "a.wav", y, 22050).read_bytes()
    time.sleep(1.1)
    b = write_wav(tmp_path / "b.wav", y, 22050).read_bytes()
    assert a == b and b"PEAK" not in a


def test_downmix_gives_numpys_channel_mean_bit_for_bit():
    from conv2dsep_lib.sources.audio import downmix

    rng = np.random.default_rng(3)
    for channels in (1, 2, 3):
        interleaved = rng.standard_normal((10_001, channels)).astype(np.float32)  # as a file reads
        x = interleaved.T
        y = downmix(x)
        assert y.dtype == np.float32 and y.shape == (10_001,)
        assert np.array_equal(y, x.mean(axis=0))
        assert not np.shares_memory(y, interleaved)
