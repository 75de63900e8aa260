"""The compiled SQL, executed on real engines, equals the reference evaluator, member for member.

Random rules covering every node kind and operator, random data crowded onto boundaries
(docs/language.md). Runs on DuckDB and on a PostgreSQL server the session starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from tests.differential.focus import aimed, sub_segments
from tests.reference.evaluator import evaluate
from tests.reference.strategies import AS_OF_CHOICES, TEST_CONFIG_FLAT, TEST_CONFIG_JSON, datasets, segment_sets
from tests.support.engines import DuckEngine, Engine, PostgresEngine
from tests.support.shards import sharded
from tests.support.sql_eval import sql_evaluate

pytestmark = pytest.mark.slow


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], datetime, Any]:
    config = draw(st.sampled_from([TEST_CONFIG_JSON, TEST_CONFIG_FLAT]))
    as_of = draw(st.sampled_from(AS_OF_CHOICES))
    segments = draw(segment_sets(config, as_of=as_of))
    segments += sub_segments(segments)
    rules = [s["rule"] for s in segments]
    data = draw(aimed(draw(datasets(config, as_of)), rules, as_of, config))
    return config, segments, as_of, data


def check(engine: Engine, case: tuple[dict[str, Any], list[dict[str, Any]], datetime, Any]) -> None:
    config, segments, as_of, (users, events) = case
    got = sql_evaluate(engine, config, segments, users, events, as_of)
    expected = evaluate(config, segments, users, events, as_of)
    for seg in segments:
        name = seg["name"]
        differ = sorted(u for u in set(got[name]) & set(expected[name]) if got[name][u] != expected[name][u])
        assert got[name] == expected[name], (
            f"segment {name}: rule {seg['rule']}\n"
            f"only in SQL: {sorted(set(got[name]) - set(expected[name]))}\n"
            f"only in reference: {sorted(set(expected[name]) - set(got[name]))}\n"
            f"variants differ for: {differ}"
        )


SHARDS = 3
SETTINGS = sharded(SHARDS, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def duck() -> Iterator[DuckEngine]:
    engine = DuckEngine()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def pg(pg_dsn: str) -> Iterator[PostgresEngine]:
    engine = PostgresEngine(pg_dsn)
    yield engine
    engine.close()


@pytest.mark.parametrize("shard", range(SHARDS))
@SETTINGS
@given(case=cases())
def test_duckdb_matches_reference(duck: DuckEngine, shard: int, case: Any) -> None:
    check(duck, case)


@pytest.mark.postgres
@pytest.mark.parametrize("shard", range(SHARDS))
@SETTINGS
@given(case=cases())
def test_postgres_matches_reference(pg: PostgresEngine, shard: int, case: Any) -> None:
    check(pg, case)
