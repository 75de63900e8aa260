"""The candidate set is complete: membership carried over from the previous T, with only
the candidates re-evaluated at the new T, equals a full evaluation at the new T.

This is the SQL half of the incremental invariant (docs/semantics.md, "Runs and tables"),
checked on random rules and random data changes. The dbt tests check the other half, the bookkeeping.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlglot import exp

from segwise.sql import literals
from segwise.sql.candidates import Watermarks, candidates_query, rfm_text
from segwise.sql.dialects import get_target
from segwise.sql.event_store import store_rows, store_spec
from segwise.sql.query import compile_membership
from segwise.sql.relations import direct
from segwise.sql.rfm import rfm_ctes, rfm_events_cte
from segwise.sql.staging import col
from tests.differential.focus import aimed, sub_segments
from tests.reference.strategies import AS_OF_CHOICES, TEST_CONFIG_FLAT, TEST_CONFIG_JSON, datasets, segment_sets
from tests.support.engines import DuckEngine, Engine, PostgresEngine
from tests.support.projects import project_from_dicts
from tests.support.shards import sharded
from tests.support.tables import load_tables

pytestmark = pytest.mark.slow

STEPS = [timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=8)]
LOOKBACK = timedelta(days=3)
Rows = list[dict[str, Any]]


def _config(base: dict[str, Any], loaded_at: bool, updated_at: bool) -> dict[str, Any]:
    config = copy.deepcopy(base)
    if updated_at:
        config["sources"]["users"]["updated_at"] = "updated_at"
    if not loaded_at:
        del config["sources"]["events"]["loaded_at"]
    return config


@st.composite
def histories(draw: st.DrawFn) -> tuple[Any, ...]:
    """(config, segments, T1, data at T1, T2, data at T2): data only grows or changes as the
    incremental invariant allows (docs/semantics.md): new and late events, redeliveries, changed and new user rows."""
    watermarks = draw(st.booleans())  # loaded_at configured
    updated_at = draw(st.sampled_from([True, True, True, False]))  # without it, every user is a candidate
    base = draw(st.sampled_from([TEST_CONFIG_JSON, TEST_CONFIG_FLAT]))  # the data generators' layout
    config = _config(base, watermarks, updated_at)
    t1 = draw(st.sampled_from(AS_OF_CHOICES))
    t2 = t1 + draw(st.sampled_from(STEPS))
    segments = draw(segment_sets(config, as_of=t1))
    segments += sub_segments(segments)
    rules = [s["rule"] for s in segments]
    # Aim at the edges as they stand at T1 and at T2: the events in between cross an edge.
    users, events = draw(aimed(draw(datasets(base, t1)), rules, t1, base, later=t2))
    # A quiet interval (nothing new, nothing between T1 and T2) leaves only the moving
    # edges to find the candidates, so a missing edge cannot hide behind other reasons.
    quiet = draw(st.integers(0, 2)) == 0
    if quiet:
        updated_at = True
        config = _config(base, watermarks, updated_at)
        events = [e for e in events if not t1 <= e["occurred_at"] <= t2]
    start = datetime(2023, 12, 1)
    for user in users:
        user["updated_at"] = start
    loaded = max((e["loaded_at"] for e in events if e.get("loaded_at")), default=start)
    wm = max(loaded, t1)  # the run at T1 happened after these loads

    # Between the runs: new and late events, loaded after the watermark.
    _, fresh = draw(aimed(draw(datasets(base, t2)), rules, t2, base))
    new_events: Rows = []
    for i, event in enumerate(fresh[: 0 if quiet else draw(st.integers(0, 6))]):
        event = dict(event)
        if event.get("event_id") is not None:
            event["event_id"] = f"new-{i}"
        if not watermarks and event["occurred_at"] <= t1 - LOOKBACK:
            continue  # without loaded_at, lateness is bounded by the lookback
        event["loaded_at"] = wm + timedelta(seconds=1 + i)
        new_events.append(event)
    redelivered = [dict(e, loaded_at=wm + timedelta(seconds=1)) for e in events if e.get("event_id") is not None]
    redelivered = redelivered[: 0 if quiet else draw(st.integers(0, 3))]
    if not watermarks:
        for e in redelivered + new_events:
            e.pop("loaded_at", None)
    events2 = events + new_events + redelivered

    # Changed and new user rows carry a later updated_at (without updated_at: any change).
    users2 = [dict(u) for u in users]
    fresh_users, _ = draw(datasets(base, t2))
    for i, row in enumerate(users2):
        if not quiet and draw(st.integers(0, 5)) == 0 and fresh_users:
            donor = fresh_users[i % len(fresh_users)]
            row.update({k: v for k, v in donor.items() if k != "user_id"})
            row["updated_at"] = wm + timedelta(seconds=5)
    known = {str(u["user_id"]) for u in users2}  # ids are text: 7 and "7" are one user
    for row in fresh_users[: 0 if quiet else draw(st.integers(0, 2))]:
        if str(row["user_id"]) not in known:
            users2.append(dict(row, updated_at=wm + timedelta(seconds=6)))
    return config, segments, t1, (users, events), t2, (users2, events2), wm, watermarks, updated_at


def _members(
    engine: Engine, project: Any, names: list[str], as_of: datetime, candidates: Any = None, store: Any = None
) -> set[tuple]:
    query = compile_membership(project, names, engine.dialect, as_of, candidates=candidates, store=store)
    return set(engine.query(get_target(engine.dialect).sql(query)))


def _event_store(engine: Engine, project: Any) -> exp.Table:
    """The event store of the data as loaded (what the dbt runs keep, checked there)."""
    target = get_target(engine.dialect)
    rows = target.sql(store_rows(target, project, store_spec(project), direct()))
    engine.execute("DROP TABLE IF EXISTS sw_test_store")
    engine.execute(f"CREATE TABLE sw_test_store AS {rows}")
    return exp.to_table("sw_test_store")


def _rfm_state(engine: Engine, project: Any, as_of: datetime) -> exp.Table:
    """The RFM values a dbt run at `as_of` keeps for the next one (segwise_rfm_state)."""
    target = get_target(engine.dialect)
    config = project.config
    t = literals.timestamp(target, as_of)
    money = exp.alias_(target.cast(col("monetary"), "text"), "monetary")
    query = exp.select(col("user_id"), exp.alias_(rfm_text(target), "rfm"), money).from_("sw_rfm")
    query = query.with_("sw_rfm_events", as_=rfm_events_cte(target, config, direct()(config.events.relation), t))
    for name, cte in rfm_ctes(target, config.rfm, "sw_rfm_events", t):
        query = query.with_(name, as_=cte)
    engine.execute("DROP TABLE IF EXISTS sw_test_rfm")
    engine.execute(f"CREATE TABLE sw_test_rfm AS {target.sql(query)}")
    return exp.to_table("sw_test_rfm")


def check(engine: Engine, history: tuple[Any, ...], via_store: bool = False) -> None:
    config, segments, t1, (users1, events1), t2, (users2, events2), wm, watermarks, updated_at = history
    project = project_from_dicts(config, segments)
    names = [s["name"] for s in segments]
    target = get_target(engine.dialect)

    load_tables(engine, config, users1, events1)
    before = _members(engine, project, names, t1)
    rfm_state = _rfm_state(engine, project, t1) if via_store and project.config.rfm else None

    load_tables(engine, config, users2, events2)
    marks = Watermarks(
        prev_as_of=literals.timestamp(target, t1),
        loaded_after=literals.timestamp(target, wm) if watermarks else None,
        new_since=None if watermarks else literals.timestamp(target, t1 - LOOKBACK),
        updated_after=literals.timestamp(target, wm) if updated_at else None,
    )
    # Through the event store (the dbt models) or from the raw events (preview, compile).
    store = _event_store(engine, project) if via_store else None
    t = literals.timestamp(target, t2)
    found = candidates_query(project, names, engine.dialect, t, marks, store=store, rfm_state=rfm_state)
    rows = engine.query(target.sql(found))
    assert all(any(flags) and set(flags) <= {0, 1} for _, *flags in rows), "every candidate has a reason"
    chosen = {row[0] for row in rows}
    cands = exp.select("user_id").from_(found.subquery("c"))
    carried = {row for row in before if row[1] not in chosen}
    incremental = carried | _members(engine, project, names, t2, candidates=cands, store=store)
    full = _members(engine, project, names, t2)
    assert incremental == full, (
        f"missed by the candidates: {sorted(full - incremental)}\nstale rows kept: {sorted(incremental - full)}"
    )


SHARDS = 6
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
@given(history=histories(), via_store=st.booleans())
def test_candidates_complete_on_duckdb(duck: DuckEngine, shard: int, history: Any, via_store: bool) -> None:
    check(duck, history, via_store)


@pytest.mark.postgres
@pytest.mark.parametrize("shard", range(SHARDS))
@SETTINGS
@given(history=histories(), via_store=st.booleans())
def test_candidates_complete_on_postgres(pg: PostgresEngine, shard: int, history: Any, via_store: bool) -> None:
    check(pg, history, via_store)
