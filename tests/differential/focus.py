"""Make random data hit the random rules' own boundaries, and check every sub-condition.

Random timestamps rarely land exactly on `T - 48h` for the one rule that says `within: 48h`,
so off-by-one bugs would go unseen. Here events are re-aimed at the instants and event names
the drawn rules mention (each instant -1 s / exactly / +1 s), and every sub-condition of every
rule becomes a segment of its own, so a wrong leaf shows even when the whole rule hides it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.reference.strategies import duration_seconds

CONDITION_KEYS = ("all", "any", "not", "trait", "event", "sequence", "in_segment", "near", "rfm")
DURATION = re.compile(r"^\d+[smhdw]$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$")


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _events(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["event"]] if isinstance(node.get("event"), str) else []
        return found + [e for v in node.values() for e in _events(v)]
    if isinstance(node, list):
        return [e for v in node for e in _events(v)]
    return []


def hot_instants(rules: list[Any], as_of: datetime, config: dict[str, Any]) -> list[datetime]:
    """T, T -/+ every duration (and its multiples, for periods), every ISO literal; each +/-1 s."""
    anchors = {as_of}
    texts = [s for r in rules for s in _strings(r)]
    rfm = config.get("rfm") or {}
    if rfm.get("within"):
        texts.append(rfm["within"])
    for text in texts:
        if DURATION.match(text):
            d = timedelta(seconds=duration_seconds(text))
            anchors.update(as_of - k * d for k in range(1, 7))
            anchors.add(as_of + d)
        elif ISO.match(text):
            anchors.add(datetime.fromisoformat(text))
    return sorted({a + timedelta(seconds=s) for a in anchors for s in (-1, 0, 1)})


def sub_segments(segments: list[dict[str, Any]], limit: int = 16) -> list[dict[str, Any]]:
    """Every proper sub-condition of every rule, as a segment of its own (no holdout)."""
    extra: list[dict[str, Any]] = []

    def walk(cond: Any, owner: str) -> None:
        if not isinstance(cond, dict):
            return
        children: list[Any] = []
        if "all" in cond or "any" in cond:
            children = list(cond.get("all") or cond.get("any") or [])
        elif "not" in cond:
            children = [cond["not"]]
        for child in children:
            if isinstance(child, dict) and any(k in child for k in CONDITION_KEYS) and len(extra) < limit:
                extra.append({"name": f"{owner}_sub{len(extra)}", "rule": child})
            walk(child, owner)

    for seg in segments:
        walk(seg["rule"], seg["name"])
    return extra


@st.composite
def aimed(
    draw: st.DrawFn,
    data: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    rules: list[Any],
    as_of: datetime,
    config: dict[str, Any],
    later: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Re-aim about half the events at the rules' names and instants, keeping copies exact.

    With `later`, aim at the edges as they stand at `as_of` and at `later` (but not at
    `later` itself): the events between cross an edge when T moves from one to the other."""
    users, events = data
    ev = config["sources"]["events"]
    instants = hot_instants(rules, as_of, config)
    if later is not None:
        instants = sorted(
            set(instants) | {i for i in hot_instants(rules, later, config) if abs(i - later).total_seconds() > 1}
        )
    names = sorted({e for r in rules for e in _events(r)}) or ["product_viewed"]
    out: list[dict[str, Any]] = []
    first: dict[tuple[Any, Any], dict[str, Any]] = {}
    for event in events:
        row = dict(event)
        if draw(st.booleans()):
            row[ev["name"]] = draw(st.sampled_from(names))
        if draw(st.booleans()):
            row[ev["timestamp"]] = draw(st.sampled_from(instants))
            row[ev["loaded_at"]] = row[ev["timestamp"]]
        key = (row[ev["user_id"]], row.get(ev["id"]))
        if row.get(ev["id"]) is not None and key in first:  # a duplicate delivery stays a copy
            row = {**first[key], ev["loaded_at"]: row[ev["loaded_at"]]}
        elif row.get(ev["id"]) is not None:
            first[key] = row
        out.append(row)
    out += draw(chains(out, rules, instants, config))
    return users, out


def _sequences(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["sequence"]] if isinstance(node.get("sequence"), dict) else []
        return found + [q for v in node.values() for q in _sequences(v)]
    if isinstance(node, list):
        return [q for v in node for q in _sequences(v)]
    return []


@st.composite
def chains(
    draw: st.DrawFn, events: list[dict[str, Any]], rules: list[Any], instants: list[datetime], config: dict[str, Any]
) -> list[dict[str, Any]]:
    """Walk each drawn sequence's steps with gaps of 0, 1 s and each step's `within` -1 s /
    exactly / +1 s, so strictness and inclusive step windows are exercised."""
    ev = config["sources"]["events"]
    users = [e[ev["user_id"]] for e in events if e[ev["user_id"]] is not None]
    if not users or not events:
        return []
    added: list[dict[str, Any]] = []
    for seq in _sequences(rules)[:3]:
        if not draw(st.integers(0, 3)):
            continue
        user = draw(st.sampled_from(users))
        ts = draw(st.sampled_from(instants))
        for i, step in enumerate(seq["steps"]):
            if i:
                w = duration_seconds(step["within"]) if step.get("within") else 60
                ts = ts + timedelta(seconds=draw(st.sampled_from([0, 1, w - 1, w, w + 1])))
            if step.get("absent") and draw(st.booleans()):
                break  # the inaction happened
            template = draw(st.sampled_from(events))  # some other event's properties
            row = {
                **template,
                ev["user_id"]: user,
                ev["name"]: step["event"],
                ev["timestamp"]: ts,
                ev["loaded_at"]: ts,
                ev["id"]: f"chain-{len(events) + len(added)}",
            }
            added.append(row)
    return added
