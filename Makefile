# Switchboard — the two commands a newcomer needs are `make run` and `make test`.
# Every target installs what is missing into ./.venv first (Python 3.11+ and network
# access to PyPI are the only prerequisites).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.switchboard-installed
PACKAGES := schemas runtime devtools services/workitem services/router services/callback services/desktop
MANIFESTS := $(foreach p,$(PACKAGES),$(p)/pyproject.toml) requirements-dev.txt constraints.txt

.DEFAULT_GOAL := help
.PHONY: help install run test lint format unit integration asyncapi bench clean

help:
	@echo "make run    start Kafka+Redis (embedded unless KAFKA_BOOTSTRAP_SERVERS/REDIS_URL are set) and the four services"
	@echo "make test   lint (ruff, mypy strict) and the whole test suite against real brokers"
	@echo "make lint   ruff + mypy only;  make format   apply ruff's formatting"
	@echo "make bench  benchmarks with baselines (BENCH_FULL=1 for longer runs)"
	@echo "make asyncapi   regenerate docs/asyncapi/*.json from the schemas"

install: $(STAMP)

# A fresh project virtualenv, independent of any virtualenv that happens to be active.
$(STAMP): $(MANIFESTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	@env -u VIRTUAL_ENV $(UV) pip install --quiet --python $(PY) -c constraints.txt \
		$(foreach p,$(PACKAGES),-e $(p)) -r requirements-dev.txt
	@touch $@

run: install
	@env -u VIRTUAL_ENV $(PY) -m switchboard_devtools.devstack

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(foreach p,$(PACKAGES),$(p)/src) conftest.py bench
	@# test trees are checked one at a time: each has its own conftest module
	@for d in $(foreach p,$(PACKAGES),$(p)/tests) tests; do \
		[ -d $$d ] || continue; echo "mypy $$d"; $(VENV)/bin/mypy $$d || exit 1; done

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The whole suite (embedded Tansu + Valkey unless brokers are given), then the services'
# and the runtime's broker-facing tests again on Debian's Redis 7 (redis-server): skipped
# with a reason where it is missing, a failure under CI.
REDIS_LEG := runtime/tests services
test: lint
	env -u VIRTUAL_ENV $(PY) -m pytest
	@if command -v redis-server >/dev/null; then \
		echo "== the Redis 7 leg: $(REDIS_LEG), integration tests, on redis-server"; \
		env -u VIRTUAL_ENV SWITCHBOARD_REDIS_SERVER=redis $(PY) -m pytest -m integration $(REDIS_LEG); \
	elif [ -n "$$CI" ]; then \
		echo "redis-server is missing (apt-get install redis-server); CI runs the Redis 7 leg"; exit 1; \
	else \
		echo "== the Redis 7 leg did not run: redis-server is missing (apt-get install redis-server)"; \
	fi

unit: install
	$(PY) -m pytest -m "not integration"

integration: install
	$(PY) -m pytest -m integration

bench: install
	env -u VIRTUAL_ENV $(PY) -m bench.run

asyncapi: install
	$(PY) -m switchboard_schemas.asyncapi docs/asyncapi

clean:
	rm -rf $(VENV) .run .mypy_cache .ruff_cache .pytest_cache
