# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test e2e lint translations serve seed clean-venv

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

translations: $(STAMP)
	@$(BIN)/python -m needs_tracker.i18n compile

run: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo ""
	@echo "  needs-tracker is running at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (username / password), also in instance/demo_logins.txt:"
	@sed 's/^/    /' instance/demo_logins.txt 2>/dev/null || echo "    (none recorded; use 'flask --app wsgi user create')"
	@echo ""
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: $(STAMP) translations
	$(BIN)/ruff check .
	@test -x /usr/bin/chromium || echo "NOTE: /usr/bin/chromium not found: the browser (e2e) tests will be SKIPPED. Install it with: apt-get install chromium"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: $(STAMP) translations
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean-venv:
	rm -rf $(VENV)
