"""`segwise export`: a segment's members (user_id, variant, entered_at) as a CSV or Parquet file,
for teams that hand lists to another tool.

The rows come from the state tables segwise keeps (segwise.dbt.state):

- without an as-of instant, from `segment_membership`: the members the last run left;
- with one, T, from `segment_membership_history`: the intervals open at T
  (valid_from <= T and (valid_to IS NULL or valid_to > T)). A member's entered_at is the
  start of their unbroken membership: a variant change closes one interval and opens the
  next at the same instant, so the chain of adjacent intervals is followed back to the
  latest interval start (<= T) that is not another interval's end. A T after the last
  run exports the current members (with a note saying so); a T before the first run is
  an error.

The warehouse is read in pages of PAGE rows by user_id (`user_id > last seen`, the only
paging the read-only `Warehouse.query` interface allows), so a large segment never sits in
memory whole: CSV pages go straight to the file; Parquet pages go into a DuckDB database in a
temporary directory (DuckDB is a core dependency; pyarrow is not needed) that then writes
the file. Either way the file is written as PATH.tmp and renamed over PATH at the end, so a
failed export never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
from sqlglot import exp

from segwise.errors import SegwiseError
from segwise.rules.values import format_iso_z as iso
from segwise.sql import literals
from segwise.sql.dialects import Target, get_target
from segwise.sql.staging import alias, col
from segwise.warehouse.base import Warehouse

PAGE = 100_000  # rows per warehouse query
FORMATS = ("csv", "parquet")
HEADER = ("user_id", "variant", "entered_at")

Format = Literal["csv", "parquet"]
TableNamer = Callable[[str], exp.Table]  # a state table's name -> the relation to read
Member = tuple[str, str | None, datetime | None]  # user_id, variant, entered_at (aware, UTC)


class ExportError(SegwiseError):
    """An export that cannot be written: an as-of instant before the first run, a bad format, ..."""


@dataclass(frozen=True)
class ExportResult:
    rows: int
    path: Path
    as_of_note: str | None = None  # for the caller to print: why the rows are not those at --as-of


def export_members(
    warehouse: Warehouse,
    table: TableNamer,
    segment: str,
    fmt: Format,
    out: Path,
    as_of: datetime | None = None,
) -> ExportResult:
    """Write `segment`'s members to `out` as `fmt`, as the runs left them at `as_of` (naive
    instants are UTC), or the current members without it. An unknown segment is an empty
    file: the caller checks names against the project."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: choose csv or parquet")
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: no directory {out.parent}")
    target = get_target(warehouse.dialect)
    note, instant = None, None
    if as_of is not None:
        instant = utc(as_of)
        first, last = run_bounds(warehouse, table)
        if first is None or last is None:
            raise ExportError(f"no run at or before {iso(instant)}: segwise_runs is empty (no run has finished yet)")
        if instant < first:
            raise ExportError(f"no run at or before {iso(instant)}: the first run's T is {iso(first)}")
        if instant > last:
            note = f"{iso(instant)} is after the last run ({iso(last)}): exported the current members"
            instant = None

    def build(after: str | None) -> exp.Select:
        if instant is None:
            return current_query(target, table, segment, after)
        return as_of_query(target, table, segment, instant, after)

    members = pages(warehouse, target, build)
    writer = write_csv if fmt == "csv" else write_parquet
    rows = _atomically(out, lambda tmp: writer(tmp, members))
    return ExportResult(rows=rows, path=out, as_of_note=note)


# --- SQL ----------------------------------------------------------------------------------


def _eq(name: str, value: exp.Expr, table: str | None = None) -> exp.EQ:
    return exp.EQ(this=col(name, table), expression=value)


def _after(where: exp.Expr, after: str | None, table: str | None = None) -> exp.Expr:
    if after is None:
        return where
    return exp.and_(where, exp.GT(this=col("user_id", table), expression=literals.string(after)), copy=False)


def _relation(table: TableNamer, name: str, alias_name: str | None = None) -> exp.Table:
    relation = table(name).copy()
    if alias_name:
        relation.set("alias", exp.TableAlias(this=exp.to_identifier(alias_name)))
    return relation


