"""Every boundary the rule language states (docs/language.md), as hand-computed cases.

Each expected value is worked out from the wording of docs/language.md, not from any code. Every case runs
three times: on the reference evaluator, and on the compiled SQL executed on DuckDB and on
PostgreSQL, so the oracle and the compiler are held to the same hand-written answers.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.reference.evaluator import evaluate
from tests.reference.strategies import TEST_CONFIG_FLAT, TEST_CONFIG_JSON
from tests.support.engines import DuckEngine, Engine, PostgresEngine
from tests.support.sql_eval import sql_evaluate

Rows = list[dict[str, Any]]
Result = dict[str, dict[str, str | None]]
CONFIG = TEST_CONFIG_JSON
_ENGINE: Engine | None = None  # None: the reference evaluator


@pytest.fixture(autouse=True, params=["reference", "duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Any:
    """Run the module's cases on each backend in turn."""
    global _ENGINE
    if request.param == "reference":
        engine = None
    elif request.param == "duckdb":
        engine = DuckEngine()
    else:
        engine = PostgresEngine(request.getfixturevalue("pg_dsn"))
    _ENGINE = engine
    yield request.param
    _ENGINE = None
    if engine is not None:
        engine.close()


def run(config: dict[str, Any], segments: Rows, users: Rows, events: Rows, as_of: datetime) -> Result:
    if _ENGINE is None:
        return evaluate(config, segments, users, events, as_of)
    return sql_evaluate(_ENGINE, config, segments, users, events, as_of)


T = datetime(2025, 6, 1, 12, 0, 0)
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
_FLAT_COLUMNS = TEST_CONFIG_FLAT["sources"]["events"]["properties"]["columns"]


def event(user: Any, name: str, ts: datetime, eid: Any = None, **props: Any) -> dict[str, Any]:
    """An events row of TEST_CONFIG_JSON; properties become the JSON text."""
    return {
        "user_id": user,
        "event_name": name,
        "occurred_at": ts,
        "loaded_at": ts,
        "event_id": eid,
        "properties": json.dumps(props) if props else None,
    }


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """The same events row for TEST_CONFIG_FLAT (one column per property)."""
    props = json.loads(row["properties"]) if row["properties"] else {}
    out = {k: v for k, v in row.items() if k != "properties"}
    for prop, column in _FLAT_COLUMNS.items():
        out[column] = props.get(prop)
    if isinstance(out["placed_at_ts"], str):  # a timestamp column holds timestamps
        out["placed_at_ts"] = datetime.fromisoformat(out["placed_at_ts"])
    return out


def members(
    rule: dict[str, Any],
    users: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    *,
    as_of: datetime = T,
    config: dict[str, Any] = CONFIG,
) -> set[str]:
    segments: Rows = [{"name": "subject", "rule": rule}]
    result = run(config, segments, users or [], events or [], as_of)
    return set(result["subject"])


EVERYONE = {"trait": "event_count", "gte": 0}


# ------------------------------------------------------------------------ windows


def test_within_window_is_open_at_t_minus_dur_and_closed_at_t() -> None:
    events: Rows = [
        event("a", "app_opened", T - 7 * D),
        event("b", "app_opened", T - 7 * D + S),
        event("c", "app_opened", T),
        event("d", "app_opened", T + S),
    ]
    assert members({"event": "app_opened", "within": "7d"}, events=events) == {"b", "c"}


def test_between_ago_edges() -> None:
    events: Rows = [
        event("a", "app_opened", T - 7 * D),
        event("b", "app_opened", T - 7 * D + S),
        event("c", "app_opened", T - D),
        event("d", "app_opened", T - D + S),
    ]
    rule = {"event": "app_opened", "between_ago": ["7d", "1d"]}
    assert members(rule, events=events) == {"b", "c"}


def test_since_is_inclusive_and_date_only_means_midnight() -> None:
    events: Rows = [
        event("a", "app_opened", datetime(2025, 5, 1)),
        event("b", "app_opened", datetime(2025, 5, 1) - S),
        event("c", "app_opened", T),
        event("d", "app_opened", T + S),
    ]
    assert members({"event": "app_opened", "since": "2025-05-01"}, events=events) == {
        "a",
        "c",
    }
    rule = {"event": "app_opened", "since": "2025-04-30T23:59:59"}
    assert members(rule, events=events) == {"a", "b", "c"}


