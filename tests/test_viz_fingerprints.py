"""The fingerprint pictures read back: the lines drawn are the whole spectrogram's fingerprint columns.

Issue 12, item 1: the plots fingerprinted a one-frame spectrogram ``S[:, w:w+1]``, so a
view with time extent (``slice_2_vertical``, ``slice_12_edge_90``) drew a flat line.
Item 2: the "applied gain E" panel showed the level change after/before (up to +40 dB),
not ``E`` (within the clip).
"""

import numpy as np
import pytest

from conv2dsep_lib import viz
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.method.fingerprint import expand_points, fingerprint_db
from conv2dsep_lib.method.transforms import stft, to_db
from conv2dsep_lib.method.views import VIEW_NAMES, VIEWS
from conv2dsep_lib.run.experiment import slice_report


@pytest.fixture(scope="module")
def cfg():
    return Config(duration=1.2, num_iterations=20)


@pytest.fixture(scope="module")
def signals(cfg):
    import conftest

    return conftest._voice_and_band(cfg.sr, cfg.n_samples, 0)


@pytest.fixture(scope="module")
def mags(cfg, signals):
    vocal, band = signals
    return np.abs(stft(vocal + band, config=cfg)), np.abs(stft(vocal, config=cfg))


@pytest.mark.parametrize("cut", [0, 1], ids=["even", "odd"])
def test_window_fingerprint_is_the_whole_spectrograms_column_for_every_view(cfg, mags, cut):
    S = mags[0][:, : mags[0].shape[1] - cut]
    n = S.shape[1]
    for v in VIEWS:
        whole = fingerprint_db(S, v, config=cfg)
        for w in sorted({0, 1, 2, 3, n // 2, n // 2 + 1, n - 4, n - 3, n - 2, n - 1}):
            np.testing.assert_allclose(
                viz.window_fingerprint_db(S, v, window=w, config=cfg),
                whole[:, w],
                rtol=0,
                atol=1e-9,
                err_msg=f"{v.name}, window {w} of {n}",
            )


def test_a_one_frame_fingerprint_is_not_the_column(cfg, mags):
    """The old bug, kept as a check that the views with time extent need the neighbours."""
    S, w = mags[0], 10
    one_frame = fingerprint_db(S[:, w : w + 1], "slice_2_vertical", config=cfg)[:, 0]
    column = fingerprint_db(S, "slice_2_vertical", config=cfg)[:, w]
    assert np.ptp(one_frame) == 0.0  # flat: a vertical-edge kernel sees no change in time
    assert np.ptp(column) > 20.0


@pytest.mark.parametrize(
    "view", ["slice_2_vertical", "slice_12_edge_90", "slice_1_horizontal", "slice_0_raw"]
)
def test_fingerprints_window_draws_the_whole_spectrograms_columns(cfg, mags, view):
    S_mix, S_voc = mags
    k, w = VIEW_NAMES.index(view), 10
    fig = viz.plot_fingerprints_window(S_mix, S_voc, window=w, config=cfg, views=[1, k])
    ax = fig.axes[1]
    assert ax.get_title() == view.replace("slice_", "")
    mix_line, voc_line = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(mix_line.get_ydata(), fingerprint_db(S_mix, k, config=cfg)[:, w], atol=1e-9)
    np.testing.assert_allclose(voc_line.get_ydata(), fingerprint_db(S_voc, k, config=cfg)[:, w], atol=1e-9)
    np.testing.assert_allclose(mix_line.get_xdata(), np.linspace(0, cfg.sr / 2000, cfg.n_points))
    assert np.ptp(mix_line.get_ydata()) > 20.0  # not the flat -160 dB line of the one-frame bug
    # the legend sits in the free grid cell, over no data
    legend_axes = [a for a in fig.axes if a.get_legend() is not None]
    assert legend_axes and not legend_axes[0].lines


@pytest.mark.parametrize("view", [2, 12, 1])
def test_slice_explorer_picture_draws_the_column_and_its_mean_difference(cfg, mags, view):
    S_mix, S_voc = mags
    w = 7
    fig = viz.plot_slice_window(S_mix, S_voc, view=view, window=w, config=cfg)
    ax_f = fig.axes[4]
    m = fingerprint_db(S_mix, view, config=cfg)[:, w]
    v = fingerprint_db(S_voc, view, config=cfg)[:, w]
    np.testing.assert_allclose(ax_f.lines[0].get_ydata(), m, atol=1e-9)
    np.testing.assert_allclose(ax_f.lines[1].get_ydata(), v, atol=1e-9)
    diff = float(np.mean(np.abs(m - v)))
    assert diff > 1.0  # the one-frame bug printed 0.0 dB for the views with time extent
    assert f"mean |mix - vocal| = {diff:.1f} dB" in ax_f.get_title()


def test_applied_gain_panel_draws_E_within_the_clip_and_names_the_floor_lift(cfg, signals):
    vocal, band = signals
    rep = slice_report(vocal + band, vocal, view=2, config=cfg)
    before, after = rep.mixture_mag, rep.step.magnitude
    fig = viz.plot_slice_step(
        rep.m,
        rep.v,
        rep.step,
        window=5,
        clip_db=cfg.clip_db,
        after_db=rep.after,
        magnitudes=(before, after),
        config=cfg,
    )
    ax = [a for a in fig.axes if a.get_title().startswith("applied gain E")][0]
    E = expand_points(rep.step.eq_db, n_bins=before.shape[0])
    drawn = np.asarray(ax.get_images()[0].get_array())
    np.testing.assert_allclose(drawn, E)
    assert np.abs(drawn).max() <= cfg.clip_db + 1e-9
    assert ax.get_images()[0].get_clim() == (-cfg.clip_db, cfg.clip_db)
    # The root cause of "+40 dB": the level change is E plus the lift of the bins that
    # dB(W) (top_db = 80, the seed's) raises to the floor before adding E.
    change = 20 * np.log10(np.maximum(after, 1e-30) / np.maximum(before, 1e-30))
    floored = to_db(before, amin=cfg.amin, top_db=None) < to_db(before, amin=cfg.amin, top_db=cfg.top_db)
    assert floored.any() and change.max() > cfg.clip_db + 10
    np.testing.assert_allclose(change[~floored], E[~floored], atol=1e-6)
    assert np.all(change[floored] > E[floored])
    assert f"{100 * floored.mean():.0f}% of bins under the dB floor" in ax.get_title()
    assert "level change = E + up to" in ax.get_title()
