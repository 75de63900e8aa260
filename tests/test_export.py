"""`segwise export`'s engine (segwise.export): a segment's members from the state tables, as
CSV or Parquet, now or as the runs left them at an instant, on DuckDB and PostgreSQL."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segwise import export
from segwise.dbt.state import STATE_TABLES
from segwise.export import ExportError, export_members
from segwise.sql.staging import table
from segwise.warehouse.base import Warehouse, WarehouseError
from segwise.warehouse.duckdb_client import DuckDBWarehouse
from tests.support.engines import DuckEngine, Engine, PostgresEngine

SQL_TYPES = {"string": "varchar", "timestamp": "timestamp", "bigint": "bigint", "float": "double"}
STATE = ("segment_membership", "segment_membership_history", "segwise_runs")

T1 = datetime(2025, 6, 1)
T2 = datetime(2025, 6, 2, 12, 30, 0, 250000)  # a fraction of a second: ISO output keeps it
T3 = datetime(2025, 6, 3)
T4 = datetime(2025, 6, 4)
RUNS = [T1, T2, T3, T4]
FORMATS: tuple[export.Format, ...] = ("csv", "parquet")
HOSTILE_SEGMENT = 'o\'brien "club"; --'
HOSTILE_USERS = ["it's", 'a"b', "back\\slash\\", "comma, and\nnewline", "日本語 ☃"]

# (segment, user_id, valid_from, valid_to, variant)
HISTORY: list[tuple[str, str, datetime, datetime | None, str | None]] = [
    # holdout segment: variants
    ("trial", "u1", T1, None, "control"),  # member throughout
    ("trial", "u2", T1, T3, "control"),  # variant change at T3: adjacent intervals
    ("trial", "u2", T3, None, "treatment"),
    ("trial", "u3", T1, T2, "treatment"),  # exit at T2, re-entry at T3
    ("trial", "u3", T3, None, "treatment"),
    ("trial", "u4", T1, T2, "control"),  # left at T2
    ("trial", "u6", T1, T2, "control"),  # two variant changes: one chain from T1
    ("trial", "u6", T2, T3, "treatment"),
    ("trial", "u6", T3, None, "control"),
    # no holdout: no variants
    ("vip", "a", T1, None, None),
    ("vip", "b", T2, T4, None),  # left at T4
    ("vip", "c", T4, None, None),  # entered at the last run
    # a segment and users whose names need quoting
    *((HOSTILE_SEGMENT, user, T1, None, None) for user in HOSTILE_USERS),
    ("other", "u1", T1, None, None),  # another segment's members never leak in
]


def _current() -> list[tuple[str, str, str | None, datetime]]:
    """segment_membership after T4, as the history ends (entered_at: the chain's start)."""
    return [
        ("trial", "u1", "control", T1),
        ("trial", "u2", "treatment", T1),
        ("trial", "u3", "treatment", T3),
        ("trial", "u6", "control", T1),
        ("vip", "a", None, T1),
        ("vip", "c", None, T4),
        *((HOSTILE_SEGMENT, user, None, T1) for user in HOSTILE_USERS),
        ("other", "u1", None, T1),
    ]


def _rows(
    history: list[tuple[str, str, datetime, datetime | None, str | None]],
    current: list[tuple[str, str, str | None, datetime]],
    runs: list[datetime],
) -> dict[str, list[dict[str, Any]]]:
    return {
        "segment_membership": [
            {
                "segment": s,
                "user_id": u,
                "variant": v,
                "entered_at": e,
                "definition_hash": "h",
                "evaluated_at": runs[-1],
            }
            for s, u, v, e in current
        ],
        "segment_membership_history": [
            {"segment": s, "user_id": u, "valid_from": f, "valid_to": t, "variant": v, "definition_hash": "h"}
            for s, u, f, t, v in history
        ],
        "segwise_runs": [{"as_of": t, "mode": "full" if n == 0 else "incremental"} for n, t in enumerate(runs)],
    }


def _create(engine: Engine, data: dict[str, list[dict[str, Any]]]) -> None:
    for name in STATE:
        columns = {c.name: SQL_TYPES[c.type] for c in STATE_TABLES[name].columns}
        engine.create(name, columns, data.get(name, []))


# --------------------------------------------------------------------------------- engines

Loader = Callable[[dict[str, list[dict[str, Any]]]], Warehouse]


def _duckdb(tmp_path: Path, stack: ExitStack) -> Loader:
    count = iter(range(1_000_000))

    def load(data: dict[str, list[dict[str, Any]]]) -> Warehouse:
        path = tmp_path / f"warehouse_{next(count)}.duckdb"
        engine = DuckEngine(str(path))
        _create(engine, data)
        engine.close()
        return stack.enter_context(DuckDBWarehouse({"path": str(path)}))

    return load


def _postgres(dsn: str, stack: ExitStack) -> Loader:
    from segwise.warehouse.postgres_client import PostgresWarehouse

    url = urlparse(dsn)

    def load(data: dict[str, list[dict[str, Any]]]) -> Warehouse:
        engine = PostgresEngine(dsn)
        stack.callback(engine.close)
        _create(engine, data)
        fields = {
            "host": url.hostname,
            "port": url.port or 5432,
            "user": url.username or "postgres",
            "password": url.password or "",
            "dbname": url.path.lstrip("/") or "postgres",
            "schema": engine.schema,
            "options": "-c timezone=UTC",
        }
        return stack.enter_context(PostgresWarehouse(fields))

    return load


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def load(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Loader]:
    with ExitStack() as stack:
        if request.param == "duckdb":
            yield _duckdb(tmp_path, stack)
        else:
            yield _postgres(request.getfixturevalue("pg_dsn"), stack)


@pytest.fixture
def warehouse(load: Loader) -> Warehouse:
    return load(_rows(HISTORY, _current(), RUNS))


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[Warehouse]:
    """DuckDB only: for what does not depend on the engine."""
    with ExitStack() as stack:
        yield _duckdb(tmp_path, stack)(_rows(HISTORY, _current(), RUNS))


class Flaky(Warehouse):
    """A warehouse that fails on its n-th query (1-based) and counts the queries."""

    def __init__(self, inner: Warehouse, fail_on: int | None = None) -> None:
        self.inner, self.fail_on, self.queries = inner, fail_on, 0
        self.dialect = inner.dialect

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        self.queries += 1
        if self.queries == self.fail_on:
            raise WarehouseError("connection lost")
        return self.inner.query(sql)

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------- helpers

Row = tuple[str, str | None, str]


def iso(value: datetime) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}" if value.microsecond else "") + "Z"


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def csv_rows(path: Path) -> list[Row]:
    header, *rows = read_csv(path)
    assert header == ["user_id", "variant", "entered_at"]
    return [(u, v or None, e) for u, v, e in rows]


