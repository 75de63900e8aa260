"""segwise on Dagster: the segment models as dbt assets, then the webhook deliveries.

This module never imports segwise: it runs the `segwise` and `dbt` commands of SEGWISE_BIN, as
dagster-dbt runs any dbt, so segwise may live in Dagster's virtualenv or in one of its own.

Load it as a code location (`dagster dev -f segwise_definitions.py`). It reads, from the
environment:

- SEGWISE_BIN: the `bin` directory of segwise's virtualenv (default: where `segwise` is on PATH);
- SEGWISE_PROJECT_DIR: the dbt project with segwise.yml (default: the current directory);
- DBT_PROFILES_DIR, SEGWISE_TARGET: dbt's profiles directory and target (default: the
  project directory, and the profile's default target);
- SEGWISE_DELIVERIES: the endpoints file (default: deliveries.yml in the project); without it,
  the deliveries asset is left out.

Every 15 minutes the schedule runs the job `segwise`: `dbt build` of the segwise models at
T = the tick's time, then `segwise deliver`. A run started by hand evaluates at the `as_of`
of its config (op `segwise_models`), else now.
"""

import json
import os
import shutil
import subprocess
from datetime import UTC
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets, get_asset_key_for_model

SEGWISE_BIN = Path(os.environ.get("SEGWISE_BIN") or Path(shutil.which("segwise") or "segwise").parent)
SEGWISE, DBT = str(SEGWISE_BIN / "segwise"), str(SEGWISE_BIN / "dbt")
PROJECT_DIR = Path(os.environ.get("SEGWISE_PROJECT_DIR", ".")).resolve()
PROFILES_DIR = Path(os.environ.get("DBT_PROFILES_DIR", PROJECT_DIR)).resolve()
TARGET = os.environ.get("SEGWISE_TARGET") or None
DELIVERIES = Path(os.environ.get("SEGWISE_DELIVERIES", PROJECT_DIR / "deliveries.yml")).resolve()
PROFILE_ARGS = ["--profiles-dir", str(PROFILES_DIR), *(["--target", TARGET] if TARGET else [])]

segwise_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROFILES_DIR, target=TARGET)


def run(*args: str) -> str:
    """One command of segwise's virtualenv in the project; its output, or a Failure showing it."""
    done = subprocess.run(args, cwd=PROJECT_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-4000:]
        raise dg.Failure(f"{Path(args[0]).name} {args[1]} failed:\n{output}", metadata={"output": output})
    return done.stdout


def prepare() -> None:
    """What `segwise build` does before dbt (validate the segments, write their models), then
    dbt's parse, for the manifest dagster-dbt reads. A deployment does this once when it is
    built; loading does it under `dagster dev`, or when there is no manifest yet."""
    run(SEGWISE, "generate", "--project-dir", str(PROJECT_DIR))
    run(DBT, "deps", "--quiet")
    run(DBT, "parse", "--quiet", *PROFILE_ARGS)


if segwise_project.preparer.using_dagster_dev() or not segwise_project.manifest_path.exists():
    prepare()


class SegwiseRun(dg.Config):
    as_of: str = ""  # T, YYYY-MM-DDTHH:MM:SS in UTC; empty: now (the schedule gives its tick)


@dbt_assets(manifest=segwise_project.manifest_path, project=segwise_project)
def segwise_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: SegwiseRun):  # type: ignore[no-untyped-def]
    args = ["build", "--vars", json.dumps({"segwise_as_of": config.as_of})] if config.as_of else ["build"]
    yield from dbt.cli(args, context=context).stream()


CHANGES = get_asset_key_for_model([segwise_models], "segment_changes")


@dg.asset(deps=[CHANGES], description="segwise deliver: the new entries and exits, POSTed to the webhooks")
def segwise_deliveries(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    # A failure leaves the cursor before the batch that failed: the next run resumes there.
    output = run(SEGWISE, "deliver", "--deliveries", str(DELIVERIES), *PROFILE_ARGS)
    for line in output.splitlines():
        context.log.info(line)
    return dg.MaterializeResult(metadata={"output": dg.MetadataValue.text(output)})


assets = [segwise_models, segwise_deliveries] if DELIVERIES.is_file() else [segwise_models]
# The tag lets dagster.yaml hold runs of this job to one at a time (docs/orchestration.md).
segwise_job = dg.define_asset_job("segwise", selection=dg.AssetSelection.assets(*assets), tags={"segwise": "build"})


@dg.schedule(job=segwise_job, cron_schedule="*/15 * * * *", execution_timezone="UTC")
def segwise_every_15_minutes(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """T = the tick's time: a retried tick evaluates the same T (a no-op for dbt if the first
    attempt got that far; delivery resumes from its cursor), and the run key keeps Dagster from
    launching a tick twice."""
    as_of = context.scheduled_execution_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return dg.RunRequest(run_key=as_of, run_config={"ops": {"segwise_models": {"config": {"as_of": as_of}}}})


defs = dg.Definitions(
    assets=assets,
    jobs=[segwise_job],
    schedules=[segwise_every_15_minutes],
    resources={"dbt": DbtCliResource(project_dir=segwise_project, dbt_executable=DBT)},
)
