"""Where delivery keeps its state: a writing connection to the warehouse that holds the
segwise tables (the project's warehouse clients are read-only on purpose).

Two tables beside the segwise tables, created on the first real run:

- `segwise_deliveries`: one row per endpoint: the cursor (the key of the last acknowledged
  change) and the lease (`lease_holder`, `lease_expires_at`) that lets one deliverer at a time
  send to the endpoint;
- `segwise_delivery_dead_letters`: the changes given up on after `max_attempts`.

Every cursor move and lease change is one transaction whose UPDATE is conditional on holding
the lease (a compare-and-set), so a deliverer whose lease was taken over can never move the
cursor. DuckDB lets one process at a time write a database file: there, concurrent deliverers
are serialised by DuckDB's file lock before the lease is ever looked at.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlglot import exp

from segwise.config import Ref
from segwise.deliver import lease as leases
from segwise.deliver import sql
from segwise.deliver.changes import Change, ChangeKey, utc_naive
from segwise.deliver.config import Endpoint
from segwise.deliver.errors import DeliveryError, LeaseLost
from segwise.sql.dialects import get_target
from segwise.sql.relations import direct
from segwise.warehouse.base import as_int, first_line, required, setting
from segwise.warehouse.profiles import ConnectionProfile

DEAD_LETTER_ROWS = 500  # rows per INSERT


@dataclass(frozen=True)
class LeaseState:
    taken: bool
    holder: str | None  # who held it before (when not taken: who holds it)
    expires_at: datetime | None


@dataclass(frozen=True)
class DeadLetter:
    change: Change
    attempts: int
    last_error: str | None
    failed_at: datetime


class DeliveryStore(ABC):
    """The state of delivery in one warehouse schema, through one writing connection."""

    dialect: str

    def __init__(self, profile: ConnectionProfile, schema: str | None) -> None:
        self.schema = schema or profile.schema
        if not self.schema:
            raise DeliveryError(f"the {profile.type} target has no schema: pass the schema of the segwise tables")
        resolve = direct(self.schema, database=profile.database)

        def table(name: str) -> exp.Table:
            relation = resolve(Ref(name))
            assert isinstance(relation, exp.Table)
            return relation

        self.sql = sql.Statements(get_target(self.dialect), table, self.schema)

    # --- what each engine provides --------------------------------------------------------

    @abstractmethod
    def _query(self, text: str) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _execute(self, text: str) -> int:
        """Run one statement; the rows it changed."""

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> DeliveryStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._begin()
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self._rollback()
            raise
        self._commit()

    # --- tables -------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        with self.transaction():
            rows = self._query(self.sql.table_exists(name))
        return bool(rows and rows[0][0])

    def check_changes_table(self) -> None:
        if not self.exists(sql.CHANGES):
            raise DeliveryError(
                f"no table {sql.CHANGES} in schema {self.schema!r}: run `segwise build` first, "
                "or pass the schema the segwise tables are built in"
            )

    def ensure_tables(self) -> None:
        with self.transaction():
            self._execute(self.sql.render(sql.CREATE_DELIVERIES))
            self._execute(self.sql.render(sql.CREATE_DEAD_LETTERS))

    # --- the lease ----------------------------------------------------------------------

    def take_lease(self, endpoint: str, holder: str, now: datetime, until: datetime) -> LeaseState:
        """Compare-and-set: take the endpoint's lease when it is free, expired, ours, or held by
        a process on this host that no longer exists."""
        with self.transaction():
            self._execute(self.sql.render(sql.ENSURE_ROW, {"endpoint": endpoint, "now": now}))
            row = self._query(self.sql.render(sql.READ_STATE, {"endpoint": endpoint}))
            before, expires = (row[0][4], row[0][5]) if row else (None, None)
            stale = before if leases.dead_here(before) else None
            params: dict[str, sql.Param] = {
                "endpoint": endpoint,
                "holder": holder,
                "until": until,
                "now": now,
                "stale": stale,
            }
            taken = self._execute(self.sql.render(sql.TAKE_LEASE, params)) == 1
        return LeaseState(taken, before, expires)

    def _renew(self, endpoint: str, holder: str, now: datetime, until: datetime) -> None:
        params: dict[str, sql.Param] = {"endpoint": endpoint, "holder": holder, "until": until, "now": now}
        if self._execute(self.sql.render(sql.RENEW_LEASE, params)) != 1:
            raise LeaseLost(f"endpoint {endpoint!r}: another deliverer took over the lease (ours had expired)")

    def renew_lease(self, endpoint: str, holder: str, now: datetime, until: datetime) -> None:
        with self.transaction():
            self._renew(endpoint, holder, now, until)

    def release_lease(self, endpoint: str, holder: str, now: datetime) -> bool:
        with self.transaction():
            params: dict[str, sql.Param] = {"endpoint": endpoint, "holder": holder, "now": now}
            return self._execute(self.sql.render(sql.RELEASE_LEASE, params)) == 1

    def lease(self, endpoint: str) -> tuple[str | None, datetime | None]:
        """Who holds the endpoint's lease, and until when."""
        row = self._state(endpoint)
        return (row[4], row[5]) if row else (None, None)

    # --- the cursor ---------------------------------------------------------------------

    def _state(self, endpoint: str) -> tuple[Any, ...] | None:
        if not self.exists(sql.DELIVERIES):
            return None
        with self.transaction():
            rows = self._query(self.sql.render(sql.READ_STATE, {"endpoint": endpoint}))
        return rows[0] if rows else None

    def cursor(self, endpoint: str) -> ChangeKey | None:
        """The key of the last change the endpoint acknowledged (or was dead-lettered); None
        before the first."""
        row = self._state(endpoint)
        if row is None or row[0] is None:
            return None
        return (utc_naive(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def move_cursor(self, endpoint: str, holder: str, key: ChangeKey, now: datetime) -> None:
        with self.transaction():
            self._move(endpoint, holder, key, now)

    def _move(self, endpoint: str, holder: str, key: ChangeKey, now: datetime) -> None:
        changed_at, segment, user_id, change = key
        params: dict[str, sql.Param] = {
            "endpoint": endpoint,
            "holder": holder,
            "changed_at": changed_at,
            "segment": segment,
            "user_id": user_id,
            "change": change,
            "now": now,
        }
        if self._execute(self.sql.render(sql.MOVE_CURSOR, params)) != 1:
            raise LeaseLost(f"endpoint {endpoint!r}: the lease was taken over; the cursor was not moved")

    # --- the change log -----------------------------------------------------------------

    def fetch(self, endpoint: Endpoint, after: ChangeKey | None, limit: int) -> list[Change]:
        """The endpoint's next changes after `after`, in delivery order."""
        text = self.sql.changes_after(
            endpoint.segments, endpoint.changes, endpoint.include_definition_changes, after, limit
        )
        with self.transaction():
            rows = self._query(text)
        return [Change(str(s), str(u), utc_naive(t), str(c), str(r)) for s, u, t, c, r in rows]

    def count(self, endpoint: Endpoint, after: ChangeKey | None) -> int:
        text = self.sql.count_after(endpoint.segments, endpoint.changes, endpoint.include_definition_changes, after)
        with self.transaction():
            rows = self._query(text)
        return int(rows[0][0]) if rows else 0

    # --- dead letters -------------------------------------------------------------------

    def dead_letter(
        self,
        endpoint: str,
        holder: str,
        changes: Sequence[Change],
        attempts: int,
        last_error: str,
        now: datetime,
    ) -> None:
        """Record `changes` as given up on and move the cursor past them, in one transaction."""
        rows: list[dict[str, sql.Param]] = [
            {
                "change_id": c.id,
                "segment": c.segment,
                "user_id": c.user_id,
                "changed_at": c.changed_at,
                "change": c.change,
                "reason": c.reason,
                "attempts": attempts,
                "last_error": last_error,
                "now": now,
            }
            for c in changes
        ]
        with self.transaction():
            self._renew_in_transaction(endpoint, holder, now)
            for start in range(0, len(rows), DEAD_LETTER_ROWS):
                self._execute(self.sql.dead_letters(endpoint, rows[start : start + DEAD_LETTER_ROWS]))
            self._move(endpoint, holder, changes[-1].key, now)

    def _renew_in_transaction(self, endpoint: str, holder: str, now: datetime) -> None:
        """Check (and lock, on PostgreSQL) our lease inside the caller's transaction."""
        params: dict[str, sql.Param] = {"endpoint": endpoint, "holder": holder, "now": now}
        if self._execute(self.sql.render(sql.HOLDS_LEASE, params)) != 1:
            raise LeaseLost(f"endpoint {endpoint!r}: the lease was taken over")

    def dead_letters(self, endpoint: str, after: ChangeKey | None = None, limit: int = 1000) -> list[DeadLetter]:
        """The endpoint's dead letters in delivery order (after `after`, at most `limit`)."""
        if not self.exists(sql.DEAD_LETTERS):
            return []
        with self.transaction():
            rows = self._query(self.sql.dead_letters_after(endpoint, after, limit))
        return [
            DeadLetter(Change(str(s), str(u), utc_naive(t), str(c), str(r)), int(n), e, utc_naive(f))
            for s, u, t, c, r, n, e, f in rows
        ]

    def resolve_dead_letters(self, endpoint: str, holder: str, ids: Sequence[str], now: datetime) -> None:
        """Remove dead letters that were delivered after all (a replay)."""
        with self.transaction():
            self._renew_in_transaction(endpoint, holder, now)
            self._execute(self.sql.render(sql.DELETE_DEAD_LETTERS, {"endpoint": endpoint}, {"ids": list(ids)}))

    def dead_letters_failed_again(
        self, endpoint: str, holder: str, ids: Sequence[str], attempts: int, last_error: str, now: datetime
    ) -> None:
        params: dict[str, sql.Param] = {
            "endpoint": endpoint,
            "attempts": attempts,
            "last_error": last_error,
            "now": now,
        }
        with self.transaction():
            self._renew_in_transaction(endpoint, holder, now)
            self._execute(self.sql.render(sql.FAILED_AGAIN, params, {"ids": list(ids)}))


# --- DuckDB ---------------------------------------------------------------------------------


class DuckDBStore(DeliveryStore):
    """The profile's DuckDB file, opened for writing (read-only for a dry run). Another process
    holding the file (a `dbt build`, another deliverer) is waited for up to `lock_wait` seconds."""

    dialect = "duckdb"

    def __init__(
        self, profile: ConnectionProfile, schema: str | None, *, read_only: bool = False, lock_wait: float = 30.0
    ) -> None:
        import duckdb
        from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed

        from segwise.warehouse.duckdb_client import load_extensions

        super().__init__(profile, schema)
        fields = profile.fields
        path = str(fields.get("path") or ":memory:")
        if path == ":memory:":
            raise DeliveryError("the duckdb target has no `path`: delivery reads the database file dbt builds")
        local = ":" not in path.split("/")[0]
        if local and not Path(path).expanduser().is_file():
            raise DeliveryError(f"no DuckDB database at {path}: run `segwise build` first, or check the profile's path")
        target = str(Path(path).expanduser()) if local else path
        settings = dict(fields.get("settings") or {})
        self._duckdb = duckdb

        def locked(error: BaseException) -> bool:
            return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()

        def connect() -> Any:
            try:
                return duckdb.connect(target, read_only=read_only, config=settings)
            except duckdb.ConnectionException as exc:
                if "different configuration" not in str(exc):
                    raise
                return duckdb.connect(target, config=settings)  # this process has it open for writing

        try:
            for attempt in Retrying(
                stop=stop_after_delay(lock_wait),
                wait=wait_fixed(0.2),
                retry=retry_if_exception(locked),
                reraise=True,
            ):
                with attempt:
                    self.con = connect()
        except duckdb.IOException as exc:
            if locked(exc):
                raise DeliveryError(
                    f"cannot open {path}: another process has it open for writing (a `segwise build` or another "
                    f"`segwise deliver`; DuckDB allows one writer per file), still after {lock_wait:g} s"
                ) from None
            raise DeliveryError(f"cannot open {path}: {first_line(exc)}") from None
        except duckdb.Error as exc:
            raise DeliveryError(f"cannot open {path}: {first_line(exc)}") from None
        load_extensions(self.con, fields, DeliveryError)

    def _query(self, text: str) -> list[tuple[Any, ...]]:
        try:
            return [tuple(row) for row in self.con.execute(text).fetchall()]
        except self._duckdb.Error as exc:
            raise DeliveryError(f"duckdb: {first_line(exc)}") from None

    def _execute(self, text: str) -> int:
        rows = self._query(text)
        return int(rows[0][0]) if rows and rows[0] and isinstance(rows[0][0], int) else 0

    def _begin(self) -> None:
        self.con.begin()

    def _commit(self) -> None:
        try:
            self.con.commit()
        except self._duckdb.Error as exc:
            raise DeliveryError(f"duckdb: {first_line(exc)}") from None

    def _rollback(self) -> None:
        self.con.rollback()

    def close(self) -> None:
        self.con.close()


# --- PostgreSQL -----------------------------------------------------------------------------

PASSED_THROUGH = ("sslmode", "sslcert", "sslkey", "sslrootcert", "connect_timeout", "keepalives_idle")


class PostgresStore(DeliveryStore):
    """A psycopg2 connection from the dbt profile's fields; READ COMMITTED transactions, in which
    a conditional UPDATE waits for a concurrent one on the same row and then re-checks its
    condition: the compare-and-set the lease needs."""

    dialect = "postgres"

    def __init__(self, profile: ConnectionProfile, schema: str | None, *, read_only: bool = False) -> None:
        try:
            import psycopg2
        except ImportError:
            raise DeliveryError("delivery on PostgreSQL needs psycopg2: pip install 'segwise[postgres]'") from None
        super().__init__(profile, schema)
        fields = profile.fields
        options = [str(fields["options"])] if fields.get("options") else []
        options.append("-c timezone=UTC")
        if read_only:
            options.append("-c default_transaction_read_only=on")
        kwargs: dict[str, Any] = {
            "host": str(required(fields, "postgres", "host")),
            "port": as_int(fields, "port", 5432),
            "user": str(required(fields, "postgres", "user", "username")),
            "dbname": str(required(fields, "postgres", "dbname", "database")),
            "options": " ".join(options),
            "application_name": "segwise deliver",
            "connect_timeout": 10,
        }
        password = setting(fields, "password", "pass")
        if password:
            kwargs["password"] = str(password)
        kwargs.update({k: fields[k] for k in PASSED_THROUGH if fields.get(k) not in (None, "")})
        self._psycopg2 = psycopg2
        try:
            self.con = psycopg2.connect(**kwargs)
        except psycopg2.Error as exc:
            raise DeliveryError(f"cannot connect to PostgreSQL: {first_line(exc)}") from None

    def _query(self, text: str) -> list[tuple[Any, ...]]:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(text)
                return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        except self._psycopg2.Error as exc:
            raise DeliveryError(f"postgres: {first_line(exc)}") from None

    def _execute(self, text: str) -> int:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(text)
                return max(int(cursor.rowcount), 0)
        except self._psycopg2.Error as exc:
            raise DeliveryError(f"postgres: {first_line(exc)}") from None

    def _begin(self) -> None:
        pass  # psycopg2 opens a transaction with the first statement

    def _commit(self) -> None:
        try:
            self.con.commit()
        except self._psycopg2.Error as exc:
            raise DeliveryError(f"postgres: {first_line(exc)}") from None

    def _rollback(self) -> None:
        self.con.rollback()

    def ensure_tables(self) -> None:
        # Two deliverers creating the tables at once: one CREATE TABLE IF NOT EXISTS may fail on
        # the catalog's unique index; the other one created them, so look again.
        for attempt in range(3):
            try:
                super().ensure_tables()
                return
            except DeliveryError:
                if attempt == 2:
                    raise
                if self.exists(sql.DELIVERIES) and self.exists(sql.DEAD_LETTERS):
                    return

    def close(self) -> None:
        self.con.close()


def open_store(
    profile: ConnectionProfile, schema: str | None = None, *, read_only: bool = False, lock_wait: float = 30.0
) -> DeliveryStore:
    """A writing connection (read-only for a dry run) to the warehouse of `profile`."""
    if profile.type == "duckdb":
        return DuckDBStore(profile, schema, read_only=read_only, lock_wait=lock_wait)
    if profile.type == "postgres":
        return PostgresStore(profile, schema, read_only=read_only)
    raise DeliveryError(f"delivery supports DuckDB and PostgreSQL targets, not {profile.type}")
