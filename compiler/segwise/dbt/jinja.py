"""Keeping user text inert inside dbt's Jinja.

dbt renders model files and YAML descriptions as Jinja templates, so a rule value such as
`'{{ var("x") }}'` would be executed. In SQL every string literal holding a Jinja opener is
split into concatenated pieces (same value, no opener); in YAML text each opener is written
as a Jinja expression that prints it.
"""

from __future__ import annotations

import re

from sqlglot import exp

OPENERS = re.compile(r"\{[{%#]")


def inert_literals(tree: exp.Expr) -> exp.Expr:
    """Split string literals around `{{`, `{%`, `{#`: 'a{{b' becomes 'a{' || '{b'. Works in
    place on `tree`."""

    def split(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Literal) and node.is_string and OPENERS.search(node.this)):
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

    return tree.transform(split, copy=False)  # callers pass freshly built trees


def inert_text(text: str) -> str:
    """Text for a Jinja-rendered YAML field: `{{` is written as `{{ '{{' }}`."""
    return OPENERS.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)
