"""The demo data generator: deterministic, the promised schema, the promised mess.

Runs the real command line in-process on a small data set (500 users, well under a second).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from segwise_demo import cdnow, generate, tables
from segwise_demo.catalog import Mailings
from segwise_demo.personas import make_persona
from segwise_demo.sizes import segment_sizes
from segwise_demo.stream import REPLAY_DELAY, Window, user_batch
from segwise_demo.timeline import HOUR, Timeline, parse_instant

ROOT = Path(__file__).resolve().parents[1]
USERS = 500
AS_OF = datetime(2025, 6, 1)

EVENTS_SCHEMA = [
    ("event_id", "VARCHAR"),
    ("user_id", "BIGINT"),
    ("event_name", "VARCHAR"),
    ("occurred_at", "TIMESTAMP"),
    ("loaded_at", "TIMESTAMP"),
    ("properties", "VARCHAR"),
]
USERS_SCHEMA = [
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
]


def make(out: Path, *args: str) -> None:
    assert generate.main(["--out", str(out), *args]) == 0


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "data"
    make(out, "--users", str(USERS))
    return out


@pytest.fixture()
def con(small: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        connection.execute(f"CREATE VIEW u AS SELECT * FROM read_parquet('{small / 'users.parquet'}')")
        connection.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet('{small / 'events/batch_0000.parquet'}')")
        yield connection


def test_two_runs_are_byte_identical(small: Path, tmp_path: Path) -> None:
    make(tmp_path, "--users", str(USERS))
    for name in ("users.parquet", "events/batch_0000.parquet"):
        assert (tmp_path / name).read_bytes() == (small / name).read_bytes(), name


def test_another_seed_gives_other_data(small: Path, tmp_path: Path) -> None:
    make(tmp_path, "--users", str(USERS), "--seed", "7")
    assert (tmp_path / "events/batch_0000.parquet").read_bytes() != (small / "events/batch_0000.parquet").read_bytes()


def test_columns_and_types_are_exactly_the_contract(con: duckdb.DuckDBPyConnection) -> None:
    assert [row[:2] for row in con.execute("DESCRIBE e").fetchall()] == EVENTS_SCHEMA
    assert [row[:2] for row in con.execute("DESCRIBE u").fetchall()] == USERS_SCHEMA


def test_counts_scale_with_users_and_are_skewed(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*), count(DISTINCT user_id) FROM u") == (USERS, USERS)
    events = one(con, "SELECT count(*) FROM e")
    assert 50 * USERS <= events <= 80 * USERS  # 10,000 users -> 500,000+ events
    median, top = one(con, "SELECT median(n), max(n) FROM (SELECT count(*) AS n FROM e GROUP BY user_id)")
    assert top > 10 * median  # a few heavy users, many light ones
    # About 1% of the events belong to users that users.parquet does not know.
    unknown = one(con, "SELECT count(*) FROM e WHERE user_id NOT IN (SELECT user_id FROM u)")
    assert 0.003 * events < unknown < 0.03 * events


def test_duplicate_deliveries_repeat_the_event_and_load_later(con: duckdb.DuckDBPyConnection) -> None:
    events = one(con, "SELECT count(*) FROM e")
    copies, bad = one(
        con,
        """
        SELECT count(*) - count(DISTINCT event_id),
               count(DISTINCT event_id) FILTER (WHERE n_content > 1 OR n_loads < n)
        FROM (SELECT event_id,
                     count(*) OVER (PARTITION BY event_id) AS n,
                     count(DISTINCT (user_id, event_name, occurred_at, properties))
                         OVER (PARTITION BY event_id) AS n_content,
                     count(DISTINCT loaded_at) OVER (PARTITION BY event_id) AS n_loads
              FROM e)
        """,
    )
    assert 0.002 * events < copies < 0.01 * events
    assert bad == 0


def test_loads_follow_events_with_some_late_arrivals(con: duckdb.DuckDBPyConnection) -> None:
    events, late, early, after_as_of, loaded_until = one(
        con,
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE loaded_at > occurred_at + INTERVAL 1 HOUR),
               count(*) FILTER (WHERE loaded_at <= occurred_at),
               count(*) FILTER (WHERE occurred_at > TIMESTAMP '{AS_OF}'),
               max(loaded_at)
        FROM e
        """,
    )
    assert early == 0
    assert 0.005 * events < late < 0.03 * events
    assert 0 < after_as_of < 0.005 * events  # a few, to show they are ignored at T
    assert loaded_until <= datetime(2025, 6, 1, 6)
    first = one(con, "SELECT min(occurred_at) FROM e")
    assert datetime(2024, 3, 31) <= first <= datetime(2024, 4, 30)  # about 14 months of history


def test_properties_are_json_of_the_declared_types(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM e WHERE NOT json_valid(properties)") == 0
    amounts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE json_type(properties, '$.amount') NOT IN ('DOUBLE', 'UBIGINT')), "
        "count(*) FILTER (WHERE CAST(properties ->> '$.amount' AS DOUBLE) > 200) "
        "FROM e WHERE event_name = 'order_completed'"
    ).fetchone()
    assert amounts is not None and amounts[0] > 0 and amounts[1] == 0 and amounts[2] > 0
    scores = con.execute(
        "SELECT DISTINCT CAST(properties ->> '$.score' AS INTEGER) FROM e "
        "WHERE event_name = 'survey_completed' AND properties ->> '$.survey_id' = 'nps'"
    ).fetchall()
    assert {s for (s,) in scores} <= set(range(11)) and len(scores) > 5


