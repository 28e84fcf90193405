"""Four stems: targets, the per-target runs, the joint estimate, multi-source scoring, outputs."""

import json

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, lfilter
from test_metrics import run_museval

from conv2dsep_lib.cli import main
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.method.transforms import stft
from conv2dsep_lib.results.index import read_index
from conv2dsep_lib.results.targets import read_targets_record
from conv2dsep_lib.run.target_outputs import write_target_outputs
from conv2dsep_lib.run.targets import REST, run_targets
from conv2dsep_lib.scoring.multi import band_limited_sources, score_sources
from conv2dsep_lib.separators.registry import baseline_kinds
from conv2dsep_lib.sources.audio import AudioPair
from conv2dsep_lib.sources.inputs import load_input
from conv2dsep_lib.sources.stems import check_targets, pair_for_target, pair_stems

SR = 22050
CFG = Config(duration=2.0, num_iterations=30)


def four_stems(n, seed=0):
    """Vocals, drums, bass, other: distinct enough for each to be separable by an oracle, and
    each with a noise part (pure sinusoids make BSS Eval's 512-tap projections degenerate)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR

    def band(lo, hi, scale):
        b, a = butter(4, [lo, hi], btype="band", fs=SR)
        return lfilter(b, a, rng.standard_normal(n)) * scale

    f0 = 220 * 2 ** ((2 * np.sin(2 * np.pi * 0.7 * t)) / 12)
    ph = 2 * np.pi * np.cumsum(f0) / SR
    vocals = (
        sum(np.sin(h * ph) / h for h in range(1, 10)) * 0.25 * (0.6 + 0.4 * np.sin(2 * np.pi * 1.3 * t) ** 2)
    )
    vocals += band(2000, 6000, 0.02)
    beat = (np.arange(n) % (SR // 4)) < SR // 50
    drums = rng.standard_normal(n) * beat * 0.5 + band(5000, 9000, 0.01)
    bass = 0.4 * np.sin(2 * np.pi * 55 * t) + 0.2 * np.sin(2 * np.pi * 110 * t) + band(40, 200, 0.2)
    other = sum(np.sin(2 * np.pi * f * t) for f in (523.3, 659.3, 784.0)) * 0.08 + band(400, 1500, 0.05)
    stems = dict(vocals=vocals, drums=drums, bass=bass, other=other)
    # a white floor in every stem keeps BSS Eval's Gram matrices well conditioned (band-limited
    # stems make museval's projections ill-posed: two exact implementations then part by dB)
    return {k: (v + rng.standard_normal(n) * 0.01).astype(np.float32) for k, v in stems.items()}


@pytest.fixture(scope="module")
def stem_pair():
    stems = four_stems(CFG.n_samples)
    mixture = np.sum(list(stems.values()), axis=0).astype(np.float32)
    return AudioPair(mixture, stems["vocals"], CFG.sr, {"duration": CFG.duration}, stems=stems)


@pytest.fixture(scope="module")
def four(stem_pair):
    return run_targets(stem_pair, config=CFG, n_slices=3, targets="vocals,drums,bass,other", greedy=False)


# ------------------------------------------------------------------ targets
def test_check_targets_orders_and_refuses_by_name():
    assert check_targets("other,vocals") == ("vocals", "other")
    assert check_targets(["bass"]) == ("bass",)
    with pytest.raises(ParameterError, match="'vocal' is unknown.*'vocals'"):
        check_targets("vocal")
    with pytest.raises(ParameterError, match="twice"):
        check_targets("drums,drums")
    with pytest.raises(ParameterError, match="empty"):
        check_targets("")


def test_pair_for_target_missing_and_silent_stems(stem_pair):
    only_vocal = AudioPair(stem_pair.mixture, stem_pair.vocal, SR, {"mixture": "song.wav"})
    assert pair_for_target(only_vocal, "vocals") is only_vocal  # today's pair, unchanged
    with pytest.raises(ParameterError, match="target 'drums': mixture 'song.wav' has no drums stem"):
        pair_for_target(only_vocal, "drums")
    silent = dict(stem_pair.stems, bass=np.zeros_like(stem_pair.vocal))
    pair = AudioPair(stem_pair.mixture, stem_pair.vocal, SR, {}, stems=silent)
    with pytest.raises(ParameterError, match="target 'bass' is silent in this excerpt"):
        pair_for_target(pair, "bass")
    drums = pair_for_target(stem_pair, "drums")
    assert drums.vocal is stem_pair.stems["drums"] and drums.source["target"] == "drums"
    assert pair_stems(only_vocal) == {"vocals": only_vocal.vocal}


def test_baselines_per_target():
    assert list(baseline_kinds("vocals")) == [
        "mixture",
        "oracle_irm",
        "oracle_ibm",
        "repet_sim",
        "hpss",
        "bandpass",
        "learned",
    ]
    assert list(baseline_kinds("drums")) == ["mixture", "oracle_irm", "oracle_ibm", "hpss_percussive"]
    assert list(baseline_kinds("bass")) == ["mixture", "oracle_irm", "oracle_ibm"]


# ------------------------------------------------------------------ the run
def test_each_target_beats_its_floor_and_joint_sums_to_the_mixture(four, stem_pair):
    assert four.sources == ("vocals", "drums", "bass", "other")  # all four: no rest source
    for t, run in four.runs.items():
        assert run.pair.source.get("target", "vocals") == t
        k_n = run.metrics[f"k={run.n_slices}"].si_sdr
        assert k_n > run.baselines["mixture"].metrics.si_sdr, t
        assert four.scores["separate"][t].si_sdr == pytest.approx(k_n, abs=1e-6)
    X = stft(stem_pair.mixture, config=CFG)
    Y = sum(stft(four.joint[s], config=CFG) for s in four.sources)
    assert four.joint_stft_error <= 1e-6
    assert np.max(np.abs(Y - X)) <= 1e-5 * np.max(np.abs(X))  # also after istft and a new STFT
    assert "hpss_percussive" in four.runs["drums"].baselines
    assert "repet_sim" not in four.runs["bass"].baselines


def test_a_subset_of_targets_gets_a_rest_source(stem_pair):
    exp = run_targets(
        stem_pair, config=CFG, n_slices=1, targets="vocals,drums", greedy=False, baselines=False
    )
    assert exp.sources == ("vocals", "drums", REST)
    rest = stem_pair.stems["bass"] + stem_pair.stems["other"]
    np.testing.assert_allclose(exp.references[REST], rest, atol=1e-6)
    total = sum(exp.joint.values())
    np.testing.assert_allclose(total, stem_pair.mixture, atol=1e-4)
    with pytest.raises(ParameterError, match="has no drums stem"):
        run_targets(
            AudioPair(stem_pair.mixture, stem_pair.vocal, SR, {}),
            config=CFG,
            n_slices=1,
            targets="vocals,drums",
        )


def test_multi_source_bss_equals_a_direct_museval_call(four, tmp_path):
    """One museval.evaluate call over all four sources, for the separate and the joint estimates."""
    refs = np.stack([four.references[s] for s in four.sources])[:, :, None].astype(np.float64)
    kinds = ("separate", "joint")
    arrays = {"cases": np.array(kinds), "win": np.array(SR)}
    for kind in kinds:
        arrays[kind + "_ref"] = refs
        arrays[kind + "_est"] = np.stack([getattr(four, kind)[s] for s in four.sources])[:, :, None].astype(
            np.float64
        )
    want = run_museval(arrays, tmp_path)
    compared = 0
    for kind in kinds:
        for j, s in enumerate(four.sources):
            got = four.scores[kind][s]
            for key in ("sdr", "isr", "sir", "sar"):
                expected = float(np.nanmedian(want[f"{kind}_{key}"][j]))
                assert getattr(got, key) == pytest.approx(expected, abs=1e-6), (kind, s, key)
                compared += 1
    assert compared == 2 * 4 * 4


def test_score_sources_refuses_mismatched_sources():
    x = np.ones(100, dtype=np.float32)
    with pytest.raises(ParameterError, match="name different sources"):
        score_sources({"a": x}, {"b": x}, x, sr=SR)


# ------------------------------------------------------------------ outputs
def test_outputs_per_target_record_and_index(four, tmp_path):
    folder = write_target_outputs(four, tmp_path, index=True)
    assert folder.name == "output_progressive_3slices"
    for t, word in (("vocals", "vocal"), ("drums", "drums"), ("bass", "bass"), ("other", "other")):
        assert (folder / t / "3_slices" / f"extracted_{word}.wav").is_file()
        assert (folder / t / "1_slices" / f"2_target_{word}.wav").is_file()
        assert json.loads((folder / t / "results.json").read_text())["input"].get("target", "vocals") == t
        assert (folder / "joint" / f"{t}.wav").is_file() and (folder / "separate" / f"{t}.wav").is_file()
    assert (folder / "targets_quality.png").stat().st_size > 10_000
    from conv2dsep_lib.viz.targets import plot_targets_quality

    fig = plot_targets_quality(read_targets_record(folder))
    assert "each target's true stem" in fig._suptitle.get_text()
    assert [ax.get_title() for ax in fig.axes] == ["vocals", "drums", "bass", "other"]
    record = read_targets_record(folder)
    assert record.targets == ("vocals", "drums", "bass", "other")
    assert record.joint["drums"].metrics.si_sdr == pytest.approx(four.scores["joint"]["drums"].si_sdr)
    assert record.by_target["bass"].progressive[-1].metrics.si_sdr == pytest.approx(
        four.runs["bass"].metrics["k=3"].si_sdr
    )
    data = json.loads((folder / "results.json").read_text())
    assert set(data["targets"]) == {"vocals", "drums", "bass", "other"} and data["oracle"] is True
    folders = {e.folder for e in read_index(tmp_path)}
    assert folders == {f"output_progressive_3slices/{t}" for t in record.targets}


# ------------------------------------------------------------------ data and command line
def write_hq_track(folder, *, skip=()):
    stems = four_stems(int(3.0 * 44100 / 2))  # 1.5 s at 22050 read as 44.1 kHz files: resampled on load
    folder.mkdir(parents=True)
    for name, y in stems.items():
        if name not in skip:
            sf.write(folder / f"{name}.wav", 0.3 * np.stack([y, 0.9 * y], 1), 44100, subtype="FLOAT")
    mix = np.sum(list(stems.values()), axis=0)
    sf.write(folder / "mixture.wav", 0.3 * np.stack([mix, 0.9 * mix], 1), 44100, subtype="FLOAT")
    return stems


def test_musdb_hq_folder_with_four_stems(tmp_path, monkeypatch):
    monkeypatch.setenv("CONV2DSEP_CACHE", str(tmp_path / "cache"))
    write_hq_track(tmp_path / "musdb" / "test" / "Song A")
    (tmp_path / "musdb" / "train").mkdir()
    out = tmp_path / "out"
    rc = main(
        [
            "progressive", "--slices", "2", "--musdb", str(tmp_path / "musdb"), "--track", "Song A",
            "--duration", "1.0", "--targets", "vocals,drums,bass,other", "--no-bss", "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    assert rc == 0
    record = read_targets_record(out / "output_progressive_2slices_dur1")
    assert record.targets == ("vocals", "drums", "bass", "other")
    for t in record.targets:  # the best k of each target's oracle run beats its floor
        run = record.by_target[t]
        assert max(p.metrics.si_sdr for p in run.progressive) > run.baselines["mixture"].metrics.si_sdr, t
        assert run.input["track"] == "Song A" and run.input.get("target", "vocals") == t


def test_own_folder_with_a_subset_of_stems_and_a_missing_one(tmp_path, capsys):
    write_hq_track(tmp_path / "song", skip=("vocals", "other"))
    pair = load_input(config=CFG.replace(duration=1.0), data_dir=tmp_path / "song", targets="drums,bass")
    assert set(pair.stems) == {"drums", "bass"}
    rc = main(
        ["progressive", "--slices", "1", "--data-dir", str(tmp_path / "song"), "--duration", "1.0",
         "--targets", "drums,other", "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"conv2dsep: error: target 'other': mixture '{tmp_path / 'song' / 'mixture.wav'}' has no other stem: allowed targets here: drums, bass"]  # fmt: skip
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_band_limited_references_are_flagged():
    n = CFG.n_samples
    stems = four_stems(n)
    rng = np.random.default_rng(3)
    b, a = butter(8, 300, fs=SR)
    narrow = lfilter(b, a, lfilter(b, a, rng.standard_normal(n)))  # nothing above ~1 kHz
    assert band_limited_sources(stems) == ()
    assert band_limited_sources({**stems, "bass": narrow}) == ("bass",)


def test_demo_song_four_targets_each_beat_the_floor(tmp_path, monkeypatch):
    """The issue's check on the demo set: 8 slices, four targets, each above its mixture floor."""
    monkeypatch.setenv("CONV2DSEP_CACHE", str(tmp_path / "cache"))
    pair = load_input(config=Config(), targets="vocals,drums,bass,other")
    assert set(pair.stems) == {"vocals", "drums", "bass", "other"}
    exp = run_targets(
        pair, config=Config(), n_slices=8, targets="vocals,drums,bass,other", greedy=False, bss=False
    )
    for t, run in exp.runs.items():
        assert run.metrics["k=8"].si_sdr > run.baselines["mixture"].metrics.si_sdr + 3.0, t
        assert exp.scores["joint"][t].si_sdr > run.baselines["mixture"].metrics.si_sdr, t
    assert exp.joint_stft_error <= 1e-6