def current_query(target: Target, table: TableNamer, segment: str, after: str | None = None) -> exp.Select:
    """One page of segment_membership: the members after user_id `after`, by user_id."""
    where = _after(_eq("segment", literals.string(segment)), after)
    return (
        exp.select(col("user_id"), col("variant"), col("entered_at"))
        .from_(_relation(table, "segment_membership"), copy=False)
        .where(where, copy=False)
        .order_by(target.ordered(col("user_id")), copy=False)
        .limit(PAGE, copy=False)
    )


def _named(name: str, alias_name: str | None = None) -> exp.Table:
    """A CTE by name, optionally aliased."""
    relation = exp.Table(this=exp.to_identifier(name))
    if alias_name:
        relation.set("alias", exp.TableAlias(this=exp.to_identifier(alias_name)))
    return relation


def as_of_query(
    target: Target, table: TableNamer, segment: str, as_of: datetime, after: str | None = None
) -> exp.Select:
    """One page of the members at `as_of` from segment_membership_history, with entered_at the
    start of each member's unbroken chain of adjacent intervals:

        WITH sw_open AS (the page: the segment's intervals open at T [user_id > after],
                         ORDER BY user_id LIMIT PAGE),
             sw_history AS (the page's users' intervals starting at or before T),
             sw_starts AS (those that start where none of the user's intervals ends)
        SELECT o.user_id, o.variant, COALESCE(MAX(s.valid_from), o.valid_from) AS entered_at
        FROM sw_open AS o LEFT JOIN sw_starts AS s ON s.user_id = o.user_id AND s.valid_from <= o.valid_from
        GROUP BY o.user_id, o.variant, o.valid_from ORDER BY o.user_id

    The page is chosen first (a filtered top-N), so the chains are followed for its users only.
    """
    t = literals.timestamp(target, utc(as_of).replace(tzinfo=None))

    def segment_started() -> exp.Expr:  # the segment's intervals starting at or before T
        return exp.and_(
            _eq("segment", literals.string(segment)),
            exp.LTE(this=col("valid_from"), expression=t.copy()),
            copy=False,
        )

    still_open = exp.or_(
        exp.Is(this=col("valid_to"), expression=exp.Null()),
        exp.GT(this=col("valid_to"), expression=t.copy()),
        copy=False,
    )
    open_at = (
        exp.select(col("user_id"), col("variant"), col("valid_from"))
        .from_(_relation(table, "segment_membership_history"), copy=False)
        .where(_after(exp.and_(segment_started(), exp.paren(still_open, copy=False), copy=False), after), copy=False)
        .order_by(target.ordered(col("user_id")), copy=False)
        .limit(PAGE, copy=False)
    )
    page_users = exp.In(
        this=col("user_id"), query=exp.select(col("user_id")).from_(_named("sw_open"), copy=False).subquery(copy=False)
    )
    history = (
        exp.select(col("user_id"), col("valid_from"), col("valid_to"))
        .from_(_relation(table, "segment_membership_history"), copy=False)
        .where(exp.and_(segment_started(), page_users, copy=False), copy=False)
    )
    # An interval that starts where another of the user's intervals ends continues it (a
    # variant change); `b.valid_from < a.valid_from` keeps a zero-length interval from
    # continuing itself.
    continues = exp.and_(
        exp.EQ(this=col("user_id", "b"), expression=col("user_id", "a")),
        exp.EQ(this=col("valid_to", "b"), expression=col("valid_from", "a")),
        exp.LT(this=col("valid_from", "b"), expression=col("valid_from", "a")),
        copy=False,
    )
    starts = (
        exp.select(col("user_id", "a"), col("valid_from", "a"))
        .from_(_named("sw_history", "a"), copy=False)
        .join(_named("sw_history", "b"), on=continues, join_type="left", copy=False)
        .where(exp.Is(this=col("user_id", "b"), expression=exp.Null()), copy=False)
    )
    entered = exp.Coalesce(this=exp.Max(this=col("valid_from", "s")), expressions=[col("valid_from", "o")])
    chain = exp.and_(
        exp.EQ(this=col("user_id", "s"), expression=col("user_id", "o")),
        exp.LTE(this=col("valid_from", "s"), expression=col("valid_from", "o")),
        copy=False,
    )
    return (
        exp.select(col("user_id", "o"), col("variant", "o"), alias(entered, "entered_at"))
        .with_("sw_open", open_at, copy=False)
        .with_("sw_history", history, copy=False)
        .with_("sw_starts", starts, copy=False)
        .from_(_named("sw_open", "o"), copy=False)
        .join(_named("sw_starts", "s"), on=chain, join_type="left", copy=False)
        .group_by(col("user_id", "o"), col("variant", "o"), col("valid_from", "o"), copy=False)
        .order_by(target.ordered(col("user_id", "o")), copy=False)
    )


