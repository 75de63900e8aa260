"""Run by the Airflow virtualenv's python (tests/orchestration/test_airflow.py), never by pytest:
Airflow's own DAG loader parses the segwise recipe, and `dag.test()` runs it. It writes what it
found as JSON to the file named last on its command line; the test asserts on that.

    python airflow_driver.py parse DAG_FILE DATA_INTERVAL_END OUT.json
    python airflow_driver.py run DAGS_FOLDER LOGICAL_DATE OUT.json

The environment (AIRFLOW_HOME, the metadata DB, SEGWISE_*, PATH) comes from the test.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
from datetime import datetime
from pathlib import Path
from typing import Any

try:  # Airflow 3.x
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 2.x (and 3.0, which still had it there)
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]


def load(folder: str) -> DagBag:
    kwargs: dict[str, Any] = {"dag_folder": folder}
    if "include_examples" in inspect.signature(DagBag.__init__).parameters:  # gone in Airflow 3.3
        kwargs["include_examples"] = False
    return DagBag(**kwargs)


def parse(dag_file: str, data_interval_end: str) -> dict[str, Any]:
    bag = load(dag_file)
    found: dict[str, Any] = {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}}
    found["dag_ids"] = sorted(bag.dag_ids)
    dag = bag.dags.get("segwise")
    if dag is None:
        return found
    found["task_ids"] = sorted(dag.task_dict)
    found["downstream"] = {t: sorted(task.downstream_task_ids) for t, task in dag.task_dict.items()}
    found["schedule"] = str(getattr(dag, "schedule", None) or dag.timetable.summary)
    found["max_active_runs"] = dag.max_active_runs
    found["catchup"] = dag.catchup
    found["start_date"] = dag.start_date.isoformat() if dag.start_date else None
    found["retries"] = {t: task.retries for t, task in dag.task_dict.items()}
    found["cwd"] = {t: getattr(task, "cwd", None) for t, task in dag.task_dict.items()}
    found["commands"] = {t: task.bash_command for t, task in dag.task_dict.items()}
    env = dag.get_template_env()
    build = dag.task_dict["segwise_build"]

    def render(context: dict[str, Any]) -> str:
        return str(build.render_template(build.bash_command, context, env))

    # a scheduled run at its data interval end, and a run triggered by hand on Airflow 3 without a
    # logical date: no data interval in the context (or None), only run_after
    end = datetime.fromisoformat(data_interval_end)
    found["rendered_scheduled"] = render({"data_interval_end": end, "dag_run": types.SimpleNamespace()})
    run_after = datetime.fromisoformat("2025-06-01T08:30:15+00:00")
    found["rendered_manual"] = render({"dag_run": types.SimpleNamespace(run_after=run_after)})
    found["rendered_manual_none"] = render(
        {"data_interval_end": None, "dag_run": types.SimpleNamespace(run_after=run_after)}
    )
    return found


def run(dags_folder: str, logical_date: str) -> dict[str, Any]:
    from airflow.utils.session import create_session

    bag = load(dags_folder)
    found: dict[str, Any] = {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}}
    dag = bag.dags["segwise"]
    for task in dag.task_dict.values():
        task.retries = 0  # a failure shows at once, not after the recipe's retry delays
    when = datetime.fromisoformat(logical_date)
    dag_run = dag.test(logical_date=when, run_after=when)
    found["state"] = str(dag_run.state)
    found["data_interval_end"] = dag_run.data_interval_end.isoformat() if dag_run.data_interval_end else None
    with create_session() as session:
        found["tasks"] = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances(session=session)}
    return found


def main() -> None:
    mode, argument, out = sys.argv[1], sys.argv[2], sys.argv[-1]
    found = parse(argument, sys.argv[3]) if mode == "parse" else run(argument, sys.argv[3])
    Path(out).write_text(json.dumps(found, indent=2, default=str))


if __name__ == "__main__":
    main()