def test_no_window_means_all_history_up_to_t_and_later_events_are_ignored() -> None:
    events: Rows = [
        event("a", "app_opened", datetime(2024, 1, 1)),
        event("a", "app_opened", T + S),
        event("d", "app_opened", T + S),
    ]
    assert members({"event": "app_opened", "count": {"eq": 1}}, events=events) == {"a"}
    # d's only event is after T: d is not even in the universe
    assert members(EVERYONE, events=events) == {"a"}


def test_event_without_measure_is_count_at_least_one() -> None:
    events: Rows = [event("a", "app_opened", T), event("b", "order_completed", T)]
    assert members({"event": "app_opened"}, events=events) == {"a"}
    assert members({"event": "app_opened", "count": {"gte": 1}}, events=events) == {"a"}


# ------------------------------------------------------------------------ measures


def test_first_seen_and_last_seen_measures() -> None:
    events: Rows = [
        event("a", "app_opened", T - 10 * D),
        event("a", "app_opened", T - D),
        event("none", "order_completed", T),
    ]

    def check(rule: dict[str, Any]) -> bool:
        return "a" in members({"event": "app_opened", **rule}, events=events)

    assert check({"first_seen": {"more_than_ago": "240h"}})  # T - 10d <= T - 240h
    assert not check({"first_seen": {"more_than_ago": "241h"}})
    assert not check({"last_seen": {"less_than_ago": "1d"}})  # T - 1d is not > T - 1d
    assert check({"last_seen": {"less_than_ago": "25h"}})
    assert check({"last_seen": {"after": "2025-05-31T11:59:59"}})
    assert not check({"last_seen": {"after": "2025-05-31T12:00:00"}})
    assert check({"first_seen": {"before": "2025-05-22T12:00:01"}})
    assert not check({"first_seen": {"before": "2025-05-22T12:00:00"}})
    # the window applies first: within 5d the first one is T - 1d
    assert not check({"within": "5d", "first_seen": {"more_than_ago": "2d"}})
    # no matching event: first_seen/last_seen missing, every comparison false
    nobody = members({"event": "app_opened", "first_seen": {"before": "2030-01-01"}}, events=events)
    assert "none" not in nobody


def test_aggregates_with_no_matching_events() -> None:
    users: Rows = [{"user_id": "quiet"}]
    events: Rows = [event("other", "app_opened", T)]

    def quiet(rule: dict[str, Any]) -> bool:
        return "quiet" in members({"event": "order_completed", **rule}, users, events)

    assert quiet({"count": {"eq": 0}})
    assert quiet({"sum": {"property": "amount", "eq": 0}})
    assert quiet({"count_distinct": {"property": "product_id", "eq": 0}})
    assert not quiet({"avg": {"property": "amount", "neq": 5}})
    assert not quiet({"avg": {"property": "amount", "lt": 5}})
    assert not quiet({"min": {"property": "amount", "neq": 5}})
    assert not quiet({"max": {"property": "amount", "between": [-1000, 1000]}})
    assert not quiet({"first_seen": {"before": "2030-01-01"}})
    assert not quiet({"last_seen": {"more_than_ago": "30s"}})
    # events that all lack the property: sum 0, avg missing
    no_amounts: Rows = [event("quiet", "order_completed", T, product_id="p")]
    assert "quiet" in members({"event": "order_completed", "sum": {"property": "amount", "eq": 0}}, users, no_amounts)
    assert "quiet" not in members(
        {"event": "order_completed", "avg": {"property": "amount", "neq": 1}}, users, no_amounts
    )


def test_aggregates_skip_missing_values() -> None:
    rows: Rows = [
        event("a", "order_completed", T - H, amount=10),
        event("a", "order_completed", T - H, amount=None),  # JSON null
        event("a", "order_completed", T - H, product_id="p"),  # absent key
        event("a", "order_completed", T - H, amount="20"),  # number spelled as text
        {**event("a", "order_completed", T - H), "properties": "null"},
    ]

    def holds(measure: str, **cmp: Any) -> bool:
        rule = {"event": "order_completed", measure: {"property": "amount", **cmp}}
        return members(rule, events=rows) == {"a"}

    assert members({"event": "order_completed", "count": {"eq": 5}}, events=rows) == {"a"}
    assert holds("sum", eq=30)
    assert holds("avg", eq=15)
    assert holds("min", eq=10)
    assert holds("max", eq=20)
    assert holds("count_distinct", eq=2)


