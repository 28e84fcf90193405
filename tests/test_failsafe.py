"""Fail safe: never lose a user's file, refuse nonsense before working, leave nothing behind.

Every user error here must give exit code 2, exactly one line on stderr naming the value
and what is allowed, no traceback, and leave every input byte as it was; the data-loss
cases also keep the previous run's folder.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conv2dsep_lib.cli import main
from conv2dsep_lib.core import files
from conv2dsep_lib.core.files import exclusive_lock, recover_folder

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--iterations", "5", "--no-bss", "--no-baselines", "--quiet"]


def _digest(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _one_line(capsys, needle: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith("conv2dsep: error: ") and "error: conv2dsep" not in err, err  # one prefix
    assert needle in err, err
    return err


@pytest.fixture
def pair(tmp_path):
    """A 5 s mixture/vocal pair at 22050 Hz in <tmp>/in/."""
    import conftest

    sr = 22050
    voice, band = conftest._voice_and_band(sr, sr * 5, 2)
    d = tmp_path / "in"
    d.mkdir()
    sf.write(d / "mix.wav", voice + band, sr)
    sf.write(d / "voc.wav", voice, sr)
    return d


def _best(pair, out, *extra, slices="1"):
    return [
        "best",
        "--slices",
        slices,
        "--mixture",
        str(pair / "mix.wav"),
        "--vocal",
        str(pair / "voc.wav"),
        "--out",
        str(out),
        *FAST,
        *extra,
    ]


# ------------------------------------------------------------------ data loss
@pytest.mark.parametrize("role", ["--estimate", "--reference", "--mixture"])
def test_evaluate_json_never_overwrites_an_input(pair, role, capsys):
    before = _digest(pair)
    paths = {"--estimate": pair / "mix.wav", "--reference": pair / "voc.wav", "--mixture": pair / "mix.wav"}
    code = main(
        [
            "evaluate",
            "--estimate",
            str(paths["--estimate"]),
            "--reference",
            str(paths["--reference"]),
            "--mixture",
            str(paths["--mixture"]),
            "--no-bss",
            "--json",
            str(paths[role]),
        ]
    )
    assert code == 2
    _one_line(capsys, "is the --")
    assert _digest(pair) == before


@pytest.mark.parametrize("command", ["best", "progressive"])
def test_a_run_never_replaces_the_folder_holding_its_input(pair, tmp_path, command, capsys):
    out = tmp_path / "out"
    assert main(_best(pair, out)) == 0
    folder = out / "output_progressive_1slices_it5"
    previous = _digest(folder)
    capsys.readouterr()
    mix, voc = folder / "1_slices" / "1_original_mixture.wav", folder / "1_slices" / "2_target_vocal.wav"
    code = main(
        [command, "--slices", "1", "--mixture", str(mix), "--vocal", str(voc), "--out", str(out), *FAST]
    )
    assert code == 2
    _one_line(capsys, "the folder this run replaces")
    assert _digest(folder) == previous  # the input and the previous run survive
    assert sorted(p.name for p in out.iterdir()) == [
        "index.json",
        "index.md",
        "output_progressive_1slices_it5",
    ]


# ------------------------------------------------------------------ the output swap
_KILLER = r"""
import os, sys
from pathlib import Path
from conv2dsep_lib.core import files

final, step, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
calls = {"n": 0}

def step_or_die():
    calls["n"] += 1
    if calls["n"] == step:
        os._exit(9)                       # a SIGKILL at this step: no cleanup runs

real_replace, real_exchange = os.replace, files._exchange
def replace(a, b):
    step_or_die()
    return real_replace(a, b)
def exchange(a, b):
    step_or_die()
    return False if mode == "journal" else real_exchange(a, b)
