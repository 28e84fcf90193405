"""MUSDB18: HQ wav folders read directly; ``.stem.mp4`` through musdb + ffmpeg, or a clear error."""

import hashlib
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from conftest import _voice_and_band

from conv2dsep_lib import cli
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.sources import musdb18
from conv2dsep_lib.sources.audio import AudioPair
from conv2dsep_lib.sources.datasets import open_dataset, open_musdb
from conv2dsep_lib.sources.musdb18 import (
    FFMPEG_MESSAGE,
    find_musdb_track,
    list_musdb_tracks,
    musdb_layout,
    read_musdb_track,
)
from conv2dsep_lib.sources.prepare import prepare_musdb

HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
SR = 44100
SECONDS = 5.2
TRACKS = {"test": ["Alpha - One", "Beta - Two"], "train": ["Gamma - Three"]}


def _stems(seed):
    n = int(SR * SECONDS)
    voice, band = _voice_and_band(SR, n, seed)
    rng = np.random.default_rng(seed)
    drums = band * 0.6
    bass = (0.2 * np.sin(2 * np.pi * 55 * np.arange(n) / SR)).astype(np.float32)
    other = band * 0.4 - bass
    st = lambda x, r=0.9: np.stack([x, r * x], 1).astype(np.float32)  # noqa: E731
    stems = {
        "vocals": st(0.5 * voice),
        "drums": st(drums),
        "bass": st(bass, 1.0),
        "other": st(other + 0.001 * rng.standard_normal(n).astype(np.float32)),
    }
    stems["mixture"] = sum(stems.values())
    return stems


@pytest.fixture(scope="module")
def hq_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("musdb18hq") / "musdb18hq"
    seed = 0
    for subset, names in TRACKS.items():
        for name in names:
            folder = root / subset / name
            folder.mkdir(parents=True)
            for stem, y in _stems(seed).items():
                sf.write(folder / f"{stem}.wav", y, SR, subtype="PCM_16")
            seed += 1
    (root / "test" / "README.txt").write_text("not a track\n")
    return root


def _hashes(folder):
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- HQ folders


def test_hq_tracks_are_listed(hq_root):
    assert musdb_layout(hq_root, subset="test") == "wav"
    assert [t.name for t in list_musdb_tracks(hq_root)] == TRACKS["test"]
    assert [t.name for t in list_musdb_tracks(hq_root, subset="train")] == TRACKS["train"]
    t = find_musdb_track(hq_root, "Beta - Two")
    assert t.kind == "wav" and t.files["vocal"] == hq_root / "test" / "Beta - Two" / "vocals.wav"


def test_hq_track_is_read(hq_root):
    audio, sr = read_musdb_track(find_musdb_track(hq_root, "Alpha - One"))
    assert sr == SR and audio["mixture"].shape == audio["vocal"].shape == (2, int(SR * SECONDS))
    assert audio["mixture"].dtype == np.float32


def test_hq_dataset_loads_pairs_and_stems(hq_root):
    before = _hashes(hq_root)
    ds = open_dataset(hq_root)  # a MUSDB root is recognised
    assert ds.kind == "musdb18-hq" and ds.tracks == tuple(TRACKS["test"])
    train = open_musdb(hq_root, subset="train", config=Config(sr=16000, duration=2.0))
    assert train.tracks == tuple(TRACKS["train"])
    pair = ds.load("Beta - Two", offset=0.3)
    assert isinstance(pair, AudioPair) and pair.mixture.shape == (Config().n_samples,)
    assert pair.source["track"] == "Beta - Two" and pair.source["kind"] == "musdb18-hq"
    small = train.load("Gamma - Three")
    assert small.sr == 16000 and small.vocal.shape == (32000,)
    stems = ds.load_stems("Alpha - One")
    assert stems.sr == 22050 and stems.mixture.shape == (2, int(round(SECONDS * 22050)))
    np.testing.assert_allclose(stems.instrumental, stems.mixture - stems.vocal)
    assert _hashes(hq_root) == before


def test_hq_errors_name_the_problem(hq_root, tmp_path):
    with pytest.raises(ParameterError, match=r"track 'Nope' is not in .*'Alpha - One', 'Beta - Two'"):
        find_musdb_track(hq_root, "Nope")
    with pytest.raises(ParameterError, match="subset='valid'"):
        list_musdb_tracks(hq_root, subset="valid")
    (tmp_path / "fake" / "test" / "x").mkdir(parents=True)
    with pytest.raises(ParameterError, match="holds no MUSDB18 tracks"):
        open_musdb(tmp_path / "fake")
    with pytest.raises(ParameterError, match="no train/ folder"):
        open_musdb(tmp_path / "fake", subset="train")


