"""Jupyter helpers without a browser: explorers' callbacks run by setting ``.value``.

What needs a browser (the A/B player's script, the widgets rendered in JupyterLab) is
checked by ``make e2e`` (``e2e/check_lab.py``) in real Chromium.
"""

import io
import re

import ipywidgets  # noqa: F401  (a declared dependency)
import numpy as np
import pytest
import soundfile as sf

from conv2dsep_lib import workbook as W
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.method.transforms import stft
from conv2dsep_lib.run.experiment import build_record, run_experiment, slice_report
from conv2dsep_lib.sources.audio import AudioPair
from conv2dsep_lib.workbook import display as display_mod
from conv2dsep_lib.workbook.explorers import MIN_DB_SPAN, widen_range
from conv2dsep_lib.workbook.players import TARGET_RMS_DBFS, loudness_gains

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def pair(small_config, voice_band):
    vocal, band = voice_band
    return (vocal + band).astype(np.float32), vocal


@pytest.fixture
def mags(small_config, pair):
    mixture, vocal = pair
    return np.abs(stft(mixture, config=small_config)), np.abs(stft(vocal, config=small_config))


@pytest.fixture
def shown(monkeypatch):
    """What the helpers display (IPython.display.display replaced by a list)."""
    import IPython.display

    out = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: out.extend(objs))
    return out


def _small_figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    fig.subplots().plot([0, 1], [1, 0])
    return fig


def _rms_db(y):
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(y, dtype=np.float64) ** 2)))


# ------------------------------------------------------------------ figures, tables
def test_show_figure_shows_a_light_png_and_saves_the_library_quality_one(tmp_path):
    from PIL import Image

    img = W.show_figure(_small_figure(), save=tmp_path / "f.png", display=False)
    assert img.data.startswith(PNG) and img._repr_png_() is not None
    shown, saved = Image.open(io.BytesIO(img.data)), Image.open(tmp_path / "f.png")
    assert shown.mode in ("RGB", "RGBA") and saved.mode in ("RGB", "RGBA")  # full colour
    assert round(saved.info["dpi"][0]) == 150
    assert saved.size[0] > shown.size[0]  # 150 dpi saved vs 100 dpi shown


def test_show_table_formats_none_nan_and_escapes():
    obj = W.show_table(
        [{"a": 1.23456, "b": None, "c": float("nan"), "d": "<x>"}], caption="ORACLE table", display=False
    )
    html = obj.data
    assert "1.235" in html and html.count("n/a") == 2 and "&lt;x&gt;" in html
    assert "ORACLE table" in html


# ------------------------------------------------------------------ players
def test_static_players_embed_one_audio_element_per_source_at_a_common_level(pair, small_config):
    mixture, vocal = pair
    loud = 3.0 * mixture  # peak > 1: all sources are scaled by the same factor, no error
    obj = W.players({"mixture": loud, "vocal": vocal}, sr=small_config.sr, display=False)
    assert obj.data.count("<audio") == 2 and "data:audio/wav;base64," in obj.data


def test_loudness_gains_match_rms_without_clipping(pair):
    mixture, vocal = pair
    sources = {"mixture": 3.0 * mixture, "vocal": 0.01 * vocal, "silence": np.zeros_like(vocal)}
    gains = loudness_gains(sources)
    levels = [_rms_db(gains[n] * sources[n].astype(np.float64)) for n in ("mixture", "vocal")]
    assert levels[0] == pytest.approx(levels[1], abs=1e-6) and levels[0] <= TARGET_RMS_DBFS + 1e-6
    assert max(np.max(np.abs(gains[n] * sources[n])) for n in sources) <= 0.99 + 1e-12
    assert gains["silence"] == 1.0
    common = loudness_gains(sources, level="common")
    assert len(set(common.values())) == 1 and common["mixture"] == pytest.approx(
        1 / np.max(np.abs(3.0 * mixture))
    )
    with pytest.raises(ParameterError, match="level='lufs'"):
        loudness_gains(sources, level="lufs")


