"""The two staging CTEs every evaluation starts from: typed users and typed, deduplicated events.

Casting here, once, means every later expression sees text user ids (docs/semantics.md, 'Values'), UTC
timestamps, doubles and booleans, whatever the warehouse columns are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from segwise.config import Config, FlatProperties, JsonProperties
from segwise.rules.values import ValueType
from segwise.sql import literals
from segwise.sql.dialects import JsonText, RegexSearch, Target
from segwise.sql.params import CandidateScope
from segwise.sql.plan import Horizon

SQL_TYPES = {
    ValueType.STRING: "text",
    ValueType.NUMBER: "double",
    ValueType.BOOLEAN: "boolean",
    ValueType.TIMESTAMP: "timestamp",
}


def typed(target: Target, e: exp.Expr, kind: ValueType) -> exp.Expr:
    return target.cast(e, SQL_TYPES[kind])


def text_id(target: Target, e: exp.Expr) -> exp.Expr:
    return target.cast(e, "text")


# Node builders that take ownership of their arguments and parse nothing: sqlglot's string
# conveniences (`from_("t")`, `alias_(e, "a")`) parse or copy, which over thousands of
# segments is most of the compile time.


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name), table=exp.to_identifier(table) if table else None)


def table(name: str) -> exp.Table:
    """A CTE or table by its bare name."""
    return exp.Table(this=exp.to_identifier(name))


def alias(e: exp.Expr, name: str) -> exp.Alias:
    return exp.Alias(this=e, alias=exp.to_identifier(name))


def trait_column(trait: str) -> str:
    return f"t_{trait}"


# The staged events' user column: the events relation's own id column, not yet text.
USER_KEY = "user_key"


def user_id_of_key(target: Target) -> exp.Expr:
    """The text user id of the staged events' raw `user_key`, for one row per user."""
    return exp.alias_(text_id(target, col(USER_KEY)), "user_id")


def property_column(prop: str) -> str:
    return f"p_{prop}"


def horizon_sql(target: Target, horizon: Horizon, ts: exp.Expr, as_of: exp.Expr) -> list[exp.Expr]:
    """The test that ts lies within `horizon` of T; none when it is all history."""
    tests: list[exp.Expr] = []
    if horizon.ago is not None:
        tests.append(exp.GT(this=ts.copy(), expression=literals.minus(as_of, horizon.ago)))
    if horizon.since is not None:
        tests.append(exp.GTE(this=ts.copy(), expression=literals.timestamp(target, horizon.since)))
    return [exp.or_(*tests)] if len(tests) > 1 else tests


def relevant_sql(
    target: Target, horizons: Mapping[str, Horizon], name: exp.Expr, ts: exp.Expr, as_of: exp.Expr
) -> exp.Expr:
    """An event some use reads: its name is one of `horizons`, and it is within that
    name's horizon of T."""
    by_horizon: dict[Horizon, list[str]] = {}
    for event, horizon in sorted(horizons.items()):
        by_horizon.setdefault(horizon, []).append(event)
    parts: list[exp.Expr] = []
    for horizon, events in by_horizon.items():
        named: exp.Expr = (
            exp.EQ(this=name.copy(), expression=literals.string(events[0]))
            if len(events) == 1
            else exp.In(this=name.copy(), expressions=[literals.string(e) for e in events])
        )
        parts.append(exp.and_(named, *horizon_sql(target, horizon, ts, as_of)))
    return exp.or_(*parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class Widening:
    """What a run reads beyond its candidates when it evaluates some segments for every user
    (their definitions changed): every user, when `users` holds, and the events `events`
    (of an event's name and timestamp) accepts."""

    users: exp.Expr
    events: Callable[[exp.Expr, exp.Expr], exp.Expr]


@dataclass(frozen=True)
class Restriction:
    """Evaluate only the users `ids` selects; with `full_runs`, the query also serves full
    runs, where the restriction holds for everyone (a `CandidateScope` the caller binds);
    `widen`, what the run reads besides (`Widening`)."""

    ids: exp.Query
    full_runs: bool = False
    widen: Widening | None = None

    def condition(self, target: Target, user_id: exp.Expr, widen: exp.Expr | None = None) -> exp.Expr:
        test: exp.Expr = exp.In(this=user_id, query=self.ids.copy().subquery(copy=False))
        if widen is not None:
            test = exp.or_(test, widen, copy=False)
        return CandidateScope(this=test) if self.full_runs else test

    def users(self, target: Target, user_id: exp.Expr) -> exp.Expr:
        return self.condition(target, user_id, self.widen.users.copy() if self.widen else None)

    def events(self, target: Target, user_id: exp.Expr, name: exp.Expr, ts: exp.Expr) -> exp.Expr:
        return self.condition(target, user_id, self.widen.events(name, ts) if self.widen else None)


def users_cte(
    target: Target, config: Config, table: exp.Expr, traits: list[str], candidates: Restriction | None
) -> exp.Select:
    users = config.users
    select = exp.select(exp.alias_(text_id(target, col(users.id, "u")), "user_id"))
    for name in traits:
        trait = users.traits[name]
        select = select.select(
            exp.alias_(typed(target, col(trait.column, "u"), trait.type), trait_column(name)), copy=False
        )
    where: exp.Expr = exp.not_(exp.Is(this=col(users.id, "u"), expression=exp.Null()))
    if candidates is not None:
        where = exp.and_(where, candidates.users(target, text_id(target, col(users.id, "u"))))
    return select.from_(exp.alias_(table, "u", table=True), copy=False).where(where, copy=False)


# JSON text that reads as each type; anything else is a missing value, not a failed run.
JSON_SHAPES = {
    ValueType.NUMBER: r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    ValueType.TIMESTAMP: r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?)?$",
}


