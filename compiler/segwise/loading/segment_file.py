"""One segment file -> its segment and group definitions (docs/language.md), checked on their own.

What needs every file of the run (unique names, `in_segment` targets, cycles, group
priorities) is left to references.py; each entry carries what that check needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from segwise.config import Config
from segwise.loading.reader import Reporter, as_int, as_list, as_map, as_str, check_keys, require
from segwise.loading.rule_parser import Reference, RuleContext, parse_condition
from segwise.loading.yaml_source import YMap, YNode, YScalar
from segwise.rules.nodes import Group, Segment
from segwise.rules.values import Location

FILE_KEYS = ("segments", "groups")
SEGMENT_KEYS = ("name", "description", "tags", "holdout", "rule")
GROUP_KEYS = ("name", "priority", "fallback")
SEGMENT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_HOLDOUT = 50

T = TypeVar("T")


@dataclass
class SegmentEntry:
    """A segment as written: `segment` is None when its definition has errors."""

    name: str | None
    loc: Location
    segment: Segment | None
    references: list[Reference] = field(default_factory=list)


@dataclass
class GroupEntry:
    name: str | None
    loc: Location
    group: Group | None
    priority: list[Reference] = field(default_factory=list)


def parse_segment_file(r: Reporter, root: YNode | None, config: Config) -> tuple[list[SegmentEntry], list[GroupEntry]]:
    if root is None:  # an empty file defines nothing
        return [], []
    m = as_map(r, root, "a segment file")
    if m is None:
        return [], []
    check_keys(r, m, FILE_KEYS, "a segment file")
    return _each(r, m, "segments", lambda node: _segment(r, config, node)), _each(
        r, m, "groups", lambda node: _group(r, node)
    )


def _each(r: Reporter, m: YMap, key: str, parse: Callable[[YNode], T | None]) -> list[T]:
    node = m.get(key)
    if node is None or (isinstance(node, YScalar) and node.value is None):  # `segments:` left empty
        return []
    items = as_list(r, node, key)
    return [entry for item in items or () if (entry := parse(item)) is not None]


def _name(r: Reporter, m: YMap, what: str) -> str | None:
    node = require(r, m, "name", f"a {what}")
    name = as_str(r, node, f"{what} name") if node is not None else None
    if node is not None and name is not None and not SEGMENT_NAME_RE.match(name):
        r.error(
            node,
            f"invalid {what} name: {name!r}",
            "use lowercase letters, digits and _, starting with a letter, at most 63 characters",
        )
        return None
    return name


def _segment(r: Reporter, config: Config, node: YNode) -> SegmentEntry | None:
    m = as_map(r, node, "a segment")
    if m is None:
        return None
    check_keys(r, m, SEGMENT_KEYS, "a segment")
    loc = r.location(m)
    name = _name(r, m, "segment")
    description_node, tags_node, holdout_node = m.get("description"), m.get("tags"), m.get("holdout")
    description = as_str(r, description_node, "description", non_empty=False) if description_node is not None else ""
    tags = _tags(r, tags_node) if tags_node is not None else ()
    holdout = as_int(r, holdout_node, "holdout", 0, MAX_HOLDOUT) if holdout_node is not None else 0
    rule_node = require(r, m, "rule", "a segment")
    ctx = RuleContext(r, config)
    rule = parse_condition(ctx, rule_node) if rule_node is not None else None
    segment = None
    if name is not None and rule is not None and description is not None and tags is not None and holdout is not None:
        segment = Segment(name, rule, holdout, description, tags, loc=loc)
    return SegmentEntry(name, loc, segment, ctx.references)


def _tags(r: Reporter, node: YNode) -> tuple[str, ...] | None:
    items = as_list(r, node, "tags")
    if items is None:
        return None
    tags = [as_str(r, item, "a tag") for item in items]
    if any(tag is None for tag in tags):
        return None
    return tuple(dict.fromkeys(tag for tag in tags if tag is not None))


def _group(r: Reporter, node: YNode) -> GroupEntry | None:
    m = as_map(r, node, "a group")
    if m is None:
        return None
    check_keys(r, m, GROUP_KEYS, "a group")
    loc = r.location(m)
    name = _name(r, m, "group")
    priority_node = require(r, m, "priority", "a group")
    priority = _priority(r, priority_node) if priority_node is not None else None
    fallback_node = m.get("fallback")
    fallback = as_str(r, fallback_node, "fallback") if fallback_node is not None else None
    group = None
    if name is not None and priority is not None and (fallback_node is None or fallback is not None):
        group = Group(name, tuple(ref.target for ref in priority), fallback, loc=loc)
    return GroupEntry(name, loc, group, priority or [])


def _priority(r: Reporter, node: YNode) -> list[Reference] | None:
    items = as_list(r, node, "priority", non_empty=True)
    if items is None:
        return None
    refs: list[Reference] = []
    seen: set[str] = set()
    ok = True
    for item in items:
        name = as_str(r, item, "a priority entry")
        if name is None:
            ok = False
        elif name in seen:
            r.error(item, f"segment {name!r} is listed twice in priority")
            ok = False
        else:
            seen.add(name)
            refs.append(Reference(name, r.location(item)))
    return refs if ok else None
