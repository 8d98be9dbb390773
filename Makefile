# The two commands of the README: `make run` and `make test`. Everything they need is installed
# here, into .venv, from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(wildcard plugins/crm_*))
CRM_ADMIN_PASSWORD ?= admin
HOST ?= 127.0.0.1
PORT ?= 5000
export CRM_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: install run test test-suite test-browser lint bench clean

# Re-install when any distribution's metadata changes.
$(BIN)/crm: pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@echo "== Creating the virtual environment $(VENV) and installing the core and $(words $(PLUGINS)) modules"
	@echo "   (the first time takes a few minutes: pip is downloading and building packages)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]" $(addprefix -e ,$(PLUGINS))
	touch $@
	@echo "== Installed. The crm command is $(BIN)/crm (or: source $(BIN)/activate, then crm)"

install: $(BIN)/crm

run: install
	@echo "== Preparing the database in $(CRM_INSTANCE_PATH)"
	CRM_ADMIN_PASSWORD="$(CRM_ADMIN_PASSWORD)" $(BIN)/crm init
	@echo "== Installing every module in it"
	$(BIN)/crm module install --all
	@# Demo data once per database; delete instance/ to start again from scratch.
	@if [ ! -f "$(CRM_INSTANCE_PATH)/demo-loaded" ]; then \
		echo "== Writing the demo data (once; delete $(CRM_INSTANCE_PATH) to start again)"; \
		$(BIN)/crm demo && touch "$(CRM_INSTANCE_PATH)/demo-loaded"; fi
	@echo
	@echo "  CRM on http://$(HOST):$(PORT)   (make run HOST=0.0.0.0 PORT=8000 to change)"
	@echo "  Log in as: admin / $(CRM_ADMIN_PASSWORD)  (the password set when this database was created)"
	@echo "  Background jobs (imports, exports, reminders): a worker runs beside the server,"
	@echo "  its queue in $(CRM_INSTANCE_PATH)/jobs.sqlite3 (no other service needed)"
	@echo "  Demo users, password 'demo': maria, peter (representatives), georgi (manager),"
	@echo "  elena (administrator), vera (back office)"
	@echo
	@# One shell: the worker in the background, stopped with the server (Ctrl-C, or any exit).
	$(BIN)/crm worker --threads 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/crm run --host $(HOST) --port $(PORT)

# Everything: the suite on as many processes as the machine has cores (every test has its own
# database, so they run side by side), then the browser tests (tests/browser, when Chromium is at
# /usr/bin/chromium) on their own, where a loaded machine cannot make them late. PYTEST_ARGS
# narrows both; TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
test: test-suite test-browser

# Exit status 5 is pytest's "no test collected": PYTEST_ARGS chose none of that half.
test-suite: install
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-browser: install
	$(BIN)/pytest -m browser $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: install
	@for script in bench/*.py; do $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) instance
