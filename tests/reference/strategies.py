"""Hypothesis strategies: random valid segment rules and random data for them.

Everything generated stays inside what every engine computes the same way, so a
difference between the compiled SQL and the reference evaluator is a bug, not noise:

- numbers are multiples of 0.5 in [-1000, 1000] (float sums are exact); geo
  coordinates are the exception, and the radius pool keeps every distance at least
  a metre away from every radius;
- timestamps are whole seconds in 2024-01-01 .. 2025-12-31, crowded onto the
  boundaries the rules can draw (T - k*DUR, T + DUR, midnights, each +/- 1 s);
- strings come from a fixed pool (quotes, `;`, `--`, `%`, `_`, a backslash,
  lowercase-only non-ASCII), regular expressions from a fixed portable pool;
- event ids are unique per distinct event, so de-duplicating by (user, id) and by
  id alone agree; a duplicate is an exact copy (its `loaded_at` may differ).

    rules(config, max_depth=3, known_segments=(), as_of=None)  -> rule dicts
    segment_sets(config, as_of=None)                           -> [segment dicts]
    groups_for(segment_names)                                  -> [group dicts]
    datasets(config, as_of)                                    -> (users, events)
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "AS_OF_CHOICES",
    "DURATIONS",
    "EVENT_NAMES",
    "REGEX_PATTERNS",
    "STRINGS",
    "TEST_CONFIG_FLAT",
    "TEST_CONFIG_JSON",
    "datasets",
    "groups_for",
    "rules",
    "segment_sets",
]

Rule = dict[str, Any]

# --------------------------------------------------------------------------- configs

_TRAITS: dict[str, Any] = {
    "plan": "string",
    "country": "string",
    "signup_at": "timestamp",
    "trial_ends_at": "timestamp",
    "ltv": {"type": "number", "column": "lifetime_value"},
    "is_beta": "boolean",
    "latitude": "number",
    "longitude": "number",
}
_PROPERTY_TYPES = {
    "amount": "number",
    "score": "number",
    "product_id": "string",
    "is_gift": "boolean",
    "placed_at": "timestamp",
}
UNDECLARED_PROPERTIES = ("source",)  # read as strings


def _config(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "segments_path": "segments",
        "models_path": "models/segwise",
        "sources": {
            "users": {
                "relation": "users",
                "id": "user_id",
                "traits": dict(_TRAITS),
                "geo": {"lat": "latitude", "lon": "longitude"},
            },
            "events": {
                "relation": "events",
                "user_id": "user_id",
                "name": "event_name",
                "timestamp": "occurred_at",
                "loaded_at": "loaded_at",
                "id": "event_id",
                "properties": properties,
            },
        },
        "rfm": {"event": "order_completed", "monetary": "amount", "within": "30d"},
    }


TEST_CONFIG_JSON: dict[str, Any] = _config({"column": "properties", "types": dict(_PROPERTY_TYPES)})
TEST_CONFIG_FLAT: dict[str, Any] = _config(
    {
        "columns": {
            "amount": "amount_value",
            "score": "score",
            "product_id": "product_id",
            "is_gift": "gift",
            "placed_at": "placed_at_ts",
            "source": "source",
        },
        "types": dict(_PROPERTY_TYPES),
    }
)

# --------------------------------------------------------------------------- pools

DURATIONS = ["30s", "5m", "90m", "1h", "48h", "1d", "7d", "30d", "2w"]
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
AS_OF_CHOICES = [
    datetime(2025, 6, 1, 0, 0, 0),
    datetime(2024, 12, 31, 23, 59, 59),
    datetime(2024, 7, 15, 12, 30, 0),
    datetime(2024, 3, 1, 0, 0, 0),  # the day after a leap day
]
DATA_START = datetime(2024, 1, 1)
DATA_END = datetime(2025, 12, 31, 23, 59, 59)
SECOND = timedelta(seconds=1)

EVENT_NAMES = [
    "product_viewed",
    "checkout_viewed",
    "payment_entered",
    "order_completed",
    "app_opened",
]
FUNNEL = ["product_viewed", "checkout_viewed", "payment_entered", "order_completed"]
STRINGS = [
    "",
    "pro",
    "Pro",
    "PRO",
    "free",
    "enterprise",
    "pro_trial",
    "pro%",
    "o'brien",
    'say "hi"',
    "a;b",
    "x -- y",
    "100%",
    "snake_case",
    "snakeXcase",
    "back\\slash",
    "zürich",
    "café",
    "de",
    "DE",
    "us",
    "abcz",
    "cdab",
    "r12",
    "x",
    "'; drop table users; --",
]
SUBSTRINGS = [
    "pro",
    "PRO",
    "Pr",
    "o",
    "e",
    "x",
    "%",
    "_",
    "\\",
    "'",
    '"',
    ";",
    "--",
    "ü",
    "é",
    "zür",
    "café",
    "ab",
    "12",
    "'; drop",
    "e_c",
]
REGEX_PATTERNS = [
    "^pro$",
    "o|e",
    "[a-c]+",
    "^[^x]*$",
    "\\d",
    "r.{2}",
    "(ab|cd)+z?",
    "^z",
    "é",
    "e$",
    "[0-9]{2,3}",
    "^(pro|free)$",
    "a.*b",
    "^.$",
    "c[^a]",
    "^[A-Z]+$",
    "o+",
    "ü",
]
NUMBERS = [-1000, -10, -0.5, 0, 0.5, 1, 2, 12.5, 50, 99.5, 100, 250, 1000]
SCORES = [-1, 0, 1, 2, 2.5, 5]
COUNT_LITERALS = [0, 1, 2, 3, 4, 5]
SEGMENT_NAMES = [
    "hello",
    "vip",
    "loyal",
    "at_risk",
    "seg_1",
    "high_intent_browsers",
    "trial_users",
    "s",
]
TEXT_IDS = ["hello", "user-42", "zzz", "42", "7", "007", "u1", "a'b", "zoë", "x y", "0"]
INT_IDS = [0, 1, 2, 3, 7, 42, 100, 12345, 2147483648]
CASE_FOLDING_OPERATORS = [
    "eq",
    "neq",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
]
RFM_TIERS = [
    "champions",
    "loyal",
    "potential_loyalist",
    "new_customer",
    "at_risk",
    "hibernating",
    "needs_attention",
]

GEO_CENTRES = [(52.52, 13.405), (47.3769, 8.5417), (40.7128, -74.006)]
_GEO_OFFSETS = [-0.3, -0.05, 0.0, 0.02, 0.1, 0.4]
GEO_POINTS = [
    (round(lat + dlat, 4), round(lon + dlon, 4))
    for lat, lon in GEO_CENTRES
    for dlat in _GEO_OFFSETS
    for dlon in _GEO_OFFSETS
]


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


# Radii no distance comes within a metre of, so engines' trigonometry cannot disagree.
GEO_RADII: list[int | float] = [
    radius
    for radius in [*range(1, 51), 2.5, 12.5]
    if all(
        abs(_haversine_km(clat, clon, lat, lon) - radius) > 1e-3
        for clat, clon in GEO_CENTRES
        for lat, lon in GEO_POINTS
    )
]


def duration_seconds(text: str) -> int:
    return int(text[:-1]) * _UNIT_SECONDS[text[-1]]


def _delta(text: str) -> timedelta:
    return timedelta(seconds=duration_seconds(text))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _clamp(moments: set[datetime]) -> list[datetime]:
    return sorted(m for m in moments if DATA_START <= m <= DATA_END)


def boundary_instants(as_of: datetime) -> list[datetime]:
    """The instants a rule's boundaries can fall on at T, each +/- 1 s, within range."""
    anchors = {as_of, as_of + timedelta(hours=1)}
    for text in DURATIONS:
        duration = _delta(text)
        anchors.update(as_of - k * duration for k in range(1, 7))  # windows, periods
        anchors.add(as_of + duration)  # in_next
        anchors.add(_midnight((as_of - duration).date()))  # date-only ISO literals
    anchors.add(_midnight(as_of.date()))
    return _clamp({anchor + shift * SECOND for anchor in anchors for shift in (-1, 0, 1)})


