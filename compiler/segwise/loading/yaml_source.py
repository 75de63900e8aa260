"""YAML text -> a tree of positioned nodes: every key and every value knows its line and column.

Built from ruamel.yaml's composed nodes rather than its constructed objects, so that
a scalar keeps the text it was written as (an unquoted `2025-01-31` stays that string instead of
becoming a `date`) and duplicate keys, odd tags and alias bombs become Diagnostics, never
exceptions.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

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

    def error(self, node: Node, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.diagnostics.append(Diagnostic(self.file, mark.line + 1, mark.column + 1, message, hint))

    def convert(self, node: Node) -> YNode:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if id(node) in self.in_progress:
            self.error(node, "recursive YAML alias", "an alias (*name) cannot stand inside the node its anchor names")
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
            self.error(node, f"unsupported YAML tag '{node.tag}'", TAG_HINT)
            return YScalar(None, raw, line, col)
        try:
            value = self.yaml.constructor.construct_object(node, deep=True)
        except (ValueError, KeyError, YAMLError):  # an explicit tag the text does not fit: `!!int abc`
            tag = "!!" + node.tag.removeprefix(CORE)
            self.error(node, f"{raw!r} is not a valid {tag}", f"remove the {tag} tag, or fix the value")
            return YScalar(None, raw, line, col)
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
                self.error(key_node, "a key must be a plain string, not a list or mapping", "write the key as a word")
                continue
            key = self.scalar(key_node, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key.raw in entries:
                first = entries[key.raw][0]
                self.error(
                    key_node,
                    f"duplicate key '{key.raw}' (first at line {first.line})",
                    f"keep one '{key.raw}' and merge what the two hold",
                )
                continue
            entries[key.raw] = (key, self.convert(value_node))
        # `<<: *defaults`: keys written in the mapping itself win over merged ones.
        for source in merged:
            converted = self.convert(source)
            if not isinstance(converted, YMap):
                self.error(
                    source,
                    "a merge key '<<' needs a mapping or a list of mappings",
                    "anchor a mapping (defaults: &d {...}) and write <<: *d",
                )
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
        return None, [Diagnostic(file, line, col, f"invalid YAML: {_syntax_message(exc)}", syntax_hint(exc))]
    except ReaderError as exc:
        return None, [_reader_error(exc, text, file)]
    except YAMLError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, [Diagnostic(file, 1, 1, f"invalid YAML: {message}", FALLBACK_HINT)]
    except _TooLarge:
        return None, [Diagnostic(file, 1, 1, "YAML too large after expanding aliases", "expand fewer aliases (*name)")]
    except RecursionError:
        return None, [Diagnostic(file, 1, 1, "YAML nested too deeply", "nest lists and mappings less deeply")]


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


TAG_HINT = "quote a value that starts with '!': YAML reads it as a tag"
ANCHOR_HINT = "quote a value that starts with '&' or '*': YAML reads them as anchors and aliases"
FALLBACK_HINT = "check the indentation here, and quote values that contain ': ' or ' #' or start with a symbol"

# (pattern, hint) for the context and problem of every error ruamel's scanner, parser and
# composer raise (tests/test_yaml_hints.py reads them from ruamel's source), and its
# constructor's duplicate keys. The first match wins, so patterns a problem's user text (a
# key, an alias name) could match come first. {found} is the token or character found;
# {line}/{col} where the enclosing quote, bracket or block began, often far above the error.
SYNTAX_HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), hint)
    for pattern, hint in (
        (r"duplicate key", "keep one of the two keys and merge what they hold"),
        (r"undefined alias", ANCHOR_HINT),
        (r"found character '\\t'", "indent with spaces: YAML does not allow tabs"),
        (r"found character (?P<found>.+) that cannot start", "quote the value: YAML reserves {found} at its start"),
        (r"mapping values are not allowed", "quote a value that contains ': ', and line each key up with its siblings"),
        (r"sequence entries are not allowed", "start each '- ' item on a line of its own, indented under its key"),
        (r"mapping keys are not allowed", "quote a value that starts with '?'"),
        (r"could not find expected ':'", "line {line} is neither 'key: value' nor a '- ' item: add the ': ' or '- '"),
        (r"quoted scalar: found unexpected", "close the quote opened at line {line}, column {col}"),
        (r"double-quoted scalar", r"in double quotes '\' starts an escape: use single quotes ('\d+') or write '\\'"),
        (r"expected ',' or '\]'", "close the '[' opened at line {line}, column {col}, and separate items with ', '"),
        (r"expected ',' or '\}'", "close the '{{' opened at line {line}, column {col}, and separate entries with ', '"),
        (r"node content, but found '<stream end>'", "the file ends where a value should be: close every '[' and '{{'"),
        (r"node content, but found ','", "remove the extra ',' or write a value before it"),
        (r"node content, but found (?P<found>.+)", "quote the value: it cannot start with {found}"),
        (r"<block end>, but found '-'", "a '- ' item cannot stand among keys: indent it under its key ('key:')"),
        (r"<block end>, but found (?P<found>'[\]}]')", "remove the {found}: it closes nothing"),
        (r"<block end>, but found '<scalar>'", "quote the whole value (in '...' write '' for '), or fix indentation"),
        (r"<block end>", "line this up with the other keys or '- ' items of the block that starts at line {line}"),
        (r"single document", "keep one document per file: remove the '---' line or split the file"),
        (r"scanning an (anchor|alias)", ANCHOR_HINT),
        (r"directive|YAML document|document start|duplicate tag", "remove the '%' lines: segwise files need none"),
        (r"\btag\b|URI", TAG_HINT),
        (r"document end marker", "remove the '...' line, or what follows it"),
        (r"more indented follow up line", "indent the first line of the '|' or '>' text as much as the rest"),
        (r"block scalar", "write '|' or '>' (then at most '-', '+' or a digit 1-9) and the text on the next lines"),
        (r"unexpected ':'", "quote the value, or write a space after the ':' of each key"),
        (r"maximum depth", "nest lists and mappings less deeply"),
    )
)


def syntax_hint(exc: MarkedYAMLError) -> str:
    """How to fix what ruamel rejected; FALLBACK_HINT for a problem SYNTAX_HINTS does not know."""
    text = f"{exc.context or ''}: {exc.problem or ''}"
    mark = exc.context_mark or exc.problem_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    for pattern, hint in SYNTAX_HINTS:
        if match := pattern.search(text):
            return hint.format(line=line, col=col, **match.groupdict())
    return FALLBACK_HINT


def _reader_error(exc: ReaderError, text: str, file: str) -> Diagnostic:
    """A character YAML forbids (a control character): ruamel gives its offset, we its line."""
    offset = exc.position if isinstance(exc.position, int) else 0
    line = text.count("\n", 0, offset) + 1
    col = offset - text.rfind("\n", 0, offset)
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    escape = f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    message = f"invalid YAML: the character U+{code:04X} is not allowed"
    return Diagnostic(file, line, col, message, f'remove it, or write it as an escape in double quotes: "{escape}"')


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
