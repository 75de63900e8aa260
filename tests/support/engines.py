"""Load rows into a real engine and run compiled SQL on it (DuckDB in-process, PostgreSQL)."""

from __future__ import annotations

import io
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


def _one_type(values: list[Any]) -> bool:
    """Whether the non-null values share one Python type: DuckDB then reads them as one
    column type, as it binds them one by one (7 and '7' in one column would not be)."""
    kinds = {type(v) for v in values if v is not None}
    if datetime in kinds and any(v is not None and v.tzinfo is not None for v in values):
        return False  # aware instants: as bound one by one
    return len(kinds) <= 1


class DuckEngine(Engine):
    dialect = "duckdb"

    def __init__(self, path: str = ":memory:") -> None:
        self.con = duckdb.connect(path)

    def create(self, table: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> None:
        ddl = ", ".join(f'"{c}" {t}' for c, t in columns.items())
        self.con.execute(f'DROP TABLE IF EXISTS "{table}"')
        self.con.execute(f'CREATE TABLE "{table}" ({ddl})')
        if not rows:
            return
        cells = {c: [_cell(r.get(c), t.lower()) for r in rows] for c, t in columns.items()}
        if all(_one_type(values) for values in cells.values()) and self._bulk(table, columns, cells):
            return
        marks = ", ".join("?" for _ in columns)
        self.con.executemany(
            f'INSERT INTO "{table}" VALUES ({marks})', [list(row) for row in zip(*cells.values(), strict=True)]
        )

    def _bulk(self, table: str, columns: dict[str, str], cells: dict[str, list[Any]]) -> bool:
        """Insert the columns in one statement, DuckDB scanning them as arrays: executemany
        binds row by row (10 s for 45,000 events). False when DuckDB cannot read a column so,
        the table still empty."""
        try:
            import numpy as np  # the `predict` extra: without it, row by row
        except ImportError:
            return False
        name = f"sw_rows_{uuid.uuid4().hex[:8]}"
        arrays = {f"c{i}": np.array(values, dtype=object) for i, values in enumerate(cells.values())}
        casts = ", ".join(f"CAST(c{i} AS {t})" for i, t in enumerate(columns.values()))
        self.con.register(name, arrays)
        try:
            self.con.execute(f'INSERT INTO "{table}" SELECT {casts} FROM {name}')
            return True
        except duckdb.Error:
            return False
        finally:
            self.con.unregister(name)

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
                from psycopg2.extras import execute_values

                # many rows per INSERT, each value adapted as executemany would
                execute_values(
                    cur,
                    f'INSERT INTO "{table}" VALUES %s',
                    [[_cell(r.get(c), t.lower()) for c, t in columns.items()] for r in rows],
                    page_size=2000,
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


def _json_rows(columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: timestamps as text, JSON columns as their text."""
    out = []
    for row in rows:
        item: dict[str, Any] = {}
        for column, sql_type in columns.items():
            value = _cell(row.get(column), sql_type.lower())
            item[column] = value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value
        out.append(item)
    return out


SNOWFLAKE_TYPES = {"varchar": "varchar", "double": "double", "boolean": "boolean", "timestamp": "timestamp_ntz",
                   "bigint": "number(38,0)", "json": "varchar"}  # fmt: skip


FAKESNOW_NULL_TIMESTAMP = datetime(1970, 1, 1)


class SnowflakeEngine(Engine):
    """Snowflake's wire protocol: the fakesnow server the test session starts."""

    dialect = "snowflake"

    def __init__(self, port: int, database: str, schema: str) -> None:
        import snowflake.connector

        self.con = snowflake.connector.connect(
            account="fakesnow", user="segwise", password="segwise", host="127.0.0.1", port=port, protocol="http"
        )
        self.schema = schema
        self.database = database
        self.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}")
        self.execute(f"USE SCHEMA {database}.{schema}")

    def create(self, table: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> None:
        ddl = ", ".join(f"{c} {SNOWFLAKE_TYPES[t.lower()]}" for c, t in columns.items())
        name = f"{self.database}.{self.schema}.{table}"
        self.execute(f"CREATE OR REPLACE TABLE {name} ({ddl})")
        # One bound JSON document, flattened server-side: row-by-row INSERTs take minutes here.
        picks = ", ".join(f"value:{c}::{SNOWFLAKE_TYPES[t.lower()]}" for c, t in columns.items())
        if rows:
            cur = self.con.cursor()
            cur.execute(
                f"INSERT INTO {name} SELECT {picks} FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%s)))",
                (json.dumps(_json_rows(columns, rows)),),
            )
            cur.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        cur = self.con.cursor()
        try:
            cur.execute(sql)
            # fakesnow returns a NULL timestamp as the epoch (the stored value is NULL: `IS NULL`
            # holds); no test data lies in 1970, so read the epoch back as the NULL it is.
            return [tuple(None if v == FAKESNOW_NULL_TIMESTAMP else v for v in r) for r in cur.fetchall()]
        finally:
            cur.close()

    def execute(self, sql: str) -> None:
        self.con.cursor().execute(sql).close()

    def close(self) -> None:
        self.con.close()


BIGQUERY_TYPES = {"varchar": "STRING", "double": "FLOAT64", "boolean": "BOOL", "timestamp": "TIMESTAMP",
                  "bigint": "INT64", "json": "STRING"}  # fmt: skip


class BigQueryEngine(Engine):
    """BigQuery's REST API: the local emulator the test session starts."""

    dialect = "bigquery"

    def __init__(self, port: int, project: str, dataset: str) -> None:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        self.client = bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{port}"),
        )
        self.project = project
        self.schema = dataset
        self.execute(f"CREATE SCHEMA IF NOT EXISTS `{project}`.{dataset}")

    def create(self, table: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> None:
        name = f"{self.project}.{self.schema}.{table}"
        ddl = ", ".join(f"{c} {BIGQUERY_TYPES[t.lower()]}" for c, t in columns.items())
        self.execute(f"CREATE OR REPLACE TABLE `{name}` ({ddl})")
        if rows:  # a load job of newline-delimited JSON, as a loader would
            from google.cloud import bigquery

            lines = "\n".join(json.dumps(r) for r in _json_rows(columns, rows)).encode()
            config = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON")
            self.client.load_table_from_file(io.BytesIO(lines), name, job_config=config).result()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(as_naive(v) for v in row.values()) for row in self.client.query(sql).result()]

    def execute(self, sql: str) -> None:
        self.client.query(sql).result()

    def close(self) -> None:
        self.client.close()
