"""The event store: the events relation deduplicated once, on arrival, with typed columns
(docs/incremental.md).

Every evaluation of the dbt model reads the store instead of the raw events: user ids are
text already, each event id occurs once (the earliest copy), and every JSON property some
rule reads is extracted into a typed column, for the event names that read it. The store
holds all events with a user and a time, whatever their time relative to T.

    user_id     text         the events' user, as text
    event_name               the event's name, as the relation has it
    ts          timestamp    the event's time
    event_id    text         (with sources.events.id) the event's id
    loaded_at   timestamp    (with sources.events.loaded_at) when the kept copy was loaded
    p_<name>    typed        each property a rule reads, NULL on the other events

The store's *spec* (its columns and which events each property is extracted for) is hashed;
a run whose definitions need another spec rebuilds the store from the raw relation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlglot import exp

from segwise.config import JsonProperties, Project
from segwise.rules.values import ValueType
from segwise.sql import literals
from segwise.sql.dialects import Target
from segwise.sql.plan import build_plan
from segwise.sql.relations import Resolver
from segwise.sql.staging import col, deduplicated, property_column, property_value, text_id, typed

STORE = "segwise_event_store"
# Bump when the store's layout or extraction rules change: the next run rebuilds it.
LAYOUT = 1


@dataclass(frozen=True)
class StoreSpec:
    """What the store holds: each property a rule reads, its type and the events it is read on."""

    properties: tuple[tuple[str, ValueType, tuple[str, ...]], ...]
    event_id: bool
    loaded_at: bool
    digest: str

    def columns(self) -> list[str]:
        names = ["user_id", "event_name", "ts"]
        names += ["event_id"] if self.event_id else []
        names += ["loaded_at"] if self.loaded_at else []
        return names + [property_column(p) for p, _, _ in self.properties]


def store_spec(project: Project) -> StoreSpec:
    """The spec the project's definitions need (all segments: every run reads one store)."""
    plan = build_plan(project, sorted(project.segments))
    config = project.config
    props = tuple(
        (prop, kind, tuple(sorted(plan.property_events.get(prop, {}))))
        for prop, kind in sorted(plan.properties.items())
    )
    ev = config.events
    described = {
        "layout": LAYOUT,
        "relation": repr(ev.relation),
        "columns": [ev.user_id, ev.name, ev.timestamp, ev.id, ev.loaded_at],
        "properties": [[p, k.value, list(names)] for p, k, names in props],
        "json": isinstance(ev.properties, JsonProperties),
        "flat": {p: getattr(ev.properties, "columns", {}).get(p) for p, _, _ in props},
    }
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]
    return StoreSpec(props, ev.id is not None, ev.loaded_at is not None, digest)


def store_rows(
    target: Target,
    project: Project,
    spec: StoreSpec,
    resolve: Resolver,
    new: exp.Expr | None = None,
) -> exp.Select:
    """The store's rows from the raw events (aliased e), deduplicated: all of them, or those
    `new` selects (a condition on e; the run's new events)."""
    config = project.config
    ev = config.events
    ts = typed(target, col(ev.timestamp, "e"), ValueType.TIMESTAMP)
    columns: list[exp.Expr] = [
        exp.alias_(text_id(target, col(ev.user_id, "e")), "user_id"),
        exp.alias_(col(ev.name, "e"), "event_name"),
        exp.alias_(ts, "ts"),
    ]
    if ev.id is not None:
        columns.append(exp.alias_(text_id(target, col(ev.id, "e")), "event_id"))
    if ev.loaded_at is not None:
        columns.append(exp.alias_(typed(target, col(ev.loaded_at, "e"), ValueType.TIMESTAMP), "loaded_at"))
    for prop, kind, names in spec.properties:
        value = property_value(target, config, prop, kind)
        if names:  # extracted only where a rule reads it: every read tests the event's name
            name = col(ev.name, "e")
            reads: exp.Expr = (
                exp.EQ(this=name, expression=literals.string(names[0]))
                if len(names) == 1
                else exp.In(this=name, expressions=[literals.string(n) for n in names])
            )
            value = exp.Case(ifs=[exp.If(this=reads, true=value)])
        columns.append(exp.alias_(value, property_column(prop)))
    where = exp.and_(
        exp.not_(exp.Is(this=col(ev.user_id, "e"), expression=exp.Null())),
        exp.not_(exp.Is(this=ts.copy(), expression=exp.Null())),
    )
    if new is not None:
        where = exp.and_(where, new)
    source = exp.alias_(resolve(ev.relation), "e", table=True)
    return deduplicated(target, config, columns, source, where, ts, first_loaded=True)


def new_events(target: Target, project: Project, loaded_after: exp.Expr, new_since: exp.Expr) -> exp.Expr:
    """The raw events (aliased e) a run adds to the store: loaded after the store's
    watermark, or, without loaded_at, later than the previous run's T minus the lookback
    (the run first removes that tail from the store: lateness is bounded by the lookback)."""
    ev = project.config.events
    if ev.loaded_at is not None:
        loaded = typed(target, col(ev.loaded_at, "e"), ValueType.TIMESTAMP)
        return exp.GT(this=loaded, expression=loaded_after)
    return exp.GT(this=typed(target, col(ev.timestamp, "e"), ValueType.TIMESTAMP), expression=new_since)
