"""`segwise build [dbt args]`: validate, generate, `dbt build`, in one process, for schedulers.

dbt runs in-process (dbtRunner), with the arguments as given; the project is dbt's own
(--project-dir, else the current directory) and its segwise.yml is the configuration.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from segwise.dbt import generate as generation
from segwise.errors import SegwiseError, ValidationError
from segwise.loading import load_project

EXIT_INVALID = 1  # the definitions do not validate: dbt did not start
EXIT_DBT_ERROR = 2  # dbt could not run (as `dbt` exits: 1 = a node failed, 2 = an error)


def project_dir_of(args: Sequence[str]) -> Path:
    """dbt's --project-dir (either spelling), else DBT_PROJECT_DIR, else the current directory."""
    for i, arg in enumerate(args):
        if arg == "--project-dir" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--project-dir="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get("DBT_PROJECT_DIR") or ".")


def run_build(args: list[str], out: Console, err: Console) -> int:
    project_dir = project_dir_of(args)
    config_path = project_dir / "segwise.yml"
    if not config_path.is_file():
        err.print(f"error: no segwise.yml in {str(project_dir.resolve())!r} (give dbt's --project-dir)", markup=False)
        return EXIT_INVALID
    try:
        project = load_project(config_path)
    except ValidationError as exc:
        for diagnostic in exc.diagnostics:
            out.print(str(diagnostic), markup=False)
        n = len(exc.diagnostics)
        err.print(f"{n} error{'s' if n != 1 else ''}: nothing generated, dbt not started", markup=False)
        return EXIT_INVALID
    except SegwiseError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_INVALID
    todo = generation.plan(project, project_dir)
    generation.apply_current(todo, config_path, project_dir)
    out.print(
        f"segwise: {len(project.segments)} segments valid; wrote {len(todo.write)} files, "
        f"removed {len(todo.delete)}, {todo.unchanged} unchanged",
        markup=False,
    )
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["build", *args])
    if result.exception is not None:
        err.print(f"dbt: {result.exception}", markup=False)
        return EXIT_DBT_ERROR
    return 0 if result.success else 1
