# The README's commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install engines test lint demo demo-incremental demo-cdnow bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,dev]'
	touch $@

# Local stand-ins for Snowflake and BigQuery, each in a virtualenv of its own because they pin
# their own sqlglot and duckdb (ENGINES.md). The tests start and stop the servers themselves.
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

lint: install
	$(BIN)/ruff check compiler tests bench
	$(BIN)/mypy

test: install engines lint
	SEGWISE_FAKESNOW=$(CURDIR)/$(FAKESNOW) SEGWISE_BQEMULATOR=$(CURDIR)/$(BQEMULATOR) \
	SEGWISE_BQEMULATOR_HOME=$(CURDIR)/$(ENGINES)/bqemulator/home \
	$(BIN)/python -m pytest -n 2 --dist worksteal -q $(PYTEST_ARGS)

# The demo: e-commerce and in-app survey data (10,000 users, ~620,000 events), every segment
# of segments/ built by `dbt build` on DuckDB, then each segment's size and a few members.
DEMO_AS_OF ?= 2025-06-01T00:00:00
export DBT_PROFILES_DIR := $(CURDIR)/.dbt
export SEGWISE_DUCKDB_PATH := $(CURDIR)/segwise.duckdb
export SEGWISE_DEMO_DATA := $(CURDIR)/data

.dbt/profiles.yml: profiles.example.yml
	mkdir -p .dbt && cp profiles.example.yml $@

demo: install .dbt/profiles.yml
	rm -rf data segwise.duckdb
	$(BIN)/python -m segwise.demo.generate --out data --as-of $(DEMO_AS_OF)
	$(BIN)/segwise validate
	$(BIN)/segwise generate
	$(BIN)/dbt build --vars '{segwise_as_of: "$(DEMO_AS_OF)"}'
	$(BIN)/python -m segwise.demo.summary

# After `make demo`: load HOURS more hours of events and run again, incrementally.
HOURS ?= 6
demo-incremental: install .dbt/profiles.yml
	$(BIN)/python -m segwise.demo.generate --out data --append-hours $(HOURS)
	$(BIN)/dbt build --vars "{segwise_as_of: \"$$($(BIN)/python -m segwise.demo.next_as_of --data data)\"}"
	$(BIN)/python -m segwise.demo.summary

# The second demo, on real data: CDNOW purchases (1997-1998), RFM and recency/frequency
# segments, segwise installed into a separate dbt project as a package.
CDNOW_AS_OF ?= 1998-07-01T00:00:00
demo-cdnow: install .dbt/profiles.yml
	$(BIN)/python -m segwise.demo.cdnow --out data/cdnow
	$(BIN)/segwise validate --config demos/cdnow/segwise.yml
	$(BIN)/segwise generate --config demos/cdnow/segwise.yml
	cd demos/cdnow && SEGWISE_DUCKDB_PATH=$(CURDIR)/cdnow.duckdb $(CURDIR)/$(BIN)/dbt deps && \
	  SEGWISE_DUCKDB_PATH=$(CURDIR)/cdnow.duckdb $(CURDIR)/$(BIN)/dbt build --vars '{segwise_as_of: "$(CDNOW_AS_OF)"}'
	$(BIN)/python -m segwise.demo.summary --database cdnow.duckdb

# The benchmark (BENCHMARKS.md): 50 segments on generated data at EVENTS/10, 3*EVENTS/10 and
# EVENTS events, one run; prints the table and writes bench/results.json.
EVENTS ?= 10000000
bench: install
	BENCH_COMMAND="make bench EVENTS=$(EVENTS)" $(BIN)/python bench/run.py \
	  --events $$(( $(EVENTS) / 10 )) $$(( $(EVENTS) * 3 / 10 )) $(EVENTS) --out bench/results.json

clean:
	rm -rf $(VENV) $(ENGINES) .pytest_cache .hypothesis .mypy_cache .ruff_cache .dbt target data segwise.duckdb cdnow.duckdb demos/cdnow/target demos/cdnow/dbt_packages bench/work
