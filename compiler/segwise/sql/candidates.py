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
- a timestamp trait crosses a relative bound (`more_than_ago`, `less_than_ago`, `in_next`),
  and so does a timestamp property in an event's `where` (the event's filter flips);
- RFM scores rank the whole population: the users whose RFM values or scores differ
  between the previous run and this one. The dbt runs keep the previous run's values
  (`rfm_state`); otherwise, with `loaded_at`, they are recomputed from the events that run
  saw, and without it anyone with a qualifying event in `(prev - within, T]` is a candidate.

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
    EventFilter,
    InSegment,
    Near,
    PredictCondition,
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
from segwise.sql.staging import (
    col,
    property_column,
    property_value,
    store_events_cte,
    table,
    text_id,
    typed,
)

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
    # (event name, timestamp property) of `where` filters with a relative bound
    properties: dict[tuple[str, str], set[Edge]] = field(default_factory=dict)
    rfm: bool = False
    predict: bool = False

    def event(self, name: str | None, *edges: int | Edge) -> None:
        self.events.setdefault(name, set()).update(e if isinstance(e, tuple) else (e, False) for e in edges)

    def where(self, events: EventFilter) -> None:
        """A `where` filter such as `placed_at less_than_ago 12h` holds for an event at one T
        and not at the next: the property's value crosses the bound as T moves."""
        for f in events.where:
            if isinstance(f.predicate, RelativeTime):
                self.properties.setdefault((events.event, f.property), set()).update(_relative_offsets(f.predicate))


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
        self.edges.where(node.filter)
        if isinstance(measure, Regularity):
            self.edges.event(name, *(i * measure.every.seconds for i in range(0, measure.periods + 1)))
            return
        if isinstance(node.window, AgoWindow):
            self.edges.event(name, node.window.start.seconds, node.window.end.seconds)
        if isinstance(measure.predicate, RelativeTime):
            self.edges.event(name, *_relative_offsets(measure.predicate))

    def sequence(self, node: SequenceCondition) -> None:
        for step in node.steps:
            self.edges.where(step.filter)
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

    def predict(self, node: PredictCondition) -> None:
        self.edges.predict = True


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


# Why a user is a candidate: one 0/1 column each in the candidates query (segwise_runs counts them).
EVENT_REASONS = ("new_events", "window_edges", "rfm_scores", "predictions")
REASONS = ("new_events", "window_edges", "changed_users", "time_traits", "rfm_scores", "predictions")


def _flagged(user_id: exp.Expr, source: exp.Expr, raw_id: exp.Expr, tests: dict[str, list[exp.Expr]]) -> exp.Select:
    """SELECT user_id, <reason> per REASONS (1 where some test of it holds) FROM `source`, for
    the rows where any test holds."""
    flags: list[exp.Expr] = []
    for reason in REASONS:
        held = tests.get(reason, [])
        flag: exp.Expr = exp.Literal.number(0)
        if held:
            flag = exp.Case(ifs=[exp.If(this=exp.or_(*(t.copy() for t in held)), true=exp.Literal.number(1))],
                            default=exp.Literal.number(0))  # fmt: skip
        flags.append(exp.alias_(flag, reason))
    every = [t for held in tests.values() for t in held]
    if not every:
        every = [exp.false()]
    where = exp.and_(exp.not_(exp.Is(this=raw_id.copy(), expression=exp.Null())), exp.or_(*every))
    return exp.select(exp.alias_(user_id, "user_id"), *flags).from_(source, copy=False).where(where, copy=False)


