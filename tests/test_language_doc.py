"""docs/language.md stays true: every example in it is checked against segwise itself.

The doc's ```yaml blocks are classified by their content (and an HTML comment on the line
before the fence, if any):

- `<!-- example-config -->` + a full `segwise.yml`: loads without errors; every rule of the doc
  is validated against each of these configs (JSON properties and flat property columns);
- any other block with `sources:`: a full `segwise.yml` that must load;
- `<!-- config-fragment -->`: top-level `segwise.yml` keys; merged into each example config,
  the result must load;
- `segments:`/`groups:` (a segment file), `rule:` (one segment's rule) or a bare condition:
  must validate;
- `<!-- invalid -->`: must fail validation; the ```text block right after it holds the exact
  messages (`file:line:col: message; hint`);
- `T:` (a worked example): data and the expected members for the segment file just before it.
  It runs on DuckDB through the compiled SQL, once per example config, and on the reference
  evaluator; groups are checked on the reference evaluator (their SQL lives in the dbt model).

Inline code spans that are condition mappings (`{trait: plan, eq: pro}`, `{property: ...}`)
are validated as well. Finally the doc must name every key, operator and limit the loader
knows, and must not point outside the repository.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from segwise.config import BUILTIN_TRAITS, Config, FlatProperties, JsonProperties, Project, Ref, SourceRef, TableName
from segwise.errors import ValidationError
from segwise.loading import config_loader, event_parser, predicate_parser, reader, rule_parser, segment_file
from segwise.loading.config_loader import read_config
from segwise.loading.durations import MAX_DURATION
from segwise.loading.project import parse_segments_text
from segwise.rules.nodes import Segment
from segwise.rules.regex import MAX_REPEAT
from segwise.rules.values import UNIT_SECONDS, ValueType
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership
from tests.reference.evaluator import evaluate, evaluate_groups
from tests.support.engines import DuckEngine

DOC = Path(__file__).resolve().parents[1] / "docs" / "language.md"
SEGMENT_FILE = "segments/example.yml"
MARKER_RE = re.compile(r"^<!--\s*([a-z-]+)\s*-->$")
INLINE_RE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
SQL_TYPES = {"string": "varchar", "number": "double", "boolean": "boolean", "timestamp": "timestamp"}


# ----------------------------------------------------------------------------- the doc


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int  # of the opening fence, 1-based
    marker: str | None  # from `<!-- marker -->` on the line before the fence

    def __str__(self) -> str:
        return f"docs/language.md:{self.line}"


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(StringIO(text))


@cache
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@cache
def blocks() -> tuple[Block, ...]:
    lines = doc_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = lines[i]
        if not fence.startswith("```"):
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = lines[i - 1].strip() if i > 0 else ""
        marker = MARKER_RE.match(before)
        found.append(Block(fence[3:].strip(), "\n".join(lines[i + 1 : end]) + "\n", i + 1, marker and marker.group(1)))
        i = end + 1
    return tuple(found)


def yaml_blocks() -> list[Block]:
    return [b for b in blocks() if b.lang == "yaml"]


def prose() -> str:
    """The doc without its fenced blocks."""
    return re.sub(r"^```.*?^```", "", doc_text(), flags=re.S | re.M)


def kind(block: Block) -> str:
    """config / config-fragment / segments / rule / condition / data, or invalid-*."""
    data = _yaml(block.text)
    assert isinstance(data, dict), f"{block}: a yaml block must be a mapping"
    if block.marker == "config-fragment":
        return "config-fragment"
    if "sources" in data:
        shape = "config"
    elif "T" in data:
        shape = "data"
    elif "segments" in data or "groups" in data:
        shape = "segments"
    elif "rule" in data:
        shape = "rule"
    elif any(key in rule_parser.KINDS for key in data):
        shape = "condition"
    else:
        raise AssertionError(f"{block}: cannot tell what this yaml block is: {sorted(data)}")
    return f"invalid-{shape}" if block.marker == "invalid" else shape


def of_kind(*kinds: str) -> list[Block]:
    """The yaml blocks of these kinds (for parametrizing: a block that cannot be classified
    fails `test_every_yaml_block_is_understood`, not the collection)."""

    def safe_kind(block: Block) -> str | None:
        try:
            return kind(block)
        except Exception:
            return None

    return [b for b in yaml_blocks() if safe_kind(b) in kinds]


def test_every_yaml_block_is_understood() -> None:
    for block in yaml_blocks():
        kind(block)


def segment_file_text(block: Block) -> str:
    """The block as a segment file, keeping its text (and so its comments) as written."""
    shape = kind(block).removeprefix("invalid-")
    if shape == "segments":
        return block.text
    if shape == "rule":
        return "segments:\n  - name: example\n" + textwrap.indent(block.text, " " * 4)
    assert shape == "condition", block
    return "segments:\n  - name: example\n    rule:\n" + textwrap.indent(block.text, " " * 6)


# ----------------------------------------------------------------------------- configs


def load_config_text(text: str) -> Config:
    """Load `text` as segwise.yml; errors name the file `segwise.yml`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segwise.yml"
        path.write_text(text, encoding="utf-8")
        try:
            return read_config(path)[0]
        except ValidationError as exc:
            raise ValidationError(dataclasses.replace(d, file="segwise.yml") for d in exc.diagnostics) from None


