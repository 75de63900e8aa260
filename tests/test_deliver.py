"""`segwise deliver` (docs/delivery.md): enter/exit events to webhooks, at least once.

A receiver on 127.0.0.1 (tests/support/webhook_server.py) checks every signature with
`verify_signature`, deduplicates by change id and injects faults; deliverers run in forked
processes that are killed with SIGKILL at random points and run again until done.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segwise.config import Project
from segwise.deliver import (
    Backoff,
    DeliveryError,
    DeliveryReport,
    Secret,
    Tuning,
    change_id,
    deliver,
    load_deliveries,
    replay_dead_letters,
    signature,
    verify_signature,
)
from segwise.deliver.changes import Change, ChangeKey, batch_id
from segwise.deliver.ratelimit import TokenBucket
from segwise.deliver.sender import retry_after_seconds
from segwise.deliver.store import open_store
from segwise.errors import ValidationError
from segwise.rules.values import format_iso_z as iso_z
from segwise.warehouse.profiles import ConnectionProfile
from tests.support.projects import project_from_dicts
from tests.support.webhook_server import Faults, Route, WebhookReceiver

SECRET = "sw-test-secret-9f8e7d6c"  # distinctive: searched for in every output
OTHER_SECRET = "sw-other-secret-1a2b3c"
ENV = {"ALL_SECRET": SECRET, "VIP_SECRET": OTHER_SECRET, "DOWN_SECRET": SECRET}
FAST = Tuning(backoff=Backoff(base=0.001, max=0.01, retry_after_cap=0.02), lock_wait=20)
T0 = datetime(2025, 3, 1, 6, 0)

CONFIG: dict[str, Any] = {
    "sources": {
        "users": {"relation": "users", "id": "user_id"},
        "events": {"relation": "events", "user_id": "user_id", "name": "event_name", "timestamp": "occurred_at"},
    }
}
SEGMENTS = [
    {"name": "active", "tags": ["core"], "rule": {"event": "visit"}},
    {"name": "buyers", "tags": ["core"], "rule": {"event": "purchase"}},
    {"name": "churn_risk", "tags": ["vip", "lifecycle"], "rule": {"not": {"event": "visit"}}},
]


@pytest.fixture(scope="module")
def project() -> Project:
    return project_from_dicts(CONFIG, SEGMENTS)


Row = tuple[str, str, datetime, str, str]  # segment, user_id, changed_at, change, reason


# --------------------------------------------------------------------------------- warehouses


class Warehouse:
    """A fresh place for segment_changes and the delivery tables: a DuckDB file or a
    PostgreSQL schema. Connections are opened per call: a deliverer in another process must
    be able to open the DuckDB file."""

    profile: ConnectionProfile

    def insert(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def table(self, name: str) -> str:
        raise NotImplementedError

    def cursor(self, endpoint: str) -> ChangeKey | None:
        with open_store(self.profile, read_only=True) as store:
            return store.cursor(endpoint)

    def dead_letters(self, endpoint: str) -> list[Any]:
        with open_store(self.profile, read_only=True) as store:
            return store.dead_letters(endpoint, limit=100_000)

    def exists(self, name: str) -> bool:
        with open_store(self.profile, read_only=True) as store:
            return store.exists(name)


class DuckWarehouse(Warehouse):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.profile = ConnectionProfile(
            "segwise", "test", "duckdb", {"type": "duckdb", "path": str(path)}, path.parent / "profiles.yml"
        )
        with duckdb.connect(str(path)) as con:
            con.execute(
                "CREATE TABLE segment_changes (segment VARCHAR, user_id VARCHAR, changed_at TIMESTAMP, "
                "change VARCHAR, reason VARCHAR)"
            )

    def insert(self, rows: list[Row]) -> None:
        if rows:
            with duckdb.connect(str(self.path)) as con:
                con.executemany("INSERT INTO segment_changes VALUES (?, ?, ?, ?, ?)", rows)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path)) as con:
            return [tuple(r) for r in con.execute(sql).fetchall()]

    def table(self, name: str) -> str:
        return f"main.{name}"


class PgWarehouse(Warehouse):
    def __init__(self, dsn: str) -> None:
        url = urlparse(dsn)
        self.dsn = dsn
        self.schema = f"sw_{uuid.uuid4().hex[:10]}"
        self.profile = ConnectionProfile(
            "segwise",
            "test",
            "postgres",
            {
                "type": "postgres",
                "host": url.hostname,
                "port": url.port or 5432,
                "user": url.username or "postgres",
                "password": url.password or "",
                "dbname": url.path.lstrip("/") or "postgres",
                "schema": self.schema,
            },
            Path("profiles.yml"),
        )
        self._run(
            f"CREATE SCHEMA {self.schema}",
            f"CREATE TABLE {self.schema}.segment_changes (segment TEXT, user_id TEXT, changed_at TIMESTAMP, "
            "change TEXT, reason TEXT)",
        )

    def _connect(self) -> Any:
        import psycopg2

        return psycopg2.connect(self.dsn)

    def _run(self, *statements: str) -> None:
        con = self._connect()
        try:
            with con, con.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            con.close()

    def insert(self, rows: list[Row]) -> None:
        if not rows:
            return
        con = self._connect()
        try:
            with con, con.cursor() as cur:
                cur.executemany(f"INSERT INTO {self.schema}.segment_changes VALUES (%s, %s, %s, %s, %s)", rows)
        finally:
            con.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        con = self._connect()
        try:
            with con, con.cursor() as cur:
                cur.execute(sql)
                return [tuple(r) for r in cur.fetchall()]
        finally:
            con.close()

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}"


Factory = Callable[[], Warehouse]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """Makes a fresh warehouse per call (hypothesis examples share the test's fixtures)."""
    count = itertools.count()
    if request.param == "duckdb":
        return lambda: DuckWarehouse(tmp_path / f"warehouse_{next(count)}.duckdb")
    dsn = request.getfixturevalue("pg_dsn")
    return lambda: PgWarehouse(dsn)


@pytest.fixture
def duck(tmp_path: Path) -> DuckWarehouse:
    """DuckDB only: for what does not depend on the engine."""
    return DuckWarehouse(tmp_path / "warehouse.duckdb")


# --------------------------------------------------------------------------------- helpers


@dataclass
class EndpointSpec:
    name: str
    secret_env: str
    extra: dict[str, Any] = field(default_factory=dict)


def write_config(path: Path, receiver: WebhookReceiver, endpoints: list[EndpointSpec]) -> Path:
    items = []
    for spec in endpoints:
        items.append({"name": spec.name, "url": receiver.url(spec.name), "secret_env": spec.secret_env, **spec.extra})
    path.write_text(json.dumps({"version": 1, "endpoints": items}, indent=2))  # JSON is YAML
    return path


def expected(rows: list[Row], segments: set[str], changes: set[str], definition: bool) -> list[ChangeKey]:
    keys = [
        (t, s, u, c) for s, u, t, c, r in rows if s in segments and c in changes and (definition or r != "definition")
    ]
    return sorted(keys)


def arrived_keys(receiver: WebhookReceiver, name: str) -> list[ChangeKey]:
    keys = []
    for change in receiver.unique(name):
        changed_at = datetime.fromisoformat(change["changed_at"].replace("Z", "+00:00")).replace(tzinfo=None)
        keys.append((changed_at, change["segment"], change["user_id"], change["change"]))
        assert change["id"] == change_id(change["segment"], change["user_id"], changed_at, change["change"])
    return keys


def _quiet(_: str) -> None:
    pass


def _child(
    project: Project, profile: ConnectionProfile, path: Path, tuning: Tuning, queue: Any = None, barrier: Any = None
) -> None:
    if barrier is not None:
        barrier.wait()
    report = deliver(project, profile, path, env=ENV, tuning=tuning, log=_quiet)
    if queue is not None:
        queue.put([(e.name, e.sent, e.batches, e.skipped, e.error) for e in report.endpoints])


FORK = multiprocessing.get_context("fork")


def run_killed(project: Project, profile: ConnectionProfile, path: Path, delay: float) -> None:
    """A deliverer in a forked process, killed with SIGKILL after `delay` seconds (if still running)."""
    process = FORK.Process(target=_child, args=(project, profile, path, FAST))
    process.start()
    process.join(delay)
    if process.is_alive():
        process.kill()
    process.join()


# --------------------------------------------------------------------------------- identifiers and signatures


def test_change_ids_and_batch_ids_are_the_documented_hashes() -> None:
    at = datetime(2025, 1, 31, 6, 0)
    assert iso_z(at) == "2025-01-31T06:00:00Z"
    assert iso_z(at.replace(microsecond=1500)) == "2025-01-31T06:00:00.001500Z"
    assert iso_z(datetime(2025, 1, 31, 7, 0, tzinfo=UTC) + timedelta(hours=0)) == "2025-01-31T07:00:00Z"
    text = "churn_risk|u1|2025-01-31T06:00:00Z|entered"
    assert change_id("churn_risk", "u1", at, "entered") == hashlib.sha256(text.encode()).hexdigest()
    a = Change("s", "u1", at, "entered", "data")
    b = Change("s", "u2", at, "exited", "data")
    assert batch_id([a, b]) == hashlib.sha256(f"{a.id}|{b.id}".encode()).hexdigest()
    assert batch_id([a, b]) != batch_id([b, a])


def test_signatures_verify_and_expire() -> None:
    body = b'{"schema":"segwise.changes.v1"}'
    now = 1_738_303_200
    header = signature(SECRET, now, body)
    assert header.startswith("v1=") and len(header) == 3 + 64
    assert verify_signature(SECRET, str(now), body, header, now=now + 10)
    assert verify_signature(Secret(SECRET), now, body.decode(), header, now=now)
    assert verify_signature(SECRET, now, body, f"v1=00ff, {header}", now=now)  # one of several (rotation)
    assert not verify_signature(OTHER_SECRET, now, body, header, now=now)
    assert not verify_signature(SECRET, now, body + b" ", header, now=now)
    assert not verify_signature(SECRET, now + 1, body, header, now=now)  # the timestamp is signed too
    assert not verify_signature(SECRET, now, body, header, now=now + 301)  # older than 5 minutes
    assert verify_signature(SECRET, now, body, header, now=now + 301, tolerance=600)
    assert not verify_signature(SECRET, now, body, header, now=now - 301)  # from the future
    assert not verify_signature(SECRET, "soon", body, header, now=now)
    assert not verify_signature(SECRET, None, body, header, now=now)
    assert not verify_signature(SECRET, now, body, None, now=now)
    assert SECRET not in repr(Secret(SECRET)) and SECRET not in str(Secret(SECRET))


def test_the_documented_example_and_snippet_hold() -> None:
    """docs/delivery.md: the example payload's ids are the real hashes, and the receiver's
    Python snippet accepts what the deliverer signs and rejects what it should."""
    doc = (Path(__file__).parent.parent / "docs" / "delivery.md").read_text()
    example = json.loads(doc.split("```json\n", 1)[1].split("```", 1)[0])
    changes = [
        Change(c["segment"], c["user_id"], datetime.fromisoformat(c["changed_at"][:-1]), c["change"], c["reason"])
        for c in example["changes"]
    ]
    assert [c["id"] for c in example["changes"]] == [c.id for c in changes]
    assert example["batch"] == {"id": batch_id(changes), "size": 2}
    namespace: dict[str, Any] = {}
    exec(doc.split("```python\n", 1)[1].split("```", 1)[0], namespace)
    snippet = namespace["verify_signature"]
    body, now = json.dumps(example).encode(), 1_738_303_200
    header = signature(SECRET, now, body)
    assert snippet(SECRET, str(now), body, header, now=now + 299)
    assert not snippet(SECRET, str(now), body, header, now=now + 301)
    assert not snippet(OTHER_SECRET, str(now), body, header, now=now)
    assert not snippet(SECRET, str(now), body + b"x", header, now=now)


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2025, 1, 31, 6, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Fri, 31 Jan 2025 06:00:30 GMT", now) == pytest.approx(30)
    assert retry_after_seconds("Fri, 31 Jan 2025 05:00:00 GMT", now) == 0  # in the past: at once
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_token_bucket_spaces_requests() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    bucket = TokenBucket(2, monotonic=lambda: clock[0], sleep=sleep)
    for _ in range(6):
        bucket.acquire()
    assert clock[0] == pytest.approx(2.0)  # a burst of 2, then one every 0.5 s


# --------------------------------------------------------------------------------- deliveries.yml

BAD_CONFIGS = [
    ("version: 2\nendpoints: []\n", "deliveries.yml:1:10: unsupported version", "write `version: 1`"),
    ("endpoints:\n  - name: x\n", "deliveries.yml:1:1: deliveries.yml is missing required key 'version'", None),
    (
        "version: 1\nendpoint: []\n",
        "deliveries.yml:2:1: unknown key 'endpoint' in deliveries.yml",
        "did you mean 'endpoints'?",
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: http://hooks.example.com/x\n"
        "    secret_env: CRM\n    segments: [active]\n",
        "deliveries.yml:4:10: endpoint 'crm': url must use https",
        "plain http is allowed only to localhost",
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    secret_env: CRM\n    segments: [activ, buyers]\n",
        "deliveries.yml:6:16: endpoint 'crm': unknown segment 'activ'",
        "did you mean 'active'?",
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    secret_env: CRM\n    tags: [lifecycel]\n",
        "deliveries.yml:6:12: endpoint 'crm': no segment has the tag 'lifecycel'",
        "did you mean 'lifecycle'?",
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n    secret_env: CRM\n",
        "deliveries.yml:3:5: endpoint 'crm' selects no segment",
        "segments: [name, ...]",
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    secret_env: CRM\n    segments: [active]\n    changes: [entered, exit]\n",
        "deliveries.yml:7:24: endpoint 'crm': unknown change 'exit'",
        "did you mean 'exited'?",
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    secret_env: CRM\n    segments: [active]\n    batch_size: '50'\n",
        "deliveries.yml:7:17: endpoint 'crm': batch_size must be an integer from 1 to 10000",
        "write it without quotes: batch_size: 50",
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    secret_env: CRM\n    segments: [active]\n    rate_limit: 0\n",
        "deliveries.yml:7:17: endpoint 'crm': rate_limit must be a number of requests per second more than 0, got 0",
        None,
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    secret_env: CRM\n    segments: [active]\n    max_attemps: 3\n",
        "deliveries.yml:7:5: unknown key 'max_attemps' in endpoint 'crm'",
        "did you mean 'max_attempts'?",
    ),
    (
        "version: 1\nendpoints:\n  - {name: a, url: 'https://h.example/x', secret_env: A, segments: [active]}\n"
        "  - {name: a, url: 'https://h.example/y', secret_env: A, segments: [active]}\n",
        "deliveries.yml:4:12: duplicate endpoint name 'a' (first at line 3)",
        None,
    ),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    segments: [active]\n    include_definition_changes: yes please\n",
        "deliveries.yml:3:5: endpoint 'crm' is missing required key 'secret_env'",
        None,
    ),
    ("version: true\nendpoints: []\n", "deliveries.yml:1:10: unsupported version: true", None),
    (
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        "    secret_env: CRM\n    segments: active\n",
        "deliveries.yml:6:15: endpoint 'crm': segments must be a list, got the string 'active'",
        "write segments: [active]",
    ),
    ("version: 1\nendpoints:\n  - name: [crm\n", "deliveries.yml:4:1: invalid YAML", None),
]


