"""The `segwise` command line (SPEC §6)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from segwise.dbt import generate as generation
from segwise.errors import SegwiseError, ValidationError, did_you_mean
from segwise.loading import load_project
from segwise.rules.values import parse_iso
from segwise.sql.dialects import TARGETS
from segwise.sql.query import compile_segment

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("segwise.yml"),
    show_default=True,
    help="Project configuration file.",
)


def _as_of(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="segwise")
def main() -> None:
    """segwise: user segments as YAML rules, compiled to SQL and kept in your warehouse by dbt."""


@main.command()
@CONFIG_OPTION
def validate(config_path: Path) -> None:
    """Check segwise.yml and every segment definition; print each error as file:line:col."""
    try:
        project = load_project(config_path)
    except ValidationError as exc:
        for diagnostic in exc.diagnostics:
            out.print(str(diagnostic), markup=False)
        n = len(exc.diagnostics)
        err.print(f"[red]{n} error{'s' if n != 1 else ''}[/red]")
        sys.exit(1)
    except SegwiseError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True)
        sys.exit(1)
    groups = f", {len(project.groups)} group{'s' if len(project.groups) != 1 else ''}" if project.groups else ""
    out.print(f"ok: {len(project.segments)} segments{groups}")


@main.command(name="compile")
@click.argument("name")
@click.option("--dialect", type=click.Choice(sorted(TARGETS)), default="duckdb", show_default=True)
@click.option("--as-of", "as_of", help="Evaluation instant T (ISO, UTC); default now.")
@CONFIG_OPTION
def compile_command(name: str, dialect: str, as_of: str | None, config_path: Path) -> None:
    """Print the SQL that selects NAME's members (user_id, variant) at T."""
    try:
        project = load_project(config_path)
        if name not in project.segments:
            hint = did_you_mean(name, project.segments)
            raise SegwiseError(f"unknown segment {name!r}" + (f"; {hint}" if hint else ""))
        query = compile_segment(project, name, dialect, _as_of(as_of))
    except ValidationError as exc:
        for diagnostic in exc.diagnostics:
            err.print(str(diagnostic), markup=False)
        sys.exit(1)
    except SegwiseError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(1)
    out.print(TARGETS[dialect].sql(query) + ";", markup=False)


@main.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the generated models are stale.")
@click.option(
    "--project-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The dbt project to write into (default: the directory of the config).",
)
@CONFIG_OPTION
def generate(check: bool, project_dir: Path | None, config_path: Path) -> None:
    """Write the dbt models for every definition under models_path."""
    try:
        project = load_project(config_path)
    except ValidationError as exc:
        for diagnostic in exc.diagnostics:
            err.print(str(diagnostic), markup=False)
        sys.exit(1)
    except SegwiseError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(1)
    root = project_dir or config_path.parent
    todo = generation.plan(project, root)
    if check:
        for path in sorted(todo.write):
            out.print(f"stale: {path}", markup=False)
        for path in todo.delete:
            out.print(f"obsolete: {path}", markup=False)
        if todo.stale:
            err.print("generated models are stale: run `segwise generate`")
            sys.exit(1)
        out.print(f"ok: {todo.unchanged} generated files up to date")
        return
    generation.apply(todo)
    out.print(f"wrote {len(todo.write)} files, removed {len(todo.delete)}, {todo.unchanged} unchanged")