def test_count_distinct_counts_non_missing_values_numbers_as_floats() -> None:
    rows: Rows = [
        event("a", "order_completed", T, amount=1),
        event("a", "order_completed", T, amount=1.0),
        event("a", "order_completed", T, amount="1"),
        event("a", "order_completed", T, amount=None),
        event("a", "order_completed", T, amount=2.5),
        event("a", "order_completed", T, product_id="P"),
        event("a", "order_completed", T, product_id="p"),
    ]

    def distinct(prop: str, n: int) -> bool:
        rule = {"event": "order_completed", "count_distinct": {"property": prop, "eq": n}}
        return members(rule, events=rows) == {"a"}

    assert distinct("amount", 2)
    assert distinct("product_id", 2)  # case-sensitive
    assert distinct("is_gift", 0)


def test_duplicate_event_ids_count_once_per_user() -> None:
    copy = event("a", "app_opened", T - H, eid="e1")
    rows: Rows = [
        copy,
        {**copy, "loaded_at": T},  # another delivery of the same event
        event("b", "app_opened", T - H),  # null ids: all distinct
        event("b", "app_opened", T - H),
        event("c", "app_opened", T - H, eid="e9"),
        event("d", "app_opened", T - H, eid="e9"),
    ]
    once = {"event": "app_opened", "count": {"eq": 1}}
    assert members(once, events=rows) == {"a", "c", "d"}
    assert members({"trait": "event_count", "eq": 2}, events=rows) == {"b"}


def test_duplicate_removal_happens_after_dropping_later_events() -> None:
    # a copy after T is ignored; the copy at/before T still counts
    rows: Rows = [event("a", "app_opened", T + S, eid=7), event("a", "app_opened", T, eid=7)]
    assert members({"event": "app_opened", "count": {"eq": 1}}, events=rows) == {"a"}


# ------------------------------------------------------------------------ sequences

CHECKOUT, PAYMENT, ORDER = "checkout_viewed", "payment_entered", "order_completed"


def test_sequence_steps_are_strictly_ordered_and_step_within_is_inclusive() -> None:
    start = T - H
    rows: Rows = [
        *(event("same", CHECKOUT, start), event("same", PAYMENT, start)),
        *(event("next", CHECKOUT, start), event("next", PAYMENT, start + S)),
        *(event("edge", CHECKOUT, start), event("edge", PAYMENT, start + 10 * M)),
        *(event("late", CHECKOUT, start), event("late", PAYMENT, start + 10 * M + S)),
        *(event("rev", PAYMENT, start - H), event("rev", CHECKOUT, start)),
        # the second checkout starts the chain: 9 minutes before the payment
        *(event("two", CHECKOUT, start), event("two", CHECKOUT, start + 10 * M)),
        event("two", PAYMENT, start + 19 * M),
        # the payment after T does not exist yet
        *(event("future", CHECKOUT, T - 5 * M), event("future", PAYMENT, T + S)),
    ]
    rule = {"sequence": {"steps": [{"event": CHECKOUT}, {"event": PAYMENT, "within": "10m"}]}}
    assert members(rule, events=rows) == {"next", "edge", "two"}
    # a step without `within` has no upper bound on the gap
    unbounded = {"sequence": {"steps": [{"event": CHECKOUT}, {"event": PAYMENT}]}}
    assert members(unbounded, events=rows) == {"next", "edge", "late", "two"}


def test_sequence_within_constrains_the_first_step() -> None:
    rows: Rows = [
        *(event("out", CHECKOUT, T - H), event("out", PAYMENT, T)),
        *(event("in", CHECKOUT, T - H + S), event("in", PAYMENT, T)),
    ]
    rule = {"sequence": {"within": "1h", "steps": [{"event": CHECKOUT}, {"event": PAYMENT}]}}
    assert members(rule, events=rows) == {"in"}
    single = {"sequence": {"within": "1h", "steps": [{"event": CHECKOUT}]}}
    assert members(single, events=rows) == {"in"}


def test_step_within_is_relative_to_the_previous_step() -> None:
    start = T - H
    rows: Rows = [
        event("ok", CHECKOUT, start),
        event("ok", PAYMENT, start + 10 * M),
        event("ok", ORDER, start + 15 * M),  # 15 min after e1 but 5 after e2
        event("no", CHECKOUT, start),
        event("no", PAYMENT, start + 10 * M),
        event("no", ORDER, start + 15 * M + S),
    ]
    rule = {
        "sequence": {
            "steps": [
                {"event": CHECKOUT},
                {"event": PAYMENT, "within": "10m"},
                {"event": ORDER, "within": "5m"},
            ]
        }
    }
    assert members(rule, events=rows) == {"ok"}