@pytest.mark.parametrize(("text", "message", "hint"), BAD_CONFIGS)
def test_config_errors_are_located_with_hints(
    tmp_path: Path, project: Project, text: str, message: str, hint: str | None
) -> None:
    path = tmp_path / "deliveries.yml"
    path.write_text(text)
    with pytest.raises(ValidationError) as info:
        load_deliveries(path, project)
    shown = str(info.value).replace(str(tmp_path) + "/", "")
    line = next((line for line in shown.splitlines() if line.startswith(message)), None)
    assert line is not None, shown
    if hint:
        assert hint in line, line


def test_a_secret_pasted_into_the_config_is_not_echoed(tmp_path: Path, project: Project) -> None:
    path = tmp_path / "deliveries.yml"
    path.write_text(
        "version: 1\nendpoints:\n  - name: crm\n    url: https://hooks.example.com/x\n"
        f"    secret_env: '{SECRET}'\n    segments: [active]\n"
    )
    with pytest.raises(ValidationError) as info:
        load_deliveries(path, project)
    assert "5:17: endpoint 'crm': secret_env must name an environment variable" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_valid_config_with_defaults_and_tags(tmp_path: Path, project: Project) -> None:
    path = tmp_path / "deliveries.yml"
    path.write_text(
        "version: 1\nendpoints:\n"
        "  - name: crm\n    url: https://hooks.example.com/x?token=abc\n    secret_env: CRM\n"
        "    segments: [active]\n    tags: [vip]\n"
        "  - name: local\n    url: http://127.0.0.1:9/x\n    secret_env: LOCAL\n    tags: [core]\n"
        "    changes: [exited]\n    include_definition_changes: true\n    batch_size: 5\n"
        "    rate_limit: 0.5\n    timeout: 2.5\n    max_attempts: 3\n"
    )
    crm, local = load_deliveries(path, project).endpoints
    assert crm.segments == {"active", "churn_risk"} and crm.changes == ("entered", "exited")
    assert (crm.include_definition_changes, crm.batch_size, crm.rate_limit, crm.timeout, crm.max_attempts) == (
        False,
        100,
        10.0,
        10.0,
        8,
    )
    assert crm.display_url == "https://hooks.example.com/x"  # no token in messages
    assert local.segments == {"active", "buyers"} and local.changes == ("exited",)
    assert (local.include_definition_changes, local.batch_size, local.rate_limit, local.timeout) == (
        True,
        5,
        0.5,
        2.5,
    )
    assert local.max_attempts == 3