@dataclass(frozen=True)
class ExampleConfig:
    block: Block
    config: Config
    data: dict[str, Any]  # the plain YAML, for the reference evaluator


@cache
def example_configs() -> tuple[ExampleConfig, ...]:
    found = [b for b in yaml_blocks() if b.marker == "example-config"]
    return tuple(ExampleConfig(b, load_config_text(b.text), _yaml(b.text)) for b in found)


def test_the_example_configs_cover_both_property_layouts() -> None:
    configs = example_configs()
    layouts = [type(c.config.events.properties) for c in configs]
    assert layouts == [JsonProperties, FlatProperties]
    first, second = (c.config for c in configs)
    assert first.users == second.users, "the example configs differ only in their properties"
    assert first.rfm == second.rfm


@pytest.mark.parametrize("block", of_kind("config"), ids=str)
def test_config_blocks_load(block: Block) -> None:
    load_config_text(block.text)


@pytest.mark.parametrize("block", of_kind("config-fragment"), ids=str)
def test_config_fragments_load_in_the_example_configs(block: Block) -> None:
    fragment = _yaml(block.text)
    for example in example_configs():
        merged = {**example.data, **fragment}
        load_config_text(json.dumps(merged))


# ----------------------------------------------------------------------------- rules


def validate(block: Block, config: Config) -> tuple[list[Segment], list[Any]]:
    return parse_segments_text(segment_file_text(block), config, SEGMENT_FILE)


RULE_KINDS = ("segments", "rule", "condition")


@pytest.mark.parametrize("block", of_kind(*RULE_KINDS), ids=str)
def test_rule_blocks_validate_against_every_example_config(block: Block) -> None:
    for example in example_configs():
        segments, groups = validate(block, example.config)
        assert segments or groups


def inline_conditions() -> list[tuple[str, str]]:
    """(span, segment file) for every inline code span that is a condition or a where item."""
    found = []
    for match in INLINE_RE.finditer(prose()):
        span = match.group(1).replace("\\|", "|")  # a `|` inside a table cell is escaped
        if not span.startswith("{"):
            continue
        try:
            data = _yaml(span)
        except Exception:
            continue  # not YAML: a fragment such as `{ [ ' "`
        if not isinstance(data, dict):
            continue
        if any(key in rule_parser.KINDS for key in data):
            rule = span
        elif "property" in data:
            rule = "{event: example_event, where: [" + span + "]}"
        else:
            continue  # a config fragment such as `{lat: latitude, lon: longitude}`
        found.append((span, "segments:\n  - name: example\n    rule: " + rule + "\n"))
    return found


def test_inline_conditions_validate() -> None:
    spans = inline_conditions()
    assert len(spans) >= 30, "the operator tables lost their examples"
    for span, text in spans:
        for example in example_configs():
            try:
                parse_segments_text(text, example.config, SEGMENT_FILE)
            except ValidationError as exc:
                raise AssertionError(f"inline example `{span}`:\n{exc}") from None


def expected_messages(block: Block) -> list[str]:
    """The ```text block right after an invalid example."""
    following = blocks()[blocks().index(block) + 1]
    assert following.lang == "text", f"{block}: an invalid example is followed by the ```text of its errors"
    return following.text.splitlines()


@pytest.mark.parametrize("block", of_kind(*(f"invalid-{k}" for k in ("config", *RULE_KINDS))), ids=str)
def test_invalid_blocks_fail_with_the_messages_shown(block: Block) -> None:
    with pytest.raises(ValidationError) as caught:
        if kind(block) == "invalid-config":
            load_config_text(block.text)
        else:
            validate(block, example_configs()[0].config)
    assert [str(d) for d in caught.value.diagnostics] == expected_messages(block)


def test_text_blocks_are_error_messages_of_invalid_examples() -> None:
    """Every ```text block belongs to an invalid example (none is left stale)."""
    all_blocks = blocks()
    for i, block in enumerate(all_blocks):
        if block.lang == "text":
            assert i > 0 and all_blocks[i - 1].marker == "invalid", f"{block}: ```text without an invalid example"


# ----------------------------------------------------------------------------- worked examples


