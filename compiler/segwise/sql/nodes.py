"""segwise's own nodes in sqlglot trees, as `exp.Anonymous` nodes named SEGWISE_<KIND>.

Not subclasses of sqlglot's expressions: sqlglotc (the compiled sqlglot that `sqlglot[c]` and
`sqlglot[rs]` install, dagster-dbt among those who ask for it) refuses Python subclasses of
its classes. An Anonymous node walks, copies and replaces like any other; its name marks it,
and its arguments sit under named keys (the main one under `operand`: an Anonymous node's
`this` is its name). No rule text ever becomes a function name, so the names cannot collide.

How each kind is written is per dialect (segwise.sql.dialects) and per caller (the dbt layer's
Jinja, segwise.dbt.jinja): handlers by kind, run inside the generator where subclassing it is
allowed, and by `lower` before the stock generator where it is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlglot import exp
from sqlglot.generator import Generator

from segwise.errors import CompileError

PREFIX = "SEGWISE_"
OPERAND = "operand"

# How a caller writes one kind: the SQL text, a tree of sqlglot's own nodes, or None (as is).
Handler = Callable[[Generator, exp.Anonymous], "str | exp.Expr | None"]
# Nodes of sqlglot's own types that a caller rewrites before generating (literals split, say).
Rewrites = Mapping[type[exp.Expr], Callable[[Any], exp.Expr]]


def make(kind: str, operand: Any = None, /, **args: Any) -> exp.Anonymous:
    node = exp.Anonymous(this=PREFIX + kind)
    if operand is not None:
        node.set(OPERAND, operand)
    for key, value in args.items():
        if value is not None:
            node.set(key, value)
    return node


def kind_of(node: exp.Expr) -> str | None:
    """The kind of a segwise node, else None."""
    if type(node) is not exp.Anonymous:
        return None
    name = node.name
    return name[len(PREFIX) :] if name.startswith(PREFIX) else None


def operand(node: exp.Anonymous) -> Any:
    return node.args.get(OPERAND)


def find_all(tree: exp.Expr, kind: str) -> Iterator[exp.Anonymous]:
    for node in tree.find_all(exp.Anonymous):
        if kind_of(node) == kind:
            yield node


def dispatch(handlers: Mapping[str, Handler]) -> Callable[[Generator, exp.Anonymous], str]:
    """A generator's TRANSFORMS entry for exp.Anonymous: segwise nodes by their handlers, any
    other anonymous function as sqlglot writes it."""

    def write(gen: Generator, node: exp.Anonymous) -> str:
        kind = kind_of(node)
        if kind is None:
            return gen.anonymous_sql(node)
        made = _handler(handlers, kind)(gen, node)
        if made is None:
            return gen.anonymous_sql(node)
        return made if isinstance(made, str) else gen.sql(made)

    return write


def _handler(handlers: Mapping[str, Handler], kind: str) -> Handler:
    try:
        return handlers[kind]
    except KeyError:  # a node its maker should have bound (backfill's instant, say)
        raise CompileError(f"segwise node {kind} has no SQL here; this is a segwise bug") from None


def lower(
    tree: exp.Expr,
    handlers: Mapping[str, Handler],
    gen: Generator,
    rewrites: Rewrites | None = None,
) -> exp.Expr:
    """`tree`, in place, with each segwise node replaced by what its handler makes of it (text
    is kept verbatim, as an `exp.Var`), and each node of a `rewrites` type by its rewrite.
    Children go first, so a handler writes children that hold no segwise node; sqlglot's own
    generator then writes the rest. The same SQL as the handlers inside a generator."""
    for node in reversed(list(tree.walk(bfs=False))):
        kind = kind_of(node)
        made: str | exp.Expr | None
        if kind is not None:
            made = _handler(handlers, kind)(gen, node)  # type: ignore[arg-type]
        elif rewrites and type(node) in rewrites:
            made = rewrites[type(node)](node)
        else:
            continue
        if made is None or made is node:
            continue
        replacement = exp.Var(this=made) if isinstance(made, str) else made
        if node is tree:
            return replacement
        node.replace(replacement)
    return tree
