"""Hostile names and values reach SQL only as identifiers and literals (docs/semantics.md, 'Values').

Every value is compiled for all four dialects, read back with sqlglot's reader for each
(the literal must come back unchanged), and executed on DuckDB and PostgreSQL, where it must
match exactly the row holding that value and leave the tables intact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from segwise.sql.dialects import TARGETS
from segwise.sql.query import compile_segment
from tests.reference.strategies import TEST_CONFIG_JSON
from tests.support.engines import DuckEngine, Engine, PostgresEngine
from tests.support.projects import project_from_dicts
from tests.support.sql_eval import sql_evaluate

HOSTILE = [
    "'; drop table users; --",
    "x' OR '1'='1",
    'a"b"; DROP TABLE "events"; --',
    "/* not a comment */",
    "back\\slash\\",
    "\\'",
    "''",
    "tab\tand\nnewline",
    "日本語 ☃ zürich",
    "$$ dollar $$",
    "{{ ref('users') }} {% if %} {# c #}",
    "%_ like wildcards",
    "🙂",
]
AS_OF = datetime(2025, 6, 1)


def _rules(value: str) -> list[dict[str, Any]]:
    return [
        {"name": "by_plan", "rule": {"trait": "plan", "eq": value}},
        {"name": "by_plan_in", "rule": {"trait": "plan", "in": [value, "other"]}},
        {"name": "by_contains", "rule": {"trait": "plan", "contains": value}},
        {"name": "by_prefix", "rule": {"trait": "plan", "starts_with": value, "ignore_case": True}},
        {"name": "by_event", "rule": {"event": value, "where": [{"property": "product_id", "eq": value}]}},
    ]


@pytest.mark.parametrize("dialect", sorted(TARGETS))
@pytest.mark.parametrize("value", HOSTILE)
def test_values_round_trip_as_literals(value: str, dialect: str) -> None:
    project = project_from_dicts(TEST_CONFIG_JSON, _rules(value))
    target = TARGETS[dialect]
    for name in project.segments:
        sql = target.sql(compile_segment(project, name, dialect, AS_OF))
        tree = sqlglot.parse_one(sql, read=target.reader)
        literals = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
        assert value in literals, f"{name}: {value!r} did not come back as one literal"
        assert not any(isinstance(node, exp.Drop) for node in tree.walk())


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    eng: Engine = DuckEngine() if request.param == "duckdb" else PostgresEngine(request.getfixturevalue("pg_dsn"))
    yield eng
    eng.close()


def test_values_execute_harmlessly(engine: Engine) -> None:
    users = [{"user_id": f"u{i}", "plan": value} for i, value in enumerate(HOSTILE)]
    events = [
        {"user_id": f"u{i}", "event_name": value, "occurred_at": AS_OF, "properties": json.dumps({"product_id": value})}
        for i, value in enumerate(HOSTILE)
    ]
    for i, value in enumerate(HOSTILE):
        got = sql_evaluate(engine, TEST_CONFIG_JSON, _rules(value), users, events, AS_OF)
        assert set(got["by_plan"]) == {f"u{i}"}
        assert set(got["by_plan_in"]) == {f"u{i}"}
        assert f"u{i}" in got["by_contains"]
        assert f"u{i}" in got["by_prefix"]
        assert set(got["by_event"]) == {f"u{i}"}
        assert engine.query("SELECT COUNT(*) FROM users")[0][0] == len(HOSTILE)
        assert engine.query("SELECT COUNT(*) FROM events")[0][0] == len(HOSTILE)
