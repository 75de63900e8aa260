"""What a set of segments needs from the warehouse, collected once and shared.

Walking every rule first lets the compiler compute each distinct event aggregate exactly once
(one column of one pass over the events), however many segments use it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from segwise.config import BUILTIN_TRAITS, Project
from segwise.errors import CompileError
from segwise.rules.nodes import (
    AggFn,
    AgoWindow,
    EventCondition,
    EventFilter,
    InSegment,
    Measure,
    Near,
    PredictCondition,
    PredictScore,
    Regularity,
    RfmCondition,
    Segment,
    SequenceCondition,
    SinceWindow,
    TraitCondition,
    Window,
)
from segwise.rules.order import dependency_order
from segwise.rules.values import Duration, ValueType
from segwise.rules.walk import Collector


@dataclass(frozen=True)
class EventFeature:
    """One aggregate over a user's events: fn(property) of the events matching filter+window.

    `filter` None means every event (the built-in traits)."""

    @property
    def column(self) -> str:
        return f"f_{self.fn.value}_{_digest(self)}"

    fn: AggFn
    filter: EventFilter | None = None
    window: Window | None = None
    property: str | None = None


def _digest(obj: object) -> str:
    return hashlib.sha1(repr(obj).encode()).hexdigest()[:10]


def sequence_column(seq: SequenceCondition) -> str:
    return f"q_{_digest(seq)}"


# The built-in traits are features of all events.
BUILTIN_FEATURES = {
    "first_seen_at": EventFeature(AggFn.FIRST_SEEN),
    "last_seen_at": EventFeature(AggFn.LAST_SEEN),
    "event_count": EventFeature(AggFn.COUNT),
}


def measure_feature(cond: EventCondition, measure: Measure) -> EventFeature:
    return EventFeature(measure.fn, cond.filter, cond.window, measure.property)


def period_features(cond: EventCondition, reg: Regularity) -> list[EventFeature]:
    """Period i is (T - i*every, T - (i-1)*every]: an AgoWindow, shared with any equal count."""
    step = reg.every.seconds
    return [
        EventFeature(
            AggFn.COUNT,
            cond.filter,
            AgoWindow(Duration(i * step), Duration((i - 1) * step)),
        )
        for i in range(1, reg.periods + 1)
    ]


@dataclass(frozen=True)
class Horizon:
    """How far back a use reads events: those with ts > T - ago, or ts >= since (either
    bound may be absent); neither bound: all history."""

    ago: Duration | None = None
    since: datetime | None = None

    @classmethod
    def of(cls, window: Window | None) -> Horizon:
        match window:
            case AgoWindow(start=start):
                return cls(ago=start)
            case SinceWindow(since=since):
                return cls(since=since)
            case None:
                return cls()

    @property
    def unbounded(self) -> bool:
        return self.ago is None and self.since is None

    def merge(self, other: Horizon | None) -> Horizon:
        """The horizon covering both uses."""
        if other is None:
            return self
        if self.unbounded or other.unbounded:
            return Horizon()
        agos = [d for d in (self.ago, other.ago) if d is not None]
        sinces = [t for t in (self.since, other.since) if t is not None]
        return Horizon(
            ago=max(agos, key=lambda d: d.seconds) if agos else None,
            since=min(sinces) if sinces else None,
        )


@dataclass
class Plan:
    """Everything the selected segments need, in first-use order (stable SQL)."""

    project: Project
    segments: list[Segment]  # dependencies before dependents
    features: dict[EventFeature, None] = field(default_factory=dict)
    sequences: dict[SequenceCondition, None] = field(default_factory=dict)
    properties: dict[str, ValueType] = field(default_factory=dict)
    # How far back each event name is read by the named features, sequences and RFM (the
    # built-in traits read every event), and each property per event name: every reference
    # to an event or a property column sits next to a test of the event's name and window,
    # so older events of that name, and other events' properties, are never needed.
    event_horizons: dict[str, Horizon] = field(default_factory=dict)
    property_events: dict[str, dict[str, Horizon]] = field(default_factory=dict)
    traits: dict[str, None] = field(default_factory=dict)
    uses_rfm: bool = False
    # the prediction scores the rules compare: (score, horizon)
    predictions: dict[tuple[PredictScore, Duration | None], None] = field(default_factory=dict)

    def add_event(self, event: str, horizon: Horizon) -> None:
        self.event_horizons[event] = horizon.merge(self.event_horizons.get(event))

    def add_filter(self, flt: EventFilter, horizon: Horizon) -> None:
        self.add_event(flt.event, horizon)
        for pf in flt.where:
            self.properties[pf.property] = pf.type
            self._read(pf.property, flt.event, horizon)

    def add_property(self, name: str, event: str, horizon: Horizon) -> None:
        kind = self.project.config.events.property_type(name)
        if kind is None:
            raise CompileError(f"unknown event property {name!r}")
        self.properties[name] = kind
        self._read(name, event, horizon)

    def _read(self, prop: str, event: str, horizon: Horizon) -> None:
        events = self.property_events.setdefault(prop, {})
        events[event] = horizon.merge(events.get(event))


class _Needs(Collector):
    """Adds what each node of a rule needs to the plan."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def trait(self, node: TraitCondition) -> None:
        if node.trait in BUILTIN_TRAITS:
            self.plan.features[BUILTIN_FEATURES[node.trait]] = None
        else:
            self.plan.traits[node.trait] = None

    def event(self, node: EventCondition) -> None:
        plan, measure = self.plan, node.measure
        if isinstance(measure, Regularity):
            plan.add_filter(node.filter, Horizon(ago=Duration(measure.every.seconds * measure.periods)))
            for feature in period_features(node, measure):
                plan.features[feature] = None
            return
        horizon = Horizon.of(node.window)
        plan.add_filter(node.filter, horizon)
        if measure.property:
            plan.add_property(measure.property, node.filter.event, horizon)
        plan.features[measure_feature(node, measure)] = None

    def sequence(self, node: SequenceCondition) -> None:
        # Every event of a chain is at or after its first, which lies in the window.
        horizon = Horizon(ago=node.within)
        for step in node.steps:
            self.plan.add_filter(step.filter, horizon)
        self.plan.sequences[node] = None

    def in_segment(self, node: InSegment) -> None:
        return None  # the referenced segment is part of the plan (see build_plan)

    def near(self, node: Near) -> None:
        geo = self.plan.project.config.users.geo
        if geo is None:
            raise CompileError("`near` needs sources.users.geo")
        self.plan.traits[geo.lat] = None
        self.plan.traits[geo.lon] = None

    def predict(self, node: PredictCondition) -> None:
        predict = self.plan.project.config.predict
        if predict is None or predict.bgnbd is None:
            raise CompileError("`predict` conditions need the predict: section of segwise.yml")
        model = predict.bgnbd
        self.plan.add_event(model.event, Horizon(ago=model.calibration))
        self.plan.predictions[(node.score, node.within)] = None

    def rfm(self, node: RfmCondition) -> None:
        rfm = self.plan.project.config.rfm
        if rfm is None:
            raise CompileError("`rfm` conditions need the rfm: section of segwise.yml")
        self.plan.add_event(rfm.event, Horizon(ago=rfm.within))
        self.plan.add_property(rfm.monetary, rfm.event, Horizon(ago=rfm.within))
        self.plan.uses_rfm = True


def build_plan(project: Project, names: Iterable[str]) -> Plan:
    plan = Plan(project, dependency_order(project.segments, names))
    needs = _Needs(plan)
    for segment in plan.segments:
        needs.collect(segment.rule)
    return plan
