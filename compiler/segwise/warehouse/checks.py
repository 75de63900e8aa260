"""`segwise validate --target`: the definitions checked against the warehouse, read-only.

`check_warehouse(project, warehouse, resolver)` is a pure function of a valid project and an
open connection to a list of located diagnostics, errors and warnings:

1. the users and events relations exist (named as preview names them: `resolver`);
2. every configured column exists, with a type its use can cast (`column_kind`, `USES`);
3. every event name a rule uses (event conditions, sequence steps, `rfm.event`) occurs;
4. every property a rule reads occurs on the event it reads it on (JSON properties: some
   such event has a non-null value for the key; flat properties: the column is not NULL
   on every such event);
5. advice: no `loaded_at`, no `updated_at`, duplicate user ids.

It costs a handful of statements, whatever the number of segments: the two relations'
columns from the catalog, then at most four SELECTs (the distinct event names; one COUNT per
(event, property) pair read; for a property that never occurs, a bounded sample of its
events' JSON to suggest the keys that do; the duplicate ids). Names and values reach the SQL
only as sqlglot identifiers and literals. Nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from segwise.config import FlatProperties, JsonProperties, Project, Ref, Relation, SourceRef, TableName
from segwise.errors import ERROR, WARNING, Diagnostic, closest_names, did_you_mean, quoted_names
from segwise.loading.yaml_source import YMap, YNode, read_yaml_file
from segwise.rules.nodes import Condition, EventCondition, EventFilter, Measure, SequenceCondition
from segwise.rules.values import Location, ValueType
from segwise.rules.walk import Collector
from segwise.sql import literals
from segwise.sql.dialects import JsonText, Target, get_target
from segwise.sql.relations import Resolver
from segwise.warehouse.base import Warehouse

SAMPLE_EVENTS = 200  # per event name, when looking for the keys a property might have meant
LISTED_KEYS = 12  # keys named in a hint when none is close


# --- column types ---------------------------------------------------------------------------


class Kind(StrEnum):
    """What a column type is, for casting: the warehouse's own type name, parsed by sqlglot
    in the warehouse's dialect."""

    TEXT = "text"
    INTEGER = "integer"  # also NUMBER(p, 0) and unscaled NUMERIC
    DECIMAL = "decimal"  # a declared scale > 0
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"
    TIME = "time"
    JSON = "json"  # JSON, JSONB, VARIANT, OBJECT
    NESTED = "nested"  # arrays, structs, maps
    BINARY = "binary"
    OTHER = "other"  # parsed, but none of the above (intervals, geography, ranges, ...)
    UNKNOWN = "unknown"  # not a type sqlglot knows (a user-defined type, an enum in Postgres)


T = exp.DataType.Type
JSON_TYPES = {T.JSON, T.JSONB, T.VARIANT, T.OBJECT}
TEXT_LIKE = {*exp.DataType.TEXT_TYPES, T.UUID, T.ENUM, T.ENUM8, T.ENUM16}
DATE_TYPES = {T.DATE, T.DATE32}
TIME_TYPES = {T.TIME, T.TIMETZ}


def column_kind(type_name: str, dialect: str) -> Kind:
    try:
        built = exp.DataType.build(type_name, dialect=dialect)
    except (SqlglotError, ValueError, TypeError):
        return Kind.UNKNOWN
    kind = built.this
    if kind in JSON_TYPES:
        return Kind.JSON
    if kind in TEXT_LIKE:
        return Kind.TEXT
    if kind in exp.DataType.INTEGER_TYPES:
        return Kind.INTEGER
    if kind in exp.DataType.FLOAT_TYPES or kind is T.UDOUBLE:
        return Kind.FLOAT
    if kind in exp.DataType.REAL_TYPES:  # the decimals
        params = [p.this for p in built.expressions if isinstance(p, exp.DataTypeParam)]
        scale = params[1] if len(params) > 1 else None
        if scale is None or (isinstance(scale, exp.Literal) and str(scale.this) == "0"):
            return Kind.INTEGER if kind is not T.MONEY else Kind.DECIMAL
        return Kind.DECIMAL
    if kind is T.BOOLEAN:
        return Kind.BOOLEAN
    if kind in DATE_TYPES:
        return Kind.DATE
    if kind in TIME_TYPES:
        return Kind.TIME
    if kind in exp.DataType.TEMPORAL_TYPES:
        return Kind.TIMESTAMP
    if kind in exp.DataType.NESTED_TYPES:
        return Kind.NESTED
    if kind in exp.DataType.BINARY_TYPES:
        return Kind.BINARY
    return Kind.OTHER


