"""Sizes and changes of backfilled segments: per (segment, instant) the members, those who
entered since the previous instant and those who exited (at the first instant every member
entered and no one exited), and the members in the control group.

`sizes_sql` computes them in SQL over membership rows (the backfill's own query, or a table
they were written to); `sizes_from_members` is the same computation in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from segwise.sql import literals
from segwise.sql.dialects import get_target
from segwise.sql.staging import alias, col, table

from .instants import AS_OF, INDEX, INSTANTS, checked_instants, instants_cte

SIZE_COLUMNS = ("segment", "instant", "members", "entered", "exited", "control_members")


@dataclass(frozen=True)
class BackfillSize:
    segment: str
    instant: datetime
    members: int
    entered: int
    exited: int
    control_members: int


@dataclass(frozen=True)
class BackfillMember:
    segment: str
    instant: datetime
    user_id: str
    variant: str | None


def sizes_from_members(
    members: Iterable[BackfillMember], names: Sequence[str], instants: Sequence[datetime]
) -> list[BackfillSize]:
    """One row per (segment, instant), ordered by segment name and instant."""
    index = {t: i for i, t in enumerate(instants)}
    users: dict[tuple[str, int], set[str]] = {}
    control: dict[tuple[str, int], int] = {}
    for m in members:
        at = (m.segment, index[m.instant])
        users.setdefault(at, set()).add(m.user_id)
        control[at] = control.get(at, 0) + (m.variant == "control")
    out = []
    for name in sorted(set(names)):
        for i, instant in enumerate(instants):
            now = users.get((name, i), set())
            before = users.get((name, i - 1), set()) if i else set()
            out.append(
                BackfillSize(name, instant, len(now), len(now - before), len(before - now), control.get((name, i), 0))
            )
    return out


def _one(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def _flag(test: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=test, true=_one(1))], default=_one(0))


def _states(names: Sequence[str], count: int, rows: exp.Expr) -> list[tuple[str, exp.Query]]:
    """sw_bf_marks and sw_bf_states: per (segment, instant index, user), whether the user is
    a member at the instant (sw_bf_now), was one at the previous instant (sw_bf_before), and
    is in the control group; from `rows` (segment, instant, user_id, variant)."""
    at = exp.EQ(this=col("instant", "r"), expression=col(AS_OF, "i"))

    def marks(now: int, shift: int) -> exp.Select:
        index: exp.Expr = col(INDEX, "i")
        if shift:
            index = exp.Add(this=index, expression=_one(shift))
        control = _flag(exp.EQ(this=col("variant", "r"), expression=literals.string("control"))) if now else _one(0)
        select = (
            exp.select(
                col("segment", "r"),
                alias(index, INDEX),
                col("user_id", "r"),
                alias(_one(now), "sw_bf_now"),
                alias(_one(1 - now), "sw_bf_before"),
                alias(control, "sw_bf_control"),
            )
            .from_(exp.alias_(rows.copy(), "r", table=True), copy=False)
            .join(exp.alias_(table(INSTANTS), "i", table=True), on=at.copy(), copy=False)
        )
        named: exp.Expr = exp.In(this=col("segment", "r"), expressions=[literals.string(n) for n in names])
        if shift:
            named = exp.and_(named, exp.LT(this=index.copy(), expression=_one(count)))
        return select.where(named, copy=False)

    states = (
        exp.select(
            col("segment"),
            col(INDEX),
            col("user_id"),
            *(alias(exp.Max(this=col(c)), c) for c in ("sw_bf_now", "sw_bf_before", "sw_bf_control")),
        )
        .from_(table("sw_bf_marks"), copy=False)
        .group_by(col("segment"), col(INDEX), col("user_id"), copy=False)
    )
    return [("sw_bf_marks", exp.union(marks(1, 0), marks(0, 1), distinct=False, copy=False)), ("sw_bf_states", states)]


def sizes_query(names: Sequence[str], count: int, rows: exp.Expr, ctes: list[tuple[str, exp.Query]]) -> exp.Select:
    """Sizes over `rows` (segment, instant, user_id, variant), with `ctes` (which define
    sw_bf_instants) before the computation's own."""
    names = sorted(set(names))
    now, before = (exp.EQ(this=col(c), expression=_one(1)) for c in ("sw_bf_now", "sw_bf_before"))
    counts = (
        exp.select(
            col("segment"),
            col(INDEX),
            alias(exp.Sum(this=col("sw_bf_now")), "members"),
            alias(exp.Sum(this=_flag(exp.and_(now.copy(), exp.not_(before.copy())))), "entered"),
            alias(exp.Sum(this=_flag(exp.and_(before.copy(), exp.not_(now.copy())))), "exited"),
            alias(exp.Sum(this=col("sw_bf_control")), "control_members"),
        )
        .from_(table("sw_bf_states"), copy=False)
        .group_by(col("segment"), col(INDEX), copy=False)
    )
    # Ordered by position, not by the engine's collation of the names.
    positions = [(_one(i), literals.string(n)) for i, n in enumerate(names)]
    segments = exp.select(col("sw_bf_position", "g"), col("segment", "g")).from_(
        exp.values(positions, alias="g", columns=["sw_bf_position", "segment"]), copy=False
    )

    def counted(column: str) -> exp.Expr:
        return alias(exp.Coalesce(this=col(column, "c"), expressions=[_one(0)]), column)

    final = (
        exp.select(
            col("segment", "g"),
            alias(col(AS_OF, "i"), "instant"),
            *(counted(c) for c in SIZE_COLUMNS[2:]),
        )
        .from_(exp.alias_(table("sw_bf_segments"), "g", table=True), copy=False)
        .join(exp.alias_(table(INSTANTS), "i", table=True), join_type="cross", copy=False)
        .join(
            exp.alias_(table("sw_bf_counts"), "c", table=True),
            on=exp.and_(
                exp.EQ(this=col("segment", "c"), expression=col("segment", "g")),
                exp.EQ(this=col(INDEX, "c"), expression=col(INDEX, "i")),
            ),
            join_type="left",
            copy=False,
        )
        .order_by(col("sw_bf_position", "g"), col(INDEX, "i"), copy=False)
    )
    own: list[tuple[str, exp.Query]] = [
        *_states(names, count, rows),
        ("sw_bf_counts", counts),
        ("sw_bf_segments", segments),
    ]
    for name, cte in [*ctes, *own]:
        final = final.with_(name, as_=cte, copy=False)
    return final


