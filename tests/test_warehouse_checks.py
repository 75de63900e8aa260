"""`segwise validate --target`: the definitions checked against a real warehouse, read-only.

A few small tables are loaded once per engine (DuckDB file, a schema of the test PostgreSQL
server, fakesnow, bqemulator) with the loaders of tests/support/engines.py; each test writes
its own project (segwise.yml, dbt_project.yml, models/sources.yml, profiles.yml, segments)
into tmp_path and runs `check_warehouse` or the CLI on it. Expected places are computed from
the text written, so each assertion names the line and column a user would be sent to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner

from segwise.cli import main
from segwise.errors import WARNING, Diagnostic, ValidationError
from segwise.loading import load_project
from segwise.warehouse import connect, load_profile, resolver_for
from segwise.warehouse.checks import Kind, check_warehouse, column_kind
from segwise.warehouse.duckdb_client import DuckDBWarehouse
from tests.support.engines import BigQueryEngine, DuckEngine, Engine, PostgresEngine, SnowflakeEngine

T = datetime(2025, 6, 1)

# ------------------------------------------------------------------------------- the tables

USER_COLUMNS = {
    "user_id": "varchar", "plan": "varchar", "lifetime_value": "double", "age_text": "varchar",
    "is_beta": "boolean", "signed_up_at": "timestamp", "updated_at": "timestamp",
}  # fmt: skip
USERS = [
    {"user_id": f"u{i}", "plan": "pro" if i % 2 else "free", "lifetime_value": 10.0 * i, "age_text": str(20 + i),
     "is_beta": i == 1, "signed_up_at": T, "updated_at": T}
    for i in range(1, 4)
]  # fmt: skip
EVENT_COLUMNS = {
    "event_id": "varchar", "user_id": "varchar", "event_name": "varchar", "occurred_at": "timestamp",
    "loaded_at": "timestamp", "properties": "json",
}  # fmt: skip


def _event(i: int, user: str, name: str, props: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "event_id": f"e{i}", "user_id": user, "event_name": name, "occurred_at": T, "loaded_at": T,
        "properties": json.dumps(props) if props is not None else None,
    }  # fmt: skip


EVENTS = [
    _event(1, "u1", "app_open", {"screen": "home"}),
    _event(2, "u1", "order_completed", {"amount": 120, "currency": "EUR"}),
    _event(3, "u2", "order_completed", {"amount": 80, "coupon": None}),
    _event(4, "u2", "product_viewed", {"category": "shoes", "sku": "s-1"}),
    _event(5, "u3", "product_viewed", {"sku": "s-2", "price": 30}),
    _event(6, "u3", "checkout_started", None),
]
FLAT_COLUMNS = {
    "event_id": "varchar", "user_id": "varchar", "event_name": "varchar", "occurred_at": "timestamp",
    "loaded_at": "timestamp", "amount": "double", "category": "varchar", "coupon": "varchar", "discount": "double",
}  # fmt: skip
FLAT_EVENTS = [
    {**e, "amount": json.loads(e["properties"] or "{}").get("amount"), "properties": None}
    | {"category": "shoes" if e["event_name"] == "product_viewed" else None, "coupon": None, "discount": None}
    for e in EVENTS
]
DUPLICATE_USERS = [*USERS, {**USERS[0], "plan": "free"}, {**USERS[1]}]


@dataclass
class Loaded:
    """One engine with the tables loaded: its dbt profile output and the target schema."""

    kind: str
    output: dict[str, Any]
    schema: str

    def stored(self, column: str) -> str:
        """A column name as the engine stores an unquoted one."""
        return column.upper() if self.kind == "snowflake" else column

    def type_name(self, loader_type: str) -> str:
        """The engine's spelling of a loader type, as validate reports it."""
        return TYPE_NAMES[self.kind][loader_type]


TYPE_NAMES = {
    "duckdb": {"varchar": "VARCHAR", "boolean": "BOOLEAN"},
    "postgres": {"varchar": "text", "boolean": "boolean"},
    "snowflake": {"varchar": "VARCHAR", "boolean": "BOOLEAN"},
    "bigquery": {"varchar": "STRING", "boolean": "BOOL"},
}