def iso_literals(as_of: datetime | None = None) -> list[str]:
    """ISO literals in both forms, around T (or around every AS_OF_CHOICES)."""
    literals: set[str] = set()
    for t in [as_of] if as_of is not None else AS_OF_CHOICES:
        literals.update({_iso(t), t.date().isoformat()})
        for text in DURATIONS:
            for moment in (t - _delta(text), t + _delta(text)):
                literals.update({_iso(moment), _iso(moment + SECOND)})
                literals.add(moment.date().isoformat())
    return sorted(literals)


def _choice(*options: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of `options`, each equally likely (repeat one to weight it).

    Unlike st.one_of, which flattens nested one_ofs (through .map too) and so weights
    each option by how many alternatives it holds: `trait` would crowd out `event`."""

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        return draw(draw(st.sampled_from(options)))

    return pick()


# --------------------------------------------------------------------------- rules


def _number_literal(values: Sequence[float]) -> st.SearchStrategy[int | float]:
    """A number from `values`, integral ones sometimes spelled as int, sometimes as float."""

    def spell(value: float) -> st.SearchStrategy[int | float]:
        if float(value).is_integer():
            return st.sampled_from([int(value), float(value)])
        return st.just(value)

    return st.sampled_from(list(values)).flatmap(spell)


_TRAIT_NUMBERS: dict[str, list[float]] = {
    "latitude": [40.5, 47.5, 52.5, 53, -74],
    "longitude": [-74, -74.5, 8.5, 13.5, 13],
    "event_count": [0, 1, 2, 3, 5, 10],
}


def _literals(type_name: str, iso: Sequence[str], numbers: Sequence[float]) -> Any:
    if type_name == "string":
        return st.sampled_from(STRINGS)
    if type_name == "number":
        return _number_literal(numbers)
    if type_name == "boolean":
        return st.booleans()
    return st.sampled_from(list(iso))


def operator_specs(
    type_name: str, iso: Sequence[str], numbers: Sequence[float] = NUMBERS
) -> st.SearchStrategy[dict[str, Any]]:
    """`{OP: VALUE}` (plus `ignore_case: true`) for every operator a type admits."""
    literal = _literals(type_name, iso, numbers)
    literals = st.lists(literal, min_size=1, max_size=3)
    ops: dict[str, st.SearchStrategy[Any]] = {
        "eq": literal,
        "neq": literal,
        "in": literals,
        "not_in": literals,
        "is_set": st.booleans(),
    }
    if type_name == "string":
        substring = st.sampled_from(SUBSTRINGS + [s for s in STRINGS if s])
        for op in ("contains", "not_contains", "starts_with", "ends_with"):
            ops[op] = substring
        ops["matches"] = st.sampled_from(REGEX_PATTERNS)
    elif type_name == "number":
        for op in ("gt", "gte", "lt", "lte"):
            ops[op] = literal
    elif type_name == "timestamp":
        duration = st.sampled_from(DURATIONS)
        ops |= {"before": literal, "after": literal}
        ops |= {
            "more_than_ago": duration,
            "less_than_ago": duration,
            "in_next": duration,
        }
    options = [st.fixed_dictionaries({op: operand}) for op, operand in ops.items()]
    if type_name in ("number", "timestamp"):
        options.append(_between(literal))
    if type_name == "string":
        options += [st.fixed_dictionaries({op: ops[op], "ignore_case": st.just(True)}) for op in CASE_FOLDING_OPERATORS]
    return _choice(*options)


def _between(literal: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`between: [lo, hi]` with lo <= hi (ISO literals compared as instants)."""

    def order(pair: tuple[Any, Any]) -> dict[str, Any]:
        low, high = pair
        if isinstance(low, str):
            if datetime.fromisoformat(high) < datetime.fromisoformat(low):
                low, high = high, low
        elif high < low:
            low, high = high, low
        return {"between": [low, high]}

    return st.tuples(literal, literal).map(order)


def _cmp(literal: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """CMP: one of eq/neq/gt/gte/lt/lte/between."""
    return _choice(
        *[st.fixed_dictionaries({op: literal}) for op in ("eq", "neq", "gt", "gte", "lt", "lte")],
        _between(literal),
    )


def _tcmp(iso: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
    """TCMP: one of more_than_ago/less_than_ago/before/after."""
    duration = st.sampled_from(DURATIONS)
    literal = st.sampled_from(list(iso))
    return _choice(
        st.fixed_dictionaries({"more_than_ago": duration}),
        st.fixed_dictionaries({"less_than_ago": duration}),
        st.fixed_dictionaries({"before": literal}),
        st.fixed_dictionaries({"after": literal}),
    )


def _trait_types(config: Mapping[str, Any]) -> dict[str, str]:
    declared = config["sources"]["users"].get("traits") or {}
    types = {name: spec if isinstance(spec, str) else spec["type"] for name, spec in declared.items()}
    builtin = {"first_seen_at": "timestamp", "last_seen_at": "timestamp", "event_count": "number"}
    return {**types, **builtin}


def _property_types(config: Mapping[str, Any]) -> dict[str, str]:
    properties = config["sources"]["events"].get("properties") or {}
    declared = dict(properties.get("types") or {})
    # flat: the listed columns; JSON: the declared ones and the undeclared pool
    names = list(properties.get("columns") or [*declared, *UNDECLARED_PROPERTIES])
    return {name: declared.get(name, "string") for name in names}


def _window(iso: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
    """No window, `within`, `between_ago` (DUR1 > DUR2) or `since`."""
    ordered = sorted(DURATIONS, key=duration_seconds)
    pairs = [[far, near] for i, near in enumerate(ordered) for far in ordered[i + 1 :]]
    return _choice(
        st.just({}),
        st.fixed_dictionaries({"within": st.sampled_from(DURATIONS)}),
        st.fixed_dictionaries({"between_ago": st.sampled_from(pairs)}),
        st.fixed_dictionaries({"since": st.sampled_from(list(iso))}),
    )


def _subject(key: str, name: str, specs: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Rule]:
    """`{trait: NAME, OP: VALUE}` / `{property: NAME, OP: VALUE}`."""
    return specs.map(lambda spec: {key: name, **spec})


class _RuleParts:
    """The leaf strategies for one config."""

    def __init__(self, config: Mapping[str, Any], as_of: datetime | None) -> None:
        self.config = config
        self.iso = iso_literals(as_of)
        self.traits = _trait_types(config)
        self.properties = _property_types(config)

    def trait(self) -> st.SearchStrategy[Rule]:
        options = [
            _subject(
                "trait",
                name,
                operator_specs(type_name, self.iso, _TRAIT_NUMBERS.get(name, NUMBERS)),
            )
            for name, type_name in self.traits.items()
        ]
        return _choice(*options)

    def where_filter(self) -> st.SearchStrategy[Rule]:
        options = [
            _subject(
                "property",
                name,
                operator_specs(type_name, self.iso, SCORES if name == "score" else NUMBERS),
            )
            for name, type_name in self.properties.items()
        ]
        return _choice(*options)

    def where(self) -> st.SearchStrategy[dict[str, Any]]:
        return _choice(
            st.just({}),
            st.fixed_dictionaries({"where": st.lists(self.where_filter(), min_size=1, max_size=2)}),
        )

    def measure(self) -> st.SearchStrategy[dict[str, Any]]:
        numeric = [p for p, t in self.properties.items() if t == "number"]
        amounts = _number_literal(NUMBERS + SCORES)

        def aggregate(kind: str, props: list[str], literal: Any) -> Any:
            return st.tuples(st.sampled_from(props), _cmp(literal)).map(
                lambda pair: {kind: {"property": pair[0], **pair[1]}}
            )

        options = [
            st.just({}),  # default: count >= 1
            st.fixed_dictionaries({"count": _cmp(st.sampled_from(COUNT_LITERALS))}),
            st.fixed_dictionaries({"first_seen": _tcmp(self.iso)}),
            st.fixed_dictionaries({"last_seen": _tcmp(self.iso)}),
            aggregate("count_distinct", list(self.properties), st.sampled_from(COUNT_LITERALS)),
        ]
        options += [aggregate(kind, numeric, amounts) for kind in ("sum", "avg", "min", "max")]
        return _choice(*options)

    def regularity(self) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            periods = draw(st.integers(1, 6))
            spec: dict[str, Any] = {
                "every": draw(st.sampled_from(DURATIONS)),
                "periods": periods,
                "at_least": draw(st.integers(1, periods)),
            }
            if draw(st.booleans()):
                spec["min_count"] = draw(st.integers(1, 3))
            return spec

        return build()

    def event(self) -> st.SearchStrategy[Rule]:
        windowed = st.tuples(self.measure(), _window(self.iso)).map(lambda pair: {**pair[1], **pair[0]})
        body = _choice(windowed, windowed, self.regularity())
        return st.tuples(st.sampled_from(EVENT_NAMES), self.where(), body).map(
            lambda t: {"event": t[0], **t[1], **t[2]}
        )

    def sequence(self) -> st.SearchStrategy[Rule]:
        @st.composite
        def build(draw: st.DrawFn) -> Rule:
            count = draw(st.integers(1, 4))
            # half the time the steps walk down the funnel, as the data's chains do
            start = draw(st.integers(0, len(FUNNEL) - 1))
            funnel = FUNNEL[start:] if draw(st.booleans()) else []
            steps: list[dict[str, Any]] = []
            for index in range(count):
                name = funnel[index] if index < len(funnel) else draw(st.sampled_from(EVENT_NAMES))
                step: dict[str, Any] = {"event": name}
                step.update(draw(self.where()))
                absent = index == count - 1 and index > 0 and draw(st.booleans())
                if absent:
                    step["absent"] = True
                if index > 0 and (absent or draw(st.booleans())):
                    step["within"] = draw(st.sampled_from(DURATIONS))
                steps.append(step)
            sequence: dict[str, Any] = {}
            if draw(st.booleans()):
                sequence["within"] = draw(st.sampled_from(DURATIONS))
            sequence["steps"] = steps
            return {"sequence": sequence}

        return build()

    def near(self) -> st.SearchStrategy[Rule]:
        return st.tuples(st.sampled_from(GEO_CENTRES), st.sampled_from(GEO_RADII)).map(
            lambda t: {"near": {"lat": t[0][0], "lon": t[0][1], "radius_km": t[1]}}
        )

    def rfm(self) -> st.SearchStrategy[Rule]:
        comparisons = {
            "r": _cmp(st.integers(1, 5)),
            "f": _cmp(st.integers(1, 5)),
            "m": _cmp(st.integers(1, 5)),
            "recency_days": _cmp(st.integers(0, 31)),
            "frequency": _cmp(st.integers(0, 6)),
            "monetary": _cmp(_number_literal(NUMBERS)),
        }

        @st.composite
        def subset(draw: st.DrawFn) -> dict[str, Any]:
            keys = draw(st.lists(st.sampled_from(list(comparisons)), min_size=1, max_size=3))
            return {key: draw(comparisons[key]) for key in dict.fromkeys(keys)}

        return _choice(st.fixed_dictionaries({"tier": st.sampled_from(RFM_TIERS)}), subset()).map(
            lambda spec: {"rfm": spec}
        )

    def leaf(self, known_segments: Sequence[str]) -> st.SearchStrategy[Rule]:
        options = [self.trait(), self.event(), self.event(), self.sequence()]
        if known_segments:
            options.append(st.sampled_from(list(known_segments)).map(lambda n: {"in_segment": n}))
        if self.config["sources"]["users"].get("geo"):
            options.append(self.near())
        if self.config.get("rfm"):
            options.append(self.rfm())
        return _choice(*options)


_RULES_CACHE: dict[tuple[Any, ...], st.SearchStrategy[Rule]] = {}


def rules(
    config: Mapping[str, Any],
    max_depth: int = 3,
    known_segments: Sequence[str] = (),
    as_of: datetime | None = None,
) -> st.SearchStrategy[Rule]:
    """Valid rules: every node kind and operator of docs/language.md, nested up to `max_depth`.

    `in_segment` refers only to `known_segments`; ISO literals cluster around `as_of`
    (or around every AS_OF_CHOICES). Strategies are cached: building them is what
    costs time in hypothesis, drawing from them is cheap."""
    key = (json.dumps(config, sort_keys=True), max_depth, tuple(known_segments), as_of)
    if key in _RULES_CACHE:
        return _RULES_CACHE[key]
    if max_depth <= 0:
        strategy = _RuleParts(config, as_of).leaf(known_segments)
    else:
        leaf = rules(config, 0, known_segments, as_of)
        child = rules(config, max_depth - 1, known_segments, as_of)
        children = st.lists(child, min_size=1, max_size=3)
        strategy = _choice(
            leaf,
            leaf,
            children.map(lambda cs: {"all": cs}),
            children.map(lambda cs: {"any": cs}),
            child.map(lambda c: {"not": c}),
        )
    _RULES_CACHE[key] = strategy
    return strategy


_EARLIER = "\x00earlier"  # an `in_segment` target that segment_sets resolves


def _resolve_references(node: Any, pick: Callable[[], str]) -> Any:
    """The rule with every placeholder `in_segment` replaced by `pick()`."""
    if isinstance(node, dict):
        if node.get("in_segment") == _EARLIER:
            return {"in_segment": pick()}
        return {key: _resolve_references(value, pick) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve_references(item, pick) for item in node]
    return node


@st.composite
def segment_sets(
    draw: st.DrawFn,
    config: Mapping[str, Any],
    as_of: datetime | None = None,
    max_depth: int = 2,
) -> list[dict[str, Any]]:
    """1-4 segments; a later one may reference earlier ones (acyclic), some with a
    holdout (0-50)."""
    names = draw(st.lists(st.sampled_from(SEGMENT_NAMES), min_size=1, max_size=4, unique=True))
    segments: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        rule = draw(rules(config, max_depth, (_EARLIER,) if index else (), as_of))
        earlier = st.sampled_from(names[:index]) if index else st.nothing()
        segment: dict[str, Any] = {
            "name": name,
            "rule": _resolve_references(rule, functools.partial(draw, earlier)),
        }
        if draw(st.booleans()):
            segment["holdout"] = draw(_HOLDOUTS)
        if draw(st.booleans()):
            segment["description"] = f"generated segment {name}"
            segment["tags"] = ["generated"]
        segments.append(segment)
    return segments


_HOLDOUTS = st.sampled_from([0, 1, 10, 25, 50]) | st.integers(0, 50)


@st.composite
def groups_for(draw: st.DrawFn, segment_names: Sequence[str]) -> list[dict[str, Any]]:
    """0-2 groups over the given segments, some with a fallback."""
    groups: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 2))):
        priority = draw(st.permutations(list(segment_names)))
        group: dict[str, Any] = {
            "name": f"group_{index}",
            "priority": priority[: draw(st.integers(1, len(priority)))],
        }
        if draw(st.booleans()):
            group["fallback"] = "other"
        groups.append(group)
    return groups


# --------------------------------------------------------------------------- data
# Strategies are built once per T (lru_cache): hypothesis validates every new one.


@functools.lru_cache
def _instants(as_of: datetime) -> st.SearchStrategy[datetime]:
    """Mostly boundary instants, sometimes any second from T - 35d to T + 1d."""
    low = max(DATA_START, as_of - timedelta(days=35))
    high = min(DATA_END, as_of + timedelta(days=1))
    anywhere = st.integers(0, int((high - low).total_seconds())).map(lambda s: low + timedelta(seconds=s))
    return _choice(st.sampled_from(boundary_instants(as_of)), anywhere)


def _chain_offsets() -> list[timedelta]:
    """Gaps between a sequence's steps: 0, 1 s, and each duration -1 s/exactly/+1 s."""
    offsets = {timedelta(0), SECOND}
    for text in DURATIONS:
        offsets.update({_delta(text) - SECOND, _delta(text), _delta(text) + SECOND})
    return sorted(offsets)


_OFFSETS = st.sampled_from(_chain_offsets())
_LOAD_DELAYS = st.sampled_from([timedelta(0), SECOND, timedelta(hours=1), timedelta(days=2)])
_MISSING = object()  # a key left out of the row / JSON document
_FLOATS = [float(n) for n in NUMBERS]  # stored numbers are floats (DOUBLE columns)


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value (3 in 4), or missing: None (SQL NULL / JSON null) or the key left out."""
    return _choice(values, values, values, st.sampled_from([None, _MISSING]))


@functools.lru_cache
def _trait_values(as_of: datetime) -> dict[str, st.SearchStrategy[Any]]:
    """Users columns of the TEST configs (ltv lives in `lifetime_value`)."""
    return {
        "plan": _maybe(st.sampled_from(STRINGS)),
        "country": _maybe(st.sampled_from(STRINGS)),
        "signup_at": _maybe(_instants(as_of)),
        "trial_ends_at": _maybe(_instants(as_of)),
        "lifetime_value": _maybe(st.sampled_from(_FLOATS)),
        "is_beta": _maybe(st.booleans()),
    }


@functools.lru_cache
def _property_values(as_of: datetime) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "amount": _maybe(st.sampled_from(_FLOATS)),
        "score": _maybe(st.sampled_from([float(n) for n in SCORES])),
        "product_id": _maybe(st.sampled_from(STRINGS)),
        "is_gift": _maybe(st.booleans()),
        "placed_at": _maybe(_instants(as_of)),
        "source": _maybe(st.sampled_from(STRINGS)),
    }


@functools.lru_cache
def _json_spelling(value: Any) -> st.SearchStrategy[Any]:
    """How a property value may be spelled in the JSON document: numbers and booleans
    as themselves or as text that reads as them, timestamps as ISO text."""
    if isinstance(value, bool):
        return st.sampled_from([value, "true" if value else "false"])
    if isinstance(value, int | float):
        spellings: list[Any] = [float(value), str(float(value))]
        if float(value).is_integer():
            spellings += [int(value), str(int(value))]
        return st.sampled_from(spellings)
    if isinstance(value, datetime):
        return st.just(_iso(value))
    return st.just(value)


@functools.lru_cache
def _properties(
    as_of: datetime, json_mode: bool, columns: tuple[tuple[str, str], ...]
) -> st.SearchStrategy[dict[str, Any]]:
    """The event row's property columns (flat) or its JSON text (key `properties`)."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        values = {name: draw(v) for name, v in _property_values(as_of).items()}
        if not json_mode:
            return {column: None if values[name] is _MISSING else values[name] for name, column in columns}
        if draw(st.integers(0, 9)) == 0:
            return {"properties": draw(st.sampled_from([None, "{}", "null"]))}
        document = {
            name: None if value is None else draw(_json_spelling(value))
            for name, value in values.items()
            if value is not _MISSING
        }
        return {"properties": json.dumps(document, ensure_ascii=draw(st.booleans()))}

    return build()


def _id_pools(mode: str) -> tuple[list[Any], list[Any], Callable[[Any], Any]]:
    """(user ids, event user ids, how the events column spells a user id) per id mode."""
    if mode == "int":
        return INT_IDS, INT_IDS, lambda uid: uid
    if mode == "text":
        return TEXT_IDS, TEXT_IDS, lambda uid: uid
    if mode == "users_int_events_text":
        return INT_IDS, [str(i) for i in INT_IDS], str
    # users_text_events_int: "42" joins 42; "007" does not join 7 (7 reads as "7")
    return TEXT_IDS, INT_IDS, lambda uid: int(uid) if uid.isdigit() else None


_USER_COUNTS = _choice(st.integers(2, 6), st.integers(0, 8))
_ID_MODES = st.sampled_from(["int", "text", "users_int_events_text", "users_text_events_int"])


@st.composite
def datasets(
    draw: st.DrawFn, config: Mapping[str, Any], as_of: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(users, events) rows for TEST_CONFIG_JSON / TEST_CONFIG_FLAT, keyed by column
    names; at most 12 users (with those known only from events) and 60 events."""
    users_cfg = config["sources"]["users"]
    events_cfg = config["sources"]["events"]
    properties_cfg = events_cfg.get("properties") or {}
    properties = _properties(
        as_of,
        "column" in properties_cfg,
        tuple((properties_cfg.get("columns") or {}).items()),
    )

    user_pool, event_pool, spell = _id_pools(draw(_ID_MODES))
    user_ids = draw(st.permutations(user_pool))[: draw(_USER_COUNTS)]

    # Users: every trait sometimes missing (NULL or the key left out).
    users: list[dict[str, Any]] = []
    for user_id in user_ids:
        row: dict[str, Any] = {users_cfg["id"]: user_id}
        for column, strategy in _trait_values(as_of).items():
            value = draw(strategy)
            if value is not _MISSING:
                row[column] = value
        lat, lon = draw(st.sampled_from(GEO_POINTS))
        row["latitude"] = draw(st.sampled_from([lat, lat, lat, None]))
        row["longitude"] = draw(st.sampled_from([lon, lon, lon, None]))
        users.append(row)

    # Event user ids: the users (as the events column spells them: "007" -> 7 is
    # another user), ids known only from events, and null.
    joined = [spell(uid) for uid in user_ids if spell(uid) is not None]
    strangers = [uid for uid in event_pool if uid not in joined]
    only_events = draw(st.permutations(strangers))[: draw(st.integers(0, 3))]
    event_user = _choice(
        *([st.sampled_from(joined)] * 6 if joined else []),
        *([st.sampled_from(only_events)] * 2 if only_events else []),
        st.none(),
    )
    id_kind = draw(st.sampled_from(["int", "text"]))

    def new_event(user: Any, ts: datetime, name: str | None = None) -> dict[str, Any]:
        serial = len(events) + 1  # unique per distinct event
        event_id: Any = serial if id_kind == "int" else f"ev-{serial}"
        row = {
            events_cfg["user_id"]: user,
            events_cfg["name"]: name or draw(st.sampled_from(EVENT_NAMES)),
            events_cfg["timestamp"]: ts,
            events_cfg["loaded_at"]: min(DATA_END, ts + draw(_LOAD_DELAYS)),
            events_cfg["id"]: None if draw(st.integers(0, 7)) == 0 else event_id,
        }
        row.update(draw(properties))
        return row

    events: list[dict[str, Any]] = []
    # Chains: one user, steps at boundary gaps, often walking down the funnel.
    for _ in range(draw(st.integers(2, 10))):
        user = draw(event_user)
        ts = draw(_instants(as_of))
        funnel = FUNNEL[draw(st.integers(0, len(FUNNEL) - 1)) :] if draw(st.booleans()) else []
        for step in range(draw(st.integers(1, 4))):
            events.append(new_event(user, ts, funnel[step] if step < len(funnel) else None))
            ts = min(DATA_END, ts + draw(_OFFSETS))
    for _ in range(draw(st.integers(5, 25))):  # loose events
        events.append(new_event(draw(event_user), draw(_instants(as_of))))
    events = events[:54]
    # Deliveries of the same event: exact copies, `loaded_at` may differ.
    for _ in range(draw(st.integers(0, 6)) if events else 0):
        copy = dict(draw(st.sampled_from(events)))
        copy[events_cfg["loaded_at"]] = min(DATA_END, copy[events_cfg["timestamp"]] + draw(_LOAD_DELAYS))
        events.insert(draw(st.integers(0, len(events))), copy)
    return users, events
