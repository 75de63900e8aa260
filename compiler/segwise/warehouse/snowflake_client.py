"""Snowflake through snowflake-connector-python (password, key pair, or another authenticator).

`host`, `port` and `protocol` are passed on when the profile sets them: the local fakesnow
server is reached with `account: fakesnow, host: 127.0.0.1, port: 8765, protocol: http`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import snowflake.connector
from snowflake.connector.constants import FIELD_ID_TO_NAME
from snowflake.connector.errors import Error as SnowflakeError
from snowflake.connector.errors import ProgrammingError
from sqlglot import exp

from segwise.sql.dialects import get_target
from segwise.warehouse.base import Warehouse, WarehouseError, as_int, first_line, required, setting

PASSED_THROUGH = ("role", "warehouse", "database", "schema", "host", "protocol", "authenticator", "token")

# "Object does not exist or not authorized" (and fakesnow's "Table ... does not exist").
DOES_NOT_EXIST = 2003


def type_name(type_code: int, precision: int | None, scale: int | None) -> str:
    """A result column's type as Snowflake's SQL spells it (the wire names FIXED, REAL, TEXT)."""
    name = FIELD_ID_TO_NAME.get(type_code) or f"TYPE_{type_code}"
    if name == "FIXED":
        return f"NUMBER({precision if precision is not None else 38},{scale or 0})"
    return {"REAL": "FLOAT", "TEXT": "VARCHAR"}.get(name, name)


def private_key_der(fields: dict[str, Any]) -> bytes | None:
    """The key pair's private key as DER (PKCS#8), from `private_key_path` or inline `private_key`."""
    from cryptography.hazmat.primitives import serialization

    passphrase = setting(fields, "private_key_passphrase")
    password = str(passphrase).encode() if passphrase else None
    if fields.get("private_key_path"):
        path = Path(str(fields["private_key_path"])).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise WarehouseError(f"cannot read private_key_path {str(path)!r}: {exc.strerror}") from None
    elif fields.get("private_key"):
        data = str(fields["private_key"]).encode()
    else:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise WarehouseError(f"cannot load the Snowflake private key: {exc}") from None
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


class SnowflakeWarehouse(Warehouse):
    dialect = "snowflake"
    identifier_case = "upper"

    def __init__(self, fields: dict[str, Any]) -> None:
        args: dict[str, Any] = {
            "account": required(fields, "snowflake", "account"),
            "user": required(fields, "snowflake", "user"),
            "application": "segwise",
        }
        args.update({k: fields[k] for k in PASSED_THROUGH if fields.get(k) not in (None, "")})
        if fields.get("port") not in (None, ""):
            args["port"] = as_int(fields, "port")
        if fields.get("connect_timeout") not in (None, ""):
            args["login_timeout"] = as_int(fields, "connect_timeout")
        key = private_key_der(fields)
        if key is not None:
            args["private_key"] = key
        elif fields.get("password") not in (None, ""):
            args["password"] = fields["password"]
        if fields.get("query_tag"):
            args["session_parameters"] = {"QUERY_TAG": fields["query_tag"]}
        try:
            self.con = snowflake.connector.connect(**args)
        except SnowflakeError as exc:
            raise WarehouseError(f"cannot connect to Snowflake: {first_line(exc)}") from None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]
        except SnowflakeError as exc:
            raise WarehouseError(f"snowflake: {first_line(exc)}") from None

    def columns(self, relation: exp.Table) -> dict[str, str] | None:
        """From the result description of `SELECT * ... LIMIT 0` (no warehouse time is used:
        Snowflake answers it from metadata), which also works for views and on fakesnow."""
        probe = exp.select(exp.Star()).from_(relation.copy(), copy=False).limit(0, copy=False)
        try:
            with self.con.cursor() as cursor:
                cursor.execute(get_target(self.dialect).sql(probe, pretty=False, copy=False))
                description = cursor.description or []
        except ProgrammingError as exc:
            if exc.errno == DOES_NOT_EXIST:
                return None
            raise WarehouseError(f"snowflake: {first_line(exc)}") from None
        except SnowflakeError as exc:
            raise WarehouseError(f"snowflake: {first_line(exc)}") from None
        return {d.name: type_name(d.type_code, d.precision, d.scale) for d in description}

    def close(self) -> None:
        self.con.close()