def test_sequence_steps_apply_their_where() -> None:
    rows: Rows = [
        event("ok", "product_viewed", T - H, product_id="p1"),
        event("ok", ORDER, T - 30 * M, amount=60),
        event("cheap", "product_viewed", T - H, product_id="p1"),
        event("cheap", ORDER, T - 30 * M, amount=50),
        event("other", "product_viewed", T - H, product_id="p2"),
        event("other", ORDER, T - 30 * M, amount=60),
    ]
    rule = {
        "sequence": {
            "steps": [
                {"event": "product_viewed", "where": [{"property": "product_id", "eq": "p1"}]},
                {"event": ORDER, "within": "1h", "where": [{"property": "amount", "gt": 50}]},
            ]
        }
    }
    assert members(rule, events=rows) == {"ok"}


def test_absent_last_step_needs_the_wait_to_be_over() -> None:
    rows: Rows = [
        event("quiet", CHECKOUT, T - 10 * M),
        event("just_over", CHECKOUT, T - 5 * M),  # e + 5m == T: the wait is over
        event("waiting", CHECKOUT, T - 5 * M + S),  # e + 5m > T
        *(event("bought", CHECKOUT, T - 10 * M), event("bought", ORDER, T - 5 * M)),
        *(event("slow", CHECKOUT, T - 10 * M), event("slow", ORDER, T - 5 * M + S)),
        *(event("same_ts", CHECKOUT, T - 10 * M), event("same_ts", ORDER, T - 10 * M)),
        # the first checkout was followed by an order, the second was not
        *(event("again", CHECKOUT, T - 20 * M), event("again", ORDER, T - 18 * M)),
        event("again", CHECKOUT, T - 10 * M),
        # the other way round: only the late checkout lacks an order, and it is too recent
        *(event("recent", CHECKOUT, T - 20 * M), event("recent", ORDER, T - 18 * M)),
        event("recent", CHECKOUT, T - M),
    ]
    rule = {"sequence": {"steps": [{"event": CHECKOUT}, {"event": ORDER, "absent": True, "within": "5m"}]}}
    assert members(rule, events=rows) == {"quiet", "just_over", "slow", "same_ts", "again"}


def test_absent_step_after_a_chain() -> None:
    rows: Rows = [
        *(event("ok", CHECKOUT, T - H), event("ok", PAYMENT, T - 55 * M)),
        event("no_payment", CHECKOUT, T - H),
        *(event("bought", CHECKOUT, T - H), event("bought", PAYMENT, T - 55 * M)),
        event("bought", ORDER, T - 54 * M),
    ]
    rule = {
        "sequence": {
            "steps": [
                {"event": CHECKOUT},
                {"event": PAYMENT, "within": "10m"},
                {"event": ORDER, "absent": True, "within": "5m"},
            ]
        }
    }
    assert members(rule, events=rows) == {"ok"}


# ------------------------------------------------------------------------ regularity


def test_regularity_periods_are_open_below_and_closed_above() -> None:
    week = 7 * D
    rows: Rows = [
        *(event("two", "app_opened", T), event("two", "app_opened", T - week)),
        *(event("one", "app_opened", T), event("one", "app_opened", T - week + S)),
        *(event("edge", "app_opened", T - week), event("edge", "app_opened", T - 2 * week)),
        event("future", "app_opened", T + S),
        event("future", "app_opened", T - week),
    ]
    rule = {"event": "app_opened", "every": "7d", "periods": 2, "at_least": 2}
    assert members(rule, events=rows) == {"two"}
    dense = {"event": "app_opened", "every": "7d", "periods": 1, "at_least": 1, "min_count": 2}
    assert members(dense, events=rows) == {"one"}


def test_regularity_applies_where() -> None:
    rows: Rows = [
        event("a", ORDER, T - D, amount=10),
        event("a", ORDER, T - 8 * D, amount=100),
        event("b", ORDER, T - D, amount=100),
        event("b", ORDER, T - 8 * D, amount=100),
    ]
    rule = {
        "event": ORDER,
        "where": [{"property": "amount", "gte": 50}],
        "every": "1w",
        "periods": 2,
        "at_least": 2,
    }
    assert members(rule, events=rows) == {"b"}


# ------------------------------------------------------------------------ rfm


