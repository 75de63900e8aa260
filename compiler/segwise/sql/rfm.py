"""RFM scores and tiers (SPEC §3) over every user with a qualifying event in the window.

Scores rank the whole population, so this CTE always reads all users' events, even when an
evaluation is restricted to candidate users.
"""

from __future__ import annotations

from sqlglot import exp

from segwise.config import RfmConfig
from segwise.rules.nodes import AgoWindow, RfmTier
from segwise.sql import literals
from segwise.sql.aggregates import window_sql
from segwise.sql.dialects import ElapsedMicros, Target
from segwise.sql.staging import col, property_column

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


def rfm_ctes(target: Target, rfm: RfmConfig, events: str, as_of: exp.Expr) -> list[tuple[str, exp.Select]]:
    """CTEs ending in `sw_rfm(user_id, recency_days, frequency, monetary, r, f, m, tier)`."""
    in_window = window_sql(target, AgoWindow(rfm.within), col("ts"), as_of)
    totals = (
        exp.select(
            col("user_id"),
            exp.alias_(exp.Max(this=col("ts")), "last_ts"),
            exp.alias_(exp.Count(this=exp.Star()), "frequency"),
            exp.alias_(
                exp.Coalesce(
                    this=exp.Sum(this=col(property_column(rfm.monetary))), expressions=[exp.Literal.number(0)]
                ),
                "monetary",
            ),
        )
        .from_(events, copy=False)
        .where(exp.and_(exp.EQ(this=col("event_name"), expression=literals.string(rfm.event)), *in_window), copy=False)
        .group_by(col("user_id"), copy=False)
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
    ).from_("sw_rfm_totals", copy=False)
    scored = exp.select(
        col("user_id"),
        col("recency_days"),
        col("frequency"),
        col("monetary"),
        exp.alias_(rank("recency_days", True), "r_rank"),
        exp.alias_(rank("frequency", False), "f_rank"),
        exp.alias_(rank("monetary", False), "m_rank"),
        exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "n"),
    ).from_("sw_rfm_days", copy=False)
    scores = exp.select(
        col("user_id"),
        col("recency_days"),
        col("frequency"),
        col("monetary"),
        exp.alias_(_score("r_rank", col("n")), "r"),
        exp.alias_(_score("f_rank", col("n")), "f"),
        exp.alias_(_score("m_rank", col("n")), "m"),
    ).from_("sw_rfm_ranks", copy=False)
    tiers = exp.select(
        col("user_id"),
        col("recency_days"),
        col("frequency"),
        col("monetary"),
        col("r"),
        col("f"),
        col("m"),
        exp.alias_(_tier(), "tier"),
    ).from_("sw_rfm_scores", copy=False)
    return [
        ("sw_rfm_totals", totals),
        ("sw_rfm_days", ranked),
        ("sw_rfm_ranks", scored),
        ("sw_rfm_scores", scores),
        ("sw_rfm", tiers),
    ]
