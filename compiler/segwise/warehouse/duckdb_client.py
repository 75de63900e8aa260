"""DuckDB: the profile's database file, opened read-only (so a preview never blocks or
changes it), or through this process's open read-write handle when there is one (a notebook
or a test that also runs dbt in-process: DuckDB allows one configuration per file and process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from segwise.errors import SegwiseError
from segwise.sql.dialects import get_target
from segwise.warehouse.base import Warehouse, WarehouseError, first_line


class DuckDBWarehouse(Warehouse):
    dialect = "duckdb"

    def __init__(self, fields: dict[str, Any]) -> None:
        path = str(fields.get("path") or ":memory:")
        if path == ":memory:":
            raise WarehouseError("the duckdb target has no `path`: preview reads an existing database file")
        local = ":" not in path.split("/")[0]  # md:..., s3://... are not local files
        if local and not Path(path).expanduser().is_file():
            raise WarehouseError(f"no DuckDB database at {path}: run `dbt build` first, or check the profile's path")
        settings = fields.get("settings") or {}
        target = str(Path(path).expanduser()) if local else path
        try:
            self.con = duckdb.connect(target, read_only=True, config=settings)
        except duckdb.ConnectionException as exc:
            if "different configuration" not in str(exc):
                raise WarehouseError(f"cannot open {path} read-only: {first_line(exc)}") from None
            self.con = duckdb.connect(target, config=settings)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open {path} read-only: {first_line(exc)}") from None
        load_extensions(self.con, fields, WarehouseError)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return [tuple(row) for row in self.con.execute(sql).fetchall()]
        except duckdb.Error as exc:
            raise WarehouseError(f"duckdb: {first_line(exc)}") from None

    def columns(self, relation: exp.Table) -> dict[str, str] | None:
        """From the result description of `SELECT * ... LIMIT 0`: it resolves the name exactly
        as a query does (tables, views, attached catalogs, the search path)."""
        probe = exp.select(exp.Star()).from_(relation.copy(), copy=False).limit(0, copy=False)
        try:
            cursor = self.con.execute(get_target(self.dialect).sql(probe, pretty=False, copy=False))
        except duckdb.CatalogException:
            return None
        except duckdb.Error as exc:
            raise WarehouseError(f"duckdb: {first_line(exc)}") from None
        return {str(d[0]): str(d[1]) for d in cursor.description or ()}

    def close(self) -> None:
        self.con.close()


def load_extensions(con: duckdb.DuckDBPyConnection, fields: dict[str, Any], error: type[SegwiseError]) -> None:
    """LOAD the profile's `extensions` (names, or dicts with a `name`), as dbt-duckdb does;
    on failure, close `con` and raise `error`."""
    for extension in fields.get("extensions") or ():
        name = extension.get("name") if isinstance(extension, dict) else extension
        try:
            con.execute(f"LOAD {duckdb_identifier(str(name))}")
        except duckdb.Error as exc:
            con.close()
            raise error(f"cannot load the DuckDB extension {name!r}: {first_line(exc)}") from None


def duckdb_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
