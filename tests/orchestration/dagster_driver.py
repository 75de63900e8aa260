"""Run by the Dagster virtualenv's python (tests/orchestration/test_dagster.py): load the
recipe as a code location would, report what it defines, then run its job once per tick the
way the schedule launches it. Prints one JSON document."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import datetime
from typing import Any


def main(recipe: str, ticks: list[str]) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("segwise_definitions", recipe)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    import dagster as dg

    defs: dg.Definitions = module.defs
    dg.Definitions.validate_loadable(defs)  # what `dagster dev` checks when it loads the location
    schedule = defs.get_schedule_def("segwise_every_15_minutes")
    job = defs.get_job_def("segwise")
    report: dict[str, Any] = {
        "assets": sorted(key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()),
        "job_assets": sorted(key.to_user_string() for key in job.asset_layer.executable_asset_keys),
        "cron": schedule.cron_schedule,
        "timezone": schedule.execution_timezone,
        "runs": [],
    }
    instance = dg.DagsterInstance.ephemeral()
    for tick in ticks:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime.fromisoformat(tick))
        requests = schedule.evaluate_tick(context).run_requests or []
        assert len(requests) == 1, requests
        request = requests[0]
        result = job.execute_in_process(run_config=request.run_config, instance=instance, tags=request.tags)
        materialized = result.get_asset_materialization_events()
        deliveries = [e for e in materialized if e.asset_key.to_user_string() == "segwise_deliveries"]
        metadata = deliveries[0].materialization.metadata if deliveries else {}
        report["runs"].append(
            {
                "tick": tick,
                "run_key": request.run_key,
                "run_config": request.run_config,
                "success": result.success,
                "materialized": sorted({e.asset_key.to_user_string() for e in materialized}),
                "checks": sorted(
                    f"{c.asset_key.to_user_string()}:{c.check_name}:{c.passed}"
                    for c in result.get_asset_check_evaluations()
                ),
                "deliveries": {k: v.value for k, v in metadata.items()},
                "segwise_imported": "segwise" in sys.modules,
            }
        )
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:]), default=str))
