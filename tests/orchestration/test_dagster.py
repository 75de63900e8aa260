"""The Dagster recipe (orchestration/dagster/segwise_definitions.py), loaded and materialised
by Dagster itself in a virtualenv of its own (dagster and dagster-dbt only, sqlglotc
included), calling the segwise and dbt of this test session's environment: the segwise
models as dagster-dbt assets, then the deliveries, launched as the schedule launches them, on
DuckDB and PostgreSQL. What the runs leave in the warehouse equals the reference evaluator,
and the receiver gets each change the deliveries file asks for exactly once, a retried tick
included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_layer.harness import DbtProject, event_row
from tests.orchestration.conftest import REPO
from tests.reference.evaluator import evaluate
from tests.reference.strategies import TEST_CONFIG_JSON
from tests.support.engines import DuckEngine
from tests.support.webhook_server import Faults, Route, WebhookReceiver

pytestmark = pytest.mark.slow

RECIPE = REPO / "orchestration" / "dagster" / "segwise_definitions.py"
DRIVER = Path(__file__).with_name("dagster_driver.py")
T = datetime(2025, 6, 1)
TICKS = [T - timedelta(days=1), T, T]  # the last: the same tick launched again (a retry)
SECRET = "dagster-test-secret"
SEGMENTS = [
    {"name": "active_2d", "rule": {"event": "app_opened", "within": "2d"}, "tags": ["engagement"]},
    {"name": "buyers_3", "rule": {"event": "order_completed", "count": {"gte": 3}}},
    {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}},
]
DELIVERED = {"active_2d", "buyers_3"}  # the endpoint's segments: `pro` is left out


def _data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    users = [{"user_id": f"u{i}", "plan": "pro" if i % 3 == 0 else "free"} for i in range(30)]
    events = []
    for i in range(30):  # opens every (i % 4 + 1) days: some drop out of active_2d between the ticks
        for d in range(0, 9, i % 4 + 1):
            ts = T - timedelta(days=d, hours=i % 5 + 1)
            events.append(event_row(f"u{i}", "app_opened", ts, f"o{i}_{d}"))
            if (i + d) % 3 == 0:
                events.append(event_row(f"u{i}", "order_completed", ts + timedelta(minutes=5), f"p{i}_{d}"))
    return users, events


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    p = DbtProject(tmp_path / "p", request.param, dsn)
    yield p
    p.close()


def test_the_dagster_recipe_builds_and_delivers(project: DbtProject, dagster_python: str, tmp_path: Path) -> None:
    config = json.loads(json.dumps(TEST_CONFIG_JSON))
    project.configure(config, SEGMENTS)
    users, events = _data()
    project.load(users, events)
    if project.kind == "duckdb":
        project.engine.close()  # DuckDB admits one writing process: Dagster's dbt needs the file
    # the models come from the recipe's own preparation (validate, generate, parse), as on a new deployment
    for generated in (project.root / "models").rglob("*.sql"):
        generated.unlink()

    flaky = Route(SECRET, faults=Faults(error=0.3, throttle=0.1, seed=7, max_failures=3), retry_after="0")
    with WebhookReceiver({"all": flaky}) as receiver:
        hooks = project.root / "deliveries.yml"
        endpoint = {"name": "all", "url": receiver.url("all"), "secret_env": "ALL_SECRET",
                    "segments": sorted(DELIVERED), "batch_size": 7}  # fmt: skip
        hooks.write_text(json.dumps({"version": 1, "endpoints": [endpoint]}))
        env = {
            **os.environ,
            "SEGWISE_BIN": str(Path(sys.executable).parent),  # segwise's own virtualenv: this session's
            "SEGWISE_PROJECT_DIR": str(project.root),
            "DBT_PROFILES_DIR": str(project.root),
            "SEGWISE_DELIVERIES": str(hooks),
            "ALL_SECRET": SECRET,
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        }
        (tmp_path / "dagster_home").mkdir()
        ticks = [f"{tick.isoformat()}+00:00" for tick in TICKS]
        done = subprocess.run([dagster_python, str(DRIVER), str(RECIPE), *ticks], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-8000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        arrived = [(c["segment"], c["user_id"], c["change"], c["changed_at"]) for c in receiver.unique("all")]
        failures = sum(r.outcome != "ok" for r in receiver.requests)

    if project.kind == "duckdb":
        project.engine = project.warehouse.engine = DuckEngine(project.warehouse.output["path"])
    # what the code location defines
    models = {"segment_membership", "segment_changes", "segment_sizes", "segment_membership_history"}
    assert models <= set(report["assets"]) and "segwise_deliveries" in report["assets"], report["assets"]
    assert report["job_assets"] == report["assets"]
    assert (report["cron"], report["timezone"]) == ("*/15 * * * *", "UTC")
    # each tick became one run at T = the tick, keyed by it; every run materialised everything
    runs = report["runs"]
    assert [r["run_key"] for r in runs] == [t.strftime("%Y-%m-%dT%H:%M:%S") for t in TICKS]
    assert all(r["success"] for r in runs), runs
    assert not any(r["segwise_imported"] for r in runs)  # Dagster's process never imports segwise
    assert all(set(r["materialized"]) == set(report["assets"]) for r in runs)
    assert runs[0]["checks"] and all(c.endswith(":True") for r in runs for c in r["checks"])

    assert [row[0] for row in project.rows("segwise_runs", "as_of")] == TICKS[:2]  # the retry wrote nothing
    want = evaluate(config, SEGMENTS, users, events, T)
    got = project.rows("segment_membership", "segment, user_id")
    assert got == sorted(((s, u) for s, members in want.items() for u in members), key=repr)

    # the second tick's entries and exits of the endpoint's segments, each once; the first
    # tick's (reason 'definition') and the retry's (none) deliver nothing
    changes = project.rows("segment_changes", "segment, user_id, change, changed_at, reason")
    expected = {(s, u, c, at.strftime("%Y-%m-%dT%H:%M:%SZ")) for s, u, c, at, reason in changes
                if s in DELIVERED and reason == "data"}  # fmt: skip
    assert expected and all(at == "2025-06-01T00:00:00Z" for *_, at in expected)
    assert sorted(arrived) == sorted(expected) and len(arrived) == len(set(arrived))
    sent = [re.search(r"^all: (\d+) changes? delivered", r["deliveries"]["output"], re.M) for r in runs]
    assert [int(m.group(1)) if m else None for m in sent] == [0, len(expected), 0]
    assert failures > 0  # the receiver did fail requests: the retries were exercised

