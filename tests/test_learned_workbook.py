"""Notebook 08's helpers (``conv2dsep_lib.workbook.learned``): the model's record, its kernels,
the held-out table and files, the listening song's sources; and the runner's checks of 08's
parameters.  A tiny untrained model stands in for the shipped one (fast); notebook 08 itself is
executed in ``test_notebooks.py``."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conv2dsep_lib import workbook as W
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.learned.infer import separate_signal
from conv2dsep_lib.learned.model import EQNet, ModelConfig, hand_made_kernels
from conv2dsep_lib.learned.store import save_model
from conv2dsep_lib.method.views import VIEW_NAMES
from conv2dsep_lib.run.heldout import HeldoutRow
from conv2dsep_lib.run.notebooks import check_parameter_values, parse_seeds

ROOT = Path(__file__).resolve().parents[1]
SHAPE = ModelConfig(widths=(4, 8, 8), view_kernel=(9, 3))
RECORD = {
    "kind": "blind",
    "git_commit": "abc123",
    "n_train": 3,
    "n_validation": 1,
    "train_config": {"steps": 4, "batch_size": 2, "excerpt_seconds": 1.0},
    "data": {
        "source": "built-in",
        "train": [
            {"kind": "synthetic", "vocal": {"source": "demo_song"}},
            {"kind": "synthetic", "vocal": {"source": "singer"}},
            {"kind": "sung_speech", "vocal": {"source": "sung_speech", "speaker": "198-209-0000"}},
        ],
        "validation": [{"kind": "synthetic"}],
    },
    "history": {
        "losses": [0.5, 0.4, 0.35, 0.3],
        "validation": [
            {"step": 2, "si_sdr": 1.0, "si_sdr_i": 0.5},
            {"step": 4, "si_sdr": 2.25, "si_sdr_i": 1.5},
        ],
        "seconds": 125.0,
        "resumed_at": [2],
    },
}


def tiny_model_file(path, *, record=RECORD, nudge=False):
    """A tiny untrained model saved as ``conv2dsep train`` saves one (view 0 nudged if asked)."""
    torch.manual_seed(0)
    model = EQNet(SHAPE)
    if nudge:
        with torch.no_grad():
            model.views.conv.weight[0] += 0.1
    return save_model(path, model, stft=Config(), record=record)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    return W.notebook_model(str(tiny_model_file(tmp_path_factory.mktemp("m") / "model.pt", nudge=True)))


def _rows():
    return [
        HeldoutRow("synthetic", "learned", "blind", (3.0, 5.0)),
        HeldoutRow("synthetic", "bandpass", "blind", (2.0, 2.5)),
        HeldoutRow("synthetic", "repet_sim", "blind", (1.0, 4.0)),
        HeldoutRow("synthetic", "hpss", "blind", (-1.0, 0.0)),
        HeldoutRow("synthetic", "mixture", "floor", (-3.0, -3.0)),
        HeldoutRow("synthetic", "oracle_irm", "oracle", (12.0, 13.0)),
        HeldoutRow("sung_speech", "learned", "blind", (-1.0, -2.0)),
        HeldoutRow("sung_speech", "hpss", "blind", (0.0, 1.0)),
        HeldoutRow("sung_speech", "conv2d_fingerprint", "oracle", (6.0, 7.0)),
    ]


# ------------------------------------------------------------------ the model and its record
def test_summary_reads_the_record_and_says_blind(stored):
    s = dict(zip(*W.model_summary(stored).to_dict("list").values()))
    assert list(W.model_summary(stored).columns) == ["item", "value"]
    assert s["kind"].startswith("BLIND") and s["model file"] == str(stored.path)
    assert s["parameters"] == f"{stored.model.n_parameters():,}"
    assert "18 x 9 x 3" in s["shape"] and "+-20 dB" in s["shape"]
    assert s["STFT"] == "22050 Hz, n_fft 2048, hop 1040"
    assert s["steps"] == "4 (of 4; batch 2 x 1.0 s)"
    assert s["training time"] == "2 min 05 s (resumed at step 2)"
    assert (
        s["data"]
        == "built-in material: 2 synthetic, 1 sung_speech; speakers 198-209-0000 (3 train, 1 validation excerpts)"
    )
    assert s["final validation (BLIND)"] == "SI-SDR 2.25 dB, +1.50 dB over the mixture (step 4)"
    assert s["git commit"] == "abc123"
    assert W.training_history(stored)["losses"] == RECORD["history"]["losses"]


def test_a_model_without_a_record_is_summarised_as_not_recorded(tmp_path):
    bare = W.notebook_model(str(tiny_model_file(tmp_path / "bare.pt", record={})))
    s = dict(zip(*W.model_summary(bare).to_dict("list").values()))
    assert W.training_history(bare) is None
    for item in ("steps", "training time", "data", "final validation (BLIND)", "git commit"):
        assert s[item] == "not recorded", item


def test_model_parameter_missing_files_are_user_errors(tmp_path, monkeypatch):
    import conv2dsep_lib.workbook.learned as learned

    with pytest.raises(ParameterError, match="does not exist"):
        W.notebook_model(str(tmp_path / "nope.pt"))
    monkeypatch.setattr(learned, "SHIPPED_MODEL", tmp_path / "shipped" / "vocals.pt")
    with pytest.raises(ParameterError, match="the shipped model .*`make model`"):
        W.notebook_model("")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ParameterError, match="could not be read"):
        W.notebook_model(str(tmp_path / "junk.pt"))


# ------------------------------------------------------------------ kernels
def test_kernels_are_the_hand_made_start_and_the_learned_bank(stored):
    initial, learned, names = W.kernel_arrays(stored)
    assert initial.shape == learned.shape == (18, 9, 3) and names == tuple(VIEW_NAMES[1:])
    np.testing.assert_allclose(initial, hand_made_kernels((9, 3)), atol=1e-6)
    np.testing.assert_allclose(learned[1:], initial[1:], atol=1e-6)  # only view 1 was nudged
    np.testing.assert_allclose(learned[0], initial[0] + 0.1, atol=1e-6)
    t = W.kernel_table(initial, learned, names)
    assert list(t["view"]) == list(names)
    first = t.iloc[0]
    a, b = initial[0], learned[0]
    assert first["relative change"] == pytest.approx(np.linalg.norm(b - a) / np.linalg.norm(a))
    assert first["norm ratio"] == pytest.approx(np.linalg.norm(b) / np.linalg.norm(a))
    assert 0 < first["cosine"] < 1
    assert np.allclose(t["relative change"][1:], 0, atol=1e-6) and np.allclose(t["cosine"][1:], 1)


# ------------------------------------------------------------------ held-out comparison
def test_heldout_table_labels_kinds_and_adds_the_margin_over_the_best_blind_baseline():
    t = W.heldout_table(_rows())
    assert list(t.columns) == ["material", "method", "kind", "SI-SDR (dB)", "low", "high", "draws"]
    syn = t[t["material"] == "synthetic"]
    assert list(syn["method"])[-1] == "learned - best BLIND baseline (repet_sim)"  # mean 2.5 beats 2.25
    assert dict(zip(syn["method"], syn["kind"]))["oracle_irm"] == "ORACLE"
    assert dict(zip(syn["method"], syn["kind"]))["mixture"] == "BLIND (floor: the mixture)"
    assert dict(zip(syn["method"], syn["kind"]))["learned"] == "BLIND"
    margin = syn.iloc[-1]
    assert margin["kind"] == "BLIND margin" and margin["draws"] == 2
    assert margin["SI-SDR (dB)"] == pytest.approx(1.5)  # (3 - 1 + 5 - 4) / 2
    assert (margin["low"], margin["high"]) == pytest.approx((1.0, 2.0))
    sung = t[t["material"] == "sung_speech"].iloc[-1]
    assert sung["method"] == "learned - best BLIND baseline (hpss)" and sung["SI-SDR (dB)"] == pytest.approx(
        -2.0
    )
    assert len(t) == len(_rows()) + 2
    no_learned = W.heldout_table([r for r in _rows() if r.method != "learned"])
    assert not no_learned["method"].str.startswith("learned").any()


def test_write_heldout_writes_markdown_and_json(tmp_path):
    md, js = W.write_heldout(_rows(), tmp_path, model="m.pt", n=1, seeds=(0, 1), seconds=4.7)
    text = md.read_text()
    assert text.startswith("# Held-out SI-SDR: BLIND learned vs BLIND classical vs ORACLE")
    assert (
        "1 excerpt of 4.7 s" in text and "seeds 0, 1" in text and "learned − best blind (repet_sim)" in text
    )
    data = json.loads(js.read_text())
    assert data["kind"] == "heldout" and data["seeds"] == [0, 1] and "ORACLE" in data["note"]
    assert [r["method"] for r in data["rows"]] == [r.method for r in _rows()]
    assert data["rows"][0]["per_draw"] == [3.0, 5.0] and data["rows"][0]["mean"] == 4.0
    assert [(m["material"], m["baseline"]) for m in data["margins"]] == [
        ("synthetic", "repet_sim"),
        ("sung_speech", "hpss"),
    ]


def test_heldout_seeds_and_the_runner_checks_of_08s_parameters(tmp_path):
    assert W.heldout_seeds("0,1,2") == (0, 1, 2) == parse_seeds(" 0, 1 ,2")
    assert W.heldout_seeds(3) == (3,) and W.heldout_seeds("7") == (7,)
    for bad in ("", "a", "0,0", "-1", True, "1.5"):
        with pytest.raises(ParameterError, match="heldout_seeds=.* allowed distinct integers"):
            W.heldout_seeds(bad)
    check_parameter_values({"heldout_n": 1, "heldout_seeds": "0", "song_offset": 0.0, "song_seconds": 3})
    for params, message in (
        ({"heldout_n": 0}, "heldout_n=0 is invalid"),
        ({"song_seconds": 0.0}, "song_seconds=0.0 is invalid"),
        ({"song_offset": -1.0}, "song_offset=-1.0 is invalid"),
        ({"heldout_seeds": "x"}, "heldout_seeds='x' is invalid"),
        ({"model": str(tmp_path / "missing.pt")}, "does not exist"),
    ):
        with pytest.raises(ParameterError, match=message):
            check_parameter_values(params)
    check_parameter_values({"model": ""})  # empty: the shipped model (checked when loaded)


# ------------------------------------------------------------------ the listening song
def test_song_sources_magnitudes_and_the_inline_figure(stored, tmp_path):
    from PIL import Image

    from conv2dsep_lib.viz.learned import save_separation_figure

    rng = np.random.default_rng(0)
    song = (0.1 * rng.standard_normal(stored.stft.sr)).astype(np.float32)
    sep = separate_signal(stored.model, song, config=stored.stft)
    sources = W.song_sources(song, sep)
    assert list(sources) == ["mixture", "vocals (BLIND)", "accompaniment (BLIND)"]
    np.testing.assert_allclose(sources["vocals (BLIND)"] + sources["accompaniment (BLIND)"], song, atol=1e-5)
    mags = W.separation_magnitudes(sources, config=stored.stft)
    assert list(mags) == ["mixture", "vocals", "accompaniment"]
    assert all(m.shape[0] == stored.stft.n_fft // 2 + 1 for m in mags.values())
    png = save_separation_figure(mags, tmp_path / "sep.png", config=stored.stft, title="BLIND")
    img = W.show_saved_figure(png, display=False)
    with Image.open(png) as saved:
        import io

        shown = Image.open(io.BytesIO(img.data))
        assert shown.width == round(saved.width * 100 / 150) and shown.height == round(
            saved.height * 100 / 150
        )
    assert "BLIND" in W.blind_banner(display=False).data


def test_importing_the_workbook_does_not_import_torch():
    code = "import sys, conv2dsep_lib.workbook as W; W.model_summary; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