def candidates_query(
    project: Project,
    names: list[str],
    dialect: str,
    as_of: exp.Expr,
    marks: Watermarks,
    resolver: Resolver | None = None,
    store: exp.Expr | None = None,
    rfm_state: exp.Expr | None = None,
) -> exp.Query:
    """SELECT user_id, and why (a 0/1 column per REASONS), of every user whose membership in `names` can differ between
    `marks.prev_as_of` and `as_of`; from the event store's table (segwise.sql.event_store)
    when given, else from the raw events. `rfm_state`, a table of the previous run's RFM
    values (`rfm_text` per user_id), spares recomputing them."""
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
    # Each reason's tests of an event (aliased e) or a users row (aliased u).
    on_events: dict[str, list[exp.Expr]] = {r: [] for r in EVENT_REASONS}
    on_events["new_events"].append(_crossed(ts, (0, False), as_of, prev))  # prev < ts <= T: newly visible
    if loaded is not None and marks.loaded_after is not None:
        on_events["new_events"].append(exp.GT(this=loaded, expression=marks.loaded_after.copy()))
    elif marks.new_since is not None:
        on_events["new_events"].append(exp.GT(this=ts.copy(), expression=marks.new_since.copy()))
    for event, offsets in sorted(edges.events.items(), key=lambda kv: kv[0] or ""):
        crossings = [_crossed(ts, edge, as_of, prev) for edge in sorted(offsets) if edge != (0, False)]
        if not crossings:
            continue
        crossed = exp.or_(*crossings) if len(crossings) > 1 else crossings[0]
        if event is not None:
            crossed = exp.and_(exp.EQ(this=name.copy(), expression=literals.string(event)), crossed)
        on_events["window_edges"].append(crossed)
    for (event, prop), offsets in sorted(edges.properties.items()):
        value = (
            property_value(target, config, prop, ValueType.TIMESTAMP)
            if store is None
            else col(property_column(prop), "e")  # extracted for every event name that reads it
        )
        crossings = [_crossed(value, edge, as_of, prev) for edge in sorted(offsets)]
        on_events["window_edges"].append(
            exp.and_(exp.EQ(this=name.copy(), expression=literals.string(event)), exp.or_(*crossings))
        )
    rfm_ctes_: list[tuple[str, exp.Select]] = []
    if edges.rfm and config.rfm is not None:
        if rfm_state is not None:
            rfm_ctes_ = _rfm_changes_from_state(target, config, resolve(ev.relation), as_of, store, rfm_state)
        elif ev.loaded_at is not None and marks.loaded_after is not None:
            rfm_ctes_ = _rfm_changes(target, config, resolve(ev.relation), as_of, marks, store)
        else:  # the previous run's data cannot be told apart: any buyer's scores may have moved
            rfm_window = exp.and_(
                exp.EQ(this=name.copy(), expression=literals.string(config.rfm.event)),
                exp.GT(this=ts.copy(), expression=literals.minus(prev, config.rfm.within)),
                exp.LTE(this=ts.copy(), expression=as_of.copy()),
            )
            on_events["rfm_scores"].append(rfm_window)
    predict = config.predict.bgnbd if config.predict else None
    if edges.predict and predict is not None:
        # A buyer's scores move with T (their age grows), and with every new fit: each user
        # with a purchase the model reads at T or read at the previous T.
        buyer: list[exp.Expr] = [exp.EQ(this=name.copy(), expression=literals.string(predict.event))]
        buyer.append(exp.LTE(this=ts.copy(), expression=as_of.copy()))
        if predict.calibration is not None:
            buyer.append(exp.GT(this=ts.copy(), expression=literals.minus(prev, predict.calibration)))
        on_events["predictions"].append(exp.and_(*buyer))
    event_user = text_id(target, user.copy()) if store is None else user.copy()
    from_events = _flagged(event_user, exp.alias_(events, "e", table=True), user, on_events)

    users = config.users
    on_users: dict[str, list[exp.Expr]] = {"changed_users": [], "time_traits": []}
    if users.updated_at is None or marks.updated_after is None:
        on_users["changed_users"].append(exp.true())  # any row may have changed
    else:
        on_users["changed_users"].append(exp.GT(this=col(users.updated_at, "u"), expression=marks.updated_after.copy()))
    for trait, offsets in sorted(edges.traits.items()):
        value = typed(target, col(users.traits[trait].column, "u"), ValueType.TIMESTAMP)
        on_users["time_traits"].extend(_crossed(value, edge, as_of, prev) for edge in sorted(offsets))
    user_id = text_id(target, col(users.id, "u"))
    from_users = _flagged(user_id, exp.alias_(resolve(users.relation), "u", table=True), col(users.id, "u"), on_users)
    parts: list[exp.Query] = [from_events, from_users]
    if rfm_ctes_:
        flags = [exp.alias_(exp.Literal.number(int(r == "rfm_scores")), r) for r in REASONS]
        parts.append(exp.select(col("user_id"), *flags).from_(table("sw_rfm_changed"), copy=False))
    both: exp.Query = parts[0]
    for part in parts[1:]:
        both = exp.union(both, part, distinct=False, copy=False)
    found: exp.Query = (
        exp.select(col("user_id"), *(exp.alias_(exp.Max(this=col(r)), r) for r in REASONS))
        .from_(both.subquery("sw_reasons", copy=False), copy=False)
        .group_by(col("user_id"), copy=False)
    )
    for cte_name, cte in rfm_ctes_:
        found = found.with_(cte_name, as_=cte, copy=False)
    return found


