"""segwise adopted the way a team adopts it: a separate, minimal dbt project of their own
(seeds for users and events), segwise installed through packages.yml from a local path, the
models written by `segwise generate --project-dir`, everything built by `dbt build` — the
seeds, the segment models, the state tables and their schema tests — on DuckDB, all through
the command-line tools a data engineer types."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from segwise.dbt.state import STATE_TABLES
from tests.dbt_layer.harness import REPO

BIN = Path(sys.executable).parent
T = "2025-06-01T00:00:00"

USERS = [
    {"id": 1, "plan": "pro", "signed_up": "2025-01-10 08:00:00"},
    {"id": 2, "plan": "free", "signed_up": "2025-05-20 08:00:00"},
    {"id": 3, "plan": "pro", "signed_up": "2025-05-30 08:00:00"},
    {"id": 4, "plan": "free", "signed_up": "2024-11-02 08:00:00"},
]
EVENTS = [
    ("e1", 1, "order_completed", "2025-05-28 10:00:00", {"amount": 120.0}),
    ("e2", 1, "order_completed", "2025-05-30 10:00:00", {"amount": 40.5}),
    ("e3", 2, "order_completed", "2025-04-01 10:00:00", {"amount": 300.0}),  # outside 30d
    ("e4", 2, "page_viewed", "2025-05-31 10:00:00", {}),
    ("e5", 4, "order_completed", "2025-05-31 23:59:59", {"amount": 99.99}),
    ("e6", 4, "order_completed", "2025-06-01 00:00:01", {"amount": 500.0}),  # after T
]
SEGWISE_YML = """\
segments_path: segments
models_path: models/segwise
sources:
  users:
    relation: ref('users')
    id: id
    traits:
      plan: string
      signed_up: timestamp
  events:
    relation: ref('events')
    user_id: user_id
    name: event_name
    timestamp: occurred_at
    id: event_id
    properties:
      column: properties
      types: {amount: number}
"""
SEGMENTS_YML = """\
segments:
  - name: pro_users
    description: On the pro plan
    rule: {trait: plan, eq: pro}
  - name: recent_buyers
    description: Ordered in the last 30 days
    rule: {event: order_completed, within: 30d}
  - name: big_spenders
    description: Spent 100 or more in the last 30 days
    rule: {event: order_completed, within: 30d, sum: {property: amount, gte: 100}}
  - name: pro_not_buying
    description: Pro users who did not order in the last 30 days
    rule:
      all:
        - {in_segment: pro_users}
        - {not: {in_segment: recent_buyers}}
"""


def _write_project(root: Path) -> None:
    (root / "seeds").mkdir(parents=True)
    (root / "segments").mkdir()
    (root / "dbt_project.yml").write_text(
        "name: acme\nversion: '1.0'\nconfig-version: 2\nprofile: acme\n"
        "seeds:\n  acme:\n    users: {+column_types: {id: bigint, signed_up: timestamp}}\n"
        "    events: {+column_types: {user_id: bigint, occurred_at: timestamp, properties: json}}\n"
    )
    (root / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    profile = {"acme": {"target": "dev", "outputs": {"dev": {"type": "duckdb", "path": str(root / "acme.duckdb")}}}}
    (root / "profiles.yml").write_text(json.dumps(profile))
    (root / "segwise.yml").write_text(SEGWISE_YML)
    (root / "segments" / "audiences.yml").write_text(SEGMENTS_YML)
    with (root / "seeds" / "users.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(USERS[0]))
        writer.writeheader()
        writer.writerows(USERS)
    with (root / "seeds" / "events.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["event_id", "user_id", "event_name", "occurred_at", "properties"])
        writer.writerows((eid, u, name, ts, json.dumps(props)) for eid, u, name, ts, props in EVENTS)


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DBT_PROFILES_DIR": str(cwd), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_separate_dbt_project_installs_segwise_and_builds(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    _write_project(root)
    elsewhere = tmp_path  # the engineer is not inside the project: --project-dir finds it

    generated = _run(str(BIN / "segwise"), "generate", "--project-dir", str(root), cwd=elsewhere)
    assert generated.returncode == 0, generated.stderr
    models = root / "models" / "segwise"
    assert (models / "segment_membership.sql").is_file()
    assert _run(str(BIN / "segwise"), "generate", "--check", "--project-dir", str(root), cwd=elsewhere).returncode == 0

    deps = _run(str(BIN / "dbt"), "deps", cwd=root)
    assert deps.returncode == 0, deps.stdout + deps.stderr
    assert (root / "dbt_packages" / "segwise" / "macros").is_dir()

    built = _run(str(BIN / "dbt"), "build", "--vars", json.dumps({"segwise_as_of": T}), cwd=root)
    assert built.returncode == 0, built.stdout[-4000:]
    assert "PASS=" in built.stdout and "ERROR=0" in built.stdout  # seeds, models and schema tests

    con = duckdb.connect(str(root / "acme.duckdb"), read_only=True)
    try:
        members = sorted(con.execute("SELECT segment, user_id, variant FROM main.segment_membership").fetchall())
        sizes = dict(con.execute("SELECT segment, members FROM main.segment_sizes").fetchall())
        view = sorted(r[0] for r in con.execute("SELECT user_id FROM main.seg_pro_not_buying").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    assert members == [
        ("big_spenders", "1", None),  # no holdout: no variant. 120 + 40.5 within 30 days; user 4's 500 is after T
        ("pro_not_buying", "3", None),
        ("pro_users", "1", None),
        ("pro_users", "3", None),
        ("recent_buyers", "1", None),
        ("recent_buyers", "4", None),
    ]
    assert sizes == {"big_spenders": 1, "pro_not_buying": 1, "pro_users": 2, "recent_buyers": 2}
    assert view == ["3"]
    # the tables the materialization created have the columns segwise.dbt.state defines
    for name, table in STATE_TABLES.items():
        assert [c for t, c in columns if t == name] == [c.name for c in table.columns], name

    again = _run(str(BIN / "dbt"), "build", "--vars", json.dumps({"segwise_as_of": T}), cwd=root)
    assert again.returncode == 0, again.stdout[-4000:]  # the same T twice: a no-op run, still green
