"""segwise on Airflow: `segwise build` at T = the run's data interval end, then `segwise deliver`.

Copy this file into your dags folder. The tasks are BashOperators that call the `segwise`
command: install segwise where the tasks run (`pip install segwise`, with the dbt adapter of
your warehouse, e.g. `pip install 'segwise[postgres]'`), or put a `segwise` from a virtualenv of
its own on the workers' PATH; Airflow itself never imports segwise or dbt. It reads, from the
environment, when the file is parsed:

- SEGWISE_PROJECT_DIR: the dbt project with segwise.yml, where the tasks run (default: the
  current directory);
- SEGWISE_TARGET: the dbt target (default: DBT_TARGET, else the profile's `target:`);
- DBT_PROFILES_DIR: read by dbt and segwise themselves, in the tasks (default: the project
  directory when it has a profiles.yml, else ~/.dbt);
- SEGWISE_DELIVERIES: the endpoints file, relative to the project directory (default:
  deliveries.yml); without the file, the deliver task is left out. `segwise deliver` reads
  the webhook secrets from the variables the file names: set them in the workers' environment;
- SEGWISE_SCHEDULE: the cron schedule (default: every 15 minutes).

A scheduled run evaluates the segments at its data interval end; a run triggered by hand
without a logical date, at the time it was triggered.
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[attr-defined,no-redef]

try:  # the standard provider (Airflow 3, and Airflow 2.9+ with the provider)
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2 without it
    from airflow.operators.bash import BashOperator  # type: ignore[no-redef]

PROJECT_DIR = Path(os.environ.get("SEGWISE_PROJECT_DIR", ".")).resolve()
TARGET = os.environ.get("SEGWISE_TARGET") or None
# a relative path is the project's, as for `segwise deliver`, which runs there
DELIVERIES = (PROJECT_DIR / (os.environ.get("SEGWISE_DELIVERIES") or "deliveries.yml")).resolve()
SCHEDULE = os.environ.get("SEGWISE_SCHEDULE") or "*/15 * * * *"
UTC = timezone.utc  # noqa: UP017 (datetime.UTC is Python 3.11+: Airflow's Python may be older)


def segwise_t(moment: datetime) -> str:
    """T as segwise takes it: UTC, to the second, without an offset (segwise rejects offsets).
    A naive datetime is taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


# T is the data interval end: a retry, or a cleared run, evaluates the same T again (a no-op when
# the first attempt got through), and a late run still evaluates the instant it stands for. An
# Airflow 3 run triggered without a logical date has no data interval: it evaluates at run_after.
AS_OF = (
    "{{ segwise_t(data_interval_end if data_interval_end is defined and data_interval_end else dag_run.run_after) }}"
)
SEGWISE_VARS = json.dumps({"segwise_as_of": AS_OF})  # the template has no quote: shlex.quote keeps it whole
TARGET_ARG = f" --target {shlex.quote(TARGET)}" if TARGET else ""

with DAG(
    dag_id="segwise",
    description="segwise build (dbt) at the data interval end, then the webhook deliveries",
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,  # the segments are as of now: no backlog of past intervals on the first start
    # One run at a time: dbt must not write the warehouse twice at once (one DuckDB file takes a
    # single writer), and each build's T must be later than the last one's.
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    user_defined_macros={"segwise_t": segwise_t},
    tags=["segwise"],
) as dag:
    build = BashOperator(
        task_id="segwise_build",
        # validate the segments, regenerate their models, then `dbt build` at T
        bash_command=f"segwise build --vars {shlex.quote(SEGWISE_VARS)}{TARGET_ARG}",
        cwd=str(PROJECT_DIR),
    )
    if DELIVERIES.is_file():
        deliver = BashOperator(
            task_id="segwise_deliver",
            # from the endpoint's cursor: what a failed or skipped run left is sent by the next one
            bash_command=f"segwise deliver --deliveries {shlex.quote(str(DELIVERIES))}{TARGET_ARG}",
            cwd=str(PROJECT_DIR),
        )
        build >> deliver