def test_targets_vocals_is_todays_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CONV2DSEP_CACHE", str(tmp_path / "cache"))
    common = ["progressive", "--slices", "2", "--duration", "1.5", "--no-bss", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    assert main([*common, "--targets", "vocals", "--out", str(tmp_path / "b")]) == 0
    a = json.loads((tmp_path / "a" / "output_progressive_2slices_dur1.5" / "results.json").read_text())
    b = json.loads((tmp_path / "b" / "output_progressive_2slices_dur1.5" / "results.json").read_text())
    for d in (a, b):
        d.pop("timings"), d.pop("arguments")
    assert a == b
    assert "target" not in a["input"] and "stems" not in a["input"]
    names = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.wav"))
    assert names == sorted(p.relative_to(tmp_path / "b").as_posix() for p in (tmp_path / "b").rglob("*.wav"))


def test_one_other_target_runs_against_its_own_stem(tmp_path, monkeypatch):
    monkeypatch.setenv("CONV2DSEP_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert main(["progressive", "--slices", "1", "--duration", "1.5", "--no-bss", "--targets", "drums", "--out", str(out), "--quiet"]) == 0  # fmt: skip
    folder = out / "output_progressive_1slices_dur1.5"
    data = json.loads((folder / "results.json").read_text())
    assert data["input"]["target"] == "drums"
    assert (folder / "1_slices" / "extracted_drums.wav").is_file() and (
        folder / "1_slices" / "2_target_drums.wav"
    ).is_file()
    assert "hpss_percussive" in data["baselines"] and "repet_sim" not in data["baselines"]
    true, _ = sf.read(folder / "1_slices" / "2_target_drums.wav")
    pair = load_input(config=Config(duration=1.5), targets="drums")
    np.testing.assert_allclose(true, pair.stems["drums"], atol=1e-6)