def _load(engine: Engine) -> None:
    engine.create("app_users", USER_COLUMNS, USERS)
    engine.create("users_dup", USER_COLUMNS, DUPLICATE_USERS)
    engine.create("events_v1", EVENT_COLUMNS, EVENTS)
    engine.create("events_flat", FLAT_COLUMNS, FLAT_EVENTS)


def _duckdb(root: Path) -> Iterator[Loaded]:
    path = root / "warehouse.duckdb"
    engine = DuckEngine(str(path))
    _load(engine)
    engine.execute("CREATE TABLE odd_events (event_id DOUBLE, user_id BIGINT, event_name BIGINT, occurred_at VARCHAR, "
                   "properties DOUBLE, loaded_at INTEGER)")  # fmt: skip
    engine.close()  # validate opens it read-only
    yield Loaded("duckdb", {"type": "duckdb", "path": str(path), "schema": "main", "threads": 1}, "main")


def _postgres(dsn: str) -> Iterator[Loaded]:
    url = urlparse(dsn)
    engine = PostgresEngine(dsn, f"sw_check_{uuid.uuid4().hex[:10]}")
    try:
        _load(engine)
        output = {
            "type": "postgres", "host": url.hostname, "port": url.port or 5432, "user": url.username or "postgres",
            "password": url.password or "", "dbname": url.path.lstrip("/") or "postgres", "schema": engine.schema,
            "threads": 1,
        }  # fmt: skip
        yield Loaded("postgres", output, engine.schema)
    finally:
        engine.close()


def _snowflake(port: int) -> Iterator[Loaded]:
    schema = f"CHECK_{uuid.uuid4().hex[:10].upper()}"
    engine = SnowflakeEngine(port, "SEGWISE", schema)
    _load(engine)
    engine.close()
    output = {
        "type": "snowflake", "account": "fakesnow", "user": "segwise", "password": "segwise", "database": "SEGWISE",
        "schema": schema, "host": "127.0.0.1", "port": port, "protocol": "http", "threads": 1,
    }  # fmt: skip
    yield Loaded("snowflake", output, schema)


def _bigquery(port: int) -> Iterator[Loaded]:
    dataset = f"check_{uuid.uuid4().hex[:10]}"
    engine = BigQueryEngine(port, "segwise", dataset)
    _load(engine)
    engine.close()
    output = {
        "type": "bigquery", "method": "oauth-secrets", "token": "fake-token", "project": "segwise",
        "dataset": dataset, "api_endpoint": f"http://127.0.0.1:{port}", "threads": 1,
    }  # fmt: skip
    yield Loaded("bigquery", output, dataset)


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    yield from _duckdb(tmp_path_factory.mktemp("duck"))


@pytest.fixture(
    scope="module",
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("snowflake", marks=pytest.mark.snowflake),
        pytest.param("bigquery", marks=pytest.mark.bigquery),
    ],
)
def engine(request: pytest.FixtureRequest, duck: Loaded) -> Iterator[Loaded]:
    if request.param == "duckdb":
        yield duck
    elif request.param == "postgres":
        yield from _postgres(request.getfixturevalue("pg_dsn"))
    elif request.param == "snowflake":
        yield from _snowflake(request.getfixturevalue("fakesnow_port"))
    else:
        yield from _bigquery(request.getfixturevalue("bigquery_port"))


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)  # the checks that do not depend on the engine's introspection, on two engines
def local(request: pytest.FixtureRequest, duck: Loaded) -> Iterator[Loaded]:
    if request.param == "duckdb":
        yield duck
    else:
        yield from _postgres(request.getfixturevalue("pg_dsn"))


@pytest.fixture(autouse=True)
def _no_dbt_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DBT_TARGET", "DBT_PROFILE", "DBT_PROFILES_DIR"):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------------- the project


def config() -> dict[str, Any]:
    """A segwise.yml with nothing wrong for the tables above."""
    return {
        "sources": {
            "users": {
                "relation": "ref('app_users')",
                "id": "user_id",
                "updated_at": "updated_at",
                "traits": {
                    "plan": "string",
                    "ltv": {"type": "number", "column": "lifetime_value"},
                    "signed_up_at": "timestamp",
                    "is_beta": "boolean",
                },
            },
            "events": {
                "relation": "source('raw', 'app_events')",
                "user_id": "user_id",
                "name": "event_name",
                "timestamp": "occurred_at",
                "loaded_at": "loaded_at",
                "id": "event_id",
                "properties": {"column": "properties", "types": {"amount": "number"}},
            },
        },
        "rfm": {"event": "order_completed", "monetary": "amount", "within": "30d"},
    }


