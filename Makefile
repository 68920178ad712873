# gradviz: set-up, serve, test, bench and wheel. Run as root on a fresh Debian
# machine: `make serve` or `make test` installs what is missing first.
#   make serve ARGS="--port 5001 --no-browser"   extra arguments for `gradviz serve`
#   make test  PYTEST_ARGS="-k trace -x"         extra arguments for pytest

PYTHON ?= python
ARGS ?=
PYTEST_ARGS ?=
SETUP := PYTHON=$(PYTHON) bash scripts/setup.sh
# The console script of this interpreter (no reliance on PATH or pyenv shims).
GRADVIZ = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/gradviz

export DEBIAN_FRONTEND := noninteractive

.PHONY: setup setup-system setup-python setup-node vendor serve test bench wheel clean

setup:
	$(SETUP) all

setup-system:
	$(SETUP) system

setup-python:
	$(SETUP) python

setup-node:
	$(SETUP) node

vendor:
	$(PYTHON) scripts/vendor.py

serve: setup
	$(GRADVIZ) serve $(ARGS)

test: setup
	$(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: setup-python
	$(PYTHON) -m bench --quick

# Builds from a clean build/lib so files deleted from the tree never linger in the wheel.
wheel: setup-python setup-node
	rm -rf build/lib build/bdist.*
	$(PYTHON) -m pip wheel . --no-deps --no-build-isolation -w dist

clean:
	rm -rf build dist *.egg-info gradviz/static/vendor
