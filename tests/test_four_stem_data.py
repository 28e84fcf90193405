"""Four stems on the data side: the demo synthesiser, the demo set, prepare and MUSDB18 carry
drums, bass and other beside the mixture and vocal -- without changing a sample of those."""

import hashlib
import json
import os

import numpy as np
import pytest
import soundfile as sf

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir
from conv2dsep_lib.sources.layout import SOURCE_PATTERN, STEM_NAMES, STEM_TAGS, find_pairs
from conv2dsep_lib.sources.musdb18 import list_musdb_tracks, read_musdb_track
from conv2dsep_lib.sources.prepare import prepare, prepare_musdb, prepare_pair
from conv2dsep_lib.sources.song import BAND_TARGETS, synthesize_song, write_song
from conv2dsep_lib.sources.standardise import standardise_stem

BAND = ("drums", "bass", "other")

#: sha256 of mixture / vocal / instrumental bytes of ``synthesize_song(seed=s, duration=4.0)``,
#: recorded with the code before the stems existed.
OLD_HASHES = {
    0: (
        "a777896574d1acb83d8b1b711c7912a1e299bfa719b52db953fcd84111576663",
        "5cf230fe4f7c38173de32a437139bd5a35e4ba1c097b4509af1e8498c12292b0",
        "b3423236bb0bd32c271d74182488fdf3dd2394eeb177656b65ff759998539ce6",
    ),
    1: (
        "262e058dbc8db9d51efd96eda9662e5276fb37b496e4efcf4bdef4d0204f3206",
        "ae8e8a8ae4b4fafa0ce0dae7d768acfe4645f1cee8d67d16561e3f7fa0589e90",
        "711e7e6b03f079d3867131a76670603088424859bbd635f9814a2b8633935fa3",
    ),
}


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(a.tobytes()).hexdigest()


def _read(path):
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return y.T, sr


# --------------------------------------------------------------------------- the synthesiser


@pytest.mark.parametrize("seed", sorted(OLD_HASHES))
def test_demo_mixture_vocal_instrumental_unchanged(seed):
    song = synthesize_song(seed=seed, duration=4.0)
    assert (_sha(song.mixture), _sha(song.vocal), _sha(song.instrumental)) == OLD_HASHES[seed]


def test_synth_stems_sum_to_the_mixture():
    song = synthesize_song(seed=2, duration=2.0)
    assert BAND_TARGETS == BAND and tuple(song.stems) == BAND
    for target, y in song.stems.items():
        assert y.dtype == np.float32 and y.shape == song.vocal.shape, target
        assert float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) > 1e-3, target  # each one sounds
    d, b, o = (song.stems[t] for t in BAND)
    np.testing.assert_array_equal(o, song.instrumental - d - b)  # other is the float32 residual
    total = song.vocal + d + b + o
    np.testing.assert_allclose(total, song.mixture, rtol=0, atol=4 * np.finfo(np.float32).eps)
    np.testing.assert_allclose(d + b + o, song.instrumental, rtol=0, atol=4 * np.finfo(np.float32).eps)


def test_write_song_writes_the_stems_only_when_asked(tmp_path):
    song = synthesize_song(seed=0, sr=8000, duration=1.0)
    assert set(write_song(song, tmp_path / "plain")) == {"mixture", "vocal", "instrumental"}
    paths = write_song(song, tmp_path / "four", stems=True)
    assert set(paths) == {"mixture", "vocal", "instrumental", *BAND}
    for target in BAND:
        assert paths[target].name == STEM_NAMES[target]
        np.testing.assert_array_equal(_read(paths[target])[0], song.stems[target])
    with pytest.raises(ParameterError, match="isolated_drums.wav"):
        write_song(song, tmp_path / "x", names=("m.wav", "isolated_drums.wav", "i.wav"), stems=True)


# --------------------------------------------------------------------------- find_pairs