def parquet(path: Path) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    """The file's (column, type) pairs and rows, read back with DuckDB."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        rel = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        columns = [(d[0], str(d[1])) for d in rel.description or ()]
        rows = rel.fetchall()
        return columns, rows
    finally:
        con.close()


def parquet_rows(path: Path) -> list[Row]:
    columns, rows = parquet(path)
    assert columns == [("user_id", "VARCHAR"), ("variant", "VARCHAR"), ("entered_at", "TIMESTAMP WITH TIME ZONE")]
    return [(u, v, iso(e.astimezone(UTC).replace(tzinfo=None))) for u, v, e in rows]


def expected(segment: str, at: datetime | None) -> list[Row]:
    """The members from the fixture data: those of _current(), or at `at` as listed below."""
    members = [(u, v, e) for s, u, v, e in _current() if s == segment] if at is None else AT[segment, at]
    return sorted((u, v, iso(e)) for u, v, e in members)


AT: dict[tuple[str, datetime], list[tuple[str, str | None, datetime]]] = {
    ("trial", T1): [("u1", "control", T1), ("u2", "control", T1), ("u3", "treatment", T1), ("u4", "control", T1),
                    ("u6", "control", T1)],
    ("trial", T2): [("u1", "control", T1), ("u2", "control", T1), ("u6", "treatment", T1)],
    ("trial", T2 + timedelta(hours=3)): [("u1", "control", T1), ("u2", "control", T1), ("u6", "treatment", T1)],
    ("trial", T3): [("u1", "control", T1), ("u2", "treatment", T1), ("u3", "treatment", T3), ("u6", "control", T1)],
    ("trial", T4): [("u1", "control", T1), ("u2", "treatment", T1), ("u3", "treatment", T3), ("u6", "control", T1)],
    ("vip", T1): [("a", None, T1)],
    ("vip", T3): [("a", None, T1), ("b", None, T2)],
    ("vip", T4): [("a", None, T1), ("c", None, T4)],
}  # fmt: skip


def run(warehouse: Warehouse, segment: str, fmt: export.Format, out: Path, at: datetime | None = None) -> list[Row]:
    result = export_members(warehouse, table, segment, fmt, out, as_of=at)
    assert result.path == out and out.exists()
    assert not out.with_name(out.name + ".tmp").exists()
    rows = csv_rows(out) if fmt == "csv" else parquet_rows(out)
    assert result.rows == len(rows)
    return rows


# ----------------------------------------------------------------------------------- tests


def test_current_members_as_csv(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "trial.csv"
    result = export_members(warehouse, table, "trial", "csv", out)
    assert result.rows == 4 and result.as_of_note is None
    assert out.read_text(encoding="utf-8").splitlines() == [
        "user_id,variant,entered_at",
        "u1,control,2025-06-01T00:00:00Z",
        "u2,treatment,2025-06-01T00:00:00Z",
        "u3,treatment,2025-06-03T00:00:00Z",
        "u6,control,2025-06-01T00:00:00Z",
    ]
    # members without a variant: an empty field
    assert run(warehouse, "vip", "csv", tmp_path / "vip.csv") == expected("vip", None)
    assert read_csv(tmp_path / "vip.csv")[1] == ["a", "", "2025-06-01T00:00:00Z"]


def test_current_members_as_parquet(warehouse: Warehouse, tmp_path: Path) -> None:
    for segment in ("trial", "vip", HOSTILE_SEGMENT):
        out = tmp_path / "members.parquet"
        assert run(warehouse, segment, "parquet", out) == expected(segment, None)
    _, rows = parquet(tmp_path / "members.parquet")
    assert rows[0][2].utcoffset() == timedelta(0)  # an instant, in UTC


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(("segment", "at"), sorted(AT))
def test_members_as_of(warehouse: Warehouse, tmp_path: Path, fmt: export.Format, segment: str, at: datetime) -> None:
    """Open intervals at T; entered_at follows adjacent intervals (a variant change) back to
    the chain's start, and starts afresh after an exit."""
    out = tmp_path / f"out.{fmt}"
    assert run(warehouse, segment, fmt, out, at) == expected(segment, at)
    assert export_members(warehouse, table, segment, fmt, out, as_of=at).as_of_note is None


