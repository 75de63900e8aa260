"""Orchestrators live in virtualenvs of their own (`make orchestrators`): Dagster and Airflow
pin versions of their own that the main environment must not take. The tests here drive them
as subprocesses, from the main test session, which also prepares the dbt projects and runs
the webhook receiver."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_ENGINES

REPO = Path(__file__).resolve().parents[2]


def orchestrator_python(name: str, variable: str) -> str:
    """The Python of the orchestrator's virtualenv, named by VARIABLE; a skip naming the fix
    when it is missing (a failure in CI, where `.ci/run` provides it)."""
    path = os.environ.get(variable, "")
    if path and Path(path).is_file():
        return path
    reason = f"{name} needs its own virtualenv: run `make orchestrators` and set {variable} (make test does)"
    if REQUIRE_ENGINES:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dagster_python() -> str:
    return orchestrator_python("Dagster", "SEGWISE_DAGSTER_PYTHON")


@pytest.fixture(scope="session")
def airflow_python() -> str:
    return orchestrator_python("Airflow", "SEGWISE_AIRFLOW_PYTHON")
