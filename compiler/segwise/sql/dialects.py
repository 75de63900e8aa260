"""The four target dialects, each sqlglot's own dialect plus the few fixes segwise needs.

The compiler builds generic sqlglot expressions and a handful of segwise nodes below for the
operations sqlglot translates wrongly or not at all. Each dialect's fixes live in
one table of handlers, used by one Generator subclass the way sqlglot itself organises
dialects, so there is no `if dialect == ...` anywhere else. Under sqlglotc, whose compiled
generators admit no subclass, the same handlers rewrite the tree before sqlglot's own
generator writes it (segwise.sql.nodes.lower): the same SQL either way.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlglot import exp, transforms
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.generator import Generator

from segwise.errors import CompileError
from segwise.sql import nodes
from segwise.sql.nodes import Handler, Rewrites
from segwise.sql.params import PARAMETER_KINDS

# --- segwise nodes ----------------------------------------------------------------------


JSON_TEXT = "JSON_TEXT"
ELAPSED_MICROS = "ELAPSED_MICROS"
REGEX_SEARCH = "REGEX_SEARCH"


def JsonText(this: exp.Expr, key: str) -> exp.Anonymous:
    """The text of top-level key `key` of a JSON text/JSON column; NULL when absent or JSON null.

    sqlglot's JSONExtractScalar emits a JSONPath that Postgres' `->>` and Snowflake's
    JSON_EXTRACT_PATH_TEXT do not understand.
    """
    return nodes.make(JSON_TEXT, this, key=key)


def ElapsedMicros(this: exp.Expr, expression: exp.Expr) -> exp.Anonymous:
    """Exact microseconds from `expression` to `this` (DateDiff means different things per
    engine: a boundary count on DuckDB, Snowflake and BigQuery, rounding on PostgreSQL)."""
    return nodes.make(ELAPSED_MICROS, this, expression=expression)


def RegexSearch(this: exp.Expr, expression: exp.Expr) -> exp.Anonymous:
    """Partial regular-expression match. Snowflake's REGEXP_LIKE is anchored at both ends."""
    return nodes.make(REGEX_SEARCH, this, expression=expression)


def _json_text_duckdb(gen: Generator, e: exp.Anonymous) -> str:
    return gen.func("JSON_EXTRACT_STRING", nodes.operand(e), exp.Literal.string(f"$.{e.args['key']}"))


def _json_text_postgres(gen: Generator, e: exp.Anonymous) -> str:
    # CAST to JSONB accepts text, json and jsonb columns alike.
    doc = exp.cast(nodes.operand(e), exp.DataType.build("jsonb"))
    return f"({gen.sql(doc)} ->> {gen.sql(exp.Literal.string(e.args['key']))})"


def _json_text_snowflake(gen: Generator, e: exp.Anonymous) -> str:
    # TO_VARCHAR makes VARIANT and VARCHAR columns both valid arguments.
    return gen.func(
        "JSON_EXTRACT_PATH_TEXT", exp.func("TO_VARCHAR", nodes.operand(e)), exp.Literal.string(e.args["key"])
    )


def _json_text_bigquery(gen: Generator, e: exp.Anonymous) -> str:
    return gen.func("JSON_EXTRACT_SCALAR", nodes.operand(e), exp.Literal.string(f"$.{e.args['key']}"))


def _micros_duckdb(gen: Generator, e: exp.Anonymous) -> str:
    return f"(EPOCH_US({gen.sql(nodes.operand(e))}) - EPOCH_US({gen.sql(e.expression)}))"


def _micros_postgres(gen: Generator, e: exp.Anonymous) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {gen.sql(nodes.operand(e))} - {gen.sql(e.expression)}) * 1000000 AS BIGINT)"


def _micros_snowflake(gen: Generator, e: exp.Anonymous) -> str:
    return f"DATEDIFF(MICROSECOND, {gen.sql(e.expression)}, {gen.sql(nodes.operand(e))})"


def _micros_bigquery(gen: Generator, e: exp.Anonymous) -> str:
    return f"TIMESTAMP_DIFF({gen.sql(nodes.operand(e))}, {gen.sql(e.expression)}, MICROSECOND)"


def _regex_generic(gen: Generator, e: exp.Anonymous) -> str:
    return gen.sql(exp.RegexpLike(this=nodes.operand(e), expression=e.expression))


