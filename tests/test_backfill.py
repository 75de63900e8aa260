"""Backfills (segwise.backfill): membership at every past instant, from one query.

- Property: for random rules and data (the generators of tests/reference/strategies.py, aimed
  at the rules' edges as tests/differential does), the backfill's members at each instant
  equal the reference evaluator's at T = instant, and the compiled evaluation's at that T on
  the same engine; on DuckDB and PostgreSQL, pruned or not, with and without `exclude_late`.
- Sizes: entered/exited/members from SQL equal the same count in Python over the rows.
- One pass: the events relation is read as often for 1 instant as for 50.
- Refusals: `predict` segments (also through `in_segment`), bad options and instants.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from segwise.backfill import (
    BackfillError,
    BackfillMember,
    BackfillSize,
    backfill_sizes_sql,
    backfill_sql,
    instants_between,
    run_backfill,
    sizes_from_members,
    sizes_sql,
)
from segwise.config import Relation
from segwise.rules.values import Duration
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership
from segwise.sql.relations import direct
from segwise.warehouse.base import Warehouse
from tests.differential.focus import aimed, sub_segments
from tests.reference.evaluator import evaluate
from tests.reference.strategies import AS_OF_CHOICES, TEST_CONFIG_FLAT, TEST_CONFIG_JSON, datasets, segment_sets
from tests.support.engines import DuckEngine, Engine, PostgresEngine
from tests.support.projects import project_from_dicts
from tests.support.tables import load_tables

Case = tuple[dict[str, Any], list[dict[str, Any]], list[datetime], Any, bool, bool]

# Instants around the drawn T: the same second, a second (or a microsecond) apart, days apart.
OFFSETS = [-30 * 86400, -7 * 86400, -86400, -3600, -1, -0.000001, 0, 1, 300, 3600, 86400, 2 * 86400, 7 * 86400]


BUILTIN_TRAITS = ("first_seen_at", "last_seen_at", "event_count")


def _reads_every_event(segments: list[dict[str, Any]]) -> bool:
    """Whether a rule reads a built-in trait: then the backfill cannot prune any event."""
    text = json.dumps([s["rule"] for s in segments])
    return any(f'"trait": "{name}"' in text for name in BUILTIN_TRAITS)


@st.composite
def cases(draw: st.DrawFn, pruned: bool = False) -> Case:
    """A config, segments, 1-4 instants around one T, data aimed at the rules' edges at the
    first and last instant, exclude_late and prune. `pruned`: only rules without built-in
    traits, so that the events are pruned to the rules' horizons."""
    config = draw(st.sampled_from([TEST_CONFIG_JSON, TEST_CONFIG_FLAT]))
    as_of = draw(st.sampled_from(AS_OF_CHOICES))
    offsets = draw(st.lists(st.sampled_from(OFFSETS), min_size=1, max_size=4, unique=True))
    instants = sorted(as_of + timedelta(seconds=s) for s in offsets)
    drawn = segment_sets(config, as_of=as_of)
    segments = draw(drawn.filter(lambda s: not _reads_every_event(s)) if pruned else drawn)
    segments += sub_segments(segments)
    rules = [s["rule"] for s in segments]
    later = instants[-1] if instants[-1] != instants[0] else None
    data = draw(aimed(draw(datasets(config, instants[0])), rules, instants[0], config, later=later))
    return config, segments, instants, data, draw(st.booleans()), pruned or draw(st.booleans())


def visible(
    config: dict[str, Any], events: list[dict[str, Any]], instant: datetime, late: bool
) -> list[dict[str, Any]]:
    """The events a run at `instant` would have seen: all of them, or (exclude_late) those
    loaded by then."""
    if not late:
        return events
    loaded = config["sources"]["events"]["loaded_at"]
    return [e for e in events if e.get(loaded) is None or e[loaded] <= instant]


