"""RFM scores and tiers (docs/language.md, '`rfm`') over every user with a qualifying event in the window.

Scores rank the whole population, so this CTE always reads all users' events, even when an
evaluation is restricted to candidate users.
"""

from __future__ import annotations

from sqlglot import exp

from segwise.config import Config, RfmConfig
from segwise.rules.nodes import AgoWindow, RfmTier
from segwise.rules.values import ValueType
from segwise.sql import literals
from segwise.sql.aggregates import window_sql
from segwise.sql.dialects import ElapsedMicros, Target
from segwise.sql.plan import Horizon
from segwise.sql.staging import USER_KEY, col, events_cte, property_column, table, typed, user_id_of_key

MICROS_PER_DAY = 86_400_000_000


def _score(rank: str, n: exp.Expr) -> exp.Expr:
    """LEAST(5, 1 + FLOOR(5 * (rank - 1) / (n - 1))), 5 when n = 1.

    Both operands are exact integers far below 2**53, so dividing doubles and flooring gives
    the exact integer quotient on every engine."""
    quotient = exp.Floor(
        this=exp.Div(
            this=exp.cast(
                exp.Mul(
                    this=exp.Literal.number(5),
                    expression=exp.paren(exp.Sub(this=col(rank), expression=exp.Literal.number(1))),
                ),
                "double",
            ),
            expression=exp.cast(exp.paren(exp.Sub(this=n.copy(), expression=exp.Literal.number(1))), "double"),
        )
    )
    score = exp.Add(this=exp.Literal.number(1), expression=quotient)
    return exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=n.copy(), expression=exp.Literal.number(1)), true=exp.Literal.number(5)),
            exp.If(this=exp.GT(this=score, expression=exp.Literal.number(5)), true=exp.Literal.number(5)),
        ],
        default=score.copy(),
    )


def _tier() -> exp.Expr:
    r, f = col("r"), col("f")

    def n(v: int) -> exp.Expr:
        return exp.Literal.number(v)

    rules: list[tuple[RfmTier, exp.Expr]] = [
        (RfmTier.CHAMPIONS, exp.and_(exp.GTE(this=r, expression=n(4)), exp.GTE(this=f, expression=n(4)))),
        (RfmTier.LOYAL, exp.and_(exp.GTE(this=r, expression=n(3)), exp.GTE(this=f, expression=n(4)))),
        (
            RfmTier.POTENTIAL_LOYALIST,
            exp.and_(exp.GTE(this=r, expression=n(4)), exp.Between(this=f, low=n(2), high=n(3))),
        ),
        (RfmTier.NEW_CUSTOMER, exp.and_(exp.EQ(this=r, expression=n(5)), exp.EQ(this=f, expression=n(1)))),
        (RfmTier.AT_RISK, exp.and_(exp.LTE(this=r, expression=n(2)), exp.GTE(this=f, expression=n(3)))),
        (RfmTier.HIBERNATING, exp.and_(exp.LTE(this=r, expression=n(2)), exp.LTE(this=f, expression=n(2)))),
    ]
    return exp.Case(
        ifs=[exp.If(this=test, true=literals.string(tier.value)) for tier, test in rules],
        default=literals.string(RfmTier.NEEDS_ATTENTION.value),
    )