# --------------------------------------------------------------------------------- delivering

ROWS: list[Row] = [
    ("active", "u1", T0, "entered", "data"),
    ("buyers", "u1", T0, "entered", "definition"),
    ("churn_risk", "u2", T0, "entered", "data"),
    ("active", "u2", T0 + timedelta(hours=1), "entered", "data"),
    ("active", "u1", T0 + timedelta(hours=1, microseconds=250), "exited", "data"),
    ("churn_risk", "u2", T0 + timedelta(hours=2), "exited", "definition"),
    ("buyers", "u3", T0 + timedelta(hours=2), "entered", "data"),
]


def test_filters_reasons_and_the_tables(new_warehouse: Factory, tmp_path: Path, project: Project) -> None:
    """Definition changes are skipped unless asked for; segments, tags and change kinds
    select; the cursor and an empty dead-letter table are left in the segwise schema."""
    wh = new_warehouse()
    wh.insert(ROWS)
    with WebhookReceiver({"all": Route(SECRET), "vip": Route(OTHER_SECRET)}) as rx:
        path = write_config(
            tmp_path / "deliveries.yml",
            rx,
            [
                EndpointSpec("all", "ALL_SECRET", {"tags": ["core"], "segments": ["churn_risk"], "batch_size": 2}),
                EndpointSpec(
                    "vip",
                    "VIP_SECRET",
                    {"tags": ["vip"], "changes": ["exited"], "include_definition_changes": True},
                ),
            ],
        )
        report = deliver(project, wh.profile, path, env=ENV, tuning=FAST, log=_quiet)
        assert report.ok and not rx.problems
        everything = {"active", "buyers", "churn_risk"}
        assert arrived_keys(rx, "all") == expected(ROWS, everything, {"entered", "exited"}, False)
        assert arrived_keys(rx, "vip") == expected(ROWS, {"churn_risk"}, {"exited"}, True)
        assert [e.sent for e in report.endpoints] == [5, 1]
        assert [e.batches for e in report.endpoints] == [3, 1]
        # nothing new: a second run sends nothing
        again = deliver(project, wh.profile, path, env=ENV, tuning=FAST, log=_quiet)
        assert again.sent == 0 and len(rx.requests) == 4
    last = expected(ROWS, everything, {"entered", "exited"}, False)[-1]
    assert wh.cursor("all") == last
    columns = wh.query(
        f"SELECT endpoint, last_changed_at, last_segment, last_user_id, lease_holder, lease_expires_at, updated_at "
        f"FROM {wh.table('segwise_deliveries')} ORDER BY endpoint"
    )
    assert [(c[0], c[1], c[2], c[3], c[4], c[5]) for c in columns] == [
        ("all", last[0], last[1], last[2], None, None),  # the lease released
        ("vip", T0 + timedelta(hours=2), "churn_risk", "u2", None, None),
    ]
    assert (
        wh.query(
            "SELECT endpoint, change_id, segment, user_id, changed_at, change, reason, attempts, last_error, failed_at "
            f"FROM {wh.table('segwise_delivery_dead_letters')}"
        )
        == []
    )


