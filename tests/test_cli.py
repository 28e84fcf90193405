"""The command line: a real run's outputs, and every user error (message + exit code 2)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conv2dsep_lib.cli import main

FAST = ["--iterations", "5", "--no-bss", "--no-baselines", "--quiet"]


def independent_si_sdr(ref, est):
    """SI-SDR written out here, independent of conv2dsep_lib.scoring.metrics."""
    ref = ref - ref.mean()
    est = est - est.mean()
    alpha = np.dot(est, ref) / np.dot(ref, ref)
    target = alpha * ref
    return 10 * np.log10(np.sum(target**2) / np.sum((est - target) ** 2))


@pytest.fixture(scope="module")
def best_run(tmp_path_factory):
    """One full `best` run (BSS Eval and baselines on) on a 48 kHz FLAC stereo/mono pair."""
    import conftest

    tmp = tmp_path_factory.mktemp("best")
    sr = 48000
    voice, band = conftest._voice_and_band(sr, int(sr * 5.0), 3)
    sf.write(tmp / "mix.flac", np.stack([voice + band, voice + 0.8 * band], 1), sr)
    sf.write(tmp / "voc.flac", voice, sr)  # a mono vocal with a stereo mixture
    out = tmp / "out"
    code = main(
        [
            "best",
            "--slices",
            "3",
            "--iterations",
            "20",
            "--mixture",
            str(tmp / "mix.flac"),
            "--vocal",
            str(tmp / "voc.flac"),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    return code, out / "output_progressive_3slices_it20"  # --iterations 20: the settings name the folder


def test_best_writes_the_seed_layout(best_run):
    code, folder = best_run
    assert code == 0
    for rel in [
        "1_slices/extracted_vocal.wav",
        "1_slices/1_original_mixture.wav",
        "1_slices/2_target_vocal.wav",
        "2_slices/extracted_vocal.wav",
        "3_slices/extracted_vocal.wav",
        "best_sequence_found/extracted_vocal_best_sequence.wav",
        "all_tests_loss_progression.png",
        "final_loss_comparison.png",
        "spectrogram_comparison.png",
        "separation_quality.png",
        "loss_vs_si_sdr.png",
        "results.json",
    ]:
        assert (folder / rel).is_file(), rel
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    leftovers = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_results_json_fields_and_honesty(best_run):
    _, folder = best_run
    r = json.loads((folder / "results.json").read_text())
    assert r["schema_version"] == 1
    assert r["oracle"] is True and "ORACLE" in r["note"]
    assert r["config"]["sr"] == 22050 and r["config"]["num_iterations"] == 20
    assert [p["n_slices"] for p in r["progressive"]] == [1, 2, 3]
    for p in r["progressive"]:
        assert (
            p["sequence"]
            == ["slice_1_horizontal", "slice_2_vertical", "slice_3_diagonal_up"][: p["n_slices"]]
        )
        assert np.isfinite(p["loss"]) and len(p["step_losses"]) == p["n_slices"]
        assert p["loss"] == p["step_losses"][-1]
        for key in ("si_sdr", "sdr", "sir", "sar"):
            assert np.isfinite(p["metrics"][key])
    g = r["greedy"]
    assert sorted(g["sequence"]) == sorted(r["progressive"][-1]["sequence"])
    assert g["score"] == "step_loss" and len(g["losses"]) == 3
    assert 1 <= g["best_prefix"]["n_slices"] <= 3 and np.isfinite(g["metrics"]["si_sdr"])
    assert set(r["baselines"]) == {
        "mixture",
        "oracle_irm",
        "oracle_ibm",
        "repet_sim",
        "hpss",
        "bandpass",
        "learned",
    }
    assert r["baselines"]["oracle_irm"]["oracle"] is True and r["baselines"]["repet_sim"]["oracle"] is False
    assert r["baselines"]["oracle_irm"]["metrics"]["si_sdr"] > r["baselines"]["mixture"]["metrics"]["si_sdr"]
    assert "timings" in r and "versions" in r


def test_metrics_agree_with_independent_si_sdr_of_the_wavs(best_run):
    _, folder = best_run
    r = json.loads((folder / "results.json").read_text())
    target, _ = sf.read(folder / "1_slices" / "2_target_vocal.wav", dtype="float64")
    for p in r["progressive"]:
        est, sr = sf.read(folder / p["audio"], dtype="float64")
        assert sr == 22050
        assert abs(independent_si_sdr(target, est) - p["metrics"]["si_sdr"]) < 0.05
    est, _ = sf.read(folder / r["greedy"]["best_prefix"]["audio"], dtype="float64")
    assert abs(independent_si_sdr(target, est) - r["greedy"]["best_prefix"]["metrics"]["si_sdr"]) < 0.05


def test_evaluate_command_matches_the_run(best_run, tmp_path, capsys):
    _, folder = best_run
    r = json.loads((folder / "results.json").read_text())
    out = tmp_path / "eval.json"
    code = main(
        [
            "evaluate",
            "--estimate",
            str(folder / "2_slices/extracted_vocal.wav"),
            "--reference",
            str(folder / "1_slices/2_target_vocal.wav"),
            "--mixture",
            str(folder / "1_slices/1_original_mixture.wav"),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    assert "si_sdr" in capsys.readouterr().out
    ev = json.loads(out.read_text())["metrics"]
    for key in ("si_sdr", "sdr", "sir", "sar"):
        assert abs(ev[key] - r["progressive"][1]["metrics"][key]) < 1e-6


def test_progressive_has_no_greedy(tmp_path, write_pair):
    mp, vp = write_pair(sr=44100)
    assert (
        main(
            [
                "progressive",
                "--slices",
                "2",
                "--mixture",
                str(mp),
                "--vocal",
                str(vp),
                "--out",
                str(tmp_path / "o"),
                *FAST,
            ]
        )
        == 0
    )
    folder = tmp_path / "o" / "output_progressive_2slices_it5"
    r = json.loads((folder / "results.json").read_text())
    assert "greedy" not in r and not (folder / "best_sequence_found").exists()
    assert r["baselines"] == {} and "sdr" not in r["progressive"][0]["metrics"]


def test_rerun_replaces_and_failure_keeps_previous(tmp_path, write_pair, monkeypatch):
    mp, vp = write_pair()
    args = ["best", "--slices", "1", "--mixture", str(mp), "--vocal", str(vp), "--out", str(tmp_path), *FAST]
    assert main(args) == 0
    folder = tmp_path / "output_progressive_1slices_it5"
    before = (folder / "results.json").read_bytes()
    import conv2dsep_lib.run.outputs as outputs

    def boom(*a, **k):
        raise RuntimeError("disk full while plotting")

    monkeypatch.setattr(outputs, "save_experiment_figures", boom)
    with pytest.raises(RuntimeError, match="disk full while plotting"):
        main(args)
    assert (folder / "results.json").read_bytes() == before  # the previous run is intact
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no half-written folder


def _err(capsys):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "flags,needle",
    [
        (["--slices", "19"], "n_slices=19"),
        (["--slices", "0"], "allowed 1..18"),
        (["--iterations", "0"], "num_iterations=0"),
        (["--learning-rate", "-0.1"], "learning_rate=-0.1"),
        (["--learning-rate", "0"], "learning_rate=0.0"),
        (["--clip-db", "0"], "clip_db=0.0"),
        (["--n-points", "1"], "n_points=1"),
        (["--hop-length", "0"], "hop_length=0"),
        (["--n-fft", "-1"], "n_fft=-1"),
        (["--sr", "0"], "sr=0"),
        (["--duration", "0.01"], "too short for one window"),
        (["--strategy", "7"], "strategy=7"),
        (["--greedy-score", "fastest"], "greedy_score='fastest'"),
        (["--slices", "two"], "best: argument --slices: invalid value 'two': allowed an integer"),
        (["--offset", "-2"], "offset=-2"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(flags, needle, tmp_path, write_pair, capsys):
    mp, vp = write_pair()
    out = tmp_path / "out"
    code = main(["best", "--mixture", str(mp), "--vocal", str(vp), "--out", str(out), *FAST, *flags])
    assert code == 2
    err = _err(capsys)
    assert needle in err and err.startswith("conv2dsep: error:")
    assert not out.exists() or list(out.iterdir()) == []  # nothing written


def _bad_input(tmp_path, kind):
    import conftest

    sr = 44100
    voice, band = conftest._voice_and_band(sr, int(sr * 5), 1)
    d = tmp_path / kind
    d.mkdir()
    mix, voc = voice + band, voice
    if kind == "short":
        mix, voc = mix[: sr * 3], voc[: sr * 3]
    if kind == "silent":
        voc = np.zeros_like(voc)
    if kind == "nan":
        mix = mix.copy()
        mix[1000] = np.nan
    sf.write(d / "stereo_mixture.wav", mix, sr, subtype="FLOAT")
    sf.write(d / "isolated_vocal.wav", voc, sr, subtype="FLOAT")
    if kind == "unreadable":
        (d / "isolated_vocal.wav").write_bytes(b"not a wav file" * 100)
    if kind == "missing":
        (d / "isolated_vocal.wav").unlink()
    if kind == "rate":
        sf.write(d / "isolated_vocal.wav", voc[: sr * 4], sr // 2)  # 8 s of audio at 22050: lengths disagree
    return d


@pytest.mark.parametrize(
    "kind,needle",
    [
        ("short", "too short: 3.000 s"),
        ("silent", "isolated_vocal.wav is silent (peak < 1e-08)"),
        ("nan", "stereo_mixture.wav has 1 NaN/inf samples (the first at index 1000: nan)"),
        ("unreadable", "not readable audio"),
        ("missing", "has no isolated_vocal.wav"),
        ("rate", "differ in length"),
    ],
)
def test_bad_inputs_exit_2_and_lose_nothing(kind, needle, tmp_path, capsys):
    d = _bad_input(tmp_path, kind)
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    out = tmp_path / "out"
    code = main(["best", "--data-dir", str(d), "--out", str(out), *FAST])
    assert code == 2
    assert needle in _err(capsys)
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before  # user data untouched
    assert not out.exists() or list(out.iterdir()) == []


def test_input_argument_combinations(tmp_path, write_pair, capsys):
    mp, vp = write_pair()
    assert main(["best", "--mixture", str(mp), *FAST]) == 2
    assert "mixture was given alone" in _err(capsys)
    assert main(["best", "--mixture", str(mp), "--vocal", str(vp), "--data-dir", str(mp.parent), *FAST]) == 2
    assert "both given" in _err(capsys)
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["best", "--mixture", str(mp), "--vocal", str(vp), "--out", str(f), *FAST]) == 2
    assert "is a file: allowed a folder that can be created and written" in _err(capsys)
    assert main(["best", "--data-dir", str(tmp_path / "nowhere"), *FAST]) == 2
    assert "nowhere" in _err(capsys)


def test_module_entry_point_in_a_subprocess(tmp_path):
    """No traceback, exit code 2, one line: as a user sees it."""
    proc = subprocess.run(
        [sys.executable, "-m", "conv2dsep_lib", "best", "--slices", "42"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "n_slices=42" in proc.stderr


# ------------------------------------------------------------------ --help
SUBCOMMANDS = ("best", "progressive", "prepare", "evaluate", "notebooks", "sweep", "claims")


def _help(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_ends_with_examples(command, capsys):
    text = _help(capsys, command)
    head, examples = text.split("\nexamples:\n")
    lines = [line for line in examples.splitlines() if line.strip()]
    assert 2 <= len(lines) <= 3, lines
    assert all(line.startswith(f"  conv2dsep {command} ") for line in lines), lines
    assert "options:" in head  # the examples come last


def test_top_level_help_has_examples(capsys):
    assert "\nexamples:\n  conv2dsep best --slices 8" in _help(capsys)


def test_options_that_do_not_apply_are_not_listed(capsys):
    assert "--greedy-score" in _help(capsys, "best")
    progressive = _help(capsys, "progressive")
    assert "--greedy-score" not in progressive  # no greedy search in progressive
    assert main(["progressive", "--greedy-score", "si_sdr"]) == 2
    assert "unrecognized arguments: --greedy-score" in _err(capsys)
    for command in ("best", "progressive", "notebooks", "sweep"):  # the commands that draw bars
        text = _help(capsys, command)
        assert "--progress" in text and "-q, --quiet" in text
    for command in ("prepare", "evaluate"):
        assert "--progress" not in _help(capsys, command)
    assert "--pad" not in _help(capsys, "notebooks")
