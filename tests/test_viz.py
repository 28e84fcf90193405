"""Figures read back: titles, axis labels, tick labels, legend entries and the data drawn.

Every figure of :mod:`conv2dsep_lib.viz` is built from a real (small) run's record and
checked against the numbers it is meant to show -- not only that a PNG exists.
"""

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

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
    assert _ticks(ax1) == [
        f"{k}: {n.replace('slice_', '')}" for k, n in enumerate(rec.progressive[-1].sequence, 1)
    ]
    assert _legend(ax1) == ["original order", "greedy order"]
    assert ax1.get_ylabel() == "step loss (dB²)"
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
    assert _ticks(ax) == ["1", "2", "3", "greedy\nall 3", f"greedy\nfirst {rec.greedy.best_prefix.n_slices}"]
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
    assert by_label["greedy order, all 3"].get_ydata()[0] == pytest.approx(rec.greedy.metrics.si_sdr)
    assert ax_si.get_ylabel() == "SI-SDR (dB)" and ax_sdr.get_ylabel().startswith("SDR")
    assert all(np.isnan(ax_sdr.get_lines()[0].get_ydata()))  # bss=False: no SDR drawn
    assert "ORACLE" in fig._suptitle.get_text()
    # one legend for both panels (the SDR panel has only the first line without BSS Eval)
    assert _legend(ax_sdr) == [line.get_label() for line in ax_si.get_lines()]


def test_loss_vs_si_sdr_scatters_the_pairs_and_prints_spearman(run):
    _, rec = run
    ax = viz.plot_loss_vs_si_sdr(rec).axes[0]
    scat = [c for c in ax.collections if isinstance(c, PathCollection)][0]
    np.testing.assert_allclose(
        scat.get_offsets(), [[p.yardstick.mean_19, p.metrics.si_sdr] for p in rec.progressive]
    )
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
    assert ax_e.get_title() == "EQ curves e (dB), clipped to ±20"


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


def _tiny_table(rec, *, tracks=("a", "b", "c"), offsets=(0.0,)):
    rows = []
    shifts = {"a": 0.0, "b": 1.0, "c": 3.0}
    for i, offset in enumerate(offsets):
        for track in tracks:
            for r in record_rows(rec) + baseline_rows(rec.baselines):
                r = dict(r, track=track, setting=f"s{i}", n_slices=3, offset=offset, greedy=True)
                if r["si_sdr"] is not None:
                    r["si_sdr"] += shifts[track] + 0.1 * i
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


# ---------------------------------------------------------------- issue 12, items 3 and 11
def _render(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _assert_legend_covers_no_axes(fig, legend):
    renderer = _render(fig)
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        if ax.axison:
            assert not box.overlaps(ax.get_window_extent(renderer)), (legend, ax.get_title())


def _texts(fig):
    _render(fig)
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_loss_progression_names_the_greedy_order_on_its_own_axis(run):
    _, rec = run
    g = rec.greedy
    ax1 = viz.plot_loss_progression(rec).axes[0]
    top = ax1.child_axes[0]
    assert _ticks(top) == [f"{k}: {n.replace('slice_', '')}" for k, n in enumerate(g.sequence, 1)]
    assert "greedy" in top.get_xlabel() and "original" in ax1.get_xlabel()
    greedy = [line for line in ax1.get_lines() if line.get_label() == "greedy order"][0]
    np.testing.assert_array_equal(greedy.get_xdata(), np.arange(1, len(g.sequence) + 1))


def test_greedy_best_prefix_is_labelled_as_the_greedy_orders_first_k(run):
    _, rec = run
    n = rec.greedy.best_prefix.n_slices
    ax_si = viz.plot_separation_quality(rec).axes[0]
    best = [line for line in ax_si.get_lines() if line.get_label().startswith("greedy best prefix")][0]
    assert best.get_label() == f"greedy best prefix: its first {n}"
    assert list(best.get_xdata()) == [n]
    assert "greedy: first k of its order" in ax_si.get_xlabel() and "original: 1..k" in ax_si.get_xlabel()
    ax = viz.plot_final_loss_comparison(rec).axes[0]
    assert "its first k slices" in ax.get_xlabel()


def test_separation_quality_legend_is_outside_and_markers_are_not_clipped(run):
    _, rec = run
    fig = viz.plot_separation_quality(rec)
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 1
    _assert_legend_covers_no_axes(fig, legends[0])
    for line in fig.axes[0].get_lines():
        if line.get_marker() not in (None, "None", ""):
            assert line.get_clip_on() is False, line.get_label()


def test_loss_vs_si_sdr_legend_is_outside(run):
    _, rec = run
    fig = viz.plot_loss_vs_si_sdr(rec)
    _assert_legend_covers_no_axes(fig, fig.axes[0].get_legend())


def test_sweep_n_slices_legend_is_outside(run):
    _, rec = run
    fig = viz.plot_sweep_n_slices(_tiny_table(rec))
    _assert_legend_covers_no_axes(fig, fig.axes[0].get_legend())


def test_sweep_n_slices_with_one_track_says_1_track_and_draws_no_band(run):
    _, rec = run
    ax = viz.plot_sweep_n_slices(_tiny_table(rec, tracks=("a",))).axes[0]
    assert "1 track\n" in ax.get_title() and "tracks" not in ax.get_title() and "median" not in ax.get_title()
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]  # no IQR band of one value
    assert _legend(ax)[0] == "all settings (1 track)"
    np.testing.assert_allclose(
        ax.get_lines()[0].get_ydata(), [p.metrics.si_sdr for p in rec.progressive], atol=1e-5
    )


