# The README's commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install engines orchestrators test test-fast test-dbt-oldest test-sqlglotc lint demo demo-incremental demo-deliver demo-cdnow bench clean

install: $(VENV)/.installed

# The demo needs segwise alone (DuckDB and dbt-duckdb are its core dependencies); the tests
# need every adapter and the dev tools.
$(VENV)/.demo-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[report]'
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,dev]'
	touch $@ $(VENV)/.demo-installed

# Local stand-ins for Snowflake and BigQuery, each in a virtualenv of its own because they pin
# their own sqlglot and duckdb. The tests start and stop the servers themselves.
ENGINES := .engines
FAKESNOW := $(ENGINES)/fakesnow/bin/fakesnow
BQEMULATOR := $(ENGINES)/bqemulator/bin/bqemulator
SPATIAL := $(ENGINES)/bqemulator/home/.duckdb/extensions/v1.5.5/linux_amd64/spatial.duckdb_extension

engines: $(FAKESNOW) $(SPATIAL)

$(FAKESNOW):
	$(PYTHON) -m venv $(ENGINES)/fakesnow
	$(ENGINES)/fakesnow/bin/pip install -q 'fakesnow[server]==0.12.1' 'snowflake-connector-python>=3.12,<5'

# bqemulator loads DuckDB's spatial extension; the PyPI wheel of it replaces a web download.
$(SPATIAL):
	$(PYTHON) -m venv $(ENGINES)/bqemulator
	$(ENGINES)/bqemulator/bin/pip install -q 'bqemulator==1.4.0' 'duckdb==1.5.5' 'duckdb-extension-spatial==1.5.5' numpy
	mkdir -p $(dir $@)
	ln -sf $$(ls $(CURDIR)/$(ENGINES)/bqemulator/lib/python*/site-packages/duckdb_extension_spatial/extensions/v1.5.5/spatial.duckdb_extension) $@

# The orchestrators of docs/orchestration.md, each in a virtualenv of its own, without segwise:
# the recipes call segwise's commands, as in a deployment that keeps them apart (Airflow pins
# a world of its own). The tests drive them as subprocesses.
ORCHESTRATORS := .orchestrators
DAGSTER_PY := $(ORCHESTRATORS)/dagster/bin/python
AIRFLOW_PY := $(ORCHESTRATORS)/airflow/bin/python

orchestrators: $(DAGSTER_PY) $(AIRFLOW_PY)

$(DAGSTER_PY):
	$(PYTHON) -m venv $(ORCHESTRATORS)/dagster
	$(ORCHESTRATORS)/dagster/bin/pip install -q 'dagster==1.13.27' 'dagster-dbt==0.29.27' python-dateutil

$(AIRFLOW_PY):
	$(PYTHON) -m venv $(ORCHESTRATORS)/airflow
	$(ORCHESTRATORS)/airflow/bin/pip install -q 'apache-airflow==3.3.2' 'apache-airflow-providers-standard==1.21.0'

lint: install
	$(BIN)/ruff check compiler demos tests bench orchestration
	$(BIN)/mypy

TEST_ENV := SEGWISE_FAKESNOW=$(CURDIR)/$(FAKESNOW) SEGWISE_BQEMULATOR=$(CURDIR)/$(BQEMULATOR) \
	SEGWISE_BQEMULATOR_HOME=$(CURDIR)/$(ENGINES)/bqemulator/home \
	SEGWISE_DAGSTER_PYTHON=$(CURDIR)/$(DAGSTER_PY) SEGWISE_AIRFLOW_PYTHON=$(CURDIR)/$(AIRFLOW_PY)

test: install engines orchestrators lint
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist worksteal -q $(PYTEST_ARGS)

# The inner loop: compiler, validation, reference and DuckDB tests, no servers (about 2 min).
test-fast: install
	$(BIN)/python -m pytest -n 2 --dist worksteal -q -m "not slow and not postgres and not snowflake and not bigquery" $(PYTEST_ARGS)

