"""Golden SQL per dialect (reviewed files under tests/golden/).

Two sets:

- `tests/golden/<dialect>/`: the whole query of a few representative demo segments
  (demos/ecommerce/segments/*.yml), staging included;
- `tests/golden/constructs/<dialect>/`: one small segment per construct of the rule language
  (docs/language.md), from the project in tests/golden/constructs/ (properties in a JSON
  column); segments that read event properties are rendered again under `flat/` from
  segwise_flat.yml (one column per property). Only the segment's own SQL is kept: the typed
  traits and properties it reads, its aggregates, its sequence and RFM CTEs, its layer column
  and the final SELECT. The staging every query shares is reviewed once, in the first set.

Golden files make every change to the generated SQL a reviewable diff; they prove nothing
on their own, so each representative query is also parsed back with sqlglot's reader for its
dialect, and every construct's whole query is executed on a small fixed data set and compared with
the reference evaluator: on DuckDB, on PostgreSQL, and on fakesnow and bqemulator (DuckDB
underneath: they run, which proves nothing about Snowflake's or BigQuery's own semantics).
The PostgreSQL, Snowflake and BigQuery files are what was reviewed against the vendors'
documentation (docs/support.md). Regenerate after an intended change with
`SEGWISE_UPDATE_GOLDEN=1 pytest tests/test_golden_sql.py`, then review the diff.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from ruamel.yaml import YAML
from sqlglot import exp

from segwise.config import Project
from segwise.loading import load_project
from segwise.rules import nodes, predicates
from segwise.sql.dialects import TARGETS, Target
from segwise.sql.plan import build_plan
from segwise.sql.query import compile_segment
from tests.reference.evaluator import evaluate
from tests.support.engines import BigQueryEngine, DuckEngine, Engine, PostgresEngine, SnowflakeEngine

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SEGWISE_UPDATE_GOLDEN") == "1"
AS_OF = datetime(2025, 6, 1)
REPRESENTATIVE = [
    "high_intent_browsers",  # counts in windows
    "checkout_abandoners",  # sequence with an absent step
    "weekly_active",  # regularity
    "rfm_champions",  # RFM scores
    "winback_campaign",  # in_segment, NOT, holdout
    "premium_new_york",  # in-list, ignore_case
    "near_flagship_store",  # haversine
    "nps_detractors",  # JSON property filters
    "trial_ending_soon",  # relative time on a trait
]
PROJECT = load_project(ROOT / "demos/ecommerce/segwise.yml")

CONSTRUCTS = GOLDEN / "constructs"
VARIANTS = {"json": "segwise.yml", "flat": "segwise_flat.yml"}
CONSTRUCT_PROJECTS = {variant: load_project(CONSTRUCTS / config) for variant, config in VARIANTS.items()}


def _reads_properties(project: Project, name: str) -> bool:
    return bool(build_plan(project, [name]).properties)


CONSTRUCT_CASES = [
    (variant, name)
    for variant, project in CONSTRUCT_PROJECTS.items()
    for name in sorted(project.segments)
    if variant == "json" or _reads_properties(project, name)
]


def _construct_path(dialect: str, variant: str, name: str) -> Path:
    folder = CONSTRUCTS / dialect
    return (folder if variant == "json" else folder / variant) / f"{name}.sql"


def _render(project: Project, name: str, target: Target) -> str:
    return target.sql(compile_segment(project, name, target.name, AS_OF)) + ";\n"


STAGING = ("sw_users", "sw_events", "sw_seen", "sw_features", "sw_base", "sw_rfm_events")
OWN_COLUMNS = ("t_", "p_", "f_")  # typed traits, typed properties, aggregates


def _own_sql(project: Project, name: str, target: Target) -> str:
    """The segment's own part of its query: from the staging CTEs only the columns computed
    for it (each once: the deduplication repeats the property columns), every other CTE but
    the per-user join, and the final SELECT."""
    query = compile_segment(project, name, target.name, AS_OF)
    parts: list[str] = []
    for cte in query.ctes:
        if cte.alias not in STAGING:
            parts.append(f"-- {cte.alias}\n{target.sql(cte.this)}")
            continue
        seen: set[str] = set()
        for column in cte.this.find_all(exp.Alias):
            own = column.alias.startswith(OWN_COLUMNS) and not isinstance(column.this, exp.Column)
            if own and column.alias not in seen:
                seen.add(column.alias)
                parts.append(f"-- {cte.alias}.{column.alias}\n{target.sql(column.this)}")
    final = query.copy()
    final.set("with_", None)
    parts.append(f"-- final\n{target.sql(final)}")
    return "\n\n".join(parts) + "\n"


def _check_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: regenerate with SEGWISE_UPDATE_GOLDEN=1, then review it"
    assert path.read_text() == text, f"{path} is stale: review the diff, then regenerate"


@pytest.mark.parametrize("dialect", sorted(TARGETS))
@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_golden_sql(name: str, dialect: str) -> None:
    target = TARGETS[dialect]
    sql = _render(PROJECT, name, target)
    _check_golden(GOLDEN / dialect / f"{name}.sql", sql)
    assert sqlglot.parse_one(sql, read=target.reader) is not None


@pytest.mark.parametrize("dialect", sorted(TARGETS))
@pytest.mark.parametrize(("variant", "name"), CONSTRUCT_CASES)
def test_constructs_golden_sql(variant: str, name: str, dialect: str) -> None:
    own = _own_sql(CONSTRUCT_PROJECTS[variant], name, TARGETS[dialect])
    _check_golden(_construct_path(dialect, variant, name), own)


@pytest.mark.parametrize("dialect", sorted(TARGETS))
def test_constructs_golden_files_have_a_segment(dialect: str) -> None:
    """No golden file outlives its segment: a removed construct loses its reviewed SQL too."""
    expected = {_construct_path(dialect, variant, name) for variant, name in CONSTRUCT_CASES}
    found = set((CONSTRUCTS / dialect).rglob("*.sql"))
    if UPDATE:
        for path in found - expected:
            path.unlink()
        found &= expected
    assert sorted(found - expected) == []


# --- the constructs set covers every node kind and operator ------------------------------


def _walk(value: Any) -> Any:
    """Every dataclass and enum value reachable from a rule."""
    yield value
    if isinstance(value, tuple):
        for item in value:
            yield from _walk(item)
    elif hasattr(value, "__dataclass_fields__"):
        for f in fields(value):
            yield from _walk(getattr(value, f.name))


def _construct_features() -> set[Any]:
    """(node class), (enum member), and the finer distinctions the SQL depends on."""
    seen: set[Any] = set()
    for project in CONSTRUCT_PROJECTS.values():
        for segment in project.segments.values():
            seen.add(("holdout", segment.holdout > 0))
            for node in _walk(segment.rule):
                seen.add(type(node))
                if isinstance(node, (predicates.CmpOp, predicates.RelOp, predicates.TextOp)):
                    seen.add(node)
                if isinstance(node, (nodes.AggFn, nodes.RfmMetric, nodes.RfmTier)):
                    seen.add(node)
                if isinstance(node, nodes.TraitCondition | nodes.PropertyFilter):
                    seen.add((type(node), node.type, type(node.predicate)))
                    if getattr(node.predicate, "ignore_case", False):
                        how = getattr(node.predicate, "op", None) or getattr(node.predicate, "negated", None)
                        seen.add((type(node), "ignore_case", how))
                    if isinstance(node.predicate, predicates.InList):
                        seen.add((type(node), "not_in" if node.predicate.negated else "in"))
                    if isinstance(node.predicate, predicates.IsSet):
                        seen.add((type(node), "is_set", node.predicate.expected))
                if isinstance(node, nodes.SequenceStep):
                    seen.add(("step", node.absent, node.within is not None, bool(node.filter.where)))
                if isinstance(node, nodes.SequenceCondition):
                    seen.add(("sequence within", node.within is not None))
                if isinstance(node, nodes.AgoWindow):
                    seen.add(("ago window", node.end.seconds > 0))
    return seen


def test_constructs_cover_every_node_kind_and_operator() -> None:
    """A new node kind, operator, measure or RFM metric needs a segment in the constructs set."""
    seen = _construct_features()
    condition_kinds = [nodes.AllOf, nodes.AnyOf, nodes.Not, nodes.TraitCondition, nodes.EventCondition]
    condition_kinds += [nodes.SequenceCondition, nodes.InSegment, nodes.Near, nodes.RfmCondition]
    required: list[Any] = [*condition_kinds, nodes.PropertyFilter, nodes.Measure, nodes.Regularity]
    required += [nodes.AgoWindow, nodes.SinceWindow, nodes.SequenceStep]
    required += [*predicates.CmpOp, *predicates.RelOp, *predicates.TextOp, *nodes.AggFn, *nodes.RfmMetric]
    required += [nodes.RfmTier.CHAMPIONS, nodes.RfmTier.NEEDS_ATTENTION]
    required += [("holdout", True), ("holdout", False), ("ago window", True), ("ago window", False)]
    required += [("sequence within", True), ("sequence within", False)]
    required += [("step", True, True, False), ("step", False, True, False), ("step", False, False, False)]
    required += [("step", False, True, True), ("step", False, False, True)]
    operators = {
        "string": [predicates.Compare, predicates.InList, predicates.IsSet, predicates.TextMatch, predicates.Matches],
        "number": [predicates.Compare, predicates.InList, predicates.IsSet, predicates.Between],
        "boolean": [predicates.Compare, predicates.InList, predicates.IsSet],
        "timestamp": [predicates.Compare, predicates.InList, predicates.IsSet, predicates.Between],
    }
    for kind in (nodes.TraitCondition, nodes.PropertyFilter):
        required += [(kind, "in"), (kind, "not_in"), (kind, "is_set", True), (kind, "is_set", False)]
        for type_name, predicate_kinds in operators.items():
            required += [(kind, type_name, p) for p in predicate_kinds]
        required += [(kind, "timestamp", predicates.RelativeTime)]
        folding: list[Any] = [predicates.CmpOp.EQ, predicates.CmpOp.NEQ, False, True, *predicates.TextOp]
        required += [(kind, "ignore_case", how) for how in folding]  # False/True: in/not_in
    missing = [item for item in required if item not in seen]
    assert missing == [], f"constructs without a segment in {CONSTRUCTS}: {missing}"


# --- the constructs files execute, and agree with the reference evaluator ----------------

EVENT_NAMES = [  # orders are scripted (RFM), the rest are drawn
    "product_viewed",
    "checkout_viewed",
    "login",
    "app_opened",
    "survey_viewed",
    "survey_completed",
]
AGES = [30, 45, 59, 60, 61, 90, 300, 3600, 5400, 43200, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400]
AGES += [45 * 86400, 200 * 86400, 400 * 86400]


def _cycle(values: list[Any], i: int) -> Any:
    return values[i % len(values)]


def _dataset() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A small fixed data set near T on which every construct has members and non-members.

    Users 0-13 (integer ids; 12 and 13 without events), event-only users 99 and x-7, events
    without a user. Every property is both in the JSON document and in a flat column."""
    rng = random.Random(20250601)
    plans = ["pro", "Pro", "enterprise", "free", "trial", "pro_annual", "team_12", None, "o'brien"]
    signups = [None, AS_OF - timedelta(days=40), datetime(2025, 1, 31, 8), datetime(2024, 12, 1)]
    signups += [AS_OF - timedelta(minutes=30), datetime(2025, 2, 28, 23, 59, 59)]
    users = [
        {
            "user_id": i,
            "plan": _cycle(plans, i),
            "country": _cycle(["DE", "de", "At", "US", None], i),
            "signup_at": _cycle(signups, i),
            "trial_ends_at": _cycle([None, AS_OF + timedelta(days=2), AS_OF - timedelta(hours=1)], i),
            "lifetime_value": _cycle([None, 0.0, 12.5, 100.0, 250.5, 1500.0, -3.0], i),
            "is_beta": _cycle([None, True, False], i),
            "latitude": _cycle([52.52, 52.55, 53.0, -33.87, None, 52.6], i),
            "longitude": _cycle([13.405, 13.5, -151.2, -151.2093, 13.4, None], i),
            "updated_at": AS_OF,
        }
        for i in range(14)
    ]
    events: list[dict[str, Any]] = []

    def add(user: Any, name: str, ago: timedelta, props: dict[str, Any] | None = None) -> None:
        props = props or {}
        events.append(
            {
                "event_id": f"e{len(events)}",
                "user_id": None if user is None else str(user),  # a text column; users' ids are integers
                "event_name": name,
                "occurred_at": AS_OF - ago,
                "loaded_at": AS_OF - ago,
                "properties": json.dumps({k: v for k, v in props.items() if v is not None}),
                "amount_value": props.get("amount"),
                "product_id": props.get("product_id"),
                "gift": props.get("is_gift"),
                "placed_at_ts": None if props.get("placed_at") is None else datetime.fromisoformat(props["placed_at"]),
                "source": props.get("source"),
            }
        )

    def props() -> dict[str, Any]:
        return {
            "amount": rng.choice([None, 0.0, 0.5, 10.0, 12.5, 50.0, 99.5, 150.0, 600.0]),
            "product_id": rng.choice([None, "sku-1", "SKU-2", "sku-3-x", "a%_b"]),
            "is_gift": rng.choice([None, True, False]),
            "placed_at": rng.choice([None, "2025-05-01 10:00:00", "2025-05-31 23:00:00"]),
            "source": rng.choice([None, "email", "ads"]),
        }

    for _ in range(150):
        ago = timedelta(seconds=rng.choice(AGES) + rng.choice([-1, 0, 0, 1, 600]))
        add(rng.choice([*range(11), 99, "x-7", None]), rng.choice(EVENT_NAMES), ago, props())
    # Orders (the RFM event) at chosen recencies, so that RFM scores spread over 1..5.
    orders = {0: [200], 1: [0.5, 3, 40, 100], 2: [20, 21], 7: [2, 300], 10: [360], 99: [7], "x-7": [14, 15, 16]}
    for user, days in orders.items():
        for day in days:
            add(user, "order_completed", timedelta(days=day), props())
    add(11, "login", timedelta(days=20))  # last seen three weeks ago
    for day in (1, 8, 9, 15):  # app opened in 3 of the last 4 weeks
        add(5, "app_opened", timedelta(days=day, hours=1))
    for day in range(5):  # twice a day on 5 of the last 7 days
        add(6, "app_opened", timedelta(days=day, hours=2))
        add(6, "app_opened", timedelta(days=day, hours=3))
    add(7, "app_opened", timedelta(seconds=10))
    for day in (1, 31, 61):  # an order in each of the last three 30-day periods
        add(6, "order_completed", timedelta(days=day), {"amount": 150.0})
    add(8, "login", timedelta(minutes=9))
    for minutes in (5, 50):
        add(8, "order_completed", timedelta(minutes=minutes), {"amount": 20.0, "product_id": "sku-9", "is_gift": False})
    for n, sku in enumerate(["sku-1", "sku-2", "sku-3-x"]):  # viewed, checked out, paid
        add(9, "product_viewed", timedelta(days=2, hours=n), {"product_id": sku})
    add(9, "checkout_viewed", timedelta(days=2, minutes=-30))
    add(9, "order_completed", timedelta(days=2, minutes=-31), {"amount": 150.0})
    add(10, "order_completed", timedelta(days=400), {"amount": 50.0})
    add(11, "app_opened", timedelta(days=45))
    add(10, "survey_viewed", timedelta(days=10))
    add(10, "survey_completed", timedelta(days=9))
    for hours in range(6):  # the most frequent recent buyer
        add(3, "order_completed", timedelta(hours=hours + 1), {"amount": 12.5})
    add(4, "order_completed", timedelta(hours=5), {"amount": 5000.0})
    for user, start in ((1, timedelta(days=3)), (2, timedelta(days=20))):  # ten steps, the 2nd too old
        for step in range(1, 10):
            add(user, f"s{step}", start - timedelta(seconds=30 * step))
    add(4, "order_completed", timedelta(days=1), {"amount": 10.0})
    events.append(dict(events[-1], loaded_at=AS_OF))  # a redelivery: counts once
    return users, events


