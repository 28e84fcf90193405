"""Excerpts as repeats: --excerpts parsing, per-track offsets, sweep tables and their aggregation."""

from pathlib import Path

import pytest

from conv2dsep_lib import sweep as sw
from conv2dsep_lib.cli import main
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.results.aggregate import greedy_pairs, headline, n_slices_curves, summarise
from conv2dsep_lib.results.tables import HEAD, TAIL, read_table, typed
from conv2dsep_lib.sweep.excerpts import excerpt_label, excerpt_offsets, parse_excerpts


# ------------------------------------------------------------------ parsing
def test_parse_excerpts_forms():
    assert parse_excerpts("0,30,60").offsets == (0.0, 30.0, 60.0)
    assert parse_excerpts("0, 2.5").offsets == (0.0, 2.5)
    assert parse_excerpts("30.0").offsets == (30.0,)
    s = parse_excerpts("3")
    assert (s.kind, s.count) == ("count", 3)
    assert parse_excerpts("ALL").kind == "all"
    assert parse_excerpts([0, 4.7]).offsets == (0.0, 4.7)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "allowed offsets in seconds"),
        ("x", "'x' is invalid: allowed offsets in seconds (e.g. 0,30,60), a count N >= 1"),
        ("0", "allowed a count 1..1000"),
        ("0,-5", "offset '-5' is invalid"),
        ("0,,5", "allowed offsets"),
        ("0,30,30", "repeats an offset"),
        ("5000", "allowed a count 1..1000"),
    ],
)
def test_parse_excerpts_errors_name_the_value(text, needle):
    with pytest.raises(ParameterError) as err:
        parse_excerpts(text)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_offsets_per_track():
    count, every = parse_excerpts("3"), parse_excerpts("all")
    assert excerpt_offsets(count, track_seconds=10.0, duration=2.0) == (0.0, 4.0, 8.0)
    assert excerpt_offsets(every, track_seconds=10.0, duration=2.0) == (0.0, 2.0, 4.0, 6.0, 8.0)
    assert excerpt_offsets(every, track_seconds=4.7, duration=4.7) == (0.0,)
    assert excerpt_offsets(count, track_seconds=4.7, duration=4.7) == (0.0,)  # no duplicates
    assert excerpt_offsets(parse_excerpts("1"), track_seconds=60.0, duration=4.7) == (0.0,)
    assert excerpt_offsets(parse_excerpts("0,5"), track_seconds=10.0, duration=4.7) == (0.0, 5.0)
    with pytest.raises(
        ParameterError, match=r"reaches past the end of x \(10.00 s\): allowed offsets 0..5.3"
    ):
        excerpt_offsets(parse_excerpts("0,6"), track_seconds=10.0, duration=4.7, track="x")
    assert excerpt_label(30.0) == "at30s" and excerpt_label(2.5) == "at2.5s"


# ------------------------------------------------------------------ aggregation by hand
def _row(track, excerpt, method, kind, k, si, loss=None, si_i=None):
    return {
        "track": track,
        "excerpt": excerpt,
        "setting": "n2-abc",
        "n_slices": 2,
        "greedy": False,
        "target": "vocals",
        "method": method,
        "kind": kind,
        "k": k,
        "sequence": None,
        "loss": loss,
        "si_sdr": si,
        "si_sdr_i": si_i,
        "sdr": None,
        "sir": None,
        "sar": None,
        "oracle": kind != "floor",
        "seconds": 1.0,
    }


@pytest.fixture
def two_by_three():
    """Two tracks x three excerpts: SI-SDR of k=1, k=2 and the ideal ratio mask."""
    k1 = {"a": [1.0, 5.0, 3.0], "b": [10.0, 20.0, 14.0]}
    k2 = {"a": [2.0, 2.0, 8.0], "b": [0.0, 4.0, 1.0]}
    irm = {"a": [7.0, 9.0, 8.0], "b": [20.0, 22.0, 30.0]}
    rows = []
    for t in ("a", "b"):
        for i, ex in enumerate((0.0, 4.7, 9.4)):
            rows.append(_row(t, ex, "progressive", "method", 1, k1[t][i], loss=float(i)))
            rows.append(_row(t, ex, "progressive", "method", 2, k2[t][i], loss=1.0))
            rows.append(_row(t, ex, "oracle_irm", "oracle", None, irm[t][i]))
    return typed(rows, list(HEAD) + ["n_slices", "greedy"] + list(TAIL))