def _regex_snowflake(gen: Generator, e: exp.Anonymous) -> str:
    return f"(REGEXP_INSTR({gen.sql(nodes.operand(e))}, {gen.sql(e.expression)}) > 0)"


def _unbound(gen: Generator, e: exp.Anonymous) -> str:
    raise CompileError(
        f"unbound {nodes.kind_of(e)} {nodes.operand(e)!r}: a query with run-time parameters is written by the "
        "dbt layer (segwise.dbt.jinja), which binds them"
    )


def _nodes(**fixes: Handler) -> dict[str, Handler]:
    """How a dialect writes the segwise nodes: the unbound parameters fail, the rest as given."""
    table: dict[str, Handler] = {kind: _unbound for kind in PARAMETER_KINDS}
    table[REGEX_SEARCH] = _regex_generic
    table.update(fixes)
    return table


DUCKDB_NODES = _nodes(JSON_TEXT=_json_text_duckdb, ELAPSED_MICROS=_micros_duckdb)
POSTGRES_NODES = _nodes(JSON_TEXT=_json_text_postgres, ELAPSED_MICROS=_micros_postgres)
SNOWFLAKE_NODES = _nodes(
    JSON_TEXT=_json_text_snowflake, ELAPSED_MICROS=_micros_snowflake, REGEX_SEARCH=_regex_snowflake
)
BIGQUERY_NODES = _nodes(JSON_TEXT=_json_text_bigquery, ELAPSED_MICROS=_micros_bigquery)


class SegwiseDuckDB(DuckDB):
    class Generator(DuckDB.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **DuckDB.Generator.TRANSFORMS,
            exp.Anonymous: nodes.dispatch(DUCKDB_NODES),
        }


class SegwisePostgres(Postgres):
    class Generator(Postgres.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **Postgres.Generator.TRANSFORMS,
            exp.Anonymous: nodes.dispatch(POSTGRES_NODES),
        }


class SegwiseSnowflake(Snowflake):
    class Generator(Snowflake.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **Snowflake.Generator.TRANSFORMS,
            exp.Anonymous: nodes.dispatch(SNOWFLAKE_NODES),
            # Snowflake's own SELECT rewrites, less those for UNNEST, date arrays and
            # variant dot-lookups: segwise emits none of them, and their per-SELECT scope
            # analysis took as long as generating the rest of a 1,000-segment model.
            exp.Select: transforms.preprocess(
                [
                    transforms.eliminate_window_clause,
                    transforms.eliminate_distinct_on,
                    transforms.eliminate_semi_and_anti_joins,
                ]
            ),
        }


class SegwiseBigQuery(BigQuery):
    class Generator(BigQuery.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **BigQuery.Generator.TRANSFORMS,
            exp.Anonymous: nodes.dispatch(BIGQUERY_NODES),
            # As for Snowflake: less the UNNEST and EXPLODE rewrites (segwise emits neither;
            # their scope walks were most of a 1,000-segment model's rendering) and the
            # ORDER BY aliasing of grouped SELECTs (segwise never sorts a SELECT).
            exp.Select: transforms.preprocess(
                [transforms.eliminate_distinct_on, transforms.eliminate_semi_and_anti_joins]
            ),
        }


def subclasses_work() -> bool:
    """False under sqlglotc (`sqlglot[c]`; `sqlglot[rs]`, and so dagster-dbt, install it): its
    generators are compiled classes, which refuse Python subclasses when instantiated."""
    try:
        SegwiseDuckDB().generator()
    except TypeError:
        return False
    return True


# --- per-dialect types --------------------------------------------------------------------


# Node meta keys marking the nodes `Target.retarget` rewrites.
INSTANT = "segwise_instant"
ORDERED = "segwise_ordered"


@functools.cache
def _data_type(name: str) -> exp.DataType:
    """Parsed once: DataType.build parses its text, thousands of times in a large project."""
    return exp.DataType.build(name)