USERS_COLUMNS = {
    "user_id": "bigint", "plan": "varchar", "country": "varchar", "signup_at": "timestamp",
    "trial_ends_at": "timestamp", "lifetime_value": "double", "is_beta": "boolean", "latitude": "double",
    "longitude": "double", "updated_at": "timestamp",
}  # fmt: skip
EVENTS_COLUMNS = {
    "event_id": "varchar", "user_id": "varchar", "event_name": "varchar", "occurred_at": "timestamp",
    "loaded_at": "timestamp", "properties": "json", "amount_value": "double", "product_id": "varchar",
    "gift": "boolean", "placed_at_ts": "timestamp", "source": "varchar",
}  # fmt: skip
Expected = dict[str, dict[str, dict[str, str | None]]]


def _expected(users: list[dict[str, Any]], events: list[dict[str, Any]]) -> Expected:
    """The reference evaluator's members of every construct, per properties variant."""
    yaml = YAML(typ="safe")
    paths = sorted((CONSTRUCTS / "segments").glob("*.yml"))
    segments = [segment for path in paths for segment in yaml.load(path.read_text())["segments"]]
    return {
        variant: evaluate(yaml.load((CONSTRUCTS / config).read_text()), segments, users, events, AS_OF)
        for variant, config in VARIANTS.items()
    }