# The oldest dbt this package supports (require-dbt-version), in a virtualenv of its own:
# the package, its schema tests and incremental runs on DuckDB and PostgreSQL.
OLDEST := .venv-dbt-oldest
$(OLDEST)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/pip install -q --upgrade pip
	$(OLDEST)/bin/pip install -q 'dbt-core~=1.8.0' 'dbt-duckdb~=1.8.0' 'dbt-postgres~=1.8.0' -e '.[postgres,predict]' \
	  'pytest>=8,<10' 'pytest-xdist>=3.5,<4' 'hypothesis>=6.100,<7'
	touch $@

test-dbt-oldest: $(OLDEST)/.installed
	$(OLDEST)/bin/dbt --version | head -3
	$(OLDEST)/bin/python -m pytest -n 2 -q tests/dbt_layer/test_package.py tests/dbt_layer/test_runs.py $(PYTEST_ARGS)

# segwise under sqlglotc, the compiled sqlglot that `sqlglot[c]`, `sqlglot[rs]` and dagster-dbt
# install: its classes take no Python subclasses, so there segwise lowers its own nodes before
# sqlglot's generator writes (segwise.sql.nodes). The demos' models, generated there, must equal
# the committed ones byte for byte, and the golden SQL, the differential tests and dbt runs must
# pass (DuckDB and PostgreSQL).
SQLGLOTC := .venv-sqlglotc
$(SQLGLOTC)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SQLGLOTC)
	$(SQLGLOTC)/bin/pip install -q --upgrade pip
	$(SQLGLOTC)/bin/pip install -q -e '.[postgres,predict]' 'sqlglot[c]' \
	  'pytest>=8,<10' 'pytest-xdist>=3.5,<4' 'hypothesis>=6.100,<7'
	touch $@

test-sqlglotc: $(SQLGLOTC)/.installed
	$(SQLGLOTC)/bin/python -c "from segwise.sql.dialects import subclasses_work as s; assert not s(), 'no sqlglotc'"
	cd demos/ecommerce && $(CURDIR)/$(SQLGLOTC)/bin/segwise generate --check
	cd demos/cdnow && $(CURDIR)/$(SQLGLOTC)/bin/segwise generate --check
	HYPOTHESIS_PROFILE=dev $(SQLGLOTC)/bin/python -m pytest -n 2 -q -m "not snowflake and not bigquery" \
	  tests/test_golden_sql.py tests/differential tests/test_spec_boundaries.py tests/test_hostile_values.py \
	  tests/test_backfill.py tests/dbt_layer/test_runs.py -k "not killed_run" $(PYTEST_ARGS)

# The demo (demos/ecommerce): e-commerce and in-app survey data (10,000 users, ~620,000
# events), all 27 segments built by `segwise build` on DuckDB twice, a week before T and at T,
# so that history and changes have rows; then each segment's size and a few members.
DEMO := demos/ecommerce
DEMO_AS_OF ?= 2025-06-01T00:00:00
DEMO_WEEK_BEFORE ?= 2025-05-25T00:00:00
DEMO_ENV := SEGWISE_DUCKDB_PATH=$(CURDIR)/segwise.duckdb SEGWISE_DEMO_DATA=$(CURDIR)/data PYTHONPATH=$(CURDIR)/demos
SEGWISE := $(CURDIR)/$(BIN)/segwise
DBT := $(CURDIR)/$(BIN)/dbt

demo: $(VENV)/.demo-installed
	rm -rf data segwise.duckdb
	$(DEMO_ENV) $(BIN)/python -m segwise_demo.generate --out data --as-of $(DEMO_AS_OF)
	cd $(DEMO) && $(DEMO_ENV) $(DBT) deps --quiet
	cd $(DEMO) && $(DEMO_ENV) $(SEGWISE) build --vars '{segwise_as_of: "$(DEMO_WEEK_BEFORE)"}'
	cd $(DEMO) && $(DEMO_ENV) $(SEGWISE) build --vars '{segwise_as_of: "$(DEMO_AS_OF)"}'
	$(DEMO_ENV) $(BIN)/python -m segwise_demo.summary --database segwise.duckdb --project $(DEMO)
	cd $(DEMO) && $(DEMO_ENV) $(SEGWISE) report --out $(CURDIR)/report

