"""Honest sweep titles: notebook 06 asks "is 8 slices optimal?" only when the sweep spans k = 8,
and names a smoke test as one; ``make demo``'s sweep has its own name and grid file."""

import json
from pathlib import Path

import pandas as pd
import yaml

from conv2dsep_lib.results import sweep_scope

ROOT = Path(__file__).resolve().parents[1]


def _table(tracks, ks, iterations=100, sdr=None):
    rows = [
        {
            "track": t,
            "setting": f"n{max(ks)}",
            "num_iterations": iterations,
            "method": "progressive",
            "k": k,
            "sdr": sdr,
        }
        for t in tracks
        for k in ks
    ]
    rows += [
        {
            "track": t,
            "setting": f"n{max(ks)}",
            "num_iterations": iterations,
            "method": "mixture",
            "k": None,
            "sdr": sdr,
        }
        for t in tracks
    ]
    return pd.DataFrame(rows)


def test_a_smoke_sweep_says_so_and_does_not_ask_about_8():
    scope = sweep_scope(_table(["demo_song_0", "demo_song_1"], [1, 2], iterations=20))
    assert scope.k == (1, 2) and scope.synthetic and scope.smoke and not scope.spans(8)
    assert scope.description == (
        "k = 1..2 on 2 synthetic demo tracks, 20 iterations (the seed's: 100), SI-SDR only (smoke test)"
    )
    title = scope.n_slices_title
    assert "Is 8 slices optimal?" not in title and "cannot say whether 8 slices is optimal" in title


def test_a_sweep_spanning_8_on_enough_tracks_asks_the_seeds_question():
    scope = sweep_scope(_table([f"song{i}" for i in range(5)], list(range(1, 19)), sdr=3.0))
    assert scope.spans(8) and not scope.smoke and not scope.synthetic and scope.bss
    assert scope.n_slices_title.startswith("Is 8 slices optimal?")
    assert "k = 1..18 on 5 tracks" in scope.n_slices_title


def test_spanning_8_on_too_few_tracks_is_still_a_smoke_test():
    scope = sweep_scope(_table(["a", "b"], [1, 2, 4, 8, 18]))
    assert scope.spans(8) and scope.smoke
    assert "Is 8 slices optimal?" not in scope.n_slices_title and "too few" in scope.n_slices_title


def test_notebook_06_and_make_demo_use_the_smoke_sweep_not_sweep_demo():
    nb = json.loads((ROOT / "notebooks" / "06_sweep_summary.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    headings = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert 'sweep_dir: str = "outputs/sweep_smoke"' in code[0]
    assert not any("Is 8 slices optimal?" in h for h in headings)  # the title comes from the sweep's scope
    assert any("scope.n_slices_title" in c for c in code)
    make = (ROOT / "Makefile").read_text()
    demo = make[make.index("\ndemo:") : make.index("\n\n", make.index("\ndemo:"))]
    assert "sweep_smoke" in demo and "sweeps/smoke.yaml" in demo and "sweep_demo" not in demo
    grid = yaml.safe_load((ROOT / "sweeps" / "smoke.yaml").read_text())
    assert grid == {"n_slices": [1, 2], "iterations": [20]}