CLEAN_SEGMENTS = """\
segments:
  - name: openers
    rule: {event: app_open, within: 7d}
  - name: big_spenders
    rule:
      all:
        - {event: order_completed, sum: {property: amount, gte: 100}}
        - {event: product_viewed, where: [{property: category, eq: shoes}]}
  - name: checkout_flow
    rule:
      sequence:
        steps:
          - {event: checkout_started}
          - {event: order_completed, within: 1h, where: [{property: currency, eq: EUR}]}
  - name: pros
    rule: {all: [{trait: plan, eq: pro}, {rfm: {r: {gte: 3}}}]}
"""


def yaml_text(value: dict[str, Any], indent: int = 0) -> str:
    """Block-style YAML of nested mappings of plain scalars (so positions are easy to find)."""
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{'  ' * indent}{key}:")
            lines.append(yaml_text(item, indent + 1))
        else:
            lines.append(f"{'  ' * indent}{key}: {item}")
    return "\n".join(lines)


@dataclass
class Project:
    root: Path
    engine: Loaded

    @property
    def config_path(self) -> Path:
        return self.root / "segwise.yml"

    def text(self, file: str = "segwise.yml") -> str:
        return (self.root / file).read_text()

    def at(self, needle: str, file: str = "segwise.yml", key: bool = False) -> tuple[str, int, int]:
        """(file, line, col) of the value in `needle` ("key: value"), or of its key; `needle`
        must occur once."""
        text = self.text(file)
        assert text.count(needle) == 1, needle
        index = text.index(needle)
        if not key and ": " in needle:
            index += needle.index(": ") + 2
        line = text.count("\n", 0, index) + 1
        col = index - (text.rfind("\n", 0, index) + 1) + 1
        return str(self.root / file), line, col

    def check(self) -> list[Diagnostic]:
        project = load_project(self.config_path)
        profile = load_profile(self.config_path, self.root / "profiles", target="main")
        resolver = resolver_for(profile, project.config, self.root)
        with connect(profile) as warehouse:
            return check_warehouse(project, warehouse, resolver)

    def cli(self, *args: str) -> tuple[int, str, str]:
        argv = ["validate", "--config", str(self.config_path), *args]
        result = CliRunner(env={"COLUMNS": "1000"}).invoke(main, argv)
        return result.exit_code, result.stdout, result.stderr


def write_project(
    root: Path, engine: Loaded, settings: dict[str, Any] | None = None, segments: str = CLEAN_SEGMENTS
) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "segwise.yml").write_text(yaml_text(settings or config()) + "\n")
    (root / "dbt_project.yml").write_text("name: sw_check\nprofile: sw_check\nconfig-version: 2\n")
    (root / "segments").mkdir()
    (root / "segments" / "s.yml").write_text(segments)
    (root / "models").mkdir()
    table = {"name": "app_events", "identifier": "events_v1"}
    sources = {"sources": [{"name": "raw", "schema": engine.schema, "tables": [table]}]}
    (root / "models" / "sources.yml").write_text(json.dumps(sources))
    (root / "profiles").mkdir()
    profiles = {"sw_check": {"target": "main", "outputs": {"main": engine.output}}}
    (root / "profiles" / "profiles.yml").write_text(json.dumps(profiles))
    return Project(root, engine)


def found(diagnostics: list[Diagnostic]) -> set[tuple[str, int, int, str, str | None, str]]:
    return {(d.file, d.line, d.col, d.message, d.hint, d.severity) for d in diagnostics}


# ------------------------------------------------------------------------------- clean projects


def test_a_clean_project_passes_on_every_engine(tmp_path: Path, engine: Loaded) -> None:
    project = write_project(tmp_path, engine)
    assert project.check() == []
    code, out, err = project.cli("--target", "main", "--profiles-dir", str(tmp_path / "profiles"))
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"ok: 4 segments, checked against {engine.kind} target 'main'"]


