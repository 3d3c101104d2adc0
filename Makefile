# The two entry points a newcomer needs: `make app` and `make test`.
# Both create .venv if it is missing and install what they need first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU machines take the CPU wheel of torch this way; on a GPU machine override, e.g. TORCH_SPEC="torch".
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= app,notebooks,train,dev
STAMP := $(VENV)/.installed

.PHONY: app test install strip-notebooks clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[$(EXTRAS)]"
	touch $@

install: $(STAMP)

app: $(STAMP)
	$(VENV)/bin/streamlit run app/main.py

test: $(STAMP)
	$(PY) -m pytest

strip-notebooks: $(STAMP)
	$(PY) scripts/strip_notebooks.py

clean-venv:
	rm -rf $(VENV)
