"""Conditions to boolean SQL over the per-user base relation (one row per universe user).

By now every event aggregate is a column of the base (see aggregates.py / sequences.py /
rfm.py), so a segment is a plain boolean expression, never NULL (SPEC §4).
"""

from __future__ import annotations

import math
from typing import assert_never

from sqlglot import exp

from segwise.config import BUILTIN_TRAITS, Config
from segwise.rules.nodes import (
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    InSegment,
    Near,
    Not,
    Regularity,
    RfmCondition,
    SequenceCondition,
    TraitCondition,
)
from segwise.rules.predicates import CmpOp, Compare
from segwise.sql import literals
from segwise.sql.dialects import Target
from segwise.sql.plan import BUILTIN_FEATURES, measure_feature, period_features, sequence_column
from segwise.sql.predicates import predicate_sql, two_valued
from segwise.sql.staging import col, trait_column

EARTH_RADIUS_KM = 6371.0088


def segment_column(name: str) -> str:
    return f"s_{name}"


def _radians(e: exp.Expr) -> exp.Expr:
    # BigQuery has neither RADIANS nor PI.
    return exp.Mul(this=e, expression=exp.Literal.number(repr(math.pi / 180)))


def haversine_km(lat1: exp.Expr, lon1: exp.Expr, lat2: float, lon2: float) -> exp.Expr:
    p1, p2 = _radians(lat1), _radians(literals.number(lat2))
    dlat = exp.Sub(this=p2.copy(), expression=p1.copy())
    dlon = exp.Sub(this=_radians(literals.number(lon2)), expression=_radians(lon1))

    def sin_half_sq(d: exp.Expr) -> exp.Expr:
        s = exp.func("SIN", exp.Div(this=exp.paren(d), expression=exp.Literal.number(2)))
        return exp.Mul(this=s, expression=s.copy())

    a = exp.Add(
        this=sin_half_sq(dlat),
        expression=exp.Mul(
            this=exp.Mul(this=exp.func("COS", p1), expression=exp.func("COS", p2)),
            expression=sin_half_sq(dlon),
        ),
    )
    central = exp.Mul(this=exp.Literal.number(2), expression=exp.func("ASIN", exp.Sqrt(this=a)))
    return exp.Mul(this=exp.Literal.number(repr(EARTH_RADIUS_KM)), expression=central)


def _regularity_sql(cond: EventCondition, reg: Regularity) -> exp.Expr:
    """At least `at_least` of the period counts reach `min_count`."""
    hits: exp.Expr | None = None
    for feature in period_features(cond, reg):
        reached = exp.GTE(this=col(feature.column), expression=exp.Literal.number(reg.min_count))
        hit = exp.Case(ifs=[exp.If(this=reached, true=exp.Literal.number(1))], default=exp.Literal.number(0))
        hits = hit if hits is None else exp.Add(this=hits, expression=hit)
    assert hits is not None
    return exp.GTE(this=exp.Paren(this=hits), expression=exp.Literal.number(reg.at_least))


def condition_sql(target: Target, config: Config, cond: Condition, as_of: exp.Expr) -> exp.Expr:
    def go(c: Condition) -> exp.Expr:
        return condition_sql(target, config, c, as_of)

    match cond:
        case AllOf(items=items):
            return exp.and_(*(go(i) for i in items), copy=False)
        case AnyOf(items=items):
            return exp.or_(*(go(i) for i in items), copy=False)
        case Not(item=item):
            return exp.not_(go(item), copy=False)
        case TraitCondition(trait=trait, predicate=predicate):
            column = BUILTIN_FEATURES[trait].column if trait in BUILTIN_TRAITS else trait_column(trait)
            return predicate_sql(target, col(column), predicate, as_of)
        case EventCondition(measure=measure):
            if isinstance(measure, Regularity):
                return _regularity_sql(cond, measure)
            feature = measure_feature(cond, measure)
            # A missing aggregate (avg of nothing) fails every comparison, neq included.
            return predicate_sql(target, col(feature.column), measure.predicate, as_of, missing=False)
        case SequenceCondition():
            return exp.EQ(this=col(sequence_column(cond)), expression=exp.Literal.number(1))
        case InSegment(segment=name):
            return col(segment_column(name))
        case Near(lat=lat, lon=lon, radius_km=radius):
            geo = config.users.geo
            assert geo is not None  # validated
            distance = haversine_km(col(trait_column(geo.lat)), col(trait_column(geo.lon)), lat, lon)
            return two_valued(exp.LTE(this=distance, expression=literals.number(radius)), False)
        case RfmCondition(tier=tier, comparisons=comparisons):
            tests: list[exp.Expr] = []
            if tier is not None:
                tests.append(
                    predicate_sql(target, col("rfm_tier"), Compare(CmpOp.EQ, tier.value), as_of, missing=False)
                )
            for metric, predicate in comparisons:
                tests.append(predicate_sql(target, col(f"rfm_{metric.value}"), predicate, as_of, missing=False))
            return exp.and_(*tests, copy=False)
        case _:
            assert_never(cond)
