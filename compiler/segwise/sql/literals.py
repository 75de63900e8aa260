"""Values as SQL: every user value becomes a sqlglot literal here and nowhere else."""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from segwise.rules.values import Duration, Value
from segwise.sql.dialects import Target


def number(value: float | int) -> exp.Expr:
    """A number literal; integral values print without a fraction (3, not 3.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    text = repr(value)
    literal = exp.Literal.number(text.lstrip("-"))
    return exp.Neg(this=literal) if text.startswith("-") else literal


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def timestamp(target: Target, value: datetime) -> exp.Expr:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return exp.cast(string(text), target.type("timestamp"))


def value(target: Target, v: Value) -> exp.Expr:
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, datetime):
        return timestamp(target, v)
    return string(v)


def interval(duration: Duration) -> exp.Interval:
    amount, unit = duration.parts()
    return exp.Interval(this=exp.Literal.string(str(amount)), unit=exp.Var(this=unit))


def minus(ts: exp.Expr, duration: Duration) -> exp.Expr:
    """ts - duration, as `ts - INTERVAL` (sqlglot's TimestampSub is wrong on Postgres/Spark)."""
    if duration.seconds == 0:
        return ts.copy()
    return exp.Sub(this=ts.copy(), expression=interval(duration))


def plus(ts: exp.Expr, duration: Duration) -> exp.Expr:
    if duration.seconds == 0:
        return ts.copy()
    return exp.Add(this=ts.copy(), expression=interval(duration))
