"""The one interface preview and explain need from a warehouse."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any

from segwise.errors import SegwiseError


class WarehouseError(SegwiseError):
    """A profile that cannot be read, a connection that cannot be opened, a query that failed."""


class Warehouse(ABC):
    """A read-only connection: run a query, estimate its cost, close."""

    dialect: str  # one of segwise.sql.dialects.TARGETS

    @abstractmethod
    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """All rows of one SELECT, as tuples in column order."""

    def dry_run_bytes(self, sql: str) -> int | None:
        """The bytes the query would scan, from the warehouse's own dry run; None where the
        warehouse has none (every warehouse but BigQuery)."""
        return None

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