def test_validate_writes_nothing_to_duckdb(tmp_path: Path, duck: Loaded) -> None:
    before = Path(duck.output["path"]).read_bytes()
    project = write_project(tmp_path, duck)
    assert project.cli("--target", "main", "--profiles-dir", str(tmp_path / "profiles"))[0] == 0
    assert Path(duck.output["path"]).read_bytes() == before


class CountingDuckDB(DuckDBWarehouse):
    """The real DuckDB client, counting what it is asked."""

    statements = 0

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        CountingDuckDB.statements += 1
        return super().query(sql)

    def columns(self, relation: Any) -> dict[str, str] | None:
        CountingDuckDB.statements += 1
        return super().columns(relation)


def test_a_handful_of_statements_whatever_the_number_of_segments(tmp_path: Path, duck: Loaded) -> None:
    many = "segments:\n" + "".join(
        f"  - name: s{i}\n    rule: {{event: {name}, where: [{{property: {prop}, eq: x}}]}}\n"
        for i, (name, prop) in enumerate(
            [("order_completed", "currency"), ("product_viewed", "category"), ("product_viewed", "colour")] * 20
        )
    )
    project = write_project(tmp_path, duck, segments=many)
    loaded = load_project(project.config_path)
    profile = load_profile(project.config_path, tmp_path / "profiles", target="main")
    CountingDuckDB.statements = 0
    with CountingDuckDB(profile.fields) as warehouse:
        diagnostics = check_warehouse(loaded, warehouse, resolver_for(profile, loaded.config, tmp_path))
    # two relations' columns; the event names; the counts; the sample of the key never seen; the ids
    assert CountingDuckDB.statements == 6
    assert len(diagnostics) == 20 and all("'colour' never occurs" in d.message for d in diagnostics)


# ------------------------------------------------------------------------------- mistakes


MISTAKES = """\
segments:
  - name: openers
    rule: {event: app_opn, within: 7d}
  - name: big_spenders
    rule:
      all:
        - {event: order_completed, sum: {property: amount, gte: 100}}
        - {event: product_viewed, where: [{property: categry, eq: shoes}]}
        - {event: product_viewed, where: [{property: colour, eq: red}]}
        - {event: app_open, where: [{property: amount, gt: 1}]}
  - name: flow
    rule:
      sequence:
        steps:
          - {event: checkout_started}
          - {event: order_complete, within: 1h}
"""


def _mistaken_config() -> dict[str, Any]:
    settings = config()
    users = settings["sources"]["users"]
    users["traits"]["ltv"]["column"] = "lifetime_valu"
    users["traits"]["age"] = {"type": "number", "column": "age_text"}  # text: a warning
    users["traits"]["signed_up_at"] = {"type": "timestamp", "column": "is_beta"}  # boolean: an error
    settings["rfm"]["event"] = "order_complete"
    return settings


def test_mistakes_are_located_with_hints_on_every_engine(tmp_path: Path, engine: Loaded) -> None:
    project = write_project(tmp_path, engine, _mistaken_config(), MISTAKES)
    s, seg = project.at, lambda needle: project.at(needle, "segments/s.yml", key=True)
    col = engine.stored
    expected = {
        (*s("column: lifetime_valu"), "trait 'ltv' (number): no column 'lifetime_valu' in the users relation "
         "ref('app_users')", f"did you mean '{col('lifetime_value')}'?", "error"),
        (*s("column: age_text"), f"trait 'age' (number): column '{col('age_text')}' is {engine.type_name('varchar')}",
         "segwise casts it to a number: a value that does not read as one fails the run", "warning"),
        (*s("column: is_beta"), f"trait 'signed_up_at' (timestamp): column '{col('is_beta')}' is "
         f"{engine.type_name('boolean')}, which cannot be read as a timestamp",
         "point it at a timestamp or date column, or convert the column in a dbt model", "error"),
        (*s("event: order_complete"), "unknown event 'order_complete': no row of the events relation has "
         "event_name = 'order_complete'", "did you mean 'order_completed'?", "error"),
        (*seg("{event: app_opn"), "unknown event 'app_opn': no row of the events relation has event_name = 'app_opn'",
         "did you mean 'app_open'?", "error"),
        (*seg("{event: order_complete,"), "unknown event 'order_complete': no row of the events relation has "
         "event_name = 'order_complete'", "did you mean 'order_completed'?", "error"),
        (*seg("{property: categry"), "property 'categry' never occurs on event 'product_viewed': no product_viewed "
         "event has a non-null 'categry'", "did you mean 'category'?", "error"),
        (*seg("{property: colour"), "property 'colour' never occurs on event 'product_viewed': no product_viewed "
         "event has a non-null 'colour'", "keys on product_viewed events: category, price, sku", "error"),
        (*seg("{property: amount, gt: 1"), "property 'amount' never occurs on event 'app_open': no app_open event has "
         "a non-null 'amount'", "keys on app_open events: screen", "error"),
    }  # fmt: skip
    diagnostics = project.check()
    assert found(diagnostics) == expected
    # what is right is not reported: the sum of amount on order_completed, app_open itself,
    # checkout_started, the columns plan/updated_at/user_id, and the rfm monetary property
    # (its event is unknown, which is reported once, at rfm.event)
    assert not any("'amount' never occurs on event 'order_completed'" in d.message for d in diagnostics)
    assert [d.message for d in diagnostics].count("unknown event 'app_opn': no row of the events relation has "
                                                  "event_name = 'app_opn'") == 1  # fmt: skip


