"""Blind mode: the learned model, its training (tiny, real), resuming, separation, the CLI."""

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from conv2dsep_lib.cli import main
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.learned.infer import separate_signal
from conv2dsep_lib.learned.model import EQNet, ModelConfig, hand_made_kernels
from conv2dsep_lib.learned.store import load_model, save_model
from conv2dsep_lib.learned.training import ExamplePool, TrainConfig, train, validate
from conv2dsep_lib.scoring.metrics import si_sdr
from conv2dsep_lib.separators.base import Kind, Mixture, Separator
from conv2dsep_lib.sources.training_material import make_examples

ROOT = Path(__file__).resolve().parents[1]
CFG = Config()
TINY = ModelConfig(widths=(8, 16, 32), view_kernel=(17, 5))


def test_importing_the_package_does_not_import_torch():
    code = "import sys, conv2dsep_lib, conv2dsep_lib.cli, conv2dsep_lib.run, conv2dsep_lib.separators.registry; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_view_bank_starts_from_the_hand_made_kernels_and_eq_is_bounded():
    model = EQNet()
    w = model.views.conv.weight.detach().numpy()[:, 0]
    np.testing.assert_allclose(w, hand_made_kernels((33, 7)), atol=1e-6)
    assert 100_000 <= model.n_parameters() <= 500_000
    mag = torch.rand(2, 1025, 12) * 3
    eq = model.eq_db(mag)
    assert eq.shape == (2, 400, 12) and float(eq.detach().abs().max()) <= 20.0
    assert model(mag).shape == mag.shape


def test_a_blind_separator_cannot_take_the_reference():
    def peeks(mixture, reference):  # a "blind" function that would read the true vocal
        return mixture.audio

    with pytest.raises(TypeError, match="blind separator 'cheat' must take \\(mixture\\)"):
        Separator("cheat", Kind.BLIND, peeks, "reads the vocal")
    from conv2dsep_lib.separators.registry import SEPARATORS

    for s in SEPARATORS.values():
        if s.kind is Kind.BLIND:
            Separator(s.name, s.kind, s.function, s.description)  # the signature check passes


def _pairs(split, n, seconds, seed):
    return [
        (e.mixture, e.vocal)
        for e in make_examples(split=split, kinds=("synthetic",), n=n, seconds=seconds, seed=seed)
    ]


def test_tiny_model_learns_to_separate_unseen_songs(tmp_path):
    """A real training loop, <= 60 s: held-out synthetic songs gain >= 3 dB SI-SDR over the mixture."""
    torch.set_num_threads(2)
    train_pairs = _pairs("train", 8, 4.0, seed=1)
    heldout = _pairs("heldout", 3, 3.0, seed=2)
    before = validate(EQNet(TINY), heldout, config=CFG)
    tc = TrainConfig(
        steps=60,
        batch_size=4,
        excerpt_seconds=1.5,
        learning_rate=3e-3,
        validate_every=30,
        checkpoint_every=30,
        model=TINY,
    )
    t0 = time.perf_counter()
    model, history = train(ExamplePool(train_pairs), heldout, config=CFG, train_config=tc, run_dir=tmp_path)
    assert time.perf_counter() - t0 < 120  # the budget is 60 s on a quiet machine; this catches a runaway
    after = history.validation[-1]
    assert after["si_sdr_i"] >= 3.0, (before, history.validation)
    assert after["si_sdr"] > before["si_sdr"] + 2.0
    assert len(history.losses) == 60 and np.mean(history.losses[-10:]) < np.mean(history.losses[:10])
    stored = load_model(tmp_path / "model.pt")
    assert stored.record["history"]["validation"][-1]["si_sdr"] == pytest.approx(after["si_sdr"])


_KILLABLE = textwrap.dedent(
    """
    import sys, numpy as np, torch
    from conv2dsep_lib.core.config import Config
    from conv2dsep_lib.learned.model import ModelConfig
    from conv2dsep_lib.learned.training import ExamplePool, TrainConfig, train
    from conv2dsep_lib.sources.training_material import make_examples
    torch.set_num_threads(1)
    ex = make_examples(split="train", kinds=("synthetic",), n=3, seconds=2.0, seed=0)
    pairs = [(e.mixture, e.vocal) for e in ex]
    tc = TrainConfig(steps=int(sys.argv[2]), batch_size=2, excerpt_seconds=1.0, validate_every=1000,
                     checkpoint_every=2, model=ModelConfig(widths=(4, 8, 8), view_kernel=(9, 3)))
    train(ExamplePool(pairs), pairs[:1], config=Config(), train_config=tc, run_dir=sys.argv[1])
    """
)


def test_a_killed_training_resumes_where_it_stopped(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(run), "400"], cwd=ROOT)
    ckpt = run / "checkpoint.pt"
    deadline = time.time() + 60
    while time.time() < deadline and not ckpt.is_file():
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.is_file() and not (run / "model.pt").exists()
    done = torch.load(ckpt, weights_only=True)["step"]
    assert 2 <= done < 400
    # the same command again, fewer steps to go: it resumes, and ends with all the steps
    total = done + 4
    subprocess.run([sys.executable, "-c", _KILLABLE, str(run), str(total)], cwd=ROOT, check=True, timeout=120)
    record = load_model(run / "model.pt").record
    assert record["history"]["resumed_at"] == [done]
    assert len(record["history"]["losses"]) == total


