"""Evaluation on the demo song and `evaluate_files` on any wav."""

import numpy as np
import pytest
import soundfile as sf

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.scoring.files import FileScores, evaluate_files, format_table
from conv2dsep_lib.scoring.pair import separation_metrics
from conv2dsep_lib.separators.registry import compute_baselines
from conv2dsep_lib.sources.song import synthesize_song


@pytest.fixture(scope="module")
def demo_excerpt():
    cfg = Config()
    song = synthesize_song(seed=0, sr=cfg.sr, duration=6.0)
    n = cfg.n_samples
    return song.mixture.mean(0)[:n], song.vocal.mean(0)[:n], cfg


def test_oracle_masks_beat_the_floor_on_the_demo_song(demo_excerpt):
    mix, voc, cfg = demo_excerpt
    scores = {
        name: separation_metrics(voc, estimate, mix, sr=cfg.sr, bss=False).si_sdr
        for name, estimate in compute_baselines(mix, voc, config=cfg).items()
    }
    assert scores["oracle_irm"] > scores["mixture"] + 6
    assert scores["oracle_ibm"] > scores["mixture"] + 6
    assert all(np.isfinite(v) for v in scores.values())


def test_evaluate_files_with_and_without_mixture(tmp_path, demo_excerpt):
    mix, voc, cfg = demo_excerpt
    est = voc + 0.1 * (mix - voc)
    for name, y in (("mix", mix), ("voc", voc), ("est", est)):
        sf.write(tmp_path / f"{name}.wav", y, cfg.sr, subtype="FLOAT")
    full = evaluate_files(tmp_path / "est.wav", tmp_path / "voc.wav", tmp_path / "mix.wav")
    assert isinstance(full, FileScores)
    assert full.scores.si_sdr > 10 and full.scores.accompaniment is not None
    assert full.scores.si_sdr_i > 0 and np.isfinite(full.scores.sir)
    assert "accompaniment" in full.to_json()["metrics"]
    alone = evaluate_files(tmp_path / "est.wav", tmp_path / "voc.wav")
    assert abs(alone.scores.si_sdr - full.scores.si_sdr) < 1e-9
    assert alone.scores.sir is None and np.isfinite(alone.scores.sdr)
    assert "sir" not in alone.to_json()["metrics"]
    assert "vocal" in format_table(full) and "accompaniment" in format_table(full)


def test_evaluate_files_refuses_mismatches(tmp_path, demo_excerpt):
    mix, voc, cfg = demo_excerpt
    sf.write(tmp_path / "voc.wav", voc, cfg.sr)
    sf.write(tmp_path / "stereo.wav", np.stack([voc, voc], 1), cfg.sr)
    sf.write(tmp_path / "short.wav", voc[: cfg.sr], cfg.sr)
    with pytest.raises(ParameterError, match="channel counts differ"):
        evaluate_files(tmp_path / "stereo.wav", tmp_path / "voc.wav")
    assert (
        evaluate_files(tmp_path / "stereo.wav", tmp_path / "voc.wav", mono=True, bss=False).scores.si_sdr
        > 100
    )
    with pytest.raises(ParameterError, match="lengths differ"):
        evaluate_files(tmp_path / "short.wav", tmp_path / "voc.wav")


def test_silent_estimate_is_nan_not_a_crash(tmp_path, demo_excerpt):
    mix, voc, cfg = demo_excerpt
    sf.write(tmp_path / "voc.wav", voc, cfg.sr)
    sf.write(tmp_path / "zero.wav", np.zeros_like(voc), cfg.sr)
    res = evaluate_files(tmp_path / "zero.wav", tmp_path / "voc.wav", bss=False)
    assert np.isnan(res.scores.si_sdr)
    assert res.to_json()["metrics"]["si_sdr"] is None  # nan is null in JSON
    with pytest.raises(ParameterError, match="silent"):
        evaluate_files(tmp_path / "voc.wav", tmp_path / "zero.wav", bss=False)