# After `make demo`: load HOURS more hours of events and run again, incrementally.
HOURS ?= 6
demo-incremental: $(VENV)/.demo-installed
	$(DEMO_ENV) $(BIN)/python -m segwise_demo.generate --out data --append-hours $(HOURS)
	cd $(DEMO) && $(DEMO_ENV) $(SEGWISE) build \
	  --vars "{segwise_as_of: \"$$($(DEMO_ENV) $(CURDIR)/$(BIN)/python -m segwise_demo.next_as_of --data $(CURDIR)/data)\"}"
	$(DEMO_ENV) $(BIN)/python -m segwise_demo.summary --database segwise.duckdb --project $(DEMO)
	cd $(DEMO) && $(DEMO_ENV) $(SEGWISE) report --out $(CURDIR)/report

# After `make demo`: deliver the demo's segment changes (demos/ecommerce/deliveries.yml) to a local
# webhook receiver that fails some requests on purpose, then check each change arrived once.
DELIVER_ARGS ?=
demo-deliver: $(VENV)/.demo-installed
	[ -f segwise.duckdb ] || $(MAKE) demo
	$(DEMO_ENV) $(BIN)/python -m segwise_demo.deliver_demo --project $(DEMO) --database segwise.duckdb $(DELIVER_ARGS)

# The second demo, on real data: CDNOW purchases (1997-1998), RFM and recency/frequency
# segments (demos/cdnow). The purchase file ships with the `demo` extra (lifetimes).
CDNOW_AS_OF ?= 1998-07-01T00:00:00
CDNOW_ENV := SEGWISE_DUCKDB_PATH=$(CURDIR)/cdnow.duckdb SEGWISE_DEMO_DATA=$(CURDIR)/data PYTHONPATH=$(CURDIR)/demos
demo-cdnow: $(VENV)/.demo-installed
	$(BIN)/pip install -q -e '.[demo,predict]'
	$(CDNOW_ENV) $(BIN)/python -m segwise_demo.cdnow --out data/cdnow
	cd demos/cdnow && $(CDNOW_ENV) $(DBT) deps --quiet
	# the purchases first, then the BG/NBD fit the predict segments score with, then the segments
	cd demos/cdnow && $(CDNOW_ENV) $(DBT) build --quiet --select cdnow_users cdnow_events
	cd demos/cdnow && $(CDNOW_ENV) $(SEGWISE) fit --as-of $(CDNOW_AS_OF)
	cd demos/cdnow && $(CDNOW_ENV) $(SEGWISE) build --vars '{segwise_as_of: "$(CDNOW_AS_OF)"}'
	$(CDNOW_ENV) $(BIN)/python -m segwise_demo.summary --database cdnow.duckdb --project demos/cdnow

# The benchmark (BENCHMARKS.md): 50 segments on generated data at EVENTS/10, 3*EVENTS/10 and
# EVENTS events, one run; prints the table and writes bench/results.json.
EVENTS ?= 10000000
bench: install
	BENCH_COMMAND="make bench EVENTS=$(EVENTS)" $(BIN)/python bench/run.py \
	  --events $$(( $(EVENTS) / 10 )) $$(( $(EVENTS) * 3 / 10 )) $(EVENTS) --out bench/results.json

clean:
	rm -rf $(VENV) $(OLDEST) $(SQLGLOTC) $(ENGINES) $(ORCHESTRATORS) .pytest_cache .hypothesis .mypy_cache .ruff_cache target data report segwise.duckdb cdnow.duckdb demos/*/target demos/*/dbt_packages demos/*/logs bench/work
