"""Load rows into a real engine and run compiled SQL on it (DuckDB in-process, PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb


class Engine:
    dialect: str

    def create(self, table: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _cell(value: Any, sql_type: str) -> Any:
    if value is None:
        return None
    if sql_type.startswith("json") and not isinstance(value, str):
        return json.dumps(value)
    return value


class DuckEngine(Engine):
    dialect = "duckdb"

    def __init__(self, path: str = ":memory:") -> None:
        self.con = duckdb.connect(path)

    def create(self, table: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> None:
        ddl = ", ".join(f'"{c}" {t}' for c, t in columns.items())
        self.con.execute(f'DROP TABLE IF EXISTS "{table}"')
        self.con.execute(f'CREATE TABLE "{table}" ({ddl})')
        if rows:
            marks = ", ".join("?" for _ in columns)
            self.con.executemany(
                f'INSERT INTO "{table}" VALUES ({marks})',
                [[_cell(r.get(c), t.lower()) for c, t in columns.items()] for r in rows],
            )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def close(self) -> None:
        self.con.close()


PG_TYPES = {"varchar": "text", "double": "double precision", "json": "jsonb"}


class PostgresEngine(Engine):
    """Each engine instance works in a schema of its own on the shared test server."""

    dialect = "postgres"

    def __init__(self, dsn: str, schema: str | None = None) -> None:
        import psycopg2

        self.con = psycopg2.connect(dsn)
        self.con.autocommit = True
        self.schema = schema or f"t_{uuid.uuid4().hex[:12]}"
        with self.con.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            cur.execute(f"SET search_path TO {self.schema}")

    def create(self, table: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> None:
        ddl = ", ".join(f'"{c}" {PG_TYPES.get(t.lower(), t)}' for c, t in columns.items())
        with self.con.cursor() as cur:
            cur.execute(f'DROP TABLE IF EXISTS "{table}"')
            cur.execute(f'CREATE TABLE "{table}" ({ddl})')
            if rows:
                marks = ", ".join("%s" for _ in columns)
                cur.executemany(
                    f'INSERT INTO "{table}" VALUES ({marks})',
                    [[_cell(r.get(c), t.lower()) for c, t in columns.items()] for r in rows],
                )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def execute(self, sql: str) -> None:
        with self.con.cursor() as cur:
            cur.execute(sql)

    def close(self) -> None:
        with self.con.cursor() as cur:
            cur.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.con.close()


def as_naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value
