"""Typed access to positioned YAML nodes that reports problems instead of raising.

Every accessor returns None after recording a Diagnostic at the offending node, so a
validator can keep going and report every mistake of a file in one run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode

from segwise.errors import Diagnostic, closest_names
from segwise.loading.yaml_source import CORE, YMap, YNode, YScalar, YSeq
from segwise.rules.values import Location

# Names users write (traits, properties) and SQL identifiers (columns, relation parts).
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
NAME_HELP = "use letters, digits and _, not starting with a digit"
# Decides what a quoted value would be unquoted, exactly as the loader will read it.
_RESOLVER = YAML(typ="safe", pure=True).resolver


class Reporter:
    """Collects the Diagnostics of one file."""

    def __init__(self, file: str):
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def error(self, at: YNode, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(self.file, at.line, at.col, message, hint))

    def location(self, node: YNode) -> Location:
        return Location(self.file, node.line, node.col)


def describe(node: YNode) -> str:
    """What the user wrote, for 'got ...' in messages."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {node.raw}"
    return f"the string {value!r}"


def nearest(word: str, choices: Sequence[str]) -> str | None:
    """The one choice `word` begins (`recency` -> `recency_days`, which difflib ranks below
    `frequency`), else the choice closest to it, the case of letters aside; None if none is."""
    folded = word.lower()
    starting = [choice for choice in choices if len(word) >= 3 and choice.lower().startswith(folded)]
    near = starting if len(starting) == 1 else closest_names(word, choices, n=1)
    return near[0] if near else None


def closest(word: str, choices: Sequence[str]) -> str | None:
    """A hint naming the closest choice, or listing them all when none is close."""
    if not choices:
        return None
    near = nearest(word, choices)
    return f"did you mean '{near}'?" if near else f"expected one of: {', '.join(choices)}"


def unquote_hint(node: YNode, key: str | None, kind: str) -> str | None:
    """`write it without quotes: gt: 12` when a quoted string would be the `kind` ("int",
    "float" or "bool") needed unquoted; "float" accepts integers too. `key` is None for
    an item of a list."""
    if not (isinstance(node, YScalar) and isinstance(node.value, str)):
        return None
    text = node.value.strip()
    tag = str(_RESOLVER.resolve(ScalarNode, text, (True, False))).removeprefix(CORE)
    wanted = ("int", "float") if kind == "float" else (kind,)
    if tag not in wanted or re.search("inf|nan", text, re.IGNORECASE):  # `.inf` unquoted is not finite either
        return None
    return f"write it without quotes: {key}: {text}" if key else f"write it without quotes: {text}"


def as_map(r: Reporter, node: YNode, what: str) -> YMap | None:
    if isinstance(node, YMap):
        return node
    r.error(node, f"{what} must be a mapping, got {describe(node)}")
    return None


def as_list(r: Reporter, node: YNode, what: str, *, non_empty: bool = False) -> tuple[YNode, ...] | None:
    if not isinstance(node, YSeq):
        r.error(node, f"{what} must be a list, got {describe(node)}")
        return None
    if non_empty and not node.items:
        r.error(node, f"{what} must be a non-empty list")
        return None
    return node.items


def as_str(r: Reporter, node: YNode, what: str, *, non_empty: bool = True) -> str | None:
    if not (isinstance(node, YScalar) and isinstance(node.value, str)):
        r.error(node, f"{what} must be a string, got {describe(node)}")
        return None
    if non_empty and not node.value:
        r.error(node, f"{what} must be a non-empty string")
        return None
    return node.value


def as_name(r: Reporter, node: YNode, what: str, pattern: re.Pattern[str] = NAME_RE) -> str | None:
    """A string matching `pattern` (trait, property and column names)."""
    text = as_str(r, node, what)
    if text is not None and not pattern.match(text):
        r.error(node, f"invalid {what}: {text!r}", NAME_HELP)
        return None
    return text


def as_bool(r: Reporter, node: YNode, what: str) -> bool | None:
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        return node.value
    r.error(node, f"{what} must be true or false, got {describe(node)}", unquote_hint(node, what, "bool"))
    return None


def as_int(r: Reporter, node: YNode, what: str, low: int, high: int | None = None) -> int | None:
    """An integer (not a boolean, not a float) in [low, high]."""
    value = node.value if isinstance(node, YScalar) else None
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    if not isinstance(value, int) or isinstance(value, bool):
        r.error(node, f"{what} must be an integer {bounds}, got {describe(node)}", unquote_hint(node, what, "int"))
        return None
    if value < low or (high is not None and value > high):
        r.error(node, f"{what} must be an integer {bounds}, got {value}")
        return None
    return value


def as_number(r: Reporter, node: YNode, what: str) -> float | None:
    """A finite int or float, as float (booleans are not numbers)."""
    value = node.value if isinstance(node, YScalar) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            return float(value)
        r.error(node, f"{what} must be a finite number, got {describe(node)}")
        return None
    key = what.rsplit(".", 1)[-1]  # `near.lat` -> `lat`
    r.error(node, f"{what} must be a number, got {describe(node)}", unquote_hint(node, key, "float"))
    return None


def check_keys(r: Reporter, m: YMap, allowed: Sequence[str], what: str) -> bool:
    """Report every key of `m` outside `allowed`, hinting the closest allowed key."""
    ok = True
    for key in m:
        if key not in allowed:
            r.error(m.key_node(key), f"unknown key '{key}' in {what}", closest(key, allowed))
            ok = False
    return ok


def require(r: Reporter, m: YMap, key: str, what: str) -> YNode | None:
    node = m.get(key)
    if node is None:
        r.error(m, f"{what} is missing required key '{key}'")
    return node