def test_cli_prints_file_line_col_and_the_summary(tmp_path: Path, duck: Loaded) -> None:
    project = write_project(tmp_path, duck, _mistaken_config(), MISTAKES)
    code, out, err = project.cli("--target", "main", "--profiles-dir", str(tmp_path / "profiles"))
    assert code == 1
    lines = out.splitlines()
    file, line, col = project.at("column: lifetime_valu")
    assert f"{file}:{line}:{col}: trait 'ltv' (number): no column 'lifetime_valu' in the users relation " \
           "ref('app_users'); did you mean 'lifetime_value'?" in lines  # fmt: skip
    file, line, col = project.at("column: age_text")
    assert f"{file}:{line}:{col}: warning: trait 'age' (number): column 'age_text' is VARCHAR; segwise casts it to " \
           "a number: a value that does not read as one fails the run" in lines  # fmt: skip
    file, line, col = project.at("{event: app_opn", "segments/s.yml", key=True)
    assert f"{file}:{line}:{col}: unknown event 'app_opn': no row of the events relation has " \
           "event_name = 'app_opn'; did you mean 'app_open'?" in lines  # fmt: skip
    assert len(lines) == 9
    assert lines == sorted(lines, key=lambda x: (x.split(":")[0], int(x.split(":")[1]), int(x.split(":")[2])))
    assert err.strip() == "8 errors, 1 warning"


# ------------------------------------------------------------------------------- relations and types


def test_a_missing_relation_is_located_at_its_key(tmp_path: Path, local: Loaded) -> None:
    settings = config()
    settings["sources"]["users"]["relation"] = "ref('app_userz')"
    settings["sources"]["events"]["relation"] = "nowhere.app_events"
    project = write_project(tmp_path, local, settings)
    schema = local.schema
    expected = {
        (*project.at("relation: ref('app_userz')"), f"the users relation ref('app_userz') ({schema}.app_userz) "
         "does not exist", f"ref('app_userz') is {schema}.app_userz on this target: build it first (dbt build), "
         "or fix the name", "error"),
        (*project.at("relation: nowhere.app_events"), "the events relation nowhere.app_events "
         "(nowhere.app_events) does not exist",
         "check the schema and table names, and that this target's user may read them", "error"),
    }  # fmt: skip
    assert found(project.check()) == expected  # and nothing about their columns or events


def test_a_missing_source_names_the_declared_table(tmp_path: Path, duck: Loaded) -> None:
    project = write_project(tmp_path, duck)
    sources = {"sources": [{"name": "raw", "schema": "main", "tables": [{"name": "app_events", "identifier": "ev"}]}]}
    (tmp_path / "models" / "sources.yml").write_text(json.dumps(sources))
    [diagnostic] = project.check()
    assert diagnostic.message == "the events relation source('raw', 'app_events') (main.ev) does not exist"
    assert (diagnostic.line, diagnostic.col) == project.at("relation: source('raw', 'app_events')")[1:]