def loaded_by(config: dict[str, Any], instant: datetime, late: bool) -> Any:
    """A resolver reading the events relation as a run at `instant` would have seen it."""
    plain = direct()
    if not late:
        return plain
    events = config["sources"]["events"]

    def resolve(relation: Relation) -> exp.Expr:
        table = plain(relation)
        if table.name != events["relation"]:
            return table
        loaded = exp.column(events["loaded_at"])
        moment = exp.cast(exp.Literal.string(instant.isoformat(sep=" ")), "timestamp")
        keep = exp.or_(exp.Is(this=loaded, expression=exp.Null()), exp.LTE(this=loaded.copy(), expression=moment))
        return exp.select(exp.Star()).from_(table).where(keep).subquery()

    return resolve


def backfilled(engine: Engine, case: Case) -> dict[datetime, dict[str, dict[str, str | None]]]:
    config, segments, instants, _, late, prune = case
    project = project_from_dicts(config, segments)
    names = [s["name"] for s in segments]
    query = backfill_sql(project, names, engine.dialect, instants, exclude_late=late, prune=prune)
    got: dict[datetime, dict[str, dict[str, str | None]]] = {t: {n: {} for n in names} for t in instants}
    for segment, instant, user_id, variant in engine.query(get_target(engine.dialect).sql(query)):
        members = got[instant][segment]
        assert user_id not in members, f"duplicate member {user_id} of {segment} at {instant}"
        members[user_id] = variant
    return got


def compiled(engine: Engine, case: Case, instant: datetime) -> dict[str, dict[str, str | None]]:
    config, segments, _, _, late, _ = case
    project = project_from_dicts(config, segments)
    names = [s["name"] for s in segments]
    query = compile_membership(project, names, engine.dialect, instant, loaded_by(config, instant, late))
    got: dict[str, dict[str, str | None]] = {n: {} for n in names}
    for segment, user_id, variant in engine.query(get_target(engine.dialect).sql(query)):
        got[segment][user_id] = variant
    return got


def check(engine: Engine, case: Case) -> None:
    config, segments, instants, (users, events), late, prune = case
    load_tables(engine, config, users, events)
    got = backfilled(engine, case)
    for instant in instants:
        expected = evaluate(config, segments, users, visible(config, events, instant, late), instant)
        same_engine = compiled(engine, case, instant)
        for seg in segments:
            name = seg["name"]
            context = (
                f"segment {name} at {instant} (exclude_late={late}, prune={prune}): rule {json.dumps(seg['rule'])}"
            )
            assert got[instant][name] == expected[name], (
                f"{context}\nonly in the backfill: {sorted(set(got[instant][name]) - set(expected[name]))}\n"
                f"only in the reference: {sorted(set(expected[name]) - set(got[instant][name]))}"
            )
            assert same_engine[name] == expected[name], f"{context}: the compiled evaluation differs"


EXAMPLES = settings().max_examples  # the profile's (tests/conftest.py)
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


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


@pytest.mark.slow
@PROPERTY
@given(case=cases())
def test_duckdb_backfill_matches_reference_at_every_instant(duck: DuckEngine, case: Case) -> None:
    check(duck, case)


@pytest.mark.slow
@pytest.mark.postgres
@PROPERTY
@given(case=cases())
def test_postgres_backfill_matches_reference_at_every_instant(pg: PostgresEngine, case: Case) -> None:
    check(pg, case)