def test_sweep_greedy_with_32_settings_has_distinct_colours_and_an_outside_legend(run):
    _, rec = run
    fig = viz.plot_sweep_greedy(_tiny_table(rec, tracks=("a",), offsets=tuple(float(i) for i in range(32))))
    ax_m = fig.axes[1]
    leg = ax_m.get_legend()
    assert len(leg.get_texts()) == 32 and leg.get_texts()[0].get_text() == "offset=0"
    colours = {to_hex(h.get_facecolor()[0]) for h in leg.legend_handles}
    assert len(colours) == 32
    _assert_legend_covers_no_axes(fig, leg)


def _all_figures(run, voice_band_module, small_config_module):
    exp, rec = run
    vocal, band = voice_band_module
    cfg = small_config_module
    S_mix, S_voc = np.abs(stft(vocal + band, config=cfg)), np.abs(stft(vocal, config=cfg))
    rep = slice_report(vocal + band, vocal, view=2, config=cfg)
    table = _tiny_table(rec)
    return {
        "loss_progression": viz.plot_loss_progression(rec),
        "final_loss": viz.plot_final_loss_comparison(rec),
        "separation_quality": viz.plot_separation_quality(rec),
        "loss_vs_si_sdr": viz.plot_loss_vs_si_sdr(rec),
        "greedy_candidates": viz.plot_greedy_candidates(rec),
        "results_summary": viz.plot_results_summary(rec),
        "kernels": viz.plot_kernels(),
        "views_pair": viz.plot_views_pair(S_mix, S_voc, sr=cfg.sr, hop_length=cfg.hop_length),
        "fingerprints": viz.plot_fingerprints_window(S_mix, S_voc, window=5, config=cfg),
        "slice_window": viz.plot_slice_window(S_mix, S_voc, view=2, window=5, config=cfg),
        "slice_step": viz.plot_slice_step(
            rep.m,
            rep.v,
            rep.step,
            window=5,
            clip_db=cfg.clip_db,
            after_db=rep.after,
            magnitudes=(rep.mixture_mag, rep.step.magnitude),
            config=cfg,
        ),
        "sweep_n_slices": viz.plot_sweep_n_slices(table),
        "sweep_greedy": viz.plot_sweep_greedy(table),
    }


@pytest.fixture(scope="module")
def figures(run, voice_band_module, small_config_module):
    return _all_figures(run, voice_band_module, small_config_module)


def test_every_text_is_at_least_8_points(figures):
    for name, fig in figures.items():
        small = [(t.get_text(), t.get_fontsize()) for t in _texts(fig) if t.get_fontsize() < 8]
        assert not small, (name, small[:5])


def test_dB2_is_written_one_way(figures):
    seen = False
    for name, fig in figures.items():
        for t in _texts(fig):
            assert "dB$^2$" not in t.get_text() and "dB^2" not in t.get_text(), (name, t.get_text())
            seen |= "dB²" in t.get_text()
    assert seen


def test_log_axes_have_plain_tick_labels(figures, voice_band_module, small_config_module):
    vocal, band = voice_band_module
    from conv2dsep_lib.sources.audio import AudioPair

    pair = AudioPair(mixture=vocal + band, vocal=vocal, sr=small_config_module.sr, source={})
    records = compare_strategies(pair, config=small_config_module, n_slices=2, strategies=(2, 3), bss=False)
    figs = dict(figures, strategies=viz.plot_strategy_comparison(records))
    n_log = 0
    for name, fig in figs.items():
        _render(fig)
        for ax in fig.axes:
            for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
                if scale != "log":
                    continue
                n_log += 1
                labels = [t.get_text() for t in axis.get_ticklabels(which="both") if t.get_text()]
                assert labels, name
                for text in labels:
                    assert "$" not in text and "10^" not in text and "e-" not in text, (name, text)
                    float(text)  # a plain number
    assert n_log >= 4


