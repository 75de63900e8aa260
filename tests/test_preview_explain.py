"""`segwise preview` and `segwise explain` through a dbt profile, on DuckDB and PostgreSQL.

A small hand-made data set at T (tests/support/preview_data.py) is loaded into a DuckDB file and into a fresh schema
of the test PostgreSQL server; a profiles.yml in tmp_path points at it, the way an analyst's
~/.dbt/profiles.yml would. Preview must agree with `compile_membership` run directly and with
the reference evaluator; explain's tree must show the hand-computed numbers, and its root
must be the membership verdict.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest
from click.testing import CliRunner

from segwise.cli import main
from segwise.config import Project
from segwise.explain import Explanation, NodeResult, explain_result, node_line
from segwise.loading import load_project
from segwise.preview import PreviewResult, preview_result, render_preview
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership
from segwise.sql.relations import direct
from segwise.warehouse import ConnectionProfile, Warehouse, WarehouseError, connect, load_profile, resolver_for
from segwise.warehouse.profiles import find_profiles_dir
from segwise.warehouse.render import render_data
from tests.reference.evaluator import holdout_bucket, variant_for
from tests.support.preview_data import (
    AS_OF,
    CONFIG,
    EVENT_COLUMNS,
    EVENTS,
    REFERENCE,
    SEGMENTS,
    USER_COLUMNS,
    USERS,
    T,
    check_warehouse,
    rows,
    write_project,
)


def test_the_reference_agrees_with_the_hand_computed_memberships() -> None:
    assert set(REFERENCE["subject"]) == {"alice", "dave"}
    assert set(REFERENCE["buyers"]) == {"alice", "bob", "carol", "dave"} | {f"u{i:02d}" for i in range(20)}
    assert set(REFERENCE["percent"]) == {"frank"}
    assert set(REFERENCE["nearby"]) == {"alice", "bob"}


# ------------------------------------------------------------------------------- the warehouses


@dataclass
class Setup:
    root: Path  # the project: segwise.yml, dbt_project.yml, segments/, models/sources.yml
    profiles_dir: Path
    dialect: str
    run_sql: Callable[[str], list[tuple[Any, ...]]]  # a direct connection, for compile_membership

    @property
    def config(self) -> Path:
        return self.root / "segwise.yml"

    def project(self) -> Project:
        return load_project(self.config)

    def profile(self, target: str | None = None) -> ConnectionProfile:
        return load_profile(self.config, self.profiles_dir, target=target)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        argv = [*args, "--config", str(self.config), "--profiles-dir", str(self.profiles_dir)]
        result = CliRunner(env={"COLUMNS": "250", **(env or {})}).invoke(main, argv)
        return result.exit_code, result.stdout, result.stderr


def _duckdb_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA analytics; CREATE SCHEMA landing")
    con.execute(
        "CREATE TABLE analytics.app_users (user_id VARCHAR, plan VARCHAR, lifetime_value DOUBLE, "
        "latitude DOUBLE, longitude DOUBLE)"
    )
    con.execute(
        "CREATE TABLE landing.events_v1 (event_id VARCHAR, user_id VARCHAR, event_name VARCHAR, "
        "occurred_at TIMESTAMP, properties VARCHAR)"
    )
    con.executemany("INSERT INTO analytics.app_users VALUES (?, ?, ?, ?, ?)", rows(USERS, USER_COLUMNS))
    con.executemany("INSERT INTO landing.events_v1 VALUES (?, ?, ?, ?, ?)", rows(EVENTS, EVENT_COLUMNS))
    con.close()
    monkeypatch.setenv("SW_TEST_DUCKDB", str(path))
    outputs = {
        "main": {"type": "duckdb", "path": "{{ env_var('SW_TEST_DUCKDB') }}", "schema": "analytics", "threads": 1},
        "spark": {"type": "spark", "host": "localhost"},
    }
    profiles_dir = write_project(tmp_path / "project", "landing", outputs)

    def run_sql(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(path), read_only=True) as direct_con:
            return direct_con.execute(sql).fetchall()

    return Setup(tmp_path / "project", profiles_dir, "duckdb", run_sql)


def _postgres_setup(tmp_path: Path, dsn: str) -> Iterator[Setup]:
    import psycopg2

    url = urlparse(dsn)
    schema, raw = f"sw_{uuid.uuid4().hex[:10]}", f"sw_raw_{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(dsn)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {schema}; CREATE SCHEMA {raw}")
        cur.execute(
            f"CREATE TABLE {schema}.app_users (user_id TEXT, plan TEXT, lifetime_value DOUBLE PRECISION, "
            "latitude DOUBLE PRECISION, longitude DOUBLE PRECISION)"
        )
        cur.execute(
            f"CREATE TABLE {raw}.events_v1 (event_id TEXT, user_id TEXT, event_name TEXT, "
            "occurred_at TIMESTAMP, properties JSONB)"
        )
        cur.executemany(f"INSERT INTO {schema}.app_users VALUES (%s, %s, %s, %s, %s)", rows(USERS, USER_COLUMNS))
        cur.executemany(f"INSERT INTO {raw}.events_v1 VALUES (%s, %s, %s, %s, %s)", rows(EVENTS, EVENT_COLUMNS))
    outputs = {
        "main": {
            "type": "postgres",
            "host": url.hostname,
            "port": f"{{{{ env_var('SW_TEST_PG_PORT', '{url.port or 5432}') | as_number }}}}",
            "user": url.username or "postgres",
            "password": url.password or "",
            "dbname": url.path.lstrip("/") or "postgres",
            "schema": schema,
            "threads": 1,
            "options": "-c timezone=UTC",
        }
    }
    profiles_dir = write_project(tmp_path / "project", raw, outputs)

    def run_sql(sql: str) -> list[tuple[Any, ...]]:
        with con.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    try:
        yield Setup(tmp_path / "project", profiles_dir, "postgres", run_sql)
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP SCHEMA {schema} CASCADE; DROP SCHEMA {raw} CASCADE")
        con.close()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def setup(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.delenv("SW_TEST_TARGET", raising=False)
    monkeypatch.delenv("DBT_TARGET", raising=False)
    monkeypatch.delenv("DBT_PROFILE", raising=False)
    if request.param == "duckdb":
        yield _duckdb_setup(tmp_path, monkeypatch)
    else:
        yield from _postgres_setup(tmp_path, request.getfixturevalue("pg_dsn"))


@pytest.fixture
def duck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """DuckDB only: for the error cases, which do not depend on the engine."""
    monkeypatch.delenv("SW_TEST_TARGET", raising=False)
    monkeypatch.delenv("DBT_TARGET", raising=False)
    monkeypatch.delenv("DBT_PROFILE", raising=False)
    return _duckdb_setup(tmp_path, monkeypatch)


def fields(out: str) -> dict[str, str]:
    """The `key  value` lines of the output (the sample's continuation lines under "sample")."""
    found: dict[str, str] = {}
    key = ""
    for line in out.splitlines():
        if not line.strip() or line.startswith(("├", "└", "│", "TRUE", "FALSE")):
            break
        if line.startswith(" "):
            found[key] += "\n" + line.strip()
        else:
            key, _, value = line.partition("  ")
            found[key] = value.strip()
    return found


def _preview(setup: Setup, name: str, sample: int = 5, project: Project | None = None) -> PreviewResult:
    project = project or setup.project()
    profile = setup.profile()
    with connect(profile) as warehouse:
        resolver = resolver_for(profile, project.config, setup.root)
        return preview_result(project, name, warehouse, T, sample=sample, resolver=resolver)


def _explain(setup: Setup, name: str, user_id: str) -> Explanation:
    project = setup.project()
    profile = setup.profile()
    with connect(profile) as warehouse:
        resolver = resolver_for(profile, project.config, setup.root)
        return explain_result(project, name, user_id, warehouse, T, resolver=resolver)


# ------------------------------------------------------------------------------- preview


@pytest.mark.parametrize("name", [s["name"] for s in SEGMENTS])
def test_preview_equals_compile_membership_and_the_reference(setup: Setup, name: str) -> None:
    project = setup.project()
    profile = setup.profile()
    resolver = resolver_for(profile, project.config, setup.root)
    result = _preview(setup, name, sample=5, project=project)

    query = compile_membership(project, [name], setup.dialect, T, resolver)
    direct_members = {user: variant for _, user, variant in setup.run_sql(get_target(setup.dialect).sql(query))}
    reference = REFERENCE[name]
    assert direct_members == reference

    assert result.members == len(reference)
    assert list(result.sample) == sorted(reference.items())[:5]
    if name == "subject":
        control = sum(1 for v in reference.values() if v == "control")
        assert (result.control, result.treatment) == (control, len(reference) - control)
    else:
        assert (result.control, result.treatment) == (None, None)
    assert result.scan_bytes is None  # a dry run is BigQuery's
    assert result.dialect == setup.dialect


def test_the_reusable_warehouse_check(setup: Setup) -> None:
    """tests/support/preview_data.check_warehouse: what fakesnow and BigQuery checks can reuse."""
    assert check_warehouse(setup.config, setup.profiles_dir) == []


def test_preview_sample_sizes(setup: Setup) -> None:
    everyone = sorted(REFERENCE["buyers"])
    assert [u for u, _ in _preview(setup, "buyers", sample=0).sample] == []
    assert _preview(setup, "buyers", sample=0).members == 24
    assert [u for u, _ in _preview(setup, "buyers", sample=3).sample] == everyone[:3]
    assert [u for u, _ in _preview(setup, "buyers", sample=100).sample] == everyone


def test_preview_cli_prints_count_split_and_sample(setup: Setup) -> None:
    code, out, err = setup.cli("preview", "subject", "--as-of", AS_OF, "--sample", "1")
    assert code == 0, err
    variants = REFERENCE["subject"]
    control = sum(1 for v in variants.values() if v == "control")
    shown = fields(out)
    assert list(shown) == ["segment", "T", "target", "members", "variants", "sample", "elapsed"]
    assert shown["segment"] == "subject"
    assert shown["T"] == "2025-06-01T12:00:00 (UTC)"
    assert shown["target"] == f"main ({setup.dialect})"
    assert shown["members"] == "2"
    assert shown["variants"] == f"control {control} · treatment {2 - control} (holdout 50%)"
    assert shown["sample"] == f"1 of 2, by user_id\nalice  {variants['alice']}"
    assert re.fullmatch(r"\d+\.\d\d s \(total \d+\.\d\d s\)", shown["elapsed"])


def test_preview_file_with_an_unbuilt_rule(setup: Setup) -> None:
    trial = setup.root / "trial.yml"  # not under segments/: nothing generated, nothing built
    trial.write_text(
        "segments:\n"
        "  - name: trial\n"
        "    rule:\n"
        "      all:\n"
        "        - in_segment: buyers\n"
        "        - {event: product_viewed, within: 48h, count: {gte: 3}}\n"
    )
    code, out, err = setup.cli("preview", "trial", "--file", str(trial), "--as-of", AS_OF)
    assert code == 0, err
    assert fields(out)["members"] == "2"
    assert fields(out)["sample"] == "2 of 2, by user_id\nalice\ndave"

    code, _, err = setup.cli("preview", "trial", "--as-of", AS_OF)  # without --file it is unknown
    assert code == 1
    assert "unknown segment 'trial'" in err


def test_preview_file_may_redefine_a_project_segment(setup: Setup) -> None:
    trial = setup.root / "trial.yml"
    trial.write_text("segments:\n  - name: buyers\n    rule: {event: order_completed, count: {gte: 2}}\n")
    code, out, err = setup.cli("preview", "buyers", "--file", str(trial), "--as-of", AS_OF)
    assert code == 0, err
    assert fields(out)["members"] == "2"  # alice and bob have two orders each


def test_preview_file_is_validated_against_the_project_config(duck: Setup) -> None:
    trial = duck.root / "trial.yml"
    trial.write_text(
        "segments:\n"
        "  - name: trial\n"
        "    rule:\n"
        "      all:\n"
        "        - {trait: plna, eq: pro}\n"
        "        - in_segment: buyerz\n"
    )
    code, out, err = duck.cli("preview", "trial", "--file", str(trial), "--as-of", AS_OF)
    assert code == 1
    assert out == ""
    assert f"{trial}:5:19: unknown trait 'plna'; did you mean 'plan'?" in err
    assert f"{trial}:6:23: unknown segment 'buyerz'; did you mean 'buyers'?" in err


# ------------------------------------------------------------------------------- explain


def _rfm(node: NodeResult) -> dict[str, Any]:
    return {f.label: f.value for f in node.facts}


def test_explain_a_member(setup: Setup) -> None:
    result = _explain(setup, "subject", "alice")
    root = result.root
    assert root is not None and result.in_universe and result.has_users_row
    assert result.events == 7  # a1 to a7: a1 twice counts once, a8 is after T
    assert root.value is True and result.member is True
    assert result.variant == variant_for("subject", "alice", 50)
    assert result.bucket == holdout_bucket("subject", "alice")

    assert (root.at(0).text, root.at(0).value) == ("any of", True)
    assert root.at(0, 0).text == "event product_viewed within 48h count >= 3"
    assert (root.at(0, 0).value, root.at(0, 0).fact("count")) == (True, 4)
    assert root.at(0, 1).text == "trait plan = 'pro'"
    assert (root.at(0, 1).value, root.at(0, 1).fact("plan")) == (False, "free")
    assert (root.at(1).text, root.at(1).value) == ("not", True)
    assert root.at(1, 0).text == "event order_completed avg(amount) > 500"
    assert (root.at(1, 0).value, root.at(1, 0).fact("avg(amount)")) == (False, 200)
    assert root.at(2).value is True
    assert root.at(2, 0).text == "sequence within 7d: checkout_viewed, then order_completed within 10m"
    assert (root.at(2, 0).value, root.at(2, 0).fact("matched")) == (True, True)
    assert root.at(2, 1).text == "in_segment buyers"
    assert (root.at(2, 1).value, root.at(2, 1).fact("member of buyers")) == (True, True)
    assert root.at(2, 2).text == "rfm r >= 4"
    assert root.at(2, 2).value is True
    assert _rfm(root.at(2, 2)) == {
        "recency_days": 1,
        "frequency": 2,
        "monetary": 400,
        "r": 5,
        "f": 3,
        "m": 3,
        "tier": "potential_loyalist",
    }


def test_explain_a_non_member(setup: Setup) -> None:
    result = _explain(setup, "subject", "bob")
    root = result.root
    assert root is not None
    assert root.value is False and result.member is False and result.variant is None
    assert (root.at(0).value, root.at(0, 0).value, root.at(0, 0).fact("count")) == (True, False, 1)
    assert (root.at(0, 1).value, root.at(0, 1).fact("plan")) == (True, "pro")
    assert root.at(1).value is False  # the deciding condition: not (avg 700 > 500)
    assert (root.at(1, 0).value, root.at(1, 0).fact("avg(amount)")) == (True, 700)
    assert (root.at(2, 0).value, root.at(2, 0).fact("matched")) == (False, False)
    assert root.at(2, 1).value is True
    assert root.at(2, 2).value is False
    assert _rfm(root.at(2, 2)) == {
        "recency_days": 5,
        "frequency": 2,
        "monetary": 1400,
        "r": 1,
        "f": 3,
        "m": 5,
        "tier": "at_risk",
    }


def test_explain_root_is_membership_for_every_user(setup: Setup) -> None:
    for user in ["alice", "bob", "carol", "dave", "eve", "frank", "u07"]:
        result = _explain(setup, "subject", user)
        assert result.root is not None
        assert result.root.value is result.member is (user in REFERENCE["subject"]), user
        assert result.variant == REFERENCE["subject"].get(user), user
    dave = _explain(setup, "subject", "dave")
    assert (dave.has_users_row, dave.events) == (False, 4)
    eve = _explain(setup, "subject", "eve")
    assert eve.root is not None and eve.events == 0
    assert eve.root.at(1, 0).fact("avg(amount)") is None  # missing: every comparison is false
    assert eve.root.at(1).value is True
    assert eve.root.at(2, 2).fact("tier") is None


def test_explain_near_shows_the_distance(setup: Setup) -> None:
    bob = _explain(setup, "nearby", "bob").root
    assert bob is not None and bob.value is True
    expected = 6371.0088 * math.radians(0.08)  # due north: the arc is the latitude difference
    assert bob.fact("distance_km") == pytest.approx(expected, abs=1e-6)
    assert (bob.fact("latitude"), bob.fact("longitude")) == (52.6, 13.405)
    carol = _explain(setup, "nearby", "carol").root
    assert carol is not None and carol.value is False and carol.fact("distance_km") is None


def test_explain_cli_prints_the_tree(setup: Setup) -> None:
    code, out, err = setup.cli("explain", "subject", "alice", "--as-of", AS_OF)
    assert code == 0, err
    variant, bucket = variant_for("subject", "alice", 50), holdout_bucket("subject", "alice")
    shown = fields(out)
    assert shown["user"] == "'alice'"
    assert shown["universe"] == "yes (users row, 7 events at or before T)"
    assert shown["verdict"] == f"IN · {variant} (holdout 50%, bucket {bucket})"
    tree = out
    assert "TRUE   all of" in tree
    assert "TRUE   event product_viewed within 48h count >= 3  (count = 4)" in tree
    assert "FALSE  trait plan = 'pro'  (plan = 'free')" in tree
    assert "FALSE  event order_completed avg(amount) > 500  (avg(amount) = 200)" in tree
    assert "TRUE   sequence within 7d: checkout_viewed, then order_completed within 10m  (matched = yes)" in tree
    assert "TRUE   in_segment buyers  (member of buyers = yes)" in tree
    assert (
        "TRUE   rfm r >= 4  (recency_days = 1, frequency = 2, monetary = 400, r = 5, f = 3, m = 3, "
        "tier = 'potential_loyalist')"
    ) in tree
    assert "├── " in tree and "└── " in tree  # an indented tree

    code, out, err = setup.cli("explain", "subject", "bob", "--as-of", AS_OF)
    assert code == 0, err
    assert fields(out)["verdict"] == f"OUT (holdout 50%, bucket {holdout_bucket('subject', 'bob')})"
    assert "FALSE  all of" in out
    assert "TRUE   event order_completed avg(amount) > 500  (avg(amount) = 700)" in out


def test_explain_node_lines_match_the_structured_result(duck: Setup) -> None:
    root = _explain(duck, "subject", "eve").root
    assert root is not None
    assert node_line(root.at(1, 0)) == "FALSE  event order_completed avg(amount) > 500  (avg(amount) = missing)"
    assert node_line(root.at(0, 0)) == "FALSE  event product_viewed within 48h count >= 3  (count = 0)"


# ------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("command", [["preview", "subjct"], ["explain", "subjct", "alice"]])
def test_unknown_segment(duck: Setup, command: list[str]) -> None:
    code, out, err = duck.cli(*command, "--as-of", AS_OF)
    assert code == 1 and out == ""
    assert err.strip() == "error: unknown segment 'subjct'; did you mean 'subject'?"


def test_unknown_user(setup: Setup) -> None:
    code, out, err = setup.cli("explain", "subject", "zed", "--as-of", AS_OF)
    assert code == 1 and out == ""
    assert "error: user 'zed' is not in the universe at 2025-06-01T12:00:00" in err
    # dave, known only from events, is not in the universe before his first event
    code, _, err = setup.cli("explain", "subject", "dave", "--as-of", "2025-01-01")
    assert code == 1 and "not in the universe" in err


@pytest.mark.parametrize("command", [["preview", "subject"], ["explain", "subject", "alice"]])
def test_bad_target(duck: Setup, command: list[str]) -> None:
    code, out, err = duck.cli(*command, "--target", "nope")
    assert code == 1 and out == ""
    assert "unknown target 'nope'; targets: main, spark" in err
    code, _, err = duck.cli(*command, "--target", "spark")
    assert code == 1
    assert "type 'spark' is not supported by preview" in err
    code, _, err = duck.cli(*command, env={"SW_TEST_TARGET": "nope"})  # the profile's own target
    assert code == 1 and "unknown target 'nope'" in err


def test_missing_env_var_and_missing_database(duck: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SW_TEST_DUCKDB")
    code, _, err = duck.cli("preview", "subject")
    assert code == 1
    assert "target 'main', path: env var required but not provided: 'SW_TEST_DUCKDB'" in err
    monkeypatch.setenv("SW_TEST_DUCKDB", str(tmp_path / "nothing.duckdb"))
    code, _, err = duck.cli("preview", "subject")
    assert code == 1 and "no DuckDB database at" in err


def test_missing_table_is_a_clear_error(duck: Setup) -> None:
    (duck.root / "segwise.yml").write_text(json.dumps(CONFIG).replace("ref('app_users')", "ref('app_userz')"))
    code, _, err = duck.cli("preview", "subject")
    assert code == 1
    assert err.startswith("error: duckdb: Catalog Error: Table with name app_userz does not exist")


# ------------------------------------------------------------------------------- the pieces


def test_profiles_dir_is_found_like_dbt(tmp_path: Path) -> None:
    here = tmp_path / "cwd"
    here.mkdir()
    explicit = tmp_path / "explicit"
    assert find_profiles_dir(explicit, {"DBT_PROFILES_DIR": "/elsewhere"}, here) == explicit
    assert find_profiles_dir(None, {"DBT_PROFILES_DIR": "/elsewhere"}, here) == Path("/elsewhere")
    assert find_profiles_dir(None, {}, here) == Path.home() / ".dbt"
    (here / "profiles.yml").write_text("{}")
    assert find_profiles_dir(None, {}, here) == here


def test_profile_rendering_is_dbts() -> None:
    env = {"PORT": "6543", "FLAG": "True"}
    data = {
        "port": "{{ env_var('PORT') | as_number }}",
        "default_port": "{{ env_var('NOPE', '5432') | as_number }}",
        "text_port": "{{ env_var('PORT') }}",  # without a filter it stays text, as in dbt
        "flag": "{{ env_var('FLAG') | as_bool }}",
        "mixed": "db_{{ env_var('PORT') }}",
        "empty_default": "{{ env_var('NOPE', '') }}",
        "password": "{{ not jinja",  # kept verbatim
        "plain": "no templates here {",
        "nested": {"list": ["{{ env_var('PORT') }}", 3]},
    }
    assert render_data(data, "profiles.yml", env) == {
        "port": 6543,
        "default_port": 5432,
        "text_port": "6543",
        "flag": True,
        "mixed": "db_6543",
        "empty_default": "",
        "password": "{{ not jinja",
        "plain": "no templates here {",
        "nested": {"list": ["6543", 3]},
    }
    with pytest.raises(WarehouseError, match=r"profiles.yml, a.b: env var required but not provided: 'NOPE'"):
        render_data({"a": {"b": "{{ env_var('NOPE') }}"}}, "profiles.yml", env)
    with pytest.raises(WarehouseError, match="into type 'number'"):
        render_data({"port": "{{ 'abc' | as_number }}"}, "profiles.yml", env)


def test_direct_resolver_with_a_database_and_declared_sources() -> None:
    from segwise.config import Ref, SourceRef, TableName

    resolve = direct("analytics", database="my-project", sources={("raw", "events"): ("lake", "landing", "ev")})
    bigquery = get_target("bigquery")
    assert bigquery.sql(resolve(Ref("users"))) == "`my-project`.analytics.users"
    assert bigquery.sql(resolve(SourceRef("raw", "events"))) == "lake.landing.ev"
    assert bigquery.sql(resolve(SourceRef("raw", "other"))) == "`my-project`.raw.other"
    assert bigquery.sql(resolve(TableName(("s", "t")))) == "s.t"
    # the old behaviour is unchanged
    assert get_target("duckdb").sql(direct()(Ref("users"))) == "users"
    assert get_target("duckdb").sql(direct("main")(SourceRef("a", "b"))) == "a.b"


class _DryRunDuckDB(Warehouse):
    """A stand-in for BigQuery's dry run, to check what preview does with one."""

    dialect = "duckdb"

    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner
        self.dry_runs: list[str] = []

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.inner.query(sql)

    def dry_run_bytes(self, sql: str) -> int | None:
        self.dry_runs.append(sql)
        return 1_234_567

    def close(self) -> None:
        self.inner.close()


def test_preview_reports_the_dry_run(duck: Setup) -> None:
    project = duck.project()
    profile = duck.profile()
    with _DryRunDuckDB(connect(profile)) as warehouse:
        resolver = resolver_for(profile, project.config, duck.root)
        result = preview_result(project, "buyers", warehouse, T, sample=2, resolver=resolver)
    assert result.scan_bytes == 1_234_567 and len(warehouse.dry_runs) == 1
    assert "WHERE" in warehouse.dry_runs[0] and "sw_members" not in warehouse.dry_runs[0]  # compile_segment's SQL
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(render_preview(result, "main"))
    assert fields(console.export_text())["would scan"] == "1.2 MB (1,234,567 bytes) (dry run)"


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery"])
def test_preview_and_explain_sql_parse_back_for_every_demo_segment(dialect: str) -> None:
    """The SQL preview and explain would send to Snowflake or BigQuery, read back by sqlglot's
    own dialect (fakesnow and the BigQuery emulators accept more than the real engines)."""
    import sqlglot

    from segwise.explain import explain_query
    from segwise.preview import preview_query

    root = Path(__file__).resolve().parents[1]
    demo = load_project(root / "demos/ecommerce/segwise.yml")
    resolver = direct("analytics", database="warehouse")
    target = get_target(dialect)
    for name in demo.segments:
        for query in (
            preview_query(demo, name, dialect, T, 10, resolver),
            explain_query(demo, name, dialect, T, "o'brien", resolver).select,
        ):
            sql = target.sql(query)
            assert sqlglot.parse_one(sql, read=target.reader) is not None, name


class _FailingDryRun(_DryRunDuckDB):
    def dry_run_bytes(self, sql: str) -> int | None:
        raise WarehouseError("bigquery dry run: Not supported by this emulator")


def test_a_failed_dry_run_does_not_stop_the_preview(duck: Setup) -> None:
    project = duck.project()
    profile = duck.profile()
    with _FailingDryRun(connect(profile)) as warehouse:
        resolver = resolver_for(profile, project.config, duck.root)
        result = preview_result(project, "buyers", warehouse, T, sample=2, resolver=resolver)
    assert (result.members, result.scan_bytes) == (24, None)
    assert result.scan_error == "bigquery dry run: Not supported by this emulator"
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(render_preview(result, "main"))
    assert fields(console.export_text())["would scan"] == "unknown: bigquery dry run: Not supported by this emulator"


@pytest.mark.parametrize("command", [["preview", "zzz"], ["explain", "zzz", "alice"]])
def test_unknown_segment_lists_the_segments_when_none_is_close(duck: Setup, command: list[str]) -> None:
    code, out, err = duck.cli(*command, "--as-of", AS_OF)
    assert code == 1 and out == ""
    assert err.strip() == "error: unknown segment 'zzz'; the segments are buyers, nearby, percent, subject"


@pytest.mark.parametrize("command", [["preview", "buyer"], ["explain", "buyer", "alice"]])
def test_unknown_segment_names_every_close_one(duck: Setup, command: list[str]) -> None:
    trial = duck.root / "trial.yml"
    trial.write_text("segments:\n  - {name: buyers_eu, rule: {event: order_completed}}\n")
    code, out, err = duck.cli(*command, "--file", str(trial), "--as-of", AS_OF)
    assert code == 1 and out == ""
    assert err.strip() == "error: unknown segment 'buyer'; did you mean 'buyers' or 'buyers_eu'?"


def test_unknown_segment_lists_at_most_twenty_names(duck: Setup) -> None:
    trial = duck.root / "trial.yml"
    trial.write_text("segments:\n" + "".join(f"  - {{name: s_{i:02d}, rule: {{event: x}}}}\n" for i in range(25)))
    code, _, err = duck.cli("preview", "zzz", "--file", str(trial), "--as-of", AS_OF)
    assert code == 1
    listed = ", ".join(["buyers", "nearby", "percent", *(f"s_{i:02d}" for i in range(17))])
    assert err.strip() == f"error: unknown segment 'zzz'; the segments are {listed} and 9 more"
