"""The data set of tests/test_preview_explain.py, reusable for other warehouses.

A segwise project (CONFIG, SEGMENTS), users and events with hand-computed answers at T, and
`check_warehouse`, which runs `preview_result` and `explain_result` through a dbt profile and
lists every disagreement with the reference evaluator. To check fakesnow or a BigQuery
emulator: create the tables USER_COLUMNS / EVENT_COLUMNS (`app_users` in the target's schema,
`events_v1` in the schema given to `write_project`), insert `rows(USERS, USER_COLUMNS)` and
`rows(EVENTS, EVENT_COLUMNS)`, write the project with the target's profile, then

    assert check_warehouse(root / "segwise.yml", profiles_dir) == []
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from segwise.explain import explain_result
from segwise.loading import load_project
from segwise.preview import preview_result
from segwise.warehouse import connect, load_profile, resolver_for
from tests.reference.evaluator import evaluate

T = datetime(2025, 6, 1, 12, 0, 0)
AS_OF = "2025-06-01T12:00:00"
S, M, H, D = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# ------------------------------------------------------------------------------- the project

CONFIG: dict[str, Any] = {
    "segments_path": "segments",
    "models_path": "models/segwise",
    "sources": {
        "users": {
            "relation": "ref('app_users')",  # table app_users of the target's schema
            "id": "user_id",
            "traits": {
                "plan": "string",
                "ltv": {"type": "number", "column": "lifetime_value"},
                "latitude": "number",
                "longitude": "number",
            },
            "geo": {"lat": "latitude", "lon": "longitude"},
        },
        "events": {
            "relation": "source('raw', 'app_events')",  # declared in models/sources.yml
            "user_id": "user_id",
            "name": "event_name",
            "timestamp": "occurred_at",
            "id": "event_id",
            "properties": {"column": "properties", "types": {"amount": "number"}},
        },
    },
    "rfm": {"event": "order_completed", "monetary": "amount", "within": "30d"},
}

SUBJECT_RULE: dict[str, Any] = {
    "all": [
        {
            "any": [
                {"event": "product_viewed", "within": "48h", "count": {"gte": 3}},
                {"trait": "plan", "eq": "pro"},
            ]
        },
        {"not": {"event": "order_completed", "avg": {"property": "amount", "gt": 500}}},
        {
            "any": [
                {
                    "sequence": {
                        "within": "7d",
                        "steps": [{"event": "checkout_viewed"}, {"event": "order_completed", "within": "10m"}],
                    }
                },
                {"in_segment": "buyers"},
                {"rfm": {"r": {"gte": 4}}},
            ]
        },
    ]
}
SEGMENTS: list[dict[str, Any]] = [
    {"name": "buyers", "rule": {"event": "order_completed"}},
    {"name": "subject", "holdout": 50, "rule": SUBJECT_RULE},
    {"name": "percent", "rule": {"trait": "plan", "contains": "%"}},  # a '%' must reach the engine as is
    {"name": "nearby", "rule": {"near": {"lat": 52.52, "lon": 13.405, "radius_km": 10}}},
]

USERS: list[dict[str, Any]] = [
    {"user_id": "alice", "plan": "free", "lifetime_value": 400.0, "latitude": 52.52, "longitude": 13.405},
    {"user_id": "bob", "plan": "pro", "lifetime_value": 1400.0, "latitude": 52.6, "longitude": 13.405},
    {"user_id": "carol", "plan": "free", "lifetime_value": 50.0},
    {"user_id": "eve", "plan": "pro"},  # no events
    {"user_id": "frank", "plan": "pro%"},
]


def event(eid: str, user: str, name: str, ts: datetime, **props: Any) -> dict[str, Any]:
    return {
        "event_id": eid,
        "user_id": user,
        "event_name": name,
        "occurred_at": ts,
        "properties": json.dumps(props) if props else None,
    }


EVENTS: list[dict[str, Any]] = [
    # alice: 4 product views in 48h (one delivered twice), checkout then order 5 minutes later,
    # two orders averaging 200; an event after T that must be ignored
    event("a1", "alice", "product_viewed", T - H),
    event("a1", "alice", "product_viewed", T - H + S),
    event("a2", "alice", "product_viewed", T - 2 * H),
    event("a3", "alice", "product_viewed", T - 3 * H),
    event("a4", "alice", "product_viewed", T - 47 * H),
    event("a5", "alice", "checkout_viewed", T - D - 5 * M),
    event("a6", "alice", "order_completed", T - D, amount=100),
    event("a7", "alice", "order_completed", T - 10 * D, amount=300),
    event("a8", "alice", "product_viewed", T + H),
    # bob: one view, two big orders (avg 700)
    event("b1", "bob", "product_viewed", T - H),
    event("b2", "bob", "order_completed", T - 5 * D, amount=600),
    event("b3", "bob", "order_completed", T - 20 * D, amount=800),
    # carol: two views, an old order (outside the RFM window)
    event("c1", "carol", "product_viewed", T - 3 * H),
    event("c2", "carol", "product_viewed", T - 4 * H),
    event("c3", "carol", "order_completed", T - 40 * D, amount=50),
    # dave: known only from events
    event("d1", "dave", "product_viewed", T - H),
    event("d2", "dave", "product_viewed", T - 2 * H),
    event("d3", "dave", "product_viewed", T - 3 * H),
    event("d4", "dave", "order_completed", T - 2 * D, amount=20),
    event("f1", "frank", "app_opened", T - D),
    # twenty old buyers without a users row
    *(event(f"u{i}", f"u{i:02d}", "order_completed", T - 40 * D - i * M, amount=10 * (i + 1)) for i in range(20)),
]

REFERENCE = evaluate(CONFIG, SEGMENTS, USERS, EVENTS, T)


USER_COLUMNS = ["user_id", "plan", "lifetime_value", "latitude", "longitude"]
EVENT_COLUMNS = ["event_id", "user_id", "event_name", "occurred_at", "properties"]


def rows(table: list[dict[str, Any]], columns: list[str]) -> list[list[Any]]:
    """Rows as lists in the column order of the CREATE TABLE."""
    return [[row.get(c) for c in columns] for row in table]


def write_project(root: Path, raw_schema: str, profile_outputs: dict[str, Any]) -> Path:
    """The project in `root` (segwise.yml, dbt_project.yml with profile `sw_test`, segments/,
    models/sources.yml declaring source('raw', 'app_events') as `<raw_schema>.events_v1`) and
    profiles.yml in `root/profiles` with `profile_outputs`; returns the profiles directory."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "segwise.yml").write_text(json.dumps(CONFIG))
    (root / "dbt_project.yml").write_text("name: sw_test\nprofile: sw_test\nconfig-version: 2\n")
    (root / "segments").mkdir()
    (root / "segments" / "test.yml").write_text(json.dumps({"segments": SEGMENTS}, indent=2))
    (root / "models").mkdir()
    sources = {
        "sources": [
            {"name": "raw", "schema": raw_schema, "tables": [{"name": "app_events", "identifier": "events_v1"}]}
        ]
    }
    (root / "models" / "sources.yml").write_text(json.dumps(sources))
    profiles_dir = root / "profiles"
    profiles_dir.mkdir()
    profiles = {"sw_test": {"target": "{{ env_var('SW_TEST_TARGET', 'main') }}", "outputs": profile_outputs}}
    (profiles_dir / "profiles.yml").write_text(json.dumps(profiles))
    return profiles_dir


def check_warehouse(config_path: Path, profiles_dir: Path, target: str | None = None) -> list[str]:
    """Every disagreement between preview/explain on the profile's warehouse and the reference."""
    problems: list[str] = []
    project = load_project(config_path)
    profile = load_profile(config_path, profiles_dir, target=target)
    resolver = resolver_for(profile, project.config, config_path.parent)
    with connect(profile) as warehouse:
        for name, expected in REFERENCE.items():
            result = preview_result(project, name, warehouse, T, sample=5, resolver=resolver)
            if result.members != len(expected) or list(result.sample) != sorted(expected.items())[:5]:
                problems.append(f"preview {name}: {result.members} {result.sample} != {sorted(expected.items())[:5]}")
        for user in ["alice", "bob", "carol", "dave", "eve", "frank", "u03"]:
            why = explain_result(project, "subject", user, warehouse, T, resolver=resolver)
            member = user in REFERENCE["subject"]
            if why.root is None or why.root.value is not member or why.member is not member:
                problems.append(f"explain subject {user}: {why.member} != {member}")
            elif why.variant != REFERENCE["subject"].get(user):
                problems.append(f"explain subject {user}: variant {why.variant}")
    return problems