def test_incompatible_event_columns(tmp_path: Path, duck: Loaded) -> None:
    settings = config()
    settings["sources"]["events"]["relation"] = "ref('odd_events')"
    project = write_project(tmp_path, duck, settings)
    messages = {(d.message, d.severity) for d in project.check()}
    assert messages == {
        ("sources.events.id: column 'event_id' is DOUBLE", "warning"),
        ("sources.events.name: column 'event_name' is BIGINT, which cannot be read as event names", "error"),
        ("sources.events.timestamp: column 'occurred_at' is VARCHAR", "warning"),
        ("sources.events.loaded_at: column 'loaded_at' is INTEGER, which cannot be read as a timestamp", "error"),
        (
            "sources.events.properties.column: column 'properties' is DOUBLE, which cannot be read as JSON properties",
            "error",
        ),
    }  # user_id BIGINT is fine; with the name column unusable no event name is checked


@pytest.mark.parametrize(
    ("dialect", "type_name", "kind"),
    [
        ("duckdb", "VARCHAR", Kind.TEXT), ("duckdb", "JSON", Kind.JSON),
        ("duckdb", "TIMESTAMP WITH TIME ZONE", Kind.TIMESTAMP), ("duckdb", "DECIMAL(18,3)", Kind.DECIMAL),
        ("duckdb", "STRUCT(a INTEGER)", Kind.NESTED), ("duckdb", "HUGEINT", Kind.INTEGER),
        ("postgres", "character varying(20)", Kind.TEXT), ("postgres", "jsonb", Kind.JSON),
        ("postgres", "numeric", Kind.INTEGER), ("postgres", "numeric(10,2)", Kind.DECIMAL),
        ("postgres", "timestamp without time zone", Kind.TIMESTAMP), ("postgres", "double precision", Kind.FLOAT),
        ("postgres", "mood", Kind.UNKNOWN),  # an enum: not checked
        ("snowflake", "NUMBER(38,0)", Kind.INTEGER), ("snowflake", "NUMBER(10,2)", Kind.DECIMAL),
        ("snowflake", "VARIANT", Kind.JSON), ("snowflake", "TIMESTAMP_NTZ", Kind.TIMESTAMP),
        ("snowflake", "DATE", Kind.DATE), ("bigquery", "STRING", Kind.TEXT), ("bigquery", "INT64", Kind.INTEGER),
        ("bigquery", "BOOL", Kind.BOOLEAN), ("bigquery", "ARRAY<INT64>", Kind.NESTED),
        ("bigquery", "GEOGRAPHY", Kind.OTHER),
    ],
)  # fmt: skip
def test_column_kinds_from_each_engines_type_names(dialect: str, type_name: str, kind: Kind) -> None:
    assert column_kind(type_name, dialect) is kind


# ------------------------------------------------------------------------------- flat properties


FLAT_SEGMENTS = """\
segments:
  - name: couponers
    rule: {event: order_completed, where: [{property: coupon, eq: SPRING}]}
  - name: shoes
    rule: {event: product_viewed, where: [{property: category, eq: shoes}]}
  - name: open_amount
    rule: {event: app_open, sum: {property: amount, gt: 1}}
  - name: spenders
    rule: {event: order_completed, sum: {property: amount, gt: 100}}
"""


def test_flat_property_columns(tmp_path: Path, local: Loaded) -> None:
    settings = config()
    events = settings["sources"]["events"]
    events["relation"] = "ref('events_flat')"
    events["properties"] = {
        "columns": {"amount": "amount", "category": "category", "coupon": "coupon", "discount": "discount_pct"},
        "types": {"amount": "number", "discount": "number"},
    }
    project = write_project(tmp_path, local, settings, FLAT_SEGMENTS)
    seg = lambda needle: project.at(needle, "segments/s.yml", key=True)  # noqa: E731
    expected = {
        (*project.at("discount: discount_pct"), "property 'discount' (number): no column 'discount_pct' in the "
         "events relation ref('events_flat')", "did you mean 'discount'?", "error"),
        (*seg("{property: coupon"), "property 'coupon' (column 'coupon') is NULL on every 'order_completed' event",
         "the condition can only hold for users without such events; check the loader fills it", "warning"),
        (*seg("{event: app_open, sum"), "property 'amount' (column 'amount') is NULL on every 'app_open' event",
         "the condition can only hold for users without such events; check the loader fills it", "warning"),
    }  # fmt: skip
    assert found(project.check()) == expected  # category on product_viewed, amount on order_completed: fine


