"""Segments in dependency order: every segment after the segments it references."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from segwise.errors import CompileError
from segwise.rules.nodes import Segment
from segwise.rules.walk import references


def referenced(segment: Segment) -> list[str]:
    """The names a segment's rule references, each once, in written order."""
    return list(dict.fromkeys(ref.segment for ref in references(segment.rule)))


def dependency_order(segments: Mapping[str, Segment], names: Iterable[str]) -> list[Segment]:
    """The named segments and every segment they reference, dependencies first; each segment
    once. Iterative: a chain of thousands of references must not hit the recursion limit,
    and each segment's references are read once, so any reference shape costs linear time."""
    ordered: dict[str, Segment] = {}
    on_path: set[str] = set()
    for start in names:
        if start in ordered:
            continue
        path: list[str] = [start]
        pending: list[Iterator[str]] = [iter(referenced(_get(segments, start, None)))]
        on_path.add(start)
        while pending:
            name = next(pending[-1], None)
            if name is None:
                done = path.pop()
                pending.pop()
                on_path.discard(done)
                ordered[done] = segments[done]
            elif name in on_path:
                cycle = path[path.index(name) :]
                raise CompileError(f"in_segment cycle: {' -> '.join((*cycle, name))}")
            elif name not in ordered:
                segment = _get(segments, name, path[-1])
                path.append(name)
                on_path.add(name)
                pending.append(iter(referenced(segment)))
    return list(ordered.values())


def _get(segments: Mapping[str, Segment], name: str, referrer: str | None) -> Segment:
    segment = segments.get(name)
    if segment is None:
        via = f" (referenced by {referrer!r})" if referrer else ""
        raise CompileError(f"unknown segment {name!r}{via}")
    return segment
