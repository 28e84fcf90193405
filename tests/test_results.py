"""The typed run record and the tidy tables: JSON round trips, exact CSV, aggregation by hand."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.results.aggregate import headline, summarise, varied_parameters
from conv2dsep_lib.results.record import SCHEMA_VERSION, RunRecord, read_record
from conv2dsep_lib.results.tables import read_table, record_rows, typed, write_table
from conv2dsep_lib.run.experiment import build_record, run_experiment
from conv2dsep_lib.run.outputs import write_outputs
from conv2dsep_lib.sources.audio import AudioPair


@pytest.fixture(scope="module")
def exp():
    import conftest

    config = Config(duration=1.2, num_iterations=20)
    vocal, band = conftest._voice_and_band(config.sr, config.n_samples, 1)
    pair = AudioPair(mixture=vocal + band, vocal=vocal, sr=config.sr, source={"mixture": "m.wav"})
    return run_experiment(pair, config=config, n_slices=3, greedy=True, baselines=True, bss=True)


def test_record_round_trips_through_json_exactly(exp):
    rec = build_record(exp, arguments={"slices": 3})
    data = rec.to_json()
    assert data["schema_version"] == SCHEMA_VERSION and data["oracle"] is True
    text = json.dumps(data, allow_nan=False)  # strict JSON: no NaN anywhere
    again = RunRecord.from_json(json.loads(text))
    assert again.to_json() == data
    assert again.greedy.sequence == rec.greedy.sequence
    assert again.progressive[1].metrics == rec.progressive[1].metrics
    # the mixture floor's accompaniment estimate is silent: its BSS numbers are undefined (null)
    floor = data["baselines"]["mixture"]["metrics"]["accompaniment"]
    assert floor["sdr"] is None and math.isnan(again.baselines["mixture"].metrics.accompaniment.sdr)


def test_record_views_best_by_loss_and_estimates(exp):
    rec = build_record(exp)
    keys = [e.key for e in rec.estimates()]
    assert keys == ["k=1", "k=2", "k=3", "greedy", "greedy_best"]
    best = rec.best_by_loss()
    # ranked on the common yardstick (the same 19 views for every k), not the step loss
    candidates = [p.yardstick.mean_19 for p in rec.progressive] + [rec.greedy.best_prefix.yardstick.mean_19]
    assert best.yardstick.mean_19 == min(candidates) and best.method != "greedy"
    with pytest.raises(ParameterError, match="'k=9' is not in this record"):
        rec.estimate("k=9")


def test_read_record_refuses_what_is_not_a_record(tmp_path, exp):
    folder = write_outputs(exp, tmp_path, plots=False)
    assert read_record(folder).n_slices == 3
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(ParameterError, match="not a run's results.json"):
        read_record(tmp_path / "x.json")
    with pytest.raises(ParameterError, match="does not exist"):
        read_record(tmp_path / "missing.json")
    newer = dict(json.loads((folder / "results.json").read_text()), schema_version=SCHEMA_VERSION + 1)
    with pytest.raises(ParameterError, match="newer conv2dsep"):
        RunRecord.from_json(newer)


def test_table_csv_round_trip_is_exact_and_typed(tmp_path, exp):
    rows = [
        dict(r, track="t", setting="s", n_slices=3, learning_rate=0.01, greedy=True)
        for r in record_rows(build_record(exp), seconds=1.23456)
    ]
    cols = [
        "track",
        "setting",
        "n_slices",
        "learning_rate",
        "greedy",
        "target",
        "method",
        "kind",
        "k",
        "sequence",
        "loss",
        "si_sdr",
        "si_sdr_i",
        "sdr",
        "sir",
        "sar",
        "oracle",
        "seconds",
    ]
    table = typed(rows, cols)
    back = read_table(write_table(table, tmp_path / "t.csv"))
    pd.testing.assert_frame_equal(back, table)
    assert str(back["k"].dtype) == "Int64" and str(back["oracle"].dtype) == "boolean"
    assert back["si_sdr"].tolist() == [r["si_sdr"] for r in rows]  # floats exact
    assert set(back["target"]) == {"vocals"}


def test_summary_and_headline_by_hand():
    rows = []
    for track, values in (("a", (1.0, 2.0)), ("b", (3.0, 5.0)), ("c", (4.0, 9.0))):
        for k, v in zip((1, 2), values):
            rows.append(
                {
                    "track": track,
                    "setting": "s",
                    "n_slices": 2,
                    "target": "vocals",
                    "method": "progressive",
                    "kind": "method",
                    "k": k,
                    "sequence": "1",
                    "loss": 1.0,
                    "si_sdr": v,
                    "si_sdr_i": None,
                    "sdr": None,
                    "sir": None,
                    "sar": None,
                    "oracle": True,
                    "seconds": 0.1,
                }
            )
        rows.append(
            {
                "track": track,
                "setting": "s",
                "n_slices": 2,
                "target": "vocals",
                "method": "oracle_irm",
                "kind": "oracle",
                "k": None,
                "sequence": None,
                "loss": None,
                "si_sdr": 10.0 + values[0],
                "si_sdr_i": None,
                "sdr": None,
                "sir": None,
                "sar": None,
                "oracle": True,
                "seconds": 0.1,
            }
        )
    table = typed(rows, list(rows[0]))
    summary = summarise(table)
    k2 = summary[(summary["method"] == "progressive") & (summary["k"] == 2)].iloc[0]
    assert k2["n_tracks"] == 3 and k2["si_sdr_median"] == 5.0
    assert k2["si_sdr_q25"] == np.percentile([2.0, 5.0, 9.0], 25) and k2["si_sdr_q75"] == 7.0
    assert pd.isna(k2["sdr_median"])
    head = headline(table)
    assert head.loc[0, "progressive k=N"] == 5.0 and head.loc[0, "best k"] == 2
    assert head.loc[0, "oracle_irm"] == 13.0 and head.loc[0, "tracks"] == 3
    assert varied_parameters(table) == []


def test_spearman_is_scipys_with_ties_and_gaps():
    from scipy.stats import spearmanr

    from conv2dsep_lib.results.record import _spearman

    rng = np.random.default_rng(0)
    for n in (3, 5, 18):
        x = rng.integers(0, 4, n).astype(float)  # ties
        y = rng.standard_normal(n)
        if np.ptp(x) == 0:
            continue
        assert abs(_spearman(x, y) - spearmanr(x, y).statistic) < 1e-12
    assert _spearman([1.0, float("nan"), 2.0, 3.0], [3.0, 1.0, 2.0, 1.0]) == -1.0
    assert _spearman([1.0, 2.0], [2.0, 1.0]) is None
    assert _spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None
