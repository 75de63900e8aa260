# The README's commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install test lint demo demo-incremental demo-cdnow clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,dev]'
	touch $@

lint: install
	$(BIN)/ruff check compiler tests
	$(BIN)/mypy

test: install lint
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache .dbt target data segwise.duckdb cdnow.duckdb demos/cdnow/target demos/cdnow/dbt_packages
