# make train: set up .venv and run the main job (quickstart); make test: set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: setup train test lint browser clean bundled-model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

train: $(STAMP)
	$(PY) -m plotlstm.train $(ARGS)

# The recipe of the bundled designs.pt (docs/model-card.md): draw general_designs, train, calibrate, write it.
BUNDLED_RUN ?= logs/train/bundled
bundled-model: $(STAMP)
	$(PY) -m plotlstm.train experiment=general_designs hydra.run.dir=$(BUNDLED_RUN)
	$(PY) benchmarks/make_bundled_model.py --ckpt $(BUNDLED_RUN) --data data/general_designs/train --val-fraction 0.05 --seed 42 --out plotlstm/weights/designs.pt

# Headless Chromium for the service's browser test (Debian's package; needs root or sudo).
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser
	$(PY) -m pytest -q $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) logs outputs .pytest_cache
