"""Random run histories for the dbt layer: a project, then runs at rising T with data and
definitions changing between them, the way the incremental invariant (docs/semantics.md, 'Runs and
tables (the dbt layer)') describes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.differential.focus import aimed
from tests.reference.strategies import (
    AS_OF_CHOICES,
    TEST_CONFIG_FLAT,
    TEST_CONFIG_JSON,
    datasets,
    groups_for,
    rules,
    segment_sets,
)

Rows = list[dict[str, Any]]
ADVANCES = [timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=3), timedelta(days=15)]
LOOKBACK = timedelta(days=3)


@dataclass
class Run:
    """One `dbt run`: the inputs as they stand, and how it is invoked."""

    as_of: datetime
    kind: str  # run | same_t | backwards | full_refresh | reset
    segments: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    users: Rows
    events: Rows
    note: str = ""


@dataclass
class Scenario:
    config: dict[str, Any]
    runs: list[Run] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = [f"config loaded_at={'loaded_at' in self.config['sources']['events']} "
                 f"updated_at={'updated_at' in self.config['sources']['users']}"]  # fmt: skip
        for run in self.runs:
            names = [s["name"] for s in run.segments]
            lines.append(f"  {run.kind} T={run.as_of} segments={names} {run.note} "
                         f"users={len(run.users)} events={len(run.events)}")  # fmt: skip
        return "\n".join(lines)


def _names(segments: list[dict[str, Any]]) -> set[str]:
    return {s["name"] for s in segments}


def _referenced(segments: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("in_segment"), str):
                found.add(node["in_segment"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for s in segments:
        walk(s["rule"])
    return found


REDELIVERY_SHIFTS = [timedelta(0), timedelta(0), -timedelta(seconds=1), -timedelta(hours=2), timedelta(hours=1)]


@st.composite
def scenarios(draw: st.DrawFn, min_runs: int = 5) -> Scenario:
    base = draw(st.sampled_from([TEST_CONFIG_JSON, TEST_CONFIG_FLAT]))
    config = copy.deepcopy(base)
    has_loaded_at = draw(st.sampled_from([True, True, True, False]))
    if not has_loaded_at:
        del config["sources"]["events"]["loaded_at"]
    if draw(st.sampled_from([True, True, True, False])):
        config["sources"]["users"]["updated_at"] = "updated_at"

    t = draw(st.sampled_from(AS_OF_CHOICES))
    segments = draw(segment_sets(base, as_of=t))
    groups = draw(groups_for(sorted(_names(segments))))
    rule_list = [s["rule"] for s in segments]
    users, events = draw(aimed(draw(datasets(base, t)), rule_list, t, base))
    start = datetime(2023, 12, 1)
    for user in users:
        user["updated_at"] = start
    load_time = max([t, *(e["loaded_at"] for e in events if e.get("loaded_at"))])
    scenario = Scenario(config)
    scenario.runs.append(
        Run(t, "run", copy.deepcopy(segments), copy.deepcopy(groups), copy.deepcopy(users), list(events))
    )
    serial = 0
    for _ in range(draw(st.integers(min_runs - 1, min_runs + 1))):
        kind = draw(st.sampled_from(["run"] * 6 + ["same_t", "backwards", "full_refresh", "reset"]))
        if kind == "backwards":
            scenario.runs.append(Run(t - draw(st.sampled_from(ADVANCES)), kind, segments, groups, users, events))
            continue
        if kind == "same_t":
            scenario.runs.append(Run(t, kind, segments, groups, users, events))
            continue
        prev_t = t
        t = t + draw(st.sampled_from(ADVANCES))
        note = ""
        # Definitions: sometimes one is added, edited or removed.
        change = draw(st.sampled_from(["none"] * 4 + ["add", "edit", "holdout", "remove"]))
        segments = copy.deepcopy(segments)
        names = _names(segments)
        if change == "add":
            name = f"added_{serial}"
            segments.append({"name": name, "rule": draw(rules(base, 2, sorted(names), t))})
            note = f"added {name}"
        elif change == "edit" and segments:
            victim = draw(st.sampled_from(segments))
            victim["rule"] = draw(rules(base, 2, (), t))
            note = f"edited {victim['name']}"
        elif change == "holdout" and segments:
            victim = draw(st.sampled_from(segments))
            victim["holdout"] = draw(st.sampled_from([0, 10, 25, 50]))
            note = f"holdout {victim['name']}={victim['holdout']}"
        elif change == "remove":
            removable = sorted(names - _referenced(segments))
            if len(segments) > 1 and removable:
                gone = draw(st.sampled_from(removable))
                segments = [s for s in segments if s["name"] != gone]
                note = f"removed {gone}"
        groups = [
            {**g, "priority": [p for p in g["priority"] if p in _names(segments)]}
            for g in groups
            if any(p in _names(segments) for p in g["priority"])
        ]
        # Groups: sometimes one is reordered, gets or loses its fallback, or a group is added.
        regroup = draw(st.sampled_from(["none"] * 6 + ["reorder", "fallback", "new"]))
        if regroup == "reorder" and groups:
            victim = draw(st.sampled_from(groups))
            victim["priority"] = draw(st.permutations(victim["priority"]))
            note += f"; reordered {victim['name']}"
        elif regroup == "fallback" and groups:
            victim = draw(st.sampled_from(groups))
            if victim.pop("fallback", None) is None:
                victim["fallback"] = "other"
            note += f"; fallback of {victim['name']}"
        elif regroup == "new" and segments:
            serial += 1
            groups = [*groups, {"name": f"group_new_{serial}", "priority": [segments[-1]["name"]]}]
            note += f"; added group_new_{serial}"
        # Data: new and late events, redeliveries, changed and new users, all loaded after
        # the previous run (each run saw everything loaded before it).
        load_time = max(load_time, prev_t) + timedelta(seconds=draw(st.integers(1, 600)))
        rule_list = [s["rule"] for s in segments]
        fresh_users, fresh = draw(aimed(draw(datasets(base, t)), rule_list, prev_t, base, later=t))
        new_events: Rows = []
        for event in fresh[: draw(st.integers(0, 10))]:
            if not has_loaded_at and event["occurred_at"] <= prev_t - LOOKBACK:
                continue  # without loaded_at, lateness is bounded by the lookback (docs/semantics.md)
            serial += 1
            copy_of = dict(event, loaded_at=load_time)
            if copy_of.get("event_id") is not None:
                copy_of["event_id"] = f"r{serial}"
            new_events.append(copy_of)
        # A re-delivered copy at the same time, or earlier (it replaces the kept copy), or later.
        redelivered = []
        for e in [e for e in events if e.get("event_id") is not None][: draw(st.integers(0, 2))]:
            copy_of = dict(e, loaded_at=load_time)
            copy_of["occurred_at"] = e["occurred_at"] + draw(st.sampled_from(REDELIVERY_SHIFTS))
            if not has_loaded_at and copy_of["occurred_at"] <= prev_t - LOOKBACK:
                continue
            redelivered.append(copy_of)
        events = events + new_events + redelivered
        users = [dict(u) for u in users]
        for i, row in enumerate(users):
            if fresh_users and draw(st.integers(0, 6)) == 0:
                row.update({k: v for k, v in fresh_users[i % len(fresh_users)].items() if k != "user_id"})
                row["updated_at"] = load_time
        known = {str(u["user_id"]) for u in users}  # user ids are text: 7 and "7" are one user
        for row in fresh_users[: draw(st.integers(0, 1))]:
            if str(row["user_id"]) not in known:
                users.append(dict(row, updated_at=load_time))
        serial += 1
        scenario.runs.append(Run(t, kind, segments, groups, users, events, note))
    return scenario