# ------------------------------------------------------------------------------- advice


def test_no_loaded_at_nor_updated_at_are_warnings_and_exit_0(tmp_path: Path, local: Loaded) -> None:
    settings = config()
    del settings["sources"]["events"]["loaded_at"]
    del settings["sources"]["users"]["updated_at"]
    project = write_project(tmp_path, local, settings)
    diagnostics = project.check()
    assert [(d.line, d.col, d.severity) for d in diagnostics] == [
        (*project.at("users:", key=True)[1:], WARNING),
        (*project.at("events:", key=True)[1:], WARNING),
    ]
    loaded_at = diagnostics[1]
    assert "segwise_lookback var (default 3d)" in loaded_at.message and "late event" in loaded_at.message
    assert diagnostics[0].message == "no sources.users.updated_at: every users row counts as changed on every " \
                                     "incremental run"  # fmt: skip

    code, out, err = project.cli("--target", "main", "--profiles-dir", str(tmp_path / "profiles"))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    file, line, col = project.at("events:", key=True)
    assert lines[1].startswith(f"{file}:{line}:{col}: warning: no sources.events.loaded_at: incremental runs ")
    assert lines[-1] == f"ok: 4 segments, checked against {local.kind} target 'main'; 2 warnings"


def test_duplicate_user_ids_are_a_warning(tmp_path: Path, local: Loaded) -> None:
    settings = config()
    settings["sources"]["users"]["relation"] = "ref('users_dup')"
    project = write_project(tmp_path, local, settings)
    [diagnostic] = project.check()
    assert (diagnostic.line, diagnostic.col, diagnostic.severity) == (*project.at("    id: user_id")[1:], WARNING)
    assert diagnostic.message == "2 user ids (e.g. 'u1') have more than one row in the users relation"


# ------------------------------------------------------------------------------- the command line


def test_connection_failure_is_one_line(tmp_path: Path, duck: Loaded) -> None:
    gone = Loaded("duckdb", {**duck.output, "path": str(tmp_path / "gone.duckdb")}, "main")
    project = write_project(tmp_path / "p", gone)
    code, out, err = project.cli("--target", "main", "--profiles-dir", str(tmp_path / "p" / "profiles"))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"error: no DuckDB database at {tmp_path / 'gone.duckdb'}: run `dbt build` first, or check the profile's path"
    ]
    code, _, err = project.cli("--target", "nope", "--profiles-dir", str(tmp_path / "p" / "profiles"))
    assert code == 1 and err.startswith("error: ") and "unknown target 'nope'" in err


def test_warehouse_flag_uses_the_default_target_and_dbt_target_alone_stays_offline(
    tmp_path: Path, duck: Loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = config()
    settings["sources"]["users"]["relation"] = "ref('app_userz')"  # only the warehouse can tell
    project = write_project(tmp_path, duck, settings)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path / "profiles"))
    code, out, _ = project.cli("--warehouse")
    assert code == 1 and "the users relation ref('app_userz')" in out
    monkeypatch.setenv("DBT_TARGET", "main")
    code, out, _ = project.cli()
    assert (code, out.strip()) == (0, "ok: 4 segments")
    code, _, err = project.cli("--profile", "sw_check")
    assert code == 2 and "add --target T or --warehouse" in err


def test_yaml_errors_come_first_and_no_connection_is_made(tmp_path: Path, duck: Loaded) -> None:
    gone = Loaded("duckdb", {**duck.output, "path": str(tmp_path / "gone.duckdb")}, "main")
    project = write_project(tmp_path / "p", gone, segments="segments:\n  - name: x\n    rule: {trait: plna, eq: a}\n")
    with pytest.raises(ValidationError):
        load_project(project.config_path)
    code, out, err = project.cli("--target", "main", "--profiles-dir", str(tmp_path / "p" / "profiles"))
    assert code == 1 and "unknown trait 'plna'" in out and "DuckDB" not in err
