"""The virtual users and events a backfill hands the compiler: every (instant, user) pair is
a user of its own, and sees exactly the events that exist for the user at that instant.

    sw_bf_users    users x instants, id = instant key || user id (instants.py)
    sw_bf_copies   the event rows that can be kept: not NULL user id or timestamp, and
                   deduplicated once for all instants (below)
    sw_bf_events   copies x instants, each copy joined to the instants at which it is the
                   kept copy of its event; with `prune`, only the events some rule reads
                   at that instant, plus one marker row per user that has any event by then

Deduplication once for all instants. At T the kept copy of an event id is the earliest
copy with ts <= T (docs/semantics.md, 'Events'). The earliest copy of all is <= T whenever
any copy is, so the kept copy at every instant is the earliest of all, from its ts on: one
ROW_NUMBER over the events, as in the compiler's own staging.

With `exclude_late`, a copy exists at T only when also loaded_at <= T (a NULL loaded_at is
an early load). It is visible from max(ts, loaded_at), and the kept copy at T is the first
by ts of those visible, so copy c is kept from its visibility until the earliest visibility
of the copies before it (`sw_bf_shadowed`): an interval per copy, one window over the events.

Pruning. Each event condition, sequence and RFM test reads only its event names within a
horizon of T (segwise.sql.plan.Plan.event_horizons; the compiler prunes sw_features by the
same test), so a copy joins only the instants whose horizon it lies in. The built-in traits
read every event: with them nothing is pruned. The universe still needs every user with an
event by T: a marker row with a NULL event name (an event that no condition matches) at the
user's first event stands for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from segwise.config import Config, FlatProperties, JsonProperties, Project, TableName
from segwise.rules.values import ValueType
from segwise.sql.dialects import Target
from segwise.sql.plan import Plan
from segwise.sql.staging import col, deduplicated, relevant_sql, table, text_id, typed

from .instants import AS_OF, INSTANTS, KEY, BackfillError, virtual_id

USERS = "sw_bf_users"
COPIES = "sw_bf_copies"
EVENTS = "sw_bf_events"

USER = "sw_bf_user"  # the raw user id of a copy
TS = "sw_bf_ts"  # its timestamp, typed
VISIBLE = "sw_bf_visible"  # exclude_late: from when it exists
SHADOWED = "sw_bf_shadowed"  # exclude_late: from when an earlier copy of its id is kept instead
FIRST = "sw_bf_first"
RESERVED = frozenset({USER, TS, VISIBLE, SHADOWED, FIRST, AS_OF, "sw_copy"})


@dataclass(frozen=True)
class Options:
    exclude_late: bool = False
    prune: bool = True


def compiler_project(project: Project) -> Project:
    """The project the compiler sees: the virtual relations, already deduplicated (no event
    id), with nothing of the incremental bookkeeping."""
    config = project.config
    users = replace(config.users, relation=TableName((USERS,)), updated_at=None)
    events = replace(config.events, relation=TableName((EVENTS,)), id=None, loaded_at=None)
    return replace(project, config=replace(config, users=users, events=events))


def _property_columns(config: Config, plan: Plan) -> list[str]:
    props = config.events.properties
    if not plan.properties:
        return []
    if isinstance(props, JsonProperties):
        return [props.column]
    if isinstance(props, FlatProperties):
        return list(dict.fromkeys(props.columns[p] for p in plan.properties))
    raise AssertionError("a plan reads properties without a properties section")  # validated


def check_columns(config: Config, plan: Plan, exclude_late: bool) -> list[str]:
    """The events columns passed through as they are (name, properties), after checking that
    no column plays two roles the virtual relation gives different values."""
    ev = config.events
    passed = list(dict.fromkeys([ev.name, *_property_columns(config, plan)]))
    own = [ev.user_id, ev.timestamp]
    for column in passed:
        if column in own:
            raise BackfillError(
                f"backfill needs the events' user id and timestamp columns to be read as nothing else; "
                f"{column!r} is also the event name or a property"
            )
    for trait in plan.traits:
        if config.users.traits[trait].column == config.users.id:
            raise BackfillError(f"backfill cannot read trait {trait!r}: its column is the users id column")
    named = [*passed, *own, ev.id, ev.loaded_at, config.users.id, *(t.column for t in config.users.traits.values())]
    clash = sorted({c for c in named if c is not None and c.lower() in RESERVED})
    if clash:
        raise BackfillError(f"backfill uses the column names {', '.join(clash)} itself; rename them in a view")
    if exclude_late and ev.loaded_at is None:
        raise BackfillError("exclude_late needs sources.events.loaded_at in segwise.yml")
    return passed


def users_cte(target: Target, config: Config, plan: Plan, users: exp.Expr) -> exp.Select:
    """Every users row once per instant, with the traits the plan reads."""
    u = config.users
    columns = list(dict.fromkeys(u.traits[name].column for name in plan.traits))
    select = exp.select(
        exp.alias_(virtual_id(col(KEY, "i"), text_id(target, col(u.id, "u"))), u.id),
        *(exp.alias_(col(c, "u"), c) for c in columns),
    )
    return (
        select.from_(exp.alias_(users, "u", table=True), copy=False)
        .join(exp.alias_(table(INSTANTS), "i", table=True), join_type="cross", copy=False)
        .where(exp.not_(exp.Is(this=col(u.id, "u"), expression=exp.Null())), copy=False)
    )


def copies_cte(target: Target, config: Config, passed: list[str], events: exp.Expr, exclude_late: bool) -> exp.Select:
    ev = config.events
    ts = typed(target, col(ev.timestamp, "e"), ValueType.TIMESTAMP)
    columns: list[exp.Expr] = [
        exp.alias_(col(ev.user_id, "e"), USER),
        exp.alias_(ts.copy(), TS),
        *(exp.alias_(col(c, "e"), c) for c in passed),
    ]
    where = exp.and_(
        exp.not_(exp.Is(this=col(ev.user_id, "e"), expression=exp.Null())),
        exp.not_(exp.Is(this=ts.copy(), expression=exp.Null())),
    )
    source = exp.alias_(events, "e", table=True)
    if not exclude_late:
        return deduplicated(target, config, columns, source, where, ts)
    assert ev.loaded_at is not None  # checked
    loaded = typed(target, col(ev.loaded_at, "e"), ValueType.TIMESTAMP)
    visible = exp.Case(ifs=[exp.If(this=exp.GT(this=loaded, expression=ts.copy()), true=loaded.copy())], default=ts)
    columns.append(exp.alias_(visible, VISIBLE))
    if ev.id is not None:
        earlier = exp.Window(
            this=exp.Min(this=visible.copy()),
            partition_by=[col(ev.user_id, "e"), col(ev.id, "e")],
            order=exp.Order(expressions=[target.ordered(ts.copy()), target.ordered(visible.copy())]),
            spec=exp.WindowSpec(
                kind="ROWS",
                start="UNBOUNDED",
                start_side="PRECEDING",
                end=exp.Literal.number(1),
                end_side="PRECEDING",
            ),
        )
        without_id = exp.Is(this=col(ev.id, "e"), expression=exp.Null())
        shadowed = exp.Case(ifs=[exp.If(this=without_id, true=exp.Null())], default=earlier)
        columns.append(exp.alias_(shadowed, SHADOWED))
    return exp.select(*columns).from_(source, copy=False).where(where, copy=False)


def events_cte(
    target: Target, config: Config, plan: Plan, passed: list[str], options: Options, prune: bool
) -> exp.Query:
    """Each copy at every instant it is the kept copy of its event (and, pruning, that some
    rule reads it), as the events relation the compiler reads; pruning, plus the markers."""
    ev = config.events
    as_of = col(AS_OF, "i")
    instants = exp.alias_(table(INSTANTS), "i", table=True)
    if options.exclude_late:
        exists: list[exp.Expr] = [exp.LTE(this=col(VISIBLE, "c"), expression=as_of.copy())]
        if ev.id is not None:
            exists.append(
                exp.paren(
                    exp.or_(
                        exp.Is(this=col(SHADOWED, "c"), expression=exp.Null()),
                        exp.LT(this=as_of.copy(), expression=col(SHADOWED, "c")),
                    ),
                    copy=False,
                )
            )
    else:
        exists = [exp.LTE(this=col(TS, "c"), expression=as_of.copy())]
    parts: list[exp.Select] = []
    if not prune or plan.event_horizons:
        on = exists
        if prune:
            on = [*on, exp.paren(relevant_sql(target, plan.event_horizons, col(ev.name, "c"), col(TS, "c"), as_of))]
        rows = exp.select(
            exp.alias_(virtual_id(col(KEY, "i"), text_id(target, col(USER, "c"))), ev.user_id),
            *(exp.alias_(col(c, "c"), c) for c in passed),
            exp.alias_(col(TS, "c"), ev.timestamp),
            exp.alias_(as_of.copy(), AS_OF),
        )
        rows = rows.from_(exp.alias_(table(COPIES), "c", table=True), copy=False)
        parts.append(rows.join(instants.copy(), on=exp.and_(*on), copy=False))
    if prune:
        first = exp.Min(this=col(VISIBLE if options.exclude_late else TS))
        users = (
            exp.select(col(USER), exp.alias_(first, FIRST))
            .from_(table(COPIES), copy=False)
            .group_by(col(USER), copy=False)
        )
        markers = exp.select(
            exp.alias_(virtual_id(col(KEY, "i"), text_id(target, col(USER, "f"))), ev.user_id),
            *(exp.alias_(target.cast(exp.Null(), "text") if c == ev.name else exp.Null(), c) for c in passed),
            exp.alias_(col(FIRST, "f"), ev.timestamp),
            exp.alias_(as_of.copy(), AS_OF),
        )
        markers = markers.from_(users.subquery("f", copy=False), copy=False).join(
            instants.copy(), on=exp.LTE(this=col(FIRST, "f"), expression=as_of.copy()), copy=False
        )
        parts.append(markers)
    query: exp.Query = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False, copy=False)
    return query


def prunable(plan: Plan) -> bool:
    """Whether the events can be pruned to the rules' horizons: not when a built-in trait
    (first_seen_at, last_seen_at, event_count) reads every event."""
    return all(f.filter is not None for f in plan.features)
