# Two commands: `make run` serves the portal, `make test` checks it. Both start from nothing
# but Python: they create .venv and install the pinned versions of requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run serve test lint unit browser lock messages bench-reminders bench-search

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# `PORT=8001 make run` serves on another port; links in e-mails, SMS, .ics files and the inbox
# point at this server (SITE_URL) unless SITE_URL is given.
PORT ?= 8000
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:$(PORT) (web and Celery worker with beat; Ctrl-C stops all)"
	PORT=$(PORT) SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" PATH="$(CURDIR)/$(BIN):$$PATH" \
	  $(BIN)/honcho start -f Procfile

# The production topology on this machine (docs/operations.md): gunicorn with uvicorn workers
# (HTTP and WebSockets, DEBUG off) and a Celery worker with beat, on PostgreSQL and Redis.
# Override DATABASE_URL / REDIS_URL / WEB_CONCURRENCY; the keys below are for local use only.
SERVE_ENV = \
  DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal}" \
  REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" \
  SECRET_KEY="$${SECRET_KEY:-local-serve-only-not-a-secret-0123456789abcdefghijklmnop}" \
  RECORDS_ENCRYPTION_KEYS="$${RECORDS_ENCRYPTION_KEYS:-bG9jYWwtc2VydmUtb25seS1ub3QtYS1zZWNyZXQtMDA=}" \
  RECORDS_HASH_KEY="$${RECORDS_HASH_KEY:-local-serve-only-not-a-secret}" \
  ALLOWED_HOSTS="$${ALLOWED_HOSTS:-localhost,127.0.0.1}" \
  SECURE_SSL_REDIRECT="$${SECURE_SSL_REDIRECT:-false}" \
  WEB_BIND="$${WEB_BIND:-127.0.0.1:8000}" \
  PATH="$(CURDIR)/$(BIN):$$PATH"

serve: install
	$(SERVE_ENV) $(BIN)/python manage.py migrate --noinput
	$(SERVE_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(SERVE_ENV) $(BIN)/python manage.py seed_demo
	@echo "Serving the production topology on http://127.0.0.1:8000 (Ctrl-C stops all)"
	$(SERVE_ENV) $(BIN)/honcho start -f Procfile.serve

test: install lint unit browser

# Style, models that match their migrations (with the test settings: production settings refuse
# to start without a SECRET_KEY), and the layers contract of pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=tests.settings
	$(BIN)/lint-imports

# Unit tests on both cores; then the tests that start servers, browsers or cut services, alone.
unit: install
	$(BIN)/pytest -n 2 --dist loadgroup --ignore=tests/e2e --ignore=tests/integration

browser: install
	$(BIN)/pytest tests/e2e tests/integration; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no browser or integration tests collected"; exit 0; fi; \
	  exit $$status

# 100,000 reminders (e-mail, SMS and inbox rows) written and delivered by 3 worker processes,
# beside the same run's no-op publish baseline (docs/scaling.md). It works in a scratch database
# test_<name> it creates and drops; needs PostgreSQL (DATABASE_URL) and redis-server on PATH.
bench-reminders: install
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_bench}" \
	  $(BIN)/python bench/reminders.py --appointments $${APPOINTMENTS:-100000} --workers $${WORKERS:-3}

# Search at 100,000 and 1,000,000 slots (docs/scaling.md): seeds a scratch database next to
# DATABASE_URL's (created and dropped), prints p50/p95 per query, the baseline and the plans.
bench-search: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	  $(BIN)/python bench/slot_search.py

# Re-pin every dependency to the newest versions pyproject.toml allows.
lock:
	rm -rf /tmp/portal-lock && $(PYTHON) -m venv /tmp/portal-lock
	/tmp/portal-lock/bin/pip install --quiet --upgrade pip
	/tmp/portal-lock/bin/pip install --quiet -e ".[dev]"
	( echo "# Exact versions for every install (pip constraints). Regenerate with: make lock"; \
	  /tmp/portal-lock/bin/pip freeze --exclude-editable ) > requirements.lock

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv
