"""A throwaway dbt project around the segwise macros, driven in-process with dbtRunner.

Each project gets its own directory (segwise.yml, segments, generated models, profiles) and
its own warehouse: a DuckDB file, or a schema on the test session's PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner, dbtRunnerResult

from segwise.config import Project
from segwise.dbt import generate
from segwise.dbt import state as segwise_state
from segwise.loading import load_project
from segwise.sql.dialects import get_target
from segwise.sql.event_store import STORE, store_rows, store_spec
from segwise.sql.relations import direct
from tests.support.engines import BigQueryEngine, DuckEngine, Engine, PostgresEngine, SnowflakeEngine
from tests.support.tables import load_tables

REPO = Path(__file__).resolve().parents[2]
STATE_TABLES = [*segwise_state.STATE_TABLES, STORE]


@dataclass
class Warehouse:
    """Where a test project runs: dbt's profile output, and a client for loading and reading."""

    kind: str
    output: dict[str, Any]
    engine: Engine
    schema: str
    qualifier: str  # prefix of the relation names in segwise.yml

    def reconnect(self) -> Engine:
        return self.engine


def duckdb_warehouse(root: Path) -> Warehouse:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "warehouse.duckdb"
    output = {"type": "duckdb", "path": str(path), "schema": "main", "threads": 1}
    return Warehouse("duckdb", output, DuckEngine(str(path)), "main", "main.")


def postgres_warehouse(dsn: str) -> Warehouse:
    schema = f"it_{uuid.uuid4().hex[:16]}"
    host, port = dsn.split("@")[1].split("/")[0].split(":")
    output = {
        "type": "postgres", "host": host, "port": int(port), "user": "postgres", "password": "",
        "dbname": "postgres", "schema": schema, "threads": 1,
    }  # fmt: skip
    return Warehouse("postgres", output, PostgresEngine(dsn, schema), schema, f"{schema}.")


def snowflake_warehouse(port: int) -> Warehouse:
    schema = f"IT_{uuid.uuid4().hex[:12].upper()}"
    output = {
        "type": "snowflake", "account": "fakesnow", "user": "segwise", "password": "segwise", "database": "SEGWISE",
        "schema": schema, "host": "127.0.0.1", "port": port, "protocol": "http", "threads": 1,
    }  # fmt: skip
    return Warehouse("snowflake", output, SnowflakeEngine(port, "SEGWISE", schema), schema, f"SEGWISE.{schema}.")


def bigquery_warehouse(port: int) -> Warehouse:
    dataset = f"it_{uuid.uuid4().hex[:12]}"
    output = {
        "type": "bigquery", "method": "oauth-secrets", "token": "fake-token", "project": "segwise",
        "dataset": dataset, "api_endpoint": f"http://127.0.0.1:{port}", "threads": 1,
    }  # fmt: skip
    engine = BigQueryEngine(port, "segwise", dataset)
    return Warehouse("bigquery", output, engine, dataset, f"segwise.{dataset}.")