def parse_json_value(target: Target, text: exp.Expr, kind: ValueType) -> exp.Expr:
    """A JSON property's text as `kind`, or NULL when it does not read as one.

    One event with `"amount": "n/a"` must not fail a whole dbt run, and TRY_CAST accepts
    different spellings on different engines (Postgres has none), so the accepted shapes are
    spelled out once, here, and every engine applies the same ones.
    """
    if kind is ValueType.STRING:
        return text
    if kind is ValueType.BOOLEAN:
        readable: exp.Expr = exp.In(
            this=exp.Lower(this=text.copy()), expressions=[exp.Literal.string("true"), exp.Literal.string("false")]
        )
    else:
        readable = RegexSearch(this=text.copy(), expression=exp.Literal.string(JSON_SHAPES[kind]))
    return exp.Case(ifs=[exp.If(this=readable, true=typed(target, text, kind))])


def property_value(target: Target, config: Config, prop: str, kind: ValueType) -> exp.Expr:
    props = config.events.properties
    if isinstance(props, JsonProperties):
        return parse_json_value(target, JsonText(this=col(props.column, "e"), key=prop), kind)
    if isinstance(props, FlatProperties):
        return typed(target, col(props.columns[prop], "e"), kind)
    raise AssertionError(f"property {prop!r} without a properties section")  # validation prevents it


def events_cte(
    target: Target,
    config: Config,
    table: exp.Expr,
    properties: dict[str, ValueType],
    as_of: exp.Expr,
    candidates: Restriction | None,
    property_events: Mapping[str, Mapping[str, Horizon]] | None = None,
) -> exp.Select:
    """Events with ts <= T and a user id, one row per event id (an id seen twice counts once).

    `property_events` names, per property, the events whose value any rule reads and how far
    back; the others get NULL without parsing their JSON."""
    ev = config.events
    ts = typed(target, col(ev.timestamp, "e"), ValueType.TIMESTAMP)
    columns: list[exp.Expr] = [
        # The raw id column: grouping, partitioning and joining by it is the same as by its
        # text (the cast to text is injective) and much cheaper than casting every event's
        # id; the aggregates cast their one row per user (user ids are text).
        exp.alias_(col(ev.user_id, "e"), USER_KEY),
        exp.alias_(col(ev.name, "e"), "event_name"),
        exp.alias_(ts, "ts"),
    ]
    for prop, kind in properties.items():
        value = property_value(target, config, prop, kind)
        readers = (property_events or {}).get(prop)
        if readers and isinstance(config.events.properties, JsonProperties):
            # Parse the JSON only where a rule reads the value: every use of the column is
            # guarded by a test of the event's name and window (filters, measures, RFM,
            # sequence steps), so other events and older ones are never read.
            value = exp.Case(ifs=[exp.If(this=relevant_sql(target, readers, col(ev.name, "e"), ts, as_of), true=value)])
        columns.append(exp.alias_(value, property_column(prop)))
    where = exp.and_(
        exp.not_(exp.Is(this=col(ev.user_id, "e"), expression=exp.Null())),
        exp.LTE(this=ts.copy(), expression=as_of.copy()),
    )
    if candidates is not None:  # before deduplicating: only the candidates' events are read
        user = text_id(target, col(ev.user_id, "e"))
        where = exp.and_(where, candidates.events(target, user, col(ev.name, "e"), ts.copy()))
    return deduplicated(target, config, columns, exp.alias_(table, "e", table=True), where, ts)


