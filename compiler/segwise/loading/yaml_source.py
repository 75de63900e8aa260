"""YAML text -> a tree of positioned nodes: every key and every value knows its line and column.

Built from ruamel.yaml's composed nodes rather than its constructed objects, so that
a scalar keeps the text it was written as (an unquoted `2025-01-31` stays that string instead of
becoming a `date`) and duplicate keys, odd tags and alias bombs become Diagnostics, never
exceptions.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from segwise.errors import Diagnostic

Scalar = str | int | float | bool | None

CORE = "tag:yaml.org,2002:"
TEXT_TAGS = {CORE + "str", CORE + "timestamp"}  # timestamps stay text: parse_iso decides
CONSTRUCTED_TAGS = {CORE + "int", CORE + "float", CORE + "bool", CORE + "null"}
MERGE_TAG = CORE + "merge"

# Aliases are expanded; this bounds what a few lines of `*alias` can expand to.
MAX_NODES = 250_000


@dataclass(frozen=True, eq=False)
class YScalar:
    value: Scalar
    raw: str  # the text as written (without quotes)
    line: int  # 1-based
    col: int  # 1-based


@dataclass(frozen=True, eq=False)
class YSeq:
    items: tuple[YNode, ...]
    line: int
    col: int


@dataclass(frozen=True, eq=False)
class YMap:
    """Entries in written order: key text -> (key node, value node)."""

    entries: dict[str, tuple[YScalar, YNode]]
    line: int
    col: int

    def get(self, key: str) -> YNode | None:
        entry = self.entries.get(key)
        return entry[1] if entry else None

    def key_node(self, key: str) -> YScalar:
        return self.entries[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries


YNode = YScalar | YSeq | YMap


class _Converter:
    """Composed ruamel nodes -> Y* nodes, collecting problems instead of raising."""

    def __init__(self, yaml: YAML, file: str):
        self.yaml = yaml
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.in_progress: set[int] = set()
        self.count = 0

    def error(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.diagnostics.append(Diagnostic(self.file, mark.line + 1, mark.column + 1, message))

    def convert(self, node: Node) -> YNode:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if id(node) in self.in_progress:
            self.error(node, "recursive YAML alias")
            return YScalar(None, "", line, col)
        if isinstance(node, ScalarNode):
            return self.scalar(node, line, col)
        self.in_progress.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return YSeq(tuple(self.convert(item) for item in node.value), line, col)
            assert isinstance(node, MappingNode)
            return self.mapping(node, line, col)
        finally:
            self.in_progress.discard(id(node))

    def scalar(self, node: ScalarNode, line: int, col: int) -> YScalar:
        if node.value == "" and not node.style and self.yaml.typ != ["rt"]:
            raise _Reparse  # libyaml places empty values elsewhere than ruamel, whose place we report
        raw = _join_surrogates(str(node.value))
        if node.tag in TEXT_TAGS:
            return YScalar(raw, raw, line, col)
        if node.tag not in CONSTRUCTED_TAGS:
            self.error(node, f"unsupported YAML tag '{node.tag}'")
            return YScalar(None, raw, line, col)
        value = self.yaml.constructor.construct_object(node, deep=True)
        # ruamel's ScalarFloat/ScalarInt subclasses -> plain Python values.
        if isinstance(value, bool) or value is None:
            return YScalar(value, raw, line, col)
        if isinstance(value, int):
            return YScalar(int(value), raw, line, col)
        return YScalar(float(value), raw, line, col)

    def mapping(self, node: MappingNode, line: int, col: int) -> YMap:
        entries: dict[str, tuple[YScalar, YNode]] = {}
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
                continue
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, "a key must be a plain string, not a list or mapping")
                continue
            key = self.scalar(key_node, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key.raw in entries:
                first = entries[key.raw][0]
                self.error(key_node, f"duplicate key '{key.raw}' (first at line {first.line})")
                continue
            entries[key.raw] = (key, self.convert(value_node))
        # `<<: *defaults`: keys written in the mapping itself win over merged ones.
        for source in merged:
            converted = self.convert(source)
            if not isinstance(converted, YMap):
                self.error(source, "a merge key '<<' needs a mapping or a list of mappings")
                continue
            for key_text, entry in converted.entries.items():
                entries.setdefault(key_text, entry)
        return YMap(entries, line, col)


class _TooLarge(Exception):
    pass


class _Reparse(Exception):
    pass


def _join_surrogates(text: str) -> str:
    """YAML's "\ud83d\ude42" escapes (as JSON writers emit them) arrive as two lone
    surrogates; join them into the one character they spell so the text encodes as UTF-8."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def load_yaml(text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """Parse one YAML document. None for an empty document or when the text is not YAML.

    libyaml (ruamel.yaml.clib) composes the same nodes, tags and positions as ruamel's
    round-trip parser, about ten times faster. Text it rejects is parsed again by the
    round-trip parser, whose errors the diagnostics below are written for."""
    try:
        return _convert(YAML(typ="safe", pure=False), text, file)
    except Exception:  # any failure: the round-trip parser decides and explains
        pass
    try:
        return _convert(YAML(typ="rt"), text, file)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Diagnostic(file, line, col, f"invalid YAML: {_syntax_message(exc)}", _syntax_hint(exc))]
    except YAMLError as exc:
        return None, [Diagnostic(file, 1, 1, f"invalid YAML: {exc}")]
    except _TooLarge:
        return None, [Diagnostic(file, 1, 1, "YAML too large after expanding aliases")]
    except RecursionError:
        return None, [Diagnostic(file, 1, 1, "YAML nested too deeply")]


def _convert(yaml: YAML, text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    with warnings.catch_warnings():
        # Re-used anchors are valid YAML (the latest wins); not worth a word on stderr.
        warnings.simplefilter("ignore")
        root = yaml.compose(text)
    if root is None:
        return None, []
    converter = _Converter(yaml, file)
    return converter.convert(root), converter.diagnostics


def _syntax_message(exc: MarkedYAMLError) -> str:
    problem, context = exc.problem or "", exc.context or ""
    if problem.startswith("but ") and context:  # "expected a single document, but found another"
        return f"{context}, {problem}"
    if problem and context:
        return f"{problem} ({context})"
    return problem or context or "malformed YAML"


def _syntax_hint(exc: MarkedYAMLError) -> str | None:
    return "indent with spaces: YAML does not allow tabs" if "'\\t'" in (exc.problem or "") else None


def read_yaml_file(path: Path, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """`load_yaml` on a file; an unreadable file is a Diagnostic too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Diagnostic(file, 1, 1, "file not found")]
    except UnicodeDecodeError as exc:
        return None, [Diagnostic(file, 1, 1, f"not UTF-8 text (byte {exc.start})")]
    except OSError as exc:
        return None, [Diagnostic(file, 1, 1, f"cannot read the file: {exc.strerror}")]
    return load_yaml(text, file)
