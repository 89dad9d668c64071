# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

CHROMIUM ?= /usr/bin/chromium

.PHONY: run test e2e lint translations lighthouse clean-venv

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
	$(FLASK) match embed
	@echo ""
	@echo "  needs-tracker is running at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (username / password), also in instance/demo_logins.txt:"
	@sed 's/^/    /' instance/demo_logins.txt 2>/dev/null || echo "    (none recorded; use 'flask --app wsgi user create')"
	@echo ""
	@# WEB_CONCURRENCY tells check-deploy how many workers share the login throttle; its
	@# counters live in instance/ratelimit.sqlite (every worker's), or in Redis when REDIS_URL is set.
	WEB_CONCURRENCY=$(WORKERS) $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: $(STAMP) translations
	$(BIN)/ruff check .
	@test -x $(CHROMIUM) || echo "NOTE: $(CHROMIUM) not found: the browser (e2e) tests will be SKIPPED. Install it with: apt-get install chromium"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Asked for by name, the browser tests must run: no Chromium is an error, not a skip.
e2e: $(STAMP) translations
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) not found: apt-get install chromium"; exit 1; }
	REQUIRE_E2E=1 $(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

# Lighthouse scores (npm package, Debian's Chromium) of the login, visit form and dashboard.
lighthouse: $(STAMP) translations
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) not found: apt-get install chromium"; exit 1; }
	npm ci --silent --prefix tools/lighthouse
	CHROME_PATH=$(CHROMIUM) $(BIN)/python benchmarks/lighthouse.py

# The same two checks as .pre-commit-config.yaml's hooks (tests/test_lint_config.py keeps
# them alike); called directly so that lint needs neither pre-commit nor the network.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean-venv:
	rm -rf $(VENV)
