"""Event features as columns of one GROUP BY user pass over the staged events.

Each feature is `agg(CASE WHEN <name, where, window> THEN <value> END)`: plain CASE rather
than FILTER, because every engine accepts it and skips the NULLs it produces.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from segwise.rules.nodes import AggFn, AgoWindow, EventFilter, SinceWindow, Window
from segwise.sql import literals
from segwise.sql.dialects import Target
from segwise.sql.plan import EventFeature, Horizon
from segwise.sql.predicates import predicate_sql
from segwise.sql.staging import USER_KEY, col, property_column, relevant_sql, table, user_id_of_key

# Features that are 0, not missing, for a user without matching events (docs/language.md, 'Measures').
ZERO_WHEN_EMPTY = frozenset({AggFn.COUNT, AggFn.SUM, AggFn.COUNT_DISTINCT})


def window_sql(target: Target, window: Window | None, ts: exp.Expr, as_of: exp.Expr) -> list[exp.Expr]:
    """Conditions on ts beyond ts <= T, which the staged events already satisfy."""
    match window:
        case None:
            return []
        case AgoWindow(start=start, end=end):
            tests: list[exp.Expr] = [exp.GT(this=ts.copy(), expression=literals.minus(as_of, start))]
            if end.seconds:
                tests.append(exp.LTE(this=ts.copy(), expression=literals.minus(as_of, end)))
            return tests
        case SinceWindow(since=since):
            return [exp.GTE(this=ts.copy(), expression=literals.timestamp(target, since))]


def filter_sql(target: Target, flt: EventFilter, as_of: exp.Expr) -> list[exp.Expr]:
    """The event's name and every `where` filter, two-valued (a missing property fails `gt`)."""
    tests: list[exp.Expr] = [exp.EQ(this=col("event_name"), expression=literals.string(flt.event))]
    for pf in flt.where:
        tests.append(predicate_sql(target, col(property_column(pf.property)), pf.predicate, as_of))
    return tests


def feature_sql(target: Target, feature: EventFeature, as_of: exp.Expr) -> exp.Expr:
    ts = col("ts")
    tests = window_sql(target, feature.window, ts, as_of)
    if feature.filter is not None:
        tests = filter_sql(target, feature.filter, as_of) + tests
    value: exp.Expr
    if feature.fn in (AggFn.FIRST_SEEN, AggFn.LAST_SEEN):
        value = ts
    elif feature.property is not None:
        value = col(property_column(feature.property))
    else:
        value = exp.Literal.number(1)
    if tests:
        value = exp.Case(ifs=[exp.If(this=exp.and_(*tests), true=value)])
    match feature.fn:
        case AggFn.COUNT:
            return exp.Count(this=value)
        case AggFn.COUNT_DISTINCT:
            return exp.Count(this=exp.Distinct(expressions=[value]))
        case AggFn.SUM:
            return exp.Sum(this=value)
        case AggFn.AVG:
            return exp.Avg(this=value)
        case AggFn.MIN | AggFn.FIRST_SEEN:
            return exp.Min(this=value)
        case AggFn.MAX | AggFn.LAST_SEEN:
            return exp.Max(this=value)


def features_cte(
    target: Target, features: list[EventFeature], as_of: exp.Expr, horizons: Mapping[str, Horizon] | None = None
) -> exp.Select:
    """One row per user with events, one column per feature. With `horizons` (every event
    name a feature reads, and how far back), only those events are aggregated: each
    feature tests its event's name and window, so the others would only yield NULLs."""
    select = exp.select(user_id_of_key(target))
    for feature in features:
        select = select.select(exp.alias_(feature_sql(target, feature, as_of), feature.column), copy=False)
    select = select.from_(table("sw_events"), copy=False).group_by(col(USER_KEY), copy=False)
    if horizons:
        select = select.where(relevant_sql(target, horizons, col("event_name"), col("ts"), as_of), copy=False)
    return select


def base_feature(feature: EventFeature, table: str) -> exp.Expr:
    """The feature as the base relation exposes it: 0 for a user with no matching events."""
    value: exp.Expr = col(feature.column, table)
    if feature.fn in ZERO_WHEN_EMPTY:
        value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
    return exp.alias_(value, feature.column)
