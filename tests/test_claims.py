"""The claims study: the decision rule on made-up tables, and `conv2dsep claims` on tiny songs."""

import json
from pathlib import Path

import pytest

from conv2dsep_lib.cli import main
from conv2dsep_lib.results.claims import claims_report
from conv2dsep_lib.results.tables import HEAD, TAIL, typed
from conv2dsep_lib.sweep.claims import claims_markdown, load_claims

VERDICTS = {"holds", "does not hold", "inconclusive"}


def _rows(track, *, si, si_i2, irm_i, greedy_best):
    base = {
        "track": track,
        "excerpt": 0.0,
        "setting": "s",
        "n_slices": 3,
        "greedy": True,
        "target": "vocals",
        "sequence": None,
        "sdr": None,
        "sir": None,
        "sar": None,
        "oracle": True,
        "seconds": 1.0,
    }
    out = []
    for score in ("step_loss", "si_sdr"):
        for k, v in si.items():
            out.append(
                {
                    **base,
                    "greedy_score": score,
                    "method": "progressive",
                    "kind": "method",
                    "k": k,
                    "loss": 1.0,
                    "si_sdr": v,
                    "si_sdr_i": si_i2 if k == 2 else None,
                }
            )
        out.append(
            {
                **base,
                "greedy_score": score,
                "method": "greedy",
                "kind": "method",
                "k": 3,
                "loss": 2.0,
                "si_sdr": greedy_best - 1,
                "si_sdr_i": None,
                "sequence": "8-1-2",
            }
        )
        out.append(
            {
                **base,
                "greedy_score": score,
                "method": "greedy_best",
                "kind": "method",
                "k": 2,
                "loss": 2.0,
                "si_sdr": greedy_best,
                "si_sdr_i": None,
                "sequence": "8-1",
            }
        )
        out.append(
            {
                **base,
                "greedy_score": score,
                "method": "oracle_irm",
                "kind": "oracle",
                "k": None,
                "loss": None,
                "si_sdr": 20.0,
                "si_sdr_i": irm_i,
            }
        )
    return out


def _table(n_tracks, *, a=3.0, greedy=2.0, share=75.0, spread=(0.0,)):
    rows = []
    for i in range(n_tracks):
        d = spread[i % len(spread)]
        si = {1: 5.0 + i, 2: 10.0 + i + d, 3: 10.0 + i - a}
        rows += _rows(f"t{i}", si=si, si_i2=share / 10.0, irm_i=10.0, greedy_best=si[2] + greedy)
    return typed(rows, list(HEAD) + ["n_slices", "greedy", "greedy_score"] + list(TAIL))


def test_rule_decides_each_claim():
    r = claims_report(_table(4), seed_k=2)
    verdicts = {row.id: row.verdict for row in r.rows}
    # (a) k=2 beats k=3 (the best other k) by 3 dB everywhere; (b) k=3 is 3 dB worse; (c) greedy
    # is 2 dB better than k=2; (d) 75 % of the ideal mask's improvement
    assert verdicts == {"a": "holds", "b": "holds", "c": "does not hold", "d": "holds"}
    a = r.row("a")
    assert (a.spread.median, a.spread.ci_low, a.spread.ci_high) == (3.0, 3.0, 3.0)
    assert (a.agree, a.total) == (4, 4) and "k=3" in a.measure
    assert r.row("d").spread.median == 75.0
    far = claims_report(_table(4, share=40.0), seed_k=2).row("d")
    assert far.verdict == "does not hold" and far.agree == 0
    md = claims_markdown(r)
    assert "**Decision rule.**" in md and "ORACLE" in md and md.count("| (") == 4


def test_rule_inconclusive_with_few_tracks_or_an_interval_over_zero():
    few = claims_report(_table(2), seed_k=2)
    assert {row.verdict for row in few.rows} == {"inconclusive"}
    assert all("fewer than 3" in row.reason for row in few.rows)
    # (b) = SI-SDR(3) - SI-SDR(2) = -3 - d: d = -4 on one track of three flips it to +1
    mixed = claims_report(_table(3, spread=(0.0, 0.0, -4.0)), seed_k=2).row("b")
    assert mixed.spread.ci_low < 0 < mixed.spread.ci_high and mixed.verdict == "inconclusive"
    assert (mixed.agree, mixed.total) == (2, 3)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    from conv2dsep_lib.sources.demo_set import build_demo_set

    root = tmp_path_factory.mktemp("claims") / "demo"
    assert not build_demo_set(root, seeds=(0, 1, 2), duration=5.0).skipped
    return root / "rtg" / "100-window"


def test_claims_command_writes_the_decided_report_and_reuses_runs(songs, tmp_path, capsys):
    out = tmp_path / "study"
    argv = [
        "claims",
        "--tracks",
        str(songs / "*"),
        "--slices",
        "3",
        "--seed-k",
        "2",
        "--set",
        "iterations=10",
        "--workers",
        "1",
        "--converged",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "9 runs: 9 ran, 0 cached" in printed  # 3 tracks x (2 greedy criteria + baselines)
    assert "converged: 3 runs: 3 ran" in printed  # progressive with 1000 iterations, per track
    md = (out / "claims.md").read_text()
    assert "ORACLE" in md and "**Decision rule.**" in md and "Test scale: k = 2 stands for the seed's 8" in md
    data = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in data["claims"]] == ["a", "b", "c", "d"]
    for c in data["claims"]:
        assert c["verdict"] in VERDICTS and c["verdict"] in md and c["oracle"] is True
        assert c["n_tracks"] == 3 and all(isinstance(x, float) for x in c["ci95"])
        assert c["ci95"][0] <= c["median"] <= c["ci95"][1]
    assert data["curves"]["si_sdr"]["k"] == [1, 2, 3]
    assert any(f.startswith("Best single slice") for f in data["findings"])
    assert {g["score"] for g in data["greedy"]} == {"step_loss", "si_sdr"}
    conv = data["study"]["convergence"]
    assert conv["settings"] == {"num_iterations": 1000} and conv["tracks"] == 3 and conv["k"] == 2
    assert any(f.startswith("Convergence (num_iterations=1000): SI-SDR(k=2)") for f in data["findings"])
    assert (out / "claims_curves.png").is_file() and (out / "claims_intervals.png").is_file()
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("results.json")}
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "9 runs: 0 ran, 9 cached" in again and "converged: 3 runs: 0 ran, 3 cached" in again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("results.json")} == mtimes
    assert json.loads((out / "claims.json").read_text())["claims"] == data["claims"]
    loaded = load_claims(out)  # what notebook 07 reads: the same report, recomputed from the tables
    assert [r.to_json() for r in loaded.report.rows] == data["claims"]
    assert loaded.convergence is not None and loaded.report.findings == tuple(data["findings"])


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--set", "n_slices=3"], "--set n_slices is set by the claims study itself"),
        (["--excerpts", "zero"], "--excerpts 'zero' is invalid: allowed offsets in seconds"),
        (["--tracks", "x", "--musdb", "y"], "--tracks and --musdb were both given"),
    ],
)
def test_claims_errors_exit_2_with_one_line(extra, needle, tmp_path, capsys, songs):
    argv = ["claims", "--out", str(tmp_path / "never"), *extra]
    if "--tracks" not in extra:
        argv += ["--tracks", str(songs / "*")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and err.count("\n") == 0
    assert not Path(tmp_path / "never" / "sweep.csv").exists()
