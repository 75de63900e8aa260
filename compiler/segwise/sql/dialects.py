"""The four target dialects, each sqlglot's own dialect plus the few fixes segwise needs.

The compiler builds generic sqlglot expressions and a handful of segwise nodes below for the
operations sqlglot translates wrongly or not at all. Each dialect's fixes live in
one TRANSFORMS table of one Generator subclass, the way sqlglot itself organises dialects, so
there is no `if dialect == ...` anywhere else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlglot import exp, transforms
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.generator import Generator

from segwise.errors import CompileError
from segwise.sql.params import CandidateScope, ModelRelation, RunParameter, StateRelation, StoreIngest, Widened

# --- segwise nodes ----------------------------------------------------------------------


class JsonText(exp.Expression, exp.Func):
    """The text of top-level key `key` of a JSON text/JSON column; NULL when absent or JSON null.

    sqlglot's JSONExtractScalar emits a JSONPath that Postgres' `->>` and Snowflake's
    JSON_EXTRACT_PATH_TEXT do not understand.
    """

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "key": True}


class ElapsedMicros(exp.Expression, exp.Func):
    """Exact microseconds from `expression` to `this` (DateDiff means different things per
    engine: a boundary count on DuckDB, Snowflake and BigQuery, rounding on PostgreSQL)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class RegexSearch(exp.Expression, exp.Func):
    """Partial regular-expression match. Snowflake's REGEXP_LIKE is anchored at both ends."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


def _json_text_duckdb(gen: Generator, e: JsonText) -> str:
    return gen.func("JSON_EXTRACT_STRING", e.this, exp.Literal.string(f"$.{e.args['key']}"))


def _json_text_postgres(gen: Generator, e: JsonText) -> str:
    # CAST to JSONB accepts text, json and jsonb columns alike.
    doc = exp.cast(e.this, exp.DataType.build("jsonb"))
    return f"({gen.sql(doc)} ->> {gen.sql(exp.Literal.string(e.args['key']))})"


def _json_text_snowflake(gen: Generator, e: JsonText) -> str:
    # TO_VARCHAR makes VARIANT and VARCHAR columns both valid arguments.
    return gen.func("JSON_EXTRACT_PATH_TEXT", exp.func("TO_VARCHAR", e.this), exp.Literal.string(e.args["key"]))


def _json_text_bigquery(gen: Generator, e: JsonText) -> str:
    return gen.func("JSON_EXTRACT_SCALAR", e.this, exp.Literal.string(f"$.{e.args['key']}"))


def _micros_duckdb(gen: Generator, e: ElapsedMicros) -> str:
    return f"(EPOCH_US({gen.sql(e.this)}) - EPOCH_US({gen.sql(e.expression)}))"


def _micros_postgres(gen: Generator, e: ElapsedMicros) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {gen.sql(e.this)} - {gen.sql(e.expression)}) * 1000000 AS BIGINT)"


def _micros_snowflake(gen: Generator, e: ElapsedMicros) -> str:
    return f"DATEDIFF(MICROSECOND, {gen.sql(e.expression)}, {gen.sql(e.this)})"


def _micros_bigquery(gen: Generator, e: ElapsedMicros) -> str:
    return f"TIMESTAMP_DIFF({gen.sql(e.this)}, {gen.sql(e.expression)}, MICROSECOND)"


def _regex_generic(gen: Generator, e: RegexSearch) -> str:
    return gen.sql(exp.RegexpLike(this=e.this, expression=e.expression))


def _regex_snowflake(gen: Generator, e: RegexSearch) -> str:
    return f"(REGEXP_INSTR({gen.sql(e.this)}, {gen.sql(e.expression)}) > 0)"


def _unbound(gen: Generator, e: exp.Expr) -> str:
    raise CompileError(
        f"unbound {type(e).__name__} {e.this!r}: a query with run-time parameters is written by the dbt layer "
        "(segwise.dbt.jinja), which binds them"
    )


def _transforms(base: type[Generator], **fixes: Any) -> dict[type[exp.Expr], Any]:
    table: dict[type[exp.Expr], Any] = {
        **base.TRANSFORMS,
        RunParameter: _unbound,
        ModelRelation: _unbound,
        CandidateScope: _unbound,
        StateRelation: _unbound,
        StoreIngest: _unbound,
        Widened: _unbound,
        RegexSearch: _regex_generic,
    }
    table.update({(globals().get(name) or getattr(exp, name)): fn for name, fn in fixes.items()})
    return table


class SegwiseDuckDB(DuckDB):
    class Generator(DuckDB.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS = _transforms(DuckDB.Generator, JsonText=_json_text_duckdb, ElapsedMicros=_micros_duckdb)


class SegwisePostgres(Postgres):
    class Generator(Postgres.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS = _transforms(Postgres.Generator, JsonText=_json_text_postgres, ElapsedMicros=_micros_postgres)


class SegwiseSnowflake(Snowflake):
    class Generator(Snowflake.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS = _transforms(
            Snowflake.Generator,
            JsonText=_json_text_snowflake,
            ElapsedMicros=_micros_snowflake,
            RegexSearch=_regex_snowflake,
            # Snowflake's own SELECT rewrites, less those for UNNEST, date arrays and
            # variant dot-lookups: segwise emits none of them, and their per-SELECT scope
            # analysis took as long as generating the rest of a 1,000-segment model.
            Select=transforms.preprocess(
                [
                    transforms.eliminate_window_clause,
                    transforms.eliminate_distinct_on,
                    transforms.eliminate_semi_and_anti_joins,
                ]
            ),
        )


class SegwiseBigQuery(BigQuery):
    class Generator(BigQuery.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS = _transforms(
            BigQuery.Generator,
            JsonText=_json_text_bigquery,
            ElapsedMicros=_micros_bigquery,
            # As for Snowflake: less the UNNEST and EXPLODE rewrites (segwise emits neither;
            # their scope walks were most of a 1,000-segment model's rendering) and the
            # ORDER BY aliasing of grouped SELECTs (segwise never sorts a SELECT).
            Select=transforms.preprocess([transforms.eliminate_distinct_on, transforms.eliminate_semi_and_anti_joins]),
        )


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
        return self.writer().generate(expression, copy=copy, pretty=pretty)


TARGETS: dict[str, Target] = {
    "duckdb": Target("duckdb", SegwiseDuckDB, "duckdb"),
    "postgres": Target("postgres", SegwisePostgres, "postgres"),
    "snowflake": Target("snowflake", SegwiseSnowflake, "snowflake", timestamp="timestampntz"),
    "bigquery": Target("bigquery", SegwiseBigQuery, "bigquery", timestamp="timestamptz"),
}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise CompileError(f"unknown dialect {name!r}: choose one of {', '.join(TARGETS)}") from None
