"""Writing and reading the demo's Parquet files with DuckDB.

Rows are staged as a tab-separated file (no quoting: no value contains a tab or newline)
and turned into Parquet by one `COPY (SELECT ... ORDER BY ...) TO ... (FORMAT parquet)`,
which fixes the column types and the row order, so the same rows always give the same bytes.
Each file carries the generator's parameters as Parquet key-value metadata; `--append-hours`
reads them back to continue the same data set.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from segwise_demo.users import UserChange, UserRow, UserState

EVENTS_COLUMNS = (
    ("event_id", "VARCHAR"),
    ("user_id", "BIGINT"),
    ("event_name", "VARCHAR"),
    ("occurred_at", "TIMESTAMP"),
    ("loaded_at", "TIMESTAMP"),
    ("properties", "VARCHAR"),
)
USERS_COLUMNS = (
    ("user_id", "BIGINT"),
    ("plan", "VARCHAR"),
    ("country", "VARCHAR"),
    ("city", "VARCHAR"),
    ("signup_at", "TIMESTAMP"),
    ("trial_ends_at", "TIMESTAMP"),
    ("lifetime_value", "DECIMAL(12,2)"),
    ("is_beta", "BOOLEAN"),
    ("latitude", "DOUBLE"),
    ("longitude", "DOUBLE"),
    ("updated_at", "TIMESTAMP"),
)


def quote(text: str) -> str:
    """A SQL string literal (COPY targets and options cannot be bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _kv(metadata: dict[str, str]) -> str:
    return "{" + ", ".join(f"{key}: {quote(value)}" for key, value in sorted(metadata.items())) + "}"


def _stage(rows: Iterable[Sequence[object]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None, lineterminator="\n")
        writer.writerows(rows)


def _read_staged(path: Path, columns: dict[str, str]) -> str:
    spec = ", ".join(f"{quote(name)}: {quote(kind)}" for name, kind in columns.items())
    return (
        f"read_csv({quote(str(path))}, delim='\\t', header=false, quote='', escape='', nullstr='', "
        f"auto_detect=false, columns={{{spec}}})"
    )


def _ts(column: str) -> str:
    return f"make_timestamp({column} * 1000000)"


def _copy(con: duckdb.DuckDBPyConnection, select: str, target: Path, metadata: dict[str, str]) -> None:
    """COPY to a temporary file next to the target, then rename: readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    con.execute(f"COPY ({select}) TO {quote(str(partial))} (FORMAT parquet, KV_METADATA {_kv(metadata)})")
    os.replace(partial, target)


def write_events(rows: Iterable[Sequence[object]], target: Path, metadata: dict[str, str]) -> None:
    """rows: (event_id, user_id, event_name, occurred epoch, loaded epoch, properties)."""
    with tempfile.TemporaryDirectory(prefix="segwise-demo-") as tmp:
        staged = Path(tmp) / "events.tsv"
        _stage(rows, staged)
        source = _read_staged(
            staged,
            {"event_id": "VARCHAR", "user_id": "BIGINT", "event_name": "VARCHAR", "occurred": "BIGINT",
             "loaded": "BIGINT", "properties": "VARCHAR"},
        )  # fmt: skip
        select = (
            f"SELECT event_id, user_id, event_name, {_ts('occurred')} AS occurred_at, {_ts('loaded')} AS loaded_at, "
            f"properties FROM {source} ORDER BY loaded_at, event_id"
        )
        with duckdb.connect() as con:
            _copy(con, select, target, metadata)


def cents_text(cents: int | None) -> str | None:
    """12345 -> '123.45' (exact; amounts are never negative)."""
    return None if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _user_tsv_row(row: UserRow) -> tuple[object, ...]:
    uid, plan, country, city, signup, trial_ends, ltv, beta, lat, lon, updated = row
    flag = None if beta is None else ("true" if beta else "false")
    return (uid, plan, country, city, signup, trial_ends, cents_text(ltv), flag, lat, lon, updated)


def write_users(rows: Iterable[UserRow], target: Path, metadata: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="segwise-demo-") as tmp:
        staged = Path(tmp) / "users.tsv"
        _stage((_user_tsv_row(row) for row in rows), staged)
        source = _read_staged(
            staged,
            {"user_id": "BIGINT", "plan": "VARCHAR", "country": "VARCHAR", "city": "VARCHAR", "signup": "BIGINT",
             "trial_ends": "BIGINT", "ltv": "DECIMAL(12,2)", "is_beta": "BOOLEAN", "latitude": "DOUBLE",
             "longitude": "DOUBLE", "updated": "BIGINT"},
        )  # fmt: skip
        select = (
            f"SELECT user_id, plan, country, city, {_ts('signup')} AS signup_at, {_ts('trial_ends')} AS trial_ends_at, "
            f"ltv AS lifetime_value, is_beta, latitude, longitude, {_ts('updated')} AS updated_at "
            f"FROM {source} ORDER BY user_id"
        )
        with duckdb.connect() as con:
            _copy(con, select, target, metadata)


def read_metadata(path: Path) -> dict[str, str]:
    """The key-value metadata this module wrote into a Parquet file."""
    with duckdb.connect() as con:
        pairs = con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]).fetchall()
    return {bytes(key).decode(): bytes(value).decode() for key, value in pairs}


def _epoch(column: str) -> str:
    return f"CAST(epoch({column}) AS BIGINT)"


def read_user_state(path: Path) -> list[UserState]:
    with duckdb.connect() as con:
        rows: list[tuple[Any, ...]] = con.execute(
            f"SELECT user_id, plan, {_epoch('trial_ends_at')}, CAST(lifetime_value * 100 AS BIGINT) "
            "FROM read_parquet(?) ORDER BY user_id",
            [str(path)],
        ).fetchall()
    return [UserState(int(uid), plan, trial, ltv) for uid, plan, trial, ltv in rows]


def rewrite_users(path: Path, changes: list[UserChange], metadata: dict[str, str]) -> None:
    """Apply the changes to users.parquet (same columns, same order), replacing the file."""
    with duckdb.connect() as con:
        con.execute("CREATE TABLE users AS SELECT * FROM read_parquet(?)", [str(path)])
        con.execute("CREATE TABLE changes (user_id BIGINT, plan VARCHAR, ltv VARCHAR, updated BIGINT)")
        if changes:
            con.executemany(
                "INSERT INTO changes VALUES (?, ?, ?, ?)",
                [(c.user_id, c.plan, cents_text(c.lifetime_value_cents), c.updated_at) for c in changes],
            )
        con.execute(
            "UPDATE users SET plan = c.plan, lifetime_value = CAST(c.ltv AS DECIMAL(12, 2)), "
            f"updated_at = {_ts('c.updated')} FROM changes AS c WHERE users.user_id = c.user_id"
        )
        columns = ", ".join(name for name, _ in USERS_COLUMNS)
        _copy(con, f"SELECT {columns} FROM users ORDER BY user_id", path, metadata)
