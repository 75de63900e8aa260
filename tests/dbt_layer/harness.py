"""A throwaway dbt project around the segwise macros, driven in-process with dbtRunner.

Each project gets its own directory (segwise.yml, segments, generated models, profiles) and
its own warehouse: a DuckDB file, or a schema on the test session's PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner

from segwise.config import Project
from segwise.dbt import generate
from segwise.loading import load_project
from tests.support.engines import DuckEngine, Engine, PostgresEngine
from tests.support.tables import load_tables

REPO = Path(__file__).resolve().parents[2]
STATE_TABLES = [
    "segment_membership",
    "segment_membership_history",
    "segment_changes",
    "segment_sizes",
    "segment_group_membership",
    "segwise_runs",
    "segwise_segments",
]


class DbtProject:
    def __init__(self, root: Path, engine: str, pg_dsn: str | None = None) -> None:
        self.root = root
        self.kind = engine
        root.mkdir(parents=True, exist_ok=True)
        # segwise installed the way a team installs it: a dbt package, its own models disabled.
        (root / "packages.yml").write_text(json.dumps({"packages": [{"local": str(REPO)}]}))
        (root / "dbt_project.yml").write_text(
            "name: segwise_it\nversion: '1.0'\nconfig-version: 2\nprofile: segwise_it\n"
            "model-paths: ['models']\ntest-paths: ['dbt_tests']\n"
            "vars: {segwise_lookback: 3d}\n"
            "models: {segwise: {+enabled: false}}\n"
        )
        self.schema = "main"
        self.pg_dsn = pg_dsn
        if engine == "duckdb":
            path = root / "warehouse.duckdb"
            output = {"type": "duckdb", "path": str(path), "schema": "main", "threads": 1}
            self.engine: Engine = DuckEngine(str(path))
        else:
            assert pg_dsn is not None
            self.schema = f"it_{uuid.uuid4().hex[:16]}"
            self.engine = PostgresEngine(pg_dsn, self.schema)
            host, port = pg_dsn.split("@")[1].split("/")[0].split(":")
            output = {
                "type": "postgres", "host": host, "port": int(port), "user": "postgres", "password": "",
                "dbname": "postgres", "schema": self.schema, "threads": 1,
            }  # fmt: skip
        (root / "profiles.yml").write_text(json.dumps({"segwise_it": {"target": "t", "outputs": {"t": output}}}))
        self.runner = dbtRunner()
        ok, message = self.dbt("deps")
        assert ok, message

    def configure(self, config: dict[str, Any], segments: list[dict[str, Any]], groups: Sequence[Any] = ()) -> Project:
        """Write segwise.yml and the segments, and (re)generate the models."""
        config = json.loads(json.dumps(config))
        for source in ("users", "events"):
            relation = config["sources"][source]["relation"]
            config["sources"][source]["relation"] = f"{self.schema}.{relation.split('.')[-1]}"
        (self.root / "segwise.yml").write_text(json.dumps(config))
        seg_dir = self.root / "segments"
        seg_dir.mkdir(exist_ok=True)
        (seg_dir / "all.yml").write_text(json.dumps({"segments": segments, "groups": list(groups)}, default=str))
        project = load_project(self.root / "segwise.yml")
        generate.apply(generate.plan(project, self.root))
        self.config = config
        return project

    def load(self, users: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        load_tables(self.engine, self.config, users, events)

    def dbt(self, *args: str, as_of: datetime | None = None, **variables: Any) -> tuple[bool, str]:
        if as_of is not None:
            variables["segwise_as_of"] = as_of.strftime("%Y-%m-%dT%H:%M:%S")
        argv = [*args, "--project-dir", str(self.root), "--profiles-dir", str(self.root), "--quiet"]
        if variables:
            argv += ["--vars", json.dumps(variables)]
        cwd = os.getcwd()
        try:
            os.chdir(self.root)
            result = self.runner.invoke(argv)
        finally:
            os.chdir(cwd)
        message = str(result.exception) if result.exception else ""
        if result.result is not None and not result.success:
            with contextlib.suppress(TypeError):  # results of `deps` are not iterable
                message += " ".join(
                    f"{r.node.name}: {r.message}" for r in result.result if r.status in ("error", "fail")
                )
        return bool(result.success), message

    def rows(self, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
        return sorted(self.engine.query(f"SELECT {columns} FROM {self.schema}.{table}"), key=repr)

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
        else:  # keep the schema: the tables are the test's subject
            self.engine.con.close()  # type: ignore[attr-defined]
