"""`segwise backfill` through dbt (macros/segwise_backfill.sql), on DuckDB and PostgreSQL:
what it writes equals the reference evaluator at each instant, the real tables (the change
log, sizes, membership) are untouched, and a second backfill of a segment replaces its rows."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segwise.cli import main as segwise_cli
from segwise.rules.canonical import definition_hashes
from tests.dbt_layer.harness import DbtProject, event_row
from tests.reference.evaluator import evaluate
from tests.reference.strategies import TEST_CONFIG_JSON

pytestmark = pytest.mark.slow

T = datetime(2025, 6, 1)
OLD = datetime(2024, 1, 1)
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
SEGMENTS = [
    {"name": "active_2d", "rule": {"event": "app_opened", "within": "2d"}},
    {"name": "buyers_3", "rule": {"event": "order_completed", "count": {"gte": 3}}},
    {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}, "holdout": 20},
]
INSTANTS = [T - timedelta(days=d) for d in (6, 4, 2, 0)]


@pytest.fixture(params=ENGINES)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    p = DbtProject(tmp_path / "p", request.param, dsn)
    yield p
    p.close()


def _backfill(project: DbtProject, *args: str) -> str:
    cwd = os.getcwd()
    os.chdir(project.root)  # the dbt project, as a scheduler runs it
    try:
        result = CliRunner().invoke(segwise_cli, ["backfill", *args, "--profiles-dir", str(project.root)])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_backfill_writes_what_the_segments_were_and_touches_nothing_else(project: DbtProject) -> None:
    config = json.loads(json.dumps(TEST_CONFIG_JSON))
    compiled = project.configure(config, SEGMENTS)
    users = [{"user_id": f"u{i}", "plan": "pro" if i % 3 == 0 else "free"} for i in range(40)]
    events = []
    for i in range(40):  # opens every (i % 5 + 1) days, orders on some of them
        for d in range(0, 10, i % 5 + 1):
            ts = T - timedelta(days=d, hours=i % 7)
            events.append(event_row(f"u{i}", "app_opened", ts, f"o{i}_{d}"))
            if (i + d) % 3 == 0:
                events.append(event_row(f"u{i}", "order_completed", ts + timedelta(minutes=5), f"p{i}_{d}"))
    project.load(users, events)
    assert project.dbt("run", as_of=T)[0]
    real = {t: project.rows(t) for t in ("segment_changes", "segment_sizes", "segment_membership", "segwise_runs")}

    output = _backfill(project, "active_2d", "buyers_3", "pro", "--from", "2025-05-26", "--to", "2025-06-01",
                       "--every", "2d")  # fmt: skip
    assert output.splitlines()[0] == "4 instants from 2025-05-26T00:00:00 to 2025-06-01T00:00:00"

    hashes = definition_hashes(compiled)
    want_sizes, want_changes = [], []
    previous: dict[str, dict[str, Any]] = {s["name"]: {} for s in SEGMENTS}
    for instant in INSTANTS:
        found = evaluate(config, SEGMENTS, users, events, instant)
        for name in sorted(previous):
            now, before = found.get(name, {}), previous[name]
            entered, exited = sorted(set(now) - set(before)), sorted(set(before) - set(now))
            control = sum(v == "control" for v in now.values())
            want_sizes.append((name, instant, len(now), len(entered), len(exited), control, hashes[name]))
            want_changes += [(name, u, instant, "entered", hashes[name]) for u in entered]
            want_changes += [(name, u, instant, "exited", hashes[name]) for u in exited]
            previous[name] = now
    sizes_columns = "segment, instant, members, entered, exited, control_members, definition_hash"
    assert project.rows("segment_backfill_sizes", sizes_columns) == sorted(want_sizes, key=repr)
    changes_columns = "segment, user_id, changed_at, change, definition_hash"
    assert project.rows("segment_backfill_changes", changes_columns) == sorted(want_changes, key=repr)
    assert len(set(project.rows("segment_backfill_sizes", "backfilled_at"))) == 1
    # the backfill is kept apart: the real tables are as the run left them
    assert {t: project.rows(t) for t in real} == real

    # a second backfill of one segment, over other instants, replaces that segment's rows only
    _backfill(project, "active_2d", "--from", "2025-05-31", "--to", "2025-06-01")
    kept = [r for r in want_sizes if r[0] != "active_2d"]
    again = project.rows("segment_backfill_sizes", "segment, instant")
    assert again == sorted([(r[0], r[1]) for r in kept] + [("active_2d", T - timedelta(days=1)), ("active_2d", T)],
                           key=repr)  # fmt: skip


def test_dry_run_writes_nothing_and_predict_segments_are_refused(project: DbtProject) -> None:
    config = json.loads(json.dumps(TEST_CONFIG_JSON))
    project.configure(config, SEGMENTS)
    project.load([{"user_id": "u1", "plan": "pro"}], [event_row("u1", "app_opened", T - timedelta(hours=3), "e1")])
    assert project.dbt("run", as_of=T)[0]
    output = _backfill(project, "active_2d", "--from", "2025-05-31", "--to", "2025-06-01", "--dry-run")
    assert "active_2d" in output and output.rstrip().endswith("dry run: nothing written")
    assert project.rows("segment_backfill_sizes") == []
    cwd = os.getcwd()
    os.chdir(project.root)
    try:
        bad = CliRunner().invoke(segwise_cli, ["backfill", "nope", "--from", "2025-05-31", "--to", "2025-06-01"])
    finally:
        os.chdir(cwd)
    assert bad.exit_code == 1 and "unknown segment 'nope'" in bad.output
