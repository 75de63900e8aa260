"""YAML syntax errors: `segwise validate` names the file, line and column, and says how to fix it.

Every error ruamel's scanner, parser and composer can raise is read from ruamel's own source
and must get a hint of its own (not the generic one), so a new ruamel message shows up here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, StreamMark

from segwise.cli import main
from segwise.loading.yaml_source import FALLBACK_HINT, load_yaml, syntax_hint

CONFIG = """\
sources:
  users: {relation: ref('users'), id: user_id, traits: {plan: string}}
  events: {relation: ref('events'), user_id: user_id, name: event_name, timestamp: occurred_at}
"""
SEGMENT = "segments:\n  - name: a\n"

# (text of segments/bad.yml, line, column, the hint); the position is where ruamel stopped.
MALFORMED = {
    "tab": ("segments:\n\t- name: a\n", 2, 1, "indent with spaces: YAML does not allow tabs"),
    "reserved character": (SEGMENT + "    description: @home\n", 3, 18, "YAML reserves '@' at its start"),
    "colon in a value": (SEGMENT + "    description: note: x\n", 3, 22, "quote a value that contains ': '"),
    "item after a key": ("segments: - name: a\n", 1, 11, "start each '- ' item on a line of its own"),
    "question mark": ("segments:\n  - name: ? a\n", 2, 11, "quote a value that starts with '?'"),
    "no colon": (SEGMENT + "    rule\n    tags: [x]\n", 4, 5, "line 3 is neither 'key: value' nor a '- ' item"),
    "unclosed quote": ('segments:\n  - name: "a\n    tags: [x]\n', 4, 1, "close the quote opened at line 2, column 11"),
    "quote across ---": ("segments:\n  - name: 'a\n---\n", 3, 1, "close the quote opened at line 2, column 11"),
    "backslash": (SEGMENT + '    rule: {trait: plan, matches: "\\d+"}\n', 3, 36, "use single quotes ('\\d+')"),
    "unclosed [": (SEGMENT + "    tags: [x, y\n", 4, 1, "close the '[' opened at line 3, column 11"),
    "unclosed {": (
        SEGMENT + "    rule: {trait: plan, eq: x\n  - name: b\n",
        4,
        9,
        "close the '{' opened at line 3, column 11, and separate entries with ', '",
    ),
    "end of file in [": ("segments: [\n", 2, 1, "the file ends where a value should be: close every '[' and '{'"),
    "extra comma": (SEGMENT + "    tags: [x,, y]\n", 3, 14, "remove the extra ','"),
    "value starting with ]": ("segments:\n  - name: ]\n", 2, 11, "quote the value: it cannot start with ']'"),
    "item among keys": ("segments: []\n- name: a\n", 2, 1, "a '- ' item cannot stand among keys"),
    "stray ]": ("segments: []]\n", 1, 13, "remove the ']': it closes nothing"),
    "text after a quote": ("segments:\n  - name: 'it's'\n", 2, 15, "in '...' write '' for '"),
    "bad indentation": (
        SEGMENT + "   rule: {trait: plan, eq: x}\n",
        3,
        4,
        "line this up with the other keys or '- ' items of the block that starts at line 2",
    ),
    "two documents": ("segments: []\n---\ngroups: []\n", 2, 1, "keep one document per file"),
    "undefined alias": ("segments:\n  - name: *a\n", 2, 11, "quote a value that starts with '&' or '*'"),
    "empty anchor": ("segments:\n  - name: & x\n", 2, 12, "quote a value that starts with '&' or '*'"),
    "tag handle": ("segments:\n  - name: !x!y a\n", 2, 11, "quote a value that starts with '!'"),
    "directive": ("%YAML 2.0\n---\nsegments: []\n", 1, 1, "remove the '%' lines"),
    "after ...": ("segments: []\n... x\n", 2, 5, "remove the '...' line"),
    "block scalar header": (SEGMENT + "    description: |0\n      x\n", 3, 19, "write '|' or '>'"),
    "block scalar indentation": (
        SEGMENT + "    description: |\n      \n        x\n      y\n",
        5,
        9,
        "indent the first line of the '|' or '>' text as much as the rest",
    ),
    "control character": (
        SEGMENT + "    description: a\x07b\n",
        3,
        19,
        'write it as an escape in double quotes: "\\x07"',
    ),
    "duplicate key": ("segments: []\nsegments: []\n", 2, 1, "keep one 'segments' and merge what the two hold"),
    "explicit tag": (SEGMENT + "    holdout: !!int ten\n", 3, 14, "remove the !!int tag"),
}


def project(root: Path, text: str) -> Path:
    (root / "segwise.yml").write_text(CONFIG)
    (root / "segments").mkdir()
    (root / "segments" / "bad.yml").write_bytes(text.encode())
    return root / "segments" / "bad.yml"


def snapshot(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize(("text", "line", "col", "hint"), MALFORMED.values(), ids=MALFORMED.keys())
def test_validate_locates_and_explains_each_yaml_error(
    tmp_path: Path, text: str, line: int, col: int, hint: str
) -> None:
    bad = project(tmp_path, text)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(main, ["validate", "--config", str(tmp_path / "segwise.yml")])
    assert result.exit_code == 1
    (output,) = result.stdout.splitlines()  # one line per error
    location, _, rest = output.partition(": ")
    assert location == f"{bad}:{line}:{col}"
    message, _, given = rest.partition("; ")
    assert message and hint in given, output
    assert snapshot(tmp_path) == before  # an error changes nothing on disk


def test_the_hints_are_specific() -> None:
    """Each example gets its own hint, not the generic one."""
    for name, (text, *_rest) in MALFORMED.items():
        _, (diagnostic,) = load_yaml(text, "bad.yml")
        assert diagnostic.hint and diagnostic.hint != FALLBACK_HINT, name


def _rendered(node: ast.expr | None, placeholder: str) -> str | None:
    """The text of a message argument, each `{...}` of an f-string replaced by `placeholder`."""
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return None
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else placeholder for v in node.values)
    return placeholder  # `str(exc)`: the context decides


def ruamel_errors() -> Iterator[tuple[str, MarkedYAMLError]]:
    """An instance of every MarkedYAMLError raised in ruamel's scanner, parser and composer."""
    mark = StreamMark("bad.yml", 0, 0, 0)
    for name in ("scanner", "parser", "composer"):
        module = importlib.import_module(f"ruamel.yaml.{name}")
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            cls = getattr(module, getattr(node.exc.func, "id", ""), None)
            if not (isinstance(cls, type) and issubclass(cls, MarkedYAMLError)):
                continue
            args: list[ast.expr | None] = [*node.exc.args, None, None, None]
            keywords = {k.arg: k.value for k in node.exc.keywords}
            problem = _rendered(keywords.get("problem", args[2]), "'x'")
            # A context's `{name}` is what is being scanned: these are the names ruamel passes.
            for scanned in ("anchor", "alias", "tag", "directive"):
                context = _rendered(keywords.get("context", args[0]), scanned)
                yield f"{name}.py:{node.lineno}", cls(context, mark, problem, mark)


def test_every_ruamel_syntax_error_gets_a_specific_hint() -> None:
    errors = list(ruamel_errors())
    assert len(errors) > 40  # the walk found ruamel's raises
    generic = [(where, str(exc)) for where, exc in errors if syntax_hint(exc) == FALLBACK_HINT]
    assert not generic


def test_duplicate_key_error_of_ruamels_constructor_gets_a_hint() -> None:
    with pytest.raises(MarkedYAMLError) as info:
        YAML(typ="rt").load("a: 1\na: 2\n")
    assert syntax_hint(info.value) == "keep one of the two keys and merge what they hold"


def test_an_unknown_problem_gets_the_generic_hint() -> None:
    exc = MarkedYAMLError("while reading", None, "something new", StreamMark("f", 0, 0, 0))
    assert syntax_hint(exc) == FALLBACK_HINT