def test_source_pattern_and_orphan_stems(tmp_path):
    assert SOURCE_PATTERN.match("song_100-drums.flac").group("name", "tag") == ("song", "_100-drums")
    assert SOURCE_PATTERN.match("a_100-bass_100-other.wav").group("tag") == "_100-other"
    tone = (0.1 * np.sin(np.arange(8000) / 5.0)).astype(np.float32)
    for name in ("song_100-full.wav", "song_100-stem.wav", "song_100-bass.wav", "song_100-other.flac"):
        sf.write(tmp_path / name, tone, 8000)
    sf.write(tmp_path / "lonely_100-drums.wav", tone, 8000)
    for name in ("twice_100-full.wav", "twice_100-stem.wav", "twice_100-drums.wav", "twice_100-drums.aiff"):
        sf.write(tmp_path / name, tone, 8000)
    (tmp_path / "song_100-piano.wav").write_bytes(b"x")
    pairs, problems, ignored = find_pairs(tmp_path)
    assert [(p.name, p.stems) for p in pairs] == [
        ("song", {"bass": tmp_path / "song_100-bass.wav", "other": tmp_path / "song_100-other.flac"})
    ]
    assert dict(problems) == {
        "lonely": "missing partner: found lonely_100-drums.wav but no lonely_100-full.<ext> "
        "and no lonely_100-stem.<ext>",
        "twice": "several drums files (twice_100-drums.aiff, twice_100-drums.wav): allowed one "
        "twice_100-drums.<ext>",
    }
    assert ignored == ["song_100-piano.wav"]


# --------------------------------------------------------------------------- prepare


@pytest.fixture(scope="module")
def lagging_song():
    """A demo song at 22050 Hz whose vocal and stems are written 20 ms late (441 samples)."""
    return synthesize_song(seed=3, sr=22050, duration=6.0), 441


def _write_late_sources(folder, song, lag, *, stems=BAND):
    folder.mkdir(parents=True)
    late = lambda y: np.concatenate([np.zeros((2, lag), np.float32), y[:, :-lag]], axis=1)  # noqa: E731
    sf.write(folder / "s_100-full.wav", song.mixture.T, song.sr, subtype="FLOAT")
    sf.write(folder / "s_100-stem.wav", late(song.vocal).T, song.sr, subtype="FLOAT")
    for target in stems:
        sf.write(folder / f"s{STEM_TAGS[target]}.wav", late(song.stems[target]).T, song.sr, subtype="FLOAT")


def test_prepare_aligns_and_cuts_the_stems_like_the_vocal(tmp_path, lagging_song):
    song, lag = lagging_song
    src, dest = tmp_path / "process", tmp_path / "rtg"
    _write_late_sources(src, song, lag)
    result = prepare(src, dest, align=True, offset=0.5)
    report = result["s"]
    assert result.exit_code == 0 and report.status == "written", report.reason
    m = report.manifest
    assert m["lag"]["shift_samples"] == lag and m["excerpt"]["start_sample"] == 11025
    start, n = 11025, Config().n_samples
    expected = {"stereo_mixture.wav": song.mixture, "isolated_vocal.wav": song.vocal}
    expected.update({STEM_NAMES[t]: song.stems[t] for t in BAND})
    for fname, y in expected.items():
        got, sr = _read(dest / fname)
        assert sr == 22050
        np.testing.assert_array_equal(got, y[:, start : start + n], err_msg=fname)
    assert m["files"] == {
        "mixture": "stereo_mixture.wav",
        "vocal": "isolated_vocal.wav",
        "instrumental": "stereo_instrumental.wav",
        "drums": "isolated_drums.wav",
        "bass": "isolated_bass.wav",
        "other": "isolated_other.wav",
    }
    assert list(m["sources"]) == ["mixture", "vocal", *BAND]
    for target in BAND:
        entry = m["sources"][target]
        path = src / f"s{STEM_TAGS[target]}.wav"
        assert entry["file"] == path.name and entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert m["checks"]["stems_residual_to_mixture_db"] < -100.0
    assert prepare(src, dest, align=True, offset=0.5)["s"].status == "unchanged"


def test_stems_change_none_of_the_pair_outputs(tmp_path, lagging_song):
    """The same pair prepared with and without stems: mixture/vocal/instrumental bytes equal."""
    song, lag = lagging_song
    _write_late_sources(tmp_path / "with", song, lag)
    _write_late_sources(tmp_path / "without", song, lag, stems=())
    a = prepare(tmp_path / "with", tmp_path / "a", align=True, offset="auto")["s"]
    b = prepare(tmp_path / "without", tmp_path / "b", align=True, offset="auto")["s"]
    for fname in ("stereo_mixture.wav", "isolated_vocal.wav", "stereo_instrumental.wav"):
        assert (tmp_path / "a" / fname).read_bytes() == (tmp_path / "b" / fname).read_bytes(), fname
    assert sorted(os.listdir(tmp_path / "b")) == [
        "isolated_vocal.wav",
        "manifest.json",
        "stereo_instrumental.wav",
        "stereo_mixture.wav",
    ]
    assert a.manifest["excerpt"] == b.manifest["excerpt"] and a.manifest["lag"] == b.manifest["lag"]
    assert "drums" not in b.manifest["files"] and "stems_residual_to_mixture_db" not in b.manifest["checks"]


