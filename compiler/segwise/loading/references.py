"""Checks that need every segment file of a run: unique names, `in_segment` targets, cycles,
and the segments a group's priority names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from segwise.errors import Diagnostic, did_you_mean
from segwise.loading.rule_parser import Reference
from segwise.loading.segment_file import GroupEntry, SegmentEntry
from segwise.rules.nodes import Group, Segment
from segwise.rules.values import Location

E = TypeVar("E", SegmentEntry, GroupEntry)


def _error(at: Location, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(at.file, at.line, at.col, message, hint)


def _where(loc: Location) -> str:
    return f"{loc.file}:{loc.line}"


def check_definitions(
    segment_entries: list[SegmentEntry], group_entries: list[GroupEntry], *, all_files_read: bool = True
) -> tuple[list[Diagnostic], dict[str, Segment], dict[str, Group]]:
    """The valid segments and groups by name, and every cross-file problem.

    When a file could not be read, a name it defines would look unknown: those checks wait
    for the next run rather than add errors the user cannot act on.
    """
    diagnostics: list[Diagnostic] = []
    segments_by_name = _first_by_name(segment_entries, "segment", diagnostics)
    groups_by_name = _first_by_name(group_entries, "group", diagnostics)
    if all_files_read:
        for entry in segments_by_name.values():
            diagnostics.extend(_unknown(entry.references, segments_by_name))
        for group in groups_by_name.values():
            diagnostics.extend(_unknown(group.priority, segments_by_name))
    diagnostics.extend(_cycles(segments_by_name))
    segments = {name: e.segment for name, e in segments_by_name.items() if e.segment is not None}
    groups = {name: e.group for name, e in groups_by_name.items() if e.group is not None}
    return diagnostics, segments, groups


def _first_by_name(entries: list[E], kind: str, diagnostics: list[Diagnostic]) -> dict[str, E]:
    first: dict[str, E] = {}
    for entry in entries:
        if entry.name is None:
            continue
        if entry.name in first:
            message = f"duplicate {kind} name {entry.name!r} (first defined at {_where(first[entry.name].loc)})"
            diagnostics.append(_error(entry.loc, message))
        else:
            first[entry.name] = entry
    return first


def _unknown(references: Iterable[Reference], names: dict[str, SegmentEntry]) -> Iterable[Diagnostic]:
    for ref in references:
        if ref.target not in names:
            yield _error(ref.at, f"unknown segment {ref.target!r}", did_you_mean(ref.target, names))


def _cycles(entries: dict[str, SegmentEntry]) -> Iterable[Diagnostic]:
    graph = {name: [ref.target for ref in entry.references if ref.target in entries] for name, entry in entries.items()}
    for cycle in find_cycles(graph):
        first, following = cycle[0], cycle[1 % len(cycle)]
        at = next(ref.at for ref in entries[first].references if ref.target == following)
        path = " -> ".join([*cycle, first])
        if len(cycle) == 1:
            yield _error(at, f"segment {first!r} refers to itself: {path}")
        else:
            yield _error(at, f"segments refer to each other in a cycle: {path}")


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One cycle per back edge of a depth-first search, each rotated to start at its smallest
    name so that the same cycle is reported once, the same way every run. Iterative: a chain of
    thousands of segments must not hit the recursion limit."""
    grey, black = 1, 2
    state: dict[str, int] = {}
    found: dict[tuple[str, ...], list[str]] = {}
    for start in graph:
        if state.get(start):
            continue
        state[start] = grey
        path = [start]
        stack = [iter(graph[start])]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = black
                stack.pop()
            elif state.get(target) == grey:
                cycle = path[path.index(target) :]
                smallest = cycle.index(min(cycle))
                rotated = cycle[smallest:] + cycle[:smallest]
                found.setdefault(tuple(rotated), rotated)
            elif not state.get(target):
                state[target] = grey
                path.append(target)
                stack.append(iter(graph[target]))
    return list(found.values())