@dataclass(frozen=True)
class Use:
    """How segwise reads a column: what it casts it to, which kinds always work, which work
    only for some values (a warning saying why), and what to point it at instead."""

    name: str  # "a number", for messages
    ok: frozenset[Kind]
    maybe: dict[Kind, str]
    wanted: str  # "a timestamp or date column"
    never: dict[Kind, str] = field(default_factory=dict)  # hints for some kinds that cannot work


CASTS = "segwise casts it to {what}: a value that does not read as one fails the run"
EPOCH = "a number does not cast to a timestamp: convert epoch numbers in a dbt model and point it at that"
ID = Use(
    "an id",
    frozenset({Kind.TEXT, Kind.INTEGER}),
    {
        Kind.DECIMAL: "ids are compared as text, and its text has decimals (42.00 is not '42')",
        Kind.FLOAT: "ids are compared as text, and a float's text may not be the id (42.0 is not '42')",
    },
    "a text or integer column",
)
USES: dict[ValueType | str, Use] = {
    "id": ID,
    ValueType.TIMESTAMP: Use(
        "a timestamp",
        frozenset({Kind.TIMESTAMP, Kind.DATE}),
        {Kind.TEXT: CASTS.format(what="a timestamp"), Kind.JSON: CASTS.format(what="a timestamp")},
        "a timestamp or date column",
        {kind: EPOCH for kind in (Kind.INTEGER, Kind.DECIMAL, Kind.FLOAT)},
    ),
    ValueType.NUMBER: Use(
        "a number",
        frozenset({Kind.INTEGER, Kind.DECIMAL, Kind.FLOAT}),
        {Kind.TEXT: CASTS.format(what="a number"), Kind.JSON: CASTS.format(what="a number")},
        "a numeric column",
    ),
    ValueType.BOOLEAN: Use(
        "a boolean",
        frozenset({Kind.BOOLEAN}),
        {
            Kind.TEXT: CASTS.format(what="a boolean"),
            Kind.JSON: CASTS.format(what="a boolean"),
            Kind.INTEGER: "segwise casts it to a boolean: 0 is false, every other number true",
        },
        "a boolean column",
    ),
    ValueType.STRING: Use(
        "a string",
        frozenset(set(Kind) - {Kind.NESTED, Kind.BINARY}),
        {
            Kind.NESTED: "segwise compares its text form, which differs between engines",
            Kind.BINARY: "segwise compares its text form, which differs between engines",
        },
        "a text column",
    ),
    "event name": Use("event names", frozenset({Kind.TEXT}), {}, "a text column (names are compared as text)"),
    "properties": Use(
        "JSON properties", frozenset({Kind.TEXT, Kind.JSON}), {}, "a JSON, JSONB, VARIANT or JSON text column"
    ),
}


# --- where segwise.yml says what --------------------------------------------------------------


class _Places:
    """Positions of settings in segwise.yml: the value of a key path, else the nearest key
    that is written."""

    def __init__(self, file: str, root: YNode | None) -> None:
        self.file = file
        self.root = root

    def at(self, *keys: str, key: bool = False) -> Location:
        node = self.root
        found = Location(self.file, 1, 1)
        for i, name in enumerate(keys):
            if not isinstance(node, YMap) or name not in node:
                return found
            key_node, node = node.entries[name]
            found = Location(self.file, key_node.line, key_node.col)
            if i == len(keys) - 1 and not key:
                found = Location(self.file, node.line, node.col)
        return found


