"""Hand-written cases for each reason a user becomes a candidate (sql/candidates.py).

Each case moves T from T1 to T2 with no new data, so the moving edge is the only thing that
can change the result. It checks three things:
- the subject's membership does flip, so the case means something;
- the subject is a candidate;
- a bystander with the same kind of data, away from the edge, is not one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlglot import exp

from segwise.sql import literals
from segwise.sql.candidates import Watermarks, candidates_query, rfm_text
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership
from segwise.sql.rfm import rfm_ctes, rfm_events_cte
from segwise.sql.staging import col
from tests.reference.strategies import TEST_CONFIG_JSON
from tests.support.engines import DuckEngine
from tests.support.projects import project_from_dicts
from tests.support.tables import load_tables

T1 = datetime(2025, 6, 1, 12, 0, 0)
S, H, D = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)
OLD = datetime(2024, 1, 1)


def ev(user: str, name: str, ts: datetime, **props: Any) -> dict[str, Any]:
    import json

    return {"user_id": user, "event_name": name, "occurred_at": ts, "loaded_at": OLD, "properties": json.dumps(props)}


def iso(ts: datetime) -> str:
    return ts.isoformat(sep=" ")


def user(uid: str, **traits: Any) -> dict[str, Any]:
    return {"user_id": uid, "updated_at": OLD, **traits}


CASES: list[tuple[str, dict[str, Any], timedelta, list[dict[str, Any]], list[dict[str, Any]]]] = [
    (
        "window start passes an event",
        {"event": "app_opened", "within": "7d"},
        H,
        [],
        [ev("subject", "app_opened", T1 - 7 * D + 30 * 60 * S), ev("bystander", "app_opened", T1 - 3 * D)],
    ),
    (
        "between_ago end lets an event in",
        {"event": "app_opened", "between_ago": ["7d", "1d"]},
        H,
        [],
        [ev("subject", "app_opened", T1 - D + 30 * 60 * S), ev("bystander", "app_opened", T1 - 3 * D)],
    ),
    (
        "a regularity period boundary passes an event",
        {"event": "app_opened", "every": "1d", "periods": 2, "at_least": 2},
        H,
        [],
        [
            ev("subject", "app_opened", T1 - 2 * D + 30 * 60 * S),
            ev("subject", "app_opened", T1 - 5 * H),
            ev("bystander", "app_opened", T1 - 5 * H),
        ],
    ),
    (
        "a sequence's first step leaves its window",
        {"sequence": {"within": "2d", "steps": [{"event": "login"}, {"event": "order_completed", "within": "1h"}]}},
        H,
        [],
        [
            ev("subject", "login", T1 - 2 * D + 60 * S),
            ev("subject", "order_completed", T1 - 2 * D + 120 * S),
            ev("bystander", "login", T1 - D),
            ev("bystander", "order_completed", T1 - D + 60 * S),
        ],
    ),
    (
        "an absent step's wait ends",
        {
            "sequence": {
                "steps": [{"event": "checkout_viewed"}, {"event": "order_completed", "absent": True, "within": "2h"}]
            }
        },
        H,
        [],
        [ev("subject", "checkout_viewed", T1 - 90 * 60 * S), ev("bystander", "checkout_viewed", T1 - 5 * D)],
    ),
    (
        "last_seen measure becomes more than 14 days ago",
        {"event": "app_opened", "last_seen": {"more_than_ago": "14d"}},
        H,
        [],
        [ev("subject", "app_opened", T1 - 14 * D + 60 * S), ev("bystander", "app_opened", T1 - 20 * D)],
    ),
    (
        "built-in last_seen_at becomes more than 14 days ago",
        {"trait": "last_seen_at", "more_than_ago": "14d"},
        H,
        [],
        [ev("subject", "page_viewed", T1 - 14 * D + 60 * S), ev("bystander", "page_viewed", T1 - 20 * D)],
    ),
    (
        "a timestamp trait becomes more than 30 days ago",
        {"trait": "signup_at", "more_than_ago": "30d"},
        H,
        [user("subject", signup_at=T1 - 30 * D + 60 * S), user("bystander", signup_at=T1 - 3 * D)],
        [],
    ),
    (
        "a future timestamp trait becomes less than 1 day ago",
        {"trait": "signup_at", "less_than_ago": "1d"},
        H,
        [user("subject", signup_at=T1 + 60 * S), user("bystander", signup_at=T1 + 5 * D)],
        [],
    ),
    (
        "a trial end comes within the next 3 days",
        {"trait": "trial_ends_at", "in_next": "3d"},
        H,
        [user("subject", trial_ends_at=T1 + 3 * D + 60 * S), user("bystander", trial_ends_at=T1 + 10 * D)],
        [],
    ),
    (
        "a trial end passes",
        {"trait": "trial_ends_at", "in_next": "3d"},
        H,
        [user("subject", trial_ends_at=T1 + 60 * S), user("bystander", trial_ends_at=T1 + D)],
        [],
    ),
    (
        "an event's timestamp property becomes more than 12 hours ago",
        {"event": "order_completed", "where": [{"property": "placed_at", "more_than_ago": "12h"}]},
        H,
        [],
        [
            ev("subject", "order_completed", T1 - D, placed_at=iso(T1 - 12 * H + 60 * S)),
            ev("bystander", "order_completed", T1 - D, placed_at=iso(T1 - 3 * D)),
        ],
    ),
    (
        "an event's future timestamp property becomes less than 1 day ago",
        {"event": "order_completed", "where": [{"property": "placed_at", "less_than_ago": "1d"}]},
        H,
        [],
        [
            ev("subject", "order_completed", T1 - D, placed_at=iso(T1 + 60 * S)),
            ev("bystander", "order_completed", T1 - D, placed_at=iso(T1 + 5 * D)),
        ],
    ),
    (
        "a sequence step's timestamp property becomes more than 1 hour ago",
        {
            "sequence": {
                "steps": [
                    {"event": "checkout_viewed", "where": [{"property": "placed_at", "more_than_ago": "1h"}]},
                    {"event": "order_completed", "within": "1h"},
                ]
            }
        },
        H,
        [],
        [
            ev("subject", "checkout_viewed", T1 - 2 * D, placed_at=iso(T1 - H + 60 * S)),
            ev("subject", "order_completed", T1 - 2 * D + 60 * S),
            ev("bystander", "checkout_viewed", T1 - 2 * D, placed_at=iso(T1 - 5 * D)),
            ev("bystander", "order_completed", T1 - 2 * D + 60 * S),
        ],
    ),
    (
        "RFM ranks move when another buyer's order leaves the window",
        {"rfm": {"tier": "potential_loyalist"}},
        H,
        [],
        [
            # n=3: frequency ranks leaver 1, subject 2, other 3 -> subject R5 F3, potential_loyalist;
            # once leaver's order leaves the 30d window, n=2 and subject is R5 F1, new_customer.
            ev("leaver", "order_completed", T1 - 30 * D + 60 * S, amount=1),
            ev("subject", "order_completed", T1 - 60 * S, amount=5),
            ev("subject", "order_completed", T1 - 120 * S, amount=5),
            ev("other", "order_completed", T1 - 10 * D, amount=5),
            ev("other", "order_completed", T1 - 11 * D, amount=5),
            ev("other", "order_completed", T1 - 12 * D, amount=5),
            ev("bystander", "app_opened", T1 - 3 * D),
        ],
    ),
]


@pytest.mark.parametrize(("label", "rule", "step", "users", "events"), CASES, ids=[c[0] for c in CASES])
def test_edge_makes_a_candidate(label: str, rule: dict[str, Any], step: timedelta, users: Any, events: Any) -> None:
    config = {**TEST_CONFIG_JSON, "sources": {**TEST_CONFIG_JSON["sources"]}}
    config["sources"]["users"] = {**config["sources"]["users"], "updated_at": "updated_at"}
    project = project_from_dicts(config, [{"name": "subject_segment", "rule": rule}])
    engine = DuckEngine()
    load_tables(engine, config, users, events)
    target = get_target("duckdb")

    def members(as_of: datetime) -> set[str]:
        query = compile_membership(project, ["subject_segment"], "duckdb", as_of)
        return {row[1] for row in engine.query(target.sql(query))}

    t2 = T1 + step
    assert ("subject" in members(T1)) != ("subject" in members(t2)), "the case must flip the subject"
    marks = Watermarks(
        prev_as_of=literals.timestamp(target, T1),
        loaded_after=literals.timestamp(target, OLD),
        updated_after=literals.timestamp(target, OLD),
    )
    query = candidates_query(project, ["subject_segment"], "duckdb", literals.timestamp(target, t2), marks)
    chosen = {row[0] for row in engine.query(target.sql(query))}
    assert "subject" in chosen
    assert "bystander" not in chosen


def test_rfm_candidates_are_the_buyers_whose_values_moved_not_float_noise() -> None:
    """The previous run's RFM values (segwise_rfm_state) against this run's: a monetary sum
    that differs in its last bits (engines add doubles in no fixed order) is the same value;
    one that differs by a real amount makes a candidate, and so do changed scores."""
    config = {**TEST_CONFIG_JSON, "sources": {**TEST_CONFIG_JSON["sources"]}}
    config["sources"]["users"] = {**config["sources"]["users"], "updated_at": "updated_at"}
    project = project_from_dicts(config, [{"name": "champions", "rule": {"rfm": {"tier": "champions"}}}])
    engine = DuckEngine()
    buyers = ["noisy", "moved", "steady"]
    events = [ev(b, "order_completed", T1 - (i + 1) * H, amount=0.1 * (i + 1)) for i, b in enumerate(buyers)]
    load_tables(engine, config, [], events)
    target = get_target("duckdb")
    t = literals.timestamp(target, T1)
    now = exp.select(
        col("user_id"), exp.alias_(rfm_text(target), "rfm"), exp.alias_(col("monetary"), "monetary")
    ).from_("sw_rfm")
    now = now.with_("sw_rfm_events", as_=rfm_events_cte(target, project.config, exp.to_table("events"), t))
    for name, cte in rfm_ctes(target, project.config.rfm, "sw_rfm_events", t):
        now = now.with_(name, as_=cte)
    values = {row[0]: row[1:] for row in engine.query(target.sql(now))}
    assert set(values) == set(buyers)
    kept = {
        "noisy": (values["noisy"][0], repr(values["noisy"][1] * (1 + 1e-15))),  # the last bits
        "moved": (values["moved"][0], repr(values["moved"][1] + 0.01)),  # a real amount
        "steady": (values["steady"][0], repr(values["steady"][1])),
    }
    engine.execute("CREATE TABLE rfm_state (user_id VARCHAR, rfm VARCHAR, monetary VARCHAR)")
    for user_id, (text, money) in kept.items():
        engine.execute(f"INSERT INTO rfm_state VALUES ('{user_id}', '{text}', '{money}')")
    marks = Watermarks(prev_as_of=t, loaded_after=literals.timestamp(target, OLD), updated_after=t)
    query = candidates_query(
        project, ["champions"], "duckdb", literals.timestamp(target, T1 + S), marks, rfm_state=exp.to_table("rfm_state")
    )
    assert {row[0] for row in engine.query(target.sql(query))} == {"moved"}
    engine.execute("UPDATE rfm_state SET rfm = rfm || 'x' WHERE user_id = 'steady'")  # a score moved
    assert {row[0] for row in engine.query(target.sql(query))} == {"moved", "steady"}