RFM_ROWS: Rows = [
    # a: recency 1 day, frequency 1, monetary 10
    event("a", ORDER, T - D, amount=10),
    # b: recency 2 days (2d 1s floors to 2), frequency 3, monetary 10 (null skipped)
    event("b", ORDER, T - 5 * D, amount=5),
    event("b", ORDER, T - 4 * D, amount=None),
    event("b", ORDER, T - 2 * D - S, amount=5),
    # c: recency 10, frequency 2, monetary 150
    event("c", ORDER, T - 20 * D, amount=100),
    event("c", ORDER, T - 10 * D, amount=50),
    # d: recency 0, frequency 3, monetary 4
    event("d", ORDER, T - 3 * D, amount=1),
    event("d", ORDER, T - 2 * D, amount=1),
    event("d", ORDER, T - 12 * H, amount="2"),
    # e: exactly 30 days ago is outside `rfm.within: 30d`; after T is ignored
    event("e", ORDER, T - 30 * D, amount=1000),
    event("e", ORDER, T + S, amount=1000),
    event("e", "app_opened", T),
]
# n = 4. recency desc: c10 (rank 1), b2 (2), a1 (3), d0 (4) -> R c1 b2 a4 d5
# frequency asc: a1 (1), c2 (2), b3 d3 (3, 3)             -> F a1 c2 b4 d4
# monetary asc: d4 (1), a10 b10 (2, 2), c150 (4)          -> M d1 a2 b2 c5
# tiers: a R4F1 needs_attention, b R2F4 at_risk, c R1F2 hibernating, d R5F4 champions


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"tier": "needs_attention"}, {"a"}),
        ({"tier": "at_risk"}, {"b"}),
        ({"tier": "hibernating"}, {"c"}),
        ({"tier": "champions"}, {"d"}),
        ({"r": {"eq": 1}}, {"c"}),
        ({"r": {"eq": 2}}, {"b"}),
        ({"r": {"eq": 4}}, {"a"}),
        ({"r": {"eq": 5}}, {"d"}),
        ({"f": {"eq": 4}}, {"b", "d"}),
        ({"f": {"between": [1, 2]}}, {"a", "c"}),
        ({"m": {"eq": 2}}, {"a", "b"}),
        ({"m": {"eq": 5}}, {"c"}),
        ({"m": {"eq": 1}}, {"d"}),
        ({"recency_days": {"eq": 2}}, {"b"}),
        ({"recency_days": {"lte": 1}}, {"a", "d"}),
        ({"frequency": {"eq": 3}}, {"b", "d"}),
        ({"monetary": {"eq": 10}}, {"a", "b"}),
        ({"monetary": {"gt": 100}}, {"c"}),
        ({"r": {"gte": 2}, "f": {"gte": 4}}, {"b", "d"}),
        # e has no qualifying event: no scores, every comparison false (neq included)
        ({"r": {"neq": 3}}, {"a", "b", "c", "d"}),
        ({"monetary": {"gte": 0}}, {"a", "b", "c", "d"}),
    ],
)
def test_rfm_scores_from_hand_computed_ranks(spec: dict[str, Any], expected: set[str]) -> None:
    assert members({"rfm": spec}, events=RFM_ROWS) == expected


def test_rfm_users_without_a_tier() -> None:
    assert members({"not": {"rfm": {"tier": "champions"}}}, events=RFM_ROWS) == {
        "a",
        "b",
        "c",
        "e",
    }


def test_rfm_single_user_scores_five_and_new_customer() -> None:
    assert members({"rfm": {"tier": "champions"}}, events=[event("a", ORDER, T)]) == {"a"}
    # n = 2: x recency 0 (R 5) frequency 1 (F 1); y recency 5 (R 1) frequency 2 (F 5)
    rows: Rows = [
        event("x", ORDER, T),
        event("y", ORDER, T - 6 * D),
        event("y", ORDER, T - 5 * D),
    ]
    assert members({"rfm": {"tier": "new_customer"}}, events=rows) == {"x"}
    assert members({"rfm": {"tier": "at_risk"}}, events=rows) == {"y"}


# ------------------------------------------------------------------------ holdout


def test_holdout_variants() -> None:
    # md5('vip:hello')[:8] = 64088f6e -> 1678282606 % 100 = 6
    # md5('vip:1') -> 54, md5('vip:42') -> 53, md5('vip:user-42') -> 91
    users: Rows = [{"user_id": u} for u in ("hello", 1, 42, "user-42")]

    def variants(**extra: Any) -> dict[str, str | None]:
        segments: Rows = [{"name": "vip", "rule": EVERYONE, **extra}]
        return run(CONFIG, segments, users, [], T)["vip"]

    assert variants(holdout=7) == {
        "hello": "control",
        "1": "treatment",
        "42": "treatment",
        "user-42": "treatment",
    }
    assert variants(holdout=6)["hello"] == "treatment"  # bucket < holdout, strictly
    assert variants(holdout=50)["hello"] == "control"
    assert variants(holdout=50)["42"] == "treatment"  # 53
    assert set(variants(holdout=0).values()) == {None}
    assert set(variants().values()) == {None}


