"""Figures read back: titles, axis labels, tick labels, legend entries and the data drawn.

Every figure of :mod:`conv2dsep_lib.viz` is built from a real (small) run's record and
checked against the numbers it is meant to show -- not only that a PNG exists.
"""

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from conv2dsep_lib import viz
from conv2dsep_lib.method.transforms import stft
from conv2dsep_lib.method.views import VIEWS
from conv2dsep_lib.results.aggregate import n_slices_curves
from conv2dsep_lib.results.tables import baseline_rows, record_rows, typed
from conv2dsep_lib.run.experiment import build_record, compare_strategies, run_experiment, slice_report
from conv2dsep_lib.run.outputs import estimate_magnitude
from conv2dsep_lib.sources.audio import AudioPair


@pytest.fixture(scope="module")
def run(voice_band_module, small_config_module):
    vocal, band = voice_band_module
    pair = AudioPair(mixture=vocal + band, vocal=vocal, sr=small_config_module.sr, source={"test": True})
    exp = run_experiment(pair, config=small_config_module, n_slices=3, greedy=True, baselines=True, bss=False)
    return exp, build_record(exp)


@pytest.fixture(scope="module")
def small_config_module():
    from conftest import Config

    return Config(duration=1.2, num_iterations=20)


@pytest.fixture(scope="module")
def voice_band_module(small_config_module):
    import conftest

    return conftest._voice_and_band(small_config_module.sr, small_config_module.n_samples, 0)


def _legend(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg is not None else []


def _ticks(ax, axis="x"):
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels]


def test_loss_progression_draws_the_step_losses_and_every_iteration(run):
    _, rec = run
    fig = viz.plot_loss_progression(rec)
    ax1, ax2 = fig.axes
    lines = ax1.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), rec.progressive[-1].step_losses)
    np.testing.assert_allclose(lines[1].get_ydata(), rec.greedy.losses)
    assert _ticks(ax1) == [n.replace("slice_", "") for n in rec.progressive[-1].sequence]
    assert _legend(ax1) == ["original order 1..N", "greedy order"]
    assert ax1.get_ylabel() == "step loss (dB$^2$)"
    curve = np.concatenate([p.loss_curve for p in rec.progressive])
    np.testing.assert_allclose(ax2.get_lines()[0].get_ydata(), np.maximum(curve, 1e-12))
    assert ax2.get_yscale() == "log" and ax2.get_xlabel().startswith("iteration")
    assert "ORACLE" in fig._suptitle.get_text() and "1..3" in fig._suptitle.get_text()


def test_final_loss_comparison_bars_are_the_losses(run):
    _, rec = run
    ax = viz.plot_final_loss_comparison(rec).axes[0]
    heights = [p.get_height() for p in ax.patches]
    want = [p.loss for p in rec.progressive] + [rec.greedy.loss, rec.greedy.best_prefix.loss]
    np.testing.assert_allclose(heights, want)
    assert _ticks(ax) == ["1", "2", "3", "greedy\nall", f"greedy\nbest {rec.greedy.best_prefix.n_slices}"]
    assert "ORACLE" in ax.get_title()


def test_separation_quality_draws_si_sdr_per_k_and_the_baselines(run):
    _, rec = run
    fig = viz.plot_separation_quality(rec)
    ax_si, ax_sdr = fig.axes
    np.testing.assert_allclose(ax_si.get_lines()[0].get_ydata(), [p.metrics.si_sdr for p in rec.progressive])
    by_label = {line.get_label(): line for line in ax_si.get_lines()}
    for name, b in rec.baselines.items():
        line = by_label[f"{name} ({b.kind})"]
        assert line.get_ydata()[0] == pytest.approx(b.metrics.si_sdr)
    assert by_label["greedy order (all)"].get_ydata()[0] == pytest.approx(rec.greedy.metrics.si_sdr)
    assert ax_si.get_ylabel() == "SI-SDR (dB)" and ax_sdr.get_ylabel().startswith("SDR")
    assert all(np.isnan(ax_sdr.get_lines()[0].get_ydata()))  # bss=False: no SDR drawn
    assert "ORACLE" in fig._suptitle.get_text()
    assert _legend(ax_sdr) == ["original order, k slices"]  # no SDR for the rest without BSS Eval


