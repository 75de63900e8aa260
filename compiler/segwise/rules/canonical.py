"""The canonical form of a definition and its `definition_hash`.

The form ignores everything that cannot change membership (key order, comments, formatting,
the order of `all`/`any` items and `in` values, `48h` vs `2d`, 3 vs 3.0, description, tags)
and includes everything that can: the rule, the holdout, the name (it seeds the holdout
bucket), the configuration the rule reads (relations, columns, types), and the hashes of the
segments it references, so editing a referenced segment changes the referrer's hash too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from typing import Any

from segwise.config import Config, Project
from segwise.rules.nodes import (
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    InSegment,
    Near,
    Not,
    RfmCondition,
    Segment,
    SequenceCondition,
    TraitCondition,
)
from segwise.rules.values import Duration, format_iso


def _value(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)
    if isinstance(v, datetime):
        return format_iso(v)
    if isinstance(v, Duration):
        return {"seconds": v.seconds}
    if isinstance(v, (tuple, list)):
        return [_value(x) for x in v]
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return _node(v)
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    raise TypeError(f"no canonical form for {type(v).__name__}")


def _key(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _node(node: Any) -> dict[str, Any]:
    if isinstance(node, (AllOf, AnyOf)):
        kind = type(node)
        items: list[Condition] = []
        for item in node.items:  # all: [a, all: [b, c]] is all: [a, b, c]
            items.extend(item.items if isinstance(item, (AllOf, AnyOf)) and type(item) is kind else [item])
        if len(items) == 1:
            return _node(items[0])
        forms = sorted((_node(i) for i in items), key=_key)
        unique = [f for n, f in enumerate(forms) if n == 0 or _key(f) != _key(forms[n - 1])]
        return {"kind": kind.__name__, "items": unique}
    if isinstance(node, Not) and isinstance(node.item, Not):
        return _node(node.item.item)
    out: dict[str, Any] = {"kind": type(node).__name__}
    for f in dataclasses.fields(node):
        if f.name == "loc":
            continue
        value = _value(getattr(node, f.name))
        if f.name == "where" or (f.name == "values" and isinstance(value, list)):
            value = sorted(value, key=_key)
        out[f.name] = value
    return out


def canonical_rule(rule: Condition) -> dict[str, Any]:
    return _node(rule)


def _walk(cond: Condition) -> Iterator[Condition]:
    yield cond
    if isinstance(cond, (AllOf, AnyOf)):
        for item in cond.items:
            yield from _walk(item)
    elif isinstance(cond, Not):
        yield from _walk(cond.item)


def _config_used(config: Config, rule: Condition) -> dict[str, Any]:
    """The parts of segwise.yml this rule's membership depends on."""
    users, events = config.users, config.events
    used: dict[str, Any] = {
        "users": {"relation": _value(users.relation), "id": users.id},
        "events": {
            "relation": _value(events.relation),
            "columns": [events.user_id, events.name, events.timestamp, events.id],
        },
    }
    traits: set[str] = set()
    properties: set[str] = set()
    for cond in _walk(rule):
        if isinstance(cond, TraitCondition):
            traits.add(cond.trait)
        elif isinstance(cond, EventCondition):
            properties.update(pf.property for pf in cond.filter.where)
            prop = getattr(cond.measure, "property", None)
            if prop:
                properties.add(prop)
        elif isinstance(cond, SequenceCondition):
            for step in cond.steps:
                properties.update(pf.property for pf in step.filter.where)
        elif isinstance(cond, Near) and users.geo:
            traits.update((users.geo.lat, users.geo.lon))
            used["geo"] = _value(users.geo)
        elif isinstance(cond, RfmCondition) and config.rfm:
            used["rfm"] = _value(config.rfm)
            properties.add(config.rfm.monetary)
    used["traits"] = {t: _value(users.traits[t]) for t in sorted(traits) if t in users.traits}
    props = events.properties
    if props is not None and properties:
        layout = _value(props)
        layout["types"] = {p: events.property_type(p) for p in sorted(properties)}
        if "columns" in layout:
            layout["columns"] = {p: c for p, c in layout["columns"].items() if p in properties}
        used["properties"] = layout
    return used


def canonical_definition(segment: Segment, project: Project) -> dict[str, Any]:
    refs = sorted({c.segment for c in _walk(segment.rule) if isinstance(c, InSegment)})
    return {
        "name": segment.name,
        "holdout": segment.holdout,
        "rule": canonical_rule(segment.rule),
        "config": _config_used(project.config, segment.rule),
        "references": {r: definition_hash(project.segments[r], project) for r in refs},
    }


def definition_hash(segment: Segment, project: Project) -> str:
    text = _key(canonical_definition(segment, project))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
