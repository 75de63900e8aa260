"""Keeping user text inert inside dbt's Jinja.

dbt renders model files and YAML descriptions as Jinja templates, so a rule value such as
`'{{ var("x") }}'` would be executed. In SQL every string literal holding a Jinja opener is
written as concatenated pieces (same value, no opener); in YAML text each opener is written
as a Jinja expression that prints it.
"""

from __future__ import annotations

import functools
import re

from sqlglot import exp
from sqlglot.generator import Generator

from segwise.sql.dialects import Target

OPENERS = re.compile(r"\{[{%#]")


def split_literal(node: exp.Literal) -> exp.Expr:
    """'a{{b' as ('a{' || '{b'); other literals as they are."""
    if not (node.is_string and OPENERS.search(node.this)):
        return node
    text: str = node.this
    pieces: list[str] = []
    start = 0
    for match in OPENERS.finditer(text):
        pieces.append(text[start : match.start() + 1])
        start = match.start() + 1
    pieces.append(text[start:])
    out: exp.Expr = exp.Literal.string(pieces[0])
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=exp.Literal.string(piece), safe=True)
    return exp.paren(out)


@functools.cache
def _inert_generator(base: type[Generator]) -> type[Generator]:
    """`base`, writing string literals split (a rewrite while generating: no extra tree walk)."""

    class Inert(base):  # type: ignore[valid-type,misc]
        def literal_sql(self, expression: exp.Literal) -> str:
            split = split_literal(expression)
            sql: str = super().literal_sql(expression) if split is expression else self.sql(split)
            return sql

    return Inert


def dbt_sql(target: Target, tree: exp.Expr) -> str:
    """`tree` as SQL for a dbt model file: pretty, and no Jinja opener in any literal. Consumes
    `tree` (the generator's transforms may rewrite it)."""
    dialect = target.writer()
    generator = _inert_generator(dialect.generator_class)
    sql: str = generator(dialect=dialect, pretty=True).generate(tree, copy=False)
    return sql


def inert_text(text: str) -> str:
    """Text for a Jinja-rendered YAML field: `{{` is written as `{{ '{{' }}`."""
    return OPENERS.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)