@dataclass(frozen=True)
class Example:
    data: Block
    rules: Block  # the segment file it runs

    def __str__(self) -> str:
        return str(self.data)


def worked_examples() -> list[Example]:
    found = []
    last_rules: Block | None = None
    for block in of_kind("segments", "data"):
        if kind(block) == "segments":
            last_rules = block
        elif last_rules is not None:  # a worked example runs the segment file just before it
            found.append(Example(block, last_rules))
    return found


def _ts(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _typed(kind_: ValueType | None, value: Any) -> Any:
    if value is None:
        return None
    if kind_ is ValueType.TIMESTAMP:
        return _ts(value)
    return value


def _relation_table(config: Config, which: str) -> str:
    relation = config.users.relation if which == "users" else config.events.relation
    match relation:
        case Ref(name=name):
            return name
        case SourceRef(table=table):
            return table
        case TableName(parts=parts):
            return parts[-1]
    raise AssertionError(relation)


def rows(config: Config, data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The worked example's users and events as rows of the config's relations."""
    users_src, events_src = config.users, config.events
    users = []
    for user in data.get("users") or []:
        row: dict[str, Any] = {users_src.id: str(user["id"])}
        for name, value in user.items():
            if name != "id":
                trait = users_src.traits[name]  # a KeyError: the example uses an undeclared trait
                row[trait.column] = _typed(trait.type, value)
        users.append(row)
    events = []
    for event in data.get("events") or []:
        ts = _ts(event["at"])
        row = {events_src.user_id: str(event["user"]), events_src.name: event["event"], events_src.timestamp: ts}
        if events_src.loaded_at:
            row[events_src.loaded_at] = ts
        if events_src.id:
            row[events_src.id] = event.get("id")
        props = {k: v for k, v in event.items() if k not in ("user", "event", "at", "id")}
        for name in props:
            assert events_src.property_type(name) is not None, f"undeclared property {name!r}"
        match events_src.properties:
            case JsonProperties(column=column):
                row[column] = json.dumps(props) if props else None
            case FlatProperties(columns=columns):
                for name, column in columns.items():
                    row[column] = _typed(events_src.property_type(name), props.get(name))
        events.append(row)
    return users, events


def load_into_duckdb(
    engine: DuckEngine, config: Config, users: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    users_src, events_src = config.users, config.events
    ucols = {users_src.id: "varchar"}
    if users_src.updated_at:
        ucols[users_src.updated_at] = "timestamp"
    for trait in users_src.traits.values():
        ucols[trait.column] = SQL_TYPES[trait.type]
    ecols = {events_src.user_id: "varchar", events_src.name: "varchar", events_src.timestamp: "timestamp"}
    if events_src.loaded_at:
        ecols[events_src.loaded_at] = "timestamp"
    if events_src.id:
        ecols[events_src.id] = "varchar"
    match events_src.properties:
        case JsonProperties(column=column):
            ecols[column] = "varchar"
        case FlatProperties(columns=columns):
            for name, column in columns.items():
                ecols[column] = SQL_TYPES[events_src.property_type(name) or "string"]
    engine.create(_relation_table(config, "users"), ucols, users)
    engine.create(_relation_table(config, "events"), ecols, events)


Members = dict[str, dict[str, str | None]]


def check_members(got: Members, expected: dict[str, Any], where: str) -> None:
    for name, want in expected.items():
        if isinstance(want, dict):  # user: variant
            assert got[name] == {str(k): v for k, v in want.items()}, f"{where}: {name}"
        else:
            assert sorted(got[name]) == sorted(str(u) for u in want), f"{where}: {name}"


@pytest.mark.parametrize("example", worked_examples(), ids=str)
def test_worked_examples_hold_on_duckdb_and_the_reference(example: Example) -> None:
    data = _yaml(example.data.text)
    as_of = _ts(data["T"])
    file = _yaml(example.rules.text)
    segment_dicts = file.get("segments") or []
    group_dicts = file.get("groups") or []
    expected = data["members"]
    assert set(expected) == {s["name"] for s in segment_dicts}, "a worked example gives every segment's members"
    assert set(data.get("groups") or {}) == {g["name"] for g in group_dicts}
    for example_config in example_configs():
        config = example_config.config
        segments, groups = parse_segments_text(example.rules.text, config, SEGMENT_FILE)
        users, events = rows(config, data)
        where = f"{example} ({type(config.events.properties).__name__})"
        # the reference evaluator: the semantics in plain Python
        check_members(
            evaluate(example_config.data, segment_dicts, users, events, as_of), expected, f"{where} reference"
        )
        if group_dicts:
            got_groups = evaluate_groups(example_config.data, segment_dicts, group_dicts, users, events, as_of)
            assert got_groups == {g: {str(k): v for k, v in m.items()} for g, m in data["groups"].items()}, where
        # the compiled SQL on DuckDB
        project = Project(config, {s.name: s for s in segments}, {g.name: g for g in groups})
        engine = DuckEngine()
        try:
            load_into_duckdb(engine, config, users, events)
            query = compile_membership(project, [s.name for s in segments], "duckdb", as_of)
            got: Members = {s.name: {} for s in segments}
            for segment, user_id, variant in engine.query(get_target("duckdb").sql(query)):
                got[segment][user_id] = variant
        finally:
            engine.close()
        check_members(got, expected, f"{where} duckdb")


def test_there_are_worked_examples_for_the_tricky_semantics() -> None:
    """The boundary, absent step, missing values, RFM, holdout and groups examples exist."""
    texts = [example.rules.text for example in worked_examples()]

    def some(*needles: str) -> bool:
        return any(all(n in text for n in needles) for text in texts)

    assert some("within: 48h", "between_ago", "since")
    assert some("absent: true")
    assert some("neq: pro", "is_set: false")
    assert some("avg:", "neq:")
    assert some("rfm: {tier:")
    assert some("holdout:", "in_segment")
    assert some("groups:", "fallback")
    assert some("every:", "periods:")
    assert some("near:")


# ----------------------------------------------------------------------------- completeness


def _mentioned(word: str) -> bool:
    return f"`{word}`" in doc_text() or re.search(rf"^\s*-?\s*{re.escape(word)}:", doc_text(), re.M) is not None


def _names() -> Iterator[str]:
    yield from config_loader.CONFIG_KEYS
    yield from config_loader.SOURCES_KEYS
    yield from config_loader.USERS_KEYS
    yield from config_loader.EVENTS_KEYS
    yield from config_loader.TRAIT_KEYS
    yield from config_loader.GEO_KEYS
    yield from config_loader.PROPERTIES_KEYS
    yield from config_loader.RFM_KEYS
    yield from config_loader.PREDICT_KEYS
    yield from config_loader.BGNBD_KEYS
    yield from rule_parser.MODELS
    yield from rule_parser.SCORES
    yield "model"
    yield from config_loader.TYPE_NAMES
    yield from BUILTIN_TRAITS
    yield from segment_file.FILE_KEYS
    yield from segment_file.SEGMENT_KEYS
    yield from segment_file.GROUP_KEYS
    yield from rule_parser.KINDS
    yield from rule_parser.NEAR_KEYS
    yield from rule_parser.RFM_METRICS
    yield from rule_parser.TIERS
    yield from predicate_parser.ALL_OPERATORS
    yield from predicate_parser.CMP_OPS
    yield from predicate_parser.TIME_CMP_OPS
    yield predicate_parser.IGNORE_CASE
    yield from event_parser.EVENT_KEYS
    yield from event_parser.STEP_KEYS
    yield from event_parser.SEQUENCE_KEYS


def test_every_key_operator_and_name_is_documented() -> None:
    missing = sorted({name for name in _names() if not _mentioned(name)})
    assert not missing, f"docs/language.md does not mention: {missing}"
    for unit in UNIT_SECONDS:
        assert f"| `{unit}` |" in doc_text(), f"duration unit {unit}"


def test_limits_are_the_loaders() -> None:
    text = doc_text()
    assert f"at most {rule_parser.MAX_DEPTH} levels" in text
    assert f"1 to {event_parser.MAX_STEPS}" in text
    assert f"1 to {event_parser.MAX_PERIODS}" in text
    assert f"from 0 to {segment_file.MAX_HOLDOUT}" in text
    assert f"at most {MAX_REPEAT}" in text
    assert f"`{MAX_DURATION}`" in text
    assert "6371.0088" in text
    for pattern in (segment_file.SEGMENT_NAME_RE, config_loader.MODEL_PREFIX_RE):
        assert pattern.pattern.strip("^$") in text
    for pattern in (reader.NAME_RE, reader.IDENTIFIER_RE):
        assert pattern.pattern.strip("^$") in text


def test_the_doc_stands_on_its_own() -> None:
    """The doc is for readers of the repository: no pointers to briefing files outside it."""
    text = doc_text()
    for forbidden in ("../shared", "shared/", "SPEC"):
        assert forbidden not in text, forbidden
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith("http"):
            assert (DOC.parent / target).exists(), f"broken link {target}"


def test_anchors_resolve() -> None:
    """Every `(#anchor)` link names a heading of the doc (GitHub's slug rules)."""
    text = prose()
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        slugs.add(slug)
    for anchor in re.findall(r"\]\(#([^)]+)\)", text):
        assert anchor in slugs, f"no heading for #{anchor}"