def test_plain_log_formatter_labels():
    from conv2dsep_lib.viz.common import PlainLogFormatter

    f = PlainLogFormatter()
    assert [f(x) for x in (1e-5, 0.001, 0.1, 1.0, 10.0, 1000.0, 0.0030000000000000005)] == [
        "0.00001",
        "0.001",
        "0.1",
        "1",
        "10",
        "1000",
        "0.003",
    ]


def test_saved_png_is_150_dpi_full_colour(figures, tmp_path):
    from conv2dsep_lib.viz.common import SAVE_DPI

    assert SAVE_DPI >= 150
    path = viz.save_figure(figures["separation_quality"], tmp_path / "q.png")
    with Image.open(path) as img:
        assert img.mode in ("RGB", "RGBA")  # not a 256-colour palette ("P")
        assert img.info["dpi"][0] == pytest.approx(150, abs=0.5)
        assert img.width >= 13 * 150 * 0.9  # a 13.5 in wide figure (tight bbox)


def test_numbers_are_printed_to_sensible_precision(run, figures):
    from conv2dsep_lib.viz.common import fmt_num

    assert [fmt_num(x) for x in (1008.3, 142.27, 7.104, 0.01234, 0.0, None, float("nan"))] == [
        "1008",
        "142",
        "7.1",
        "0.0123",
        "0",
        "n/a",
        "n/a",
    ]
    assert fmt_num(235.4, digits=2) == "235" and fmt_num(1.234e-5) == "1.23e-05"
    for name in ("final_loss", "greedy_candidates", "results_summary", "slice_step", "loss_vs_si_sdr"):
        for t in _texts(figures[name]):
            assert "e+" not in t.get_text(), (name, t.get_text())
    _, rec = run
    rho = rec.loss_vs_quality.spearman_loss_vs_si_sdr
    title = figures["loss_vs_si_sdr"].axes[0].get_title()
    assert f"rho = {rho:+.2f};" in title  # Spearman to 2 decimals


def test_a_run_against_another_stem_is_named_in_every_title(run):
    """A drums run (``input["target"]``) says so; a vocals run's texts are today's, word for word."""
    import dataclasses

    exp, rec = run
    drums = dataclasses.replace(rec, input={**rec.input, "target": "drums"})
    assert viz.target_word(rec) == "vocal" and viz.target_word(drums) == "drums"
    assert viz.target_word("bass") == "bass"
    mags = dict(
        mixture_mag=np.abs(stft(exp.pair.mixture, config=rec.config)),
        vocal_mag=np.abs(stft(exp.pair.vocal, config=rec.config)),
        estimate_mag=estimate_magnitude(exp, exp.shown),
    )
    figures = {
        "loss_progression": lambda r: viz.plot_loss_progression(r),
        "final_loss": lambda r: viz.plot_final_loss_comparison(r),
        "spectrograms": lambda r: viz.plot_spectrogram_comparison(r, **mags),
        "quality": lambda r: viz.plot_separation_quality(r),
        "loss_vs_si_sdr": lambda r: viz.plot_loss_vs_si_sdr(r),
        "greedy": lambda r: viz.plot_greedy_candidates(r),
        "summary": lambda r: viz.plot_results_summary(r),
    }
    for name, draw in figures.items():
        vocal_texts = " | ".join(t.get_text() for t in _texts(draw(rec)))
        drum_texts = " | ".join(t.get_text() for t in _texts(draw(drums)))
        assert "ORACLE (uses the true vocal)" in vocal_texts and "drums" not in vocal_texts, name
        assert "ORACLE (uses the true drums stem)" in drum_texts and "vocal" not in drum_texts, name
    spec = [ax.get_title() for ax in figures["spectrograms"](rec).axes[:4]]
    assert spec[1] == "target vocal\n(true stem)" and spec[2].startswith("extracted, lowest loss")
    assert (
        figures["quality"](rec)._suptitle.get_text().startswith("Separation quality of the extracted vocal")
    )
    assert figures["loss_vs_si_sdr"](rec).axes[0].get_ylabel() == "SI-SDR (dB), higher = better vocal"
    spec = [ax.get_title() for ax in figures["spectrograms"](drums).axes[:4]]
    assert spec[1] == "target drums\n(true stem)" and spec[2].startswith("extracted drums, lowest loss")