def test_ab_player_is_one_self_contained_loudness_matched_output(pair, small_config):
    mixture, vocal = pair
    sources = {
        "mixture": mixture,
        "target": 0.1 * vocal,
        "extracted": 0.5 * vocal,
        "residual": mixture - vocal,
    }
    player = W.ab_player(sources, sr=small_config.sr, value="extracted", title="A/B", display=False)
    assert player.names == list(sources) and player.value == "extracted"
    html = player._repr_html_()
    # one <audio> per source, all visible without the script (the saved-notebook form)
    assert html.count("<audio") == 4 and "display:none" not in html.split("<table")[1]
    assert "Loudness-matched" in html and "same RMS" in html
    for name in sources:
        assert f"<b>{name}</b>" in html
    # the script knows the player's element and starts on the chosen source
    script = re.search(r"<script[^>]*>(.*)</script>", html, re.S).group(1)
    assert f'"{player.element_id}"' in script and '["mixture", "target", "extracted", "residual"]' in script
    assert "active = 2;" in script and "next.currentTime = t" in script and "next.play()" in script
    # the embedded WAVs: full length, the config's rate, the same loudness
    levels = []
    for name in sources:
        y, sr = sf.read(io.BytesIO(player.wav[name]))
        assert sr == small_config.sr and len(y) == len(vocal)
        levels.append(_rms_db(y))
    assert max(levels) - min(levels) < 0.05  # 16-bit rounding only
    assert "A/B player" in repr(player) and "loudness-matched" in repr(player)


def test_ab_player_common_level_bad_value_and_empty_sources(pair, small_config, shown):
    mixture, vocal = pair
    player = W.ab_player({"m": mixture, "v": vocal}, sr=small_config.sr, level="common", display=False)
    assert player.gains["m"] == player.gains["v"] and "Common level" in player.html
    with pytest.raises(ParameterError, match="value='x'"):
        W.ab_player({"m": mixture}, sr=small_config.sr, value="x", display=False)
    with pytest.raises(ParameterError):
        W.ab_player({}, sr=small_config.sr, display=False)
    # shown: one text/html output, the same in both modes (it needs no kernel)
    assert W.ab_player({"m": mixture, "v": vocal}, sr=small_config.sr, interactive=False) is None
    assert len(shown) == 1 and shown[0].data.count("<audio") == 2 and "<script" in shown[0].data


# ------------------------------------------------------------------ live or static
def test_frontend_interactive_reads_the_request_and_the_override(monkeypatch):
    import IPython

    monkeypatch.delenv(display_mod.WIDGETS_ENV, raising=False)
    assert W.frontend_interactive() is False  # no kernel here

    class Kernel:
        def __init__(self, allow_stdin, msg_type="execute_request"):
            self.parent = {"header": {"msg_type": msg_type}, "content": {"allow_stdin": allow_stdin}}

        def get_parent(self):
            return self.parent

    class Shell:
        kernel = None

    shell = Shell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    shell.kernel = Kernel(True)  # JupyterLab, Notebook, VS Code
    assert W.frontend_interactive() is True
    shell.kernel = Kernel(False)  # papermill / nbclient
    assert W.frontend_interactive() is False
    shell.kernel = Kernel(False, msg_type="comm_msg")  # a widget callback: a front end sent it
    assert W.frontend_interactive() is True
    shell.kernel = Kernel(False)
    monkeypatch.setenv(display_mod.WIDGETS_ENV, "1")
    assert W.frontend_interactive() is True
    monkeypatch.setenv(display_mod.WIDGETS_ENV, "0")
    shell.kernel = Kernel(True)
    assert W.frontend_interactive() is False


def test_live_explorer_is_shown_with_its_static_copy(mags, small_config, shown, monkeypatch):
    S_mix, S_voc = mags
    monkeypatch.setenv(display_mod.WIDGETS_ENV, "1")
    box = W.slice_explorer(S_mix, S_voc, config=small_config)
    assert box.live is True and shown[0] is box
    copy = shown[1].data  # widget views are not saved with a notebook; this is
    assert "<details class='conv2dsep-snapshot'" in copy and " open>" in copy
    assert "data:image/png;base64," in copy and "slice_1_horizontal" in copy
    assert "box.open = false" in copy  # closes itself once the live widget rendered


def test_headless_or_static_explorer_shows_png_numbers_and_player(pair, small_config, shown, monkeypatch):
    mixture, vocal = pair
    monkeypatch.setenv(display_mod.WIDGETS_ENV, "0")  # as under papermill: interactive=True is not enough
    box = W.optimisation_explorer(mixture, vocal, config=small_config, interactive=True)
    assert box.live is False
    image, status, player = shown
    assert image.data.startswith(PNG) and image.data == bytes(box.figure.value)
    assert "ORACLE" in status.data and "SI-SDR" in status.data
    assert player.data.count("<audio") == 4 and "conv2dsep-ab" in player.data


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


