# The two commands of the README: `make demo` and `make test`. Both build .venv first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first, pinned: with no torch installed, sentence-transformers would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

# The browser tests drive Debian's chromium; install it when missing (root, or through sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-extras browser demo test clean

# The demo needs the package alone; the tests also need the extras (test tools, ONNX, Ray), installed on top.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-extras: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,onnx,ray]'
	touch $@

install: $(VENV)/.installed

install-extras: $(VENV)/.installed-extras

browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(BIN)/framing run configs/example.yaml

test: install-extras browser
	$(BIN)/pytest

clean:
	rm -rf $(VENV) outputs/example