def test_every_demo_segment_has_members_but_not_everyone(small: Path) -> None:
    universe, sizes = segment_sizes(small, ROOT / "demos/ecommerce/segwise.yml", AS_OF)
    empty = [name for name, (members, _) in sizes.items() if members == 0]
    everyone = [name for name, (members, _) in sizes.items() if members > 0.95 * universe]
    assert (empty, everyone) == ([], [])


def test_append_adds_a_later_batch_with_late_events_and_redeliveries(small: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(small, data)
    before_users = data / "users-before.parquet"
    shutil.copy(data / "users.parquet", before_users)
    make(data, "--append-hours", "48")
    first, second = data / "events/batch_0000.parquet", data / "events/batch_0001.parquet"
    assert second.exists()
    meta = tables.read_metadata(second)
    loads = (meta["batch"], meta["loaded_after"], meta["loaded_until"])
    assert loads == ("1", "2025-06-01T06:00:00", "2025-06-03T06:00:00")
    with duckdb.connect() as c:
        assert [row[:2] for row in c.execute(f"DESCRIBE SELECT * FROM '{second}'").fetchall()] == EVENTS_SCHEMA
        prev_loaded, prev_occurred = one(c, f"SELECT max(loaded_at), max(occurred_at) FROM '{first}'")
        rows, new_min_loaded, late, again = one(
            c,
            f"""
            SELECT count(*), min(loaded_at),
                   count(*) FILTER (WHERE occurred_at < TIMESTAMP '{prev_occurred}'),
                   count(*) FILTER (WHERE event_id IN (SELECT event_id FROM '{first}'))
            FROM '{second}'
            """,
        )
        assert rows > 0 and new_min_loaded > prev_loaded
        assert late > 0 and again > 0
        users, changed, wrong = one(
            c,
            f"""
            SELECT count(*), count(*) FILTER (WHERE a.updated_at <> b.updated_at),
                   count(*) FILTER (WHERE a.updated_at <> b.updated_at AND b.updated_at <= TIMESTAMP '{prev_loaded}')
            FROM '{before_users}' AS a JOIN '{data / "users.parquet"}' AS b USING (user_id)
            """,
        )
        assert users == USERS and 0 < changed < 0.1 * USERS and wrong == 0
        expired = f"plan = 'trial' AND trial_ends_at <= '{loads[2]}'"
        assert one(c, f"SELECT count(*) FROM '{data / 'users.parquet'}' WHERE {expired}") == 0  # converted
    again_dir = tmp_path / "again"
    shutil.copytree(small, again_dir)
    make(again_dir, "--append-hours", "48")
    assert (again_dir / "events/batch_0001.parquet").read_bytes() == second.read_bytes()
    assert (again_dir / "users.parquet").read_bytes() == (data / "users.parquet").read_bytes()


def test_append_keeps_the_data_sets_seed(small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    shutil.copytree(small, data)
    assert generate.main(["--out", str(data), "--append-hours", "1", "--seed", "7"]) == 2
    assert "--seed differs" in capsys.readouterr().err
    assert not (data / "events/batch_0001.parquet").exists()


def test_batches_slice_one_stream() -> None:
    """Loading in three windows gives the rows of one window, plus the boundary replays."""
    timeline = Timeline(parse_instant("2025-06-01T00:00:00"))
    cut1, cut2 = timeline.first_load, timeline.first_load + 30 * HOUR
    end = cut2 + 60 * HOUR
    replays = 0
    for user_id in range(1, 60):
        persona = make_persona(42, user_id, timeline)
        whole = user_batch(42, persona, Mailings.between(timeline.start, end), Window(None, end)).rows
        parts = []
        for window in (Window(None, cut1), Window(cut1, cut2), Window(cut2, end)):
            parts += user_batch(42, persona, Mailings.between(timeline.start, window.until), window).rows
        extra = set(parts) - set(whole)
        assert set(whole) <= set(parts) and len(parts) == len(whole) + len(extra)
        for row in extra:  # re-deliveries just after a load boundary
            assert 0 < row[4] - (cut1 if row[4] <= cut2 else cut2) <= REPLAY_DELAY
        replays += len(extra)
    assert replays > 0


def test_cdnow_layout(tmp_path: Path) -> None:
    source = tmp_path / cdnow.FILE_NAME
    source.write_bytes(
        b" customer_id  date number_of_cds  dollar_value\r\n"
        b" 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00\r\n 00002 19970112  5   77.00\r\n"
    )
    assert cdnow.main(["--out", str(tmp_path / "cdnow"), "--source", str(source)]) == 0
    events_file, users_file = tmp_path / "cdnow/events/batch_0000.parquet", tmp_path / "cdnow/users.parquet"
    with duckdb.connect() as c:
        events = c.execute(f"SELECT * FROM '{events_file}' ORDER BY event_id").fetchall()
        users = c.execute(f"SELECT user_id, lifetime_value, signup_at, updated_at FROM '{users_file}'").fetchall()
        assert [row[:2] for row in c.execute(f"DESCRIBE SELECT * FROM '{users_file}'").fetchall()] == USERS_SCHEMA
    jan12 = datetime(1997, 1, 12)
    assert events[2] == ("cdnow-00003", 2, "order_completed", jan12, jan12, '{"amount": 77.00, "quantity": 5}')
    assert [(uid, str(ltv), signup) for uid, ltv, signup, _ in users] == [
        (1, "11.77", datetime(1997, 1, 1)),
        (2, "89.00", jan12),
    ]


@pytest.mark.skipif(cdnow.find_source() is None, reason="the lifetimes package (CDNOW data) is not installed")
def test_cdnow_real_file_counts() -> None:
    source = cdnow.find_source()
    assert source is not None
    purchases = cdnow.read_purchases(source)
    assert (len(purchases), len({p.customer for p in purchases})) == (69_659, 23_570)