def test_dry_run_prints_and_changes_nothing(duck: DuckWarehouse, tmp_path: Path, project: Project) -> None:
    duck.insert(ROWS)
    lines: list[str] = []
    with WebhookReceiver({"all": Route(SECRET)}) as rx:
        path = write_config(
            tmp_path / "deliveries.yml", rx, [EndpointSpec("all", "ALL_SECRET", {"tags": ["core"], "batch_size": 2})]
        )
        report = deliver(project, duck.profile, path, dry_run=True, env={}, log=lines.append)  # no secret needed
        assert rx.requests == []
    text = "\n".join(lines)
    assert "all: would send 4 changes in 2 batches" in text
    assert "note: ALL_SECRET (the secret of all) is not set here" in text
    endpoint = report.endpoints[0]
    assert endpoint.pending == 4 and endpoint.first_payload is not None
    assert endpoint.first_payload["schema"] == "segwise.changes.v1"
    assert [c["user_id"] for c in endpoint.first_payload["changes"]] == ["u1", "u2"]
    assert json.dumps(endpoint.first_payload, indent=2) in text
    assert not duck.exists("segwise_deliveries")  # nothing written, not even the tables


def test_a_down_endpoint_dead_letters_everything_then_replays(
    duck: DuckWarehouse, tmp_path: Path, project: Project
) -> None:
    duck.insert(ROWS)
    route = Route(SECRET, always=503)
    with WebhookReceiver({"down": route}) as rx:
        spec = EndpointSpec("down", "DOWN_SECRET", {"tags": ["core"], "batch_size": 3, "max_attempts": 3})
        path = write_config(tmp_path / "deliveries.yml", rx, [spec])
        lines: list[str] = []
        report = deliver(project, duck.profile, path, env=ENV, tuning=FAST, log=lines.append)
        endpoint = report.endpoints[0]
        assert (endpoint.sent, endpoint.dead_lettered, endpoint.retries) == (0, 4, 4)
        assert rx.outcomes("down") == Counter({"always": 6})  # 2 batches x 3 attempts
        letters = duck.dead_letters("down")
        assert sorted(letter.change.key for letter in letters) == expected(
            ROWS, {"active", "buyers"}, {"entered", "exited"}, False
        )
        assert {(letter.attempts, letter.last_error.split(":")[0]) for letter in letters} == {
            (3, "HTTP 503 Service Unavailable")
        }
        assert duck.cursor("down") == letters[-1].change.key
        assert any("gave up on batch" in line for line in lines)
        # the endpoint is back: a replay sends the dead letters, which then leave the table
        route.always = None
        replayed = replay_dead_letters(project, duck.profile, path, env=ENV, tuning=FAST, log=_quiet)
        assert replayed.endpoints[0].sent == 4 and duck.dead_letters("down") == []
        assert arrived_keys(rx, "down") == expected(ROWS, {"active", "buyers"}, {"entered", "exited"}, False)


