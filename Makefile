# Two commands on a fresh machine: `make run` (the dashboard on its demo store) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench system-deps

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Debian's Chromium (browser tests, chart images), CJK fonts (Chinese in screenshots, charts and the PDF
# bulletin), Pango (WeasyPrint lays out the PDF with it) and poppler-utils (pdftoppm: the report tests look
# at a page of the PDF).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! /sbin/ldconfig -p | grep -q libpangoft2-1.0 || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji libpangoft2-1.0-0 poppler-utils >/dev/null; \
	fi

# The demo store is made here, on request, never by the dashboard (which shows an error page for a missing store):
# only where SAFETY_DB names no other store and data/safety.duckdb is not there yet.
run: $(VENV)/.runtime
	@if [ -z "$$SAFETY_DB" ] && [ ! -e data/safety.duckdb ]; then $(PY) -m metrics init --demo --db data/safety.duckdb; fi
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.dev system-deps
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q

bench: $(VENV)/.dev
	$(PY) bench/run.py
	$(PY) bench/upload.py
	$(PY) bench/pages.py
	$(PY) bench/reports.py
	$(PY) bench/limits.py