@dataclass(frozen=True)
class Target:
    """A dialect: the sqlglot dialect used to write SQL, the one used to read it back, and the
    types segwise casts to (a UTC instant is TIMESTAMP on BigQuery, TIMESTAMP_NTZ elsewhere)."""

    name: str
    writer: type[Dialect]
    reader: str
    timestamp: str = "timestamp"
    nodes: Mapping[str, Handler] = field(default_factory=dict, compare=False)  # how it writes segwise nodes
    # True under sqlglotc: `writer` is sqlglot's own dialect, and `nodes` are applied by
    # `nodes.lower` before it writes; else `writer`'s generator applies them as it goes.
    lowered: bool = False

    def type(self, name: str) -> exp.DataType:
        if name == "timestamp":
            instant = exp.DataType(this=_data_type(self.timestamp).this)
            instant.meta[INSTANT] = True  # for `retarget`
            return instant
        built = _data_type(name)
        if set(built.args) <= {"this", "nested"} and not built.args.get("nested"):
            return exp.DataType(this=built.this)  # much cheaper than copying
        return built.copy()

    def cast(self, e: exp.Expr, name: str) -> exp.Cast:
        """CAST(e AS the dialect's `name` type); takes ownership of `e`."""
        return exp.Cast(this=e, to=self.type(name))

    def ordered(self, e: exp.Expr, desc: bool = False) -> exp.Ordered:
        """ORDER BY key with the dialect's own NULL placement, so no NULLS clause is emitted
        (BigQuery rejects some in window functions); segwise never sorts NULLs anyway."""
        ordered = exp.Ordered(this=e, desc=desc, nulls_first=self._nulls_first(desc))
        ordered.meta[ORDERED] = True  # for `retarget`
        return ordered

    def _nulls_first(self, desc: bool) -> bool:
        return {"nulls_are_small": not desc, "nulls_are_large": desc}.get(self.writer.NULL_ORDERING, False)

    def retarget(self, tree: exp.Expr) -> exp.Expr:
        """`tree`, built for another target, made this target's, in place: its instants and
        sort keys are the only dialect-specific nodes a segwise tree holds (the rest is written
        by each dialect's generator). Building once and retargeting saves three builds of a
        large model."""
        for node in tree.walk():
            if type(node) is exp.DataType and node.meta.get(INSTANT):
                node.set("this", _data_type(self.timestamp).this)
            elif type(node) is exp.Ordered and node.meta.get(ORDERED):
                node.set("nulls_first", self._nulls_first(bool(node.args.get("desc"))))
        return tree

    def sql(self, expression: exp.Expr, pretty: bool = True, copy: bool = True) -> str:
        """The SQL text; `copy=False` lets the generator's transforms work on `expression`
        itself (a throw-away tree: copying a 1,000-segment tree costs seconds)."""
        if not self.lowered:
            return self.writer().generate(expression, copy=copy, pretty=pretty)
        return self.lowered_sql(expression.copy() if copy else expression, self.nodes, pretty)

    def lowered_sql(
        self,
        tree: exp.Expr,
        handlers: Mapping[str, Handler],
        pretty: bool,
        rewrites: Rewrites | None = None,
    ) -> str:
        """`tree` (consumed) written by sqlglot's own generator, after `nodes.lower` with these
        handlers and rewrites: the way under sqlglotc."""
        gen = self.writer().generator(pretty=pretty)
        sql: str = gen.generate(nodes.lower(tree, handlers, gen, rewrites), copy=False)
        return sql


def make_targets(subclassed: bool) -> dict[str, Target]:
    """The four targets: segwise's generator subclasses write its nodes as they go (the fast
    way), or the nodes are lowered first onto sqlglot's own generators (what sqlglotc allows).
    Both write the same SQL (tests/test_lowered_generation.py)."""
    dialects = [
        ("duckdb", SegwiseDuckDB, DuckDB, DUCKDB_NODES, "timestamp"),
        ("postgres", SegwisePostgres, Postgres, POSTGRES_NODES, "timestamp"),
        ("snowflake", SegwiseSnowflake, Snowflake, SNOWFLAKE_NODES, "timestampntz"),
        ("bigquery", SegwiseBigQuery, BigQuery, BIGQUERY_NODES, "timestamptz"),
    ]
    return {
        name: Target(name, own if subclassed else stock, name, timestamp, handlers, lowered=not subclassed)
        for name, own, stock, handlers, timestamp in dialects
    }


TARGETS: dict[str, Target] = make_targets(subclasses_work())


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise CompileError(f"unknown dialect {name!r}: choose one of {', '.join(TARGETS)}") from None
