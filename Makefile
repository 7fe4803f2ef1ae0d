# make train COMP=dogs [DATA=dir] [ARGS="--trials 50"] · make submit COMP=dogs · make demo · make test · make bench
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COMP ?= dogs
DATA ?=
ARGS ?=
MSG ?=
DATA_FLAG := $(if $(DATA),--data $(DATA),)

.PHONY: train submit data demo test test-all fuzz bench list clean-venv

# Create the environment on first use; reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

train: $(STAMP)
	$(BIN)/comp train $(COMP) $(DATA_FLAG) $(ARGS)

submit: $(STAMP)
	$(BIN)/comp submit $(COMP) $(if $(MSG),-m "$(MSG)",) $(ARGS)

data: $(STAMP)
	$(BIN)/comp data $(COMP) $(ARGS)

list: $(STAMP)
	$(BIN)/comp list

demo: $(STAMP)
	rm -rf demo
	$(BIN)/comp demo --train --out demo

# Fast tests; `make test-all` also runs the slow end-to-end ones (CI runs those).
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

# The fault fuzzers, with the long Hypothesis profile of the CLI property test (CI runs a short one).
fuzz: $(STAMP)
	COMP_FUZZ_PROFILE=fuzz $(BIN)/python -m pytest tests/faults/test_fuzz.py tests/faults/test_cli_properties.py -q

bench: $(STAMP)
	mkdir -p bench
	$(BIN)/comp bench --out bench/results.json

clean-venv:
	rm -rf $(VENV)
