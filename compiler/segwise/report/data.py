"""The numbers of `segwise report`, read from the state tables in a bounded number of rows.

Every query aggregates in the warehouse (sizes per run, overlaps, members per label, label
changes grouped by (group, from, to)): no user-level row is ever read, and each query has a
LIMIT, so the report costs the same for a thousand users as for a hundred million.

A state table that an older segwise did not create (segment_overlaps, segment_group_changes)
is not an error: its part of the data is None and the table is listed in `missing`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from segwise.rules.nodes import Group
from segwise.sql import literals
from segwise.sql.dialects import Target, get_target
from segwise.sql.staging import col
from segwise.warehouse.base import Warehouse, WarehouseError

TableNamer = Callable[[str], exp.Table]

MAX_RUNS = 100  # runs read for the histories and the totals per run (the most recent ones)
MAX_CHARTED = 60  # segments drawn one by one (sparklines, bars, heatmap): the largest now
MAX_SEGMENTS = 5000  # segments read for the last run's table
MAX_LABELS = 10_000  # (group, label) and (group, from, to) rows


@dataclass(frozen=True)
class SegmentNow:
    """A segment after the last run."""

    segment: str
    members: int
    entered: int
    exited: int
    control_members: int


@dataclass(frozen=True)
class RunTotals:
    """All segments of one run together."""

    evaluated_at: datetime
    segments: int
    members: int
    entered: int
    exited: int


@dataclass(frozen=True)
class Overlap:
    a: str
    b: str
    shared: int
    a_members: int
    b_members: int
    jaccard: float


@dataclass(frozen=True)
class LabelCount:
    group: str
    label: str
    members: int


@dataclass(frozen=True)
class Flow:
    """Label changes from one label to another (None: no label)."""

    group: str
    source: str | None
    target: str | None
    changes: int


@dataclass(frozen=True)
class ReportData:
    runs: int
    last_run: datetime | None
    current: tuple[SegmentNow, ...]  # the last run's rows, largest first
    totals: tuple[RunTotals, ...]  # oldest first, the last MAX_RUNS runs
    history: dict[str, tuple[tuple[datetime, int], ...]]  # charted segment -> (T, members), oldest first
    overlaps: tuple[Overlap, ...] | None  # charted segments only, both orders; None: no table
    labels: tuple[LabelCount, ...] | None
    flows: tuple[Flow, ...] | None  # over every run
    last_flows: tuple[Flow, ...] | None  # in the last run
    missing: tuple[str, ...]  # state tables this database does not have


def read_report_data(warehouse: Warehouse, table: TableNamer) -> ReportData:
    return _Reader(warehouse, table).read()


class _Reader:
    def __init__(self, warehouse: Warehouse, table: TableNamer) -> None:
        self.warehouse = warehouse
        self.table = table
        self.target: Target = get_target(warehouse.dialect)
        self.missing: list[str] = []

    def rows(self, query: exp.Select) -> list[tuple[Any, ...]]:
        return self.warehouse.query(self.target.sql(query))

    def exists(self, name: str) -> bool:
        try:
            found = self.warehouse.columns(self.table(name)) is not None
        except WarehouseError:  # a connection that cannot look: let the query say
            found = True
        if not found:
            self.missing.append(name)
        return found

    def read(self) -> ReportData:
        has_runs, has_sizes = self.exists("segwise_runs"), self.exists("segment_sizes")
        has_overlaps, has_changes = self.exists("segment_overlaps"), self.exists("segment_group_changes")
        has_labels = self.exists("segment_group_membership")
        runs, last_run = self.run_summary() if has_runs else (0, None)
        current = self.current() if has_sizes else ()
        charted = [s.segment for s in current[:MAX_CHARTED]]
        return ReportData(
            runs=runs,
            last_run=last_run,
            current=current,
            totals=self.totals() if has_sizes else (),
            history=self.history(charted, len(current) > len(charted)) if has_sizes else {},
            overlaps=self.overlaps(charted, len(current) > len(charted)) if has_overlaps else None,
            labels=self.labels() if has_labels else None,
            flows=self.flows(last_run_only=False) if has_changes else None,
            last_flows=self.flows(last_run_only=True) if has_changes and has_runs else None,
            missing=tuple(self.missing),
        )

    def run_summary(self) -> tuple[int, datetime | None]:
        runs = self.table("segwise_runs")
        query = exp.select(exp.Count(this=exp.Star()), exp.Max(this=col("as_of"))).from_(runs)
        rows = self.rows(query)
        return (_int(rows[0][0]), _instant(rows[0][1])) if rows else (0, None)

    def last_sizes_run(self) -> exp.Expr:
        """The T of the last run that wrote sizes, as a scalar subquery."""
        query = exp.select(exp.Max(this=col("evaluated_at"))).from_(self.table("segment_sizes"))
        return query.subquery()

    def current(self) -> tuple[SegmentNow, ...]:
        columns = ("segment", "members", "entered", "exited", "control_members")
        query = (
            exp.select(*map(col, columns))
            .from_(self.table("segment_sizes"))
            .where(exp.EQ(this=col("evaluated_at"), expression=self.last_sizes_run()))
            .order_by(self.target.ordered(col("members"), desc=True), self.target.ordered(col("segment")))
            .limit(MAX_SEGMENTS)
        )
        return tuple(SegmentNow(str(s), _int(m), _int(e), _int(x), _int(c)) for s, m, e, x, c in self.rows(query))

    def recent_runs_start(self) -> exp.Expr:
        """The T of the oldest of the last MAX_RUNS runs, as a scalar subquery."""
        recent = (
            exp.select(col("evaluated_at"))
            .from_(self.table("segment_sizes"))
            .group_by(col("evaluated_at"))
            .order_by(self.target.ordered(col("evaluated_at"), desc=True))
            .limit(MAX_RUNS)
        )
        return exp.select(exp.Min(this=col("evaluated_at"))).from_(recent.subquery("sw_recent")).subquery()

    def totals(self) -> tuple[RunTotals, ...]:
        query = (
            exp.select(
                col("evaluated_at"),
                exp.Count(this=exp.Star()),
                *(exp.Sum(this=col(name)) for name in ("members", "entered", "exited")),
            )
            .from_(self.table("segment_sizes"))
            .group_by(col("evaluated_at"))
            .order_by(self.target.ordered(col("evaluated_at"), desc=True))
            .limit(MAX_RUNS)
        )
        rows = [RunTotals(_at(t), _int(n), _int(m), _int(e), _int(x)) for t, n, m, e, x in self.rows(query)]
        return tuple(reversed(rows))

    def history(self, segments: list[str], only_these: bool) -> dict[str, tuple[tuple[datetime, int], ...]]:
        if not segments:
            return {}
        recent = exp.GTE(this=col("evaluated_at"), expression=self.recent_runs_start())
        query = (
            exp.select(col("segment"), col("evaluated_at"), col("members"))
            .from_(self.table("segment_sizes"))
            .where(exp.and_(recent, _among("segment", segments)) if only_these else recent)
            .order_by(self.target.ordered(col("segment")), self.target.ordered(col("evaluated_at")))
            .limit(MAX_RUNS * len(segments))
        )
        history: dict[str, list[tuple[datetime, int]]] = {name: [] for name in segments}
        for segment, at, members in self.rows(query):
            if str(segment) in history:
                history[str(segment)].append((_at(at), _int(members)))
        return {name: tuple(points) for name, points in history.items()}

    def overlaps(self, segments: list[str], only_these: bool) -> tuple[Overlap, ...]:
        if not segments:
            return ()
        columns = ("a", "b", "shared", "a_members", "b_members", "jaccard")
        of_segments = exp.and_(
            exp.Is(this=col("a_group"), expression=exp.Null()), exp.Is(this=col("b_group"), expression=exp.Null())
        )
        query = (
            exp.select(*map(col, columns))
            .from_(self.table("segment_overlaps"))
            .where(exp.and_(of_segments, _among("a", segments), _among("b", segments)) if only_these else of_segments)
            .order_by(self.target.ordered(col("a")), self.target.ordered(col("b")))
            .limit(len(segments) ** 2)
        )
        return tuple(
            Overlap(str(a), str(b), _int(s), _int(am), _int(bm), float(j)) for a, b, s, am, bm, j in self.rows(query)
        )

    def labels(self) -> tuple[LabelCount, ...]:
        query = (
            exp.select(col("group_name"), col("segment"), exp.Count(this=exp.Star()))
            .from_(self.table("segment_group_membership"))
            .group_by(col("group_name"), col("segment"))
            .order_by(self.target.ordered(col("group_name")), self.target.ordered(col("segment")))
            .limit(MAX_LABELS)
        )
        return tuple(LabelCount(str(g), str(label), _int(n)) for g, label, n in self.rows(query))

    def flows(self, *, last_run_only: bool) -> tuple[Flow, ...]:
        keys = (col("group_name"), col("from_segment"), col("to_segment"))
        query = (
            exp.select(*keys, exp.Count(this=exp.Star()))
            .from_(self.table("segment_group_changes"))
            .group_by(*(k.copy() for k in keys))
            .order_by(*(self.target.ordered(k.copy()) for k in keys))
            .limit(MAX_LABELS)
        )
        if last_run_only:
            last = exp.select(exp.Max(this=col("as_of"))).from_(self.table("segwise_runs")).subquery()
            query = query.where(exp.EQ(this=col("changed_at"), expression=last))
        return tuple(Flow(str(g), _label(f), _label(t), _int(n)) for g, f, t, n in self.rows(query))


GroupLabels = dict[str, tuple[list[str], str | None]]  # group -> (labels in priority order, fallback)


def group_labels(groups: dict[str, Group], data: ReportData) -> GroupLabels:
    """Every group's labels: its priority list then its fallback, then labels the tables hold
    that the project no longer defines (a renamed segment, a dropped group), by name."""
    found: dict[str, set[str]] = {}
    for count in data.labels or ():
        found.setdefault(count.group, set()).add(count.label)
    for flow in (*(data.flows or ()), *(data.last_flows or ())):
        found.setdefault(flow.group, set()).update(x for x in (flow.source, flow.target) if x is not None)
    labels: GroupLabels = {}
    for name in [*groups, *sorted(set(found) - set(groups))]:
        group = groups.get(name)
        fallback = group.fallback if group else None
        declared = [*(group.priority if group else ()), *([fallback] if fallback is not None else [])]
        labels[name] = ([*declared, *sorted(found.get(name, set()) - set(declared))], fallback)
    return labels


def _among(column: str, names: list[str]) -> exp.Expr:
    return exp.In(this=col(column), expressions=[literals.string(name) for name in names])


def _int(value: Any) -> int:
    """Counts as int: drivers return Decimal for SUM (PostgreSQL) and NUMBER (Snowflake)."""
    if value is None:
        return 0
    return int(value) if not isinstance(value, Decimal) else int(value.to_integral_value())


def _label(value: Any) -> str | None:
    return None if value is None else str(value)


def _instant(value: Any) -> datetime | None:
    """Timestamps as naive UTC (BigQuery returns aware ones)."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _at(value: Any) -> datetime:
    instant = _instant(value)
    if instant is None:
        raise WarehouseError("a state table has a run without a T")
    return instant


def empty_sections(data: ReportData, groups: GroupLabels) -> dict[str, str]:
    """Why a section has nothing to show, by section key; sections with data are absent."""

    def absent(name: str) -> str:
        return f"No data yet: the database has no {name} table. Run `segwise build` with this version to create it."

    reasons: dict[str, str] = {}
    if "segment_sizes" in data.missing:
        reasons["sizes"] = reasons["churn"] = absent("segment_sizes")
    elif not data.current:
        reasons["sizes"] = reasons["churn"] = "No data yet: no run has written segment sizes. Run `segwise build`."
    if "segment_overlaps" in data.missing:
        reasons["overlaps"] = absent("segment_overlaps")
    elif len(data.current) < 2:
        reasons["overlaps"] = "Fewer than two segments in the last run: nothing to compare."
    for key, name, rows in (
        ("groups", "segment_group_membership", data.labels),
        ("flows", "segment_group_changes", data.flows),
    ):
        if not groups:
            reasons[key] = "The project defines no groups."
        elif name in data.missing:
            reasons[key] = absent(name)
        elif not rows:
            reasons[key] = "No data yet: no run has labelled users or changed a label. Run `segwise build`."
    return reasons
