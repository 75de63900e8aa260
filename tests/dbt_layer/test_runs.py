"""The dbt layer's run rules (docs/semantics.md): cost follows the data, repeats and time travel change
nothing, killed runs leave consistent tables, `generate --check` catches stale models, and
the schema tests catch broken tables."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segwise.cli import main as segwise_cli
from tests.dbt_layer.harness import REPO, DbtProject
from tests.reference.evaluator import evaluate
from tests.reference.strategies import TEST_CONFIG_JSON

pytestmark = pytest.mark.slow

T = datetime(2025, 6, 1, 12, 0, 0)
OLD = datetime(2024, 1, 1)
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


def _config() -> dict[str, Any]:
    config = json.loads(json.dumps(TEST_CONFIG_JSON))
    config["sources"]["users"]["updated_at"] = "updated_at"
    return config


def _event(user: str, name: str, ts: datetime, eid: str, **props: Any) -> dict[str, Any]:
    return {
        "user_id": user, "event_name": name, "occurred_at": ts, "loaded_at": OLD, "event_id": eid,
        "properties": json.dumps(props),
    }  # fmt: skip


@pytest.fixture(params=ENGINES)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    p = DbtProject(tmp_path / "p", request.param, dsn)
    yield p
    p.close()


def test_a_minute_later_reevaluates_only_the_users_whose_windows_crossed(project: DbtProject) -> None:
    project.configure(
        _config(),
        [
            {"name": "active_7d", "rule": {"event": "app_opened", "within": "7d"}},
            {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}},
        ],
    )
    users = [{"user_id": f"u{i}", "plan": "pro" if i % 2 else "free", "updated_at": OLD} for i in range(300)]
    events = []
    for i in range(300):  # one app_opened per user, 1..300 hours ago
        events.append(_event(f"u{i}", "app_opened", T - timedelta(hours=i + 1), f"e{i}"))
    # Exactly these three have an event that leaves the 7-day window in the next minute.
    edge = T - timedelta(days=7)
    for n, user in enumerate(["u3", "u4", "u5"]):
        events.append(_event(user, "app_opened", edge + timedelta(seconds=10 + n), f"edge{n}"))
    project.load(users, events)
    assert project.dbt("run", as_of=T)[0]
    assert project.dbt("run", as_of=T + timedelta(minutes=1))[0]
    runs = project.rows("segwise_runs", "as_of, mode, reevaluated_users")
    assert runs == [(T, "full", 300), (T + timedelta(minutes=1), "incremental", 3)]
    why = project.rows(
        "segwise_runs", "why, new_event_users, window_edge_users, changed_users, store, store_rows_added"
    )
    assert why == [("first run", 0, 0, 0, "rebuilt", 303), ("new data and moving windows", 0, 3, 0, "appended", 0)]
    # and the answer is still exact
    members = set(project.rows("segment_membership", "segment, user_id"))
    expected = evaluate(_config(), [{"name": "active_7d", "rule": {"event": "app_opened", "within": "7d"}}], users,
                        events, T + timedelta(minutes=1))  # fmt: skip
    assert {u for s, u in members if s == "active_7d"} == set(expected["active_7d"])


def _last_run(project: DbtProject, columns: str) -> tuple[Any, ...]:
    return max(project.rows("segwise_runs", f"as_of, {columns}"))[1:]


def test_a_changed_definition_is_evaluated_for_everyone_and_the_others_stay_incremental(
    project: DbtProject,
) -> None:
    """Adding a segment evaluates it (and nothing else) for every user; a reordered group
    relabels every user; the unchanged segments re-evaluate only their candidates, and every
    table equals a full evaluation (docs/incremental.md, 'Definition changes')."""
    active = {"name": "active_7d", "rule": {"event": "app_opened", "within": "7d"}}
    pro = {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}}
    free = {"name": "free", "rule": {"trait": "plan", "eq": "free"}}
    group = {"name": "tier", "priority": ["pro", "active_7d"], "fallback": "other"}
    project.configure(_config(), [active, pro, free], [group])
    users = [{"user_id": f"u{i}", "plan": "pro" if i % 2 else "free", "updated_at": OLD} for i in range(40)]
    events = [_event(f"u{i}", "app_opened", T - timedelta(days=i % 10), f"e{i}") for i in range(40)]
    project.load(users, events)
    assert project.dbt("run", as_of=T)[0]

    buyer = {"name": "buyer", "rule": {"event": "order_completed", "within": "30d"}}
    project.configure(_config(), [active, pro, free, buyer], [group])
    t1 = T + timedelta(hours=1)
    events += [_event("u3", "order_completed", T + timedelta(minutes=5), "o1") | {"loaded_at": t1}]
    events += [_event("u50", "order_completed", T + timedelta(minutes=6), "o2") | {"loaded_at": t1}]  # no users row
    project.load(users, events)
    assert project.dbt("run", as_of=t1)[0]
    run = _last_run(project, "mode, why, widened_segments, new_event_users")
    assert run == (
        "incremental",
        "definitions changed: buyer; the other segments: new data and moving windows",
        1,
        2,
    )
    evaluated = project.rows("segment_membership", "segment, user_id, evaluated_at")
    assert {u for s, u, _ in evaluated if s == "buyer"} == {"u3", "u50"}
    # the unchanged segments were re-evaluated for the candidates only
    assert {u for s, u, at in evaluated if s != "buyer" and at == t1} == {"u3"}
    assert ("buyer", "u50", t1, "entered", "definition") in project.rows("segment_changes")

    # a reordered group relabels every user; its segments are evaluated for everyone
    group = {"name": "tier", "priority": ["active_7d", "pro"], "fallback": "other"}
    project.configure(_config(), [active, pro, free, buyer], [group])
    t2 = t1 + timedelta(hours=1)
    assert project.dbt("run", as_of=t2)[0]
    run = _last_run(project, "mode, why, widened_segments")
    assert run == ("incremental", "groups changed: tier; the other segments: new data and moving windows", 2)
    segments = [active, pro, free, buyer]
    want = evaluate(_config(), segments, users, events, t2)
    labels = dict(project.rows("segment_group_membership", "user_id, segment"))
    for i in range(40):
        user = f"u{i}"
        assert labels[user] == next((s for s in ("active_7d", "pro") if user in want[s]), "other"), user
    members = set(project.rows("segment_membership", "segment, user_id"))
    assert members == {(s, u) for s, found in want.items() for u in found}

    # changing more than half of the segments makes a full run
    edited = [dict(active, rule={"event": "app_opened", "within": "3d"}), dict(pro, holdout=10), free]
    project.configure(_config(), [*edited, dict(buyer, holdout=20)], [])
    t3 = t2 + timedelta(hours=1)
    assert project.dbt("run", as_of=t3)[0]
    assert _last_run(project, "mode, why") == ("full", "definitions changed: active_7d, buyer, pro")
    assert project.rows("segment_group_membership", "count(*)") == [(0,)]


def test_the_event_store_is_rebuilt_only_for_a_new_spec(project: DbtProject) -> None:
    """Adding events appends them to the store; a segment over the same events and properties
    keeps it; one that reads a property on another event rebuilds it, and so does
    --full-refresh (docs/incremental.md)."""
    buyers = {"name": "buyers", "rule": {"event": "order_completed", "sum": {"property": "amount", "gte": 10}}}
    compiled = project.configure(_config(), [buyers])
    events = [_event(f"u{i}", "order_completed", T - timedelta(hours=i), f"e{i}", amount=i) for i in range(20)]
    project.load([], events)

    def state() -> tuple[Any, ...]:
        rows = project.rows("segwise_event_store_state", "built_at, as_of")
        assert len(rows) == 1 and not project.store_drift(compiled)
        return rows[0]

    assert project.dbt("run", as_of=T)[0]
    assert state() == (T, T)
    t = T + timedelta(hours=1)
    events.append(dict(_event("u1", "order_completed", T + timedelta(minutes=5), "late", amount=50), loaded_at=t))
    project.load([], events)
    assert project.dbt("run", as_of=t)[0]
    assert state() == (T, t)  # appended, not rebuilt
    assert project.rows("segwise_event_store", "count(*)") == [(21,)]

    big = {"name": "big", "rule": {"event": "order_completed", "max": {"property": "amount", "gte": 40}}}
    compiled = project.configure(_config(), [buyers, big])
    t2 = t + timedelta(hours=1)
    assert project.dbt("run", as_of=t2)[0]
    assert state() == (T, t2)  # the same events and properties: the store stands

    views = {"name": "views", "rule": {"event": "product_viewed", "where": [{"property": "amount", "gte": 1}]}}
    compiled = project.configure(_config(), [buyers, big, views])
    t3 = t2 + timedelta(hours=1)
    assert project.dbt("run", as_of=t3)[0]
    assert state() == (t3, t3)  # amount is now read on product_viewed too: rebuilt
    t4 = t3 + timedelta(hours=1)
    assert project.dbt("run", "--full-refresh", as_of=t4)[0]
    assert state() == (t4, t4)


def test_same_t_and_earlier_t_change_nothing(project: DbtProject) -> None:
    project.configure(_config(), [{"name": "viewers", "rule": {"event": "product_viewed", "within": "1d"}}])
    project.load([], [_event("a", "product_viewed", T - timedelta(hours=1), "e1")])
    assert project.dbt("run", as_of=T)[0]
    before = project.snapshot()
    assert project.dbt("run", as_of=T)[0]
    assert project.snapshot() == before
    ok, message = project.dbt("run", as_of=T - timedelta(seconds=1))
    assert not ok
    assert "T = 2025-06-01 11:59:59 is older than the last run's T = 2025-06-01 12:00:00" in message
    assert project.snapshot() == before


def test_full_refresh_keeps_history_and_reset_starts_over(project: DbtProject) -> None:
    project.configure(_config(), [{"name": "viewers", "rule": {"event": "product_viewed", "within": "1d"}}])
    project.load([], [_event("a", "product_viewed", T - timedelta(hours=1), "e1")])
    assert project.dbt("run", as_of=T)[0]
    assert project.dbt("run", "--full-refresh", as_of=T + timedelta(days=1))[0]  # a left the window
    assert project.rows("segment_changes", "user_id, changed_at, change, reason") == [
        ("a", T, "entered", "definition"),
        ("a", T + timedelta(days=1), "exited", "data"),
    ]
    assert project.rows("segment_membership_history", "user_id, valid_from, valid_to") == [
        ("a", T, T + timedelta(days=1))
    ]
    # Reset: an earlier T is allowed, and history starts over from it.
    assert project.dbt("run", "--full-refresh", as_of=T + timedelta(hours=2), segwise_reset_history=True)[0]
    assert project.rows("segment_changes", "user_id, changed_at, change") == [("a", T + timedelta(hours=2), "entered")]
    assert project.rows("segwise_runs", "as_of, mode") == [(T + timedelta(hours=2), "full")]


def test_a_removed_definition_closes_history_and_removes_members(project: DbtProject) -> None:
    config = _config()
    segments = [
        {"name": "viewers", "rule": {"event": "product_viewed"}},
        {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}},
    ]
    project.configure(config, segments)
    project.load([{"user_id": "a", "plan": "pro", "updated_at": OLD}], [_event("a", "product_viewed", T, "e1")])
    assert project.dbt("run", as_of=T)[0]
    project.configure(config, segments[1:])
    assert project.dbt("run", as_of=T + timedelta(hours=1))[0]
    assert project.rows("segment_membership", "segment, user_id") == [("pro", "a")]
    assert ("viewers", "a", T, T + timedelta(hours=1)) in project.rows(
        "segment_membership_history", "segment, user_id, valid_from, valid_to"
    )
    assert ("viewers", "a", T + timedelta(hours=1), "exited", "definition") in project.rows("segment_changes")
    # a removal needs no evaluation: the other segments stay incremental
    assert _last_run(project, "mode, why, widened_segments") == (
        "incremental",
        "definitions changed: viewers; the other segments: new data and moving windows",
        0,
    )


def test_schema_tests_pass_on_real_runs_and_catch_a_broken_table(project: DbtProject) -> None:
    project.configure(_config(), [{"name": "viewers", "rule": {"event": "product_viewed"}, "holdout": 20}])
    project.load([], [_event(f"u{i}", "product_viewed", T, f"e{i}") for i in range(20)])
    ok, message = project.dbt("build", as_of=T)
    assert ok, message
    table = f"{project.schema}.segment_membership"
    project.engine.execute(f"INSERT INTO {table} SELECT * FROM {table} LIMIT 1")
    ok, message = project.dbt("test")
    assert not ok
    # dbt 1.10+ names it ..._segment__user_id, 1.8 and 1.9 ..._segment_user_id
    assert re.search(r"segwise_unique_key_segment_membership_+segment_+user_id", message), message


def _dbt_subprocess(project: DbtProject, as_of: datetime) -> subprocess.Popen[bytes]:
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.Popen(
        [str(dbt), "run", "--project-dir", str(project.root), "--profiles-dir", str(project.root),
         "--vars", json.dumps({"segwise_as_of": as_of.strftime("%Y-%m-%dT%H:%M:%S")})],
        cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
def test_a_killed_run_leaves_consistent_tables_and_the_next_run_converges(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Kill `dbt run` at many points: the tables are as before the run or as after it, never
    in between; the next run then reaches the right state."""
    dsn = request.getfixturevalue("pg_dsn") if engine == "postgres" else None
    project = DbtProject(tmp_path / "p", engine, dsn)
    segments = [
        {"name": "active", "rule": {"event": "app_opened", "within": "2d"}},
        {
            "name": "buyers",
            "rule": {"event": "order_completed", "sum": {"property": "amount", "gte": 10}},
            "holdout": 10,
        },
    ]
    compiled = project.configure(_config(), segments)
    users = [{"user_id": f"u{i}", "plan": "pro", "updated_at": OLD} for i in range(4000)]
    events = [
        _event(f"u{i % 4000}", "app_opened" if i % 3 else "order_completed", T - timedelta(minutes=7 * i), f"e{i}",
               amount=i % 17)
        for i in range(40000)
    ]  # fmt: skip
    project.load(users, events)
    assert project.dbt("run", as_of=T)[0]
    project.close()  # the subprocesses need the DuckDB file to themselves
    states: list[str] = []
    as_of = T
    for n, delay in enumerate([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0]):
        project.engine = project.reconnect()
        # New events and re-deliveries (one earlier than its kept copy) for the event store.
        batch = [
            dict(_event(f"u{i}", "order_completed", as_of + timedelta(minutes=i % 300), f"k{n}-{i}", amount=i % 7),
                 loaded_at=as_of + timedelta(minutes=1))
            for i in range(0, 4000, 7)
        ]  # fmt: skip
        batch += [dict(e, loaded_at=as_of + timedelta(minutes=1), occurred_at=e["occurred_at"] - timedelta(hours=1))
                  for e in events[n * 50 : n * 50 + 25]]  # fmt: skip
        events = events + batch
        project.load(users, events)
        before = project.snapshot()
        project.close()
        as_of = as_of + timedelta(hours=6)
        proc = _dbt_subprocess(project, as_of)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        project.engine = project.reconnect()
        after = project.snapshot()
        ran = [row[0] for row in project.rows("segwise_runs", "as_of")]
        if as_of in ran:
            states.append("completed")
            assert after != before
        else:
            states.append("rolled back")
            assert after == before, f"killed after {delay}s: the tables changed without a run record"
        project.close()
    project.engine = project.reconnect()
    assert project.dbt("run", as_of=as_of + timedelta(hours=1))[0]
    final = as_of + timedelta(hours=1)
    expected = evaluate(_config(), segments, users, events, final)
    got = project.rows("segment_membership", "segment, user_id, variant")
    assert got == sorted(((s, u, v) for s, m in expected.items() for u, v in m.items()), key=repr)
    assert not project.store_drift(compiled)
    assert "rolled back" in states, f"no kill landed inside a run: {states}"
    project.close()


