"""How the configured relations appear in SQL.

`segwise compile` and `preview` read tables directly (`ref('x')` is the table `x` of the
target schema); the dbt models render `{{ ref('x') }}` so dbt resolves and orders them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from segwise.config import Ref, Relation, SourceRef, TableName
from segwise.sql.dialects import Template

Resolver = Callable[[Relation], exp.Expr]


def _table(parts: tuple[str, ...]) -> exp.Table:
    names = [exp.to_identifier(p) for p in parts]
    table = names[-1]
    db = names[-2] if len(names) > 1 else None
    catalog = names[-3] if len(names) > 2 else None
    return exp.Table(this=table, db=db, catalog=catalog)


def direct(schema: str | None = None) -> Resolver:
    """Relations as plain tables; `ref`/`source` tables looked up in `schema` when given."""

    def resolve(relation: Relation) -> exp.Expr:
        match relation:
            case Ref(name=name):
                return _table((schema, name) if schema else (name,))
            case SourceRef(source=source, table=table):
                return _table((source, table))
            case TableName(parts=parts):
                return _table(parts)

    return resolve


def dbt(relation: Relation) -> exp.Expr:
    """`{{ ref('x') }}` / `{{ source('a', 'b') }}`; names are validated identifiers."""
    match relation:
        case Ref(name=name):
            return Template(this=f"{{{{ ref('{name}') }}}}")
        case SourceRef(source=source, table=table):
            return Template(this=f"{{{{ source('{source}', '{table}') }}}}")
        case TableName(parts=parts):
            return _table(parts)