def test_a_rejection_stops_the_endpoint_without_losing_anything(
    duck: DuckWarehouse, tmp_path: Path, project: Project
) -> None:
    duck.insert(ROWS)
    route = Route(SECRET, always=401)
    with WebhookReceiver({"all": route}) as rx:
        path = write_config(tmp_path / "deliveries.yml", rx, [EndpointSpec("all", "ALL_SECRET", {"tags": ["core"]})])
        report = deliver(project, duck.profile, path, env=ENV, tuning=FAST, log=_quiet)
        assert not report.ok and "HTTP 401" in (report.endpoints[0].error or "")
        assert rx.outcomes("all") == Counter({"always": 1})  # not retried
        assert duck.cursor("all") is None and duck.dead_letters("all") == []
        route.always = None
        assert deliver(project, duck.profile, path, env=ENV, tuning=FAST, log=_quiet).sent == 4


def test_retry_after_is_honoured(duck: DuckWarehouse, tmp_path: Path, project: Project) -> None:
    duck.insert(ROWS[:1])
    route = Route(SECRET, faults=Faults(throttle=1.0, max_failures=1), retry_after="1", retry_after_dates=0)
    with WebhookReceiver({"all": route}) as rx:
        path = write_config(tmp_path / "deliveries.yml", rx, [EndpointSpec("all", "ALL_SECRET", {"tags": ["core"]})])
        tuning = Tuning(backoff=Backoff(base=0.001, max=0.01, retry_after_cap=5))
        report = deliver(project, duck.profile, path, env=ENV, tuning=tuning, log=_quiet)
        assert report.endpoints[0].sent == 1 and report.endpoints[0].retries == 1
        first, second = rx.requests
        assert first.outcome == "throttle" and second.outcome == "ok"
        assert second.at - first.at >= 0.95  # Retry-After: 1