# --- what the rules read ------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """One place that reads events of `event` (and, with `property`, that property of them)."""

    event: str
    property: str | None
    loc: Location


def _filter_reads(f: EventFilter, loc: Location) -> Iterator[Read]:
    yield Read(f.event, None, loc)
    for where in f.where:
        yield Read(f.event, where.property, where.loc or loc)


class _Reads(Collector):
    """Every event name and event property a rule reads, where it is written."""

    def __init__(self, default: Location) -> None:
        self.default = default
        self.found: list[Read] = []

    def event(self, node: EventCondition) -> None:
        here = node.loc or self.default
        self.found.extend(_filter_reads(node.filter, here))
        if isinstance(node.measure, Measure) and node.measure.property is not None:
            self.found.append(Read(node.filter.event, node.measure.property, here))

    def sequence(self, node: SequenceCondition) -> None:
        for step in node.steps:
            self.found.extend(_filter_reads(step.filter, step.loc or node.loc or self.default))

    def _nothing(self, node: Condition) -> None:
        return None  # traits, references, geo: no events read by name (rfm: see project_reads)

    trait = in_segment = near = rfm = predict = _nothing


def condition_reads(cond: Condition, loc: Location) -> list[Read]:
    """Every event name and event property the condition reads, where it is written."""
    reads = _Reads(loc)
    reads.collect(cond)
    return reads.found


def project_reads(project: Project, places: _Places) -> list[Read]:
    reads: list[Read] = []
    for segment in project.segments.values():
        reads.extend(condition_reads(segment.rule, segment.loc or Location(project.config.path, 1, 1)))
    rfm = project.config.rfm
    predict = project.config.predict
    if predict is not None and predict.bgnbd is not None:
        reads.append(Read(predict.bgnbd.event, None, places.at("predict", "bgnbd", "event")))
    if rfm is not None:
        reads.append(Read(rfm.event, None, places.at("rfm", "event")))
        reads.append(Read(rfm.event, rfm.monetary, places.at("rfm", "monetary")))
    return reads


# --- the check ----------------------------------------------------------------------------------


def _col(name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name))


def _count_if(test: exp.Expr) -> exp.Count:
    return exp.Count(this=exp.Case(ifs=[exp.If(this=test, true=exp.Literal.number(1))]))


def _not_null(e: exp.Expr) -> exp.Expr:
    return exp.not_(exp.Is(this=e, expression=exp.Null()))


def _suggest(word: str, choices: Iterable[str], listing: str) -> str | None:
    """`did you mean 'a'?` (or `'a', 'b' or 'c'?`) for the closest choices, case aside; else
    `listing` followed by the choices (the first LISTED_KEYS of them)."""
    choices = list(choices)
    near = closest_names(word, choices)
    if len(near) == 1:
        return did_you_mean(near[0], near)
    if near:
        return f"did you mean {quoted_names(near)}?"
    if not choices:
        return None
    more = ", ..." if len(choices) > LISTED_KEYS else ""
    return f"{listing}{', '.join(choices[:LISTED_KEYS])}{more}"


def relation_text(relation: Relation) -> str:
    match relation:
        case Ref(name=name):
            return f"ref('{name}')"
        case SourceRef(source=source, table=table):
            return f"source('{source}', '{table}')"
        case TableName(parts=parts):
            return ".".join(parts)


