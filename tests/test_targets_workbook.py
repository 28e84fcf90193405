"""Several targets in the workbook: the tables, the all-stems player, reuse, and figures per target.

One small multi-target run (demo song 0 with its stems, vocals + drums, 2 slices, 20
iterations, 1.5 s, SI-SDR only) written as ``conv2dsep best --targets vocals,drums`` writes
it; notebook 03 with ``targets`` is executed in ``test_notebooks.py``.
"""

import numpy as np
import pytest

from conv2dsep_lib import viz
from conv2dsep_lib import workbook as W
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.method.transforms import stft
from conv2dsep_lib.results.targets import read_targets_record
from conv2dsep_lib.run.target_outputs import write_target_outputs
from conv2dsep_lib.run.targets import REST, run_targets
from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir
from conv2dsep_lib.sources.inputs import load_input

CFG = Config(duration=1.5, num_iterations=20)
TARGETS = ("vocals", "drums")


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    assert not build_demo_set(root, seeds=(0,), duration=5.0).skipped
    return demo_song_dir(root, 0)


@pytest.fixture(scope="module")
def pair(song):
    return load_input(config=CFG, data_dir=song, targets=",".join(TARGETS))


@pytest.fixture(scope="module")
def texp(pair):
    return run_targets(pair, config=CFG, n_slices=2, targets=TARGETS, greedy=True, bss=False)