@pytest.fixture(scope="module")
def constructs_data() -> Iterator[tuple[Engine, Expected]]:
    """DuckDB with `analytics.users` / `analytics.events` holding the data set."""
    users, events = _dataset()
    engine = DuckEngine()
    engine.execute("CREATE SCHEMA analytics")
    engine.execute("USE analytics")
    engine.create("users", USERS_COLUMNS, users)
    engine.create("events", EVENTS_COLUMNS, events)
    yield engine, _expected(users, events)
    engine.close()


def _members(engine: Engine, dialect: str, variant: str, name: str) -> dict[str, str | None]:
    sql = _render(CONSTRUCT_PROJECTS[variant], name, TARGETS[dialect])
    return {str(user_id): value for user_id, value in engine.query(sql.rstrip().rstrip(";"))}


@pytest.mark.parametrize(("variant", "name"), CONSTRUCT_CASES)
def test_constructs_duckdb_golden_executes(variant: str, name: str, constructs_data: tuple[Engine, Expected]) -> None:
    engine, expected = constructs_data
    assert _members(engine, "duckdb", variant, name) == expected[variant][name]


def test_constructs_data_has_members_and_non_members(constructs_data: tuple[Engine, Expected]) -> None:
    """The execution checks mean something only if every construct splits the users."""
    engine, expected = constructs_data
    universe = engine.query(
        "SELECT COUNT(*) FROM (SELECT CAST(user_id AS VARCHAR) FROM analytics.users"
        " UNION SELECT user_id FROM analytics.events WHERE user_id IS NOT NULL AND occurred_at <= '2025-06-01')"
    )[0][0]
    for variant, results in expected.items():
        lopsided = sorted(name for name, members in results.items() if len(members) in (0, universe))
        assert lopsided == [], f"{variant}: constructs whose members are nobody or everybody: {lopsided}"