def test_secrets_never_appear_in_output_or_logs(
    duck: DuckWarehouse,
    tmp_path: Path,
    project: Project,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    duck.insert(ROWS)
    with WebhookReceiver(
        {"all": Route(SECRET, faults=Faults(error=0.5, seed=3)), "down": Route(SECRET, always=500)}
    ) as rx:
        path = write_config(
            tmp_path / "deliveries.yml",
            rx,
            [
                EndpointSpec("all", "ALL_SECRET", {"tags": ["core"], "batch_size": 1}),
                EndpointSpec("down", "DOWN_SECRET", {"tags": ["core"], "max_attempts": 2}),
            ],
        )
        deliver(project, duck.profile, path, dry_run=True, env=ENV)
        report = deliver(project, duck.profile, path, env=ENV, tuning=FAST)  # prints
        assert report.endpoints[1].dead_lettered == 4
        with pytest.raises(DeliveryError) as info:  # one secret unset: nothing is sent
            deliver(project, duck.profile, path, env={"ALL_SECRET": SECRET}, tuning=FAST)
        message = str(info.value)
        assert "endpoint 'down': the environment variable DOWN_SECRET (secret_env) is not set" in message
        assert "deliveries.yml:" in message
        print(message, repr(report), repr(info.value))
    out = capsys.readouterr()
    text = out.out + out.err + caplog.text + "".join(str(letter) for letter in duck.dead_letters("down"))
    assert "dead-lettered" in text and "retrying in" in caplog.text  # the logs were written
    assert SECRET not in text and OTHER_SECRET not in text


def test_a_held_lease_is_skipped_an_expired_or_dead_one_taken(
    new_warehouse: Factory, tmp_path: Path, project: Project
) -> None:
    wh = new_warehouse()
    wh.insert(ROWS)
    with WebhookReceiver({"all": Route(SECRET)}) as rx:
        path = write_config(tmp_path / "deliveries.yml", rx, [EndpointSpec("all", "ALL_SECRET", {"tags": ["core"]})])
        now = datetime.now(UTC).replace(tzinfo=None)
        with open_store(wh.profile) as store:
            store.ensure_tables()
            assert store.take_lease("all", "elsewhere:1:a", now, now + timedelta(minutes=5)).taken
        lines: list[str] = []
        report = deliver(project, wh.profile, path, env=ENV, tuning=FAST, log=lines.append)
        assert report.ok and report.endpoints[0].skipped and rx.requests == []
        assert "all: skipped: another deliverer (elsewhere:1:a) holds its lease until" in lines[0]
        with open_store(wh.profile) as store:  # 6 minutes later, another takes it over, and its lease runs out
            later = now + timedelta(minutes=6)
            assert not store.take_lease("all", "elsewhere:1:b", now, now - timedelta(seconds=1)).taken
            assert store.take_lease("all", "elsewhere:1:b", later, now - timedelta(seconds=1)).taken
        assert deliver(project, wh.profile, path, env=ENV, tuning=FAST, log=_quiet).endpoints[0].sent == 4
        # a holder on this host whose process is gone is not waited for
        wh.insert([("active", "u9", T0 + timedelta(days=1), "entered", "data")])
        process = FORK.Process(target=time.sleep, args=(0,))
        process.start()
        process.join()
        with open_store(wh.profile) as store:
            dead = f"{os.uname().nodename}:{process.pid}:c"
            assert store.take_lease("all", dead, now, now + timedelta(minutes=5)).taken
        assert deliver(project, wh.profile, path, env=ENV, tuning=FAST, log=_quiet).endpoints[0].sent == 1


# --------------------------------------------------------------------------------- crashes and faults, property-based

SEGMENT_NAMES = ("active", "buyers", "churn_risk")


@st.composite
def change_logs(draw: st.DrawFn) -> list[list[Row]]:
    """A few runs' worth of changes: each run at a later T, unique per segment and user."""
    runs = []
    at = T0
    for _ in range(draw(st.integers(1, 3))):
        at += timedelta(hours=draw(st.integers(1, 30)), microseconds=draw(st.sampled_from([0, 1, 999_999])))
        cells = draw(
            st.lists(
                st.tuples(st.sampled_from(SEGMENT_NAMES), st.sampled_from([f"u{i}" for i in range(6)])),
                unique=True,
                max_size=10,
            )
        )
        runs.append(
            [
                (
                    s,
                    u,
                    at,
                    draw(st.sampled_from(["entered", "exited"])),
                    draw(st.sampled_from(["data", "data", "definition"])),
                )
                for s, u in cells
            ]
        )
    return runs


MAX_ATTEMPTS = 4


@settings(
    max_examples=min(settings().max_examples, 6),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    runs=change_logs(),
    seed=st.integers(0, 2**16),
    kinds=st.sets(st.sampled_from(["error", "throttle", "close", "slow"])),
    kills=st.lists(st.lists(st.floats(0.0, 0.4), max_size=2), min_size=3, max_size=3),
    batch_size=st.integers(1, 5),
)
def test_killed_deliverers_lose_nothing(
    new_warehouse: Factory,
    tmp_path: Path,
    project: Project,
    runs: list[list[Row]],
    seed: int,
    kinds: set[str],
    kills: list[list[float]],
    batch_size: int,
) -> None:
    """Runs append changes; after each, deliverers are killed at random points and run again
    until one finishes. Every selected change arrives (exactly once after dedupe, in key
    order), definition changes only where asked, the cursor ends at the last change, and only
    the endpoint that is always down has dead letters (all its changes, with the last error)."""
    wh = new_warehouse()
    chances = {"error": 0.3, "throttle": 0.1, "close": 0.1, "slow": 0.04}
    faults = Faults(
        **{kind: chances[kind] for kind in kinds},
        slow_seconds=0.3,
        max_failures=MAX_ATTEMPTS - 1,  # no batch of a working endpoint reaches max_attempts
        seed=seed,
    )
    routes = {
        "all": Route(SECRET, faults=faults),
        "vip": Route(OTHER_SECRET, faults=Faults(**{**faults.__dict__, "seed": seed + 1})),
        "down": Route(SECRET, always=500),
    }
    common = {"batch_size": batch_size, "timeout": 0.2, "rate_limit": 1000, "max_attempts": MAX_ATTEMPTS}
    with WebhookReceiver(routes) as rx:
        path = write_config(
            tmp_path / f"deliveries_{seed}.yml",
            rx,
            [
                EndpointSpec("all", "ALL_SECRET", {"segments": list(SEGMENT_NAMES), **common}),
                EndpointSpec(
                    "vip",
                    "VIP_SECRET",
                    {"tags": ["vip"], "changes": ["entered"], "include_definition_changes": True, **common},
                ),
                EndpointSpec("down", "DOWN_SECRET", {"segments": ["active"], **common, "max_attempts": 2}),
            ],
        )
        rows: list[Row] = []
        for run, delays in zip(runs, kills, strict=False):
            wh.insert(run)
            rows += run
            for delay in delays:
                run_killed(project, wh.profile, path, delay)
            report = deliver(project, wh.profile, path, env=ENV, tuning=FAST, log=_quiet)
            assert isinstance(report, DeliveryReport) and report.ok, report
            assert not any(e.skipped for e in report.endpoints)  # the killed holders' leases were taken

        assert not rx.problems
        want_all = expected(rows, set(SEGMENT_NAMES), {"entered", "exited"}, False)
        want_vip = expected(rows, {"churn_risk"}, {"entered"}, True)
        want_down = expected(rows, {"active"}, {"entered", "exited"}, False)
        assert arrived_keys(rx, "all") == want_all  # exactly once after dedupe, in order
        assert arrived_keys(rx, "vip") == want_vip
        assert len(rx.received["all"]) >= len(want_all)  # at least once before
        assert rx.unique("down") == []
    for name, want in (("all", want_all), ("vip", want_vip), ("down", want_down)):
        assert wh.cursor(name) == (want[-1] if want else None)
    assert wh.dead_letters("all") == [] and wh.dead_letters("vip") == []
    letters = wh.dead_letters("down")
    assert [letter.change.key for letter in letters] == want_down
    assert all(letter.attempts == 2 and letter.last_error.startswith("HTTP 500") for letter in letters)
    assert all(letter.change.reason == "data" for letter in letters)


# --------------------------------------------------------------------------------- concurrent deliverers


def _concurrent(wh: Warehouse, tmp_path: Path, project: Project, processes: int) -> tuple[WebhookReceiver, list[Any]]:
    rows = [(SEGMENT_NAMES[i % 3], f"u{i}", T0 + timedelta(minutes=i // 4), "entered", "data") for i in range(36)]
    wh.insert(rows)
    routes = {name: Route(SECRET, delay=0.01) for name in ("one", "two", "three")}
    rx = WebhookReceiver(routes)
    spec = {"segments": list(SEGMENT_NAMES), "batch_size": 3, "rate_limit": 1000}
    path = write_config(tmp_path / "deliveries.yml", rx, [EndpointSpec(n, "ALL_SECRET", spec) for n in routes])
    queue = FORK.Queue()
    barrier = FORK.Barrier(processes)
    workers = [
        FORK.Process(target=_child, args=(project, wh.profile, path, FAST, queue, barrier)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    for name in routes:
        assert len(rx.unique(name)) == len(rows)
    return rx, results


@pytest.mark.postgres
def test_concurrent_deliverers_never_send_a_batch_twice_on_postgres(
    pg_dsn: str, tmp_path: Path, project: Project
) -> None:
    wh = PgWarehouse(pg_dsn)
    rx, results = _concurrent(wh, tmp_path, project, processes=3)
    with rx:
        for name in ("one", "two", "three"):
            assert max(Counter(rx.recorded_batches[name]).values()) == 1, name  # each batch once, by one process
            assert len(rx.acked[name]) == 12
        skipped = [e for result in results for e in result if e[3]]
        assert skipped  # the lease turned deliverers away
        assert all("holds its lease" in e[3] for e in skipped)
        assert sum(e[2] for result in results for e in result) == 36  # 3 endpoints x 12 batches, no more


def test_concurrent_deliverers_are_serialised_by_the_duckdb_file_lock(
    duck: DuckWarehouse, tmp_path: Path, project: Project
) -> None:
    rx, results = _concurrent(duck, tmp_path, project, processes=2)
    with rx:
        for name in ("one", "two", "three"):
            assert max(Counter(rx.recorded_batches[name]).values()) == 1
        assert sum(e[2] for result in results for e in result) == 36  # the second found nothing left


def test_missing_segment_changes_is_explained(tmp_path: Path, project: Project) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    profile = ConnectionProfile("p", "t", "duckdb", {"type": "duckdb", "path": str(path)}, tmp_path / "profiles.yml")
    config = tmp_path / "deliveries.yml"
    config.write_text(
        "version: 1\nendpoints:\n  - {name: a, url: 'https://h.example/x', secret_env: A, segments: [active]}\n"
    )
    with pytest.raises(DeliveryError, match="no table segment_changes in schema 'main': run `segwise build` first"):
        deliver(project, profile, config, env={"A": "x"}, log=_quiet)


# --------------------------------------------------------------------------------- the command


def test_the_command_delivers_through_the_profile_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`segwise deliver` as a scheduler runs it, in the dbt project's directory: the profile's
    DuckDB, the project's segments; a second run sends nothing."""
    from click.testing import CliRunner

    from segwise.cli import main as segwise_cli

    duck = DuckWarehouse(tmp_path / "warehouse.duckdb")
    duck.insert(ROWS)
    (tmp_path / "segwise.yml").write_text(json.dumps({**CONFIG, "segments_path": "segments"}))
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "all.yml").write_text(json.dumps({"segments": SEGMENTS}))
    (tmp_path / "dbt_project.yml").write_text("name: p\nversion: '1.0'\nconfig-version: 2\nprofile: p\n")
    output = {"type": "duckdb", "path": str(duck.path)}
    (tmp_path / "profiles.yml").write_text(json.dumps({"p": {"target": "t", "outputs": {"t": output}}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALL_SECRET", SECRET)
    with WebhookReceiver({"all": Route(SECRET)}) as rx:
        write_config(tmp_path / "hooks.yml", rx, [EndpointSpec("all", "ALL_SECRET", {"tags": ["core", "vip"]})])
        first = CliRunner().invoke(segwise_cli, ["deliver", "--deliveries", "hooks.yml"])
        assert first.exit_code == 0, first.output
        second = CliRunner().invoke(segwise_cli, ["deliver", "--deliveries", "hooks.yml"])
        assert second.exit_code == 0, second.output
        got = [(c["segment"], c["user_id"], c["change"]) for c in rx.unique("all")]
    assert got == [("active", "u1", "entered"), ("churn_risk", "u2", "entered"), ("active", "u2", "entered"),
                   ("active", "u1", "exited"), ("buyers", "u3", "entered")]  # fmt: skip
    assert SECRET not in first.output + second.output