def event_row(user: str, name: str, at: datetime, eid: str, late: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """One events row: loaded `late` after it happened, no properties."""
    return {"user_id": user, "event_name": name, "occurred_at": at, "loaded_at": at + late,
            "event_id": eid, "properties": "{}"}  # fmt: skip


class DbtProject:
    def __init__(self, root: Path, engine: str | Warehouse, pg_dsn: str | None = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        # segwise installed the way a team installs it: a dbt package (it has no models of its own).
        (root / "packages.yml").write_text(json.dumps({"packages": [{"local": str(REPO)}]}))
        (root / "dbt_project.yml").write_text(
            "name: segwise_it\nversion: '1.0'\nconfig-version: 2\nprofile: segwise_it\n"
            "model-paths: ['models']\ntest-paths: ['dbt_tests']\n"
            "vars: {segwise_lookback: 3d}\n"
        )
        if isinstance(engine, Warehouse):
            self.warehouse = engine
        elif engine == "duckdb":
            self.warehouse = duckdb_warehouse(root)
        else:
            assert pg_dsn is not None
            self.warehouse = postgres_warehouse(pg_dsn)
        self.kind = self.warehouse.kind
        self.engine = self.warehouse.engine
        self.schema = self.warehouse.schema
        self.pg_dsn = pg_dsn
        output = self.warehouse.output
        (root / "profiles.yml").write_text(json.dumps({"segwise_it": {"target": "t", "outputs": {"t": output}}}))
        self._manifest: Any = None  # dbt's parsed project, reused while its files are unchanged
        self._parsed: str | None = None
        ok, message = self.dbt("deps")
        assert ok, message

    def configure(
        self,
        config: dict[str, Any],
        segments: list[dict[str, Any]],
        groups: Sequence[Any] = (),
        keep_segment_files: bool = False,
    ) -> Project:
        """Write segwise.yml and the segments (unless the segment files are already in
        place), and (re)generate the models."""
        config = json.loads(json.dumps(config))
        for source in ("users", "events"):
            relation = config["sources"][source]["relation"]
            config["sources"][source]["relation"] = self.warehouse.qualifier + relation.split(".")[-1]
        (self.root / "segwise.yml").write_text(json.dumps(config))
        seg_dir = self.root / "segments"
        seg_dir.mkdir(exist_ok=True)
        if not keep_segment_files:
            (seg_dir / "all.yml").write_text(json.dumps({"segments": segments, "groups": list(groups)}, default=str))
        project = load_project(self.root / "segwise.yml")
        generate.apply_current(generate.plan(project, self.root), self.root / "segwise.yml", self.root)
        self.config = config
        return project

    def load(self, users: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        load_tables(self.engine, self.config, users, events)

    def dbt(self, *args: str, as_of: datetime | None = None, **variables: Any) -> tuple[bool, str]:
        if as_of is not None:
            variables["segwise_as_of"] = as_of.strftime("%Y-%m-%dT%H:%M:%S")
        common = ["--project-dir", str(self.root), "--profiles-dir", str(self.root), "--quiet"]
        given = ["--vars", json.dumps(variables)] if variables else []
        cwd = os.getcwd()
        try:
            os.chdir(self.root)
            result = self._invoke(list(args), common, given)
        finally:
            os.chdir(cwd)
        message = str(result.exception) if result.exception else ""
        if result.result is not None and not result.success:
            with contextlib.suppress(TypeError):  # results of `deps` are not iterable
                message += " ".join(
                    f"{r.node.name}: {r.message}" for r in result.result if r.status in ("error", "fail")
                )
        return bool(result.success), message

    def _invoke(self, args: list[str], common: list[str], given: list[str]) -> dbtRunnerResult:
        """dbt ARGS, skipping dbt's parse when the project's files have not changed since the
        last one. dbt re-parses everything whenever --vars change (every run here: T is a var),
        which is most of a small run's time; the models never depend on T at parse time, so a
        manifest parsed without the vars stays valid, the run itself still renders T (dbt's
        documented manifest reuse), and each parse after the first is partial (only the files
        that changed). A failed parse is returned as the result."""
        if args[0] not in ("run", "build", "test", "compile", "show"):
            return dbtRunner().invoke([*args, *common, *given])
        key = self._project_files_digest()
        if self._manifest is None or key != self._parsed:
            parsed = dbtRunner().invoke(["parse", *common])
            if not parsed.success:
                return parsed
            self._manifest, self._parsed = parsed.result, key
        return dbtRunner(manifest=self._manifest).invoke([*args, *common, *given])

    def _project_files_digest(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.root.glob("*.yml")) + sorted((self.root / "models").rglob("*")):
            if path.is_file():
                digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def rows(self, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
        return sorted(self.engine.query(f"SELECT {columns} FROM {self.schema}.{table}"), key=repr)

    def store_drift(self, project: Project) -> str:
        """The event store against a fresh computation from the raw events: what differs
        (empty when the store is right), and its state's spec."""
        spec = store_spec(project)
        target = get_target(self.kind)
        columns = ", ".join(spec.columns())
        rows = target.sql(store_rows(target, project, spec, direct()))
        fresh = sorted(self.engine.query(f"SELECT {columns} FROM ({rows}) AS fresh"), key=repr)
        kept = self.rows(STORE, columns)
        problems = []
        if kept != fresh:
            missing = [r for r in fresh if r not in kept][:5]
            extra = [r for r in kept if r not in fresh][:5]
            problems.append(f"event store: missing {missing}, unexpected {extra}")
        state = self.rows("segwise_event_store_state", "spec")
        if state != [(spec.digest,)]:
            problems.append(f"event store state {state}, expected the spec {spec.digest}")
        return "; ".join(problems)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return {t: self.rows(t) for t in STATE_TABLES}

    def reconnect(self) -> Engine:
        if self.kind == "duckdb":
            return DuckEngine(str(self.root / "warehouse.duckdb"))
        assert self.pg_dsn is not None
        return PostgresEngine(self.pg_dsn, self.schema)

    def close(self) -> None:
        if self.kind == "duckdb":
            self.engine.close()
        elif self.kind == "postgres":  # keep the schema: the tables are the test's subject
            self.engine.con.close()  # type: ignore[attr-defined]
        else:
            self.engine.close()