# ------------------------------------------------------------------------ two-valued logic

MISSING_USERS: Rows = [
    {"user_id": "nulls", "plan": None, "signup_at": None, "lifetime_value": None},
    {"user_id": "absent"},
]
MISSING_EVENTS: Rows = [event("events_only", "app_opened", T)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"trait": "plan", "eq": "pro"}, False),
        ({"trait": "plan", "eq": ""}, False),
        ({"trait": "plan", "neq": "pro"}, True),
        ({"trait": "plan", "neq": "pro", "ignore_case": True}, True),
        ({"trait": "plan", "in": ["pro", ""]}, False),
        ({"trait": "plan", "not_in": ["pro"]}, True),
        ({"trait": "plan", "contains": "p"}, False),
        ({"trait": "plan", "not_contains": "p"}, True),
        ({"trait": "plan", "starts_with": "p"}, False),
        ({"trait": "plan", "ends_with": "p"}, False),
        ({"trait": "plan", "matches": "^[^x]*$"}, False),
        ({"trait": "plan", "is_set": True}, False),
        ({"trait": "plan", "is_set": False}, True),
        ({"trait": "ltv", "gt": 0}, False),
        ({"trait": "ltv", "lte": 0}, False),
        ({"trait": "ltv", "between": [-1000, 1000]}, False),
        ({"trait": "ltv", "neq": 0}, True),
        ({"trait": "signup_at", "before": "2030-01-01"}, False),
        ({"trait": "signup_at", "after": "2000-01-01"}, False),
        ({"trait": "signup_at", "more_than_ago": "1d"}, False),
        ({"trait": "signup_at", "less_than_ago": "2w"}, False),
        ({"trait": "signup_at", "in_next": "2w"}, False),
        ({"trait": "signup_at", "neq": "2025-01-01"}, True),
        ({"trait": "is_beta", "eq": False}, False),
        ({"trait": "is_beta", "neq": True}, True),
        ({"not": {"trait": "plan", "eq": "pro"}}, True),
    ],
)
def test_missing_traits_are_two_valued(rule: dict[str, Any], expected: bool) -> None:
    everyone = {"nulls", "absent", "events_only"}
    got = members(rule, MISSING_USERS, MISSING_EVENTS)
    assert got == (everyone if expected else set())


@pytest.mark.parametrize(
    ("plan", "op", "operand", "ignore_case", "expected"),
    [
        ("Pro", "eq", "pro", True, True),
        ("Pro", "eq", "pro", False, False),
        ("PRO", "in", ["pro", "free"], True, True),
        ("pro_trial", "contains", "O_T", True, True),
        ("snakeXcase", "contains", "e_c", False, False),  # `_` is not a wildcard
        ("snake_case", "contains", "e_c", False, True),
        ("pro", "contains", "%", False, False),  # `%` is not a wildcard
        ("100%", "ends_with", "%", False, True),
        ("back\\slash", "contains", "\\", False, True),
        ("o'brien", "starts_with", "o'", False, True),
        ("zürich", "starts_with", "zür", True, True),
        ("café", "ends_with", "é", False, True),
        ("pro_trial", "matches", "^pro$", False, False),
        ("pro", "matches", "^pro$", False, True),
        ("pro_trial", "matches", "o|e", False, True),  # partial match
        ("r12", "matches", "\\d", False, True),
        ("cdab", "matches", "(ab|cd)+z?", False, True),
        ("", "eq", "", False, True),
        ("", "matches", "^[^x]*$", False, True),
    ],
)
def test_string_operators_and_their_negations(
    plan: str, op: str, operand: Any, ignore_case: bool, expected: bool
) -> None:
    users: Rows = [{"user_id": "u", "plan": plan}]
    extra = {"ignore_case": True} if ignore_case else {}
    assert members({"trait": "plan", op: operand, **extra}, users) == ({"u"} if expected else set())
    negation = {"eq": "neq", "in": "not_in", "contains": "not_contains"}.get(op)
    if negation is not None:  # a present value: neq == not eq
        negated = members({"trait": "plan", negation: operand, **extra}, users)
        assert negated == (set() if expected else {"u"})


