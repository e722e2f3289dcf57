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
.PHONY: help install run test lint format unit integration asyncapi bench chaos clean

help:
	@echo "make run    start Kafka+Redis (embedded unless KAFKA_BOOTSTRAP_SERVERS/REDIS_URL are set) and the four services"
	@echo "            (KAFKA=apache: on Apache Kafka instead of the embedded Tansu)"
	@echo "make test   lint (ruff, mypy strict) and the whole test suite against real brokers"
	@echo "make lint   ruff + mypy only;  make format   apply ruff's formatting"
	@echo "make bench  benchmarks with baselines (BENCH_FULL=1 for longer runs, KAFKA=apache on Apache Kafka)"
	@echo "make chaos  fault injection on 3 Apache Kafka brokers + Valkey (CHAOS_LONG=1, CHAOS_ONLY=9,1, CHAOS_BUDGET=0)"
	@echo "make asyncapi   regenerate docs/asyncapi/*.json from the schemas"

install: $(STAMP)

# A fresh project virtualenv, independent of any virtualenv that happens to be active.
$(STAMP): $(MANIFESTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	@env -u VIRTUAL_ENV $(UV) pip install --quiet --python $(PY) -c constraints.txt \
		$(foreach p,$(PACKAGES),-e $(p)) -r requirements-dev.txt
	@touch $@

# KAFKA=apache: Apache Kafka (from Maven Central, needs Java 17 and Maven) instead of Tansu
KAFKA_CHOICE := $(if $(KAFKA),SWITCHBOARD_KAFKA=$(KAFKA))

run: install
	@env -u VIRTUAL_ENV $(KAFKA_CHOICE) $(PY) -m switchboard_devtools.devstack

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(foreach p,$(PACKAGES),$(p)/src) conftest.py bench chaos
	@# test trees are checked one at a time: each has its own conftest module
	@for d in $(foreach p,$(PACKAGES),$(p)/tests) tests; do \
		[ -d $$d ] || continue; echo "mypy $$d"; $(VENV)/bin/mypy $$d || exit 1; done

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Leg 1: the whole suite on Apache Kafka (one KRaft node from Maven Central, idempotent
# producers, the tested setting there) and Valkey, where Java 17 and Maven are present;
# without them, on the embedded Tansu, said (under CI, a failure).
# Leg 2: the services' and the runtime's broker-facing tests again, on the embedded Tansu
# and Debian's Redis 7 (redis-server); without it on Valkey, said (under CI, a failure).
# Leg 3: the services' integration tests on a Redis Cluster of three Valkey masters
# (REDIS_CLUSTER=true) and the embedded Tansu.
# Each leg ends with the brokers it used.
BROKER_LEG := runtime/tests services
CLUSTER_LEG := services
PYTEST := env -u VIRTUAL_ENV $(PY) -m pytest
test: lint
	@if command -v java >/dev/null && command -v mvn >/dev/null; then \
		echo "== leg 1: the whole suite on Apache Kafka and Valkey"; \
		SWITCHBOARD_TEST_BROKERS=apache KAFKA_ENABLE_IDEMPOTENCE=true $(PYTEST) || exit 1; \
	elif [ -n "$$CI" ]; then \
		echo "java or mvn is missing (apt-get install openjdk-17-jre-headless maven); CI runs the suite on Apache Kafka"; exit 1; \
	else \
		echo "== leg 1: java or mvn is missing, so the whole suite runs on the embedded Tansu, not Apache Kafka"; \
		SWITCHBOARD_TEST_BROKERS=embedded $(PYTEST) || exit 1; \
	fi
	@if command -v redis-server >/dev/null; then \
		echo "== leg 2: $(BROKER_LEG), integration tests, on the embedded Tansu and Redis 7"; \
		SWITCHBOARD_TEST_BROKERS=embedded SWITCHBOARD_REDIS_SERVER=redis $(PYTEST) -m integration $(BROKER_LEG); \
	elif [ -n "$$CI" ]; then \
		echo "redis-server is missing (apt-get install redis-server); CI runs leg 2 on Redis 7"; exit 1; \
	else \
		echo "== leg 2: redis-server is missing, so $(BROKER_LEG) run on the embedded Tansu and Valkey"; \
		SWITCHBOARD_TEST_BROKERS=embedded $(PYTEST) -m integration $(BROKER_LEG); \
	fi
	@echo "== leg 3: $(CLUSTER_LEG), integration tests, on the embedded Tansu and a Redis Cluster"
	@SWITCHBOARD_TEST_BROKERS=embedded SWITCHBOARD_REDIS_SERVER=cluster $(PYTEST) -m integration $(CLUSTER_LEG)

unit: install
	$(PY) -m pytest -m "not integration"

integration: install
	$(PY) -m pytest -m integration

bench: install
	env -u VIRTUAL_ENV $(KAFKA_CHOICE) $(PY) -m bench.run

# Fault injection on three Apache Kafka brokers and Valkey, with the invariant checker:
# CHAOS_LONG=1 for the longer mode, CHAOS_ONLY=9,1 for some scenarios, CHAOS_BUDGET=0 to
# start every scenario however long the run has taken (chaos/results/)
chaos: install
	env -u VIRTUAL_ENV $(PY) -m chaos.run $(if $(CHAOS_LONG),--long) $(if $(CHAOS_ONLY),--only $(CHAOS_ONLY)) $(if $(CHAOS_BUDGET),--budget $(CHAOS_BUDGET))

asyncapi: install
	$(PY) -m switchboard_schemas.asyncapi docs/asyncapi

clean:
	rm -rf $(VENV) .run .mypy_cache .ruff_cache .pytest_cache