RFM_VALUES = ["recency_days", "frequency", "monetary", "r", "f", "m"]
# All but monetary, which is a sum of doubles: compared with a tolerance (`money_differs`).
RFM_EXACT = [c for c in RFM_VALUES if c != "monetary"]
# Two sums of the same amounts can differ in their last bits (engines add in parallel, in
# no fixed order): at one T with the same data, 2,538 of 89,486 buyers in `make bench`
# differed that way, which made every one of them a candidate of every run. A relative
# difference below this is the same amount; a real change (an order in or out) is far larger.
MONEY_TOLERANCE = 1e-9


def rfm_text(target: Target, alias: str | None = None) -> exp.Expr:
    """A user's RFM values but monetary as one text ('12|3|4|3|5'): what a run keeps of them
    for the next run to compare with. Within one engine equal values give equal texts."""
    out: exp.Expr | None = None
    for c in RFM_EXACT:
        part = target.cast(col(c, alias), "text")
        out = (
            part
            if out is None
            else exp.DPipe(this=exp.DPipe(this=out, expression=literals.string("|")), expression=part)
        )
    assert out is not None
    return out


def money_differs(now: exp.Expr, before: exp.Expr) -> exp.Expr:
    """`now` and `before` (non-null monetary sums) differ by more than float noise."""
    bound = exp.Mul(
        this=exp.Literal.number(MONEY_TOLERANCE),
        expression=exp.Greatest(this=exp.Abs(this=now.copy()), expressions=[exp.Abs(this=before.copy())]),
    )
    return exp.GT(this=exp.Abs(this=exp.Sub(this=now, expression=before)), expression=bound)


def _rfm_now(target: Target, config: Config, events: exp.Expr, as_of: exp.Expr, store: exp.Expr | None) -> exp.Select:
    assert config.rfm is not None
    if store is None:
        return rfm_events_cte(target, config, events.copy(), as_of)
    return store_events_cte(target, store.copy(), {config.rfm.monetary: ValueType.NUMBER}, as_of, None)


def _rfm_changes_from_state(
    target: Target, config: Config, events: exp.Expr, as_of: exp.Expr, store: exp.Expr | None, state: exp.Expr
) -> list[tuple[str, exp.Select]]:
    """CTEs ending in `sw_rfm_changed(user_id)`: the users whose RFM values at T differ from
    those the previous run kept (`state`: `rfm_text` as rfm, monetary as text), or who are in
    only one of the two."""
    assert config.rfm is not None
    ctes: list[tuple[str, exp.Select]] = [
        ("sw_rfm_now_events", _rfm_now(target, config, events, as_of, store)),
        *rfm_ctes(target, config.rfm, "sw_rfm_now_events", as_of, name="sw_rfm_now"),
    ]
    differs = [
        exp.NEQ(this=rfm_text(target, "n"), expression=col("rfm", "p")),
        money_differs(col("monetary", "n"), target.cast(col("monetary", "p"), "double")),
    ]
    return [*ctes, ("sw_rfm_changed", _changed_buyers(state.copy(), differs))]


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
    ctes: list[tuple[str, exp.Select]] = [
        ("sw_rfm_now_events", _rfm_now(target, config, events, as_of, store)),
        *rfm_ctes(target, config.rfm, "sw_rfm_now_events", as_of, name="sw_rfm_now"),
        ("sw_rfm_prev_events", rfm_events_cte(target, config, events.copy(), marks.prev_as_of, seen)),
        *rfm_ctes(target, config.rfm, "sw_rfm_prev_events", marks.prev_as_of, name="sw_rfm_prev"),
    ]
    differs: list[exp.Expr] = [exp.NEQ(this=col(c, "n"), expression=col(c, "p")) for c in RFM_EXACT]
    differs.append(money_differs(col("monetary", "n"), col("monetary", "p")))
    return [*ctes, ("sw_rfm_changed", _changed_buyers(exp.to_table("sw_rfm_prev"), differs))]


def _changed_buyers(previous: exp.Expr, differs: list[exp.Expr]) -> exp.Select:
    """The user_id of every buyer in `sw_rfm_now` (aliased n) or `previous` (p) but not both,
    or in both with one of `differs` holding."""
    missing = [exp.Is(this=col("user_id", side), expression=exp.Null()) for side in ("n", "p")]
    return (
        exp.select(exp.alias_(exp.Coalesce(this=col("user_id", "n"), expressions=[col("user_id", "p")]), "user_id"))
        .from_(exp.alias_(exp.to_table("sw_rfm_now"), "n", table=True), copy=False)
        .join(
            exp.alias_(previous, "p", table=True),
            on=exp.EQ(this=col("user_id", "n"), expression=col("user_id", "p")),
            join_type="full",
            copy=False,
        )
        .where(exp.or_(*missing, *differs), copy=False)
    )
