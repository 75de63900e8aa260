"""The one interface preview and explain need from a warehouse."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from types import TracebackType
from typing import Any, ClassVar, Literal

from sqlglot import exp

from segwise.errors import SegwiseError


class WarehouseError(SegwiseError):
    """A profile that cannot be read, a connection that cannot be opened, a query that failed."""


class Warehouse(ABC):
    """A read-only connection: run a query, estimate its cost, close."""

    dialect: str  # one of segwise.sql.dialects.TARGETS
    # How the warehouse resolves an unquoted column name: case-insensitively (DuckDB,
    # BigQuery), or folded to lower (PostgreSQL) or upper case (Snowflake) and then exactly.
    identifier_case: ClassVar[Literal["insensitive", "lower", "upper"]] = "insensitive"

    @abstractmethod
    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """All rows of one SELECT, as tuples in column order."""

    def dry_run_bytes(self, sql: str) -> int | None:
        """The bytes the query would scan, from the warehouse's own dry run; None where the
        warehouse has none (every warehouse but BigQuery)."""
        return None

    def columns(self, relation: exp.Table) -> dict[str, str] | None:
        """The relation's columns in order: name as stored -> type as the warehouse spells it
        (`character varying(20)`, `NUMBER(38,0)`, `STRING`, ...), from the catalog alone (no
        row is read); None when the relation does not exist or this connection cannot see it.
        `segwise validate --target` checks the configured columns with it."""
        raise WarehouseError(f"{type(self).__name__} cannot list the columns of a relation")

    def column_named(self, name: str, columns: Iterable[str]) -> str | None:
        """The column of `columns` that `name`, written unquoted as segwise's SQL writes it,
        resolves to; None when there is none."""
        stored = list(columns)
        if name in stored:
            return name
        if self.identifier_case == "insensitive":
            folded = [c for c in stored if c.lower() == name.lower()]
            return folded[0] if len(folded) == 1 else None
        if exp.to_identifier(name).quoted:  # written quoted: only the exact name matches
            return None
        name = name.lower() if self.identifier_case == "lower" else name.upper()
        return name if name in stored else None

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def first_line(error: BaseException) -> str:
    """A driver's message without its multi-line context (clear enough for the CLI)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def setting(fields: dict[str, Any], *names: str, default: Any = None) -> Any:
    """The first of `names` the profile sets (dbt accepts aliases: dbname/database, ...)."""
    for name in names:
        if fields.get(name) not in (None, ""):
            return fields[name]
    return default


def required(fields: dict[str, Any], kind: str, *names: str) -> Any:
    value = setting(fields, *names)
    if value is None:
        raise WarehouseError(f"the {kind} profile target needs `{names[0]}`")
    return value


def as_int(fields: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = fields.get(name, default)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WarehouseError(f"profile key `{name}` must be a number, not {value!r}") from None
