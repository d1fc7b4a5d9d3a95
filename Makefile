# cs231n workbook. Every target sets up .venv when needed (fast when already in place).
#   make run     execute every notebook (embedded data unless CS231N_DATA is set; two side by side
#                without the full data, one at a time with it), print results
#   make test    lint, unit tests (+ the student kit built and graded), then every notebook under nbval
#   make bench   the benchmarks of bench/, rewriting BENCHMARKS.md
# Options: make run QUICK=1 ASSIGNMENT=2 NOTEBOOK=svm INPLACE=1 JOBS=1

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYX    := $(wildcard cs231n/im2col_cython.pyx)
EXT    := $(if $(PYX),build/.im2col_cython.stamp,)
NOTEBOOK_DIRS := $(wildcard assignment1/*.ipynb assignment2/*.ipynb assignment3/*.ipynb)

export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

RUN_ARGS := $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT),) $(if $(INPLACE),--inplace,) $(if $(JOBS),--jobs $(JOBS),) $(NOTEBOOK)
QUICK_ENV := $(if $(QUICK),CS231N_QUICK=1,)

.PHONY: setup run test lint unit kit-check nbval lab data bench bench-quick mini starter grade clean

setup: $(STAMP) $(EXT)

$(STAMP): requirements.txt pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

# The optional Cython extension, rebuilt when its source changes.
build/.im2col_cython.stamp: $(PYX) setup.py $(STAMP)
	@mkdir -p build
	$(PY) setup.py --quiet build_ext --inplace
	@touch $@

run: setup
	$(QUICK_ENV) $(PY) -m workbook.run_notebooks $(RUN_ARGS)

# The unit tests run once, inside kit-check (their report also grades the solutions).
test: lint kit-check nbval

# Lint: the rule set and its reasons are in pyproject.toml; zero findings is the rule.
lint: setup
	$(PY) -m ruff check .

unit: setup
	$(PY) -m pytest -q tests

# The unit tests with a JUnit report, then the instructor tooling checked end to end: the report
# graded (the solutions: every task in full), a fresh student kit built and graded (every task 0).
kit-check: setup
	@mkdir -p build && rm -f build/unit-report.xml
	$(PY) -m pytest -q tests --junitxml=build/unit-report.xml -o junit_family=xunit1; unit=$$?; \
	$(PY) -m workbook.grade --kit-check build/unit-report.xml && exit $$unit

# Notebooks under nbval: quick mode on the embedded bundle, whatever CS231N_DATA says.
nbval: setup
ifneq ($(NOTEBOOK_DIRS),)
	env -u CS231N_DATA CS231N_QUICK=1 $(PY) -m pytest -q -p no:cacheprovider --nbval-lax $(NOTEBOOK_DIRS)
else
	@echo "no notebooks yet: nothing for nbval"
endif

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=.

data:
	bash datasets/get_datasets.sh

# Every benchmark of bench/ in one process, then BENCHMARKS.md rewritten (a few minutes; run it on
# a quiet machine). bench-quick: the same on tiny shapes, printed only (the unit tests run it too).
bench: setup
	$(PY) bench/run_all.py

bench-quick: setup
	$(PY) bench/run_all.py --quick

# Rebuild the embedded bundle from the full data (CS231N_DATA must point at it).
mini: setup
	$(PY) datasets/build_mini.py

# The student kit (STARTER=path FORCE=1 to choose the folder and replace one that is there).
STARTER ?= build/starter
starter: setup
	$(PY) -m workbook.starter $(STARTER) $(if $(FORCE),--force,)

# Grade a student's copy with our tests: make grade DIR=path/to/copy
grade: setup
	@test -n "$(DIR)" || { echo "usage: make grade DIR=path/to/a/student/copy"; exit 2; }
	$(PY) -m workbook.grade $(DIR)

clean:
	rm -rf build cs231n/*.so cs231n/im2col_cython.c
