"""The numbered notebooks: stored clean and thin, executed headlessly, and the runner.

Every notebook is executed once through the runner (papermill) with tiny parameters
(3 slices, 10 iterations, no BSS Eval) on a synthetic pair; the tests then check the
artefacts each one writes and the outputs the executed copies hold (figures as
``image/png``, inline ``<audio>`` players).  ``01`` is also run with plain papermill
and ``interactive=True`` (widgets), and the runner's failure handling is checked with
parameters that make a notebook fail.  ``03`` and ``05`` are also run with
``targets="vocals,drums"`` on demo song 0 (its stems): one run per target, the joint
estimate, a table per target and one player over every stem.  ``08`` (the learned model,
BLIND) runs through the runner on a tiny untrained model with one held-out draw of one excerpt
and a 3 s excerpt of the listening song.
"""

import ast
import json
import re
from pathlib import Path

import nbformat
import papermill as pm  # noqa: E402  (a declared dependency)
import pytest

from conv2dsep_lib import cli
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.run import notebooks as nbmod

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.stem for p in NOTEBOOKS]
#: The workbook sequence (later numbers, e.g. 06_sweep_summary, have their own tests).
WORKBOOK = ["00_data", "01_fingerprinting", "02_strategy3", "03_progressive", "04_greedy", "05_results"]
TINY = {"n_slices": 3, "iterations": 10, "bss": False}
COMMON = {"data_dir", "mixture", "vocal", "musdb", "track", "subset", "offset", "out_dir", "interactive"}


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def _mime_count(nb, mime):
    return sum(1 for o in _outputs(nb) if mime in o.get("data", {}))


def _audio_count(nb):
    return sum(o.get("data", {}).get("text/html", "").count("<audio") for o in _outputs(nb))


def _widget_views(nb):
    return _mime_count(nb, "application/vnd.jupyter.widget-view+json")


def _ab_players(nb):
    return sum(o.get("data", {}).get("text/html", "").count("class='conv2dsep-ab'") for o in _outputs(nb))


def _errors(nb):
    return [o for o in _outputs(nb) if o.output_type == "error"]


