"""The two staging CTEs every evaluation starts from: typed users and typed, deduplicated events.

Casting here, once, means every later expression sees text user ids (SPEC §4), UTC
timestamps, doubles and booleans, whatever the warehouse columns are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from segwise.config import Config, FlatProperties, JsonProperties
from segwise.rules.values import ValueType
from segwise.sql.dialects import JsonText, RegexSearch, Target

SQL_TYPES = {
    ValueType.STRING: "text",
    ValueType.NUMBER: "double",
    ValueType.BOOLEAN: "boolean",
    ValueType.TIMESTAMP: "timestamp",
}


def typed(target: Target, e: exp.Expr, kind: ValueType) -> exp.Expr:
    return exp.cast(e, target.type(SQL_TYPES[kind]))


def text_id(target: Target, e: exp.Expr) -> exp.Expr:
    return exp.cast(e, target.type("text"))


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(exp.to_identifier(name), table=exp.to_identifier(table) if table else None)


def trait_column(trait: str) -> str:
    return f"t_{trait}"


def property_column(prop: str) -> str:
    return f"p_{prop}"


@dataclass(frozen=True)
class Restriction:
    """Evaluate only the users `ids` selects; when `unless` is true (dbt's full mode, a
    template), everyone. Constant `TRUE OR ...` folds away in every engine's planner."""

    ids: exp.Query
    unless: exp.Expr | None = None

    def condition(self, user_id: exp.Expr) -> exp.Expr:
        test: exp.Expr = exp.In(this=user_id, query=self.ids.copy().subquery())
        return exp.or_(self.unless.copy(), test) if self.unless is not None else test


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
        where = exp.and_(where, candidates.condition(text_id(target, col(users.id, "u"))))
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
) -> exp.Select:
    """Events with ts <= T and a user id, one row per event id (SPEC: an id seen twice counts once)."""
    ev = config.events
    ts = typed(target, col(ev.timestamp, "e"), ValueType.TIMESTAMP)
    columns: list[exp.Expr] = [
        exp.alias_(text_id(target, col(ev.user_id, "e")), "user_id"),
        exp.alias_(col(ev.name, "e"), "event_name"),
        exp.alias_(ts, "ts"),
    ]
    for prop, kind in properties.items():
        columns.append(exp.alias_(property_value(target, config, prop, kind), property_column(prop)))
    where = exp.and_(
        exp.not_(exp.Is(this=col(ev.user_id, "e"), expression=exp.Null())),
        exp.LTE(this=ts.copy(), expression=as_of.copy()),
    )
    if candidates is not None:
        where = exp.and_(where, candidates.condition(text_id(target, col(ev.user_id, "e"))))
    source = exp.alias_(table, "e", table=True)
    if ev.id is None:
        return exp.select(*columns).from_(source, copy=False).where(where, copy=False)
    # Deliveries of one event share (user, id): keep the earliest copy.
    copy_no = exp.Window(
        this=exp.RowNumber(),
        partition_by=[text_id(target, col(ev.user_id, "e")), col(ev.id, "e")],
        order=exp.Order(expressions=[target.ordered(ts.copy())]),
    )
    inner = (
        exp.select(*columns, exp.alias_(col(ev.id, "e"), "sw_event_id"), exp.alias_(copy_no, "sw_copy"))
        .from_(source, copy=False)
        .where(where, copy=False)
    )
    names = [c.alias_or_name for c in columns]
    keep = exp.or_(
        exp.Is(this=col("sw_event_id"), expression=exp.Null()),
        exp.EQ(this=col("sw_copy"), expression=exp.Literal.number(1)),
    )
    return exp.select(*(col(n) for n in names)).from_(inner.subquery("d"), copy=False).where(keep, copy=False)