files.os.replace = replace
files._exchange = exchange
with files.staging_folder(final) as tmp:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp / name).write_text("new")
print(calls["n"])
"""


@pytest.mark.parametrize("mode", ["exchange", "journal"])
def test_a_kill_at_every_step_of_the_swap_leaves_the_old_or_the_new_folder(tmp_path, mode):
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    outcomes = set()
    for step in range(1, 12):
        parent = tmp_path / f"step{step}"
        final = parent / "output_progressive_1slices"
        final.mkdir(parents=True)
        for name in ("a.txt", "b.txt", "c.txt"):
            (final / name).write_text("old")
        proc = subprocess.run(
            [sys.executable, str(script), str(final), str(step), mode],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert proc.returncode in (0, 9), proc.stderr
        recover_folder(final)  # what the next run does first
        contents = {p.name: p.read_text() for p in final.iterdir()}
        assert set(contents) == {"a.txt", "b.txt", "c.txt"}, (step, contents)
        assert len(set(contents.values())) == 1, (step, contents)  # complete: all old or all new
        assert [p.name for p in parent.iterdir()] == [final.name], (step, list(parent.iterdir()))
        outcomes.add((proc.returncode, contents["a.txt"]))
        if proc.returncode == 0:
            break
    assert (9, "old") in outcomes and (0, "new") in outcomes
    if mode == "journal":
        assert (9, "new") in outcomes  # killed between the renames, completed after


def test_stale_temporaries_of_dead_runs_are_cleaned_live_ones_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    stale = tmp_path / f".output_progressive_2slices.{dead}-abc.tmp"
    stale.mkdir()
    (stale / "x.wav").write_text("half")
    live = tmp_path / f".output_progressive_2slices.{os.getpid()}-def.tmp"
    live.mkdir()
    other = tmp_path / ".notes.txt"
    other.write_text("mine")
    removed = files.remove_temporaries(tmp_path)
    assert removed == [stale] and not stale.exists() and live.exists() and other.exists()


def test_sweep_workers_exit_when_the_driver_is_killed(tmp_path):
    from conv2dsep_lib.sources.demo_set import build_demo_set

    build_demo_set(tmp_path / "demo", seeds=(0, 1), duration=5.0)
    out = tmp_path / "sweep"
    cmd = [
        sys.executable,
        "-m",
        "conv2dsep_lib",
        "sweep",
        "--tracks",
        str(tmp_path / "demo/rtg/100-window/*"),
        "--grid",
        str(ROOT / "sweeps/strategies.yaml"),
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    children = []
    while time.monotonic() - t0 < 120 and len(children) < 2:
        assert proc.poll() is None, proc.stderr.read()
        children = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _ppid(p) == proc.pid and b"conv2dsep_lib" in _cmdline(p)
        ]  # forked pool workers: the driver's command line
        time.sleep(0.1)
    assert len(children) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30 and any(_running(pid) for pid in children):
        time.sleep(0.1)
    assert not any(_running(pid) for pid in children), "pool workers outlived their driver"


def _ppid(p: Path) -> int:
    try:
        return int(p.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _cmdline(p: Path) -> bytes:
    try:
        return p.joinpath("cmdline").read_bytes()
    except OSError:
        return b""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# ------------------------------------------------------------------ refused before any work
@pytest.mark.parametrize("where, needle", [("file", "is inside the file"), ("proc", "cannot be written")])
def test_an_unwritable_out_is_refused_before_any_work(pair, tmp_path, where, needle, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "sub" if where == "file" else Path("/proc/conv2dsep_out")
    before = _digest(pair)
    t0 = time.monotonic()
    assert main(_best(pair, out, slices="8")) == 2
    assert time.monotonic() - t0 < 5  # no computation happened
    _one_line(capsys, needle)
    assert _digest(pair) == before


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--offset", "1e308"], "offset=1e+308 is invalid: allowed a number of seconds 0..86400"),
        (
            ["--iterations", "1000000000000"],
            "num_iterations=1000000000000 is invalid: allowed an integer 1..100000",
        ),
        (["--strategy", "4", "--iterations", "100000"], "point-iterations per slice"),
        (["--sr", "1000000000000"], "sr=1000000000000 is invalid: allowed an integer 1000..384000"),
        (["--hop-length", "1041", "--n-fft", "1040"], "hop_length=1041 is larger than n_fft=1040"),
        (["--n-fft", "1000"], "hop_length=1040 is larger than n_fft=1000"),
        (["--amin", "1e12"], "amin=1000000000000.0 is invalid: allowed a number 1e-20..0.01"),
        (["--n-fft", "1000000000000"], "n_fft=1000000000000 is invalid: allowed an integer 16..65536"),
        (["--learning-rate", "nan"], "invalid value 'nan': allowed a finite number"),
        (["--slices", "x"], "best: argument --slices: invalid value 'x': allowed an integer"),
        (["--frobnicate"], "best: unrecognized arguments: --frobnicate (see 'conv2dsep best --help')"),
    ],
)
def test_values_that_cannot_work_are_refused_with_the_limit(pair, tmp_path, flags, needle, capsys):
    before = _digest(pair)
    t0 = time.monotonic()
    assert main(_best(pair, tmp_path / "out", *flags)) == 2
    assert time.monotonic() - t0 < 5
    _one_line(capsys, needle)
    assert _digest(pair) == before and not (tmp_path / "out").exists()


@pytest.mark.parametrize("sr", ["-5", "0"])
def test_evaluate_sr_out_of_range(pair, sr, capsys):
    assert (
        main(
            [
                "evaluate",
                "--estimate",
                str(pair / "mix.wav"),
                "--reference",
                str(pair / "voc.wav"),
                "--no-bss",
                "--sr",
                sr,
            ]
        )
        == 2
    )
    _one_line(capsys, f"sr={sr} is invalid: allowed an integer 1000..384000 Hz")


def test_prepare_sr_out_of_range_and_a_one_hertz_header(tmp_path, capsys):
    src = tmp_path / "process"
    src.mkdir()
    sf.write(src / "x_100-full.wav", np.random.default_rng(0).standard_normal(200) * 0.1, 1)
    sf.write(src / "x_100-stem.wav", np.random.default_rng(1).standard_normal(200) * 0.1, 1)
    before = _digest(src)
    assert main(["prepare", "--source", str(src), "--dest", str(tmp_path / "rtg"), "--sr", "1000000000"]) == 2
    _one_line(capsys, "sr=1000000000 is invalid")
    assert main(["prepare", "--source", str(src), "--dest", str(tmp_path / "rtg"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "declares a sample rate of 1 Hz: allowed 1000..768000 Hz" in err and "Traceback" not in err
    assert _digest(src) == before


def test_a_one_hertz_header_as_an_input(tmp_path, capsys):
    sf.write(tmp_path / "m.wav", np.ones(50) * 0.1, 1)
    assert (
        main(
            [
                "best",
                "--mixture",
                str(tmp_path / "m.wav"),
                "--vocal",
                str(tmp_path / "m.wav"),
                "--out",
                str(tmp_path / "o"),
                *FAST,
            ]
        )
        == 2
    )
    _one_line(capsys, "declares a sample rate of 1 Hz")


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--timeout", "1.5"], "argument --timeout: invalid value '1.5': allowed an integer"),
        (["--timeout", "-3"], "invalid value '-3': allowed an integer >= 1"),
        (["-p", "n_slices", "100"], "n_slices=100 is out of range: allowed 1..18"),
        (["-p", "learning_rate", "-1"], "learning_rate=-1 is invalid"),
        (["-p", "view", "42"], "view=42 is out of range"),
        (["--only", ","], "--only ',' names no notebook: allowed 00_data"),
    ],
)
def test_notebook_values_are_refused_before_any_notebook_runs(tmp_path, extra, needle, capsys):
    out = tmp_path / "run"
    assert main(["notebooks", "--out", str(out), "--quiet", *extra]) == 2
    _one_line(capsys, needle)
    assert not (out / "notebooks").exists()


def _demo_tracks(tmp_path):
    from conv2dsep_lib.sources.demo_set import build_demo_set

    build_demo_set(tmp_path / "demo", seeds=(0, 1), duration=5.0)
    return str(tmp_path / "demo" / "rtg" / "100-window" / "*")


def test_a_huge_grid_is_counted_and_refused_without_yes(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    lrs = ", ".join(f"{0.001 * (i + 1):g}" for i in range(50))
    iters = ", ".join(str(i + 1) for i in range(1000))
    grid.write_text(
        f"n_slices: [{', '.join(map(str, range(1, 19)))}]\nlearning_rate: [{lrs}]\niterations: [{iters}]\n"
    )
    t0 = time.monotonic()
    code = main(
        ["sweep", "--tracks", _demo_tracks(tmp_path), "--grid", str(grid), "--out", str(tmp_path / "s")]
    )
    assert code == 2 and time.monotonic() - t0 < 30
    _one_line(capsys, "900000 settings x 2 tracks = 1800000 runs: allowed up to 1000 without --yes")
    assert not (tmp_path / "s").exists()


def test_two_sweeps_on_one_folder_the_second_is_refused(tmp_path, capsys):
    tracks = _demo_tracks(tmp_path)
    out = tmp_path / "s"
    with exclusive_lock(out / ".sweep.lock", what=f"the sweep folder {str(out)!r}"):
        code = main(
            [
                "sweep",
                "--tracks",
                tracks,
                "--set",
                "n_slices=1",
                "--set",
                "iterations=5",
                "--no-bss",
                "--no-baselines",
                "--out",
                str(out),
                "--workers",
                "1",
                "--quiet",
            ]
        )
        assert code == 2
        _one_line(capsys, "is in use by another process (pid")
        assert not (out / "runs").exists()
    assert not (out / ".sweep.lock").exists()


# ------------------------------------------------------------------ messages
def test_not_an_audio_file_says_what_it_is(tmp_path, pair, capsys):
    fifo = tmp_path / "fifo.wav"
    os.mkfifo(fifo)
    for path, needle in (
        (pair, "is a folder: allowed an audio file"),
        (fifo, "is not a regular file (a FIFO, device or socket)"),
        (Path("/dev/zero"), "is not a regular file"),
        (tmp_path / "nothing.wav", "does not exist"),
    ):
        assert (
            main(
                [
                    "best",
                    "--mixture",
                    str(path),
                    "--vocal",
                    str(pair / "voc.wav"),
                    "--out",
                    str(tmp_path / "o"),
                    *FAST,
                ]
            )
            == 2
        )
        _one_line(capsys, needle)


def test_musdb_track_without_vocals_is_named(tmp_path, capsys):
    root = tmp_path / "musdb"
    sr = 44100
    for name, stems in (("Good - One", ("mixture", "vocals")), ("Bad - Two", ("mixture",))):
        d = root / "test" / name
        d.mkdir(parents=True)
        for stem in stems:
            sf.write(d / f"{stem}.wav", np.random.default_rng(0).standard_normal((sr * 6, 2)) * 0.1, sr)
    assert (
        main(["best", "--musdb", str(root), "--track", "Bad - Two", "--out", str(tmp_path / "o"), *FAST]) == 2
    )
    _one_line(capsys, "has no vocals.wav: allowed a folder holding mixture.wav and vocals.wav")
    code = main(["prepare", "--musdb", str(root), "--dest", str(tmp_path / "rtg"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "skipped Bad - Two: the track folder" in err and "has no vocals.wav" in err


def test_prepare_names_the_files_it_ignores(tmp_path, capsys):
    import conftest

    src = tmp_path / "process"
    src.mkdir()
    sr = 22050
    voice, band = conftest._voice_and_band(sr, sr * 5, 0)
    sf.write(src / "song_100-full.wav", voice + band, sr)
    sf.write(src / "song_100-stem.wav", voice, sr)
    for odd in ("_100-full.wav", "a\nb_100-stem.wav", "notes.txt"):
        (src / odd).write_bytes(b"x")
    assert main(["prepare", "--source", str(src), "--dest", str(tmp_path / "rtg")]) == 0
    captured = capsys.readouterr()
    for odd in ("_100-full.wav", "a\nb_100-stem.wav", "notes.txt"):
        assert f"warning: ignored {odd!r}: not <name>_100-full.<ext>" in captured.err
    assert captured.err.count("warning: ignored") == 3
    assert "1 written, 0 overwritten, 0 unchanged, 0 skipped, 3 ignored" in captured.out


# ------------------------------------------------------------------ warnings: the run goes on
@pytest.mark.parametrize(
    "kind, needle",
    [
        ("clipped", "looks clipped"),
        ("hot", "exceeds full scale"),
        ("dc", "carries a DC offset"),
        ("band", "is band-limited: nothing above"),
        ("padding", "is mostly padding"),
    ],
)
def test_odd_inputs_warn_in_one_line_and_the_run_goes_on(tmp_path, kind, needle, capsys):
    import conftest
    from scipy import signal as sps

    sr = 22050
    voice, band = conftest._voice_and_band(sr, sr * 5, 4)
    mix = (voice + band).astype(np.float64)
    subtype = "FLOAT"
    extra = []
    if kind == "clipped":
        mix = np.clip(mix * 4.0, -1.0, 1.0)
    elif kind == "hot":
        mix = mix * 4.0
    elif kind == "dc":
        mix = mix + 0.3
    elif kind == "band":
        sos = sps.butter(12, 2000, fs=sr, output="sos")
        mix = 0.4 * sps.sosfiltfilt(sos, sps.sosfiltfilt(sos, mix))
    elif kind == "padding":
        mix, voice = mix[: sr * 2], voice[: sr * 2]
        extra = ["--pad"]
    sf.write(tmp_path / "mix.wav", mix, sr, subtype=subtype)
    sf.write(tmp_path / "voc.wav", voice, sr, subtype=subtype)
    code = main(
        [
            "progressive",
            "--slices",
            "1",
            "--mixture",
            str(tmp_path / "mix.wav"),
            "--vocal",
            str(tmp_path / "voc.wav"),
            "--out",
            str(tmp_path / "o"),
            "--duration",
            "4.7",
            *FAST,
            *extra,
        ]
    )
    assert code == 0
    err = capsys.readouterr().err.strip().splitlines()
    warned = [line for line in err if needle in line]
    assert warned and all(line.startswith("conv2dsep: warning: ") for line in err), err
    assert (tmp_path / "o" / "output_progressive_1slices_it5" / "results.json").is_file()


def test_a_clean_input_has_no_warnings(tmp_path, capsys):
    from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir

    build_demo_set(tmp_path / "demo", seeds=(0,), duration=5.0)
    song = demo_song_dir(tmp_path / "demo", 0)
    assert main(["best", "--slices", "1", "--data-dir", str(song), "--out", str(tmp_path / "o"), *FAST]) == 0
    assert capsys.readouterr().err == ""


def test_the_manifest_of_a_killed_sweep_stays_valid_json(tmp_path):
    # the refresh during a sweep writes sweep.json atomically: any reader sees complete JSON
    out = tmp_path / "s"
    code = main(
        [
            "sweep",
            "--tracks",
            _demo_tracks(tmp_path),
            "--set",
            "n_slices=1",
            "--set",
            "iterations=5",
            "--no-bss",
            "--no-baselines",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"
    assert not [p for p in out.rglob(".*")]