def test_json_null_and_absent_properties_are_missing() -> None:
    rows: Rows = [
        event("a", ORDER, T, amount=5),
        event("a", ORDER, T, amount=None),
        event("a", ORDER, T, product_id="p"),
        {**event("a", ORDER, T), "properties": None},
        {**event("a", ORDER, T), "properties": "{}"},
    ]

    def count(where: dict[str, Any]) -> int:
        for n in range(6):
            rule = {"event": ORDER, "where": [where], "count": {"eq": n}}
            if members(rule, events=rows):
                return n
        raise AssertionError(where)

    assert count({"property": "amount", "eq": 5}) == 1
    assert count({"property": "amount", "neq": 5}) == 4
    assert count({"property": "amount", "not_in": [5, 6]}) == 4
    assert count({"property": "amount", "gt": 0}) == 1
    assert count({"property": "amount", "is_set": False}) == 4
    assert count({"property": "source", "not_contains": "x"}) == 5  # undeclared: string
    assert count({"property": "is_gift", "neq": True}) == 5


def test_property_spellings_read_as_their_types() -> None:
    rows: Rows = [
        event("a", ORDER, T, amount="12.5", is_gift="true", placed_at="2025-05-01T00:00:00"),
        event("b", ORDER, T, amount=12.5, is_gift=True, placed_at="2025-05-01"),
    ]
    where = [
        {"property": "amount", "eq": 12.5},
        {"property": "is_gift", "eq": True},
        {"property": "placed_at", "eq": "2025-05-01"},
    ]
    assert members({"event": ORDER, "where": where}, events=rows) == {"a", "b"}


# ------------------------------------------------------------------------ traits


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (T - 7 * D, {"more_than_ago": "7d"}, True),
        (T - 7 * D + S, {"more_than_ago": "7d"}, False),
        (T - 7 * D, {"less_than_ago": "7d"}, False),
        (T - 7 * D + S, {"less_than_ago": "7d"}, True),
        (T, {"less_than_ago": "7d"}, True),
        (T + S, {"less_than_ago": "7d"}, False),
        (T, {"in_next": "3d"}, True),
        (T - S, {"in_next": "3d"}, False),
        (T + 3 * D - S, {"in_next": "3d"}, True),
        (T + 3 * D, {"in_next": "3d"}, False),
        (T, {"before": "2025-06-01T12:00:00"}, False),
        (T - S, {"before": "2025-06-01T12:00:00"}, True),
        (T, {"after": "2025-06-01T12:00:00"}, False),
        (T + S, {"after": "2025-06-01T12:00:00"}, True),
        (T, {"between": ["2025-06-01", "2025-06-01T12:00:00"]}, True),
        (datetime(2025, 6, 1), {"between": ["2025-06-01", "2025-06-01T12:00:00"]}, True),
        (T + S, {"between": ["2025-06-01", "2025-06-01T12:00:00"]}, False),
        (datetime(2025, 6, 1), {"eq": "2025-06-01"}, True),
        (datetime(2025, 6, 1), {"in": ["2025-01-01", "2025-06-01T00:00:00"]}, True),
        (datetime(2025, 6, 1, 0, 0, 1), {"eq": "2025-06-01"}, False),
    ],
)
def test_timestamp_trait_edges(value: datetime, spec: dict[str, Any], expected: bool) -> None:
    users: Rows = [{"user_id": "u", "trial_ends_at": value}]
    got = members({"trait": "trial_ends_at", **spec}, users)
    assert got == ({"u"} if expected else set())


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (10, {"between": [10, 20]}, True),
        (20, {"between": [10, 20.0]}, True),
        (20.5, {"between": [10, 20]}, False),
        (10, {"gt": 10}, False),
        (10, {"gte": 10}, True),
        (10.0, {"eq": 10}, True),
        (-0.5, {"lt": 0}, True),
        (20.5, {"in": [10, 20.5]}, True),
        (20.5, {"not_in": [10, 20.5]}, False),
    ],
)
def test_number_trait_operators(value: float, spec: dict[str, Any], expected: bool) -> None:
    users: Rows = [{"user_id": "u", "lifetime_value": value}]  # `ltv` reads column lifetime_value
    assert members({"trait": "ltv", **spec}, users) == ({"u"} if expected else set())


def test_boolean_trait() -> None:
    users: Rows = [
        {"user_id": "yes", "is_beta": True},
        {"user_id": "no", "is_beta": False},
        {"user_id": "unknown"},
    ]
    assert members({"trait": "is_beta", "eq": True}, users) == {"yes"}
    assert members({"trait": "is_beta", "eq": False}, users) == {"no"}
    assert members({"trait": "is_beta", "neq": True}, users) == {"no", "unknown"}


