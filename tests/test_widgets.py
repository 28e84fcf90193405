"""Jupyter helpers without a browser: explorers' callbacks run by setting ``.value``."""

import io

import ipywidgets  # noqa: E402,F401  (a declared dependency)
import numpy as np
import pytest
import soundfile as sf

from conv2dsep_lib import workbook as W
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.method.transforms import stft
from conv2dsep_lib.run.experiment import slice_report
from conv2dsep_lib.workbook.players import select_source

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def pair(small_config, voice_band):
    vocal, band = voice_band
    return (vocal + band).astype(np.float32), vocal


@pytest.fixture
def mags(small_config, pair):
    mixture, vocal = pair
    return np.abs(stft(mixture, config=small_config)), np.abs(stft(vocal, config=small_config))


def _small_figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    fig.subplots().plot([0, 1], [1, 0])
    return fig


# ------------------------------------------------------------------ figures, tables, players
def test_show_figure_returns_png_and_saves_the_same_bytes(tmp_path):
    img = W.show_figure(_small_figure(), save=tmp_path / "f.png", display=False)
    assert img.data.startswith(PNG)
    assert (tmp_path / "f.png").read_bytes() == img.data
    assert img._repr_png_() is not None


def test_show_table_formats_none_nan_and_escapes():
    obj = W.show_table(
        [{"a": 1.23456, "b": None, "c": float("nan"), "d": "<x>"}], caption="ORACLE table", display=False
    )
    html = obj.data
    assert "1.235" in html and html.count("n/a") == 2 and "&lt;x&gt;" in html
    assert "ORACLE table" in html


def test_static_players_embed_one_audio_element_per_source_at_a_common_level(pair, small_config):
    mixture, vocal = pair
    loud = 3.0 * mixture  # peak > 1: all sources are scaled by the same factor, no error
    obj = W.players({"mixture": loud, "vocal": vocal}, sr=small_config.sr, display=False)
    assert obj.data.count("<audio") == 2


def test_ab_player_swaps_the_audio_when_the_toggle_changes(pair, small_config):
    mixture, vocal = pair
    box = W.ab_player(
        {"mixture": mixture, "target": vocal}, sr=small_config.sr, display=False, raise_errors=True
    )
    assert box.audio.value == box.data["wav"]["mixture"]
    box.controls["source"].value = "target"
    assert box.audio.value == box.data["wav"]["target"]
    y, sr = sf.read(io.BytesIO(box.audio.value))
    assert sr == small_config.sr and len(y) == len(vocal)
    with pytest.raises(KeyError, match="allowed mixture, target"):
        select_source(box, "nope")


def test_ab_player_static_form_and_empty_sources(pair, small_config):
    mixture, vocal = pair
    obj = W.ab_player({"m": mixture, "v": vocal}, sr=small_config.sr, interactive=False, display=False)
    assert obj.data.count("<audio") == 2
    with pytest.raises(ParameterError):
        W.ab_player({}, sr=small_config.sr, display=False)


# ------------------------------------------------------------------ slice explorer
def test_slice_explorer_updates_on_every_control(mags, small_config):
    S_mix, S_voc = mags
    box = W.slice_explorer(
        S_mix, S_voc, config=small_config, view=1, window=5, display=False, raise_errors=True
    )
    assert bytes(box.figure.value).startswith(PNG)
    assert box.controls["window"].max == S_mix.shape[1] - 1
    assert box.controls["window"].continuous_update is False
    assert box.controls["db_range"].continuous_update is False
    seen = {bytes(box.figure.value)}
    box.controls["window"].value = 20
    assert "window 20" in box.status.value
    seen.add(bytes(box.figure.value))
    box.controls["view"].value = 6
    assert "slice_6_harmonic" in box.status.value
    seen.add(bytes(box.figure.value))
    box.controls["db_range"].value = (-50.0, -10.0)
    seen.add(bytes(box.figure.value))
    assert len(seen) == 4 and box.error.value == ""


def test_slice_explorer_errors_are_shown_and_raised(mags, small_config):
    S_mix, S_voc = mags
    box = W.slice_explorer(S_mix, S_voc, config=small_config, display=False, raise_errors=True)
    box.data["S_voc"] = np.zeros((4, 0))
    with pytest.raises(Exception):
        box.controls["window"].value = 3
    assert "update failed" in box.error.value
    box.data["S_voc"] = S_voc  # repaired: the next update clears the message
    box.controls["window"].value = 4
    assert box.error.value == ""


def test_slice_explorer_without_raise_errors_keeps_the_widget_alive(mags, small_config):
    S_mix, S_voc = mags
    box = W.slice_explorer(S_mix, S_voc, config=small_config, display=False)
    before = box.figure.value
    box.data["S_mix"] = None
    box.controls["window"].value = 2  # no exception: shown in the widget only
    assert "update failed" in box.error.value and box.figure.value == before


def test_slice_explorer_clips_window_and_rejects_bad_view(mags, small_config):
    S_mix, S_voc = mags
    box = W.slice_explorer(S_mix, S_voc, config=small_config, window=10_000, display=False)
    assert box.controls["window"].value == S_mix.shape[1] - 1
    with pytest.raises(ParameterError, match="view=42"):
        W.slice_explorer(S_mix, S_voc, config=small_config, view=42, display=False)


# ------------------------------------------------------------------ optimisation explorer
def test_slice_step_report_is_an_oracle_measurement(pair, small_config):
    mixture, vocal = pair
    rep = slice_report(mixture, vocal, view=1, config=small_config)
    n_points, n_frames = small_config.n_points, small_config.n_frames
    assert rep.m.shape == rep.v.shape == rep.after.shape == (n_points, n_frames)
    assert rep.estimate.shape == mixture.shape
    assert rep.loss == pytest.approx(float(rep.step.loss_curve[-1]))
    assert set(rep.metrics.to_json()) >= {"si_sdr", "si_sdr_i"}


def test_optimisation_explorer_recomputes_on_every_slider(pair, small_config):
    mixture, vocal = pair
    box = W.optimisation_explorer(
        mixture, vocal, config=small_config, view=1, window=3, display=False, raise_errors=True
    )
    for name in ("learning_rate", "iterations", "clip_db", "window"):
        assert box.controls[name].continuous_update is False
    assert "ORACLE" in box.status.value and "SI-SDR" in box.status.value
    first_fig, first_audio, first_status = box.figure.value, box.audio.value, box.status.value
    assert bytes(first_audio[:4]) == b"RIFF"
    box.controls["learning_rate"].value = 0.1
    assert box.data["config"].learning_rate == pytest.approx(0.1)
    assert box.figure.value != first_fig and box.status.value != first_status
    box.controls["iterations"].value = 5
    assert len(box.data["report"].step.loss_curve) == 5
    box.controls["clip_db"].value = 3.0
    assert np.max(np.abs(box.data["report"].step.eq_db)) <= 3.0 + 1e-9
    box.controls["strategy"].value = 1
    assert box.data["config"].strategy == 1
    box.controls["view"].value = 8
    assert "slice_8_lowpass" in box.status.value
    assert box.audio.value != first_audio and box.error.value == ""


def test_optimisation_explorer_error_is_shown_and_raised(pair, small_config):
    mixture, vocal = pair
    box = W.optimisation_explorer(mixture, vocal, config=small_config, display=False, raise_errors=True)
    box.data["vocal"] = vocal[:10]  # wrong length: the metrics refuse it
    box.data.pop("spectra")
    with pytest.raises(Exception):
        box.controls["iterations"].value = 7
    assert "update failed" in box.error.value
