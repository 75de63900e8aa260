"""The `segwise` command line (docs/cli.md)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from segwise.config import Project
from segwise.dbt import generate as generation
from segwise.errors import SegwiseError, ValidationError, closest_names, did_you_mean, quoted_names
from segwise.loading import load_project
from segwise.loading.project import with_segments_text
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

F = TypeVar("F", bound=Callable[..., Any])

# The dbt profile's connection: preview, explain and `validate --target` share these.
TARGET_OPTION = click.option(
    "--target",
    "target",
    envvar="DBT_TARGET",
    help="dbt target of the profile (default: DBT_TARGET, else the profile's `target:`).",
)
PROFILES_DIR_OPTION = click.option(
    "--profiles-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of profiles.yml (default: DBT_PROFILES_DIR, else ./ when it has one, else ~/.dbt).",
)
PROFILE_OPTION = click.option(
    "--profile",
    "profile_name",
    envvar="DBT_PROFILE",
    help="dbt profile (default: `profile:` of the dbt_project.yml next to the config).",
)


def _with_options(command: F, options: Sequence[Callable[[Any], Any]]) -> F:
    for option in reversed(options):
        command = option(command)
    return command


def _profile_options(command: F) -> F:
    """The options that choose the dbt profile's connection: target, profiles dir, profile."""
    return _with_options(command, [TARGET_OPTION, PROFILES_DIR_OPTION, PROFILE_OPTION])


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


@main.command()
@click.option(
    "--warehouse",
    "use_warehouse",
    is_flag=True,
    help="Also check the definitions against the warehouse of the profile's default target "
    "(DBT_TARGET, else the profile's `target:`), read-only; --target T implies it.",
)
@_profile_options
@CONFIG_OPTION
@click.pass_context
def validate(
    ctx: click.Context,
    use_warehouse: bool,
    target: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    config_path: Path,
) -> None:
    """Check segwise.yml and every segment definition; print each error as file:line:col.

    With --target T (or --warehouse) also check them against the warehouse, through the dbt
    profile's connection and writing nothing: the relations, the columns and their types, the
    event names and properties the rules use; warnings do not fail."""
    explicit = ctx.get_parameter_source("target") is click.core.ParameterSource.COMMANDLINE
    use_warehouse = use_warehouse or explicit  # DBT_TARGET alone keeps validate offline
    if not use_warehouse and (
        profiles_dir is not None or ctx.get_parameter_source("profile_name") is click.core.ParameterSource.COMMANDLINE
    ):
        raise click.UsageError("--profiles-dir and --profile choose the warehouse: add --target T or --warehouse")
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
    groups = f", {_plural(len(project.groups), 'group')}" if project.groups else ""
    if not use_warehouse:
        out.print(f"ok: {_plural(len(project.segments), 'segment')}{groups}")
        return
    from segwise.warehouse import connect, load_profile, resolver_for
    from segwise.warehouse.checks import check_warehouse

    try:
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        resolver = resolver_for(profile, project.config, config_path.parent)
        with connect(profile) as warehouse:
            diagnostics = check_warehouse(project, warehouse, resolver)
    except SegwiseError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(1)
    for diagnostic in diagnostics:
        out.print(str(diagnostic), markup=False)
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    if errors:
        summary = _plural(errors, "error") + (f", {_plural(warnings, 'warning')}" if warnings else "")
        err.print(summary, markup=False)
        sys.exit(1)
    against = f"checked against {profile.type} target {profile.target!r}"
    advice = f"; {_plural(warnings, 'warning')}" if warnings else ""
    out.print(f"ok: {_plural(len(project.segments), 'segment')}{groups}, {against}{advice}", markup=False)


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
    out.print(TARGETS[dialect].sql(query, copy=False) + ";", markup=False)


@main.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the generated models are stale.")
@click.option(
    "--project-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The dbt project to write into (default: the directory of the config); "
    "its segwise.yml is the config unless --config is given.",
)
@CONFIG_OPTION
@click.pass_context
def generate(ctx: click.Context, check: bool, project_dir: Path | None, config_path: Path) -> None:
    """Write the dbt models for every definition under models_path."""
    if project_dir is not None and ctx.get_parameter_source("config_path") is click.core.ParameterSource.DEFAULT:
        config_path = project_dir / "segwise.yml"  # like dbt's --project-dir: the project's own file
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
    generation.apply_current(todo, config_path, root)
    out.print(f"wrote {len(todo.write)} files, removed {len(todo.delete)}, {todo.unchanged} unchanged")


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def build(dbt_args: tuple[str, ...]) -> None:
    """Validate, generate, then `dbt build DBT_ARGS...` (one command for orchestrators).

    Every argument goes to dbt (--select, --vars, --target, --full-refresh, ...); the project
    is dbt's: --project-dir, else the current directory, and its segwise.yml. Exits with
    dbt's code; stops before dbt when the definitions do not validate.
    """
    from segwise.dbt.build import run_build

    sys.exit(run_build(list(dbt_args), out, err))


# --- preview and explain: through the dbt profile's connection ---------------------------------


def _connection_options(command: F) -> F:
    """The options preview and explain share: T, the dbt profile and target, a trial file."""
    options = [
        TARGET_OPTION,
        click.option("--as-of", "as_of", help="Evaluation instant T (ISO, UTC); default now."),
        PROFILES_DIR_OPTION,
        PROFILE_OPTION,
        click.option(
            "--file",
            "trial_file",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="A segment file outside segments_path to try (its segments may use the project's).",
        ),
        CONFIG_OPTION,
    ]
    return _with_options(command, options)


