"""Conditions to boolean SQL over the per-user base relation (one row per universe user).

By now every event aggregate is a column of the base (see aggregates.py / sequences.py /
rfm.py), so a segment is a plain boolean expression, never NULL (two-valued logic, docs/language.md,
'How to read a rule').
"""

from __future__ import annotations

import math

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
    PredictCondition,
    Regularity,
    RfmCondition,
    SequenceCondition,
    TraitCondition,
)
from segwise.rules.predicates import CmpOp, Compare
from segwise.rules.walk import Fold
from segwise.sql import literals
from segwise.sql.dialects import Target
from segwise.sql.plan import BUILTIN_FEATURES, measure_feature, period_features, sequence_column
from segwise.sql.predicates import predicate_sql, two_valued
from segwise.sql.predict import score_column
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


class _ConditionSql(Fold[exp.Expr]):
    """Each node as a boolean over the base row; boolean nodes combine their children's."""

    def __init__(self, target: Target, config: Config, as_of: exp.Expr) -> None:
        self.target, self.config, self.as_of = target, config, as_of

    def all_of(self, node: AllOf, items: list[exp.Expr]) -> exp.Expr:
        return exp.and_(*items, copy=False)

    def any_of(self, node: AnyOf, items: list[exp.Expr]) -> exp.Expr:
        return exp.or_(*items, copy=False)

    def not_(self, node: Not, item: exp.Expr) -> exp.Expr:
        return exp.not_(item, copy=False)

    def trait(self, node: TraitCondition) -> exp.Expr:
        column = BUILTIN_FEATURES[node.trait].column if node.trait in BUILTIN_TRAITS else trait_column(node.trait)
        return predicate_sql(self.target, col(column), node.predicate, self.as_of)

    def event(self, node: EventCondition) -> exp.Expr:
        measure = node.measure
        if isinstance(measure, Regularity):
            return _regularity_sql(node, measure)
        feature = measure_feature(node, measure)
        # A missing aggregate (avg of nothing) fails every comparison, neq included.
        return predicate_sql(self.target, col(feature.column), measure.predicate, self.as_of, missing=False)

    def sequence(self, node: SequenceCondition) -> exp.Expr:
        return exp.EQ(this=col(sequence_column(node)), expression=exp.Literal.number(1))

    def in_segment(self, node: InSegment) -> exp.Expr:
        return col(segment_column(node.segment))

    def near(self, node: Near) -> exp.Expr:
        geo = self.config.users.geo
        assert geo is not None  # validated
        distance = haversine_km(col(trait_column(geo.lat)), col(trait_column(geo.lon)), node.lat, node.lon)
        return two_valued(exp.LTE(this=distance, expression=literals.number(node.radius_km)), False)

    def predict(self, node: PredictCondition) -> exp.Expr:
        # No purchase, or no fit: a NULL score, which fails every comparison, neq included.
        column = col(score_column(node.score, node.within))
        return predicate_sql(self.target, column, node.predicate, self.as_of, missing=False)

    def rfm(self, node: RfmCondition) -> exp.Expr:
        tests: list[exp.Expr] = []
        if node.tier is not None:
            tier = Compare(CmpOp.EQ, node.tier.value)
            tests.append(predicate_sql(self.target, col("rfm_tier"), tier, self.as_of, missing=False))
        for metric, predicate in node.comparisons:
            tests.append(predicate_sql(self.target, col(f"rfm_{metric.value}"), predicate, self.as_of, missing=False))
        return exp.and_(*tests, copy=False)


def condition_sql(target: Target, config: Config, cond: Condition, as_of: exp.Expr) -> exp.Expr:
    """The condition as a two-valued boolean over the base row."""
    return _ConditionSql(target, config, as_of).fold(cond)