def test_two_tracks_by_three_excerpts_medians_and_interval_by_hand(two_by_three):
    s = {(r["method"], r["k"]): r for r in summarise(two_by_three).to_dict("records")}
    k1 = s[("progressive", 1)]
    # per track: a -> median(1, 5, 3) = 3, b -> median(10, 20, 14) = 14; over tracks: 8.5
    # (the pooled median of the six values would be 7.5)
    assert k1["si_sdr_median"] == 8.5
    assert (k1["si_sdr_q25"], k1["si_sdr_q75"], k1["si_sdr_iqr"]) == (5.75, 11.25, 5.5)
    # resampling two tracks: medians 3 (a, a), 8.5 (a, b) or 14 (b, b); P(3) = P(14) = 1/4 > 2.5 %
    assert (k1["si_sdr_ci_low"], k1["si_sdr_ci_high"]) == (3.0, 14.0)
    assert (k1["n_tracks"], k1["n_excerpts"]) == (2, 6)
    k2 = s[("progressive", 2)]
    assert k2["si_sdr_median"] == 1.5  # a -> 2, b -> 1
    assert s[("oracle_irm", None)]["si_sdr_median"] == 15.0  # a -> 8, b -> 22
    assert k1["loss_median"] == 1.0  # both tracks: median(0, 1, 2)

    curves = n_slices_curves(two_by_three)
    (c,) = curves.curves
    assert c.k == (1, 2) and c.median == (8.5, 1.5)
    assert c.ci_low == (3.0, 1.0) and c.ci_high == (14.0, 2.0)
    assert c.tracks == {"a": (3.0, 2.0), "b": (14.0, 1.0)}
    assert c.n_excerpts == 6
    assert curves.baselines["oracle_irm"] == ("oracle", 15.0)
    h = headline(two_by_three).to_dict("records")[0]
    assert h["best k"] == 1 and h["oracle_irm"] == 15.0


def test_sweep_figure_draws_the_aggregated_numbers(two_by_three):
    import numpy as np

    from conv2dsep_lib.viz.sweep import plot_sweep_n_slices

    fig = plot_sweep_n_slices(two_by_three)
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if "median of 2 tracks" in str(ln.get_label())]
    assert len(lines) == 1 and list(lines[0].get_ydata()) == [8.5, 1.5]
    assert "6 excerpts" in lines[0].get_label() and "95 % CI" in lines[0].get_label()
    assert "median over its excerpts" in ax.get_title()
    assert np.isclose(float(ax.collections[0].get_paths()[0].vertices[:, 1].max()), 11.25)  # IQR band top


# ------------------------------------------------------------------ a real sweep with excerpts
@pytest.fixture(scope="module")
def long_tracks(tmp_path_factory):
    """Two demo songs prepared as 6 s tracks (three 2 s excerpts each)."""
    from conv2dsep_lib.sources.demo_set import build_demo_set

    root = tmp_path_factory.mktemp("excerpts") / "demo"
    result = build_demo_set(root, seeds=(0, 1), duration=6.0, config=Config(duration=6.0))
    assert not result.skipped
    return root / "rtg" / "100-window"


FIXED = {"num_iterations": 5, "duration": 2.0, "n_slices": 2, "greedy": False}