def sizes_sql(names: Sequence[str], dialect: str, instants: Iterable[datetime], membership: exp.Expr) -> exp.Select:
    """SELECT segment, instant, members, entered, exited, control_members, one row per
    named segment and instant (zeros included), over `membership`: a relation of rows
    (segment, instant, user_id, variant) such as the table `backfill_sql`'s rows were
    written to. Rows of other segments or instants are ignored."""
    moments = checked_instants(instants)
    target = get_target(dialect)
    return sizes_query(names, len(moments), membership, [(INSTANTS, instants_cte(target, moments))])


def changes_sql(names: Sequence[str], dialect: str, instants: Iterable[datetime], membership: exp.Expr) -> exp.Select:
    """SELECT segment, user_id, changed_at, change: one row per entry ('entered') or exit
    ('exited') between consecutive instants, over `membership` as for `sizes_sql`; every
    member at the first instant enters."""
    moments = checked_instants(instants)
    target = get_target(dialect)
    now = exp.EQ(this=col("sw_bf_now", "s"), expression=_one(1))
    change = exp.Case(ifs=[exp.If(this=now.copy(), true=literals.string("entered"))], default=literals.string("exited"))
    final = (
        exp.select(
            col("segment", "s"), col("user_id", "s"), alias(col(AS_OF, "i"), "changed_at"), alias(change, "change")
        )
        .from_(exp.alias_(table("sw_bf_states"), "s", table=True), copy=False)
        .join(
            exp.alias_(table(INSTANTS), "i", table=True),
            on=exp.EQ(this=col(INDEX, "i"), expression=col(INDEX, "s")),
            copy=False,
        )
        .where(exp.NEQ(this=col("sw_bf_now", "s"), expression=col("sw_bf_before", "s")), copy=False)
    )
    ctes = [(INSTANTS, instants_cte(target, moments)), *_states(sorted(set(names)), len(moments), membership)]
    for name, cte in ctes:
        final = final.with_(name, as_=cte, copy=False)
    return final
