"""Reference evaluator: the rules of docs/language.md and docs/semantics.md as plain Python.

This module is the oracle the compiled SQL is checked against, so it is derived
from those documents alone and favours being obviously right over being fast:
every condition is evaluated user by user, event by event, with the documents'
wording in the comments.

    evaluate(config, segments, users, events, as_of)
        -> {segment name: {user_id: variant}}   (members only; variant None
                                                 without a holdout)
    evaluate_groups(config, segments, groups, users, events, as_of)
        -> {group name: {user_id: label}}

Inputs are plain rows: ``users`` keyed by the users relation's column names,
``events`` keyed by the events relation's column names; timestamps are naive
UTC ``datetime`` objects; ``as_of`` is the evaluation instant T.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = [
    "evaluate",
    "evaluate_groups",
    "holdout_bucket",
    "md5_prefix_int",
    "parse_duration",
    "parse_iso",
    "rfm_score",
    "rfm_tier",
    "variant_for",
]

Row = Mapping[str, Any]
Value = str | float | bool | datetime  # a typed, non-missing value; None = missing

EARTH_RADIUS_KM = 6371.0088
BUILTIN_TRAITS: dict[str, str] = {
    "first_seen_at": "timestamp",
    "last_seen_at": "timestamp",
    "event_count": "number",
}

# Operators of trait conditions and `where` filters (docs/language.md, 'Trait conditions'), by type.
ANY_TYPE_OPERATORS = frozenset({"eq", "neq", "in", "not_in", "is_set"})
NUMBER_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "between"})
STRING_OPERATORS = frozenset({"contains", "not_contains", "starts_with", "ends_with", "matches"})
TIMESTAMP_OPERATORS = frozenset({"before", "after", "between", "more_than_ago", "less_than_ago", "in_next"})
TRAIT_OPERATORS = ANY_TYPE_OPERATORS | NUMBER_OPERATORS | STRING_OPERATORS | TIMESTAMP_OPERATORS
# A missing value makes "`neq`, `not_in`, `not_contains` and `is_set: false` true" (docs/language.md,
# 'How to read a rule'); `is_set` is handled on its own.
NEGATIVE_OPERATORS = frozenset({"neq", "not_in", "not_contains"})
# CMP and TCMP of event measures and rfm comparisons.
CMP_OPERATORS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "between"})
TCMP_OPERATORS = frozenset({"more_than_ago", "less_than_ago", "before", "after"})
MEASURES = ("count", "sum", "avg", "min", "max", "count_distinct", "first_seen", "last_seen")
RFM_KEYS = ("r", "f", "m", "recency_days", "frequency", "monetary")

_DURATION_RE = re.compile(r"^(\d+)([smhdw])$")
_NUMBER_TEXT_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")  # "12.5", "-3", "1e3"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# --------------------------------------------------------------------------- parsing


def parse_duration(text: str) -> timedelta:
    """`90m`, `48h`, `30d`: an integer plus unit s/m/h/d/w."""
    match = _DURATION_RE.match(str(text).strip())
    if match is None:
        raise ValueError(f"bad duration {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_iso(value: Any) -> datetime:
    """An ISO literal of a rule: `2025-01-31` (midnight) or `2025-01-31T08:00:00`, UTC.

    YAML loaders turn unquoted dates into ``date``/``datetime`` objects: both accepted.
    """
    if isinstance(value, datetime):
        return _to_naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return _to_naive_utc(datetime.fromisoformat(str(value).strip()))


def _coerce(type_name: str, raw: Any) -> Value | None:
    """A stored value (column or JSON property) as a typed value, or None when missing.

    Numbers are floats; booleans accept `true`/`false` text; timestamps accept
    ``datetime``/``date`` or ISO text. A value that does not read as its type is
    missing.
    """
    if raw is None:
        return None
    if type_name == "string":
        if isinstance(raw, str):
            return raw
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, Decimal):
            return str(raw)
        return json.dumps(raw, ensure_ascii=False)  # a JSON number/object read as its text
    if type_name == "number":
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float | Decimal):
            return float(raw)
        if isinstance(raw, str) and _NUMBER_TEXT_RE.match(raw.strip()):
            return float(raw.strip())
        return None
    if type_name == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        return None
    if type_name == "timestamp":
        if isinstance(raw, datetime | date):
            return parse_iso(raw)
        if isinstance(raw, str):
            try:
                return parse_iso(raw)
            except ValueError:
                return None
        return None
    raise ValueError(f"unknown type {type_name!r}")


def _literal(type_name: str, raw: Any) -> Value:
    """A rule literal compared with a value of `type_name`."""
    if type_name == "string":
        if not isinstance(raw, str):
            raise ValueError(f"expected a string literal, got {raw!r}")
        return raw
    if type_name == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"expected a number literal, got {raw!r}")
        return float(raw)
    if type_name == "boolean":
        if not isinstance(raw, bool):
            raise ValueError(f"expected a boolean literal, got {raw!r}")
        return raw
    if type_name == "timestamp":
        return parse_iso(raw)
    raise ValueError(f"unknown type {type_name!r}")


def user_id_text(raw: Any) -> str | None:
    """User ids are text: an integer id becomes its decimal text (docs/language.md, 'How to read a rule')."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise TypeError(f"bad user id {raw!r}")
    return str(raw)


