"""What the state tables must hold after each run, from the reference evaluator (docs/semantics.md):
history and the change log as one row per transition, sizes per run, groups and their label
changes, and the overlaps counted pair by pair."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from segwise.config import Project
from segwise.rules.canonical import definition_hashes
from tests.reference.evaluator import evaluate, evaluate_groups

Key = tuple[str, str]


@dataclass
class Expected:
    members: dict[Key, tuple[str | None, datetime, str]] = field(default_factory=dict)  # variant, entered, hash
    hashes: dict[str, str] = field(default_factory=dict)
    history: list[list[Any]] = field(default_factory=list)
    changes: list[tuple[Any, ...]] = field(default_factory=list)
    sizes: list[tuple[Any, ...]] = field(default_factory=list)
    groups: list[tuple[Any, ...]] = field(default_factory=list)
    group_changes: list[tuple[Any, ...]] = field(default_factory=list)
    runs: list[tuple[datetime, str]] = field(default_factory=list)
    group_defs: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # the last run's: priority, fallback

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def run(
        self,
        project: Project,
        config: dict[str, Any],
        segments: list[dict[str, Any]],
        groups: list[dict[str, Any]],
        users: list[dict[str, Any]],
        events: list[dict[str, Any]],
        as_of: datetime,
        forced: bool = False,
    ) -> None:
        """Apply one run at `as_of`; `forced` for --full-refresh."""
        result = evaluate(config, segments, users, events, as_of)
        fresh = {(seg, user): variant for seg, found in result.items() for user, variant in found.items()}
        hashes = definition_hashes(project)
        redefined = {s for s in set(hashes) | set(self.hashes) if hashes.get(s) != self.hashes.get(s)}
        # The first run and --full-refresh evaluate everyone; after definition changes, the
        # changed segments and every segment of a group whose labels can move are evaluated
        # for everyone, in a full run when they are more than half (docs/incremental.md).
        defined = {g["name"]: (tuple(g["priority"]), g.get("fallback")) for g in groups}
        regrouped = [
            g for g in groups if self.group_defs.get(g["name"]) != defined[g["name"]] or set(g["priority"]) & redefined
        ]
        widened = (redefined & set(hashes)) | {s for g in regrouped for s in g["priority"]}
        mode = "full" if forced or not self.runs or 2 * len(widened) > len(hashes) else "incremental"
        self.group_defs = defined
        touched: dict[str, list[int]] = {}
        for key in sorted(set(fresh) | set(self.members)):
            seg, user = key
            before, after = key in self.members, key in fresh
            reason = "definition" if seg in redefined else "data"
            moved = before and after and self.members[key][0] != fresh[key]
            if before and (not after or moved):
                for row in self.history:
                    if row[0] == seg and row[1] == user and row[3] is None:
                        row[3] = as_of
            if after and (not before or moved):
                self.history.append([seg, user, as_of, None, fresh[key], hashes[seg]])
            if before != after:
                self.changes.append((seg, user, as_of, "entered" if after else "exited", reason))
                counts = touched.setdefault(seg, [0, 0])
                counts[0 if after else 1] += 1
        members: dict[Key, tuple[str | None, datetime, str]] = {}
        for key, variant in fresh.items():
            entered = self.members[key][1] if key in self.members else as_of
            members[key] = (variant, entered, hashes[key[0]])
        self.members = members
        self.hashes = hashes
        self.sizes = [row for row in self.sizes if row[1] != as_of]
        for seg in sorted(set(hashes) | set(touched)):
            inside = [v for (s, _), (v, _, _) in members.items() if s == seg]
            entered, exited = touched.get(seg, [0, 0])
            self.sizes.append((seg, as_of, len(inside), entered, exited, sum(v == "control" for v in inside)))
        labels = evaluate_groups(config, segments, groups, users, events, as_of)
        before_labels = {(g, u): label for g, u, label in self.groups}
        self.groups = sorted((g, u, label) for g, found in labels.items() for u, label in found.items())
        after_labels = {(g, u): label for g, u, label in self.groups}
        for g, u in sorted(set(before_labels) | set(after_labels)):
            if before_labels.get((g, u)) != after_labels.get((g, u)):
                self.group_changes.append((g, u, as_of, before_labels.get((g, u)), after_labels.get((g, u))))
        self.runs = [r for r in self.runs if r[0] != as_of] + [(as_of, mode)]

    def overlaps(self) -> list[tuple[Any, ...]]:
        """Every two segments or group labels sharing a member, both orders, counted pair by pair."""
        holders: dict[tuple[str | None, str], set[str]] = {}
        for seg, user in self.members:
            holders.setdefault((None, seg), set()).add(user)
        for group, user, label in self.groups:
            holders.setdefault((group, label), set()).add(user)
        rows = []
        for a, b in itertools.permutations(holders, 2):
            shared = len(holders[a] & holders[b])
            if shared:
                rows.append((a[0], a[1], b[0], b[1], shared, len(holders[a]), len(holders[b])))
        return sorted(rows, key=repr)

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            "segment_membership": sorted(((s, u, v, e, h) for (s, u), (v, e, h) in self.members.items()), key=repr),
            "segment_membership_history": sorted((tuple(r) for r in self.history), key=repr),
            "segment_changes": sorted(self.changes, key=repr),
            "segment_sizes": sorted(self.sizes, key=repr),
            "segment_group_membership": sorted(self.groups, key=repr),
            "segment_group_changes": sorted(self.group_changes, key=repr),
            "segment_overlaps": self.overlaps(),
            "segwise_runs": sorted(self.runs, key=repr),
        }
