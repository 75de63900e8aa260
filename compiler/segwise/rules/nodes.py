"""The rule AST: a closed union of frozen condition nodes (docs/language.md).

Everything after loading works on these valid, immutable trees: the canonical form and its
hash, the SQL compiler and `explain`. `loc` records where a node was written; it takes no part
in equality, so moving a rule around a file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from segwise.rules.predicates import Predicate
from segwise.rules.values import Duration, Location, ValueType


def _loc() -> Location | None:
    return field(default=None, compare=False, hash=False, repr=False)


# --- boolean ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]
    loc: Location | None = _loc()


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Not:
    item: Condition
    loc: Location | None = _loc()


# --- traits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TraitCondition:
    trait: str
    type: ValueType
    predicate: Predicate
    loc: Location | None = _loc()


# --- events ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyFilter:
    property: str
    type: ValueType
    predicate: Predicate
    loc: Location | None = _loc()


@dataclass(frozen=True)
class EventFilter:
    """Which events: one name, and `where` filters that must all hold (sorted, unique)."""

    event: str
    where: tuple[PropertyFilter, ...] = ()


@dataclass(frozen=True)
class AgoWindow:
    """T - start < ts <= T - end. `within: d` is (d, 0); `between_ago: [d1, d2]` is (d1, d2)."""

    start: Duration
    end: Duration = Duration(0)


@dataclass(frozen=True)
class SinceWindow:
    """since <= ts <= T."""

    since: datetime


Window = AgoWindow | SinceWindow


class AggFn(StrEnum):
    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    COUNT_DISTINCT = "count_distinct"
    FIRST_SEEN = "first_seen"
    LAST_SEEN = "last_seen"


PROPERTY_AGGS = frozenset({AggFn.SUM, AggFn.AVG, AggFn.MIN, AggFn.MAX, AggFn.COUNT_DISTINCT})


@dataclass(frozen=True)
class Measure:
    """An aggregate of the matching events and the comparison it must pass.

    `property` is set for sum/avg/min/max/count_distinct; first_seen/last_seen compare the
    earliest/latest matching timestamp.
    """

    fn: AggFn
    predicate: Predicate
    property: str | None = None
    property_type: ValueType | None = None


@dataclass(frozen=True)
class Regularity:
    """At least `at_least` of the `periods` periods (T - i*every, T - (i-1)*every] hold
    `min_count` or more matching events."""

    every: Duration
    periods: int
    at_least: int
    min_count: int = 1


@dataclass(frozen=True)
class EventCondition:
    filter: EventFilter
    measure: Measure | Regularity
    window: Window | None = None
    loc: Location | None = _loc()


# --- sequences -------------------------------------------------------------------------


@dataclass(frozen=True)
class SequenceStep:
    filter: EventFilter
    within: Duration | None = None  # after the previous step's event (inclusive)
    absent: bool = False  # inaction: only the last step, and then `within` is set
    loc: Location | None = _loc()


@dataclass(frozen=True)
class SequenceCondition:
    steps: tuple[SequenceStep, ...]
    within: Duration | None = None  # the first step's event lies in (T - within, T]
    loc: Location | None = _loc()


# --- the rest --------------------------------------------------------------------------


@dataclass(frozen=True)
class InSegment:
    segment: str
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float
    loc: Location | None = _loc()


class RfmMetric(StrEnum):
    R = "r"
    F = "f"
    M = "m"
    RECENCY_DAYS = "recency_days"
    FREQUENCY = "frequency"
    MONETARY = "monetary"


class RfmTier(StrEnum):
    """In the order of docs/language.md ('`rfm`'): the first tier whose test holds is the user's tier."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW_CUSTOMER = "new_customer"
    AT_RISK = "at_risk"
    HIBERNATING = "hibernating"
    NEEDS_ATTENTION = "needs_attention"


@dataclass(frozen=True)
class RfmCondition:
    """`rfm: {tier: X}`, or comparisons on scores and raw values (all must hold)."""

    tier: RfmTier | None = None
    comparisons: tuple[tuple[RfmMetric, Predicate], ...] = ()
    loc: Location | None = _loc()


class PredictScore(StrEnum):
    P_ALIVE = "p_alive"  # the probability that the customer is still active at T
    EXPECTED_PURCHASES = "expected_purchases"  # expected purchases in (T, T + within]


@dataclass(frozen=True)
class PredictCondition:
    """`predict: {model: bgnbd, p_alive: {...}}` or `{..., expected_purchases: {within: D, ...}}`:
    a comparison on a score of the latest fit of the model (docs/language.md, 'Predictions')."""

    model: str
    score: PredictScore
    predicate: Predicate
    within: Duration | None = None  # expected_purchases only
    loc: Location | None = _loc()


Condition = (
    AllOf
    | AnyOf
    | Not
    | TraitCondition
    | EventCondition
    | SequenceCondition
    | InSegment
    | Near
    | RfmCondition
    | PredictCondition
)


# --- definitions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    name: str
    rule: Condition
    holdout: int = 0  # percent in the control group; 0 = no holdout (variant NULL)
    description: str = ""
    tags: tuple[str, ...] = ()
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Group:
    name: str
    priority: tuple[str, ...]
    fallback: str | None = None
    loc: Location | None = _loc()
