# conv2dsep: every target sets up .venv (python3 -m venv) and installs the project when missing
# (editable, its bytecode compiled once).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= outputs

.PHONY: all install demo test lint bench lab e2e model heldout clean help

help:
	@echo "make demo   - set up .venv, run the main job on the bundled demo song (writes $(OUT)/)"
	@echo "make test   - set up .venv, check layers/lint/format/types (make lint), run the tests"
	@echo "make bench  - speed and memory benchmarks (benchmarks/)"
	@echo "make lab    - JupyterLab on notebooks/ with the project's kernel and widgets"
	@echo "make e2e    - real-browser check of the slice explorer (Debian chromium + Playwright)"
	@echo "make model  - train the shipped BLIND model on the built-in sources (<= 30 min on 2 cores)"
	@echo "make heldout - the shipped model on held-out material beside the blind baselines and the oracles"
	@echo "make clean  - remove .venv and outputs/"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m compileall -q conv2dsep_lib
	touch $(STAMP)

install: $(STAMP)

# make demo - the demo songs, the main job (best --slices 8: the seed's folder name, listed in
# $(OUT)/index.md), the smoke-test sweep (sweeps/smoke.yaml: 2 songs, k = 1..2, 20 iterations) into
# $(OUT)/sweep_smoke -- not the real sweep's outputs/sweep_demo -- and the notebooks 00..08.
demo: $(STAMP)
	$(VENV)/bin/conv2dsep prepare --demo
	$(VENV)/bin/conv2dsep best --slices 8 --out $(OUT)
	$(VENV)/bin/conv2dsep sweep --tracks 'data/demo/rtg/100-window/*' --track demo_song_0 --track demo_song_1 \
	  --grid sweeps/smoke.yaml --no-bss --out $(OUT)/sweep_smoke
	$(VENV)/bin/conv2dsep notebooks --out $(OUT)/workbook -p results_from $(OUT) -p sweep_dir $(OUT)/sweep_smoke

# make test = the developer habits (layers, lint, format, types), then the tests.
test: lint $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy conv2dsep_lib/method conv2dsep_lib/scoring

# The package's bytecode is compiled first (an editable install does not, and where
# PYTHONDONTWRITEBYTECODE is set -- as on the machines these numbers come from -- every run would
# compile its ~120 modules again, ~0.6 s; a normal Python writes it on a module's first import).
bench: $(STAMP)
	$(PY) -m compileall -q conv2dsep_lib
	$(PY) benchmarks/bench_best.py
	$(PY) benchmarks/bench_scale.py

# make lab - JupyterLab on notebooks/ (project root as the file root) with the project's kernel:
# "Python 3 (ipykernel)" is .venv's interpreter (jupyter prefers the venv's kernel spec, whose
# "python" is this server's python), and the ipywidgets 8 front end (jupyterlab_widgets) is checked.
# LAB_ARGS="--port 8899 --ip 0.0.0.0" etc. are passed through.
LAB_ARGS ?=
lab: $(STAMP)
	@$(VENV)/bin/jupyter labextension list 2>&1 | grep -q "@jupyter-widgets/jupyterlab-manager v5.*enabled" \
	  || { echo "jupyterlab_widgets (the ipywidgets 8 front end) is not enabled in .venv"; exit 1; }
	$(PY) -m jupyterlab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# make e2e - real-browser check (not part of make test): JupyterLab on 127.0.0.1 serving $(OUT)/e2e,
# headless Debian chromium driven by Playwright (executable_path; no browser download; the network
# is used only for apt and PyPI, when chromium or playwright is missing). Runs copies of 01, 02 and
# 05: the A/B player keeps its position across a source switch, a control of each explorer changes
# its figure. Everything (copies, runs, screenshots, logs, temporaries) is written under $(OUT)/e2e/.
e2e: $(STAMP)
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "e2e needs Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }
	@$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install --quiet -e '.[e2e]'
	$(PY) e2e/check_lab.py --out $(OUT)/e2e

# make model - the shipped blind model, trained by the project's own code on the built-in sources
# (synthetic songs, CC voices sung over CC instrumentals; data/cc-audio). Resumable: run it again
# after an interruption. The weights, the training record and its curves are copied into the
# package (conv2dsep_lib/learned/shipped/), the only checkpoint kept in git.
MODEL_RUN ?= $(OUT)/model
MODEL_ARGS ?= --steps 1300 --batch-size 8 --excerpt-seconds 3 --examples 160 --validation 12 --seed 0
SHIPPED := conv2dsep_lib/learned/shipped
model: $(STAMP)
	$(VENV)/bin/conv2dsep train --out $(MODEL_RUN) $(MODEL_ARGS)
	mkdir -p $(SHIPPED)
	cp $(MODEL_RUN)/model.pt $(SHIPPED)/vocals.pt
	cp $(MODEL_RUN)/training.json $(SHIPPED)/vocals.training.json
	cp $(MODEL_RUN)/training.png $(SHIPPED)/vocals.training.png

# make heldout - the held-out table (benchmarks/report_learned.py): BLIND learned vs the blind
# baselines vs the oracles, with the spread over draws, and the real-time factor
heldout: $(STAMP)
	$(PY) benchmarks/report_learned.py

clean:
	rm -rf $(VENV) $(OUT)