def test_best_on_a_musdb_track(hq_root, tmp_path, capsys):
    argv = [
        "best",
        "--musdb",
        str(hq_root),
        "--track",
        "Alpha - One",
        "--no-bss",
        "--no-baselines",
        "--iterations",
        "5",
        "--slices",
        "2",
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    ]
    assert cli.main(argv) == 0
    capsys.readouterr()
    record = json.loads(next((tmp_path / "out").glob("*/results.json")).read_text())
    assert "Alpha - One" in json.dumps(record)
    for bad, needle in (
        (["--track", "Nope"], "track 'Nope'"),
        (["--subset", "train", "--track", "Alpha - One"], "track 'Alpha - One'"),
        ([], "needs --track"),
    ):
        code = cli.main(["best", "--musdb", str(hq_root), *bad, "--out", str(tmp_path / "o2"), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err
    assert cli.main(["best", "--track", "Alpha - One", "--quiet"]) == 2
    assert "--musdb" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "best",
                "--musdb",
                str(hq_root),
                "--track",
                "Alpha - One",
                "--data-dir",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 2
    )
    assert "both given" in capsys.readouterr().err


def test_prepare_musdb_tracks(hq_root, tmp_path, capsys):
    before = _hashes(hq_root)
    result = prepare_musdb(hq_root, tmp_path / "rtg", config=Config(duration=2.0))
    assert [p.status for p in result.pairs] == ["written", "written"]
    manifest = json.loads((tmp_path / "rtg" / "Beta - Two" / "manifest.json").read_text())
    assert manifest["dataset"] == {"kind": "musdb18-hq", "subset": "test", "track": "Beta - Two"}
    assert manifest["excerpt"]["mode"] == "auto" and manifest["sources"]["vocal"]["file"] == "vocals.wav"
    assert sf.info(str(tmp_path / "rtg" / "Beta - Two" / "isolated_vocal.wav")).frames == 44100
    # the CLI form, one track, train subset, default offset auto
    code = cli.main(
        [
            "prepare",
            "--musdb",
            str(hq_root),
            "--subset",
            "train",
            "--track",
            "Gamma - Three",
            "--dest",
            str(tmp_path / "train"),
            "--duration",
            "2",
        ]
    )
    assert code == 0 and (tmp_path / "train" / "Gamma - Three" / "stereo_mixture.wav").is_file()
    assert (
        cli.main(["prepare", "--musdb", str(hq_root), "--track", "Nope", "--dest", str(tmp_path / "x")]) == 2
    )
    assert "track 'Nope'" in capsys.readouterr().err
    assert _hashes(hq_root) == before


# --------------------------------------------------------------------------- .stem.mp4


@pytest.fixture
def stem_root(tmp_path):
    """A MUSDB18-shaped root with one tiny .stem.mp4 (real when ffmpeg is here, else a stub)."""
    root = tmp_path / "musdb18"
    (root / "test").mkdir(parents=True)
    path = root / "test" / "Delta - Four.stem.mp4"
    if HAS_FFMPEG:
        import stempeg

        s = _stems(7)
        order = ("mixture", "drums", "bass", "other", "vocals")  # MUSDB18 stream order
        stempeg.write_stems(
            str(path),
            np.stack([s[k] for k in order]),
            sample_rate=SR,
            writer=stempeg.StreamsWriter(codec="aac", bitrate=256000),
        )
    else:
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    return root


def test_stem_mp4_is_listed_without_ffmpeg(stem_root):
    assert musdb_layout(stem_root) == "stem"
    assert [t.name for t in list_musdb_tracks(stem_root)] == ["Delta - Four"]


def test_stem_mp4_error_message_when_ffmpeg_is_missing(stem_root, monkeypatch, capsys):
    """Runs everywhere: PATH without ffmpeg is simulated."""
    monkeypatch.setattr(musdb18.shutil, "which", lambda name: None)
    with pytest.raises(ParameterError) as info:
        open_musdb(stem_root)
    assert str(info.value) == FFMPEG_MESSAGE
    assert cli.main(["best", "--musdb", str(stem_root), "--track", "Delta - Four", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"conv2dsep: error: {FFMPEG_MESSAGE}\n"


@pytest.mark.skipif(HAS_FFMPEG, reason="ffmpeg is on PATH: the reading branch is tested instead")
def test_stem_mp4_without_ffmpeg_gives_clear_error(stem_root, capsys):
    with pytest.raises(ParameterError, match="needs ffmpeg and ffprobe on PATH"):
        read_musdb_track(find_musdb_track(stem_root, "Delta - Four"))
    with pytest.raises(ParameterError, match="MUSDB18-HQ wav folders need neither"):
        open_dataset(stem_root)
    assert cli.main(["prepare", "--musdb", str(stem_root), "--dest", str(stem_root.parent / "rtg")]) == 2
    assert "ffmpeg" in capsys.readouterr().err
    assert not (stem_root.parent / "rtg").exists()


@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not on PATH: the clear-error branch is tested instead")
def test_stem_mp4_read_with_ffmpeg(stem_root, tmp_path):
    import musdb  # noqa: F401  (installed with museval)

    audio, sr = read_musdb_track(find_musdb_track(stem_root, "Delta - Four"))
    n = int(SR * SECONDS)
    assert sr == SR and audio["mixture"].shape[0] == 2 and abs(audio["vocal"].shape[1] - n) < 0.1 * SR
    ds = open_dataset(stem_root, config=Config(duration=2.0))
    assert ds.kind == "musdb18-stem" and ds.tracks == ("Delta - Four",)
    pair = ds.load("Delta - Four", offset=0.5)
    assert pair.mixture.shape == (44100,) and np.isfinite(pair.vocal).all()
    result = prepare_musdb(stem_root, tmp_path / "rtg", config=Config(duration=2.0))
    assert result.exit_code == 0, result.pairs
    assert result.pairs[0].manifest["dataset"]["kind"] == "musdb18-stem"
