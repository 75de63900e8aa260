"""The incremental invariant (docs/semantics.md), end to end through `dbt run`, on DuckDB and PostgreSQL.

Random histories of runs at rising T, with new events, late events, duplicate deliveries,
trait changes, new users, and definitions added, edited and removed between the runs. The
histories also include re-runs at the same T, runs with T going backwards, --full-refresh,
and a history reset. After every run, each state table must equal what the reference
evaluator says it should hold:
- segment_membership equals a full evaluation at that T, with entered_at and the hash;
- history and the change log hold exactly one row per transition, with its reason;
- sizes, groups, the label changes, the overlaps (counted pair by pair) and the run log match.
A re-run at the same T and a T that goes backwards must change nothing.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.dbt_layer.harness import DbtProject, Warehouse
from tests.dbt_layer.oracle import Expected
from tests.dbt_layer.scenarios import Scenario, scenarios

pytestmark = pytest.mark.slow

RUNS = int(os.environ.get("SEGWISE_DBT_SEQUENCES", "50" if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else "6"))
SHARDS = 10  # separate test items of 5 histories (CI), so pytest-xdist spreads them evenly over the cores
SETTINGS = settings(
    max_examples=-(-RUNS // SHARDS),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking dbt histories takes hours
    suppress_health_check=list(HealthCheck),
)
COLUMNS = {
    "segment_membership": "segment, user_id, variant, entered_at, definition_hash",
    "segment_membership_history": "segment, user_id, valid_from, valid_to, variant, definition_hash",
    "segment_changes": "segment, user_id, changed_at, change, reason",
    "segment_sizes": "segment, evaluated_at, members, entered, exited, control_members",
    "segment_group_membership": "group_name, user_id, segment",
    "segment_group_changes": "group_name, user_id, changed_at, from_segment, to_segment",
    "segment_overlaps": "a_group, a, b_group, b, shared, a_members, b_members",
    "segwise_runs": "as_of, mode",
}


def actual(project: DbtProject) -> dict[str, list[tuple[Any, ...]]]:
    return {table: project.rows(table, columns) for table, columns in COLUMNS.items()}


def replay(tmp: Path, engine: str | Warehouse, scenario: Scenario, pg_dsn: str | None = None) -> None:
    project = DbtProject(tmp / uuid.uuid4().hex[:10], engine, pg_dsn)
    expected = Expected()
    last_t = None
    try:
        for n, run in enumerate(scenario.runs):
            where = f"run {n} ({run.kind} at {run.as_of}) of\n{scenario!r}"
            compiled = project.configure(scenario.config, run.segments, run.groups)
            project.load(run.users, run.events)
            before = project.snapshot() if last_t is not None else None
            args = ["run"]
            if run.kind in ("full_refresh", "reset"):
                args.append("--full-refresh")
            extra = {"segwise_reset_history": True} if run.kind == "reset" else {}
            ok, message = project.dbt(*args, as_of=run.as_of, **extra)
            if run.kind == "backwards":
                assert not ok and "is older than the last run" in message, where
                assert project.snapshot() == before, f"a failed run changed the tables: {where}"
                continue
            assert ok, f"{message}\n{where}"
            if run.kind == "same_t":
                assert project.snapshot() == before, f"a re-run at the same T changed the tables: {where}"
                continue
            if run.kind == "reset":
                expected.reset()
            expected.run(
                compiled,
                scenario.config,
                run.segments,
                run.groups,
                run.users,
                run.events,
                run.as_of,
                forced=run.kind in ("full_refresh", "reset"),
            )
            got = actual(project)
            want = expected.tables()
            for table in COLUMNS:
                assert got[table] == want[table], (
                    f"{table} after {where}\nmissing: {sorted(set(want[table]) - set(got[table]), key=repr)[:10]}\n"
                    f"unexpected: {sorted(set(got[table]) - set(want[table]), key=repr)[:10]}"
                )
            for shared, a, b, jaccard in project.rows("segment_overlaps", "shared, a_members, b_members, jaccard"):
                assert abs(jaccard - shared / (a + b - shared)) <= 1e-12, f"jaccard {jaccard} after {where}"
            drift = project.store_drift(compiled)
            assert not drift, f"{drift}\nafter {where}"
            last_t = run.as_of
    finally:
        project.close()


@pytest.mark.parametrize("shard", range(SHARDS))
@SETTINGS
@given(scenario=scenarios())
def test_invariant_on_duckdb(tmp_path_factory: pytest.TempPathFactory, shard: int, scenario: Scenario) -> None:
    replay(tmp_path_factory.mktemp("dbt"), "duckdb", scenario)


@pytest.mark.postgres
@pytest.mark.parametrize("shard", range(SHARDS))
@SETTINGS
@given(scenario=scenarios())
def test_invariant_on_postgres(
    tmp_path_factory: pytest.TempPathFactory, pg_dsn: str, shard: int, scenario: Scenario
) -> None:
    replay(tmp_path_factory.mktemp("dbt"), "postgres", scenario, pg_dsn)