def test_a_bad_stem_skips_its_pair_and_a_silent_one_is_kept(tmp_path, lagging_song):
    song, _ = lagging_song
    src = tmp_path / "process"
    src.mkdir()
    for name in ("bad", "quiet"):
        sf.write(src / f"{name}_100-full.wav", song.mixture.T, song.sr, subtype="FLOAT")
        sf.write(src / f"{name}_100-stem.wav", song.vocal.T, song.sr, subtype="FLOAT")
    (src / "bad_100-drums.wav").write_bytes(b"not audio" * 50)
    sf.write(src / "quiet_100-bass.wav", np.zeros((song.sr * 6, 2), np.float32), song.sr)
    result = prepare(src, tmp_path / "rtg")
    assert result["bad"].skipped and "bad_100-drums.wav" in result["bad"].reason
    quiet = result["quiet"]
    assert not quiet.skipped and any("bass is silent in the excerpt" in w for w in quiet.warnings)
    assert not np.any(_read(tmp_path / "rtg" / "quiet" / "isolated_bass.wav")[0])


def test_standardise_stem_channels_length_and_shift():
    mono = np.arange(1, 11, dtype=np.float32)[None, :]
    y, warnings = standardise_stem(mono, 100, target="bass", sr=100, channels=2, shift=2, n=10)
    np.testing.assert_array_equal(y, np.repeat(np.r_[np.arange(3, 11), 0, 0][None, :], 2, axis=0))
    assert warnings == []
    stereo = np.stack([np.ones(4), 3 * np.ones(4)]).astype(np.float32)
    y, warnings = standardise_stem(stereo, 100, target="drums", sr=100, channels=1, shift=0, n=10)
    np.testing.assert_array_equal(y, [[2, 2, 2, 2, 0, 0, 0, 0, 0, 0]])
    assert "averaged to mono" in warnings[0] and "zero-padded" in warnings[1]


def test_prepare_pair_takes_stems_by_target(tmp_path, lagging_song):
    song, lag = lagging_song
    _write_late_sources(tmp_path / "src", song, lag, stems=("drums",))
    mix, voc, drums = (tmp_path / "src" / f"s{tag}.wav" for tag in ("_100-full", "_100-stem", "_100-drums"))
    report = prepare_pair(mix, voc, tmp_path / "out", align=True, stems={"drums": drums})
    assert report.status == "written" and (tmp_path / "out" / "isolated_drums.wav").is_file()
    with pytest.raises(ParameterError, match=r"stems has 'piano': allowed keys drums, bass, other"):
        prepare_pair(mix, voc, tmp_path / "out2", stems={"piano": drums})


# --------------------------------------------------------------------------- the demo set


def test_demo_set_writes_and_prepares_the_stems(tmp_path):
    root = tmp_path / "demo"
    result = build_demo_set(root, seeds=(1,), duration=5.0)  # 24-bit FLAC at 48 kHz
    assert result.exit_code == 0
    src = root / "process" / "100-window"
    assert sorted(p.name for p in src.iterdir()) == sorted(
        f"demo_song_1_100-{tag}.flac" for tag in ("full", "stem", "drums", "bass", "other")
    )
    folder = demo_song_dir(root, 1)
    prepared = {t: _read(folder / STEM_NAMES[t])[0] for t in BAND}
    mixture, vocal = _read(folder / "stereo_mixture.wav")[0], _read(folder / "isolated_vocal.wav")[0]
    residual = mixture - vocal - sum(prepared.values())
    assert float(np.max(np.abs(residual))) < 1e-4  # 24-bit files, one resampler: linear
    assert json.loads((folder / "manifest.json").read_text())["files"]["other"] == "isolated_other.wav"


