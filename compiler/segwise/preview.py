"""`segwise preview`: a segment's size and a sample of its members at T, straight from the
warehouse, for a definition that need not be generated or built yet.

The numbers come from running `compile_segment`'s SQL (the same SQL dbt materialises), wrapped
in one outer SELECT that counts and samples in the same pass:

    WITH <compile_segment's CTEs>
    SELECT user_id, variant, COUNT(*) OVER () AS sw_members, COUNT(<control>) OVER () ...
    FROM (<compile_segment's SELECT>) AS sw_preview ORDER BY user_id LIMIT max(N, 1)

`preview_result` returns the numbers as data, so tests (and the fakesnow/BigQuery checks) can
compare them with the reference evaluator; `render_preview` is what the CLI prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import RenderableType
from rich.markup import escape
from rich.text import Text
from sqlglot import exp

from segwise.config import Project
from segwise.rules.values import format_iso
from segwise.sql import literals
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_segment
from segwise.sql.relations import Resolver
from segwise.sql.staging import col
from segwise.warehouse.base import Warehouse, WarehouseError

DEFAULT_SAMPLE = 10
KEY_WIDTH = len("would scan")  # the widest key: every output aligns the same way


@dataclass(frozen=True)
class PreviewResult:
    segment: str
    as_of: datetime
    dialect: str
    holdout: int  # percent; 0 = no holdout (no variants)
    members: int
    control: int | None  # None without a holdout
    treatment: int | None
    sample: tuple[tuple[str, str | None], ...]  # (user_id, variant), ordered by user_id
    scan_bytes: int | None  # BigQuery: the dry run's total_bytes_processed
    seconds: float  # the dry run and the query, in the warehouse
    sql: str  # the query that ran
    scan_error: str | None = None  # why a dry run gave no estimate (the count still ran)


def preview_query(
    project: Project, name: str, dialect: str, as_of: datetime, sample: int, resolver: Resolver | None = None
) -> exp.Select:
    """compile_segment's query, counted and sampled (sample >= 0; at least one row is read so
    that the count arrives even with --sample 0)."""
    return _counted(compile_segment(project, name, dialect, as_of, resolver), dialect, sample)


def _counted(members: exp.Select, dialect: str, sample: int) -> exp.Select:
    members = members.copy()
    ctes = members.args.get("with_")
    members.set("with_", None)
    control = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=col("variant"), expression=literals.string("control")), true=exp.Literal.number(1))
        ]
    )
    query = (
        exp.select(
            col("user_id"),
            col("variant"),
            exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "sw_members"),
            exp.alias_(exp.Window(this=exp.Count(this=control)), "sw_control"),
        )
        .from_(members.subquery("sw_preview", copy=False), copy=False)
        .order_by(get_target(dialect).ordered(col("user_id")), copy=False)
        .limit(max(sample, 1), copy=False)
    )
    query.set("with_", ctes)
    return query


def has_dry_run(warehouse: Warehouse) -> bool:
    """Whether the warehouse estimates a query's cost (BigQuery does; the others return None)."""
    return type(warehouse).dry_run_bytes is not Warehouse.dry_run_bytes


def preview_result(
    project: Project,
    name: str,
    warehouse: Warehouse,
    as_of: datetime,
    *,
    sample: int = DEFAULT_SAMPLE,
    resolver: Resolver | None = None,
) -> PreviewResult:
    """Run NAME's compiled SQL at `as_of` on `warehouse`: member count, variant split, the
    first `sample` members by user_id, and (BigQuery) the bytes a run would scan."""
    if sample < 0:
        raise ValueError("sample must be >= 0")
    target = get_target(warehouse.dialect)
    members = compile_segment(project, name, warehouse.dialect, as_of, resolver)
    sql = target.sql(_counted(members, warehouse.dialect, sample))
    started = time.perf_counter()
    scan, scan_error = None, None
    if has_dry_run(warehouse):
        try:
            scan = warehouse.dry_run_bytes(target.sql(members))
        except WarehouseError as exc:  # an estimate is a bonus: an emulator may not dry-run
            scan_error = str(exc)
    rows = warehouse.query(sql)
    seconds = time.perf_counter() - started
    members_count = _count(rows[0][2]) if rows else 0
    control = _count(rows[0][3]) if rows else 0
    holdout = project.segments[name].holdout
    return PreviewResult(
        segment=name,
        as_of=as_of,
        dialect=warehouse.dialect,
        holdout=holdout,
        members=members_count,
        control=control if holdout > 0 else None,
        treatment=members_count - control if holdout > 0 else None,
        sample=tuple((str(row[0]), None if row[1] is None else str(row[1])) for row in rows[:sample]),
        scan_bytes=scan,
        seconds=seconds,
        sql=sql,
        scan_error=scan_error,
    )


def _count(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WarehouseError(f"the warehouse returned {value!r} for a count") from None


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit} ({n:,} bytes)"
        size /= 1000
    raise AssertionError("unreachable")


def key_values(rows: list[tuple[str, str]]) -> Text:
    """`key  value` lines, keys aligned, no trailing blanks; values are rich markup."""
    width = max([KEY_WIDTH, *(len(key) for key, _ in rows)])
    text = Text()
    for n, (key, value) in enumerate(rows):
        if n:
            text.append("\n")
        text.append(key.ljust(width + 2) if value else key, style="bold" if key else "")
        text.append_text(Text.from_markup(value))
    return text


def render_preview(
    result: PreviewResult, target: str | None = None, total_seconds: float | None = None
) -> RenderableType:
    """The CLI's output: one `key  value` line each, then the sample."""
    rows = [
        ("segment", escape(result.segment)),
        ("T", f"{format_iso(result.as_of)} (UTC)"),
        ("target", escape(f"{target} ({result.dialect})" if target else result.dialect)),
        ("members", f"[bold]{result.members:,}[/bold]"),
    ]
    if result.control is not None and result.treatment is not None:
        split = f"control {result.control:,} · treatment {result.treatment:,} (holdout {result.holdout}%)"
        rows.append(("variants", split))
    if result.scan_bytes is not None:
        rows.append(("would scan", f"{human_bytes(result.scan_bytes)} (dry run)"))
    elif result.scan_error is not None:
        rows.append(("would scan", f"unknown: {escape(result.scan_error)}"))
    if result.members == 0:
        rows.append(("sample", "(no members)"))
    elif result.sample:
        rows.append(("sample", f"{len(result.sample)} of {result.members:,}, by user_id"))
        width = max(len(user_id) for user_id, _ in result.sample)
        for user_id, variant in result.sample:
            rows.append(("", escape(f"{user_id.ljust(width)}  {variant}" if variant else user_id)))
    elapsed = f"{result.seconds:.2f} s"
    if total_seconds is not None:
        elapsed += f" (total {total_seconds:.2f} s)"
    rows.append(("elapsed", elapsed))
    return key_values(rows)
