# The two entry points a newcomer needs: `make app` and `make test` (which runs `make lint` first).
# Both create .venv if it is missing and install what they need first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU machines take the CPU wheel of torch this way; on a GPU machine override, e.g. TORCH_SPEC="torch".
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= app,notebooks,train,dev,scale
STAMP := $(VENV)/.installed

.PHONY: app test lint install strip-notebooks clean-venv browser screenshots

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[$(EXTRAS)]"
	touch $@

install: $(STAMP)

app: $(STAMP)
	$(VENV)/bin/streamlit run app/main.py

# The suite runs in TEST_WORKERS processes (pytest-xdist; tests/conftest.py groups the ones that must share a worker).
# Its tests wait on subprocesses, servers and kernels as much as they compute: on a 2-core machine three workers
# took 820 s where one process took 1,436-1,590 s. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3
test: lint browser
	$(PY) -m pytest -n $(TEST_WORKERS)

# Correctness rules only (pyproject.toml's [tool.ruff]): never reformats, never reorders imports.
lint: $(STAMP)
	$(PY) -m ruff check .

# The browser test drives Debian's chromium (never a downloaded one): installed here when missing, if we can.
browser:
	@command -v chromium >/dev/null || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null \
	      || echo "could not install chromium: the browser test will be skipped"; \
	  else echo "no chromium (install Debian's chromium package as root): the browser test will be skipped"; fi; }

# README screenshots of every page (docs/screenshots/*.png), from a fresh fixture run, through the browser test's helper.
screenshots: $(STAMP) browser
	$(PY) tests/e2e/test_app_browser.py docs/screenshots

strip-notebooks: $(STAMP)
	$(PY) scripts/strip_notebooks.py

clean-venv:
	rm -rf $(VENV)