# ------------------------------------------------------------------ stored notebooks
def test_the_workbook_notebooks_exist_in_order():
    assert NAMES[: len(WORKBOOK)] == WORKBOOK
    assert len(set(n[:2] for n in NAMES)) == len(NAMES), "two notebooks share a number"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_stored_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell is stored with outputs"
            assert cell.execution_count is None, f"{path.name}: stored with execution counts"
    assert "widgets" not in nb.metadata and "papermill" not in nb.metadata
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_one_parameters_cell_of_annotated_literals_first(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    assert code[0] is tagged[0], f"{path.name}: the parameters cell must be the first code cell"
    src = tagged[0].source
    tree = ast.parse(src)
    names = []
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name), (
            f"{path.name}: parameters cell holds something other than annotated assignments"
        )
        assert node.annotation.id in {"int", "float", "bool", "str"}
        ast.literal_eval(node.value)  # a plain literal, nothing computed
        names.append(node.target.id)
    for line in src.splitlines():
        assert re.search(r"\s#\s\S", line), f"{path.name}: parameter without a # help comment: {line}"
    declared = nbmod.notebook_parameters(path)  # papermill parses every line (no '=' in help)
    assert list(declared) == names
    assert all(declared[n]["help"] for n in names)
    assert "interactive" in names  # the runner sets it (False: static figures)
    if path.stem in WORKBOOK:
        assert COMMON <= set(names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebooks_are_thin(path):
    """No algorithms in cells: no def, class or lambda (they belong in conv2dsep_lib)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), (
                f"{path.name}: defines code in a cell"
            )
    assert any("ORACLE" in c.source for c in nb.cells) or path.stem in ("00_data", "01_fingerprinting")


# ------------------------------------------------------------------ parameters
def test_parse_parameter_value_like_papermill():
    p = nbmod.parse_parameter_value
    assert p("True") is True and p("false") is False and p("None") is None
    assert p("5") == 5 and isinstance(p("5"), int)
    assert p("0.05") == pytest.approx(0.05) and p("1e-3") == pytest.approx(1e-3)
    assert p("data/x") == "data/x"


def test_unknown_or_mistyped_parameter_is_a_user_error(tmp_path, capsys):
    assert cli.main(["notebooks", "--out", str(tmp_path / "r"), "-p", "n_slicez", "3"]) == 2
    assert "n_slicez" in capsys.readouterr().err
    assert cli.main(["notebooks", "--out", str(tmp_path / "r"), "-p", "n_slices", "three"]) == 2
    assert "type int" in capsys.readouterr().err
    assert cli.main(["notebooks", "--out", str(tmp_path / "r"), "-p", "out_dir", "x"]) == 2
    assert cli.main(["notebooks", "--out", str(tmp_path / "r"), "--only", "99"]) == 2
    assert not (tmp_path / "r" / "notebooks" / "run.json").exists()


def test_parameters_file_and_only(tmp_path):
    f = tmp_path / "params.yaml"
    f.write_text("n_slices: 4\nbss: false\n")
    assert nbmod.read_parameters_file(f) == {"n_slices": 4, "bss": False}
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match="mapping"):
        nbmod.read_parameters_file(f)
    assert [p.stem for p in nbmod.list_notebooks(only=["3", "05_results"])] == [
        "03_progressive",
        "05_results",
    ]
    assert [p.stem for p in nbmod.list_notebooks(only=["01,00"])] == ["00_data", "01_fingerprinting"]
    assert [p.stem for p in nbmod.list_notebooks()] == NAMES
    nb00 = ROOT / "notebooks" / "00_data.ipynb"
    share = nbmod._split_parameters(
        {"prepare_offset": 2.5, "offset": 1}, {nb00: nbmod.notebook_parameters(nb00)}
    )[nb00]
    assert share == {"prepare_offset": "2.5", "offset": 1}  # a number for a str parameter is kept as text


# ------------------------------------------------------------------ executing every notebook
@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory):
    import numpy as np
    import soundfile as sf
    from conftest import _voice_and_band

    d = tmp_path_factory.mktemp("pair")
    sr, n = 44100, int(44100 * 5.0)
    voice, band = _voice_and_band(sr, n, 1)
    sf.write(d / "stereo_mixture.wav", np.stack([voice + band, 0.9 * (voice + band)], 1), sr)
    sf.write(d / "isolated_vocal.wav", np.stack([voice, 0.9 * voice], 1), sr)
    return d


@pytest.fixture(scope="module")
def run(tmp_path_factory, pair_dir):
    """All six notebooks through the runner (papermill), tiny parameters."""
    out = tmp_path_factory.mktemp("nbrun")
    f = out.parent / "params.yaml"
    f.write_text("iterations: 10\nbss: false\n")
    code = cli.main(
        [
            "notebooks",
            "--data-dir",
            str(pair_dir),
            "-f",
            str(f),
            "-p",
            "n_slices",
            "3",
            "--only",
            ",".join(WORKBOOK),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    summary = json.loads((out / "notebooks" / "run.json").read_text())
    return code, out, summary


def _papermill(name, out, parameters, **kwargs):
    """Execute ``notebooks/<name>`` with *parameters* into *out* (papermill) and read it back."""
    pm.execute_notebook(
        str(ROOT / "notebooks" / name), str(out), parameters=parameters, progress_bar=False, **kwargs
    )
    return nbformat.read(out, as_version=4)


def _executed(run, name):
    _, out, _ = run
    return nbformat.read(out / "notebooks" / f"{name}.ipynb", as_version=4)


def test_runner_runs_all_and_records_the_run(run, pair_dir):
    code, out, summary = run
    assert code == 0, [e["error"] for e in summary["notebooks"]]
    assert summary["ok"] is True
    assert [e["name"] for e in summary["notebooks"]] == [f"{n}.ipynb" for n in WORKBOOK]
    assert all(e["status"] == "ok" and e["seconds"] > 0 for e in summary["notebooks"])
    p = summary["parameters"]
    assert p["n_slices"] == 3 and p["iterations"] == 10 and p["bss"] is False
    assert p["interactive"] is False and p["out_dir"] == str(out)
    assert p["data_dir"] == str(pair_dir)
    assert "git_commit" in summary and summary["kernel"]["same_python"] is True
    # each notebook got only the parameters it declares; papermill recorded them
    first = summary["notebooks"][0]["parameters"]
    assert "n_slices" not in first and first["data_dir"] == str(pair_dir)
    nb = _executed(run, "03_progressive")
    assert nb.metadata.papermill.parameters["n_slices"] == 3
    for name in WORKBOOK:
        nb = _executed(run, name)
        assert not _errors(nb), name
        # every figure is shown once (helpers return None once displayed)
        assert not [
            o for o in _outputs(nb) if o.output_type == "execute_result" and "image/png" in o.get("data", {})
        ], name
        # readable and listenable without a kernel: no widget views, a PNG wherever audio plays
        assert _widget_views(nb) == 0, name
        if _audio_count(nb):
            assert _mime_count(nb, "image/png") >= 1 and _ab_players(nb) >= 1, name
    assert all(_audio_count(_executed(run, n)) for n in WORKBOOK)


def test_00_data_artefacts(run, pair_dir):
    _, out, _ = run
    d = out / "00_data"
    for f in ("waveforms.png", "spectrograms.png", "input.json"):
        assert (d / f).is_file(), f
    info = json.loads((d / "input.json").read_text())
    assert Path(info["source"]["mixture"]).parent == pair_dir and info["n_frames"] == 100
    assert [r["signal"] for r in info["levels"]] == ["mixture", "vocal", "instrumental"]
    nb = _executed(run, "00_data")
    assert _mime_count(nb, "image/png") >= 2 and _audio_count(nb) == 3


def test_01_fingerprinting_artefacts(run):
    _, out, _ = run
    d = out / "01_fingerprinting"
    for f in ("kernels.png", "views.png", "fingerprints.png", "slice_explorer.png"):
        assert (d / f).read_bytes()[:4] == b"\x89PNG", f
    nb = _executed(run, "01_fingerprinting")
    assert _mime_count(nb, "image/png") >= 4 and _audio_count(nb) == 2


def test_02_strategy3_artefacts(run):
    _, out, _ = run
    d = out / "02_strategy3"
    for f in ("slice_step.png", "strategies.png", "optimisation_explorer.png", "slice_result.wav"):
        assert (d / f).is_file(), f
    rec = json.loads((d / "strategies.json").read_text())
    assert rec["oracle"] is True and sorted(rec["strategies"]) == ["1", "2", "3", "4"]
    for s in rec["strategies"].values():
        assert s["config"]["num_iterations"] == 10 and len(s["progressive"]) == 3
        assert s["progressive"][-1]["metrics"]["si_sdr"] is not None
    nb = _executed(run, "02_strategy3")
    assert _mime_count(nb, "image/png") >= 3 and _audio_count(nb) >= 4


def test_03_progressive_artefacts(run):
    _, out, _ = run
    d = out / "03_progressive" / "output_progressive_3slices"
    rec = json.loads((d / "results.json").read_text())
    assert rec["oracle"] is True and rec["command"] == "progressive" and "greedy" not in rec
    assert [p["n_slices"] for p in rec["progressive"]] == [1, 2, 3]
    for k in (1, 2, 3):
        assert (d / f"{k}_slices" / "extracted_vocal.wav").is_file()
    nb = _executed(run, "03_progressive")
    assert _mime_count(nb, "image/png") >= 3
    assert _audio_count(nb) == 2 + 3  # mixture, target, every k
    assert any("ORACLE" in o.get("data", {}).get("text/html", "") for o in _outputs(nb))


def test_04_greedy_artefacts(run):
    _, out, _ = run
    d = out / "04_greedy" / "output_progressive_3slices"
    rec = json.loads((d / "results.json").read_text())
    assert rec["command"] == "best" and len(rec["greedy"]["sequence"]) == 3
    assert (d / "best_sequence_found" / "extracted_vocal_best_sequence.wav").is_file()
    assert (out / "04_greedy" / "greedy_candidates.png").is_file()
    nb = _executed(run, "04_greedy")
    assert _mime_count(nb, "image/png") >= 3 and _audio_count(nb) == 5


def test_05_results_reuses_04_and_shows_everything(run):
    _, out, _ = run
    d = out / "05_results"
    summary = json.loads((d / "summary.json").read_text())
    assert summary["oracle"] is True and summary["reused"] is True
    assert Path(summary["results"]).parent == out / "04_greedy" / "output_progressive_3slices"
    names = [r["estimate"] for r in summary["rows"]]
    assert "oracle_irm" in names and "mixture" in names and "conv2d k=3" in names
    for f in ("results_summary.png", "separation_quality.png", "loss_vs_si_sdr.png", "spectrograms.png"):
        assert (d / f).is_file(), f
    nb = _executed(run, "05_results")
    assert _mime_count(nb, "image/png") >= 4 and _audio_count(nb) == 4  # the results explorer's A/B player
    assert summary["best_by_loss"] in "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))


# ------------------------------------------------------------------ standalone, interactive, failures
def test_plain_papermill_interactive_from_another_folder(tmp_path, pair_dir, monkeypatch):
    """`papermill notebooks/01_fingerprinting.ipynb out.ipynb -p ...`, ``interactive`` left True.

    papermill has no front end: the explorers see it (``allow_stdin=False``) and show
    their static form -- no widget views that a saved notebook cannot show.
    """
    monkeypatch.delenv("CONV2DSEP_WIDGETS", raising=False)
    out = tmp_path / "01.ipynb"
    nb = _papermill(
        "01_fingerprinting.ipynb",
        out,
        {"data_dir": str(pair_dir), "out_dir": str(tmp_path / "run"), "view": 6, "window": 10},
        cwd=str(tmp_path),
    )
    assert nb.metadata.papermill.parameters.get("interactive") is None  # the notebook's default: True
    assert _widget_views(nb) == 0
    assert _mime_count(nb, "image/png") >= 4 and _audio_count(nb) == 2 and _ab_players(nb) == 1
    assert (tmp_path / "run" / "01_fingerprinting" / "slice_explorer.png").is_file()


def test_live_widgets_come_with_a_static_copy(tmp_path, pair_dir, monkeypatch):
    """With a front end (forced here), each explorer is a widget *and* a static copy."""
    monkeypatch.setenv("CONV2DSEP_WIDGETS", "1")  # the kernel inherits it
    out = tmp_path / "01.ipynb"
    nb = _papermill(
        "01_fingerprinting.ipynb",
        out,
        {"data_dir": str(pair_dir), "out_dir": str(tmp_path / "run"), "interactive": True},
    )
    assert _widget_views(nb) == 1  # the slice explorer (the A/B player is no widget)
    html = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))
    assert html.count("<details class='conv2dsep-snapshot'") == 1 and "data:image/png;base64," in html
    assert _audio_count(nb) == 2 and _mime_count(nb, "image/png") >= 3


def test_plain_papermill_03_is_readable_and_listenable(tmp_path, pair_dir, monkeypatch):
    """The issue's command: `papermill notebooks/03_progressive.ipynb out.ipynb -p n_slices 2`."""
    monkeypatch.delenv("CONV2DSEP_WIDGETS", raising=False)
    out = tmp_path / "03.ipynb"
    nb = _papermill(
        "03_progressive.ipynb",
        out,
        {
            "data_dir": str(pair_dir),
            "out_dir": str(tmp_path / "run"),
            "n_slices": 2,
            "iterations": 10,
            "bss": False,
            "baselines": False,
        },
    )
    assert not _errors(nb) and _widget_views(nb) == 0
    assert _mime_count(nb, "image/png") >= 3
    assert _audio_count(nb) == 2 + 2 and _ab_players(nb) == 1  # mixture, target, k = 1, 2
    assert "data:audio/wav;base64," in "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))


def test_prepare_then_load_in_00(tmp_path, write_pair):
    mix, voc = write_pair(subdir="process", seconds=6.0)
    mix.rename(mix.with_name("song_100-full.wav"))
    voc.rename(voc.with_name("song_100-stem.wav"))
    out = tmp_path / "00.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "00_data.ipynb"),
        str(out),
        parameters={
            "prepare_source": str(tmp_path / "process"),
            "prepare_dest": str(tmp_path / "rtg"),
            "prepare_offset": "auto",
            "out_dir": str(tmp_path / "run"),
            "interactive": False,
        },
        progress_bar=False,
    )
    info = json.loads((tmp_path / "run" / "00_data" / "input.json").read_text())
    assert Path(info["source"]["mixture"]).parent == tmp_path / "rtg"
    assert info["manifest"]["name"] == "song"