def md5_prefix_int(text: str) -> int:
    """The integer value of the first 8 hex digits of md5(text): 'hello' -> 1564557354."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16)


def holdout_bucket(segment_name: str, user_id: str) -> int:
    """bucket = md5_prefix_int(NAME || ':' || user_id) modulo 100 (docs/language.md, '`holdout`')."""
    return md5_prefix_int(f"{segment_name}:{user_id}") % 100


def variant_for(segment_name: str, user_id: str, holdout: int | None) -> str | None:
    if not holdout:
        return None
    return "control" if holdout_bucket(segment_name, user_id) < holdout else "treatment"


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, kw_only=True)
class _Config:
    user_id_column: str
    trait_types: dict[str, str]  # trait name -> type
    trait_columns: dict[str, str]  # trait name -> column of the users relation
    geo: tuple[str, str] | None  # (lat trait, lon trait)
    event_user_column: str
    event_name_column: str
    event_ts_column: str
    event_id_column: str | None
    json_properties_column: str | None
    flat_property_columns: dict[str, str]  # property -> column (flat mode)
    property_types: dict[str, str]
    rfm: Mapping[str, Any] | None

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> _Config:
        users = config["sources"]["users"]
        events = config["sources"]["events"]
        trait_types: dict[str, str] = {}
        trait_columns: dict[str, str] = {}
        for name, spec in (users.get("traits") or {}).items():
            if isinstance(spec, str):
                trait_types[name], trait_columns[name] = spec, name
            else:
                trait_types[name] = spec["type"]
                trait_columns[name] = spec.get("column", name)
        geo = users.get("geo")
        properties = events.get("properties") or {}
        return cls(
            user_id_column=users["id"],
            trait_types=trait_types,
            trait_columns=trait_columns,
            geo=(geo["lat"], geo["lon"]) if geo else None,
            event_user_column=events["user_id"],
            event_name_column=events["name"],
            event_ts_column=events["timestamp"],
            event_id_column=events.get("id"),
            json_properties_column=properties.get("column"),
            flat_property_columns=dict(properties.get("columns") or {}),
            property_types=dict(properties.get("types") or {}),
            rfm=config.get("rfm"),
        )

    def property_type(self, name: str) -> str:
        """Undeclared event properties are strings."""
        return self.property_types.get(name, "string")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, kw_only=True)
class Event:
    user_id: str
    name: str | None
    ts: datetime
    properties: dict[str, Value]  # only non-missing properties


def _event_properties(cfg: _Config, row: Row) -> dict[str, Value]:
    raw: dict[str, Any] = {}
    if cfg.json_properties_column is not None:
        document = row.get(cfg.json_properties_column)
        if isinstance(document, str | bytes):
            try:
                document = json.loads(document)
            except ValueError:
                document = None
        if isinstance(document, Mapping):
            raw = dict(document)
    else:
        raw = {prop: row.get(column) for prop, column in cfg.flat_property_columns.items()}
    typed: dict[str, Value] = {}
    for prop, value in raw.items():
        coerced = _coerce(cfg.property_type(prop), value)  # a JSON null is a missing value
        if coerced is not None:
            typed[prop] = coerced
    return typed


def _load_events(cfg: _Config, rows: Iterable[Row], as_of: datetime) -> dict[str, list[Event]]:
    """Events by user: ts <= T, non-null user id; copies of one event id count once, and the
    kept copy is the one with the earliest timestamp (the first of them in `rows` on a tie).
    Events keep the order of `rows` among equal timestamps."""
    chosen: list[tuple[int, str, datetime, Row]] = []  # (position in rows, user, ts, row)
    kept: dict[tuple[str, str], tuple[int, str, datetime, Row]] = {}
    for position, row in enumerate(rows):
        user_id = user_id_text(row.get(cfg.event_user_column))
        ts = _coerce("timestamp", row.get(cfg.event_ts_column))
        if user_id is None or not isinstance(ts, datetime) or ts > as_of:
            continue  # null user ids ignored; events with ts > T ignored
        event_id = row.get(cfg.event_id_column) if cfg.event_id_column is not None else None
        if event_id is None:
            chosen.append((position, user_id, ts, row))
            continue
        key = (user_id, str(event_id))
        if key not in kept or ts < kept[key][2]:
            kept[key] = (position, user_id, ts, row)
    by_user: dict[str, list[Event]] = {}
    for _, user_id, ts, row in sorted([*chosen, *kept.values()], key=lambda c: c[0]):
        by_user.setdefault(user_id, []).append(_event(cfg, user_id, ts, row))
    for events in by_user.values():
        events.sort(key=lambda event: event.ts)
    return by_user


def _event(cfg: _Config, user_id: str, ts: datetime, row: Row) -> Event:
    name = row.get(cfg.event_name_column)
    return Event(
        user_id=user_id, name=None if name is None else str(name), ts=ts, properties=_event_properties(cfg, row)
    )


def _load_traits(cfg: _Config, rows: Iterable[Row]) -> dict[str, dict[str, Value]]:
    """Declared traits by user id (missing ones absent); the first row of an id wins."""
    traits: dict[str, dict[str, Value]] = {}
    for row in rows:
        user_id = user_id_text(row.get(cfg.user_id_column))
        if user_id is None or user_id in traits:
            continue
        values: dict[str, Value] = {}
        for name, type_name in cfg.trait_types.items():
            value = _coerce(type_name, row.get(cfg.trait_columns[name]))
            if value is not None:
                values[name] = value
        traits[user_id] = values
    return traits


# ------------------------------------------------------------------------ comparisons


def _fold(value: Value, ignore_case: bool) -> Value:
    return value.lower() if ignore_case and isinstance(value, str) else value


def compare(
    type_name: str,
    value: Value | None,
    op: str,
    operand: Any,
    *,
    as_of: datetime,
    ignore_case: bool = False,
) -> bool:
    """One trait/property operator, two-valued (docs/language.md, 'Trait conditions', 'Missing values at a glance')."""
    if op == "is_set":
        return (value is not None) == bool(operand)
    if value is None:
        return op in NEGATIVE_OPERATORS
    if op == "neq":
        return not compare(type_name, value, "eq", operand, as_of=as_of, ignore_case=ignore_case)
    if op == "not_in":
        return not compare(type_name, value, "in", operand, as_of=as_of, ignore_case=ignore_case)
    if op == "not_contains":
        return not compare(type_name, value, "contains", operand, as_of=as_of, ignore_case=ignore_case)
    if op == "eq":
        return _fold(value, ignore_case) == _fold(_literal(type_name, operand), ignore_case)
    if op == "in":
        return any(_fold(value, ignore_case) == _fold(_literal(type_name, item), ignore_case) for item in operand)
    if op in ("gt", "gte", "lt", "lte", "between"):
        if op == "between":
            low, high = (_literal(type_name, bound) for bound in operand)
            return low <= value <= high  # type: ignore[operator]
        bound = _literal(type_name, operand)
        return {
            "gt": value > bound,  # type: ignore[operator]
            "gte": value >= bound,  # type: ignore[operator]
            "lt": value < bound,  # type: ignore[operator]
            "lte": value <= bound,  # type: ignore[operator]
        }[op]
    if op in ("contains", "starts_with", "ends_with", "matches"):
        if not isinstance(value, str):
            raise ValueError(f"{op} on a non-string value {value!r}")
        text = _literal("string", operand)
        assert isinstance(text, str)
        if op == "matches":
            return re.search(text, value) is not None  # partial match
        haystack, needle = _fold(value, ignore_case), _fold(text, ignore_case)
        assert isinstance(haystack, str) and isinstance(needle, str)
        if op == "contains":
            return needle in haystack
        if op == "starts_with":
            return haystack.startswith(needle)
        return haystack.endswith(needle)
    if op in ("before", "after", "more_than_ago", "less_than_ago", "in_next"):
        if not isinstance(value, datetime):
            raise ValueError(f"{op} on a non-timestamp value {value!r}")
        if op == "before":
            return value < parse_iso(operand)
        if op == "after":
            return value > parse_iso(operand)
        duration = parse_duration(operand)
        if op == "more_than_ago":
            return value <= as_of - duration
        if op == "less_than_ago":
            return as_of - duration < value <= as_of
        return as_of <= value < as_of + duration  # in_next
    raise ValueError(f"unknown operator {op!r}")


def _single_operator(spec: Mapping[str, Any], allowed: frozenset[str]) -> str:
    ops = [key for key in spec if key in allowed]
    if len(ops) != 1:
        raise ValueError(f"expected exactly one operator of {sorted(allowed)} in {dict(spec)}")
    return ops[0]


def _measure_compare(
    type_name: str,
    value: Value | None,
    spec: Mapping[str, Any],
    allowed: frozenset[str],
    as_of: datetime,
) -> bool:
    """CMP/TCMP on a measure: when it is missing every comparison is false, even neq."""
    op = _single_operator(spec, allowed)
    if value is None:
        return False
    return compare(type_name, value, op, spec[op], as_of=as_of)


# --------------------------------------------------------------------------- rfm


# Tiers, first match wins (docs/language.md, '`rfm`').
TIERS: tuple[tuple[str, Callable[[int, int], bool]], ...] = (
    ("champions", lambda r, f: r >= 4 and f >= 4),
    ("loyal", lambda r, f: r >= 3 and f >= 4),
    ("potential_loyalist", lambda r, f: r >= 4 and 2 <= f <= 3),
    ("new_customer", lambda r, f: r == 5 and f == 1),
    ("at_risk", lambda r, f: r <= 2 and f >= 3),
    ("hibernating", lambda r, f: r <= 2 and f <= 2),
    ("needs_attention", lambda r, f: True),
)


def rfm_score(rank: int, n: int) -> int:
    """LEAST(5, 1 + FLOOR(5 * (rank - 1) / (n - 1))), exact integers; n = 1 gives 5."""
    if n == 1:
        return 5
    return min(5, 1 + (5 * (rank - 1)) // (n - 1))


def rfm_tier(r: int, f: int) -> str:
    return next(name for name, holds in TIERS if holds(r, f))


def _ranks(values: Mapping[str, Any], descending: bool) -> dict[str, int]:
    """RANK(): 1 + the number of rows strictly before (ties share the lowest rank)."""
    ordered = list(values.values())
    if descending:
        return {key: 1 + sum(other > value for other in ordered) for key, value in values.items()}
    return {key: 1 + sum(other < value for other in ordered) for key, value in values.items()}


def compute_rfm(
    rfm: Mapping[str, Any],
    events_by_user: Mapping[str, Sequence[Event]],
    as_of: datetime,
) -> dict[str, dict[str, Any]]:
    """{user_id: {recency_days, frequency, monetary, r, f, m, tier}} for the n users
    with at least one `rfm.event` in `rfm.within`."""
    window = parse_duration(rfm["within"]) if rfm.get("within") else None
    stats: dict[str, dict[str, Any]] = {}
    for user_id, events in events_by_user.items():
        qualifying = [
            event
            for event in events
            if event.name == rfm["event"] and event.ts <= as_of and (window is None or as_of - window < event.ts)
        ]
        if not qualifying:
            continue
        last = max(event.ts for event in qualifying)
        amounts = [event.properties.get(rfm["monetary"]) for event in qualifying]
        stats[user_id] = {
            "recency_days": (as_of - last) // timedelta(days=1),  # whole days, floor
            "frequency": len(qualifying),
            "monetary": float(sum(a for a in amounts if isinstance(a, float))),
        }
    n = len(stats)
    r_rank = _ranks({u: s["recency_days"] for u, s in stats.items()}, descending=True)
    f_rank = _ranks({u: s["frequency"] for u, s in stats.items()}, descending=False)
    m_rank = _ranks({u: s["monetary"] for u, s in stats.items()}, descending=False)
    for user_id, row in stats.items():
        row["r"] = rfm_score(r_rank[user_id], n)
        row["f"] = rfm_score(f_rank[user_id], n)
        row["m"] = rfm_score(m_rank[user_id], n)
        row["tier"] = rfm_tier(row["r"], row["f"])
    return stats


# --------------------------------------------------------------------------- evaluation


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = math.radians(lat2 - lat1)
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(kw_only=True)
class _Evaluation:
    cfg: _Config
    as_of: datetime
    segments: dict[str, Mapping[str, Any]]
    traits: dict[str, dict[str, Value]]
    events: dict[str, list[Event]]
    universe: list[str]
    _members: dict[str, frozenset[str]] = field(default_factory=dict)
    _in_progress: set[str] = field(default_factory=set)
    _rfm: dict[str, dict[str, Any]] | None = None

    @classmethod
    def build(
        cls,
        config: Mapping[str, Any],
        segments: Sequence[Mapping[str, Any]],
        users: Iterable[Row],
        events: Iterable[Row],
        as_of: datetime,
    ) -> _Evaluation:
        cfg = _Config.parse(config)
        as_of = _to_naive_utc(as_of)
        traits = _load_traits(cfg, users)
        by_user = _load_events(cfg, events, as_of)
        # Universe: ids in the users relation plus user ids of events with ts <= T.
        universe = sorted(set(traits) | set(by_user))
        return cls(
            cfg=cfg,
            as_of=as_of,
            segments={segment["name"]: segment for segment in segments},
            traits=traits,
            events=by_user,
            universe=universe,
        )

    # ---- segments

    def members(self, name: str) -> frozenset[str]:
        if name not in self._members:
            if name in self._in_progress:
                raise ValueError(f"segment reference cycle through {name!r}")
            self._in_progress.add(name)
            rule = self.segments[name]["rule"]
            self._members[name] = frozenset(u for u in self.universe if self.holds(rule, u))
            self._in_progress.discard(name)
        return self._members[name]

    # ---- conditions

    def holds(self, cond: Mapping[str, Any], user_id: str) -> bool:
        if "all" in cond:
            return all(self.holds(child, user_id) for child in cond["all"])
        if "any" in cond:
            return any(self.holds(child, user_id) for child in cond["any"])
        if "not" in cond:
            return not self.holds(cond["not"], user_id)
        if "trait" in cond:
            return self._trait_condition(cond, user_id)
        if "event" in cond:
            return self._event_condition(cond, user_id)
        if "sequence" in cond:
            return self._sequence_condition(cond["sequence"], user_id)
        if "in_segment" in cond:
            return user_id in self.members(cond["in_segment"])
        if "near" in cond:
            return self._near_condition(cond["near"], user_id)
        if "rfm" in cond:
            return self._rfm_condition(cond["rfm"], user_id)
        raise ValueError(f"unknown condition {dict(cond)}")

    def _operator_holds(self, type_name: str, value: Value | None, spec: Mapping[str, Any]) -> bool:
        op = _single_operator(spec, TRAIT_OPERATORS)
        return compare(
            type_name,
            value,
            op,
            spec[op],
            as_of=self.as_of,
            ignore_case=bool(spec.get("ignore_case", False)),
        )

    # ---- traits

    def trait_type(self, name: str) -> str:
        if name in self.cfg.trait_types:
            return self.cfg.trait_types[name]
        return BUILTIN_TRAITS[name]

    def trait_value(self, name: str, user_id: str) -> Value | None:
        if name in self.cfg.trait_types:
            # A user known only from events has every declared trait missing.
            return self.traits.get(user_id, {}).get(name)
        events = self.events.get(user_id, [])
        if name == "event_count":
            return float(len(events))  # 0 for a user with no events
        if not events:
            return None
        if name == "first_seen_at":
            return min(event.ts for event in events)
        if name == "last_seen_at":
            return max(event.ts for event in events)
        raise ValueError(f"unknown trait {name!r}")

    def _trait_condition(self, cond: Mapping[str, Any], user_id: str) -> bool:
        name = cond["trait"]
        return self._operator_holds(self.trait_type(name), self.trait_value(name, user_id), cond)

    # ---- events

    def _matches_step(self, event: Event, name: str, where: Sequence[Mapping[str, Any]]) -> bool:
        """The event has this name and every `where` filter holds on its properties."""
        if event.name != name:
            return False
        for condition in where:
            prop = condition["property"]
            value = event.properties.get(prop)
            if not self._operator_holds(self.cfg.property_type(prop), value, condition):
                return False
        return True

    def _in_window(self, ts: datetime, cond: Mapping[str, Any]) -> bool:
        t = self.as_of
        if ts > t:
            return False
        if "within" in cond:
            return t - parse_duration(cond["within"]) < ts
        if "between_ago" in cond:
            far, near = (parse_duration(d) for d in cond["between_ago"])
            return t - far < ts <= t - near
        if "since" in cond:
            return parse_iso(cond["since"]) <= ts
        return True

    def _event_condition(self, cond: Mapping[str, Any], user_id: str) -> bool:
        where = cond.get("where") or []
        matching = [event for event in self.events.get(user_id, []) if self._matches_step(event, cond["event"], where)]
        if "every" in cond:
            return self._regularity(cond, matching)
        in_window = [event for event in matching if self._in_window(event.ts, cond)]
        measure = next((m for m in MEASURES if m in cond), None)
        if measure is None:  # default: count >= 1
            return len(in_window) >= 1
        spec = cond[measure]
        if measure == "count":
            return _measure_compare("number", float(len(in_window)), spec, CMP_OPERATORS, self.as_of)
        if measure in ("first_seen", "last_seen"):
            stamps = [event.ts for event in in_window]
            value = (min if measure == "first_seen" else max)(stamps) if stamps else None
            return _measure_compare("timestamp", value, spec, TCMP_OPERATORS, self.as_of)
        prop = spec["property"]
        type_name = self.cfg.property_type(prop)
        values = [e.properties[prop] for e in in_window if prop in e.properties]  # skip missing
        numbers = [v for v in values if isinstance(v, float)]
        aggregate: Value | None
        if measure == "count_distinct":
            aggregate, type_name = float(len(set(values))), "number"
        elif measure == "sum":
            aggregate = float(sum(numbers))  # 0 over nothing
        elif measure == "avg":
            aggregate = sum(numbers) / len(numbers) if numbers else None
        elif measure == "min":
            aggregate = min(values) if values else None
        else:
            aggregate = max(values) if values else None
        return _measure_compare(type_name, aggregate, spec, CMP_OPERATORS, self.as_of)

    def _regularity(self, cond: Mapping[str, Any], matching: Sequence[Event]) -> bool:
        """At least K of the N periods (T - i*DUR, T - (i-1)*DUR], i = 1..N, hold at
        least M matching events."""
        every = parse_duration(cond["every"])
        min_count = int(cond.get("min_count", 1))
        t = self.as_of
        full_periods = 0
        for i in range(1, int(cond["periods"]) + 1):
            start, end = t - i * every, t - (i - 1) * every
            if sum(start < event.ts <= end for event in matching) >= min_count:
                full_periods += 1
        return full_periods >= int(cond["at_least"])

    # ---- sequences

    def _sequence_condition(self, seq: Mapping[str, Any], user_id: str) -> bool:
        """Some chain e1, e2, ... with e_i matching step i, e_i.ts strictly after
        e_(i-1).ts and at most that step's `within` after it, every ts <= T; the
        sequence's `within` places e1 in (T - W, T]. An absent last step k holds for
        e_(k-1) when no event matching step k lies in (e_(k-1).ts, e_(k-1).ts + w_k]
        and e_(k-1).ts + w_k <= T."""
        t = self.as_of
        events = self.events.get(user_id, [])
        steps = list(seq["steps"])

        def matching(step: Mapping[str, Any]) -> list[Event]:
            where = step.get("where") or []
            return [e for e in events if e.ts <= t and self._matches_step(e, step["event"], where)]

        # Step 1: the candidates for e1.
        reachable = matching(steps[0])
        if "within" in seq:
            window = parse_duration(seq["within"])
            reachable = [e for e in reachable if t - window < e.ts <= t]
        last = steps[-1]
        actions = steps[1:-1] if last.get("absent") else steps[1:]
        # Every later action step: an event strictly after, and within that step's
        # `within` (inclusive) of, some reachable event of the previous step.
        for step in actions:
            gap = parse_duration(step["within"]) if "within" in step else None
            reachable = [
                candidate
                for candidate in matching(step)
                if any(
                    previous.ts < candidate.ts and (gap is None or candidate.ts <= previous.ts + gap)
                    for previous in reachable
                )
            ]
        if not last.get("absent"):
            return bool(reachable)
        wait = parse_duration(last["within"])
        forbidden = matching(last)
        return any(
            previous.ts + wait <= t and not any(previous.ts < e.ts <= previous.ts + wait for e in forbidden)
            for previous in reachable
        )

    # ---- geo

    def _near_condition(self, near: Mapping[str, Any], user_id: str) -> bool:
        if self.cfg.geo is None:
            raise ValueError("`near` needs sources.users.geo")
        lat = self.trait_value(self.cfg.geo[0], user_id)
        lon = self.trait_value(self.cfg.geo[1], user_id)
        if not isinstance(lat, float) or not isinstance(lon, float):
            return False  # any missing coordinate
        distance = _haversine_km(float(near["lat"]), float(near["lon"]), lat, lon)
        return distance <= float(near["radius_km"])

    # ---- rfm

    def rfm_table(self) -> dict[str, dict[str, Any]]:
        if self._rfm is None:
            if self.cfg.rfm is None:
                raise ValueError("`rfm` conditions need the rfm config")
            self._rfm = compute_rfm(self.cfg.rfm, self.events, self.as_of)
        return self._rfm

    def _rfm_condition(self, spec: Mapping[str, Any], user_id: str) -> bool:
        row = self.rfm_table().get(user_id)
        if row is None:
            return False  # no tier, no scores: every comparison false
        if "tier" in spec and row["tier"] != spec["tier"]:
            return False
        for key in RFM_KEYS:
            if key in spec:
                value = float(row[key])
                if not _measure_compare("number", value, spec[key], CMP_OPERATORS, self.as_of):
                    return False
        return True


# --------------------------------------------------------------------------- API


def evaluate(
    config: dict[str, Any],
    segments: list[dict[str, Any]],
    users: list[dict[str, Any]],
    events: list[dict[str, Any]],
    as_of: datetime,
) -> dict[str, dict[str, str | None]]:
    """{segment name: {user_id(str): variant}} for every segment; members only.

    variant is 'control'/'treatment' for a segment with a holdout, None otherwise.
    """
    run = _Evaluation.build(config, segments, users, events, as_of)
    result: dict[str, dict[str, str | None]] = {}
    for segment in segments:
        name = segment["name"]
        holdout = segment.get("holdout")
        result[name] = {user_id: variant_for(name, user_id, holdout) for user_id in sorted(run.members(name))}
    return result


def evaluate_groups(
    config: dict[str, Any],
    segments: list[dict[str, Any]],
    groups: list[dict[str, Any]],
    users: list[dict[str, Any]],
    events: list[dict[str, Any]],
    as_of: datetime,
) -> dict[str, dict[str, str]]:
    """{group name: {user_id: label}}: the first segment of `priority` the user is a
    member of (either variant), else the `fallback` label if given, else no row."""
    run = _Evaluation.build(config, segments, users, events, as_of)
    result: dict[str, dict[str, str]] = {}
    for group in groups:
        labels: dict[str, str] = {}
        for user_id in run.universe:
            label = next((s for s in group["priority"] if user_id in run.members(s)), None)
            if label is None:
                label = group.get("fallback")
            if label is not None:
                labels[user_id] = label
        result[group["name"]] = labels
    return result
