"""Writing through dbt: `dbt run-operation segwise.<macro>` in this process, with the
profile's own adapter, for the commands whose warehouse connection is read-only (`fit`,
`backfill`). In process, the arguments have no command-line length limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from segwise.errors import SegwiseError


def run_operation(
    macro: str,
    arguments: dict[str, Any],
    project_dir: Path,
    target: str | None,
    profiles_dir: Path | None,
    profile: str | None,
    *,
    quiet: bool = False,
) -> None:
    """Run `segwise.<macro>` with `arguments`; a SegwiseError when dbt fails. `quiet` leaves
    dbt's errors only, for commands whose own output is the result."""
    from dbt.cli.main import dbtRunner

    args = ["run-operation", *(["--quiet"] if quiet else []), f"segwise.{macro}", "--args", json.dumps(arguments)]
    args += ["--project-dir", str(project_dir)]
    if target:
        args += ["--target", target]
    if profiles_dir is not None:
        args += ["--profiles-dir", str(profiles_dir)]
    if profile:
        args += ["--profile", profile]
    outcome = dbtRunner().invoke(args)
    if outcome.exception is not None or not outcome.success:
        raise SegwiseError(f"dbt run-operation segwise.{macro} failed: {outcome.exception or 'see the dbt log above'}")
