"""Writing a backfill next to the segwise tables, through dbt (macros/segwise_backfill.sql):
the warehouse clients are read-only, and dbt's adapter writes where `dbt build` does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlglot import exp

from segwise.config import Project
from segwise.dbt.operation import run_operation
from segwise.rules.canonical import definition_hashes
from segwise.sql import literals
from segwise.sql.dialects import get_target
from segwise.sql.relations import Resolver
from segwise.sql.staging import alias, col, table

from .changes import SIZE_COLUMNS, changes_sql, sizes_sql
from .query import backfill_sql

# Names the macro replaces: the staging table of membership rows, and the backfill's start.
STAGED = "sw_backfill_staged"
NOW = "sw_backfill_now"


def _marked(query: exp.Select, columns: Sequence[str], hashes: dict[str, str], names: Sequence[str]) -> exp.Select:
    """`columns` of `query`, then the definition hash of the row's segment and the time."""
    segment = col("segment", "q")
    known = [exp.If(this=exp.EQ(this=segment.copy(), expression=literals.string(n)), true=literals.string(hashes[n]))
             for n in names]  # fmt: skip
    return exp.select(
        *(col(c, "q") for c in columns),
        alias(exp.Case(ifs=known), "definition_hash"),
        alias(exp.column(NOW), "backfilled_at"),
    ).from_(exp.alias_(exp.Subquery(this=query), "q", table=True), copy=False)


def backfill_statements(
    project: Project, names: Sequence[str], dialect: str, instants: Sequence[datetime], resolver: Resolver,
    *, exclude_late: bool = False,
) -> dict[str, str]:  # fmt: skip
    """The three queries the macro runs: the membership rows, then the sizes and the changes
    over the staging table they are written to."""
    target = get_target(dialect)
    hashes = definition_hashes(project)
    staged = table(STAGED)
    sizes = _marked(sizes_sql(names, dialect, instants, staged), SIZE_COLUMNS, hashes, names)
    changes = _marked(
        changes_sql(names, dialect, instants, staged), ("segment", "user_id", "changed_at", "change"), hashes, names
    )
    members = backfill_sql(project, names, dialect, instants, resolver, exclude_late=exclude_late)
    return {
        "members_sql": target.sql(members),
        "sizes_sql": target.sql(sizes),
        "changes_sql": target.sql(changes),
    }


def record_backfill(
    statements: dict[str, str],
    names: Sequence[str],
    project_dir: Path,
    target: str | None,
    profiles_dir: Path | None,
    profile: str | None,
) -> None:
    """Run `dbt run-operation segwise.record_backfill` in this process (the queries are too
    long for a command line)."""
    arguments = {**statements, "segments": list(names)}
    run_operation("record_backfill", arguments, project_dir, target, profiles_dir, profile, quiet=True)
