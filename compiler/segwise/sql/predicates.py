"""Predicates to SQL, in two-valued logic (docs/language.md, 'Missing values at a glance').

Every predicate compiles to an expression that is TRUE or FALSE, never NULL: the raw SQL
comparison is wrapped in COALESCE with the value the predicate takes on a missing operand
(`holds_when_missing`), so `neq: x` is exactly `not: {eq: x}`.
"""

from __future__ import annotations

from sqlglot import exp

from segwise.rules.predicates import (
    Between,
    CmpOp,
    Compare,
    InList,
    IsSet,
    Matches,
    Predicate,
    RelativeTime,
    RelOp,
    TextMatch,
    TextOp,
    holds_when_missing,
)
from segwise.sql import literals
from segwise.sql.dialects import RegexSearch, Target

_COMPARE: dict[CmpOp, type[exp.Binary]] = {
    CmpOp.EQ: exp.EQ,
    CmpOp.NEQ: exp.NEQ,
    CmpOp.GT: exp.GT,
    CmpOp.GTE: exp.GTE,
    CmpOp.LT: exp.LT,
    CmpOp.LTE: exp.LTE,
}


def two_valued(raw: exp.Expr, when_missing: bool) -> exp.Expr:
    return exp.Coalesce(this=raw, expressions=[exp.Boolean(this=when_missing)])


def _fold(e: exp.Expr, ignore_case: bool) -> exp.Expr:
    return exp.Lower(this=e) if ignore_case else e


def raw_predicate(target: Target, operand: exp.Expr, predicate: Predicate, as_of: exp.Expr) -> exp.Expr:
    """The SQL test of `predicate` on `operand`; NULL when the operand is NULL."""
    operand = operand.copy()
    match predicate:
        case Compare(op=op, value=value, ignore_case=ic):
            rhs = _fold(literals.value(target, value), ic)
            return _COMPARE[op](this=_fold(operand, ic), expression=rhs)
        case InList(values=values, negated=negated, ignore_case=ic):
            test = exp.In(
                this=_fold(operand, ic),
                expressions=[_fold(literals.value(target, v), ic) for v in values],
            )
            return exp.Not(this=test) if negated else test
        case IsSet(expected=expected):
            null = exp.Is(this=operand, expression=exp.Null())
            return exp.Not(this=null) if expected else null
        case Between(low=low, high=high):
            return exp.Between(this=operand, low=literals.value(target, low), high=literals.value(target, high))
        case TextMatch(op=op, value=text, ignore_case=ic):
            needle = _fold(literals.string(text), ic)
            haystack = _fold(operand, ic)
            if op in (TextOp.CONTAINS, TextOp.NOT_CONTAINS):
                found = exp.GT(
                    this=exp.StrPosition(this=haystack, substr=needle),
                    expression=exp.Literal.number(0),
                )
                return exp.Not(this=found) if op is TextOp.NOT_CONTAINS else found
            cut = exp.Left if op is TextOp.STARTS_WITH else exp.Right
            return exp.EQ(
                this=cut(this=haystack, expression=exp.Length(this=needle.copy())),
                expression=needle,
            )
        case Matches(pattern=pattern):
            return RegexSearch(this=operand, expression=literals.string(pattern))
        case RelativeTime(op=op, duration=d):
            if op is RelOp.MORE_THAN_AGO:
                return exp.LTE(this=operand, expression=literals.minus(as_of, d))
            if op is RelOp.LESS_THAN_AGO:
                return exp.and_(
                    exp.GT(this=operand, expression=literals.minus(as_of, d)),
                    exp.LTE(this=operand.copy(), expression=as_of.copy()),
                    copy=False,
                )
            return exp.and_(
                exp.GTE(this=operand, expression=as_of.copy()),
                exp.LT(this=operand.copy(), expression=literals.plus(as_of.copy(), d)),
                copy=False,
            )


def predicate_sql(
    target: Target,
    operand: exp.Expr,
    predicate: Predicate,
    as_of: exp.Expr,
    missing: bool | None = None,
) -> exp.Expr:
    """Two-valued test. `missing` overrides what a missing operand gives (measures: FALSE)."""
    when_missing = holds_when_missing(predicate) if missing is None else missing
    if isinstance(predicate, IsSet):
        return raw_predicate(target, operand, predicate, as_of)  # IS [NOT] NULL is never NULL
    return two_valued(raw_predicate(target, operand, predicate, as_of), when_missing)
