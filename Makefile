# conv2dsep: every target sets up .venv (python3 -m venv) and installs the project when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= outputs

.PHONY: all install demo test bench lab e2e clean help

help:
	@echo "make demo   - set up .venv, run the main job on the bundled demo song (writes $(OUT)/)"
	@echo "make test   - set up .venv, run the tests"
	@echo "make bench  - speed and memory benchmarks (benchmarks/)"
	@echo "make clean  - remove .venv and outputs/"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/conv2dsep best --slices 8 --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_best.py

clean:
	rm -rf $(VENV) $(OUT)
