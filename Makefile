# Quick start:  make run   (set up + run the embedded demo)
#               make test  (set up + run the test suite)
# GPU machines: make setup TORCH_SPEC="torch==2.13.0 --index-url <your CUDA wheel index>" or any
# CUDA torch; the default pins the CPU wheel.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
FAIRSEQ_VENV := .venv-fairseq
TORCH_SPEC ?= torch==2.13.0
CONFIG ?= config.yaml
PROFILE ?= profiles/local
SNAKEMAKE_ARGS ?=

.PHONY: setup setup-main setup-fairseq run shared test test-slow test-slurm lint dry-run report clean help

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

setup: setup-main setup-fairseq  ## install everything (main venv + isolated fairseq venv)

setup-main: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet $(TORCH_SPEC)
	$(VENV)/bin/pip install --quiet -e '.[dev,slurm,e5]'
	touch $@

setup-fairseq: $(FAIRSEQ_VENV)/.installed

$(FAIRSEQ_VENV)/.installed: scripts/setup-fairseq
	PYTHON=$(PYTHON) TORCH_SPEC="$(TORCH_SPEC)" bash scripts/setup-fairseq $(FAIRSEQ_VENV)
	touch $@

# Every config goes through `lemflow check-config` first: YAML errors with file, line and column
# (Snakemake's own message names neither), every schema violation, every input path.
run: setup  ## set up and run the workflow on the embedded demo (CONFIG=..., PROFILE=...)
	$(VENV)/bin/lemflow check-config $(CONFIG)
	$(VENV)/bin/snakemake --profile $(PROFILE) --configfile $(CONFIG) $(SNAKEMAKE_ARGS)

shared: setup  ## the real-data run on ../shared (config/shared.yaml; sized for 2 CPU cores, see docs/results/)
	$(VENV)/bin/lemflow check-config config/shared.yaml
	$(VENV)/bin/snakemake --profile $(PROFILE) --configfile config/shared.yaml --keep-going $(SNAKEMAKE_ARGS)

dry-run: setup-main  ## show what would run
	$(VENV)/bin/lemflow check-config $(CONFIG)
	$(VENV)/bin/snakemake --profile $(PROFILE) --configfile $(CONFIG) -n

report: setup-main  ## HTML report of the last run (snakemake --report)
	$(VENV)/bin/snakemake --profile $(PROFILE) --configfile $(CONFIG) --report results/report.html

test: setup  ## set up and run the default test suite
	$(VENV)/bin/pytest -q

test-slow: setup  ## the slow tests too (not SLURM)
	$(VENV)/bin/pytest -q -m "not slurm"

test-slurm: setup-main  ## opt-in: the workflow on a SLURM cluster (starts a one-node one as root if none answers)
	$(VENV)/bin/pytest -m slurm tests/slurm -s

lint: setup-main  ## snakemake --lint
	$(VENV)/bin/snakemake --lint

clean:  ## remove results of the demo run
	rm -rf results/demo .snakemake