def test_loss_vs_si_sdr_scatters_the_pairs_and_prints_spearman(run):
    _, rec = run
    ax = viz.plot_loss_vs_si_sdr(rec).axes[0]
    scat = [c for c in ax.collections if isinstance(c, PathCollection)][0]
    np.testing.assert_allclose(scat.get_offsets(), [[p.loss, p.metrics.si_sdr] for p in rec.progressive])
    rho = rec.loss_vs_quality.spearman_loss_vs_si_sdr
    assert f"{rho:+.2f}" in ax.get_title() and "ORACLE" in ax.get_title()
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3"]


def test_greedy_candidates_image_is_the_candidates_losses(run):
    _, rec = run
    ax = viz.plot_greedy_candidates(rec).axes[0]
    img = [c for c in ax.get_children() if isinstance(c, AxesImage)][0]
    names = [n for n in ("slice_1_horizontal", "slice_2_vertical", "slice_3_diagonal_up")]
    want = np.full((3, 3), np.nan)
    for i, pos in enumerate(rec.greedy.candidates):
        for n, c in pos.items():
            want[i, names.index(n)] = np.log10(c.loss)
    np.testing.assert_allclose(np.asarray(img.get_array()), want)
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[0] == 1.0]
    chosen = [(int(round(b.get_x() + 0.5)), int(round(b.get_y() + 0.5))) for b in boxes]
    assert chosen == [(names.index(n), i) for i, n in enumerate(rec.greedy.sequence)]
    assert _ticks(ax) == [n.replace("slice_", "") for n in names]


def test_results_summary_bars_are_every_estimate(run):
    _, rec = run
    fig = viz.plot_results_summary(rec)
    ax = fig.axes[0]
    labels = _ticks(ax, "y")
    assert labels[:3] == ["k=1", "k=2", "k=3"] and labels[3] == "greedy (all)"
    assert labels[5:] == [f"{n} ({b.kind})" for n, b in rec.baselines.items()]
    widths = [p.get_width() for p in ax.patches]
    want = [e.metrics.si_sdr for e in rec.estimates()] + [b.metrics.si_sdr for b in rec.baselines.values()]
    np.testing.assert_allclose(widths, want)


def test_spectrogram_comparison_shows_the_lowest_loss_estimate(run):
    exp, rec = run
    best = rec.best_by_loss()
    mix = np.abs(exp.mixture_stft)
    est = estimate_magnitude(exp, best.key)
    fig = viz.plot_spectrogram_comparison(
        rec, mixture_mag=mix, vocal_mag=np.abs(stft(exp.pair.vocal, config=exp.config)), estimate_mag=est
    )
    axes = fig.axes[:4]
    assert axes[0].get_title() == "mixture" and axes[1].get_title().startswith("target vocal")
    assert f"lowest loss ({best.key})" in axes[2].get_title()
    img = axes[2].get_images()[0]
    np.testing.assert_allclose(
        np.asarray(img.get_array()), 20 * np.log10(np.maximum(est, 1e-10) / mix.max()), rtol=1e-6
    )
    assert "ORACLE" in fig._suptitle.get_text()


def test_kernels_figure_draws_every_kernel(run):
    fig = viz.plot_kernels()
    for ax, v in zip(fig.axes, VIEWS):
        np.testing.assert_allclose(np.asarray(ax.get_images()[0].get_array()), v.display_kernel)
        assert ax.get_title().startswith(f"{v.index}: {v.name.replace('slice_', '')}")