def test_builtin_traits() -> None:
    rows: Rows = [
        event("a", "app_opened", T - 2 * D, eid=1),
        event("a", ORDER, T, eid=2),
        event("a", ORDER, T, eid=2),  # the same event twice
        event("a", ORDER, T + S, eid=3),  # after T
    ]
    users: Rows = [{"user_id": "a"}, {"user_id": "quiet"}]
    assert members({"trait": "event_count", "eq": 2}, users, rows) == {"a"}
    assert members({"trait": "event_count", "eq": 0}, users, rows) == {"quiet"}
    assert members({"trait": "first_seen_at", "eq": "2025-05-30T12:00:00"}, users, rows) == {"a"}
    assert members({"trait": "last_seen_at", "eq": "2025-06-01T12:00:00"}, users, rows) == {"a"}
    assert members({"trait": "last_seen_at", "is_set": False}, users, rows) == {"quiet"}
    assert members({"trait": "first_seen_at", "neq": "2025-01-01"}, users, rows) == {
        "a",
        "quiet",
    }


# ------------------------------------------------------------------------ universe


def test_universe_users_relation_plus_event_users() -> None:
    users: Rows = [{"user_id": 42, "plan": "pro"}, {"user_id": "no_events"}, {"user_id": None}]
    rows: Rows = [
        event("42", "app_opened", T),  # joins the integer id 42
        event("ghost", "app_opened", T),  # known only from events
        event(None, "app_opened", T),  # null user id: ignored
        event("late", "app_opened", T + S),  # only after T: not in the universe
    ]
    assert members(EVERYONE, users, rows) == {"42", "no_events", "ghost"}
    assert members({"trait": "event_count", "eq": 1}, users, rows) == {"42", "ghost"}
    assert members({"trait": "plan", "is_set": False}, users, rows) == {"no_events", "ghost"}
    assert members({"trait": "plan", "neq": "pro"}, users, rows) == {"no_events", "ghost"}


def test_in_segment_counts_either_variant() -> None:
    users: Rows = [{"user_id": u} for u in ("hello", 1, 42, "user-42")]
    segments: Rows = [
        {"name": "vip", "rule": EVERYONE, "holdout": 50},
        {"name": "ref", "rule": {"in_segment": "vip"}},
        {"name": "neg", "rule": {"not": {"in_segment": "vip"}}},
    ]
    result = run(CONFIG, segments, users, [], T)
    assert set(result["ref"]) == {"hello", "1", "42", "user-42"}
    assert result["neg"] == {}


# ------------------------------------------------------------------------ geo


def test_near_uses_haversine_and_needs_both_coordinates() -> None:
    # 0.1 degree of latitude = 6371.0088 * 0.1 * pi / 180 = 11.1195 km
    users: Rows = [
        {"user_id": "centre", "latitude": 52.52, "longitude": 13.405},
        {"user_id": "north", "latitude": 52.62, "longitude": 13.405},
        {"user_id": "no_lon", "latitude": 52.52},
        {"user_id": "no_lat", "longitude": 13.405},
    ]

    def near(radius: float) -> set[str]:
        return members({"near": {"lat": 52.52, "lon": 13.405, "radius_km": radius}}, users)

    assert near(11) == {"centre"}
    assert near(11.12) == {"centre", "north"}
    assert members({"not": {"near": {"lat": 52.52, "lon": 13.405, "radius_km": 1}}}, users) == {
        "north",
        "no_lon",
        "no_lat",
    }


# ------------------------------------------------------------------------ both configs


def test_flat_properties_give_the_same_result_as_json() -> None:
    rows: Rows = [
        event("a", ORDER, T - H, eid=1, amount=60, product_id="p1", is_gift=True),
        event("a", ORDER, T - H, eid=1, amount=60, product_id="p1", is_gift=True),
        event("b", ORDER, T - 2 * H, eid=2, amount=40, source="ads"),
        event("b", "product_viewed", T - 3 * H, eid=3, placed_at="2025-05-01T00:00:00"),
    ]
    flat_rows = [flat(row) for row in rows]
    cases: Rows = [
        {"event": ORDER, "sum": {"property": "amount", "eq": 60}},
        {"event": ORDER, "where": [{"property": "source", "eq": "ads"}]},
        {"event": ORDER, "where": [{"property": "is_gift", "neq": True}]},
        {"event": "product_viewed", "where": [{"property": "placed_at", "after": "2025-04-30"}]},
        {"event": ORDER, "count_distinct": {"property": "product_id", "eq": 0}},
    ]
    expected = [{"a"}, {"b"}, {"b"}, {"b"}, {"b"}]
    for rule, want in zip(cases, expected, strict=True):
        assert members(rule, events=rows) == want
        assert members(rule, events=flat_rows, config=TEST_CONFIG_FLAT) == want


# ------------------------------------------------------------------------ generated input