def test_a_demo_set_from_before_the_stems_is_completed(tmp_path):
    root = tmp_path / "demo"
    build_demo_set(root, seeds=(0,), duration=5.0)
    folder, src = demo_song_dir(root, 0), root / "process" / "100-window"
    # make it what the old code wrote: no stem sources, no stem outputs, a manifest without them
    for target in BAND:
        (src / f"demo_song_0{STEM_TAGS[target]}.wav").unlink()
        (folder / STEM_NAMES[target]).unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    for part in (manifest["sources"], manifest["files"], manifest["levels"]["excerpt"]):
        for target in BAND:
            del part[target]
    del manifest["checks"]["stems_residual_to_mixture_db"]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    kept = {n: (folder / n).read_bytes() for n in ("stereo_mixture.wav", "isolated_vocal.wav")}
    mtimes = {n: os.stat(folder / n).st_mtime_ns for n in kept}

    again = build_demo_set(root, seeds=(0,), duration=5.0)
    assert [p.status for p in again.pairs] == ["overwritten"]
    assert all((folder / STEM_NAMES[t]).is_file() for t in BAND)
    assert {n: (folder / n).read_bytes() for n in kept} == kept
    assert {n: os.stat(folder / n).st_mtime_ns for n in kept} == mtimes  # identical: not rewritten
    assert [p.status for p in build_demo_set(root, seeds=(0,), duration=5.0).pairs] == ["unchanged"]


# --------------------------------------------------------------------------- MUSDB18-HQ


@pytest.fixture
def hq_root(tmp_path):
    """``test/Four/`` with all five files, ``test/Two/`` with mixture and vocals only (8 kHz, 1.5 s)."""
    rng = np.random.default_rng(0)
    stems = {t: (0.1 * rng.standard_normal((12000, 2))).astype(np.float32) for t in ("vocals", *BAND)}
    stems["mixture"] = sum(stems.values())
    root = tmp_path / "musdb18hq"
    for track, names in (("Four", list(stems)), ("Two", ["mixture", "vocals"])):
        (root / "test" / track).mkdir(parents=True)
        for name in names:
            sf.write(root / "test" / track / f"{name}.wav", stems[name], 8000, subtype="FLOAT")
    return root, stems


def test_hq_track_gives_all_five_arrays(hq_root):
    root, stems = hq_root
    four, two = list_musdb_tracks(root)
    assert (four.name, two.name) == ("Four", "Two")
    assert list(four.files) == ["mixture", "vocal", "drums", "bass", "other"]
    assert four.files["drums"] == root / "test" / "Four" / "drums.wav"
    assert list(two.files) == ["mixture", "vocal"]  # still a track
    audio, sr = read_musdb_track(four)
    assert sr == 8000 and list(audio) == ["mixture", "vocal", "drums", "bass", "other"]
    for role, name in (("mixture", "mixture"), ("vocal", "vocals"), *((t, t) for t in BAND)):
        assert audio[role].dtype == np.float32 and audio[role].shape == (2, 12000)
        np.testing.assert_array_equal(audio[role], stems[name].T)
    assert list(read_musdb_track(four, stems=False)[0]) == ["mixture", "vocal"]
    assert list(read_musdb_track(two)[0]) == ["mixture", "vocal"]


def test_hq_stem_at_another_rate_is_refused(hq_root):
    root, stems = hq_root
    sf.write(root / "test" / "Four" / "bass.wav", stems["bass"], 16000, subtype="FLOAT")
    with pytest.raises(ParameterError, match=r"mixture.wav is 8000 Hz but bass.wav is 16000 Hz"):
        read_musdb_track(list_musdb_tracks(root)[0])


def test_prepare_musdb_keeps_the_stems(hq_root, tmp_path):
    root, stems = hq_root
    config = Config(sr=8000, duration=1.0)
    result = prepare_musdb(root, tmp_path / "rtg", config=config, offset=0.25)
    assert result.exit_code == 0
    four, two = tmp_path / "rtg" / "Four", tmp_path / "rtg" / "Two"
    for target in BAND:
        np.testing.assert_array_equal(_read(four / STEM_NAMES[target])[0], stems[target].T[:, 2000:10000])
        assert not (two / STEM_NAMES[target]).exists()
    manifest = json.loads((four / "manifest.json").read_text())
    assert list(manifest["sources"]) == ["mixture", "vocal", *BAND]
    assert manifest["sources"]["bass"]["file"] == "bass.wav"
