"""The demo set (built through ``prepare``), the default input, and the Dataset object."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import _voice_and_band

from conv2dsep_lib import cli
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.sources import demo_set, inputs
from conv2dsep_lib.sources.audio import AudioPair
from conv2dsep_lib.sources.datasets import open_dataset
from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir
from conv2dsep_lib.sources.prepare import prepare


def _hashes(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    """Seeds 0 (WAV 44.1 kHz stereo) and 2 (AIFF 32 kHz mono), 5 s songs."""
    root = tmp_path_factory.mktemp("demo") / "demo"
    result = build_demo_set(root, seeds=(0, 2), duration=5.0)
    assert result.exit_code == 0 and [p.status for p in result.pairs] == ["written", "written"]
    return root


# --------------------------------------------------------------------------- demo set


def test_demo_sources_are_mixed_formats(demo_root):
    src = demo_root / "process" / "100-window"
    assert sorted(p.name for p in src.iterdir()) == sorted(
        f"demo_song_{seed}_100-{tag}.{ext}"
        for seed, ext in ((0, "wav"), (2, "aiff"))
        for tag in ("full", "stem", "drums", "bass", "other")
    )
    wav, aiff = (
        sf.info(str(src / "demo_song_0_100-full.wav")),
        sf.info(str(src / "demo_song_2_100-stem.aiff")),
    )
    assert (wav.samplerate, wav.channels, wav.subtype) == (44100, 2, "FLOAT")
    assert (aiff.samplerate, aiff.channels, aiff.format) == (32000, 1, "AIFF")


def test_demo_set_is_prepared_by_prepare(demo_root, tmp_path):
    for seed, channels in ((0, 2), (2, 1)):
        folder = demo_song_dir(demo_root, seed)
        assert folder == demo_root / "rtg" / "100-window" / f"demo_song_{seed}"
        info = sf.info(str(folder / "stereo_mixture.wav"))
        assert (info.samplerate, info.channels, info.frames) == (22050, channels, Config().n_samples)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["name"] == f"demo_song_{seed}" and manifest["lag"]["measured_samples"] == 0
    # the same files come out of a plain `prepare` of the demo source folder
    again = prepare(demo_root / "process" / "100-window", tmp_path / "rtg")
    for seed in (0, 2):
        name = f"demo_song_{seed}"
        for f in ("stereo_mixture.wav", "isolated_vocal.wav", "stereo_instrumental.wav"):
            assert (tmp_path / "rtg" / name / f).read_bytes() == (
                demo_song_dir(demo_root, seed) / f
            ).read_bytes()
    assert again.exit_code == 0


def test_demo_set_is_idempotent(demo_root):
    before = _hashes(demo_root)
    result = build_demo_set(demo_root, seeds=(0, 2), duration=5.0)
    assert [p.status for p in result.pairs] == ["unchanged", "unchanged"]
    forced = build_demo_set(demo_root, seeds=(0, 2), duration=5.0, force=True)  # re-synthesised
    assert [p.status for p in forced.pairs] == ["unchanged", "unchanged"]
    assert _hashes(demo_root) == before


def test_demo_set_rejects_bad_seeds(tmp_path):
    for seeds in ((), (-1,), ("a",)):
        with pytest.raises(ParameterError, match="seeds="):
            build_demo_set(tmp_path / "demo", seeds=seeds)


def test_default_input_builds_the_demo_set_on_first_use(tmp_path, monkeypatch):
    calls = []
    real = demo_set.build_demo_set

    def small_build(root, **kwargs):
        calls.append(Path(root))
        return real(root, seeds=(0,), duration=5.0)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(inputs, "build_demo_set", small_build)  # the name resolve_pair_paths calls
    mix, voc = inputs.resolve_pair_paths()
    assert calls == [Path("data/demo")]
    assert mix == Path("data/demo/rtg/100-window/demo_song_0/stereo_mixture.wav") and mix.is_file()
    assert voc.name == "isolated_vocal.wav"
    assert inputs.resolve_pair_paths() == (mix, voc) and len(calls) == 1  # built once
    # a user pair in data/rtg/100-window/ wins over the demo
    user = Path("data/rtg/100-window")
    user.mkdir(parents=True)
    for f in ("stereo_mixture.wav", "isolated_vocal.wav"):
        (user / f).write_bytes(mix.read_bytes())
    assert inputs.resolve_pair_paths()[0] == user / "stereo_mixture.wav"


def test_make_demo_commands(tmp_path, monkeypatch, capsys):
    """What ``make demo`` runs: ``prepare --demo`` then ``best`` on the first demo song."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["prepare", "--demo", "--quiet"]) == 0
    assert sorted(p.name for p in Path("data/demo/rtg/100-window").iterdir()) == [
        "demo_song_0",
        "demo_song_1",
        "demo_song_2",
    ]
    assert (
        cli.main(
            [
                "best",
                "--data-dir",
                "data/demo/rtg/100-window/demo_song_0",
                "--no-bss",
                "--no-baselines",
                "--iterations",
                "5",
                "--slices",
                "2",
                "--out",
                "out",
                "--quiet",
            ]
        )
        == 0
    )
    record = json.loads(next(Path("out").glob("*/results.json")).read_text())
    assert "demo_song_0" in json.dumps(record)
    capsys.readouterr()