def test_db_range_keeps_a_minimum_span(mags, small_config):
    S_mix, S_voc = mags
    box = W.slice_explorer(S_mix, S_voc, config=small_config, display=False, raise_errors=True)
    rng = box.controls["db_range"]
    rng.value = (-30.0, -30.0)  # both handles dragged together: once "update failed ... is empty"
    assert tuple(rng.value) == (-35.0, -25.0) and box.error.value == ""
    assert "colour range -35..-25 dB" in box.status.value
    rng.value = (20.0, 20.0)  # at the top end: widened downwards, inside the slider
    assert tuple(rng.value) == (20.0 - MIN_DB_SPAN, 20.0)
    assert widen_range(-80, 0, span=10) == (-80.0, 0.0) and widen_range(-5, -5, span=10) == (-10.0, 0.0)
    # an initial range: empty is a user error (the notebook cell fails), narrow is widened
    with pytest.raises(ParameterError, match=r"db_range=\(0.0, 0.0\) is empty"):
        W.slice_explorer(S_mix, S_voc, config=small_config, db_range=(0, 0), display=False)
    box = W.slice_explorer(S_mix, S_voc, config=small_config, db_range=(-40, -36), display=False)
    assert tuple(box.controls["db_range"].value) == (-43.0, -33.0)


def test_slice_explorer_errors_are_shown_and_raised(mags, small_config):
    S_mix, S_voc = mags
    box = W.slice_explorer(S_mix, S_voc, config=small_config, display=False, raise_errors=True)
    box.data["S_voc"] = np.zeros((4, 0))
    with pytest.raises(ParameterError, match=r"\(4, 0\) \(vocal\)"):  # refused before drawing
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


@pytest.mark.parametrize(
    "bad",
    [lambda S: S[:, :0], lambda S: S[:, :-1], lambda S: S[0], lambda S: None],
    ids=["0 frames", "shape", "1-D", "None"],
)
def test_slice_explorer_rejects_magnitudes_it_cannot_draw(mags, small_config, bad):
    S_mix, S_voc = mags
    with pytest.raises(ParameterError, match=r"allowed two \(n_bins, n_frames\) arrays of the same shape"):
        W.slice_explorer(S_mix, bad(S_voc), config=small_config, display=False)


# ------------------------------------------------------------------ optimisation explorer
def test_slice_step_report_is_an_oracle_measurement(pair, small_config):
    mixture, vocal = pair
    rep = slice_report(mixture, vocal, view=1, config=small_config)
    n_points, n_frames = small_config.n_points, small_config.n_frames
    assert rep.m.shape == rep.v.shape == rep.after.shape == (n_points, n_frames)
    assert rep.estimate.shape == mixture.shape
    assert rep.loss == pytest.approx(float(rep.step.loss_curve[-1]))
    assert set(rep.metrics.to_json()) >= {"si_sdr", "si_sdr_i"}


def test_optimisation_explorer_recomputes_on_every_setting(pair, small_config):
    mixture, vocal = pair
    box = W.optimisation_explorer(
        mixture, vocal, config=small_config, view=1, window=3, display=False, raise_errors=True
    )
    for name in ("learning_rate", "iterations", "clip_db", "window"):
        assert box.controls[name].continuous_update is False
    assert "ORACLE" in box.status.value and "SI-SDR" in box.status.value
    assert re.search(r"optimised and scored in \d+\.\d\d s; figure drawn in \d+\.\d\d s", box.status.value)
    first_fig, first_player, first_status = box.figure.value, box.data["player"], box.status.value
    assert first_player.names == ["mixture", "target vocal", "result (one slice)", "residual"]
    assert bytes(first_player.wav["result (one slice)"][:4]) == b"RIFF"
    (out,) = box.player.outputs  # the A/B player in the explorer's Output widget
    assert out["data"]["text/html"] == first_player.html
    box.controls["learning_rate"].value = 0.1
    assert box.data["config"].learning_rate == pytest.approx(0.1) and box.data["cached"] is False
    assert box.figure.value != first_fig and box.status.value != first_status
    box.controls["iterations"].value = 5
    assert len(box.data["report"].step.loss_curve) == 5
    box.controls["clip_db"].value = 3.0
    assert np.max(np.abs(box.data["report"].step.eq_db)) <= 3.0 + 1e-9
    box.controls["strategy"].value = 1
    assert box.data["config"].strategy == 1
    box.controls["view"].value = 8
    assert "slice_8_lowpass" in box.status.value
    assert box.data["player"] is not first_player and box.error.value == ""


def test_optimisation_explorer_window_only_redraws_and_results_are_cached(pair, small_config):
    mixture, vocal = pair
    box = W.optimisation_explorer(
        mixture, vocal, config=small_config, window=3, display=False, raise_errors=True
    )
    report, player, fig = box.data["report"], box.data["player"], box.figure.value
    box.controls["window"].value = 10
    assert box.data["cached"] is True and box.data["report"] is report and box.data["player"] is player
    assert box.figure.value != fig and "result reused" in box.status.value
    box.controls["clip_db"].value = 5.0
    assert box.data["cached"] is False and box.data["report"] is not report
    box.controls["clip_db"].value = small_config.clip_db  # back to earlier settings: reused
    assert box.data["cached"] is True and box.data["report"] is report
    assert len(box.data["reports"]) == 2


