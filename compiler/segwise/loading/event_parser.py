"""Event conditions and sequences (docs/language.md): filters, windows, measures, regularity, steps."""

from __future__ import annotations

from datetime import datetime

from segwise.config import Config, JsonProperties
from segwise.errors import did_you_mean
from segwise.loading.durations import parse_duration
from segwise.loading.predicate_parser import (
    CMP_OPS,
    IGNORE_CASE,
    OPERATORS,
    TIME_CMP_OPS,
    Subject,
    literal,
    parse_predicate,
)
from segwise.loading.reader import Reporter, as_bool, as_int, as_list, as_map, as_str, check_keys, closest, require
from segwise.loading.yaml_source import YMap, YNode
from segwise.rules.nodes import (
    AggFn,
    AgoWindow,
    EventCondition,
    EventFilter,
    Measure,
    PropertyFilter,
    Regularity,
    SequenceCondition,
    SequenceStep,
    SinceWindow,
    Window,
)
from segwise.rules.predicates import CmpOp, Compare
from segwise.rules.values import Location, ValueType

WINDOW_KEYS = ("within", "between_ago", "since")
MEASURE_KEYS = tuple(fn.value for fn in AggFn)
REGULARITY_KEYS = ("every", "periods", "at_least", "min_count")
EVENT_KEYS = ("event", "where", *WINDOW_KEYS, *MEASURE_KEYS, *REGULARITY_KEYS)
STEP_KEYS = ("event", "where", "within", "absent")
SEQUENCE_KEYS = ("within", "steps")
MAX_STEPS = 10
MAX_PERIODS = 100
NUMBER_AGGS = (AggFn.SUM, AggFn.AVG, AggFn.MIN, AggFn.MAX)
DEFAULT_MEASURE = Measure(AggFn.COUNT, Compare(CmpOp.GTE, 1.0))


def parse_event(r: Reporter, config: Config, m: YMap, loc: Location) -> EventCondition | None:
    check_keys(r, m, EVENT_KEYS, "an event condition")
    event_filter = parse_event_filter(r, config, m, "an event condition")
    windows = [key for key in m if key in WINDOW_KEYS]
    measures = [key for key in m if key in MEASURE_KEYS]
    regularity = [key for key in m if key in REGULARITY_KEYS]
    ok = True
    if len(windows) > 1:
        r.error(m.key_node(windows[1]), f"an event condition takes at most one window, got {' and '.join(windows)}")
        ok = False
    window = _window(r, m, windows[0]) if len(windows) == 1 else None
    measure: Measure | Regularity | None = DEFAULT_MEASURE
    if regularity:
        for key in measures:
            r.error(
                m.key_node(key), f"'{key}' cannot be combined with every/periods/at_least: a regularity is the measure"
            )
        for key in windows:
            r.error(
                m.key_node(key), f"'{key}' cannot be combined with every/periods/at_least: the periods are the window"
            )
        ok = ok and not measures and not windows
        measure = _regularity(r, m)
    elif len(measures) > 1:
        r.error(m.key_node(measures[1]), f"an event condition takes exactly one measure, got {' and '.join(measures)}")
        ok = False
    elif measures:
        measure = _measure(r, config, AggFn(measures[0]), m.entries[measures[0]][1])
    if not ok or event_filter is None or measure is None or (windows and window is None):
        return None
    return EventCondition(event_filter, measure, window, loc=loc)


def parse_event_filter(r: Reporter, config: Config, m: YMap, what: str) -> EventFilter | None:
    """`event:` and `where:` of an event condition or a sequence step."""
    name_node = require(r, m, "event", what)
    name = as_str(r, name_node, "event") if name_node is not None else None
    where_node = m.get("where")
    where = _where(r, config, where_node) if where_node is not None else ()
    if name is None or where is None:
        return None
    return EventFilter(name, where)


