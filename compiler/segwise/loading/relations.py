"""`ref('x')`, `source('a', 'b')` and `[db.]schema.table` as written in segwise.yml."""

from __future__ import annotations

import re

from segwise.config import Ref, Relation, SourceRef, TableName
from segwise.loading.reader import IDENTIFIER_RE

_QUOTED = r"""\s*(?:'([^']*)'|"([^"]*)")\s*"""
REF_RE = re.compile(rf"^ref\({_QUOTED}\)$")
SOURCE_RE = re.compile(rf"^source\({_QUOTED},{_QUOTED}\)$")
USAGE = "use ref('model'), source('source', 'table'), schema.table or db.schema.table"


def parse_relation(text: str) -> Relation:
    """Raise ValueError with a user-facing message when `text` is not a relation."""
    text = text.strip()
    if ref := REF_RE.match(text):
        return Ref(_identifier(ref.group(1) or ref.group(2), text))
    if source := SOURCE_RE.match(text):
        names = [group for group in source.groups() if group is not None]
        if len(names) == 2:
            return SourceRef(_identifier(names[0], text), _identifier(names[1], text))
    if text.startswith(("ref(", "source(")):
        raise ValueError(f"bad relation {text!r}: {USAGE}")
    parts = text.split(".")
    if 1 <= len(parts) <= 3:
        return TableName(tuple(_identifier(part, text) for part in parts))
    raise ValueError(f"bad relation {text!r}: {USAGE}")


def _identifier(name: str, relation: str) -> str:
    if not IDENTIFIER_RE.match(name):
        raise ValueError(f"bad relation {relation!r}: {name!r} is not a plain identifier (letters, digits, _ and $)")
    return name
