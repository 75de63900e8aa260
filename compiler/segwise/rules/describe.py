"""A condition as one short line of text, close to how it is written (for `explain`).

event product_viewed within 48h count >= 3
trait plan in ('pro', 'team')
sequence within 7d: checkout_viewed, then no order_completed within 2m
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import assert_never

from segwise.rules.nodes import (
    AgoWindow,
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    EventFilter,
    InSegment,
    Measure,
    Near,
    Not,
    PredictCondition,
    Regularity,
    RfmCondition,
    SequenceCondition,
    SinceWindow,
    TraitCondition,
    Window,
)
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
)
from segwise.rules.values import Duration, Value

Written = Mapping[int, str]  # seconds -> a duration as the rule's author wrote it ("48h")

SYMBOLS = {CmpOp.EQ: "=", CmpOp.NEQ: "!=", CmpOp.GT: ">", CmpOp.GTE: ">=", CmpOp.LT: "<", CmpOp.LTE: "<="}


def value_text(value: Value) -> str:
    """A literal as a rule shows it: 'text', 3, 2.5, true, 2025-01-31 or 2025-01-31T08:00:00."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value == value.replace(hour=0, minute=0, second=0) else value.isoformat()
    return "'" + value.replace("'", "\\'") + "'"


def _case(text: str, ignore_case: bool) -> str:
    return f"{text} (ignore case)" if ignore_case else text


def duration_text(duration: Duration, written: Written | None = None) -> str:
    """`48h` as written when known (48h and 2d are the same Duration), else the largest unit."""
    return (written or {}).get(duration.seconds) or str(duration)


def predicate_text(predicate: Predicate, written: Written | None = None) -> str:
    """The operator and its operand: `>= 3`, `in ('a', 'b')`, `more than 30d ago`."""
    match predicate:
        case Compare(op=op, value=value, ignore_case=ignore_case):
            if isinstance(value, datetime) and op in (CmpOp.LT, CmpOp.GT):
                return f"{'before' if op is CmpOp.LT else 'after'} {value_text(value)}"
            return _case(f"{SYMBOLS[op]} {value_text(value)}", ignore_case)
        case InList(values=values, negated=negated, ignore_case=ignore_case):
            listed = ", ".join(value_text(v) for v in values)
            return _case(f"{'not in' if negated else 'in'} ({listed})", ignore_case)
        case IsSet(expected=expected):
            return "is set" if expected else "is not set"
        case Between(low=low, high=high):
            return f"between {value_text(low)} and {value_text(high)}"
        case TextMatch(op=op, value=value, ignore_case=ignore_case):
            return _case(f"{op.value.replace('_', ' ')} {value_text(value)}", ignore_case)
        case Matches(pattern=pattern):
            return f"matches /{pattern}/"
        case RelativeTime(op=op, duration=duration):
            if op is RelOp.IN_NEXT:
                return f"in the next {duration_text(duration, written)}"
            return f"{'more' if op is RelOp.MORE_THAN_AGO else 'less'} than {duration_text(duration, written)} ago"
        case _:
            assert_never(predicate)


def filter_text(flt: EventFilter, written: Written | None = None) -> str:
    if not flt.where:
        return flt.event
    where = " and ".join(f"{pf.property} {predicate_text(pf.predicate, written)}" for pf in flt.where)
    return f"{flt.event} where {where}"


def window_text(window: Window | None, written: Written | None = None) -> str:
    match window:
        case None:
            return ""
        case AgoWindow(start=start, end=end):
            first = duration_text(start, written)
            return f" within {first}" if not end.seconds else f" between {first} and {duration_text(end, written)} ago"
        case SinceWindow(since=since):
            return f" since {value_text(since)}"


def measure_text(measure: Measure | Regularity, written: Written | None = None) -> str:
    if isinstance(measure, Regularity):
        extra = f" with >= {measure.min_count} events" if measure.min_count != 1 else ""
        every = duration_text(measure.every, written)
        return f"every {every}: at least {measure.at_least} of {measure.periods} periods{extra}"
    name = f"{measure.fn.value}({measure.property})" if measure.property else measure.fn.value
    return f"{name} {predicate_text(measure.predicate, written)}"


def sequence_text(cond: SequenceCondition, written: Written | None = None) -> str:
    steps = []
    for n, step in enumerate(cond.steps):
        text = ("no " if step.absent else "") + filter_text(step.filter, written)
        if step.within is not None:
            text += f" within {duration_text(step.within, written)}"
        steps.append(text if n == 0 else f"then {text}")
    within = f" within {duration_text(cond.within, written)}" if cond.within is not None else ""
    return f"sequence{within}: {', '.join(steps)}"


def describe(cond: Condition, written: Written | None = None) -> str:
    """One line for one node (children are described on their own lines); `written` gives
    durations as the author wrote them."""
    match cond:
        case AllOf():
            return "all of"
        case AnyOf():
            return "any of"
        case Not():
            return "not"
        case TraitCondition(trait=trait, predicate=predicate):
            return f"trait {trait} {predicate_text(predicate, written)}"
        case EventCondition(filter=flt, measure=measure, window=window):
            what = f"{filter_text(flt, written)}{window_text(window, written)}"
            return f"event {what} {measure_text(measure, written)}"
        case SequenceCondition():
            return sequence_text(cond, written)
        case InSegment(segment=name):
            return f"in_segment {name}"
        case Near(lat=lat, lon=lon, radius_km=radius):
            return f"near {value_text(lat)}, {value_text(lon)} within {value_text(radius)} km"
        case PredictCondition(model=model, score=score, predicate=predicate, within=within):
            horizon = f" within {duration_text(within, written)}" if within is not None else ""
            return f"predict {model} {score.value}{horizon} {predicate_text(predicate, written)}"
        case RfmCondition(tier=tier, comparisons=comparisons):
            parts = [f"tier = {tier.value}"] if tier is not None else []
            parts += [f"{metric.value} {predicate_text(predicate, written)}" for metric, predicate in comparisons]
            return f"rfm {', '.join(parts)}"
        case _:
            assert_never(cond)