# Stands for a NULL loaded_at when ordering copies: loaded before any load that has a time.
EARLY = datetime(1900, 1, 1)


def deduplicated(
    target: Target,
    config: Config,
    columns: list[exp.Expr],
    source: exp.Expr,
    where: exp.Expr,
    ts: exp.Expr,
    first_loaded: bool = False,
) -> exp.Select:
    """SELECT `columns` FROM `source` (aliased e) WHERE `where`, one row per event: deliveries
    of one event share (user, id) and the earliest copy wins; events without an id are all distinct.

    Copies at the same time are the same event (the data contract), so any of them gives the
    same result. `first_loaded` picks the first loaded among them, for the event store, which
    keeps `loaded_at` and must be reproducible; the second sort key costs a third more on a
    full evaluation's deduplication, which does not need it."""
    ev = config.events
    if ev.id is None:
        return exp.select(*columns).from_(source, copy=False).where(where, copy=False)
    # The kept copies are exactly `sw_copy = 1`: a filter engines plan as a grouped arg-min
    # (DuckDB's top-N window elimination) rather than sorting every event with its payload.
    # Partitioning by the raw user column is the same as by its text (the cast is injective)
    # and spares the cast.
    event_id = col(ev.id, "e")
    order = [target.ordered(ts.copy())]
    if first_loaded and ev.loaded_at is not None:
        loaded = typed(target, col(ev.loaded_at, "e"), ValueType.TIMESTAMP)
        order.append(target.ordered(exp.Coalesce(this=loaded, expressions=[literals.timestamp(target, EARLY)])))
    copy_no = exp.Window(
        this=exp.RowNumber(), partition_by=[col(ev.user_id, "e"), event_id], order=exp.Order(expressions=order)
    )
    with_id = exp.and_(where.copy(), exp.not_(exp.Is(this=event_id.copy(), expression=exp.Null())))
    inner = (
        exp.select(*(c.copy() for c in columns), exp.alias_(copy_no, "sw_copy"))
        .from_(source.copy(), copy=False)
        .where(with_id, copy=False)
    )
    names = [c.alias_or_name for c in columns]
    first = (
        exp.select(*(col(n) for n in names))
        .from_(inner.subquery("d", copy=False), copy=False)
        .where(exp.EQ(this=col("sw_copy"), expression=exp.Literal.number(1)), copy=False)
    )
    without_id = exp.and_(where, exp.Is(this=event_id.copy(), expression=exp.Null()))
    rest = exp.select(*columns).from_(source, copy=False).where(without_id, copy=False)
    both = exp.union(first, rest, distinct=False, copy=False)
    return exp.select(*(col(n) for n in names)).from_(both.subquery("sw_deduplicated", copy=False), copy=False)


def store_events_cte(
    target: Target,
    store: exp.Expr,
    properties: Mapping[str, ValueType],
    as_of: exp.Expr,
    candidates: Restriction | None,
) -> exp.Select:
    """`events_cte` from the event store (segwise.sql.event_store): typed, deduplicated and
    with text user ids already, so only T and the candidates restrict it."""
    columns: list[exp.Expr] = [
        exp.alias_(col("user_id", "s"), USER_KEY),
        col("event_name", "s"),
        col("ts", "s"),
        *(col(property_column(p), "s") for p in properties),
    ]
    where: exp.Expr = exp.LTE(this=col("ts", "s"), expression=as_of.copy())
    if candidates is not None:
        where = exp.and_(where, candidates.events(target, col("user_id", "s"), col("event_name", "s"), col("ts", "s")))
    return exp.select(*columns).from_(exp.alias_(store, "s", table=True), copy=False).where(where, copy=False)
