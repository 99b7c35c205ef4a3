# The two commands of the README: `make demo` and `make test`. Both build .venv first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first, pinned: with no torch installed, sentence-transformers would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: install demo test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/framing run configs/example.yaml

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) outputs/example
