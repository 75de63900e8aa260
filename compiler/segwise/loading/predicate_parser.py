"""`{OP: VALUE}` -> Predicate, checked against the type of what it is applied to.

Trait conditions, `where` filters, measure comparisons (CMP), first/last-seen comparisons
(TCMP) and RFM comparisons all go through `parse_predicate`, so an operator is validated and
mapped the same way wherever it appears.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from segwise.errors import did_you_mean
from segwise.loading.durations import parse_duration
from segwise.loading.reader import Reporter, as_bool, as_list, describe, nearest, unquote_hint
from segwise.loading.yaml_source import YMap, YNode, YScalar
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
)
from segwise.rules.regex import check_portable_regex
from segwise.rules.values import Value, ValueType, parse_iso

ANY_TYPE_OPS = ("eq", "neq", "in", "not_in", "is_set")
OPERATORS: dict[ValueType, tuple[str, ...]] = {
    ValueType.STRING: (*ANY_TYPE_OPS, "contains", "not_contains", "starts_with", "ends_with", "matches"),
    ValueType.NUMBER: (*ANY_TYPE_OPS, "gt", "gte", "lt", "lte", "between"),
    ValueType.TIMESTAMP: (
        *ANY_TYPE_OPS,
        "before",
        "after",
        "between",
        "more_than_ago",
        "less_than_ago",
        "in_next",
    ),
    ValueType.BOOLEAN: ANY_TYPE_OPS,
}
ALL_OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS.values() for op in ops))
CMP_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "between")  # measures and RFM: numbers
TIME_CMP_OPS = ("more_than_ago", "less_than_ago", "before", "after")  # first_seen/last_seen
IGNORE_CASE_OPS = ("eq", "neq", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with")
IGNORE_CASE = "ignore_case"

# What the user probably meant when an operator of another type was used.
EQUIVALENTS = {"gt": "after", "gte": "after", "lt": "before", "lte": "before", "after": "gt", "before": "lt"}


@dataclass(frozen=True)
class Subject:
    """What a predicate applies to, for messages: `number trait 'ltv'`, `the count`."""

    text: str
    type: ValueType
    operators: tuple[str, ...]  # valid here
    # Replaces the closest-operator hint when an operator of another type is used, e.g. to
    # name the declared property an undeclared (so string) one was probably meant to be.
    wrong_type_hint: str | None = None


def parse_predicate(r: Reporter, m: YMap, reserved: Sequence[str], subject: Subject) -> Predicate | None:
    """The one operator among the keys of `m` that are not `reserved`, with its value.

    `ignore_case` is read here when `reserved` lists it.
    """
    op_keys = [key for key in m if key not in reserved]
    bad = [key for key in op_keys if not _operator_ok(r, m, key, subject, reserved)]
    if bad:
        return None
    if not op_keys:
        r.error(m, f"{subject.text} needs an operator, one of: {', '.join(subject.operators)}")
        return None
    if len(op_keys) > 1:
        r.error(
            m.key_node(op_keys[1]),
            f"{subject.text} takes exactly one operator, got {', '.join(op_keys)}",
            "combine several conditions with all/any",
        )
        return None
    op = op_keys[0]
    ignore_case = _ignore_case(r, m, op, subject) if IGNORE_CASE in reserved else False
    if ignore_case is None:
        return None
    return _parse_value(r, op, m.entries[op][1], subject, ignore_case)


def _operator_ok(r: Reporter, m: YMap, key: str, subject: Subject, reserved: Sequence[str]) -> bool:
    if key in subject.operators:
        return True
    key_node = m.key_node(key)
    if key not in ALL_OPERATORS:
        # A misspelt reserved key (`ignore_cas`) is named, but only operators are listed.
        near = nearest(key, [*subject.operators, *reserved])
        listed = f"did you mean '{near}'?" if near else f"valid operators: {', '.join(subject.operators)}"
        r.error(key_node, f"unknown operator '{key}' for {subject.text}", listed)
        return False
    equivalent = EQUIVALENTS.get(key)
    hint = f"did you mean '{equivalent}'?" if equivalent in subject.operators else did_you_mean(key, subject.operators)
    r.error(
        key_node,
        f"operator '{key}' does not apply to {subject.text}; valid operators: {', '.join(subject.operators)}",
        subject.wrong_type_hint or hint,
    )
    return False


def _ignore_case(r: Reporter, m: YMap, op: str, subject: Subject) -> bool | None:
    node = m.get(IGNORE_CASE)
    if node is None:
        return False
    value = as_bool(r, node, IGNORE_CASE)
    if value and not (subject.type is ValueType.STRING and op in IGNORE_CASE_OPS):
        r.error(
            m.key_node(IGNORE_CASE),
            f"ignore_case does not apply to '{op}' on {subject.text}",
            f"it applies to strings with {', '.join(IGNORE_CASE_OPS)}",
        )
        return None
    return value


def _parse_value(r: Reporter, op: str, node: YNode, subject: Subject, ignore_case: bool) -> Predicate | None:
    what = f"'{op}' on {subject.text}"
    if op in ("eq", "neq", "gt", "gte", "lt", "lte", "before", "after"):
        value = literal(r, node, subject.type, what, op)
        if value is None:
            return None
        cmp = {"before": CmpOp.LT, "after": CmpOp.GT}.get(op) or CmpOp(op)
        return Compare(cmp, value, ignore_case)
    if op in ("in", "not_in"):
        return _in_list(r, node, subject.type, what, negated=op == "not_in", ignore_case=ignore_case)
    if op == "is_set":
        expected = literal(r, node, ValueType.BOOLEAN, what, op)
        return None if expected is None else IsSet(bool(expected))
    if op == "between":
        return _between(r, node, subject.type, what)
    if op in ("contains", "not_contains", "starts_with", "ends_with"):
        text = _text(r, node, what)
        return None if not text else TextMatch(TextOp(op), text, ignore_case)
    if op == "matches":
        return _matches(r, node, what)
    duration = parse_duration(r, node, what)
    return None if duration is None else RelativeTime(RelOp(op), duration)


def literal(r: Reporter, node: YNode, type_: ValueType, what: str, key: str | None = None) -> Value | None:
    """A value of `type_`: float for numbers, str, bool, datetime for ISO timestamps.

    `key` is the key the value was written under, for the hint on a quoted number; None for
    an item of a list."""
    value = node.value if isinstance(node, YScalar) else None
    if type_ is ValueType.NUMBER:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value)
            r.error(node, f"{what} needs a finite number, got {describe(node)}")
            return None
        r.error(node, f"{what} needs a number, got {describe(node)}", unquote_hint(node, key, "float"))
        return None
    if type_ is ValueType.BOOLEAN:
        if isinstance(value, bool):
            return value
        r.error(node, f"{what} needs true or false, got {describe(node)}", unquote_hint(node, key, "bool"))
        return None
    if not isinstance(value, str):
        hint = f"quote it to compare text: '{node.raw}'" if isinstance(node, YScalar) and value is not None else None
        kind = "a string" if type_ is ValueType.STRING else "an ISO timestamp string"
        r.error(node, f"{what} needs {kind}, got {describe(node)}", hint if type_ is ValueType.STRING else None)
        return None
    if type_ is ValueType.STRING:
        return value
    return _timestamp(r, node, value, what)


def _timestamp(r: Reporter, node: YNode, text: str, what: str) -> datetime | None:
    try:
        return parse_iso(text)
    except ValueError as exc:
        r.error(node, f"{what}: {exc}")
        return None


def _in_list(
    r: Reporter, node: YNode, type_: ValueType, what: str, *, negated: bool, ignore_case: bool
) -> InList | None:
    items = as_list(r, node, what, non_empty=True)
    if items is None:
        return None
    values = [literal(r, item, type_, what) for item in items]
    if any(value is None for value in values):
        return None
    unique = {v for v in values if v is not None}
    return InList(tuple(sorted(unique, key=_sort_key)), negated=negated, ignore_case=ignore_case)


def _sort_key(value: Value) -> tuple[str, Value]:
    """Values of one list share a type; the type name keeps mixed lists sortable anyway."""
    return type(value).__name__, value


def _between(r: Reporter, node: YNode, type_: ValueType, what: str) -> Between | None:
    items = as_list(r, node, what)
    if items is None:
        return None
    if len(items) != 2:
        r.error(node, f"{what} needs a list of two values [low, high], got {len(items)}")
        return None
    low, high = (literal(r, item, type_, what) for item in items)
    if low is None or high is None:
        return None
    if _sort_key(low) > _sort_key(high):
        r.error(node, f"{what} needs [low, high] with low <= high")
        return None
    return Between(low, high)


def _text(r: Reporter, node: YNode, what: str) -> str | None:
    value = literal(r, node, ValueType.STRING, what)
    if value == "":
        r.error(node, f"{what} needs a non-empty string")
        return None
    return value if isinstance(value, str) else None


def _matches(r: Reporter, node: YNode, what: str) -> Matches | None:
    pattern = literal(r, node, ValueType.STRING, what)
    if not isinstance(pattern, str):
        return None
    problem = check_portable_regex(pattern)
    if problem is not None:
        r.error(node, f"{what}: {problem}")
        return None
    return Matches(pattern)