def test_failing_notebook_is_kept_named_and_the_next_runs(tmp_path, pair_dir, capsys):
    out = tmp_path / "run"
    code = cli.main(
        [
            "notebooks",
            "--data-dir",
            str(pair_dir),
            "--only",
            "01,03",
            "-p",
            "db_min",
            "0",
            "-p",
            "db_max",
            "0",
            "-p",
            "n_slices",
            "2",
            "-p",
            "iterations",
            "5",
            "-p",
            "bss",
            "False",
            "-p",
            "baselines",
            "False",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "01_fingerprinting.ipynb failed in cell" in err and "db_range=(0.0, 0.0) is empty" in err
    summary = json.loads((out / "notebooks" / "run.json").read_text())
    first, second = summary["notebooks"]
    assert summary["ok"] is False and first["status"] == "failed" and second["status"] == "ok"
    assert first["error"]["type"] == "ParameterError" and first["error"]["cell_index"] is not None
    kept = nbformat.read(out / "notebooks" / "01_fingerprinting.ipynb", as_version=4)
    assert _errors(kept)  # the executed notebook is kept, with the error marked
    assert (out / "03_progressive" / "output_progressive_2slices" / "results.json").is_file()


def test_an_excerpt_past_the_end_fails_03_and_04_still_runs(tmp_path, pair_dir, capsys):
    out = tmp_path / "run"
    code = cli.main(
        [
            "notebooks",
            "--data-dir",
            str(pair_dir),
            "--only",
            "03",
            "--only",
            "04",
            "-p",
            "offset",
            "60.0",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "03_progressive.ipynb failed" in err and "04_greedy.ipynb failed" in err
    assert "offset=60.0 s is past the end" in err
    for name in ("03_progressive", "04_greedy"):
        assert _errors(nbformat.read(out / "notebooks" / f"{name}.ipynb", as_version=4))


def test_07_claims_runs_a_tiny_study_and_shows_the_decided_claims(tmp_path):
    """07 on a folder without a study: the tiny claims study runs first, then every table and figure."""
    dest = tmp_path / "07.ipynb"
    study = tmp_path / "claims"
    nb = _papermill(
        "07_claims.ipynb",
        dest,
        {"claims_dir": str(study), "interactive": False},
        cwd=str(ROOT),
        kernel_name="python3",
    )
    assert not _errors(nb)
    assert _mime_count(nb, "image/png") == 3  # claims intervals, per-k curves, greedy vs original
    html = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))
    assert "ORACLE" in html and html.count("(a) ") >= 1 and "(d) " in html
    assert any(v in html for v in ("holds", "does not hold", "inconclusive"))
    assert (study / "claims.md").is_file() and (study / "claims.json").is_file()


# ------------------------------------------------------------------ several targets
@pytest.fixture(scope="module")
def stems_dir(tmp_path_factory):
    """Demo song 0 prepared with all four stems (vocals, drums, bass, other)."""
    from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir

    root = tmp_path_factory.mktemp("demo")
    assert not build_demo_set(root, seeds=(0,), duration=5.0).skipped
    return demo_song_dir(root, 0)


def test_a_bad_target_is_a_user_error_before_anything_runs(tmp_path, capsys):
    assert (
        cli.main(["notebooks", "--out", str(tmp_path / "r"), "--only", "03", "-p", "targets", "vocal"]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "target 'vocal' is unknown" in err[0] and "allowed vocals, drums" in err[0]
    assert not (tmp_path / "r" / "notebooks" / "run.json").exists()


def test_03_with_several_targets_shows_each_target_and_plays_every_stem(tmp_path, stems_dir, monkeypatch):
    """`papermill 03_progressive.ipynb -p targets vocals,drums`: one run per target, the joint
    estimate, a table per target, the separate vs joint table and one player over every stem."""
    monkeypatch.delenv("CONV2DSEP_WIDGETS", raising=False)
    out = tmp_path / "03.ipynb"
    nb = _papermill(
        "03_progressive.ipynb",
        out,
        {
            "data_dir": str(stems_dir),
            "out_dir": str(tmp_path / "run"),
            "targets": "vocals,drums",
            "n_slices": 2,
            "iterations": 10,
            "bss": False,
            "interactive": False,
        },
    )
    assert not _errors(nb) and _widget_views(nb) == 0
    d = tmp_path / "run" / "03_progressive" / "output_progressive_2slices"
    rec = json.loads((d / "results.json").read_text())
    assert rec["kind"] == "targets" and list(rec["targets"]) == ["vocals", "drums"]
    assert rec["sources"] == ["vocals", "drums", "rest"] and rec["command"] == "progressive"
    for t, word in (("vocals", "vocal"), ("drums", "drums")):
        assert (d / t / "2_slices" / f"extracted_{word}.wav").is_file()
        assert "greedy" not in rec["targets"][t]
    html = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))
    assert "vocals: progressive 1..N" in html and "drums: progressive 1..N" in html
    assert "hpss_percussive" in html and "joint (masks sum to 1)" in html and "ORACLE" in html
    assert _mime_count(nb, "image/png") == 1 + 2  # the targets' panels, the loss progression per target
    assert _ab_players(nb) == 1 and _audio_count(nb) == 1 + 3 * 3  # mixture; true, separate, joint of 3


def test_05_with_several_targets_runs_best_per_target_and_plays_every_stem(tmp_path, stems_dir, monkeypatch):
    monkeypatch.delenv("CONV2DSEP_WIDGETS", raising=False)
    out = tmp_path / "05.ipynb"
    nb = _papermill(
        "05_results.ipynb",
        out,
        {
            "data_dir": str(stems_dir),
            "out_dir": str(tmp_path / "run"),
            "targets": "drums,vocals",
            "n_slices": 2,
            "iterations": 10,
            "bss": False,
            "interactive": False,
        },
    )
    assert not _errors(nb) and _widget_views(nb) == 0
    d = tmp_path / "run" / "05_results"
    summary = json.loads((d / "summary.json").read_text())
    assert summary["oracle"] is True and summary["reused"] is False
    assert summary["targets"] == ["vocals", "drums"]
    rec = json.loads(Path(summary["results"]).read_text())
    assert rec["command"] == "best" and all(rec["targets"][t]["greedy"] for t in ("vocals", "drums"))
    assert {r["target"] for r in summary["rows"]} == {"vocals", "drums"}
    assert [(r["source"], r["estimate"][:5]) for r in summary["joint"]][:2] == [
        ("vocals", "separ"),
        ("vocals", "joint"),
    ]
    for f in ("targets_quality.png", "results_summary_vocals.png", "results_summary_drums.png"):
        assert (d / f).is_file(), f
    html = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))
    assert "vocals: Conv2D fingerprinting and its baselines -- ORACLE (uses the true vocal)" in html
    assert "drums: Conv2D fingerprinting and its baselines -- ORACLE (uses the true drums stem)" in html
    assert _mime_count(nb, "image/png") == 1 + 2 and _ab_players(nb) == 1 and _audio_count(nb) == 10