def _where(r: Reporter, config: Config, node: YNode) -> tuple[PropertyFilter, ...] | None:
    items = as_list(r, node, "where", non_empty=True)
    if items is None:
        return None
    filters = [_property_filter(r, config, item) for item in items]
    if any(f is None for f in filters):
        return None
    # Order and repetition never change which events match: keep one canonical form (and the
    # location of the first of equal filters).
    unique: dict[str, PropertyFilter] = {}
    for f in filters:
        if f is not None:
            unique.setdefault(repr(f), f)
    return tuple(unique[key] for key in sorted(unique))


def _property_filter(r: Reporter, config: Config, node: YNode) -> PropertyFilter | None:
    m = as_map(r, node, "a where item")
    if m is None:
        return None
    name_node = require(r, m, "property", "a where item")
    name = as_str(r, name_node, "property") if name_node is not None else None
    if name_node is None or name is None:
        return None
    subject = _property_subject(r, config, name_node, name)
    if subject is None:
        return None
    predicate = parse_predicate(r, m, ("property", IGNORE_CASE), subject)
    return None if predicate is None else PropertyFilter(name, subject.type, predicate, loc=r.location(m))


def _property_subject(r: Reporter, config: Config, node: YNode, name: str) -> Subject | None:
    """The type of a property and how to talk about it; None (reported) if it cannot exist."""
    events = config.events
    type_ = events.property_type(name)
    if type_ is None:
        if events.properties is None:
            r.error(node, f"unknown property {name!r}: sources.events declares no properties")
        else:
            r.error(node, f"unknown property {name!r}", closest(name, events.known_properties()))
        return None
    props = events.properties
    if isinstance(props, JsonProperties) and name not in props.types:
        declared = did_you_mean(name, props.types)
        hint = declared or f"declare its type in sources.events.properties.types, e.g. {{{name}: number}}"
        text = f"undeclared property '{name}' (undeclared properties are strings)"
        return Subject(text, type_, OPERATORS[type_], wrong_type_hint=hint)
    return Subject(f"{type_} property '{name}'", type_, OPERATORS[type_])


def _window(r: Reporter, m: YMap, key: str) -> Window | None:
    node = m.entries[key][1]
    if key == "within":
        duration = parse_duration(r, node, "within")
        return None if duration is None else AgoWindow(duration)
    if key == "since":
        since = literal(r, node, ValueType.TIMESTAMP, "since")
        return SinceWindow(since) if isinstance(since, datetime) else None
    items = as_list(r, node, "between_ago")
    if items is None:
        return None
    if len(items) != 2:
        r.error(node, f"between_ago needs two durations [older, newer] such as [14d, 7d], got {len(items)} items")
        return None
    start = parse_duration(r, items[0], "between_ago")
    end = parse_duration(r, items[1], "between_ago", allow_zero=True)
    if start is None or end is None:
        return None
    if start <= end:
        r.error(
            node, "between_ago needs the older bound first, e.g. [14d, 7d]: the first must be longer than the second"
        )
        return None
    return AgoWindow(start, end)


def _measure(r: Reporter, config: Config, fn: AggFn, node: YNode) -> Measure | None:
    cmp = as_map(r, node, str(fn))
    if cmp is None:
        return None
    if fn is AggFn.COUNT:
        predicate = parse_predicate(r, cmp, (), Subject("count", ValueType.NUMBER, CMP_OPS))
        return None if predicate is None else Measure(fn, predicate)
    if fn in (AggFn.FIRST_SEEN, AggFn.LAST_SEEN):
        predicate = parse_predicate(r, cmp, (), Subject(str(fn), ValueType.TIMESTAMP, TIME_CMP_OPS))
        return None if predicate is None else Measure(fn, predicate)
    name_node = require(r, cmp, "property", str(fn))
    name = as_str(r, name_node, f"{fn}.property") if name_node is not None else None
    subject = _property_subject(r, config, name_node, name) if name_node is not None and name is not None else None
    if subject is not None and fn in NUMBER_AGGS and subject.type is not ValueType.NUMBER:
        assert name_node is not None
        r.error(name_node, f"{fn} needs a number property; {subject.text} is not one", subject.wrong_type_hint)
        subject = None
    measured = f"{fn} of '{name}'" if name else str(fn)
    predicate = parse_predicate(r, cmp, ("property",), Subject(measured, ValueType.NUMBER, CMP_OPS))
    if subject is None or predicate is None:
        return None
    return Measure(fn, predicate, name, subject.type)