def _analyst_project(config_path: Path, trial_file: Path | None, name: str) -> Project:
    project = load_project(config_path)
    if trial_file is not None:
        try:
            text = trial_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SegwiseError(f"cannot read {trial_file}: {exc.strerror}") from None
        project = with_segments_text(project, text, str(trial_file))
    if name not in project.segments:
        raise _unknown_segment(name, project)
    return project


MAX_LISTED = 20  # segment names listed when none is close: a big project's would fill the screen


def _unknown_segment(name: str, project: Project) -> SegwiseError:
    """Names the segments close to `name`, else the project's (the first MAX_LISTED)."""
    near = closest_names(name, project.segments)
    if near:
        return SegwiseError(f"unknown segment {name!r}; did you mean {quoted_names(near)}?")
    names = sorted(project.segments)
    if not names:
        return SegwiseError(f"unknown segment {name!r}: the project defines no segments")
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return SegwiseError(f"unknown segment {name!r}; the segments are {', '.join(names[:MAX_LISTED])}{more}")


def _fail(exc: SegwiseError) -> NoReturn:
    if isinstance(exc, ValidationError):
        for diagnostic in exc.diagnostics:
            err.print(str(diagnostic), markup=False, soft_wrap=True)
        n = len(exc.diagnostics)
        err.print(f"{n} error{'s' if n != 1 else ''}", markup=False)
    else:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
    sys.exit(1)


@main.command()
@click.argument("name")
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many members to list (ordered by user_id).",
)
@_connection_options
def preview(
    name: str,
    sample: int,
    target: str | None,
    as_of: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    trial_file: Path | None,
    config_path: Path,
) -> None:
    """Member count and a sample of NAME's members at T, read through the dbt profile's
    connection (writing nothing); on BigQuery also the bytes a run would scan."""
    from segwise.preview import preview_result, render_preview
    from segwise.warehouse import connect, load_profile, resolver_for

    started = time.perf_counter()
    t = _as_of(as_of)
    try:
        project = _analyst_project(config_path, trial_file, name)
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        resolver = resolver_for(profile, project.config, config_path.parent)
        with connect(profile) as warehouse:
            result = preview_result(project, name, warehouse, t, sample=sample, resolver=resolver)
    except SegwiseError as exc:
        _fail(exc)
    out.print(render_preview(result, profile.target, time.perf_counter() - started))


@main.command()
@click.argument("name")
@click.argument("user_id")
@_connection_options
def explain(
    name: str,
    user_id: str,
    target: str | None,
    as_of: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    trial_file: Path | None,
    config_path: Path,
) -> None:
    """Why USER_ID is in NAME or not at T: every condition of the rule with its value for the
    user, as a tree, computed by the warehouse from the same SQL as membership."""
    from segwise.explain import explain_result, render_explanation
    from segwise.warehouse import connect, load_profile, resolver_for

    t = _as_of(as_of)
    try:
        project = _analyst_project(config_path, trial_file, name)
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        resolver = resolver_for(profile, project.config, config_path.parent)
        with connect(profile) as warehouse:
            result = explain_result(project, name, user_id, warehouse, t, resolver=resolver)
        if not result.in_universe:
            raise SegwiseError(
                f"user {user_id!r} is not in the universe at {t.isoformat()}: no row in the users relation "
                "and no event at or before T (user ids are text; check the id and --as-of)"
            )
    except SegwiseError as exc:
        _fail(exc)
    # In a terminal long conditions wrap inside the tree; piped output keeps one line per node.
    console = out if out.is_terminal else Console(highlight=False, width=100_000, color_system=None)
    console.print(render_explanation(result, profile.target), soft_wrap=False)


@main.command()
@TARGET_OPTION
@click.option("--as-of", "as_of", help="The instant T the model is fitted at (ISO, UTC); default now.")
@PROFILES_DIR_OPTION
@PROFILE_OPTION
@CONFIG_OPTION
@click.option("--dry-run", is_flag=True, help="Fit and print, but record nothing.")
def fit(
    target: str | None,
    as_of: str | None,
    profiles_dir: Path | None,
    profile_name: str | None,
    config_path: Path,
    dry_run: bool,
) -> None:
    """Fit the BG/NBD model to the purchase history at T, in the warehouse of the dbt profile,
    and record the fit in `segwise_models`, where `dbt build` scores `predict` segments with
    the latest fit. Refit when the purchase behaviour may have moved (docs/language.md)."""
    from segwise.predict.fitting import fit_in_warehouse, record_fit
    from segwise.warehouse import connect, load_profile, resolver_for

    t = _as_of(as_of)
    try:
        project = load_project(config_path)
        profile = load_profile(config_path, profiles_dir, profile_name, target)
        resolver = resolver_for(profile, project.config, config_path.parent)
        with connect(profile) as warehouse:
            result = fit_in_warehouse(project, warehouse, t, resolver=resolver)
        p = result.params
        out.print(
            f"bgnbd at {t.isoformat()}: r={p['r']:.4f} alpha={p['alpha']:.4f} a={p['a']:.4f} b={p['b']:.4f}, "
            f"log-likelihood {result.log_likelihood:.2f}, {result.customers:,} customers "
            f"({result.rows:,} distinct histories read in {result.query_seconds:.2f} s, fitted in "
            f"{result.fit_seconds:.2f} s); series error of expected_purchases below {result.series_error:.1g}",
            markup=False,
        )
        if not dry_run:
            record_fit(project, config_path.parent, result, profile.target, profiles_dir, profile_name)
            out.print(f"recorded in segwise_models (target {profile.target})", markup=False)
    except SegwiseError as exc:
        _fail(exc)


# The analysts' commands live in their own module; importing it registers them.
from segwise import analyst_commands  # noqa: E402,F401