# ------------------------------------------------------------------ 08: the learned model (BLIND)
def test_08_learned_runs_through_the_runner_on_a_tiny_model(tmp_path, monkeypatch):
    """`conv2dsep notebooks --only 08 -p model tiny/model.pt ...` from another folder: the kernels
    beside their hand-made start, the curves, the held-out table with the margin, and the listening
    song's blind separation (A/B player, spectrograms, real-time factor), everything labelled."""
    from test_learned_workbook import tiny_model_file

    monkeypatch.delenv("CONV2DSEP_WIDGETS", raising=False)
    tiny_model_file(tmp_path / "tiny" / "model.pt")
    monkeypatch.chdir(tmp_path)  # the model path is relative to the caller's folder
    small = ["-p", "heldout_n", "1", "-p", "heldout_seeds", "0", "-p", "song_seconds", "3"]
    code = cli.main(
        ["notebooks", "--only", "08", "-p", "model", "tiny/model.pt", *small, "--out", "run", "--quiet"]
    )
    summary = json.loads((tmp_path / "run" / "notebooks" / "run.json").read_text())
    assert code == 0, summary["notebooks"][0]["error"]
    assert summary["notebooks"][0]["parameters"]["model"] == str(tmp_path / "tiny" / "model.pt")
    assert summary["parameters"]["interactive"] is False
    nb = nbformat.read(tmp_path / "run" / "notebooks" / "08_learned.ipynb", as_version=4)
    assert not _errors(nb) and _widget_views(nb) == 0
    assert _mime_count(nb, "image/png") == 3  # kernels, learning curves, the song's spectrograms
    assert _ab_players(nb) == 1 and _audio_count(nb) == 3  # mixture, vocals, accompaniment
    html = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))
    text = "".join(o.get("text", "") for o in _outputs(nb))
    assert "BLIND (it reads the mixture only)" in html and "ORACLE" in html
    assert "learned - best BLIND baseline (" in html and "vocals (BLIND)" in html
    assert "no stems, listening only" in html and "real-time factor" in text
    d = tmp_path / "run" / "08_learned"
    for f in ("kernels.png", "training.png", "separation_blind.png"):
        assert (d / f).read_bytes()[:4] == b"\x89PNG", f
    held = json.loads((d / "heldout.json").read_text())
    assert held["n"] == 1 and held["seeds"] == [0] and len(held["rows"]) == 2 * 7
    assert [m["material"] for m in held["margins"]] == ["synthetic", "sung_speech"]
    assert "BLIND learned vs BLIND classical vs ORACLE" in (d / "heldout.md").read_text()
    out = json.loads((d / "summary.json").read_text())
    assert out["kind"] == "blind" and out["song"]["stems"] is False and out["song"]["seconds"] == 3.0
    assert out["song"]["real_time_factor"] > 0 and out["summary"]["steps"].startswith("4 (of 4")


def test_08_bad_parameters_stop_the_runner_before_anything_runs(tmp_path, capsys):
    for extra, message in (
        (["-p", "model", str(tmp_path / "missing.pt")], "does not exist"),
        (["-p", "heldout_n", "0"], "heldout_n=0 is invalid"),
        (["-p", "heldout_seeds", "0,0"], "allowed distinct integers"),
    ):
        assert cli.main(["notebooks", "--only", "08", *extra, "--out", str(tmp_path / "r")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "r" / "notebooks" / "run.json").exists()