# --------------------------------------------------------------------------- Dataset


def _write_prepared(folder: Path, seed: int, seconds: float = 5.0, sr: int = 22050) -> None:
    v, b = _voice_and_band(sr, int(sr * seconds), seed)
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / "stereo_mixture.wav", np.stack([v + b, v + b], 1), sr, subtype="FLOAT")
    sf.write(folder / "isolated_vocal.wav", np.stack([v, v], 1), sr, subtype="FLOAT")
    sf.write(folder / "stereo_instrumental.wav", np.stack([b, b], 1), sr, subtype="FLOAT")


def test_dataset_over_prepare_output(demo_root):
    ds = open_dataset(demo_root / "rtg" / "100-window")
    assert ds.tracks == ("demo_song_0", "demo_song_2") and len(ds) == 2 and "demo_song_0" in ds
    assert ds.kind == "prepared" and list(ds) == list(ds.tracks)
    pair = ds.load("demo_song_2")
    assert isinstance(pair, AudioPair) and pair.sr == 22050
    assert pair.mixture.shape == pair.vocal.shape == (Config().n_samples,)
    assert pair.source["track"] == "demo_song_2" and pair.source["kind"] == "prepared"
    stems = ds.load_stems("demo_song_0")
    assert stems.mixture.shape[0] == 2 and stems.sr == 22050
    np.testing.assert_array_equal(stems.instrumental, stems.mixture - stems.vocal)
    assert ds.info("demo_song_0")["manifest"]["name"] == "demo_song_0"
    mono = ds.load_stems("demo_song_2", mono=True)
    assert mono.vocal.ndim == 1


def test_dataset_single_folder_glob_and_rate(tmp_path):
    _write_prepared(tmp_path / "a" / "rtg", 0)
    _write_prepared(tmp_path / "b" / "rtg", 1)
    single = open_dataset(tmp_path / "a" / "rtg")
    assert single.tracks == ("rtg",)
    both = open_dataset(str(tmp_path / "*" / "rtg"), config=Config(sr=16000, duration=2.0))
    assert both.tracks == ("a/rtg", "b/rtg")  # same folder names: relative paths
    pair = both.load("b/rtg", offset=1.0)
    assert pair.sr == 16000 and pair.mixture.shape == (32000,)
    with pytest.raises(ParameterError, match="too short"):
        both.load("a/rtg", offset=4.0)


def test_dataset_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        open_dataset(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="no prepared pairs"):
        open_dataset(tmp_path / "empty")
    with pytest.raises(ParameterError, match="matches no folder"):
        open_dataset(str(tmp_path / "zz*"))
    _write_prepared(tmp_path / "x" / "one", 0)
    ds = open_dataset(tmp_path / "x")
    with pytest.raises(ParameterError, match=r"track 'two' is not in .*'one'"):
        ds.load("two")
