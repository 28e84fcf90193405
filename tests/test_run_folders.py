"""Runs that don't collide: one folder per slice count x settings, and the outputs index.

The seed's settings keep the seed's folder name; other settings get a tag of the changed
fields; ``OUT/index.json`` lists every run folder (read back as typed entries) and
``OUT/index.md`` shows them; two runs writing at once leave a complete folder each and an
index that lists both.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conv2dsep_lib.cli import main
from conv2dsep_lib.core.config import Config
from conv2dsep_lib.results import RunEntry, read_index, run_folder_name, settings_tag
from conv2dsep_lib.results.index import find_entry
from conv2dsep_lib.results.naming import MAX_TAG, changed_settings
from conv2dsep_lib.run.outputs import output_dir_name

# The seed's CONFIG except as the test says; SI-SDR only, no baselines: fast.
FAST = ["--no-bss", "--no-baselines", "--quiet"]


def _digest(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------ naming
def test_the_seed_settings_keep_the_seed_name():
    assert run_folder_name(8) == "output_progressive_8slices"
    assert run_folder_name(8, config=Config()) == "output_progressive_8slices"
    assert output_dir_name(3, config=Config(learning_rate=0.01)) == "output_progressive_3slices"


@pytest.mark.parametrize(
    "changes, tag",
    [
        ({"learning_rate": 0.9}, "lr0.9"),
        ({"num_iterations": 50, "learning_rate": 0.05}, "it50_lr0.05"),
        ({"clip_db": 10.0}, "clip10"),
        ({"strategy": 1}, "strategy1"),
        ({"greedy_score": "si_sdr"}, "greedy-si_sdr"),
        ({"amin": 1e-10}, "amin1e-10"),
        ({"top_db": None}, "topdbnone"),
        ({"duration": 5.0, "sr": 16000}, "sr16000_dur5"),
    ],
)
def test_other_settings_get_a_readable_tag(changes, tag):
    assert run_folder_name(8, config=Config().replace(**changes)) == f"output_progressive_8slices_{tag}"


def test_greedy_score_names_only_runs_with_the_greedy_search():
    cfg = Config(greedy_score="si_sdr")
    assert run_folder_name(4, config=cfg, greedy=False) == "output_progressive_4slices"
    assert changed_settings(cfg, greedy=False) == {}


def test_long_tags_are_short_deterministic_and_distinct():
    a = {
        "num_iterations": 50,
        "learning_rate": 0.05,
        "clip_db": 10.0,
        "strategy": 1,
        "n_points": 200,
        "sr": 16000,
    }
    b = dict(a, sr=16001)
    ta, tb = settings_tag(a), settings_tag(b)
    assert len(ta) <= MAX_TAG and len(tb) <= MAX_TAG
    assert ta.startswith("it50_lr0.05") and ta != tb
    assert ta == settings_tag(dict(reversed(list(a.items()))))  # order of the mapping does not matter
    assert all(c.isalnum() or c in "._-" for c in ta)


# ------------------------------------------------------------------ the command line
@pytest.fixture
def pair(write_pair):
    mp, vp = write_pair(seconds=5.0)
    return ["--mixture", str(mp), "--vocal", str(vp)]


def _best(out, pair, *extra, slices="2"):
    return ["best", "--slices", slices, *pair, "--out", str(out), "--iterations", "100", *FAST, *extra]


def test_two_settings_two_folders_and_the_index_lists_both(tmp_path, pair):
    out = tmp_path / "out"
    assert main(_best(out, pair)) == 0
    assert main(_best(out, pair, "--learning-rate", "0.9")) == 0
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == ["output_progressive_2slices", "output_progressive_2slices_lr0.9"]
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["index.json", "index.md"]

    entries = read_index(out)
    assert [type(e) for e in entries] == [RunEntry, RunEntry]
    by = {e.folder: e for e in entries}
    seed, lr = by["output_progressive_2slices"], by["output_progressive_2slices_lr0.9"]
    assert dict(seed.settings) == {} and seed.tag == ""
    assert dict(lr.settings) == {"learning_rate": 0.9} and lr.tag == "lr0.9"
    assert lr.command == "best" and lr.n_slices == 2 and lr.input == "pair" and lr.oracle
    assert (
        lr.command_line.startswith("conv2dsep best --slices 2") and "--learning-rate 0.9" in lr.command_line
    )
    assert lr.final.kind == "oracle" and lr.final.si_sdr is not None and lr.greedy.kind == "oracle"
    assert lr.record(out).config.learning_rate == 0.9  # the entry opens its results.json
    assert entries[0].date >= entries[1].date  # newest first

    raw = json.loads((out / "index.json").read_text())
    assert raw["oracle"] is True and len(raw["runs"]) == 2
    table = (out / "index.md").read_text()
    assert "ORACLE" in table and "`output_progressive_2slices_lr0.9`" in table and "seed defaults" in table
    assert "the best blind baseline (REPET-SIM, HPSS, the band-pass, the learned model" in table


def test_rerunning_the_same_settings_replaces_only_its_own_folder(tmp_path, pair, capsys):
    out = tmp_path / "out"
    assert main(_best(out, pair)) == 0
    assert main(_best(out, pair, "--learning-rate", "0.9")) == 0
    seed = _digest(out / "output_progressive_2slices")
    first = find_entry(out, "output_progressive_2slices_lr0.9")
    capsys.readouterr()
    args = _best(out, pair, "--learning-rate", "0.9")
    args.remove("--quiet")
    assert main(args) == 0
    assert _digest(out / "output_progressive_2slices") == seed  # the other run is untouched
    stdout = capsys.readouterr().out
    assert "replaced the previous run in output_progressive_2slices_lr0.9" in stdout
    entries = read_index(out)
    assert len(entries) == 2
    again = next(e for e in entries if e.folder == "output_progressive_2slices_lr0.9")
    assert again.date >= first.date and again.final.si_sdr == pytest.approx(first.final.si_sdr)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temporaries, no lock file


def test_the_index_drops_removed_folders_and_adopts_unlisted_ones(tmp_path, pair):
    import shutil

    out = tmp_path / "out"
    assert main(_best(out, pair, slices="1")) == 0
    assert main(_best(out, pair, "--clip-db", "10", slices="1")) == 0
    shutil.rmtree(out / "output_progressive_1slices_clip10")
    (out / "index.json").unlink()  # e.g. runs written before the index existed
    assert [e.folder for e in read_index(out)] == ["output_progressive_1slices"]
    assert main(_best(out, pair, "--strategy", "1", slices="1")) == 0
    listed = {e["folder"] for e in json.loads((out / "index.json").read_text())["runs"]}
    assert listed == {"output_progressive_1slices", "output_progressive_1slices_strategy1"}


def test_an_input_inside_a_tagged_folder_is_refused(tmp_path, pair, capsys):
    out = tmp_path / "out"
    assert main(_best(out, pair, "--learning-rate", "0.9", slices="1")) == 0
    folder = out / "output_progressive_1slices_lr0.9"
    before = _digest(folder)
    mix, voc = folder / "1_slices" / "1_original_mixture.wav", folder / "1_slices" / "2_target_vocal.wav"
    code = main(
        _best(out, ["--mixture", str(mix), "--vocal", str(voc)], "--learning-rate", "0.9", slices="1")
    )
    assert code == 2 and "the folder this run replaces" in capsys.readouterr().err
    assert _digest(folder) == before


def test_two_runs_at_once_leave_two_complete_folders_and_one_index(tmp_path, pair):
    out = tmp_path / "out"
    runs = [_best(out, pair, slices="1"), _best(out, pair, "--learning-rate", "0.5", slices="1")]
    procs = [
        subprocess.Popen([sys.executable, "-m", "conv2dsep_lib", *args], stderr=subprocess.PIPE, text=True)
        for args in runs
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    entries = read_index(out)
    assert sorted(e.folder for e in entries) == [
        "output_progressive_1slices",
        "output_progressive_1slices_lr0.5",
    ]
    raw = json.loads((out / "index.json").read_text())
    assert len(raw["runs"]) == 2  # both updates are in the file, not only the last one's
    for e in entries:
        assert (e.path(out) / "results.json").is_file() and (
            e.path(out) / "1_slices" / "extracted_vocal.wav"
        ).is_file()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