def test_learning_rate_slider_is_logarithmic_in_small_steps(pair, small_config):
    mixture, vocal = pair
    box = W.optimisation_explorer(mixture, vocal, config=small_config, display=False)
    lr = box.controls["learning_rate"]
    assert isinstance(lr, ipywidgets.FloatLogSlider) and lr.base == 10
    assert lr.value == pytest.approx(small_config.learning_rate)
    assert 10**lr.min <= 0.001 and 10**lr.max >= 0.5 and lr.step == pytest.approx(0.1)  # x1.26 a step
    box = W.optimisation_explorer(
        mixture, vocal, config=small_config.replace(learning_rate=2e-5), display=False
    )
    assert box.data["config"].learning_rate == pytest.approx(2e-5)  # the range follows the initial rate


def test_optimisation_explorer_error_is_shown_and_raised(pair, small_config):
    mixture, vocal = pair
    box = W.optimisation_explorer(mixture, vocal, config=small_config, display=False, raise_errors=True)
    box.data["vocal"] = vocal[:10]  # wrong length: the metrics refuse it
    box.data.pop("spectra")
    with pytest.raises(Exception):
        box.controls["iterations"].value = 7
    assert "update failed" in box.error.value


def test_strategy4_barely_moves_at_the_defaults(pair, small_config):
    """Notebook 02's explanation: strategy 4's dB step is ~lr * 0.23 * Mn^2 per iteration."""
    mixture, vocal = pair
    cfg = small_config.replace(num_iterations=100, learning_rate=0.01, clip_db=20.0)
    reports = {s: slice_report(mixture, vocal, view=1, config=cfg.replace(strategy=s)) for s in (3, 4)}
    table = W.eq_size_table(reports).set_index("strategy")
    assert table.loc[4, "largest |EQ| (dB)"] <= 100 * 0.01 * 2 * np.log(10) / 20 + 1e-9  # <= 0.23 dB
    assert table.loc[4, "points moved > 1 dB (%)"] == 0.0
    assert table.loc[3, "largest |EQ| (dB)"] > 10 and table.loc[3, "points moved > 1 dB (%)"] > 10
    assert table.loc[4, "loss after (dB²)"] == pytest.approx(table.loc[4, "loss before (dB²)"], rel=0.01)


# ------------------------------------------------------------------ results explorer
@pytest.fixture
def record_and_estimates(pair, small_config):
    mixture, vocal = pair
    ap = AudioPair(mixture=mixture, vocal=vocal, sr=small_config.sr, source={"test": True})
    cfg = small_config.replace(num_iterations=10)
    exp = run_experiment(ap, config=cfg, n_slices=2, greedy=True, baselines=False, bss=False)
    return build_record(exp), exp.estimates, cfg


def test_results_explorer_shows_any_extraction_and_its_player(pair, small_config, record_and_estimates):
    mixture, vocal = pair
    record, estimates, cfg = record_and_estimates
    box = W.results_explorer(
        record, estimates, mixture=mixture, vocal=vocal, config=cfg, display=False, raise_errors=True
    )
    best = record.best_by_loss().key
    assert box.controls["extraction"].value == best and best in box.status.value
    assert [v for _, v in box.controls["extraction"].options] == ["k=1", "k=2", "greedy", "greedy_best"]
    first = box.data["player"]
    assert first.names == ["mixture", "target vocal", f"extracted ({best})", "residual (mixture - extracted)"]
    assert first.value == f"extracted ({best})" and "ORACLE" in box.status.value
    seen = {bytes(box.figure.value)}
    other = next(k for k in ("k=1", "k=2") if k != best)
    box.controls["extraction"].value = other
    assert box.data["player"].value == f"extracted ({other})" and box.player.outputs
    seen.add(bytes(box.figure.value))
    box.controls["floor_db"].value = -50.0
    assert box.data["player"].value == f"extracted ({other})" and "floor -50 dB" in box.status.value
    seen.add(bytes(box.figure.value))
    assert len(seen) == 3 and box.error.value == ""
    with pytest.raises(ParameterError, match="value='k=9'"):
        W.results_explorer(
            record, estimates, mixture=mixture, vocal=vocal, config=cfg, value="k=9", display=False
        )
    with pytest.raises(ParameterError, match="audio"):
        W.results_explorer(record, {}, mixture=mixture, vocal=vocal, config=cfg, display=False)
