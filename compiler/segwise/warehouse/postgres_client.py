"""PostgreSQL through SQLAlchemy and psycopg2, in read-only transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlglot import exp, parse_one

from segwise.sql.dialects import get_target
from segwise.warehouse.base import Warehouse, WarehouseError, as_int, first_line, required, setting

# libpq connection parameters a dbt-postgres profile may set, passed on as they are.
PASSED_THROUGH = ("sslmode", "sslcert", "sslkey", "sslrootcert", "connect_timeout", "keepalives_idle")


def _option_value(value: str) -> str:
    """A value inside libpq's `options`: spaces and backslashes escaped with a backslash."""
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


# The columns of one relation from the catalog: to_regclass resolves the name as a query
# would (search_path, quoting) and is NULL when there is no such relation (or no access to
# its schema); a relation without columns still gives one row.
COLUMNS_SQL = """\
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM (SELECT to_regclass(:name) AS rel) AS r
LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = r.rel AND a.attnum > 0 AND NOT a.attisdropped
WHERE r.rel IS NOT NULL
ORDER BY a.attnum"""


class PostgresWarehouse(Warehouse):
    dialect = "postgres"
    identifier_case = "lower"

    def __init__(self, fields: dict[str, Any]) -> None:
        url = URL.create(
            "postgresql+psycopg2",
            username=required(fields, "postgres", "user", "username"),
            password=setting(fields, "password", "pass") or None,
            host=str(required(fields, "postgres", "host")),
            port=as_int(fields, "port", 5432),
            database=str(required(fields, "postgres", "dbname", "database")),
        )
        options = [str(fields["options"])] if fields.get("options") else []
        search_path = setting(fields, "search_path", "schema")
        if search_path:
            options.append(f"-c search_path={_option_value(str(search_path))}")
        options.append("-c default_transaction_read_only=on")  # preview writes nothing, ever
        connect_args: dict[str, Any] = {"options": " ".join(options)}
        connect_args.update({k: fields[k] for k in PASSED_THROUGH if fields.get(k) not in (None, "")})
        connect_args["application_name"] = "segwise"
        self.engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
        try:
            self.conn = self.engine.connect()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise WarehouseError(f"cannot connect to PostgreSQL: {first_line(exc.__cause__ or exc)}") from None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            # no_parameters: the SQL goes to the driver as it is (a '%' in a literal is a '%')
            result = self.conn.exec_driver_sql(sql, execution_options={"no_parameters": True})
            return [tuple(row) for row in result.fetchall()]
        except SQLAlchemyError as exc:
            raise WarehouseError(f"postgres: {first_line(exc.__cause__ or exc)}") from None
        finally:
            self.conn.rollback()

    def columns(self, relation: exp.Table) -> dict[str, str] | None:
        target = get_target(self.dialect)
        name = exp.Literal.string(target.sql(relation, pretty=False))  # the name as a query writes it
        query = exp.replace_placeholders(parse_one(COLUMNS_SQL, dialect="postgres"), name=name)
        rows = self.query(target.sql(query, pretty=False, copy=False))
        if not rows:
            return None
        return {str(column): str(kind) for column, kind in rows if column is not None}

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()
