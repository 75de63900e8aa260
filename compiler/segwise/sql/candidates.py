"""Which users an incremental run must re-evaluate (docs/semantics.md, 'Runs and tables (the dbt layer)').

Between the previous run's T (`prev`) and this run's T, a user's result can change only
when one of these happens:

- new or late events arrive: `loaded_at` past the previous run's watermark or, without
  `loaded_at`, a timestamp after `prev - lookback`. Events with `prev < ts <= T` also count,
  since they were loaded earlier but are only now in range;
- the user's row changed: `updated_at` past the previous watermark. Without `updated_at`,
  every row may have changed, so every user in the users relation is a candidate;
- an event crosses a window edge as T moves: for an edge at `T - d`, an event with
  `prev - d < ts <= T - d`. This covers windows, regularity periods, the first step of a
  sequence, the wait of an absent step, and relative first_seen/last_seen measures;
- a timestamp trait crosses a relative bound (`more_than_ago`, `less_than_ago`, `in_next`);
- RFM scores rank the whole population: with `loaded_at`, the users whose RFM values or
  scores differ between the previous run (recomputed from the events it saw) and this one;
  without it, anyone with a qualifying event in `(prev - within, T]`.

Every other user's rules read the same inputs at `prev` and at T, so their membership stands.
The test suite checks this claim: membership carried forward plus the re-evaluated
candidates equals a full evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from segwise.config import BUILTIN_TRAITS, Config, Project
from segwise.rules.nodes import (
    AgoWindow,
    EventCondition,
    InSegment,
    Near,
    Regularity,
    RfmCondition,
    SequenceCondition,
    TraitCondition,
)
from segwise.rules.predicates import RelativeTime, RelOp
from segwise.rules.values import Duration, ValueType
from segwise.rules.walk import Collector
from segwise.sql import literals
from segwise.sql.dialects import Target, get_target
from segwise.sql.plan import build_plan
from segwise.sql.relations import Resolver, direct
from segwise.sql.rfm import rfm_ctes, rfm_events_cte
from segwise.sql.staging import col, store_events_cte, table, text_id, typed

# A moving edge: the instant `T - offset` seconds (negative for `T + d`, in_next), and
# whether the test there is `value < edge` (in_next) rather than `value <= edge` / `> edge`.
Edge = tuple[int, bool]


@dataclass(frozen=True)
class Watermarks:
    """What the previous run saw. Expressions: literals in tests, dbt Jinja in models."""

    prev_as_of: exp.Expr
    loaded_after: exp.Expr | None = None  # events with loaded_at > this are new
    new_since: exp.Expr | None = None  # without loaded_at: events with ts > this are new
    updated_after: exp.Expr | None = None  # users with updated_at > this changed


@dataclass
class Edges:
    """Moving edges per event name (None: any event) and per timestamp trait."""

    events: dict[str | None, set[Edge]] = field(default_factory=dict)
    traits: dict[str, set[Edge]] = field(default_factory=dict)  # timestamp traits
    rfm: bool = False

    def event(self, name: str | None, *edges: int | Edge) -> None:
        self.events.setdefault(name, set()).update(e if isinstance(e, tuple) else (e, False) for e in edges)


def _relative_offsets(pred: RelativeTime) -> Iterator[Edge]:
    """Edges of a relative predicate: `T - d` (ago forms), `T` (less_than_ago's `<= T`,
    in_next's `T <=`) and `T + d` (in_next's `< T + d`)."""
    if pred.op is RelOp.IN_NEXT:
        yield (0, True)
        yield (-pred.duration.seconds, True)
    else:
        yield (pred.duration.seconds, False)
        if pred.op is RelOp.LESS_THAN_AGO:
            yield (0, False)


class _EdgeFinder(Collector):
    """The moving edges of every node of a rule. Every node kind says what it contributes,
    even when it is nothing: a kind without a handler cannot be instantiated, so none can
    silently miss candidates."""

    def __init__(self, edges: Edges) -> None:
        self.edges = edges

    def trait(self, node: TraitCondition) -> None:
        pred = node.predicate
        if not isinstance(pred, RelativeTime):
            return  # a fixed comparison: only a changed row changes it (updated_at)
        if node.trait in BUILTIN_TRAITS:  # first/last_seen_at: any event's timestamp
            self.edges.event(None, *_relative_offsets(pred))
        else:
            self.edges.traits.setdefault(node.trait, set()).update(_relative_offsets(pred))

    def event(self, node: EventCondition) -> None:
        measure, name = node.measure, node.filter.event
        if isinstance(measure, Regularity):
            self.edges.event(name, *(i * measure.every.seconds for i in range(0, measure.periods + 1)))
            return
        if isinstance(node.window, AgoWindow):
            self.edges.event(name, node.window.start.seconds, node.window.end.seconds)
        if isinstance(measure.predicate, RelativeTime):
            self.edges.event(name, *_relative_offsets(measure.predicate))

    def sequence(self, node: SequenceCondition) -> None:
        for name in {s.filter.event for s in node.steps}:
            if node.within is not None:
                self.edges.event(name, node.within.seconds)
            for step in node.steps:
                if step.absent and step.within is not None:
                    self.edges.event(name, step.within.seconds)

    def in_segment(self, node: InSegment) -> None:
        return None  # the referenced segment is in the plan: its own edges are collected

    def near(self, node: Near) -> None:
        return None  # reads traits only: a changed row (updated_at)

    def rfm(self, node: RfmCondition) -> None:
        self.edges.rfm = True


def _crossed(ts: exp.Expr, edge: Edge, t: exp.Expr, prev: exp.Expr) -> exp.Expr:
    """The values the edge passed over while moving from `prev - offset` to `T - offset`:
    (prev - o, T - o] for tests `v <= edge` / `v > edge`, [prev - o, T - o) for `v < edge`."""
    offset, strict = edge
    d = Duration(abs(offset))
    shift = literals.minus if offset >= 0 else literals.plus
    low: type[exp.Binary] = exp.GTE if strict else exp.GT
    high: type[exp.Binary] = exp.LT if strict else exp.LTE
    return exp.and_(
        low(this=ts.copy(), expression=shift(prev, d)),
        high(this=ts.copy(), expression=shift(t, d)),
    )


def candidates_query(
    project: Project,
    names: list[str],
    dialect: str,
    as_of: exp.Expr,
    marks: Watermarks,
    resolver: Resolver | None = None,
    store: exp.Expr | None = None,
) -> exp.Query:
    """SELECT user_id of every user whose membership in `names` can differ between
    `marks.prev_as_of` and `as_of`; from the event store's table (segwise.sql.event_store)
    when given, else from the raw events."""
    target: Target = get_target(dialect)
    resolve = resolver or direct()
    config = project.config
    plan = build_plan(project, names)
    edges = Edges()
    finder = _EdgeFinder(edges)
    for segment in plan.segments:
        finder.collect(segment.rule)

    ev = config.events
    if store is None:
        events, name, user = resolve(ev.relation), col(ev.name, "e"), col(ev.user_id, "e")
        ts = typed(target, col(ev.timestamp, "e"), ValueType.TIMESTAMP)
        loaded = col(ev.loaded_at, "e") if ev.loaded_at else None
    else:
        events, name, ts, user = store, col("event_name", "e"), col("ts", "e"), col("user_id", "e")
        loaded = col("loaded_at", "e") if ev.loaded_at else None
    prev = marks.prev_as_of
    reasons: list[exp.Expr] = [_crossed(ts, (0, False), as_of, prev)]  # prev < ts <= T: newly visible
    if loaded is not None and marks.loaded_after is not None:
        reasons.append(exp.GT(this=loaded, expression=marks.loaded_after.copy()))
    elif marks.new_since is not None:
        reasons.append(exp.GT(this=ts.copy(), expression=marks.new_since.copy()))
    for event, offsets in sorted(edges.events.items(), key=lambda kv: kv[0] or ""):
        crossings = [_crossed(ts, edge, as_of, prev) for edge in sorted(offsets) if edge != (0, False)]
        if not crossings:
            continue
        crossed = exp.or_(*crossings) if len(crossings) > 1 else crossings[0]
        if event is not None:
            crossed = exp.and_(exp.EQ(this=name.copy(), expression=literals.string(event)), crossed)
        reasons.append(crossed)
    rfm_ctes_: list[tuple[str, exp.Select]] = []
    if edges.rfm and config.rfm is not None:
        if ev.loaded_at is not None and marks.loaded_after is not None:
            rfm_ctes_ = _rfm_changes(target, config, resolve(ev.relation), as_of, marks, store)
        else:  # the previous run's data cannot be told apart: any buyer's scores may have moved
            rfm_window = exp.and_(
                exp.EQ(this=name.copy(), expression=literals.string(config.rfm.event)),
                exp.GT(this=ts.copy(), expression=literals.minus(prev, config.rfm.within)),
                exp.LTE(this=ts.copy(), expression=as_of.copy()),
            )
            reasons.append(rfm_window)
    from_events = (
        exp.select(exp.alias_(text_id(target, user.copy()) if store is None else user.copy(), "user_id"))
        .from_(exp.alias_(events, "e", table=True), copy=False)
        .where(
            exp.and_(
                exp.not_(exp.Is(this=user.copy(), expression=exp.Null())),
                exp.or_(*reasons),
            ),
            copy=False,
        )
    )

    users = config.users
    user_reasons: list[exp.Expr] = []
    if users.updated_at is None or marks.updated_after is None:
        user_reasons.append(exp.true())  # any row may have changed
    else:
        user_reasons.append(exp.GT(this=col(users.updated_at, "u"), expression=marks.updated_after.copy()))
    for trait, offsets in sorted(edges.traits.items()):
        value = typed(target, col(users.traits[trait].column, "u"), ValueType.TIMESTAMP)
        user_reasons.extend(_crossed(value, edge, as_of, prev) for edge in sorted(offsets))
    from_users = (
        exp.select(exp.alias_(text_id(target, col(users.id, "u")), "user_id"))
        .from_(exp.alias_(resolve(users.relation), "u", table=True), copy=False)
        .where(
            exp.and_(
                exp.not_(exp.Is(this=col(users.id, "u"), expression=exp.Null())),
                exp.or_(*user_reasons) if len(user_reasons) > 1 else user_reasons[0],
            ),
            copy=False,
        )
    )
    found: exp.Query = exp.union(from_events, from_users, distinct=True)
    if rfm_ctes_:
        found = exp.union(found, exp.select(col("user_id")).from_(table("sw_rfm_changed"), copy=False), distinct=True)
        for cte_name, cte in rfm_ctes_:
            found = found.with_(cte_name, as_=cte, copy=False)
    return found


RFM_VALUES = ["recency_days", "frequency", "monetary", "r", "f", "m"]


def _rfm_changes(
    target: Target, config: Config, events: exp.Expr, as_of: exp.Expr, marks: Watermarks, store: exp.Expr | None
) -> list[tuple[str, exp.Select]]:
    """CTEs ending in `sw_rfm_changed(user_id)`: the users whose RFM values differ between
    what the previous run computed and what this run computes.

    RFM ranks every buyer, so one new order can move anyone's scores; but a user whose own
    values and scores are the same at both runs keeps every `rfm:` result. The previous run's
    values are recomputed at its T from the events it saw: those not loaded after its
    watermark (the data contract of docs/semantics.md: loaded_at rises with every load, events are
    appended)."""
    assert config.events.loaded_at is not None and marks.loaded_after is not None and config.rfm is not None
    loaded = col(config.events.loaded_at, "e")
    seen = exp.or_(
        exp.Is(this=loaded, expression=exp.Null()),
        exp.LTE(this=loaded.copy(), expression=marks.loaded_after.copy()),
    )
    # This run's values from the store when there is one. The previous run's view comes from
    # the raw events: the store keeps one copy per event, and a re-delivered earlier copy
    # replaces the one the previous run saw.
    now = (
        rfm_events_cte(target, config, events.copy(), as_of)
        if store is None
        else store_events_cte(target, store.copy(), {config.rfm.monetary: ValueType.NUMBER}, as_of, None)
    )
    ctes: list[tuple[str, exp.Select]] = [
        ("sw_rfm_now_events", now),
        *rfm_ctes(target, config.rfm, "sw_rfm_now_events", as_of, name="sw_rfm_now"),
        ("sw_rfm_prev_events", rfm_events_cte(target, config, events.copy(), marks.prev_as_of, seen)),
        *rfm_ctes(target, config.rfm, "sw_rfm_prev_events", marks.prev_as_of, name="sw_rfm_prev"),
    ]
    differs: list[exp.Expr] = [
        exp.Is(this=col("user_id", "n"), expression=exp.Null()),
        exp.Is(this=col("user_id", "p"), expression=exp.Null()),
    ]
    differs += [exp.NEQ(this=col(c, "n"), expression=col(c, "p")) for c in RFM_VALUES]
    changed = (
        exp.select(exp.alias_(exp.Coalesce(this=col("user_id", "n"), expressions=[col("user_id", "p")]), "user_id"))
        .from_(exp.alias_(exp.to_table("sw_rfm_now"), "n", table=True), copy=False)
        .join(
            exp.alias_(exp.to_table("sw_rfm_prev"), "p", table=True),
            on=exp.EQ(this=col("user_id", "n"), expression=col("user_id", "p")),
            join_type="full",
            copy=False,
        )
        .where(exp.or_(*differs), copy=False)
    )
    return [*ctes, ("sw_rfm_changed", changed)]
