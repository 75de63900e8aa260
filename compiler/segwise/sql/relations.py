"""How the configured relations appear in SQL.

`segwise compile` and `preview` read tables directly (`ref('x')` is the table `x` of the
target schema); for the dbt models `ref` and `source` stay parameters that the dbt layer
writes as dbt's own `ref`/`source`, so dbt resolves and orders them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

from segwise.config import Ref, Relation, SourceRef, TableName
from segwise.sql.params import ModelRelation

Resolver = Callable[[Relation], exp.Expr]


def _table(parts: tuple[str, ...]) -> exp.Table:
    names = [exp.to_identifier(p) for p in parts]
    table = names[-1]
    db = names[-2] if len(names) > 1 else None
    catalog = names[-3] if len(names) > 2 else None
    return exp.Table(this=table, db=db, catalog=catalog)


def direct(
    schema: str | None = None,
    database: str | None = None,
    sources: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
) -> Resolver:
    """Relations as plain tables; `ref`/`source` tables looked up in `schema` when given.

    `database` (a catalog, a BigQuery project) qualifies `ref('x')` and `source('a', 'b')`
    when a schema is given; `sources` maps (source, table) to the relation's parts where the
    dbt project declares them (preview and explain, through the dbt profile).
    """

    def resolve(relation: Relation) -> exp.Expr:
        match relation:
            case Ref(name=name):
                if not schema:
                    return _table((name,))
                return _table((database, schema, name) if database else (schema, name))
            case SourceRef(source=source, table=table):
                declared = (sources or {}).get((source, table))
                if declared is not None:
                    return _table(declared)
                return _table((database, source, table) if database else (source, table))
            case TableName(parts=parts):
                return _table(parts)

    return resolve


def for_models(relation: Relation) -> exp.Expr:
    """Relations for a caller that resolves `ref`/`source` itself (the dbt models): a
    `ModelRelation` parameter, bound when the model is written."""
    match relation:
        case Ref(name=name):
            return ModelRelation(this=name)
        case SourceRef(source=source, table=table):
            return ModelRelation(this=table, source=source)
        case TableName(parts=parts):
            return _table(parts)