@pytest.mark.slow
@settings(PROPERTY, max_examples=max(10, EXAMPLES // 3))
@given(case=cases(pruned=True))
def test_duckdb_pruned_backfill_matches_reference(duck: DuckEngine, case: Case) -> None:
    """Rules that let the backfill read each event only at the instants where some rule
    reads it (users with older events only stay in the universe)."""
    check(duck, case)


# --------------------------------------------------------------------------- sizes


class EngineWarehouse(Warehouse):
    """A test engine behind the Warehouse interface run_backfill takes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.engine.query(sql)

    def close(self) -> None:
        pass


def check_sizes(engine: Engine, case: Case) -> None:
    config, segments, instants, (users, events), late, prune = case
    load_tables(engine, config, users, events)
    project = project_from_dicts(config, segments)
    names = [s["name"] for s in segments]
    warehouse = EngineWarehouse(engine)
    with_rows = run_backfill(project, names, warehouse, instants, members=True, exclude_late=late, prune=prune)
    counted = run_backfill(project, names, warehouse, instants, exclude_late=late, prune=prune)
    assert with_rows.members is not None
    python = sizes_from_members(with_rows.members, names, instants)
    assert list(counted.sizes) == python, "the warehouse's sizes differ from those counted in Python"
    assert list(with_rows.sizes) == python
    # The same over the rows written to a table (as the dbt layer will).
    target = get_target(engine.dialect)
    engine.execute("DROP TABLE IF EXISTS bf_members")
    rows = backfill_sql(project, names, engine.dialect, instants, exclude_late=late, prune=prune)
    engine.execute(f"CREATE TABLE bf_members AS {target.sql(rows)}")
    written = engine.query(target.sql(sizes_sql(names, engine.dialect, instants, exp.to_table("bf_members"))))
    assert [BackfillSize(s, t, *(int(v) for v in rest)) for s, t, *rest in written] == python
    # and the one-query form
    one = engine.query(target.sql(backfill_sizes_sql(project, names, engine.dialect, instants, exclude_late=late)))
    assert [BackfillSize(s, t, *(int(v) for v in rest)) for s, t, *rest in one] == python


@pytest.mark.slow
@settings(PROPERTY, max_examples=max(10, EXAMPLES // 4))
@given(case=cases())
def test_duckdb_sizes_equal_python_count(duck: DuckEngine, case: Case) -> None:
    check_sizes(duck, case)


@pytest.mark.slow
@pytest.mark.postgres
@settings(PROPERTY, max_examples=max(10, EXAMPLES // 4))
@given(case=cases())
def test_postgres_sizes_equal_python_count(pg: PostgresEngine, case: Case) -> None:
    check_sizes(pg, case)


def test_sizes_from_members_by_hand() -> None:
    t0, t1, t2 = datetime(2025, 1, 1), datetime(2025, 1, 2), datetime(2025, 1, 3)
    rows = [
        BackfillMember("a", t0, "u1", None),
        BackfillMember("a", t0, "u2", None),
        BackfillMember("a", t1, "u2", None),
        BackfillMember("a", t1, "u3", None),
        BackfillMember("b", t1, "u1", "control"),
        BackfillMember("b", t1, "u2", "treatment"),
    ]
    assert sizes_from_members(rows, ["b", "a"], [t0, t1, t2]) == [
        BackfillSize("a", t0, 2, 2, 0, 0),  # the first instant: every member entered
        BackfillSize("a", t1, 2, 1, 1, 0),
        BackfillSize("a", t2, 0, 0, 2, 0),
        BackfillSize("b", t0, 0, 0, 0, 0),
        BackfillSize("b", t1, 2, 2, 0, 1),
        BackfillSize("b", t2, 0, 0, 2, 0),
    ]


# --------------------------------------------------------------------------- worked example

SIMPLE_CONFIG: dict[str, Any] = {
    "sources": {
        "users": {"relation": "users", "id": "user_id", "traits": {"plan": "string"}},
        "events": {
            "relation": "events",
            "user_id": "user_id",
            "name": "event_name",
            "timestamp": "occurred_at",
            "loaded_at": "loaded_at",
            "id": "event_id",
        },
    },
}


def test_a_worked_backfill(duck: DuckEngine) -> None:
    """Daily, for five days. `recent_viewers` (a view within 48h): a user enters with a view
    and exits two days later; a second delivery of an event counts once; a view loaded late
    counts, unless `exclude_late`. `non_viewers` (never viewed): c, known only from an
    event with no load time, is a member at every instant."""
    segments = [
        {"name": "recent_viewers", "rule": {"event": "product_viewed", "within": "48h"}},
        {"name": "non_viewers", "rule": {"not": {"event": "product_viewed"}}},
    ]
    users: list[dict[str, Any]] = [{"user_id": "a", "plan": "pro"}, {"user_id": "b", "plan": None}]
    day = datetime(2025, 6, 1)
    events: list[dict[str, Any]] = [
        {"user_id": "a", "event_name": "product_viewed", "occurred_at": day + timedelta(hours=1),
         "loaded_at": day + timedelta(hours=1), "event_id": "e1"},
        {"user_id": "a", "event_name": "product_viewed", "occurred_at": day + timedelta(hours=1),
         "loaded_at": day + timedelta(days=3), "event_id": "e1"},  # a second delivery
        {"user_id": "b", "event_name": "product_viewed", "occurred_at": day + timedelta(days=1, hours=5),
         "loaded_at": day + timedelta(days=4), "event_id": "e2"},  # loaded 3 days late
        {"user_id": "c", "event_name": "app_opened", "occurred_at": day, "loaded_at": None, "event_id": "e3"},
    ]  # fmt: skip
    load_tables(duck, SIMPLE_CONFIG, users, events)
    project = project_from_dicts(SIMPLE_CONFIG, segments)
    instants = instants_between(day, day + timedelta(days=4), Duration.parse("1d"))
    assert len(instants) == 5
    names = ["recent_viewers", "non_viewers"]
    warehouse = EngineWarehouse(duck)

    def days(result: Any, segment: str, user: str) -> list[int]:
        return [(m.instant - day).days for m in result.members if (m.segment, m.user_id) == (segment, user)]

    def changes(result: Any, segment: str) -> list[tuple[int, int, int]]:
        return [(s.members, s.entered, s.exited) for s in result.sizes if s.segment == segment]

    result = run_backfill(project, names, warehouse, instants, members=True)
    assert days(result, "recent_viewers", "a") == [1, 2]
    assert days(result, "recent_viewers", "b") == [2, 3]
    # (members, entered, exited) per day; on the first day every member entered
    assert changes(result, "recent_viewers") == [(0, 0, 0), (1, 1, 0), (2, 1, 0), (1, 0, 1), (0, 0, 1)]
    assert days(result, "non_viewers", "a") == [0]
    assert days(result, "non_viewers", "b") == [0, 1]
    assert days(result, "non_viewers", "c") == [0, 1, 2, 3, 4]
    assert changes(result, "non_viewers") == [(3, 3, 0), (2, 0, 1), (1, 0, 1), (1, 0, 0), (1, 0, 0)]

    late = run_backfill(project, names, warehouse, instants, members=True, exclude_late=True)
    # b's view exists only from its load on day 4, when it is no longer within 48h
    assert changes(late, "recent_viewers") == [(0, 0, 0), (1, 1, 0), (1, 0, 0), (0, 0, 1), (0, 0, 0)]
    assert days(late, "non_viewers", "b") == [0, 1, 2, 3]
    assert days(late, "non_viewers", "c") == [0, 1, 2, 3, 4]
    assert result.notes == ()


# --------------------------------------------------------------------------- one pass


def _reads(query: exp.Expr, name: str) -> int:
    return sum(1 for t in query.find_all(exp.Table) if t.name == name)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery"])
def test_one_pass_over_the_events_whatever_the_instants(dialect: str) -> None:
    segments: list[dict[str, Any]] = [
        {"name": "recent", "rule": {"event": "order_completed", "within": "7d", "count": {"gte": 2}}},
        {"name": "funnel", "rule": {"sequence": {"steps": [{"event": "checkout_viewed"},
                                                            {"event": "order_completed", "within": "1h"}]}}},
        {"name": "ranked", "rule": {"rfm": {"tier": "champions"}}},
        {"name": "old", "rule": {"trait": "first_seen_at", "more_than_ago": "30d"}},
    ]  # fmt: skip
    project = project_from_dicts(TEST_CONFIG_JSON, segments)
    names = [s["name"] for s in segments]
    one = backfill_sql(project, names, dialect, [datetime(2025, 1, 1)])
    daily = instants_between(datetime(2025, 1, 1), datetime(2025, 2, 19), timedelta(days=1))
    many = backfill_sql(project, names, dialect, daily)
    assert _reads(one, "events") == _reads(many, "events") <= 2  # with and without an event id
    assert _reads(one, "users") == _reads(many, "users") == 1
    get_target(dialect).sql(many)  # every dialect writes them
    get_target(dialect).sql(backfill_sizes_sql(project, names, dialect, daily, exclude_late=True))


# --------------------------------------------------------------------------- refusals

PREDICT_CONFIG: dict[str, Any] = {**TEST_CONFIG_JSON, "predict": {"bgnbd": {"event": "order_completed", "unit": "7d"}}}


def test_predict_segments_are_refused_by_name() -> None:
    segments = [
        {"name": "likely_buyers", "rule": {"predict": {"model": "bgnbd", "p_alive": {"gt": 0.5}}}},
        {"name": "vip", "rule": {"all": [{"in_segment": "likely_buyers"}, {"trait": "plan", "eq": "pro"}]}},
        {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}},
    ]
    project = project_from_dicts(PREDICT_CONFIG, segments)
    with pytest.raises(
        BackfillError,
        match=r"^cannot backfill segments 'likely_buyers', 'vip' \(through 'likely_buyers'\): they use a `predict`",
    ):
        backfill_sql(project, ["pro", "likely_buyers", "vip"], "duckdb", [datetime(2025, 1, 1)])
    with pytest.raises(BackfillError, match=r"^cannot backfill segment 'vip' \(through 'likely_buyers'\): it uses"):
        backfill_sql(project, ["vip"], "duckdb", [datetime(2025, 1, 1)])
    backfill_sql(project, ["pro"], "duckdb", [datetime(2025, 1, 1)])  # the others are fine


def test_rfm_is_ranked_per_instant() -> None:
    project = project_from_dicts(TEST_CONFIG_JSON, [{"name": "champ", "rule": {"rfm": {"tier": "champions"}}}])
    sql = get_target("duckdb").sql(backfill_sql(project, ["champ"], "duckdb", [datetime(2025, 1, 1)]), pretty=False)
    assert "RANK() OVER (PARTITION BY SUBSTRING(user_id, 1, 26) ORDER BY" in sql
    assert "COUNT(*) OVER (PARTITION BY SUBSTRING(user_id, 1, 26))" in sql


@pytest.mark.parametrize(
    ("instants", "message"),
    [
        ([], "at least one instant"),
        ([datetime(2025, 1, 2), datetime(2025, 1, 1)], "strictly increasing"),
        ([datetime(2025, 1, 1), datetime(2025, 1, 1)], "strictly increasing"),
    ],
)
def test_bad_instants(instants: list[datetime], message: str) -> None:
    project = project_from_dicts(TEST_CONFIG_JSON, [{"name": "pro", "rule": {"trait": "plan", "eq": "pro"}}])
    with pytest.raises(BackfillError, match=message):
        backfill_sql(project, ["pro"], "duckdb", instants)


def test_instants_between() -> None:
    start = datetime(2025, 1, 1)
    assert instants_between(start, start + timedelta(hours=5), Duration.parse("2h")) == [
        start, start + timedelta(hours=2), start + timedelta(hours=4)]  # fmt: skip
    assert instants_between(start, start, timedelta(days=1)) == [start]
    with pytest.raises(BackfillError, match="before the first"):
        instants_between(start, start - timedelta(days=1), timedelta(days=1))
    with pytest.raises(BackfillError, match="more than"):
        instants_between(start, start + timedelta(days=100_000), timedelta(days=1))


def test_exclude_late_needs_loaded_at() -> None:
    config = json.loads(json.dumps(SIMPLE_CONFIG))
    del config["sources"]["events"]["loaded_at"]
    project = project_from_dicts(config, [{"name": "pro", "rule": {"trait": "plan", "eq": "pro"}}])
    with pytest.raises(BackfillError, match="loaded_at"):
        backfill_sql(project, ["pro"], "duckdb", [datetime(2025, 1, 1)], exclude_late=True)


def test_unknown_segment_and_trait_caveat() -> None:
    project = project_from_dicts(SIMPLE_CONFIG, [{"name": "pro", "rule": {"trait": "plan", "eq": "pro"}}])
    with pytest.raises(BackfillError, match="unknown segment 'nope'"):
        backfill_sql(project, ["nope"], "duckdb", [datetime(2025, 1, 1)])
    from segwise.backfill import caveats

    assert caveats(project, ["pro"]) == [
        "pro: reads the users' current plan at every instant (segwise keeps no trait history)"
    ]