def test_generate_check_finds_stale_and_obsolete_models(tmp_path: Path) -> None:
    (tmp_path / "segwise.yml").write_text(json.dumps(_config()))
    (tmp_path / "segments").mkdir()
    seg_file = tmp_path / "segments" / "a.yml"
    seg_file.write_text("segments:\n  - {name: a, rule: {trait: plan, eq: pro}}\n  - {name: b, rule: {event: x}}\n")
    cfg = str(tmp_path / "segwise.yml")
    runner = CliRunner()
    assert runner.invoke(segwise_cli, ["generate", "--check", "--config", cfg]).exit_code == 1
    assert runner.invoke(segwise_cli, ["generate", "--config", cfg]).exit_code == 0
    assert runner.invoke(segwise_cli, ["generate", "--check", "--config", cfg]).exit_code == 0
    seg_file.write_text("segments:\n  - {name: a, rule: {trait: plan, eq: free}}\n")
    result = runner.invoke(segwise_cli, ["generate", "--check", "--config", cfg])
    assert result.exit_code == 1
    assert "stale:" in result.stdout and "segment_membership.sql" in result.stdout
    assert "obsolete:" in result.stdout and "seg_b.sql" in result.stdout
    assert runner.invoke(segwise_cli, ["generate", "--config", cfg]).exit_code == 0
    assert not (tmp_path / "models" / "segwise" / "segments" / "seg_b.sql").exists()
    assert runner.invoke(segwise_cli, ["generate", "--check", "--config", cfg]).exit_code == 0