def runs_query(table: TableNamer) -> exp.Select:
    return exp.select(exp.Min(this=col("as_of")), exp.Max(this=col("as_of"))).from_(
        _relation(table, "segwise_runs"), copy=False
    )


def run_bounds(warehouse: Warehouse, table: TableNamer) -> tuple[datetime | None, datetime | None]:
    """The T of the first and of the last run (UTC); (None, None) without runs."""
    rows = warehouse.query(get_target(warehouse.dialect).sql(runs_query(table)))
    if not rows:
        return None, None
    first, last = rows[0]
    return _instant(first), _instant(last)


# --- rows -----------------------------------------------------------------------------------


def pages(warehouse: Warehouse, target: Target, build: Callable[[str | None], exp.Select]) -> Iterator[list[Member]]:
    """The rows of `build(after)`, a page at a time: each page starts after the last user_id
    of the one before; a short page is the last."""
    after: str | None = None
    while True:
        size = PAGE  # read once per page: tests shrink it
        rows = warehouse.query(target.sql(build(after)))
        if rows:
            yield [_member(row) for row in rows]
        if len(rows) < size:
            return
        after = str(rows[-1][0])


def _member(row: tuple[Any, ...]) -> Member:
    user_id, variant, entered_at = row[:3]
    return str(user_id), None if variant is None else str(variant), _instant(entered_at)


def _instant(value: Any) -> datetime | None:
    """A warehouse timestamp as an aware UTC datetime (naive ones are UTC, as segwise writes them)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ExportError(f"the warehouse returned {value!r} for a timestamp")
    return utc(value)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- files ----------------------------------------------------------------------------------


def _atomically(out: Path, write: Callable[[Path], int]) -> int:
    """write(PATH.tmp), then rename it over `out`; on any failure the temporary file is removed
    and `out` is left as it was."""
    tmp = out.with_name(out.name + ".tmp")
    try:
        rows = write(tmp)
        _fsync(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "rb") as f:
        os.fsync(f.fileno())


def write_csv(path: Path, members: Iterator[list[Member]]) -> int:
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for page in members:
            writer.writerows((user_id, variant, None if at is None else iso(at)) for user_id, variant, at in page)
            rows += len(page)
    return rows


# Local DuckDB statements (not warehouse SQL): constant text, the rows bound as list parameters.
PARQUET_TABLE = "CREATE TABLE sw_export (user_id VARCHAR, variant VARCHAR, entered_at TIMESTAMPTZ)"
PARQUET_INSERT = "INSERT INTO sw_export SELECT UNNEST($1::VARCHAR[]), UNNEST($2::VARCHAR[]), UNNEST($3::TIMESTAMPTZ[])"


def write_parquet(path: Path, members: Iterator[list[Member]]) -> int:
    """The pages go into a DuckDB database file in a temporary directory (so DuckDB, not this
    process, holds the rows, and can spill them to disk), in order; DuckDB then writes the
    Parquet file: user_id and variant strings, entered_at a UTC timestamp."""
    rows = 0
    with tempfile.TemporaryDirectory(prefix="segwise-export-") as scratch:
        con = duckdb.connect(os.path.join(scratch, "export.duckdb"))
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(PARQUET_TABLE)
            for page in members:
                ids, variants, entered = (list(column) for column in zip(*page, strict=True))
                con.execute(PARQUET_INSERT, [ids, variants, entered])
                rows += len(page)
            con.table("sw_export").write_parquet(str(path))
        finally:
            con.close()
    return rows
