"""Running a backfill against a warehouse (`segwise.warehouse.base.Warehouse.query`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlglot import exp

from segwise.config import Project
from segwise.sql.dialects import get_target
from segwise.sql.relations import Resolver
from segwise.sql.staging import table
from segwise.warehouse.base import Warehouse, WarehouseError

from .changes import BackfillMember, BackfillSize, sizes_from_members, sizes_query
from .query import caveats, membership
from .virtual import Options

ROWS = "sw_bf_rows"


def backfill_sizes_sql(
    project: Project,
    names: Iterable[str],
    dialect: str,
    instants: Iterable[datetime],
    resolver: Resolver | None = None,
    *,
    exclude_late: bool = False,
    prune: bool = True,
) -> exp.Select:
    """One query: the sizes and changes (`changes.SIZE_COLUMNS`) of every named segment at
    every instant, over `backfill_sql`'s membership rows, reading the events once."""
    names = list(dict.fromkeys(names))
    built = membership(project, names, dialect, instants, resolver, Options(exclude_late, prune))
    ctes = [*built.ctes, (ROWS, built.rows)]
    return sizes_query(names, len(built.instants), table(ROWS), ctes)


@dataclass(frozen=True)
class BackfillResult:
    instants: tuple[datetime, ...]
    sizes: tuple[BackfillSize, ...]  # by segment name, then instant
    members: tuple[BackfillMember, ...] | None  # by segment, instant, user_id; with members=True
    notes: tuple[str, ...]  # what to know when reading the numbers (`query.caveats`)
    seconds: float  # in the warehouse
    sql: str  # the query that ran


def run_backfill(
    project: Project,
    names: Iterable[str],
    warehouse: Warehouse,
    instants: Iterable[datetime],
    resolver: Resolver | None = None,
    *,
    members: bool = False,
    exclude_late: bool = False,
    prune: bool = True,
) -> BackfillResult:
    """Evaluate `names` at every instant on `warehouse`, in one query.

    With `members`, the membership rows come back (one row per member and instant) and the
    sizes are counted from them; otherwise the warehouse counts and only the sizes return."""
    names = list(dict.fromkeys(names))
    target = get_target(warehouse.dialect)
    options = Options(exclude_late, prune)
    built = membership(project, names, warehouse.dialect, instants, resolver, options)
    moments = built.instants
    if members:
        sql = target.sql(built.select())
        started = time.perf_counter()
        rows = warehouse.query(sql)
        seconds = time.perf_counter() - started
        found = tuple(
            sorted(
                (BackfillMember(str(s), _instant(t), str(u), None if v is None else str(v)) for s, t, u, v in rows),
                key=lambda m: (m.segment, m.instant, m.user_id),
            )
        )
        sizes = tuple(sizes_from_members(found, names, moments))
    else:
        sql = target.sql(sizes_query(names, len(moments), table(ROWS), [*built.ctes, (ROWS, built.rows)]))
        started = time.perf_counter()
        rows = warehouse.query(sql)
        seconds = time.perf_counter() - started
        sizes = tuple(BackfillSize(str(s), _instant(t), *(_count(v) for v in counts)) for s, t, *counts in rows)
        found = None
    return BackfillResult(tuple(moments), sizes, found, tuple(caveats(project, names)), seconds, sql)


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    raise WarehouseError(f"the warehouse returned {value!r} for an instant")


def _count(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WarehouseError(f"the warehouse returned {value!r} for a count") from None