def rfm_ctes(
    target: Target, rfm: RfmConfig, events: str, as_of: exp.Expr, name: str = "sw_rfm"
) -> list[tuple[str, exp.Select]]:
    """CTEs ending in `<name>(user_id, recency_days, frequency, monetary, r, f, m, tier)`."""
    in_window = window_sql(target, AgoWindow(rfm.within), col("ts"), as_of)
    totals = (
        exp.select(
            user_id_of_key(target),
            exp.alias_(exp.Max(this=col("ts")), "last_ts"),
            exp.alias_(exp.Count(this=exp.Star()), "frequency"),
            exp.alias_(
                exp.Coalesce(
                    this=exp.Sum(this=col(property_column(rfm.monetary))), expressions=[exp.Literal.number(0)]
                ),
                "monetary",
            ),
        )
        .from_(table(events), copy=False)
        .where(exp.and_(exp.EQ(this=col("event_name"), expression=literals.string(rfm.event)), *in_window), copy=False)
        .group_by(col(USER_KEY), copy=False)
    )
    days = exp.cast(
        exp.Floor(
            this=exp.Div(
                this=exp.cast(ElapsedMicros(this=as_of.copy(), expression=col("last_ts")), "double"),
                expression=exp.Literal.number(MICROS_PER_DAY),
            )
        ),
        "bigint",
    )

    def rank(column: str, desc: bool) -> exp.Window:
        return exp.Window(this=exp.Rank(), order=exp.Order(expressions=[target.ordered(col(column), desc)]))

    ranked = exp.select(
        col("user_id"),
        exp.alias_(days, "recency_days"),
        col("frequency"),
        col("monetary"),
    ).from_(f"{name}_totals", copy=False)
    scored = exp.select(
        col("user_id"),
        col("recency_days"),
        col("frequency"),
        col("monetary"),
        exp.alias_(rank("recency_days", True), "r_rank"),
        exp.alias_(rank("frequency", False), "f_rank"),
        exp.alias_(rank("monetary", False), "m_rank"),
        exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "n"),
    ).from_(f"{name}_days", copy=False)
    scores = exp.select(
        col("user_id"),
        col("recency_days"),
        col("frequency"),
        col("monetary"),
        exp.alias_(_score("r_rank", col("n")), "r"),
        exp.alias_(_score("f_rank", col("n")), "f"),
        exp.alias_(_score("m_rank", col("n")), "m"),
    ).from_(f"{name}_ranks", copy=False)
    tiers = exp.select(
        col("user_id"),
        col("recency_days"),
        col("frequency"),
        col("monetary"),
        col("r"),
        col("f"),
        col("m"),
        exp.alias_(_tier(), "tier"),
    ).from_(f"{name}_scores", copy=False)
    return [
        (f"{name}_totals", totals),
        (f"{name}_days", ranked),
        (f"{name}_ranks", scored),
        (f"{name}_scores", scores),
        (name, tiers),
    ]


def rfm_events_cte(
    target: Target, config: Config, table: exp.Expr, as_of: exp.Expr, seen: exp.Expr | None = None
) -> exp.Select:
    """The staged events RFM reads, from the events that can matter only: the scores rank
    every buyer, so this reads all users, but only the copies of events of which some copy
    is an `rfm.event` in the window (usually a small share of all events).

    Exact despite deduplication: the kept copy of an event id is its earliest, whatever its
    name or time, so every copy of an id that has any qualifying copy is staged (and an id
    without one cannot yield a qualifying kept copy). `seen`, a condition on the events
    aliased `e`, restricts them further (the previous run's view of the data)."""
    rfm = config.rfm
    assert rfm is not None
    ev = config.events

    def qualifies(alias: str) -> exp.Expr:
        ts = typed(target, col(ev.timestamp, alias), ValueType.TIMESTAMP)
        tests = [
            exp.EQ(this=col(ev.name, alias), expression=literals.string(rfm.event)),
            *window_sql(target, AgoWindow(rfm.within), ts, as_of),
            exp.LTE(this=ts.copy(), expression=as_of.copy()),
        ]
        if seen is not None:
            tests.append(seen.copy() if alias == "e" else _realias(seen, alias))
        return exp.and_(*tests)

    def rows(keep: exp.Expr) -> exp.Select:
        return (
            exp.select(exp.Star()).from_(exp.alias_(table.copy(), "e", table=True), copy=False).where(keep, copy=False)
        )

    source: exp.Query = rows(qualifies("e"))
    if ev.id is not None:
        # Events without an id are distinct: only the qualifying ones. With an id: every copy
        # of an id that has a qualifying copy (a semi-join; a plain conjunct, no OR around
        # it, so engines plan it as one).
        same_event = exp.and_(
            exp.EQ(this=col(ev.user_id, "k"), expression=col(ev.user_id, "e")),
            exp.EQ(this=col(ev.id, "k"), expression=col(ev.id, "e")),
            qualifies("k"),
        )
        copies = exp.Exists(
            this=exp.select(exp.Literal.number(1))
            .from_(exp.alias_(table.copy(), "k", table=True), copy=False)
            .where(same_event, copy=False)
        )
        without_id = exp.and_(exp.Is(this=col(ev.id, "e"), expression=exp.Null()), qualifies("e"))
        with_id: list[exp.Expr] = [exp.not_(exp.Is(this=col(ev.id, "e"), expression=exp.Null())), copies]
        if seen is not None:
            with_id.insert(0, seen.copy())
        source = exp.union(rows(without_id), rows(exp.and_(*with_id)), distinct=False, copy=False)
    kind = ev.property_type(rfm.monetary)
    assert kind is not None
    return events_cte(
        target,
        config,
        source.subquery(copy=False),
        {rfm.monetary: kind},
        as_of,
        None,
        {rfm.monetary: {rfm.event: Horizon(ago=rfm.within)}},
    )


def _realias(condition: exp.Expr, alias: str) -> exp.Expr:
    """`condition` on columns of `e`, rewritten for the table aliased `alias`."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.table == "e":
            return col(node.name, alias)
        return node

    return condition.copy().transform(swap, copy=False)