def test_slice_step_figure_draws_the_loss_curve_and_the_eq(run, voice_band_module, small_config_module):
    vocal, band = voice_band_module
    rep = slice_report(vocal + band, vocal, view=2, config=small_config_module)
    fig = viz.plot_slice_step(rep.m, rep.v, rep.step, window=5, clip_db=20.0, after_db=rep.after)
    ax_l, ax_e, ax_f = fig.axes[:3]
    np.testing.assert_allclose(ax_l.get_lines()[0].get_ydata(), np.maximum(rep.step.loss_curve, 1e-12))
    np.testing.assert_allclose(np.asarray(ax_e.get_images()[0].get_array()), rep.step.eq_db)
    lines = {line.get_label(): line for line in ax_f.get_lines()}
    np.testing.assert_allclose(lines["target: vocal v"].get_ydata(), rep.v[:, 5])
    np.testing.assert_allclose(lines["fitted: m + e"].get_ydata(), rep.m[:, 5] + rep.step.eq_db[:, 5])
    assert ax_e.get_title() == "EQ curves e (dB), clipped to +-20"


def test_strategy_comparison_draws_each_strategy(voice_band_module, small_config_module):
    vocal, band = voice_band_module
    pair = AudioPair(mixture=vocal + band, vocal=vocal, sr=small_config_module.sr, source={})
    records = compare_strategies(pair, config=small_config_module, n_slices=2, strategies=(2, 3), bss=False)
    fig = viz.plot_strategy_comparison(records)
    ax_c, ax_l, ax_s = fig.axes
    assert _legend(ax_s) == ["2: direct ratio", "3: dB-space descent (seed)"]
    for line, rec in zip(ax_s.get_lines(), records.values()):
        np.testing.assert_allclose(line.get_ydata(), [p.metrics.si_sdr for p in rec.progressive])
    for line, rec in zip(ax_l.get_lines(), records.values()):
        np.testing.assert_allclose(line.get_ydata(), rec.progressive[-1].step_losses)


def test_waveforms_and_spectrograms_draw_the_signals(voice_band_module, small_config_module):
    vocal, band = voice_band_module
    fig = viz.plot_waveforms({"vocal": vocal, "band": band}, sr=small_config_module.sr, title="t")
    assert [ax.get_ylabel() for ax in fig.axes] == ["vocal", "band"]
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), band)
    fig = viz.plot_signal_spectrograms({"vocal": vocal, "band": band}, config=small_config_module)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["vocal", "band"]
    assert fig.axes[2].get_ylabel() == "dB re vocal peak"


def _tiny_table(rec):
    rows = []
    for track, shift in (("a", 0.0), ("b", 1.0), ("c", 3.0)):
        for r in record_rows(rec) + baseline_rows(rec.baselines):
            r = dict(r, track=track, setting="s1", n_slices=3, offset=0.0, greedy=True)
            if r["si_sdr"] is not None:
                r["si_sdr"] += shift
            rows.append(r)
    cols = [
        "track",
        "setting",
        "n_slices",
        "offset",
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
    return typed(rows, cols)


def test_sweep_n_slices_plot_draws_the_medians_over_tracks(run):
    _, rec = run
    table = _tiny_table(rec)
    ax = viz.plot_sweep_n_slices(table).axes[0]
    curves = n_slices_curves(table)
    median = [line for line in ax.get_lines() if "median" in line.get_label() and "(" in line.get_label()][0]
    np.testing.assert_allclose(median.get_ydata(), curves.curves[0].median)
    np.testing.assert_allclose(median.get_ydata(), [p.metrics.si_sdr + 1.0 for p in rec.progressive])
    assert "median over 3 tracks" in ax.get_title() and "ORACLE" in ax.get_title()
    assert "oracle_irm (oracle), median" in _legend(ax)


def test_sweep_greedy_plot_counts_the_runs(run):
    _, rec = run
    fig = viz.plot_sweep_greedy(_tiny_table(rec))
    assert fig.axes[0].get_title().endswith("of 3 runs")
    assert fig.axes[1].get_xlabel().startswith("original order 1..N")


def test_sweep_strategy_plot_says_when_nothing_varies(run):
    _, rec = run
    fig = viz.plot_sweep_strategies(_tiny_table(rec))
    assert "does not vary" in fig.axes[0].texts[0].get_text()
    assert isinstance(_tiny_table(rec), pd.DataFrame)
