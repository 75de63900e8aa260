"""`segwise report`, `segwise export` and `segwise backfill`: what analysts take out of the
state tables and the warehouse, through the dbt profile's connection (docs/cli.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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


@main.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--from", "start", required=True, help="The first instant (ISO, UTC).")
@click.option("--to", "end", required=True, help="The last instant (ISO, UTC), included when a step lands on it.")
@click.option("--every", default="1d", show_default=True, help="The step between instants: 1d, 12h, 1w, ...")
@click.option(
    "--exclude-late",
    is_flag=True,
    help="Count only the events loaded by each instant (loaded_at <= T), as a run at that instant would have.",
)
@click.option("--dry-run", is_flag=True, help="Compute and print the sizes, write nothing.")
@TARGET_OPTION
@SCHEMA_OPTION
@PROFILES_DIR_OPTION
@PROFILE_OPTION
@CONFIG_OPTION
def backfill(
    names: tuple[str, ...],
    start: str,
    end: str,
    every: str,
    exclude_late: bool,
    dry_run: bool,
    target: str | None,
    schema: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    config_path: Path,
) -> None:
    """What NAMES would have been at past instants, from the data in the warehouse now, in one
    pass over the events: sizes, entries and exits per instant, written to
    segment_backfill_sizes and segment_backfill_changes (never the real change log)."""
    from segwise.backfill import instants_between, run_backfill
    from segwise.backfill.record import backfill_statements, record_backfill
    from segwise.cli import _unknown_segment
    from segwise.rules.values import Duration
    from segwise.warehouse import connect, load_profile, resolver_for

    try:
        first, last = parse_iso(start), parse_iso(end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--from/--to") from None
    try:
        step = Duration.parse(every)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    selected = list(dict.fromkeys(names))
    try:
        project = load_project(config_path)
        for name in selected:
            if name not in project.segments:
                raise _unknown_segment(name, project)
        instants = instants_between(first, last, step)
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        resolver = resolver_for(profile, project.config, config_path.parent)
        if dry_run:
            with connect(profile) as warehouse:
                result = run_backfill(project, selected, warehouse, instants, resolver, exclude_late=exclude_late)
            sizes = [(s.segment, s.instant, s.members, s.entered, s.exited) for s in result.sizes]
            notes = result.notes
        else:
            statements = backfill_statements(
                project, selected, profile.dialect, instants, resolver, exclude_late=exclude_late
            )
            record_backfill(statements, selected, config_path.parent, target, profiles_dir, profile_name)
            sizes = _written_sizes(profile, schema, selected)
            from segwise.backfill import caveats

            notes = tuple(caveats(project, selected))
    except SegwiseError as exc:
        _fail(exc)
    out.print(f"{len(instants)} instants from {instants[0].isoformat()} to {instants[-1].isoformat()}", markup=False)
    for segment, instant, members, entered, exited in sizes:
        out.print(
            f"{segment:<30} {instant.isoformat()}  {members:>10,} members  +{entered:,} -{exited:,}", markup=False
        )
    for note in notes:
        out.print(f"note: {note}", markup=False)
    if dry_run:
        out.print("dry run: nothing written", markup=False)
    else:
        out.print("written to segment_backfill_sizes and segment_backfill_changes", markup=False)


def _written_sizes(profile: ConnectionProfile, schema: str | None, names: list[str]) -> list[tuple[Any, ...]]:
    """The sizes the backfill wrote, read back through the profile's read-only connection."""
    from segwise.sql import literals
    from segwise.sql.dialects import get_target
    from segwise.sql.staging import col
    from segwise.warehouse import connect

    columns = ("segment", "instant", "members", "entered", "exited")
    query = (
        exp.select(*(col(c) for c in columns))
        .from_(state_tables(profile, schema)("segment_backfill_sizes"))
        .where(exp.In(this=col("segment"), expressions=[literals.string(n) for n in names]))
        .order_by(col("segment"), col("instant"))
    )
    with connect(profile) as warehouse:
        return warehouse.query(get_target(warehouse.dialect).sql(query))


@main.command()
@click.option(
    "--deliveries",
    "deliveries_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("deliveries.yml"),
    show_default=True,
    help="The endpoints and what each receives (docs/delivery.md).",
)
@click.option("--endpoint", "endpoints", multiple=True, help="Only this endpoint (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing, move no cursor.")
@click.option("--replay-dead-letters", is_flag=True, help="Send the dead-lettered changes again instead.")
@TARGET_OPTION
@SCHEMA_OPTION
@PROFILES_DIR_OPTION
@PROFILE_OPTION
@CONFIG_OPTION
def deliver(
    deliveries_path: Path,
    endpoints: tuple[str, ...],
    dry_run: bool,
    replay_dead_letters: bool,
    target: str | None,
    schema: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    config_path: Path,
) -> None:
    """POST the entries and exits of segment_changes to webhooks, in signed batches, at least
    once, from a cursor kept in the warehouse (segwise_deliveries); run it after segwise build."""
    import sys

    from segwise.deliver import deliver as deliver_changes
    from segwise.deliver import replay_dead_letters as replay
    from segwise.warehouse import load_profile

    if dry_run and replay_dead_letters:
        raise click.UsageError("--dry-run and --replay-dead-letters cannot be combined")
    try:
        project = load_project(config_path)
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        options: dict[str, Any] = {"endpoints": list(endpoints) or None, "schema": schema}
        log = lambda line: out.print(line, markup=False)  # noqa: E731  (payloads hold brackets)
        if replay_dead_letters:
            result = replay(project, profile, deliveries_path, log=log, **options)
        else:
            result = deliver_changes(project, profile, deliveries_path, dry_run=dry_run, log=log, **options)
    except SegwiseError as exc:
        _fail(exc)
    if not result.ok:
        sys.exit(1)
