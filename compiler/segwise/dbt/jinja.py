"""Writing SQL into dbt model files: the query's parameters as dbt Jinja, user text inert.

The SQL layer's parameters (segwise.sql.params) become the Jinja of the model: the run's
values come from `segwise.context()` (macros/segwise_context.sql) as `sw.<name>`, relations
become dbt's `ref()`/`source()`, and the candidate restriction becomes an `{% if %}` on the
run's mode, so the SQL a run executes holds only what that mode needs.

dbt renders model files and YAML descriptions as Jinja templates, so a rule value such as
`'{{ var("x") }}'` would be executed. In SQL every string literal holding a Jinja opener is
written as concatenated pieces (same value, no opener); in YAML text each opener is written
as a Jinja expression that prints it.
"""

from __future__ import annotations

import functools
import re
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.generator import Generator

from segwise.errors import CompileError
from segwise.sql import nodes
from segwise.sql.dialects import Target
from segwise.sql.nodes import Handler, operand
from segwise.sql.params import (
    CANDIDATE_SCOPE,
    MODEL_RELATION,
    RUN_PARAMETER,
    STATE_RELATION,
    STORE_INGEST,
    WIDENED,
    Param,
)

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


# The run context's name in the model (`{%- set sw = segwise.context() %}`), and the key of
# each parameter in it.
CONTEXT = "sw"
CONTEXT_KEYS = {
    Param.AS_OF: "as_of",
    Param.PREV_AS_OF: "prev_as_of",
    Param.LOADED_AFTER: "loaded_after",
    Param.NEW_SINCE: "new_since",
    Param.UPDATED_AFTER: "updated_after",
    Param.INCREMENTAL: "incremental_sql",
    Param.STORE_LOADED_AFTER: "store_loaded_after",
}
# ref/source arguments: validated identifiers, checked again before they enter Jinja.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def _parameter(gen: Generator, e: exp.Anonymous) -> str:
    return f"{{{{ {CONTEXT}.{CONTEXT_KEYS[Param(operand(e))]} }}}}"


def _relation(gen: Generator, e: exp.Anonymous) -> str:
    names = [n for n in (e.args.get("source"), operand(e)) if n]
    if not all(_NAME.match(n) for n in names):
        raise CompileError(f"cannot name the relation {names!r} in a dbt model")
    quoted = ", ".join(f"'{n}'" for n in names)
    alias = e.args.get("alias")
    written = f"{{{{ {'source' if len(names) == 2 else 'ref'}({quoted}) }}}}"
    return f"{written} AS {gen.sql(alias)}" if alias else written


def _scope(gen: Generator, e: exp.Anonymous) -> str:
    return f"{{% if {CONTEXT}.full %}}TRUE{{% else %}}({gen.sql(operand(e))}){{% endif %}}"


def _state_relation(gen: Generator, e: exp.Anonymous) -> str:
    name = operand(e)
    if not _NAME.match(name):
        raise CompileError(f"cannot name the state table {name!r} in a dbt model")
    written = f"{{{{ segwise.state_relation('{name}') }}}}"
    alias = e.args.get("alias")
    return f"{written} AS {gen.sql(alias)}" if alias else written


def _ingest(gen: Generator, e: exp.Anonymous) -> str:
    return f"{{% if {CONTEXT}.store_rebuild %}}TRUE{{% else %}}({gen.sql(operand(e))}){{% endif %}}"


def _widened(gen: Generator, e: exp.Anonymous) -> str:
    names = [n for n in operand(e).split(",") if n]
    if not all(_NAME.match(n) for n in names) or e.text("kind") not in ("segments", "groups"):
        raise CompileError(f"cannot name {names!r} in a dbt model")
    listed = ", ".join(f"'{n}'" for n in names)
    return f"{{{{ segwise.widened({CONTEXT}, '{e.text('kind')}', [{listed}]) }}}}"


JINJA_NODES: dict[str, Handler] = {
    RUN_PARAMETER: _parameter,
    MODEL_RELATION: _relation,
    CANDIDATE_SCOPE: _scope,
    STATE_RELATION: _state_relation,
    STORE_INGEST: _ingest,
    WIDENED: _widened,
}


@functools.cache
def _inert_generator(target: Target) -> type[Generator]:
    """The target's generator, binding the parameters as dbt Jinja and writing string
    literals split (a rewrite while generating: no extra tree walk)."""
    base = target.writer.generator_class

    class Inert(base):  # type: ignore[valid-type,misc]
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **base.TRANSFORMS,
            exp.Anonymous: nodes.dispatch({**target.nodes, **JINJA_NODES}),
        }

        def literal_sql(self, expression: exp.Literal) -> str:
            split = split_literal(expression)
            sql: str = super().literal_sql(expression) if split is expression else self.sql(split)
            return sql

    return Inert


def dbt_sql(target: Target, tree: exp.Expr) -> str:
    """`tree` as SQL for a dbt model file: pretty, and no Jinja opener in any literal. Consumes
    `tree` (the generator's transforms may rewrite it)."""
    if target.lowered:  # sqlglotc: no subclass; the same handlers and splits, before generating
        return target.lowered_sql(tree, {**target.nodes, **JINJA_NODES}, True, {exp.Literal: split_literal})
    dialect = target.writer()
    sql: str = _inert_generator(target)(dialect=dialect, pretty=True).generate(tree, copy=False)
    return sql


def inert_text(text: str) -> str:
    """Text for a Jinja-rendered YAML field: `{{` is written as `{{ '{{' }}`."""
    return OPENERS.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)