def test_as_of_with_a_time_zone(duck: Warehouse, tmp_path: Path) -> None:
    """An aware instant is converted to UTC: 02:00+02:00 on June 3rd is T3."""
    at = datetime(2025, 6, 3, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert run(duck, "trial", "csv", tmp_path / "t.csv", at) == expected("trial", T3)


def test_before_the_first_run_is_an_error(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with pytest.raises(ExportError, match=r"no run at or before 2025-05-31T23:59:59Z.*2025-06-01T00:00:00Z"):
        export_members(warehouse, table, "trial", "csv", out, as_of=T1 - timedelta(seconds=1))
    assert not out.exists() and not out.with_name("out.csv.tmp").exists()


def test_no_runs_is_an_error(load: Loader, tmp_path: Path) -> None:
    empty = load(_rows([], [], RUNS) | {"segwise_runs": []})
    with pytest.raises(ExportError, match=r"no run at or before .*segwise_runs is empty"):
        export_members(empty, table, "trial", "csv", tmp_path / "out.csv", as_of=T1)
    # without --as-of there is nothing to check: no members, a header
    assert run(empty, "trial", "csv", tmp_path / "out.csv") == []


def test_after_the_last_run_exports_the_current_members_with_a_note(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    later = T4 + timedelta(days=30)
    result = export_members(warehouse, table, "trial", "csv", out, as_of=later)
    assert result.as_of_note is not None
    assert "2025-07-04T00:00:00Z" in result.as_of_note and "2025-06-04T00:00:00Z" in result.as_of_note
    assert "current members" in result.as_of_note
    assert csv_rows(out) == expected("trial", None)


def test_unknown_segment_is_an_empty_file(warehouse: Warehouse, tmp_path: Path) -> None:
    assert run(warehouse, "nope", "csv", tmp_path / "out.csv") == []
    assert read_csv(tmp_path / "out.csv") == [["user_id", "variant", "entered_at"]]
    assert run(warehouse, "nope", "parquet", tmp_path / "out.parquet", T3) == []
    assert len(parquet(tmp_path / "out.parquet")[0]) == 3  # the columns are there


def test_hostile_names_reach_sql_as_literals(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment name and user ids with quotes, backslashes and newlines: literals, also as the
    page boundary (a page of one row makes every user id the next query's literal)."""
    monkeypatch.setattr(export, "PAGE", 1)
    for at in (None, T3):
        for fmt in FORMATS:
            out = tmp_path / f'hostile\'s "file".{fmt}'
            rows = run(warehouse, HOSTILE_SEGMENT, fmt, out, at)
            assert sorted(rows) == sorted((u, None, iso(T1)) for u in HOSTILE_USERS)
            assert len(rows) == len(HOSTILE_USERS)
    # the tables are intact
    assert run(warehouse, "trial", "csv", tmp_path / "t.csv") == expected("trial", None)


@pytest.mark.parametrize("page", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("at", [None, T3])
def test_paging_reads_every_row_once(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: int, at: datetime | None
) -> None:
    monkeypatch.setattr(export, "PAGE", page)
    counting = Flaky(warehouse)
    rows = run(counting, "trial", "csv", tmp_path / "out.csv", at)
    assert rows == expected("trial", at)  # in user_id order, each once
    runs_query = 1 if at is not None else 0
    assert counting.queries == runs_query + len(rows) // page + 1  # a short (or empty) page ends it


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("at", [None, T3])
def test_a_failure_mid_export_leaves_no_file(
    duck: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: export.Format, at: datetime | None
) -> None:
    monkeypatch.setattr(export, "PAGE", 2)
    fresh, existing = tmp_path / f"fresh.{fmt}", tmp_path / f"existing.{fmt}"
    existing.write_text("the previous export\n")
    second_page = 3 if at is not None else 2  # the runs query comes first with --as-of
    for out in (fresh, existing):
        with pytest.raises(WarehouseError, match="connection lost"):
            export_members(Flaky(duck, fail_on=second_page), table, "trial", fmt, out, as_of=at)
    assert not fresh.exists()
    assert existing.read_text() == "the previous export\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []
    # and an export that succeeds replaces it
    export_members(duck, table, "trial", fmt, existing, as_of=at)
    assert (csv_rows if fmt == "csv" else parquet_rows)(existing) == expected("trial", at)


def test_a_failing_writer_leaves_no_file(duck: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure in the file writer itself (disk full, ...) also removes the temporary file."""
    monkeypatch.setattr(export, "PAGE", 1)
    out = tmp_path / "out.csv"
    real_iso = export.iso
    calls = iter(range(100))

    def failing_iso(value: datetime) -> str:
        if next(calls) == 2:
            raise OSError("No space left on device")
        return real_iso(value)

    monkeypatch.setattr(export, "iso", failing_iso)
    with pytest.raises(OSError, match="No space"):
        export_members(duck, table, "trial", "csv", out)
    assert list(tmp_path.glob("out.csv*")) == []


def test_parquet_needs_no_pyarrow(duck: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert run(duck, "trial", "parquet", tmp_path / "out.parquet", T3) == expected("trial", T3)


def test_bad_arguments(duck: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown export format 'xlsx'"):
        export_members(duck, table, "trial", "xlsx", tmp_path / "out.xlsx")  # type: ignore[arg-type]
    with pytest.raises(ExportError, match="no directory"):
        export_members(duck, table, "trial", "csv", tmp_path / "missing" / "out.csv")


def test_the_sql_reads_back_with_the_values_as_literals() -> None:
    """Every dialect gets one statement per query, the segment name and the page boundary as
    its own string literals (sqlglot's reader for the dialect gives them back unchanged)."""
    import sqlglot

    from segwise.sql.dialects import TARGETS

    for name, target in TARGETS.items():
        for after in HOSTILE_USERS:
            for query in (
                export.current_query(target, table, HOSTILE_SEGMENT, after),
                export.as_of_query(target, table, HOSTILE_SEGMENT, T2, after),
            ):
                parsed = sqlglot.parse(target.sql(query), read=target.reader)
                assert len(parsed) == 1 and parsed[0] is not None
                strings = {lit.this for lit in parsed[0].find_all(sqlglot.exp.Literal) if lit.is_string}
                assert {HOSTILE_SEGMENT, after} <= strings, name


# ------------------------------------------------------------------------------ property

STATES = st.sampled_from([None, "in", "control", "treatment"])  # None: not a member; "in": no variant


def _histories(
    states: dict[str, list[str | None]], runs: list[datetime]
) -> tuple[list[tuple[str, str, datetime, datetime | None, str | None]], list[tuple[str, str, str | None, datetime]]]:
    """The history rows and current members segwise's runs would write for each user's state
    at each run: an interval opens on entry, closes on exit, and a variant change closes one
    and opens the next at the same instant."""
    history: list[tuple[str, str, datetime, datetime | None, str | None]] = []
    current: list[tuple[str, str, str | None, datetime]] = []
    for user, per_run in states.items():
        opened: tuple[datetime, str | None] | None = None
        entered: datetime | None = None
        for t, state in zip(runs, [*per_run, None], strict=False):
            variant = None if state == "in" else state
            if opened is not None and (state is None or variant != opened[1]):
                history.append(("s", user, opened[0], t, opened[1]))
                opened = None
            if state is not None and opened is None:
                opened = (t, variant)
                entered = entered or t
            if state is None:
                entered = None
        if opened is not None:
            history.append(("s", user, opened[0], None, opened[1]))
            assert entered is not None
            current.append(("s", user, opened[1], entered))
    return history, current


def _oracle(states: dict[str, list[str | None]], runs: list[datetime], at: datetime) -> list[Row]:
    """The members at `at`, from the states alone: the state at the last run at or before
    `at`; entered_at the first run of the unbroken streak of membership up to it."""
    last = max(n for n, t in enumerate(runs) if t <= at)
    members = []
    for user, per_run in states.items():
        state = per_run[last]
        if state is None:
            continue
        start = last
        while start > 0 and per_run[start - 1] is not None:
            start -= 1
        members.append((user, None if state == "in" else state, iso(runs[start])))
    return sorted(members)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, list[str | None]], list[datetime], datetime, int]:
    n_runs = draw(st.integers(1, 6))
    gaps = draw(st.lists(st.integers(1, 48), min_size=n_runs, max_size=n_runs))
    runs = [T1 + timedelta(hours=sum(gaps[:i])) for i in range(n_runs)]
    users = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "it's", "Z"]), unique=True, max_size=6))
    states = {u: draw(st.lists(STATES, min_size=n_runs, max_size=n_runs)) for u in users}
    at = runs[draw(st.integers(0, n_runs - 1))] + timedelta(minutes=draw(st.sampled_from([0, 0, 1, 59])))
    page = draw(st.integers(1, 4))
    return states, runs, at, page


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(scenario=scenarios())
def test_as_of_matches_a_replay_of_the_runs(tmp_path: Path, scenario: Any) -> None:
    """Random state sequences, written as segwise writes history: the as-of export equals the
    membership replayed in Python, for every page size."""
    states, runs, at, page = scenario
    history, current = _histories(states, runs)
    with ExitStack() as stack, mock.patch.object(export, "PAGE", page):
        warehouse = _duckdb(tmp_path, stack)(_rows(history, current, runs))
        out = tmp_path / "out.csv"
        result = export_members(warehouse, table, "s", "csv", out, as_of=at)
        assert csv_rows(out) == _oracle(states, runs, at)
        assert (result.as_of_note is not None) == (at > runs[-1])
        # without --as-of: the current members, as the last run left them
        export_members(warehouse, table, "s", "csv", out)
        assert csv_rows(out) == _oracle(states, runs, runs[-1])
