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
from collections.abc import Iterable, Mapping
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
    PredictCondition,
    RfmCondition,
    Segment,
    SequenceCondition,
    TraitCondition,
)
from segwise.rules.order import dependency_order
from segwise.rules.values import Duration, format_iso
from segwise.rules.walk import Collector, Fold, references


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
        return _fields(v)
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    raise TypeError(f"no canonical form for {type(v).__name__}")


def _key(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _fields(node: Any) -> dict[str, Any]:
    """A leaf's form: its kind and every field but its location."""
    out: dict[str, Any] = {"kind": type(node).__name__}
    for f in dataclasses.fields(node):
        if f.name == "loc":
            continue
        value = _value(getattr(node, f.name))
        if f.name == "where" or (f.name == "values" and isinstance(value, list)):
            value = sorted(value, key=_key)
        out[f.name] = value
    return out


class _Canonical(Fold[dict[str, Any]]):
    """all: [a, all: [b, c]] is all: [a, b, c]; all: [a] is a; items sorted and unique;
    not: {not: a} is a."""

    def _group(self, kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        flat: list[dict[str, Any]] = []
        for item in items:
            flat.extend(item["items"] if item["kind"] == kind else [item])
        if len(flat) == 1:
            return flat[0]
        forms = sorted(flat, key=_key)
        unique = [f for n, f in enumerate(forms) if n == 0 or _key(f) != _key(forms[n - 1])]
        return {"kind": kind, "items": unique}

    def all_of(self, node: AllOf, items: list[dict[str, Any]]) -> dict[str, Any]:
        return self._group("AllOf", items)

    def any_of(self, node: AnyOf, items: list[dict[str, Any]]) -> dict[str, Any]:
        return self._group("AnyOf", items)

    def not_(self, node: Not, item: dict[str, Any]) -> dict[str, Any]:
        return item["item"] if item["kind"] == "Not" else {"kind": "Not", "item": item}

    def trait(self, node: TraitCondition) -> dict[str, Any]:
        return _fields(node)

    def event(self, node: EventCondition) -> dict[str, Any]:
        return _fields(node)

    def sequence(self, node: SequenceCondition) -> dict[str, Any]:
        return _fields(node)

    def in_segment(self, node: InSegment) -> dict[str, Any]:
        return _fields(node)

    def near(self, node: Near) -> dict[str, Any]:
        return _fields(node)

    def rfm(self, node: RfmCondition) -> dict[str, Any]:
        return _fields(node)

    def predict(self, node: PredictCondition) -> dict[str, Any]:
        return _fields(node)


def canonical_rule(rule: Condition) -> dict[str, Any]:
    return _Canonical().fold(rule)


class _ConfigReads(Collector):
    """The traits and event properties a rule reads, and whether it uses geo and RFM."""

    def __init__(self) -> None:
        self.traits: set[str] = set()
        self.properties: set[str] = set()
        self.uses_geo = False
        self.uses_rfm = False
        self.uses_predict = False

    def trait(self, node: TraitCondition) -> None:
        self.traits.add(node.trait)

    def event(self, node: EventCondition) -> None:
        self.properties.update(pf.property for pf in node.filter.where)
        prop = getattr(node.measure, "property", None)
        if prop:
            self.properties.add(prop)

    def sequence(self, node: SequenceCondition) -> None:
        for step in node.steps:
            self.properties.update(pf.property for pf in step.filter.where)

    def in_segment(self, node: InSegment) -> None:
        return None  # the referenced segment's hash covers what it reads

    def near(self, node: Near) -> None:
        self.uses_geo = True

    def rfm(self, node: RfmCondition) -> None:
        self.uses_rfm = True

    def predict(self, node: PredictCondition) -> None:
        self.uses_predict = True


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
    reads = _ConfigReads()
    reads.collect(rule)
    traits, properties = set(reads.traits), set(reads.properties)
    if reads.uses_geo and users.geo:
        traits.update((users.geo.lat, users.geo.lon))
        used["geo"] = _value(users.geo)
    if reads.uses_predict and config.predict:  # not the fit: a refit changes data, not definitions
        used["predict"] = _value(config.predict)
    if reads.uses_rfm and config.rfm:
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


def canonical_definition(segment: Segment, project: Project, hashes: Mapping[str, str]) -> dict[str, Any]:
    """`hashes` holds (at least) the hash of every segment this one references."""
    refs = sorted({ref.segment for ref in references(segment.rule)})
    return {
        "name": segment.name,
        "holdout": segment.holdout,
        "rule": canonical_rule(segment.rule),
        "config": _config_used(project.config, segment.rule),
        "references": {r: hashes[r] for r in refs},
    }


def _digest(form: dict[str, Any]) -> str:
    return hashlib.sha256(_key(form).encode()).hexdigest()[:32]


def definition_hashes(project: Project, names: Iterable[str] | None = None) -> dict[str, str]:
    """The hash of each named segment (default: all) and of every segment it references,
    each computed once, references first."""
    hashes: dict[str, str] = {}
    wanted = sorted(project.segments) if names is None else names
    for segment in dependency_order(project.segments, wanted):
        hashes[segment.name] = _digest(canonical_definition(segment, project, hashes))
    return hashes


def definition_hash(segment: Segment, project: Project) -> str:
    return definition_hashes(project, [segment.name])[segment.name]