@pytest.mark.parametrize("config", ["demos/ecommerce/segwise.yml", "demos/cdnow/segwise.yml"])
def test_the_repository_models_are_generated_from_its_segments(config: str) -> None:
    result = CliRunner().invoke(segwise_cli, ["generate", "--check", "--config", str(REPO / config)])
    assert result.exit_code == 0, result.stdout


def test_overlaps_can_be_switched_off_and_keep_the_last_computed(project: DbtProject) -> None:
    segments = [
        {"name": "opened", "rule": {"event": "app_opened", "within": "7d"}},
        {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}},
    ]
    project.configure(_config(), segments)
    users = [{"user_id": f"u{i}", "plan": "pro" if i % 2 else "free", "updated_at": OLD} for i in range(6)]
    project.load(users, [_event(f"u{i}", "app_opened", T - timedelta(days=i), f"e{i}") for i in range(6)])
    assert project.dbt("run", as_of=T)[0]
    first = project.rows("segment_overlaps", "a, b, shared, evaluated_at")
    # opened: u0..u5, within 7 days of T; pro: u1, u3, u5
    assert first == [("opened", "pro", 3, T), ("pro", "opened", 3, T)]
    later = T + timedelta(days=2)  # u5 (pro) opened exactly 7 days before: out of the window
    assert project.dbt("run", as_of=later, segwise_overlaps=False)[0]
    assert project.rows("segment_overlaps", "a, b, shared, evaluated_at") == first
    assert project.dbt("run", as_of=later + timedelta(minutes=1))[0]
    assert project.rows("segment_overlaps", "a, b, shared") == [("opened", "pro", 2), ("pro", "opened", 2)]