# --- the PostgreSQL, Snowflake and BigQuery files, on PostgreSQL and on the emulators -------
# fakesnow and bqemulator run DuckDB underneath: this proves the files run there and agree with
# the reference, not Snowflake's or BigQuery's own semantics (docs/support.md).


@contextmanager
def _postgres_database(dsn: str) -> Iterator[str]:
    """A database of its own, so `analytics` never clashes with another test's schema."""
    import psycopg2

    name = f"constructs_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


ENGINES = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("snowflake", marks=pytest.mark.snowflake),
    pytest.param("bigquery", marks=pytest.mark.bigquery),
]


@pytest.fixture(scope="module", params=ENGINES)
def engine_data(request: pytest.FixtureRequest) -> Iterator[tuple[str, Engine, Expected]]:
    """`analytics.users` / `analytics.events` on PostgreSQL, fakesnow (database SEGWISE) or
    bqemulator (the default project), holding the data set."""
    kind = request.param
    users, events = _dataset()
    with ExitStack() as stack:
        engine: Engine
        if kind == "postgres":
            dsn = stack.enter_context(_postgres_database(request.getfixturevalue("pg_dsn")))
            engine = PostgresEngine(dsn, "analytics")
        elif kind == "snowflake":
            engine = SnowflakeEngine(request.getfixturevalue("fakesnow_port"), "SEGWISE", "ANALYTICS")
        else:
            engine = BigQueryEngine(request.getfixturevalue("bigquery_port"), "segwise", "analytics")
        stack.callback(engine.close)
        engine.create("users", USERS_COLUMNS, users)
        engine.create("events", EVENTS_COLUMNS, events)
        yield kind, engine, _expected(users, events)


def test_constructs_golden_executes_on_each_engine(engine_data: tuple[str, Engine, Expected]) -> None:
    kind, engine, expected = engine_data
    wrong = {}
    for variant, name in CONSTRUCT_CASES:
        got = _members(engine, kind, variant, name)
        if got != expected[variant][name]:
            wrong[f"{variant}/{name}"] = (got, expected[variant][name])
    assert wrong == {}, f"{kind}: constructs whose members differ from the reference: {sorted(wrong)}"