def _regularity(r: Reporter, m: YMap) -> Regularity | None:
    what = "a regularity (every/periods/at_least)"
    every_node, periods_node, at_least_node = (require(r, m, key, what) for key in REGULARITY_KEYS[:3])
    every = parse_duration(r, every_node, "every") if every_node is not None else None
    periods = as_int(r, periods_node, "periods", 1, MAX_PERIODS) if periods_node is not None else None
    at_least = as_int(r, at_least_node, "at_least", 1, periods or MAX_PERIODS) if at_least_node is not None else None
    min_count_node = m.get("min_count")
    min_count = as_int(r, min_count_node, "min_count", 1) if min_count_node is not None else 1
    if every is None or periods is None or at_least is None or min_count is None:
        return None
    return Regularity(every, periods, at_least, min_count)


def parse_sequence(r: Reporter, config: Config, m: YMap, loc: Location) -> SequenceCondition | None:
    check_keys(r, m, ("sequence",), "a sequence condition")
    seq = as_map(r, m.entries["sequence"][1], "sequence")
    if seq is None:
        return None
    check_keys(r, seq, SEQUENCE_KEYS, "sequence")
    within_node = seq.get("within")
    within = parse_duration(r, within_node, "sequence within") if within_node is not None else None
    steps_node = require(r, seq, "steps", "sequence")
    items = as_list(r, steps_node, "steps", non_empty=True) if steps_node is not None else None
    if steps_node is None or items is None:
        return None
    if len(items) > MAX_STEPS:
        r.error(steps_node, f"a sequence has at most {MAX_STEPS} steps, got {len(items)}")
        return None
    steps = [_step(r, config, item, index, len(items)) for index, item in enumerate(items)]
    valid = tuple(step for step in steps if step is not None)
    if len(valid) != len(steps) or (within_node is not None and within is None):
        return None
    return SequenceCondition(valid, within, loc=loc)


def _step(r: Reporter, config: Config, node: YNode, index: int, count: int) -> SequenceStep | None:
    what = f"sequence step {index + 1}"
    m = as_map(r, node, what)
    if m is None:
        return None
    check_keys(r, m, STEP_KEYS, what)
    event_filter = parse_event_filter(r, config, m, what)
    absent_node, within_node = m.get("absent"), m.get("within")
    absent = as_bool(r, absent_node, "absent") if absent_node is not None else False
    within = parse_duration(r, within_node, "within") if within_node is not None else None
    ok = absent is not None and (within_node is None or within is not None)
    if index == 0 and within_node is not None:
        r.error(
            m.key_node("within"),
            "'within' on the first step has no previous step to follow",
            "put it on the sequence: sequence: {within: 30d, steps: [...]}",
        )
        ok = False
    if absent and index == 0:
        r.error(m.key_node("absent"), "the first step of a sequence cannot be absent: a sequence starts with an action")
        ok = False
    elif absent and index != count - 1:
        r.error(m.key_node("absent"), "only the last step of a sequence may be absent")
        ok = False
    elif absent and within_node is None:
        r.error(
            m.key_node("absent"),
            "an absent step needs 'within': how long after the previous step the event must not happen",
        )
        ok = False
    if not ok or event_filter is None:
        return None
    return SequenceStep(event_filter, within, bool(absent), loc=r.location(m))