def test_resuming_with_other_settings_is_refused(tmp_path):
    pairs = _pairs("train", 2, 2.0, seed=0)
    small = ModelConfig(widths=(4, 8, 8), view_kernel=(9, 3))
    tc = TrainConfig(steps=2, batch_size=2, excerpt_seconds=1.0, checkpoint_every=1, model=small)
    train(ExamplePool(pairs), pairs[:1], config=CFG, train_config=tc, run_dir=tmp_path)
    (tmp_path / "model.pt").unlink()
    other = TrainConfig(steps=3, batch_size=2, excerpt_seconds=1.0, checkpoint_every=1, model=small, seed=5)
    with pytest.raises(Exception, match="other training settings"):
        train(ExamplePool(pairs), pairs[:1], config=CFG, train_config=other, run_dir=tmp_path)


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_model(
        path, EQNet(ModelConfig(widths=(4, 8, 8), view_kernel=(9, 3))), stft=CFG, record={"note": "untrained"}
    )
    return path


def test_chunked_separation_matches_one_pass(tiny_model_file):
    stored = load_model(tiny_model_file)
    mixture = make_examples(split="heldout", kinds=("synthetic",), n=1, seconds=12.0, seed=3)[0].mixture
    whole = separate_signal(stored.model, mixture, config=CFG, chunk_seconds=60.0)
    parts = separate_signal(stored.model, mixture, config=CFG, chunk_seconds=4.0, overlap_seconds=1.0)
    assert si_sdr(whole.vocals, parts.vocals) > 25.0  # seams cross-faded, not audible
    np.testing.assert_allclose(parts.vocals + parts.accompaniment, mixture, atol=1e-5)
    assert 0 < parts.real_time_factor < 1


def test_separate_command_writes_blind_outputs(tmp_path, tiny_model_file, capsys):
    y = make_examples(split="heldout", kinds=("synthetic",), n=1, seconds=5.0, seed=4)[0].mixture
    song = tmp_path / "song.wav"
    sf.write(song, np.stack([y, y], 1), 44100)  # stereo at another rate: downmixed and resampled
    out = tmp_path / "sep"
    assert main(["separate", "--mixture", str(song), "--model", str(tiny_model_file), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "BLIND separation" in printed and "real-time factor" in printed
    for name in ("vocals_blind.wav", "accompaniment_blind.wav", "separation_blind.png", "separation.json"):
        assert (out / name).is_file()
    meta = json.loads((out / "separation.json").read_text())
    assert meta["kind"] == "blind" and meta["real_time_factor"] > 0
    v, sr = sf.read(out / "vocals_blind.wav")
    assert sr == CFG.sr and abs(len(v) - len(y) / 2) <= 2  # 44.1 kHz file of len(y) samples, read at 22050


def test_separate_refuses_a_missing_model_and_keeps_nothing(tmp_path, capsys):
    song = tmp_path / "song.wav"
    sf.write(song, np.zeros((2000, 1)) + 0.1, 22050)
    rc = main(
        [
            "separate",
            "--mixture",
            str(song),
            "--model",
            str(tmp_path / "nope.pt"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.pt" in err[0] and "does not exist" in err[0]
    assert not (tmp_path / "o").exists()


def _learned_in_child(queue):
    from conv2dsep_lib.separators.registry import separate

    y = np.sin(np.arange(22050) / 10.0).astype(np.float32) * 0.1
    queue.put(float(np.abs(separate("learned", Mixture(y, CFG))).max()))


def test_the_learned_baseline_runs_in_a_forked_worker_after_the_parent_used_torch():
    """libgomp is not fork-safe: a sweep's forked pool worker must not hang in torch."""
    import multiprocessing as mp

    torch.set_num_threads(2)
    torch.nn.Conv2d(1, 8, (5, 3))(torch.randn(1, 1, 200, 300))  # the parent's OpenMP pool exists now
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_learned_in_child, args=(queue,))
    proc.start()
    proc.join(60)
    hung = proc.is_alive()
    if hung:
        proc.kill()
    assert not hung and proc.exitcode == 0
    assert queue.get(timeout=5) >= 0.0


def test_a_loaded_model_runs_channels_last_with_the_numbers_of_the_trained_one(tmp_path):
    torch.manual_seed(0)
    model = EQNet(TINY).eval()
    save_model(tmp_path / "model.pt", model, stft=CFG)
    stored = load_model(tmp_path / "model.pt")
    assert stored.model.views.conv.weight.is_contiguous(memory_format=torch.channels_last)
    mag = torch.rand(1, TINY.n_fft // 2 + 1, 40)
    with torch.no_grad():
        trained, loaded = model(mag), stored.model(mag)
    # oneDNN sums in another order: a few parts in a million, not more
    torch.testing.assert_close(loaded, trained, rtol=1e-5, atol=1e-7)
