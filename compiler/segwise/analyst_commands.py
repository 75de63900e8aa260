"""`segwise report` and `segwise export`: what analysts take out of the state tables, read
through the dbt profile's connection (docs/cli.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from sqlglot import exp

from segwise.cli import CONFIG_OPTION, PROFILE_OPTION, PROFILES_DIR_OPTION, TARGET_OPTION, _fail, main, out
from segwise.config import Ref
from segwise.errors import SegwiseError
from segwise.loading import load_project
from segwise.rules.values import parse_iso
from segwise.sql.relations import direct
from segwise.warehouse.profiles import ConnectionProfile

SCHEMA_OPTION = click.option(
    "--schema",
    default=None,
    help="Schema (dataset) of the segwise tables, when the models are built in another schema than the target's.",
)


def state_tables(profile: ConnectionProfile, schema: str | None) -> Callable[[str], exp.Table]:
    """A state table's name -> the relation: the tables keep their names in the target schema."""
    resolve = direct(schema or profile.schema, database=profile.database)

    def table(name: str) -> exp.Table:
        relation = resolve(Ref(name))
        assert isinstance(relation, exp.Table)  # `direct` names a ref as a table
        return relation

    return table


@main.command()
@TARGET_OPTION
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("target/segwise_report"),
    show_default=True,
    help="Directory for report.html and the pictures (PNG).",
)
@SCHEMA_OPTION
@PROFILES_DIR_OPTION
@PROFILE_OPTION
@CONFIG_OPTION
def report(
    target: str | None,
    out_dir: Path,
    schema: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    config_path: Path,
) -> None:
    """A static HTML report of the segments (sizes over time, entries and exits, overlaps,
    group composition and flows, definitions) in one file that opens offline, and each
    picture as a PNG."""
    from segwise.warehouse import connect, load_profile

    try:
        try:
            from segwise.report import build_report
        except ImportError as exc:
            raise SegwiseError(f"the report needs {exc.name}: pip install 'segwise[report]'") from None
        project = load_project(config_path)
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        with connect(profile) as warehouse:
            tables = state_tables(profile, schema)
            result = build_report(project, warehouse, tables, out_dir, target_name=profile.target)
    except SegwiseError as exc:
        _fail(exc)
    if result.empty:
        out.print(f"no data yet for: {', '.join(result.empty)} (the report says why)", markup=False)
    pictures = ", ".join(path.name for path in result.pictures.values())
    out.print(f"The report: {result.html.resolve()} (one file; open it in a browser)", markup=False)
    out.print(f"Its pictures, for tickets: {pictures} in {out_dir.resolve()}", markup=False)


@main.command()
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option(
    "--as-of",
    "as_of",
    help="The members as the runs left them at this instant (ISO, UTC); default: the current members.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The file to write (default: NAME.csv or NAME.parquet here). It is replaced only when the export succeeds.",
)
@TARGET_OPTION
@SCHEMA_OPTION
@PROFILES_DIR_OPTION
@PROFILE_OPTION
@CONFIG_OPTION
def export(
    name: str,
    fmt: str,
    as_of: str | None,
    out_path: Path | None,
    target: str | None,
    schema: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    config_path: Path,
) -> None:
    """NAME's members with their variant and entered_at, as CSV or Parquet, for the teams that
    hand lists to another tool."""
    from segwise.cli import _unknown_segment
    from segwise.export import export_members
    from segwise.warehouse import connect, load_profile

    try:
        instant = parse_iso(as_of) if as_of is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None
    try:
        project = load_project(config_path)
        if name not in project.segments:
            raise _unknown_segment(name, project)
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        path = out_path or Path(f"{name}.{fmt}")
        with connect(profile) as warehouse:
            tables = state_tables(profile, schema)
            result = export_members(warehouse, tables, name, "parquet" if fmt == "parquet" else "csv", path, instant)
    except SegwiseError as exc:
        _fail(exc)
    if result.as_of_note:
        out.print(result.as_of_note, markup=False)
    out.print(f"wrote {result.rows:,} members of {name} to {result.path}", markup=False)
