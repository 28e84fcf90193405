"""``conv2dsep prepare``: a mixed folder of source pairs, prepared safely and exactly.

The source folder holds pairs in WAV, FLAC, OGG (and MP3 where libsndfile has it) at
44.1 and 48 kHz, mono and stereo, one vocal 20 ms late, one missing partner, one clip
shorter than 4.7 s, NaN samples, an empty and an unreadable file.  Every test hashes
the source folder before and after.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import _voice_and_band

from conv2dsep_lib import cli
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.sources.align import auto_offset, measure_lag, shift_signal
from conv2dsep_lib.sources.layout import find_pairs
from conv2dsep_lib.sources.prepare import MAX_LAG_MS, prepare, prepare_pair

HAS_MP3 = "MP3" in sf.available_formats()
ROOT = Path(__file__).resolve().parents[1]

GOOD = ["a_wav44_stereo", "b_flac48_mono", "c_ogg48_mixed"] + (["j_mp3"] if HAS_MP3 else [])
SKIPPED = {
    "d_lag20ms": "20.0 ms",
    "e_lonely": "missing partner",
    "f_short": "too short",
    "g_nan": "has 10 NaN/inf samples",
    "h_empty": "empty",
    "i_garbage": "not readable audio",
}


def _signals(sr, seconds, seed):
    voice, band = _voice_and_band(sr, int(round(sr * seconds)), seed)
    return 0.5 * voice, 0.5 * band


def _stereo(x, right=0.8):
    return np.stack([x, right * x], axis=1)


def _write_mixed_folder(src: Path) -> None:
    src.mkdir(parents=True)
    # a: WAV mixture + FLAC vocal, 44.1 kHz stereo
    v, b = _signals(44100, 5.6, 0)
    sf.write(src / "a_wav44_stereo_100-full.wav", _stereo(v + b), 44100)
    sf.write(src / "a_wav44_stereo_100-stem.flac", _stereo(v), 44100)
    # b: FLAC 48 kHz mono pair
    v, b = _signals(48000, 5.5, 1)
    sf.write(src / "b_flac48_mono_100-full.flac", v + b, 48000)
    sf.write(src / "b_flac48_mono_100-stem.wav", v, 48000, subtype="FLOAT")
    # c: OGG 48 kHz stereo mixture, mono WAV 48 kHz vocal
    v, b = _signals(48000, 5.5, 2)
    sf.write(src / "c_ogg48_mixed_100-full.ogg", _stereo(v + b, 1.0), 48000, format="OGG", subtype="VORBIS")
    sf.write(src / "c_ogg48_mixed_100-stem.wav", v, 48000)
    # d: the vocal is 20 ms late (882 samples at 44.1 kHz)
    v, b = _signals(44100, 5.6, 3)
    late = np.concatenate([np.zeros(882, np.float32), v[:-882]])
    sf.write(src / "d_lag20ms_100-full.wav", _stereo(v + b), 44100, subtype="FLOAT")
    sf.write(src / "d_lag20ms_100-stem.wav", _stereo(late), 44100, subtype="FLOAT")
    # e: missing partner
    sf.write(src / "e_lonely_100-full.wav", v + b, 44100)
    # f: 4.0 s < 4.7 s
    v, b = _signals(44100, 4.0, 4)
    sf.write(src / "f_short_100-full.wav", v + b, 44100)
    sf.write(src / "f_short_100-stem.wav", v, 44100)
    # g: NaN samples in the vocal
    v, b = _signals(44100, 5.5, 5)
    bad = v.copy()
    bad[1000:1010] = np.nan
    sf.write(src / "g_nan_100-full.wav", v + b, 44100, subtype="FLOAT")
    sf.write(src / "g_nan_100-stem.wav", bad, 44100, subtype="FLOAT")
    # h: an empty mixture
    sf.write(src / "h_empty_100-full.wav", np.zeros((0, 2), np.float32), 44100)
    sf.write(src / "h_empty_100-stem.wav", v, 44100)
    # i: an unreadable vocal
    sf.write(src / "i_garbage_100-full.wav", v + b, 44100)
    (src / "i_garbage_100-stem.wav").write_bytes(b"this is not audio" * 100)
    if HAS_MP3:
        v, b = _signals(44100, 5.5, 6)
        sf.write(src / "j_mp3_100-full.mp3", _stereo(v + b), 44100, format="MP3")
        sf.write(src / "j_mp3_100-stem.mp3", _stereo(v), 44100, format="MP3")
    (src / "notes.txt").write_text("not a pair\n")


def _tree_hashes(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    src = tmp_path_factory.mktemp("mixed") / "process" / "100-window"
    _write_mixed_folder(src)
    return src


@pytest.fixture
def source(mixed):
    """The mixed source folder; asserts after the test that not one byte changed."""
    before = _tree_hashes(mixed)
    stats = {p: os.stat(p).st_mtime_ns for p in mixed.iterdir()}
    yield mixed
    assert _tree_hashes(mixed) == before
    assert {p: os.stat(p).st_mtime_ns for p in mixed.iterdir()} == stats


def _read(path):
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return y.T, sr


# --------------------------------------------------------------------------- outcomes


def test_find_pairs_matches_by_name(source):
    pairs, problems, ignored = find_pairs(source)
    assert sorted(p.name for p in pairs) == sorted(set(GOOD) | set(SKIPPED) - {"e_lonely"})
    assert problems == [("e_lonely", problems[0][1])] and "missing partner" in problems[0][1]
    assert ignored == ["notes.txt"]


def test_mixed_folder_prepared_and_skipped_by_name(source, tmp_path):
    dest = tmp_path / "rtg"
    result = prepare(source, dest)
    assert sorted(p.name for p in result.prepared) == sorted(GOOD)
    assert {p.status for p in result.prepared} == {"written"}
    skipped = {p.name: p.reason for p in result.skipped}
    assert set(skipped) == set(SKIPPED)
    for name, expected in SKIPPED.items():
        assert expected in skipped[name], (name, skipped[name])
        assert not (dest / name).exists()
    assert "--align" in skipped["d_lag20ms"] and f"{MAX_LAG_MS:g} ms" in skipped["d_lag20ms"]
    assert result.exit_code == 1
    assert result.ignored == ("notes.txt",)


def test_outputs_rate_channels_and_instrumental(source, tmp_path):
    config = Config()
    prepare(source, tmp_path / "rtg")
    expected_channels = {"a_wav44_stereo": 2, "b_flac48_mono": 1, "c_ogg48_mixed": 2, "j_mp3": 2}
    for name in GOOD:
        folder = tmp_path / "rtg" / name
        arrays = {}
        for role in ("stereo_mixture", "isolated_vocal", "stereo_instrumental"):
            info = sf.info(str(folder / f"{role}.wav"))
            assert info.samplerate == config.sr
            assert info.subtype == "FLOAT" and info.format == "WAV"
            assert info.frames == config.n_samples
            assert info.channels == expected_channels[name], (name, role)
            arrays[role], _ = _read(folder / f"{role}.wav")
        np.testing.assert_array_equal(
            arrays["stereo_instrumental"], arrays["stereo_mixture"] - arrays["isolated_vocal"]
        )
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["sr"] == config.sr and manifest["channels"] == expected_channels[name]
        assert manifest["excerpt"] == {
            "offset": 0.0,
            "duration": 4.7,
            "start_sample": 0,
            "n_samples": config.n_samples,
            "mode": "fixed",
        }
        for role in ("mixture", "vocal"):
            entry = manifest["sources"][role]
            src_file = (folder / entry["path"]).resolve()
            assert src_file.parent == source.resolve()
            assert entry["sha256"] == hashlib.sha256(src_file.read_bytes()).hexdigest()
        assert set(manifest["levels"]["excerpt"]) == {"mixture", "vocal", "instrumental"}
        assert abs(manifest["lag"]["measured_ms"]) <= MAX_LAG_MS
    c = json.loads((tmp_path / "rtg" / "c_ogg48_mixed" / "manifest.json").read_text())
    assert c["sources"]["mixture"]["samplerate"] == 48000 and c["sources"]["vocal"]["channels"] == 1


def test_offset_cuts_the_excerpt_from_the_resampled_source(source, tmp_path):
    import librosa

    result = prepare(source, tmp_path / "rtg", offset=0.5)
    assert result["a_wav44_stereo"].manifest["excerpt"]["start_sample"] == 11025
    y, sr = _read(source / "a_wav44_stereo_100-full.wav")
    full = librosa.resample(y, orig_sr=sr, target_sr=22050, res_type="soxr_hq", axis=-1)
    got, _ = _read(tmp_path / "rtg" / "a_wav44_stereo" / "stereo_mixture.wav")
    np.testing.assert_array_equal(got, full[:, 11025 : 11025 + Config().n_samples])
    # 0.85 s + 4.7 s fits the 5.6 s clip, not the 5.5 s ones: those are skipped by name
    late = prepare(source, tmp_path / "late", offset=0.85)
    assert "too short" in late["b_flac48_mono"].reason and "a_wav44_stereo" in [p.name for p in late.prepared]


def test_lag_refused_then_aligned(source, tmp_path):
    result = prepare(source, tmp_path / "rtg", align=True)
    report = result["d_lag20ms"]
    assert report.status == "written"
    lag = report.manifest["lag"]
    assert lag["measured_ms"] == pytest.approx(20.0, abs=0.1)
    assert lag["aligned"] and lag["shift_samples"] == lag["measured_samples"]
    assert abs(lag["after_ms"]) < 0.1
    mix, sr = _read(tmp_path / "rtg" / "d_lag20ms" / "stereo_mixture.wav")
    voc, _ = _read(tmp_path / "rtg" / "d_lag20ms" / "isolated_vocal.wav")
    assert abs(measure_lag(mix, voc, sr=sr)) <= 1
    # the aligned vocal matches the mixture's vocal: the instrumental is the band only
    inst, _ = _read(tmp_path / "rtg" / "d_lag20ms" / "stereo_instrumental.wav")
    assert np.mean(inst**2) < 0.5 * np.mean(mix**2)
    with pytest.raises(ParameterError, match=r"lags the mixture by 20\.0 ms"):
        prepare_pair(source / "d_lag20ms_100-full.wav", source / "d_lag20ms_100-stem.wav", tmp_path / "one")


# --------------------------------------------------------------------------- safety


def test_rerun_is_idempotent_and_untouched(source, tmp_path):
    dest = tmp_path / "rtg"
    prepare(source, dest, offset="auto")
    before = _tree_hashes(dest)
    mtimes = {p: os.stat(p).st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    again = prepare(source, dest, offset="auto")
    assert {p.status for p in again.prepared} == {"unchanged"}
    assert _tree_hashes(dest) == before
    assert {p: os.stat(p).st_mtime_ns for p in dest.rglob("*") if p.is_file()} == mtimes
    for wav in dest.rglob("*.wav"):
        assert b"PEAK" not in wav.read_bytes()[:200]  # no timestamped chunk in the header


def test_different_output_needs_force(source, tmp_path):
    dest = tmp_path / "rtg"
    prepare(source, dest)
    target = dest / "a_wav44_stereo" / "stereo_mixture.wav"
    first = target.read_bytes()
    refused = prepare(source, dest, offset=0.25)
    for name in GOOD:
        assert refused[name].skipped and "--force" in refused[name].reason
    assert target.read_bytes() == first
    forced = prepare(source, dest, offset=0.25, force=True)
    assert {forced[n].status for n in GOOD} == {"overwritten"}
    fresh = prepare(source, tmp_path / "fresh", offset=0.25)
    assert target.read_bytes() == (tmp_path / "fresh" / "a_wav44_stereo" / "stereo_mixture.wav").read_bytes()
    assert fresh.exit_code == 1


def test_no_temporary_files_left(source, tmp_path):
    prepare(source, tmp_path / "rtg", align=True)
    assert not [p for p in (tmp_path / "rtg").rglob(".*")]


def test_single_pair_is_written_directly(tmp_path):
    src = tmp_path / "process"
    src.mkdir()
    v, b = _signals(48000, 5.0, 7)
    sf.write(src / "song_100-full.flac", _stereo(v + b), 48000)
    sf.write(src / "song_100-stem.flac", _stereo(v), 48000)
    result = prepare(src, tmp_path / "rtg", config=Config(sr=16000))
    assert result.exit_code == 0 and result["song"].folder == tmp_path / "rtg"
    assert sorted(p.name for p in (tmp_path / "rtg").iterdir()) == [
        "isolated_vocal.wav",
        "manifest.json",
        "stereo_instrumental.wav",
        "stereo_mixture.wav",
    ]
    assert sf.info(str(tmp_path / "rtg" / "stereo_mixture.wav")).samplerate == 16000


def test_auto_offset_picks_the_loud_vocal_window(tmp_path):
    sr = 44100
    v, b = _signals(sr, 6.0, 8)
    env = np.full(v.size, 0.02, np.float32)
    env[int(3.0 * sr) : int(5.2 * sr)] = 1.0
    src = tmp_path / "process"
    src.mkdir()
    sf.write(src / "x_100-full.wav", v * env + b, sr)
    sf.write(src / "x_100-stem.wav", v * env, sr)
    result = prepare(src, tmp_path / "rtg", offset="auto", config=Config(duration=2.0))
    excerpt = result["x"].manifest["excerpt"]
    assert excerpt["mode"] == "auto" and 2.95 <= excerpt["offset"] <= 3.25
    assert excerpt["start_sample"] == round(excerpt["offset"] * 22050)


def test_level_checks_are_reported(tmp_path):
    src = tmp_path / "process"
    src.mkdir()
    v, b = _signals(44100, 5.0, 9)
    sf.write(src / "loud_100-full.wav", v + 0.1 * b, 44100)
    sf.write(src / "loud_100-stem.wav", 2.5 * v, 44100)  # louder than, and not inside, the mix
    report = prepare(src, tmp_path / "rtg")["loud"]
    assert report.status == "written"
    text = " | ".join(report.warnings)
    assert "louder than the mixture" in text and "not contained" in text
    assert report.manifest["checks"]["vocal_louder_than_mixture"]
    assert report.manifest["checks"]["vocal_not_contained"]
    assert report.manifest["warnings"] == list(report.warnings)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "later", True])
def test_bad_offset_is_a_parameter_error(source, tmp_path, bad):
    with pytest.raises(
        ParameterError, match=r"offset=\S+ is invalid: allowed a number of seconds 0..86400 or 'auto'"
    ):
        prepare(source, tmp_path / "rtg", offset=bad)


def test_bad_folders_are_parameter_errors(source, tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        prepare(tmp_path / "nowhere", tmp_path / "rtg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="holds no pairs"):
        prepare(tmp_path / "empty", tmp_path / "rtg")
    with pytest.raises(ParameterError, match="inside the source folder"):
        prepare(source, source / "out")


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("lag", [-300, -1, 0, 7, 441])
def test_measure_lag_and_shift_roundtrip(lag):
    rng = np.random.default_rng(1)
    v = rng.standard_normal(22050).astype(np.float32)
    mix = v + 0.7 * rng.standard_normal(22050).astype(np.float32)
    moved = shift_signal(v, -lag)  # vocal late by `lag`
    assert measure_lag(mix, moved, sr=22050) == lag
    assert measure_lag(mix, shift_signal(moved, lag), sr=22050) == 0


def test_measure_lag_searches_half_a_second():
    rng = np.random.default_rng(2)
    v = rng.standard_normal(44100)
    late = shift_signal(v, -int(0.7 * 22050))
    assert abs(measure_lag(v, late, sr=22050)) <= int(0.5 * 22050)


def test_auto_offset_needs_a_long_enough_signal():
    with pytest.raises(ParameterError, match="too short"):
        auto_offset(np.ones(100), sr=100, duration=2.0)
    y = np.zeros(1000)
    y[500:700] = 1.0
    assert auto_offset(y, sr=100, duration=2.0) == pytest.approx(5.0)


# --------------------------------------------------------------------------- command line


def test_cli_prepare_exit_codes_and_messages(source, tmp_path, capsys):
    dest = tmp_path / "rtg"
    assert cli.main(["prepare", "--source", str(source), "--dest", str(dest)]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == len(SKIPPED) + 1
    for name in SKIPPED:
        assert any(line.startswith(f"conv2dsep: skipped {name}: ") for line in lines), name
    assert (
        "conv2dsep: warning: ignored 'notes.txt': not <name>_100-full.<ext> or <name>_100-stem.<ext>" in lines
    )
    assert "written" in out and "6 skipped" in out and "1 ignored" in out

    assert cli.main(["prepare", "--source", str(source), "--dest", str(dest), "--align"]) == 1
    out, err = capsys.readouterr()
    assert "d_lag20ms" in out and "aligned" in out and "d_lag20ms" not in err

    for argv, needle in (
        (["prepare", "--source", str(tmp_path / "missing")], "does not exist"),
        (["prepare", "--source", str(source), "--offset", "soon"], "'soon'"),
        (
            ["prepare", "--source", str(source), "--offset", "-2"],
            "offset=-2 is invalid: allowed a number of seconds 0..86400 or 'auto'",
        ),
        (["prepare", "--demo", "--source", str(source)], "--demo"),
        (["prepare", "--source", str(source), "--track", "x"], "--musdb"),
    ):
        assert cli.main(argv) == 2
        out, err = capsys.readouterr()
        assert len(err.strip().splitlines()) == 1 and err.startswith("conv2dsep: error: "), err
        assert needle in err


def test_cli_prepare_all_good_is_exit_0(tmp_path, capsys):
    src = tmp_path / "process"
    src.mkdir()
    for i in range(2):
        v, b = _signals(44100, 5.0, 10 + i)
        sf.write(src / f"s{i}_100-full.wav", v + b, 44100)
        sf.write(src / f"s{i}_100-stem.ogg", v, 44100, format="OGG", subtype="VORBIS")
    argv = ["prepare", "--source", str(src), "--dest", str(tmp_path / "rtg"), "--offset", "auto"]
    assert cli.main(argv) == 0
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert "2 unchanged" in out and err == ""


def test_python_m_prepare_exit_code(source, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conv2dsep_lib",
            "prepare",
            "--source",
            str(source),
            "--dest",
            str(tmp_path / "rtg"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "conv2dsep: skipped e_lonely: missing partner" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
