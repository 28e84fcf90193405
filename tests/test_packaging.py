"""Project set-up: environment.yml lists the same dependencies as pyproject.toml."""

import re
from pathlib import Path

import yaml

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str):
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_norm(r) for r in project["dependencies"])
    wanted.update(_norm(r) for r in project["optional-dependencies"]["test"] if ";" not in r)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = dict(_norm(d) for d in env["dependencies"] if isinstance(d, str))
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    listed.update(_norm(r) for d in pip for r in d.get("pip", []) if not r.startswith("-e"))
    listed.pop("python", None)
    listed.pop("pip", None)
    assert listed == wanted


def test_console_script_and_module_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["conv2dsep"] == "conv2dsep_lib.cli:main"
    assert (ROOT / "conv2dsep_lib" / "__main__.py").is_file()


def test_ci_runs_make_test_and_gitignore_keeps_outputs_out():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    ignore = (ROOT / ".gitignore").read_text()
    for entry in (".venv/", "outputs/", "*.wav"):
        assert entry in ignore


def test_no_module_is_longer_than_600_lines():
    sizes = {
        p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
        for p in (ROOT / "conv2dsep_lib").rglob("*.py")
    }
    assert len(sizes) > 40
    assert {name: n for name, n in sizes.items() if n > 600} == {}


def test_make_test_runs_the_developer_habits():
    make = (ROOT / "Makefile").read_text()
    for command in (
        "lint-imports",
        "ruff check .",
        "ruff format --check .",
        "mypy conv2dsep_lib/method conv2dsep_lib/scoring",
    ):
        assert command in make, command
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    assert layers[0] == "cli" and layers[-1] == "core" and "method | scoring" in layers