def test_sweep_with_excerpts_runs_each_setting_on_each_excerpt_and_reuses_them(long_tracks, tmp_path):
    out = tmp_path / "sweep"
    kw = dict(fixed=FIXED, out=out, workers=1, progress=False, bss=False, excerpts="all")
    res = sw.run_sweep(str(long_tracks / "*"), None, **kw)
    t = res.table
    assert list(t.columns[:3]) == ["track", "excerpt", "setting"] and "offset" not in t.columns
    assert t["setting"].nunique() == 1  # the excerpts are not settings
    assert sorted(t["excerpt"].unique()) == [0.0, 2.0, 4.0]
    conv = t[t["method"] == "progressive"]
    assert len(conv) == 2 * 3 * 2  # tracks x excerpts x k
    irm = t[t["method"] == "oracle_irm"]
    assert len(irm) == 6 and irm["si_sdr"].nunique() == 6  # one baseline per excerpt, joined
    setting = t["setting"].iloc[0]
    runs = sorted(p.name for p in (out / "runs" / "demo_song_0").iterdir())
    assert [f"{setting}_at{x}s" for x in ("0", "2", "4")] == [r for r in runs if r.startswith(setting)]
    s = summarise(t)
    k2 = s[(s["method"] == "progressive") & (s["k"] == 2)].iloc[0]
    assert (k2["n_tracks"], k2["n_excerpts"]) == (2, 6)
    assert read_table(out)["excerpt"].tolist() == t["excerpt"].tolist()
    assert "Excerpts are repeats" in (out / "sweep_summary.md").read_text()
    summary = read_table(out / "sweep_summary.csv")
    assert {"si_sdr_ci_low", "si_sdr_ci_high", "n_excerpts"} <= set(summary.columns)
    assert len(greedy_pairs(t)) == 0
    again = sw.run_sweep(str(long_tracks / "*"), None, **kw)
    assert again.counts.ran == 0 and again.counts.cached == again.counts.runs == res.counts.runs
    # an offset in the grid and --excerpts contradict each other
    with pytest.raises(ParameterError, match="offset is given both"):
        sw.run_sweep(str(long_tracks / "*"), {"offset": [0.0]}, **kw)


def test_cli_excerpt_errors_exit_2_before_any_work(long_tracks, tmp_path, capsys):
    out = tmp_path / "never"
    code = main(["sweep", "--tracks", str(long_tracks / "*"), "--excerpts", "0,x", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "--excerpts '0,x': offset 'x' is invalid" in err
    code = main(["sweep", "--tracks", str(long_tracks / "*"), "--excerpts", "0,5", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "reaches past the end of track 'demo_song_0' (6.00 s)" in err
    assert not Path(out).exists() or not any(Path(out).rglob("results.json"))


# ------------------------------------------------------------------ best / progressive with excerpts
def test_progressive_with_excerpts_runs_each_into_its_folder_and_writes_their_median(
    long_tracks, tmp_path, capsys
):
    import json

    from conv2dsep_lib.results.index import read_index
    from conv2dsep_lib.results.record import read_record

    out = tmp_path / "runs"
    song = long_tracks / "demo_song_0"
    argv = ["best", "--slices", "2", "--iterations", "5", "--duration", "2", "--data-dir", str(song)]
    argv += ["--excerpts", "0,2.5", "--out", str(out), "--no-bss"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    base = "output_progressive_2slices_it5_dur2"
    folders = [f"{base}_at0s", f"{base}_at2.5s"]
    assert all((out / f / "results.json").is_file() for f in folders)
    assert [read_record(out / f).input["offset"] for f in folders] == [0.0, 2.5]
    assert {e.folder for e in read_index(out)} == set(folders)
    assert not [p for p in out.iterdir() if p.name.startswith(".excerpts")]  # staging removed
    data = json.loads((out / f"excerpts_{base}.json").read_text())
    si = [r["si_sdr_all"] for r in data["rows"]]
    assert data["median"]["si_sdr_all"] == pytest.approx(sum(si) / 2)  # the median of two
    assert [r["folder"] for r in data["rows"]] == folders and data["oracle"] is True
    md = (out / f"excerpts_{base}.md").read_text()
    assert "ORACLE" in md and "| **median** |" in md and "2 excerpts" in md
    assert "| **median** |" in printed  # the summary is printed too
    # a second run replaces the folders (the index keeps one entry each)
    assert main(argv + ["-q"]) == 0
    assert sorted(e.folder for e in read_index(out)) == sorted(folders)


@pytest.mark.parametrize(
    "extra, needle",
    [
        (
            ["--excerpts", "3", "--offset", "1"],
            "--offset 1 was given with --excerpts '3': allowed one of them",
        ),
        (["--excerpts", "0,9"], "reaches past the end of"),
        (["--excerpts", "-2"], "--excerpts '-2': offset '-2' is invalid"),
    ],
)
def test_experiment_excerpt_errors_exit_2(long_tracks, tmp_path, capsys, extra, needle):
    out = tmp_path / "never"
    argv = [
        "progressive",
        "--slices",
        "1",
        "--data-dir",
        str(long_tracks / "demo_song_0"),
        "--out",
        str(out),
        *extra,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and err.count("\n") == 0
    assert not list(Path(tmp_path).rglob("results.json"))