@pytest.fixture(scope="module")
def written(texp, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    folder = write_target_outputs(texp, out, arguments={"test": True})
    return out, folder, read_targets_record(folder)


# ------------------------------------------------------------------ the parameter and the pair
def test_targets_parameter_and_the_pair_of_one_target(pair, song):
    assert W.notebook_targets("drums,vocals") == TARGETS
    with pytest.raises(ParameterError, match="'vocal' is unknown"):
        W.notebook_targets("vocal")
    assert W.target_pair(pair, TARGETS) is pair  # several: every stem, unchanged
    drums = W.target_pair(pair, ("drums",))
    np.testing.assert_array_equal(drums.vocal, pair.stems["drums"])
    assert drums.source["target"] == "drums"
    today = load_input(config=CFG, data_dir=song)  # the default: today's pair, as loaded
    assert W.target_pair(today, ("vocals",)) is today
    with pytest.raises(ParameterError, match="has no drums stem"):
        W.target_pair(today, TARGETS)


def test_oracle_label_and_banner_name_the_stems():
    assert W.oracle_label(("vocals",)) == "ORACLE (uses the true vocal)"  # every caption's words
    assert W.oracle_label(["drums"]) == "ORACLE (uses the true drums stem)"
    assert W.oracle_label(TARGETS) == "ORACLE (uses each target's true stem)"
    today = W.oracle_banner(display=False).data
    assert W.oracle_banner(targets=("vocals",), display=False).data == today
    assert "the true isolated vocal as its target" in today
    assert (
        "the true isolated bass stem as its target" in W.oracle_banner(targets=["bass"], display=False).data
    )
    several = W.oracle_banner(targets=TARGETS, display=False).data
    assert "each target&#x27;s true isolated stem as its target" in several and "upper-bound" in several


def test_run_sources_name_the_target(texp):
    drums = W.run_sources(texp.runs["drums"])
    assert list(drums) == ["mixture", "target drums", *texp.runs["drums"].estimates]
    assert {"k=1", "k=2", "greedy"} <= set(drums)
    assert drums["target drums"] is texp.runs["drums"].pair.vocal
    assert list(W.run_sources(texp.runs["vocals"]))[:2] == ["mixture", "target vocal"]  # as 03 always said


# ------------------------------------------------------------------ tables
def test_targets_table_has_one_block_per_target(written):
    _, _, record = written
    table = W.targets_table(record)
    assert list(table["target"].unique()) == list(TARGETS)
    assert table.columns[0] == "target"
    for t in TARGETS:
        block = table[table["target"] == t]
        run = record.by_target[t]
        assert list(block["estimate"])[:2] == ["conv2d k=1", "conv2d k=2"]
        np.testing.assert_allclose(
            block["SI-SDR (dB)"].iloc[:2], [p.metrics.si_sdr for p in run.progressive], rtol=1e-12
        )
        np.testing.assert_allclose(
            block["step loss (dB², in view k)"].iloc[:2], [p.loss for p in run.progressive], rtol=1e-12
        )
        assert set(run.baselines) <= set(block["estimate"])  # each target's own baselines
        single = W.targets_table(record, target=t)
        assert single.reset_index(drop=True).equals(block.reset_index(drop=True))
    drums = set(table[table["target"] == "drums"]["estimate"])
    assert "hpss_percussive" in drums and "repet_sim" not in drums
    with pytest.raises(ParameterError, match="bass"):
        W.targets_table(record, target="bass")


def test_joint_table_is_separate_vs_joint_per_source(written, texp):
    _, _, record = written
    table = W.joint_table(record)
    assert record.sources == (*TARGETS, REST)
    assert list(zip(table["source"], table["estimate"])) == [
        (s, kind) for s in record.sources for kind in ("separate (k = N)", "joint (masks sum to 1)")
    ]
    for (s, label), si in zip(zip(table["source"], table["estimate"]), table["SI-SDR (dB)"]):
        kind = "separate" if label.startswith("separate") else "joint"
        assert si == pytest.approx(texp.scores[kind][s].si_sdr, abs=1e-9)
    notes = W.joint_notes(record)
    assert "sum to the mixture" in notes and "rest" in notes


# ------------------------------------------------------------------ the all-stems player
def test_stem_sources_hold_every_stem_and_estimate(written, texp, pair):
    _, folder, record = written
    want = ["mixture"] + [
        name for s in record.sources for name in (
            f"true {s}" if s != REST else "true rest (mixture - targets)", f"{s} separate (k=2)", f"{s} joint",
        )
    ]  # fmt: skip
    live = W.stem_sources(texp)
    back = W.stem_sources(record, folder)
    assert list(live) == want and list(back) == want
    for name in want:  # the files hold the arrays that were scored
        np.testing.assert_allclose(back[name], live[name], atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(live["true drums"], pair.stems["drums"])
    np.testing.assert_array_equal(live["drums joint"], texp.joint["drums"])
    player = W.ab_player(back, sr=CFG.sr, display=False)
    assert player.names == want and player._repr_html_().count("<audio") == len(want)
    with pytest.raises(ParameterError, match="folder"):
        W.stem_sources(record)


# ------------------------------------------------------------------ notebook 05: reuse
def test_a_matching_multi_target_run_is_reused_and_others_are_not(written, pair, tmp_path):
    out, folder, _ = written
    kw = dict(n_slices=2, config=CFG, source=pair.source, bss=False)
    assert W.find_targets_results([out], targets=TARGETS, **kw) == folder / "results.json"
    assert W.find_targets_results([folder], targets=TARGETS, **kw) == folder / "results.json"
    assert W.find_targets_results([out], targets=("vocals", "bass"), **kw) is None
    assert W.find_targets_results([out], targets=TARGETS, **{**kw, "n_slices": 3}) is None
    assert W.find_targets_results([out], targets=TARGETS, **{**kw, "bss": True}) is None  # no SDR
    assert (
        W.find_targets_results([out], targets=TARGETS, **{**kw, "config": CFG.replace(clip_db=10.0)}) is None
    )
    other = {**pair.source, "offset": 1.0}
    assert W.find_targets_results([out], targets=TARGETS, **{**kw, "source": other}) is None
    assert W.find_targets_results([out / "vocals", "", tmp_path], targets=TARGETS, **kw) is None
    record, where, reused = W.load_or_run_targets(
        pair, config=CFG, n_slices=2, targets=TARGETS, out_root=tmp_path, search=["", out], bss=False
    )
    assert reused and where == folder and record.targets == TARGETS
    assert not any(tmp_path.iterdir())  # nothing run, nothing written


# ------------------------------------------------------------------ figures name the target
def _texts(fig):
    from matplotlib.text import Text

    return " | ".join(t.get_text() for t in fig.findobj(Text))


def test_figures_name_the_target_and_vocals_read_as_before(written, texp):
    _, _, record = written
    drums, vocals = record.by_target["drums"], record.by_target["vocals"]
    assert viz.target_word(drums) == "drums" and viz.target_word(vocals) == "vocal"
    sep = viz.plot_separation_quality(drums)._suptitle.get_text()
    assert sep.startswith("Separation quality of the extracted drums")
    assert (
        viz.plot_separation_quality(vocals)
        ._suptitle.get_text()
        .startswith("Separation quality of the extracted vocal -- ")
    )
    ax = viz.plot_loss_vs_si_sdr(drums).axes[0]
    assert ax.get_ylabel() == "SI-SDR (dB), higher = better drums"
    assert "distance to the drums" in ax.get_xlabel() and "(uses the true drums stem)" in ax.get_title()
    for plot in (viz.plot_loss_progression, viz.plot_results_summary):
        assert "(uses the true drums stem)" in plot(drums)._suptitle.get_text()
        assert "drums" not in plot(vocals)._suptitle.get_text()
    assert "(uses the true drums stem)" in viz.plot_final_loss_comparison(drums).axes[0].get_title()
    assert "(uses the true drums stem)" in viz.plot_greedy_candidates(drums).axes[0].get_title()
    run = texp.runs["drums"]
    mags = dict(
        mixture_mag=np.abs(stft(run.pair.mixture, config=CFG)),
        vocal_mag=np.abs(stft(run.pair.vocal, config=CFG)),
        estimate_mag=np.abs(stft(run.estimates[drums.best_by_loss().key], config=CFG)),
    )
    titles = [a.get_title() for a in viz.plot_spectrogram_comparison(drums, **mags).axes[:4]]
    assert titles[1] == "target drums\n(true stem)" and titles[2].startswith("extracted drums, lowest loss")
    titles = [a.get_title() for a in viz.plot_spectrogram_comparison(vocals, **mags).axes[:4]]
    assert titles[1] == "target vocal\n(true stem)" and titles[2].startswith("extracted, lowest loss")
    assert "drums" not in _texts(viz.plot_loss_vs_si_sdr(vocals))


def test_results_explorer_names_the_target(written, texp):
    _, folder, record = written
    drums = record.by_target["drums"]
    run = texp.runs["drums"]
    box = W.results_explorer(
        drums,
        W.load_estimates(drums, folder / "drums"),
        mixture=run.pair.mixture,
        vocal=run.pair.vocal,
        config=CFG,
        interactive=False,
        display=False,
        raise_errors=True,
    )
    assert box.data["player"].names[1] == "target drums"
    assert "uses the true drums stem" in box.status.value
