"""`sweep --targets` and `claims --targets`: every run once per target, against its own stem,
with its own baselines; a track without (or with a silent) stem refused by name before any run."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from conv2dsep_lib.cli import main
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.results.aggregate import by_target, headline, n_slices_curves, summarise, table_targets
from conv2dsep_lib.results.tables import read_table
from conv2dsep_lib.separators.registry import baseline_kinds
from conv2dsep_lib.sweep.claims import load_claims

FAST = ["--set", "duration=1.5", "--set", "iterations=10", "--no-bss", "--workers", "1", "-q"]


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    """Three prepared demo songs with all four stems (isolated_drums.wav, ...)."""
    from conv2dsep_lib.sources.demo_set import build_demo_set

    root = tmp_path_factory.mktemp("targets") / "demo"
    assert not build_demo_set(root, seeds=(0, 1, 2), duration=5.0).skipped
    return root / "rtg" / "100-window"


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    path = tmp_path_factory.mktemp("grid") / "grid.yaml"
    path.write_text("n_slices: [1, 2]\n")
    return path


def _tracks(songs, *names):
    return ["--tracks", str(songs / "*"), *[a for n in names for a in ("--track", n)]]


def test_sweep_runs_each_target_against_its_stem_with_its_baselines(songs, grid, tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["sweep", *_tracks(songs, "demo_song_0", "demo_song_1"), "--grid", str(grid), *FAST]
    assert main([*argv, "--targets", "drums,vocals", "--out", str(out)]) == 0
    table = read_table(out / "sweep.csv")
    assert table_targets(table) == ("vocals", "drums")  # canonical order, whatever was typed
    parts = by_target(table)
    for target, rows in parts.items():
        assert set(rows["track"]) == {"demo_song_0", "demo_song_1"}
        assert set(rows["n_slices"]) == {1, 2}
        kinds = dict(baseline_kinds(target))
        base = rows[rows["kind"] != "method"]
        assert set(base["method"]) == set(kinds)  # the target's own baselines only
        assert all(kinds[m] == k for m, k in zip(base["method"], base["kind"]))
        method = rows[rows["kind"] == "method"]
        assert set(method["method"]) >= {"progressive", "greedy", "greedy_best"}
        assert method["oracle"].all()
    assert "hpss_percussive" in set(parts["drums"]["method"]) and "repet_sim" in set(
        parts["vocals"]["method"]
    )
    # the drums runs measure the drums: their numbers are not the vocals'
    prog = {
        t: rows[(rows["method"] == "progressive") & (rows["k"] == 1)]["si_sdr"].to_numpy()
        for t, rows in parts.items()
    }
    assert not np.allclose(prog["vocals"], prog["drums"])
    assert (out / "runs" / "demo_song_0" / "drums").is_dir()
    assert json.loads((out / "sweep.json").read_text())["targets"] == ["vocals", "drums"]
    summary = read_table(out / "sweep_summary.csv")
    assert list(summary.columns)[0] == "target" and list(dict.fromkeys(summary["target"])) == [
        "vocals",
        "drums",
    ]
    md = (out / "sweep_summary.md").read_text()
    assert "### vocals" in md and "### drums" in md and md.index("### vocals") < md.index("### drums")
    assert "repet_sim, hpss, bandpass, learned for vocals; hpss_percussive for drums)" in md
    assert (out / "si_sdr_vs_n_slices.png").is_file()
    lines = headline(table)
    pd.testing.assert_frame_equal(headline(table, summary=summarise(table)), lines)  # per target
    assert (
        list(lines.columns)[:2] == ["target", "setting"]
        and list(lines["target"]) == ["vocals"] * 2 + ["drums"] * 2
    )
    with pytest.raises(ParameterError, match="2 targets"):
        n_slices_curves(table)  # a figure's numbers are of one target, never mixed
    assert len(n_slices_curves(table, target="drums").curves) == 1
    # a vocals sweep in the same folder: its runs are the vocals runs above (same folders, same keys)
    capsys.readouterr()
    assert main([*argv, "--out", str(out)]) == 0
    again = read_table(out / "sweep.csv")
    assert table_targets(again) == ("vocals",) and "target" not in summarise(again).columns
    assert json.loads((out / "sweep.json").read_text())["counts"]["ran"] == 0


def test_a_track_without_the_stem_is_refused_by_name_with_exit_2(songs, tmp_path, capsys):
    tracks = tmp_path / "tracks"
    for name in ("demo_song_0", "demo_song_1"):
        shutil.copytree(songs / name, tracks / name)
    (tracks / "demo_song_1" / "isolated_drums.wav").unlink()
    out = tmp_path / "never"
    argv = ["sweep", "--tracks", str(tracks / "*"), *FAST, "--out", str(out)]
    assert main([*argv, "--targets", "vocals,drums"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'drums'" in err and "'demo_song_1'" in err and "no drums stem" in err
    assert not (out / "sweep.csv").exists()
    # a stem that is silent in the excerpt: refused the same way, naming the target, track and offset
    y, sr = sf.read(tracks / "demo_song_0" / "isolated_bass.wav")
    sf.write(tracks / "demo_song_0" / "isolated_bass.wav", np.zeros_like(y), sr, subtype="FLOAT")
    assert main([*argv, "--targets", "vocals,bass"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "target 'bass' is silent" in err and "'demo_song_0'" in err
    assert not (out / "sweep.csv").exists()
    assert main([*argv, "--targets", "vocals,piano"]) == 2
    assert "target 'piano' is unknown" in capsys.readouterr().err


def test_claims_are_decided_per_target(songs, tmp_path, capsys):
    out = tmp_path / "study"
    argv = ["claims", "--tracks", str(songs / "*"), "--slices", "3", "--seed-k", "2", "--workers", "1"]
    argv += ["--set", "duration=1.5", "--set", "iterations=10"]
    assert main([*argv, "--targets", "vocals,drums", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "The seed's claims on target vocals, 3 tracks" in printed
    assert (
        "The seed's claims on target drums, 3 tracks" in printed and "(uses the true drums stem)" in printed
    )
    data = json.loads((out / "claims.json").read_text())
    assert list(data["targets"]) == ["vocals", "drums"] and data["study"]["targets"] == ["vocals", "drums"]
    decided = {"holds", "does not hold", "inconclusive"}
    for target, report in data["targets"].items():
        assert [c["id"] for c in report["claims"]] == ["a", "b", "c", "d"]
        assert all(c["n_tracks"] == 3 and c["oracle"] for c in report["claims"])
        verdicts = {c["id"]: c["verdict"] for c in report["claims"]}
        assert {verdicts[c] for c in "abc"} <= decided
        # (d) is the seed's "~70-80 % vocal separation quality": decided for vocals only
        assert verdicts["d"] in decided if target == "vocals" else verdicts["d"] == "not applicable"
    # each target's claims come from its own rows: the drums curve is not the vocals curve
    assert data["targets"]["vocals"]["curves"]["si_sdr"] != data["targets"]["drums"]["curves"]["si_sdr"]
    md = (out / "claims.md").read_text()
    assert "## Target vocals: the seed's claims" in md and "## Target drums: the seed's claims" in md
    assert "**not applicable**" in md
    assert (out / "claims_curves.png").is_file() and (out / "claims_intervals_drums.png").is_file()
    loaded = load_claims(out)  # notebook 07's view: recomputed from the table, per target
    assert list(loaded.targets) == ["vocals", "drums"] and loaded.report.target == "vocals"
    assert [r.to_json() for r in loaded.targets["drums"].report.rows] == data["targets"]["drums"]["claims"]