def _parse_json(value: Any) -> dict[str, Any] | None:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class _Check:
    def __init__(self, project: Project, warehouse: Warehouse, resolver: Resolver, places: _Places) -> None:
        self.project = project
        self.config = project.config
        self.warehouse = warehouse
        self.resolver = resolver
        self.places = places
        self.target: Target = get_target(warehouse.dialect)
        self.diagnostics: list[Diagnostic] = []

    def report(self, severity: str, loc: Location, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(loc.file, loc.line, loc.col, message, hint, severity))

    def sql(self, e: exp.Expr) -> str:
        return self.target.sql(e, pretty=False)

    def run(self, query: exp.Expr) -> list[tuple[Any, ...]]:
        return self.warehouse.query(self.target.sql(query, pretty=False, copy=False))

    # -- relations and columns

    def relation(self, which: str, relation: Relation) -> tuple[exp.Table, dict[str, str]] | None:
        table = self.resolver(relation)
        if not isinstance(table, exp.Table):
            raise TypeError(f"the resolver gave {type(table).__name__}, not a table, for {relation}")
        columns = self.warehouse.columns(table)
        if columns is not None:
            return table, columns
        shown = relation_text(relation)
        where = self.sql(table)
        match relation:
            case Ref(name=name):
                hint = f"ref('{name}') is {where} on this target: build it first (dbt build), or fix the name"
            case SourceRef(source=source, table=name):
                hint = (
                    f"{shown} is {where} on this target: the schema and identifier the dbt project's sources "
                    f"YAML declares, else schema '{source}' and table '{name}'"
                )
            case _:
                hint = "check the schema and table names, and that this target's user may read them"
        self.report(
            ERROR,
            self.places.at("sources", which, "relation"),
            f"the {which} relation {shown} ({where}) does not exist",
            hint,
        )
        return None

    def column(
        self, loc: Location, what: str, name: str, columns: dict[str, str], relation: str, use: Use
    ) -> str | None:
        """The stored column `name` resolves to, reporting a missing column or a type its use
        cannot (or may not) cast; None when it is missing or unusable."""
        stored = self.warehouse.column_named(name, columns)
        if stored is None:
            hint = _suggest(name, columns, "its columns: ")
            self.report(ERROR, loc, f"{what}: no column {name!r} in {relation}", hint)
            return None
        type_name = columns[stored]
        kind = column_kind(type_name, self.warehouse.dialect)
        if kind is Kind.UNKNOWN or kind in use.ok:
            return stored
        if kind in use.maybe:
            self.report(WARNING, loc, f"{what}: column {stored!r} is {type_name}", use.maybe[kind])
            return stored
        if kind is Kind.OTHER:
            self.report(
                WARNING,
                loc,
                f"{what}: column {stored!r} is {type_name}",
                f"segwise cannot tell whether it reads as {use.name}",
            )
            return stored
        self.report(
            ERROR,
            loc,
            f"{what}: column {stored!r} is {type_name}, which cannot be read as {use.name}",
            use.never.get(kind) or f"point it at {use.wanted}, or convert the column in a dbt model",
        )
        return None

    def users(self) -> None:
        users = self.config.users
        found = self.relation("users", users.relation)
        if found is None:
            return
        table, columns = found
        at = self.places.at
        relation = f"the users relation {relation_text(users.relation)}"
        user_id = self.column(at("sources", "users", "id"), "sources.users.id", users.id, columns, relation, ID)
        if users.updated_at is not None:
            self.column(
                at("sources", "users", "updated_at"),
                "sources.users.updated_at",
                users.updated_at,
                columns,
                relation,
                USES[ValueType.TIMESTAMP],
            )
        for trait in users.traits.values():
            trait_node = ("sources", "users", "traits", trait.name)
            loc = at(*trait_node, "column") if trait.column != trait.name else at(*trait_node, key=True)
            what = f"trait '{trait.name}' ({trait.type})"
            self.column(loc, what, trait.column, columns, relation, USES[trait.type])
        if user_id is not None:
            self.duplicate_ids(table, users.id)

    def events(self) -> None:
        events = self.config.events
        found = self.relation("events", events.relation)
        if found is None:
            return
        table, columns = found
        at = self.places.at
        relation = f"the events relation {relation_text(events.relation)}"

        def check(key: str, name: str, use: Use) -> str | None:
            return self.column(at("sources", "events", key), f"sources.events.{key}", name, columns, relation, use)

        check("user_id", events.user_id, ID)
        name = check("name", events.name, USES["event name"])
        check("timestamp", events.timestamp, USES[ValueType.TIMESTAMP])
        if events.loaded_at is not None:
            check("loaded_at", events.loaded_at, USES[ValueType.TIMESTAMP])
        if events.id is not None:
            check("id", events.id, ID)
        props = events.properties
        readable: dict[str, exp.Expr] = {}  # property -> its value per event (NULL when absent)
        json_column = None
        if isinstance(props, JsonProperties):
            loc = at("sources", "events", "properties", "column")
            json_column = self.column(
                loc, "sources.events.properties.column", props.column, columns, relation, USES["properties"]
            )
        reads = project_reads(self.project, self.places)
        if isinstance(props, JsonProperties) and json_column is not None:
            for read in reads:
                if read.property is not None:
                    readable[read.property] = JsonText(this=_col(props.column), key=read.property)
        if isinstance(props, FlatProperties):
            for prop, column in props.columns.items():
                loc = at("sources", "events", "properties", "columns", prop)
                kind = props.types.get(prop, ValueType.STRING)
                what = f"property '{prop}' ({kind})"
                if self.column(loc, what, column, columns, relation, USES[kind]) is not None:
                    readable[prop] = _col(column)
        if name is not None:
            self.event_names(table, reads, readable)

    # -- the data

    def event_names(self, table: exp.Table, reads: list[Read], readable: dict[str, exp.Expr]) -> None:
        events = self.config.events
        if not reads:
            return
        name = _col(events.name)
        rows = self.run(exp.select(name.copy()).distinct().from_(table.copy(), copy=False))
        present = {str(row[0]) for row in rows if row[0] is not None}
        if not present:
            self.report(
                WARNING,
                self.places.at("sources", "events", "relation"),
                f"the events relation {relation_text(events.relation)} has no rows",
                "event names and properties were not checked",
            )
            return
        known: list[Read] = []
        for read in reads:
            if read.event in present:
                known.append(read)
            elif read.property is None:
                self.report(
                    ERROR,
                    read.loc,
                    f"unknown event {read.event!r}: no row of the events relation has {events.name} = {read.event!r}",
                    did_you_mean(read.event, present),
                )
        pairs = sorted({(r.event, r.property) for r in known if r.property is not None and r.property in readable})
        if not pairs:
            return
        counted = exp.select(
            *(
                exp.alias_(
                    _count_if(
                        exp.and_(
                            exp.EQ(this=name.copy(), expression=literals.string(event)),
                            _not_null(readable[prop].copy()),
                        )
                    ),
                    f"sw_{i}",
                )
                for i, (event, prop) in enumerate(pairs)
            )
        )
        wanted = sorted({event for event, _ in pairs})
        counted = counted.from_(table.copy(), copy=False).where(
            exp.In(this=name.copy(), expressions=[literals.string(e) for e in wanted]), copy=False
        )
        counts = dict(zip(pairs, self.run(counted)[0], strict=True))
        never = {pair for pair, n in counts.items() if not n}
        if not never:
            return
        props = events.properties
        keys = self.sample_keys(table, sorted({e for e, _ in never})) if isinstance(props, JsonProperties) else {}
        for read in known:
            pair = (read.event, read.property)
            if read.property is None or pair not in never:
                continue
            if isinstance(props, FlatProperties):
                column = props.columns[read.property]
                self.report(
                    WARNING,
                    read.loc,
                    f"property {read.property!r} (column {column!r}) is NULL on every {read.event!r} event",
                    "the condition can only hold for users without such events; check the loader fills it",
                )
                continue
            self.report(
                ERROR,
                read.loc,
                f"property {read.property!r} never occurs on event {read.event!r}: "
                f"no {read.event} event has a non-null {read.property!r}",
                self.key_hint(read.event, read.property, keys.get(read.event, set())),
            )

    def sample_keys(self, table: exp.Table, events: list[str]) -> dict[str, set[str]]:
        """The keys with non-null values in up to SAMPLE_EVENTS events of each name."""
        props = self.config.events.properties
        assert isinstance(props, JsonProperties)
        name, column = _col(self.config.events.name), _col(props.column)
        parts: list[exp.Select] = []
        for i, event in enumerate(events):
            sample = (
                exp.select(exp.alias_(name.copy(), "sw_event"), exp.alias_(column.copy(), "sw_properties"))
                .from_(table.copy(), copy=False)
                .where(exp.and_(exp.EQ(this=name.copy(), expression=literals.string(event)), _not_null(column.copy())))
                .limit(SAMPLE_EVENTS)
            )
            parts.append(exp.select(exp.Star()).from_(sample.subquery(f"sw_s{i}", copy=False), copy=False))
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=False)
        keys: dict[str, set[str]] = {event: set() for event in events}
        for event, value in self.run(query):
            document = _parse_json(value)
            if document is not None:
                keys.setdefault(str(event), set()).update(k for k, v in document.items() if v is not None)
        return keys

    @staticmethod
    def key_hint(event: str, prop: str, keys: set[str]) -> str:
        hint = _suggest(prop, sorted(keys), f"keys on {event} events: ")
        return hint or f"the sampled {event} events have no properties"

    def duplicate_ids(self, table: exp.Table, id_column: str) -> None:
        user_id = _col(id_column)
        repeated = (
            exp.select(exp.alias_(user_id.copy(), "sw_id"))
            .from_(table.copy(), copy=False)
            .where(_not_null(user_id.copy()), copy=False)
            .group_by(user_id.copy(), copy=False)
            .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)), copy=False)
        )
        summary = exp.select(
            exp.alias_(exp.Count(this=exp.Star()), "sw_ids"),
            exp.alias_(exp.Min(this=self.target.cast(_col("sw_id"), "text")), "sw_example"),
        ).from_(repeated.subquery("sw_d", copy=False), copy=False)
        count, example = self.run(summary)[0]
        if count:
            self.report(
                WARNING,
                self.places.at("sources", "users", "id"),
                f"{count} user id{'s' if count != 1 else ''} (e.g. {str(example)!r}) "
                f"{'have' if count != 1 else 'has'} more than one row in the users relation",
                "it must hold one row per id, or the user's traits are ambiguous: deduplicate it in a dbt model",
            )

    # -- advice

    def advice(self) -> None:
        if self.config.events.loaded_at is None:
            self.report(
                WARNING,
                self.places.at("sources", "events", key=True),
                "no sources.events.loaded_at: incremental runs take as new the events later than the previous "
                "T minus the segwise_lookback var (default 3d), and miss a late event delivered after that",
                "name the column your loader stamps on each row as loaded_at: incremental runs then read "
                "exactly the events loaded since the previous run, and fewer of them",
            )
        if self.config.users.updated_at is None:
            self.report(
                WARNING,
                self.places.at("sources", "users", key=True),
                "no sources.users.updated_at: every users row counts as changed on every incremental run",
                "name the column set whenever a row is inserted or changed as updated_at: incremental runs "
                "then re-evaluate only the changed users",
            )


def _sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return d.file, d.line, d.col, d.message


def check_warehouse(
    project: Project, warehouse: Warehouse, resolver: Resolver, config_root: YNode | None = None
) -> list[Diagnostic]:
    """Every problem of `project` on `warehouse` (read-only), errors and warnings, sorted by
    place; `config_root` is segwise.yml's YAML (read from `project.config.path` if not given),
    to place the diagnostics about its settings."""
    if config_root is None:
        config_root, _ = read_yaml_file(Path(project.config.path), project.config.path)
    check = _Check(project, warehouse, resolver, _Places(project.config.path, config_root))
    check.users()
    check.events()
    check.advice()
    return sorted(set(check.diagnostics), key=_sort_key)
