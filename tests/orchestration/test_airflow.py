"""The Airflow recipe (orchestration/airflow/segwise_dag.py), in Airflow's own virtualenv.

Airflow runs as a subprocess (tests/orchestration/airflow_driver.py) in the virtualenv of
`make orchestrators`, which has neither segwise nor dbt: the DAG's tasks call the `segwise`
of this test session's environment, found on PATH, as they would on a worker.

- Airflow's DAG loader parses the recipe: the dag, its two tasks in order, the schedule, one
  run at a time, and the command each task runs, with T rendered from the data interval end;
- `dag.test()` runs it twice, at T - 1 day then T, against a segwise dbt project on DuckDB and a
  webhook receiver: the runs build at their T, the membership is the reference evaluator's, and
  the receiver gets exactly the changes deliveries.yml asks for.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from segwise.deliver import change_id
from tests.dbt_layer.harness import DbtProject, event_row
from tests.orchestration.conftest import REPO
from tests.reference.evaluator import evaluate
from tests.reference.strategies import TEST_CONFIG_JSON
from tests.support.webhook_server import Route, WebhookReceiver

pytestmark = pytest.mark.slow

RECIPE = REPO / "orchestration" / "airflow" / "segwise_dag.py"
DRIVER = Path(__file__).with_name("airflow_driver.py")
SEGWISE_BIN = Path(sys.executable).parent  # this session's environment: segwise and dbt
SECRET = "sw-airflow-secret-5e4d3c2b"  # distinctive: searched for in the output
T = datetime(2025, 6, 1)
T1 = T - timedelta(days=1)
SEGMENTS = [
    {"name": "active_2d", "rule": {"event": "app_opened", "within": "2d"}},
    {"name": "buyers_3", "rule": {"event": "order_completed", "count": {"gte": 3}}},
    {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}, "holdout": 20},
]


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of the Airflow subprocess: its home, config and metadata DB under the
    test's tmp directory (never ~/airflow), no example DAGs, and this session's segwise first
    on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SEGWISE_", "DBT_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        PATH=f"{SEGWISE_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ next to the recipe
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
    )
    env.update(extra)
    return env


def drive(python: str, env: dict[str, str], out: Path, *args: str) -> tuple[dict[str, Any], str]:
    """Run the driver in Airflow's python: what it found, and everything it printed."""
    done = subprocess.run(
        [python, str(DRIVER), *args, str(out)], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    return json.loads(out.read_text()), output


# --------------------------------------------------------------------------------- parsing


def test_airflows_dag_loader_parses_the_recipe(airflow_python: str, tmp_path: Path) -> None:
    project = tmp_path / "my project"  # a space: the paths reach the shell quoted
    project.mkdir()
    deliveries = project / "hooks.yml"
    deliveries.write_text("version: 1\n")  # only its existence matters when the DAG is parsed
    env = airflow_env(
        tmp_path / "airflow", SEGWISE_PROJECT_DIR=str(project), SEGWISE_DELIVERIES=str(deliveries),
        SEGWISE_TARGET="prod", SEGWISE_SCHEDULE="0 * * * *",
    )  # fmt: skip
    found, output = drive(
        airflow_python, env, tmp_path / "found.json", "parse", str(RECIPE), "2025-06-01T00:00:00+00:00"
    )
    assert found["import_errors"] == {}, output
    assert found["dag_ids"] == ["segwise"]
    assert found["task_ids"] == ["segwise_build", "segwise_deliver"]
    assert found["downstream"] == {"segwise_build": ["segwise_deliver"], "segwise_deliver": []}
    assert found["schedule"] == "0 * * * *"
    assert found["max_active_runs"] == 1
    assert found["catchup"] is False
    assert found["start_date"] == "2025-01-01T00:00:00+00:00"
    assert all(retries >= 1 for retries in found["retries"].values())
    assert found["cwd"] == {"segwise_build": str(project), "segwise_deliver": str(project)}
    assert '"segwise_as_of": "2025-06-01T00:00:00"' in found["rendered_scheduled"]
    # what the shell runs, word by word
    assert shlex.split(found["rendered_scheduled"]) == [
        "segwise", "build", "--vars", '{"segwise_as_of": "2025-06-01T00:00:00"}', "--target", "prod",
    ]  # fmt: skip
    assert shlex.split(found["commands"]["segwise_deliver"]) == [
        "segwise", "deliver", "--deliveries", str(deliveries), "--target", "prod",
    ]  # fmt: skip
    # a run triggered by hand without a logical date (Airflow 3) evaluates at its run_after
    assert shlex.split(found["rendered_manual"])[3] == '{"segwise_as_of": "2025-06-01T08:30:15"}'
    assert shlex.split(found["rendered_manual_none"])[3] == '{"segwise_as_of": "2025-06-01T08:30:15"}'

    # the defaults: every 15 minutes, the profile's target, and without deliveries.yml in the
    # project, no deliver task
    env = airflow_env(tmp_path / "airflow", SEGWISE_PROJECT_DIR=str(project))
    # T given in another zone than UTC: segwise takes UTC, without an offset
    found, output = drive(
        airflow_python, env, tmp_path / "bare.json", "parse", str(RECIPE), "2025-06-01T02:00:00+02:00"
    )
    assert found["import_errors"] == {}, output
    assert found["task_ids"] == ["segwise_build"]
    assert found["schedule"] == "*/15 * * * *"
    assert shlex.split(found["rendered_scheduled"]) == [
        "segwise",
        "build",
        "--vars",
        '{"segwise_as_of": "2025-06-01T00:00:00"}',
    ]
    assert not (RECIPE.parent / "__pycache__").exists()


# --------------------------------------------------------------------------------- running


def history() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Users and events whose active_2d and buyers_3 change between T - 1 day and T."""
    users = [{"user_id": f"u{i}", "plan": "pro" if i % 3 == 0 else "free"} for i in range(12)]
    events = []
    for i in range(4):  # active every day: in the segment at both runs
        events += [event_row(f"u{i}", "app_opened", T - timedelta(days=d, hours=i + 1), f"a{i}_{d}") for d in range(5)]
    for i in (4, 5):  # last seen 2.5 days before T: in at T - 1 day, out at T
        events.append(event_row(f"u{i}", "app_opened", T - timedelta(days=2, hours=12 + i), f"b{i}"))
    for i in (6, 7):  # first seen after T - 1 day: in at T
        events.append(event_row(f"u{i}", "app_opened", T - timedelta(hours=3 + i), f"c{i}"))
    # seen before T - 1 day, but loaded after it (a late event): in at T only
    events.append(event_row("u8", "app_opened", T1 - timedelta(hours=2), "d8", late=timedelta(hours=5)))
    for i in (9, 10):  # a third order after T - 1 day: buyers_3 at T (a segment the endpoint does not ask for)
        events += [
            event_row(f"u{i}", "order_completed", T - timedelta(days=2 - k, hours=2), f"e{i}_{k}") for k in range(3)
        ]
    return users, events


def test_the_dag_builds_and_delivers_at_the_data_interval_end(airflow_python: str, tmp_path: Path) -> None:
    assert (SEGWISE_BIN / "segwise").is_file(), f"no segwise next to {sys.executable}"
    users, events = history()
    early = [e for e in events if e["loaded_at"] <= T1]  # what the warehouse holds at T - 1 day
    config = json.loads(json.dumps(TEST_CONFIG_JSON))
    p = DbtProject(tmp_path / "p", "duckdb")
    try:
        p.configure(config, SEGMENTS)
        p.load(users, early)
        p.engine.close()  # DuckDB takes one process at a time: the DAG's dbt opens the file next

        home = tmp_path / "airflow"
        (home / "dags").mkdir(parents=True)
        shutil.copy(RECIPE, home / "dags" / RECIPE.name)  # as users install it: a copy in the dags folder
        with WebhookReceiver({"crm": Route(SECRET)}) as receiver:
            endpoint = {
                "name": "crm",
                "url": receiver.url("crm"),
                "secret_env": "CRM_SECRET",
                "segments": ["active_2d"],
            }
            # the default place: deliveries.yml in the project (SEGWISE_DELIVERIES unset)
            (p.root / "deliveries.yml").write_text(json.dumps({"version": 1, "endpoints": [endpoint]}))
            env = airflow_env(home, SEGWISE_PROJECT_DIR=str(p.root), DBT_PROFILES_DIR=str(p.root), CRM_SECRET=SECRET)
            migrate = subprocess.run(
                [airflow_python, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True,
                timeout=300, check=False,
            )  # fmt: skip
            assert migrate.returncode == 0, (migrate.stdout + migrate.stderr)[-8000:]

            first, output = drive(
                airflow_python, env, tmp_path / "first.json", "run", str(home / "dags"), f"{T1:%Y-%m-%dT%H:%M:%S}+00:00"
            )
            assert first["import_errors"] == {}, output
            assert first["state"] == "success", output[-8000:]
            assert first["tasks"] == {"segwise_build": "success", "segwise_deliver": "success"}, output[-8000:]
            assert SECRET not in output

            p.engine = p.reconnect()
            assert p.rows("segwise_runs", "as_of") == [(T1,)]
            assert _membership(p) == _rows(_reference(config, users, early, T1))
            p.load(users, events)  # the rest arrives
            p.engine.close()

            second, output = drive(
                airflow_python, env, tmp_path / "second.json", "run", str(home / "dags"), f"{T:%Y-%m-%dT%H:%M:%S}+00:00"
            )
            assert second["state"] == "success", output[-8000:]
            assert second["data_interval_end"] == "2025-06-01T00:00:00+00:00"
            assert SECRET not in output
            arrived = receiver.unique("crm")
            problems = receiver.problems

        p.engine = p.reconnect()
        # the second run built at T: its data interval end, in UTC
        assert p.rows("segwise_runs", "as_of") == [(T1,), (T,)]
        assert _membership(p) == _rows(_reference(config, users, events, T))

        changes = p.rows("segment_changes", "segment, user_id, changed_at, change, reason")
        wanted = sorted((s, u, at, c) for s, u, at, c, reason in changes if s == "active_2d" and reason != "definition")
        # the changes at T are the reference's, from one T to the other
        before = _reference(config, users, early, T1)["active_2d"]
        now = _reference(config, users, events, T)["active_2d"]
        assert [(u, c) for s, u, at, c in wanted if at == T] == sorted(
            [(u, "entered") for u in set(now) - set(before)] + [(u, "exited") for u in set(before) - set(now)]
        )
        assert {"u4", "u5"} <= set(before) - set(now) and {"u6", "u7", "u8"} <= set(now) - set(before)
        # the first run's entries are reason 'definition' (a new segment): the endpoint skips them
        assert any(reason == "definition" and s == "active_2d" for s, _, _, _, reason in changes)
        assert any(s == "buyers_3" and at == T for s, _, at, _, _ in changes)  # not asked for
        got = []
        for change in arrived:
            at = datetime.fromisoformat(change["changed_at"].replace("Z", "+00:00")).replace(tzinfo=None)
            assert change["id"] == change_id(change["segment"], change["user_id"], at, change["change"])
            got.append((change["segment"], change["user_id"], at, change["change"]))
        assert sorted(got) == wanted and wanted
        assert problems == []
    finally:
        if hasattr(p, "close"):
            p.close()


def _membership(p: DbtProject) -> list[tuple[Any, ...]]:
    return p.rows("segment_membership", "segment, user_id, variant")


def _reference(
    config: dict[str, Any], users: list[dict[str, Any]], events: list[dict[str, Any]], at: datetime
) -> dict[str, dict[str, Any]]:
    return evaluate(config, SEGMENTS, users, events, at)


def _rows(reference: dict[str, dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(((s, u, v) for s, members in reference.items() for u, v in members.items()), key=repr)
