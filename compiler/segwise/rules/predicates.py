"""Predicates: one operator applied to one value (a trait, an event property, a measure).

Trait conditions, `where` filters, measure comparisons and RFM comparisons all share these
nodes, so every operator has exactly one meaning and one SQL translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from segwise.rules.values import Duration, Value


class CmpOp(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


@dataclass(frozen=True)
class Compare:
    """`eq`/`neq`/`gt`/`gte`/`lt`/`lte`, and `before` (lt) / `after` (gt) on timestamps."""

    op: CmpOp
    value: Value
    ignore_case: bool = False


@dataclass(frozen=True)
class InList:
    """`in` / `not_in`. Values are sorted and unique: order never changes membership."""

    values: tuple[Value, ...]
    negated: bool = False
    ignore_case: bool = False


@dataclass(frozen=True)
class IsSet:
    expected: bool


@dataclass(frozen=True)
class Between:
    """Inclusive on both ends, for numbers and timestamps."""

    low: Value
    high: Value


class TextOp(StrEnum):
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"


@dataclass(frozen=True)
class TextMatch:
    op: TextOp
    value: str
    ignore_case: bool = False


@dataclass(frozen=True)
class Matches:
    """Regular expression, partial match, within the portable subset (see rules/regex.py)."""

    pattern: str


class RelOp(StrEnum):
    MORE_THAN_AGO = "more_than_ago"  # value <= T - d
    LESS_THAN_AGO = "less_than_ago"  # T - d < value <= T
    IN_NEXT = "in_next"  # T <= value < T + d


@dataclass(frozen=True)
class RelativeTime:
    op: RelOp
    duration: Duration


Predicate = Compare | InList | IsSet | Between | TextMatch | Matches | RelativeTime

# Operators that hold for a missing value (two-valued logic: docs/language.md, 'Missing values at a glance').
NEGATIVE_TEXT_OPS = frozenset({TextOp.NOT_CONTAINS})


def holds_when_missing(predicate: Predicate) -> bool:
    """What a predicate evaluates to when its value is missing (NULL)."""
    match predicate:
        case Compare(op=op):
            return op is CmpOp.NEQ
        case InList(negated=negated):
            return negated
        case IsSet(expected=expected):
            return not expected
        case TextMatch(op=op):
            return op in NEGATIVE_TEXT_OPS
        case Between() | Matches() | RelativeTime():
            return False
