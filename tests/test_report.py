"""`segwise report`: the HTML page and its pictures, from state tables in a DuckDB file.

Synthetic state: 50 segments over 6 runs, clustered overlaps, one group of 5 labels (its
fallback label full of HTML metacharacters) whose users change labels in every run. The
numbers the page shows are compared with the ones the rows were made from; the page is
checked to be one offline file; Chromium, when the machine has it, renders it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import struct
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import sqlglot
from matplotlib.image import imread
from sqlglot import exp

from segwise.config import Project
from segwise.dbt.state import STATE_TABLES
from segwise.loading import load_project
from segwise.report import Report, build_report
from segwise.report import data as report_data
from segwise.report.charts import composition_chart
from segwise.report.data import GroupLabels, LabelCount, read_report_data
from segwise.warehouse.base import Warehouse
from segwise.warehouse.duckdb_client import DuckDBWarehouse

REQUIRE_ENGINES = os.environ.get("SEGWISE_REQUIRE_ENGINES") == "1"
CHROMIUM = "/usr/bin/chromium"
SCHEMA = "analytics"
SQL_TYPES = {"string": "varchar", "timestamp": "timestamp", "bigint": "bigint", "float": "double"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

RUNS = [datetime(2025, 6, 1, 6, 0) + timedelta(days=i) for i in range(6)]
LONG_NAME = "customers_who_viewed_the_pricing_page_twice_within_a_week"
SEGMENTS = [
    LONG_NAME if i == 7 else f"seg_{i:02d}_{('buyers', 'browsers', 'churn_risk', 'vip')[i % 4]}" for i in range(50)
]
GROUP = "lifecycle"
FALLBACK = 'Other <VIP> & "friends"'  # any text is a valid fallback label
LABELS = [*SEGMENTS[:4], FALLBACK]
USERS = [f"u{i:03d}" for i in range(500)]
HOSTILE_DESCRIPTION = 'Buyers <script>alert("x")</script> & friends'


# --- the synthetic state --------------------------------------------------------------------


@dataclass
class State:
    sizes: list[dict[str, Any]] = field(default_factory=list)
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    membership: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def last_sizes(self) -> dict[str, dict[str, Any]]:
        return {row["segment"]: row for row in self.sizes if row["evaluated_at"] == RUNS[-1]}

    def flows(self, run: datetime | None = None) -> Counter[tuple[str | None, str | None]]:
        return Counter(
            (c["from_segment"], c["to_segment"]) for c in self.changes if run is None or c["changed_at"] == run
        )


def synthetic_state(segments: int = len(SEGMENTS)) -> State:
    """The state after RUNS, for the first `segments` of SEGMENTS (at least 15)."""
    state = State()
    for s, name in enumerate(SEGMENTS[:segments]):
        members = 0
        for r, run in enumerate(RUNS):
            entered = 100 + (s * 53) % 1000 if r == 0 else (s * 7 + r * 3) % 25
            exited = 0 if r == 0 else (s * 5 + r * 11) % 20
            members += entered - exited
            row = {"segment": name, "evaluated_at": run, "members": members, "entered": entered, "exited": exited}
            state.sizes.append({**row, "control_members": members // 10 if s % 3 == 0 else 0})
    now = state.last_sizes()
    for i, a in enumerate(SEGMENTS[:segments]):
        for j, b in enumerate(SEGMENTS[:segments]):
            if i == j:
                continue
            smaller = min(now[a]["members"], now[b]["members"])
            shared = smaller // (2 + (i + j) % 3) if i % 5 == j % 5 else smaller // 20 if (i + j) % 7 == 0 else 0
            if shared:
                union = now[a]["members"] + now[b]["members"] - shared
                state.overlaps.append(_overlap(None, a, None, b, shared, now[a]["members"], now[b]["members"], union))
    # group labels: everyone labelled in the first run; then some move each run, some leave at the end
    label: dict[str, str | None] = {user: LABELS[u % 5] for u, user in enumerate(USERS)}
    state.changes += [_change(user, RUNS[0], None, label[user]) for user in USERS]
    for r, run in enumerate(RUNS[1:], start=1):
        for u, user in enumerate(USERS):
            current = label[user]
            if current is not None and u % 50 == 0 and r == len(RUNS) - 1:
                state.changes.append(_change(user, run, current, None))
                label[user] = None
            elif current is not None and u % 7 == r:
                moved = LABELS[(LABELS.index(current) + 1 + r) % 5]
                if moved != current:
                    state.changes.append(_change(user, run, current, moved))
                    label[user] = moved
    state.membership = [
        {"group_name": GROUP, "user_id": user, "segment": now_label, "evaluated_at": RUNS[-1]}
        for user, now_label in label.items()
        if now_label is not None
    ]
    counts = Counter(row["segment"] for row in state.membership)
    for i, a in enumerate(LABELS):  # label overlaps of a group: rows the segment heatmap must leave out
        state.overlaps.append(_overlap(GROUP, a, None, SEGMENTS[10 + i], 1, counts[a], 10, counts[a] + 9))
    state.runs = [{"as_of": run, "mode": "full" if r == 0 else "incremental"} for r, run in enumerate(RUNS)]
    return state


def _overlap(
    a_group: str | None, a: str, b_group: str | None, b: str, shared: int, a_n: int, b_n: int, union: int
) -> dict[str, Any]:
    return {
        "a_group": a_group,
        "a": a,
        "b_group": b_group,
        "b": b,
        "shared": shared,
        "a_members": a_n,
        "b_members": b_n,
        "jaccard": shared / union,
        "evaluated_at": RUNS[-1],
    }


def _change(user: str, at: datetime, before: str | None, after: str | None) -> dict[str, Any]:
    return {"group_name": GROUP, "user_id": user, "changed_at": at, "from_segment": before, "to_segment": after}


def write_database(path: Path, state: State, leave_out: tuple[str, ...] = ()) -> None:
    tables = {
        "segment_sizes": state.sizes,
        "segment_overlaps": state.overlaps,
        "segment_group_membership": state.membership,
        "segment_group_changes": state.changes,
        "segwise_runs": state.runs,
        "segment_membership": [],
    }
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        for name, rows in tables.items():
            if name in leave_out:
                continue
            columns = [c.name for c in STATE_TABLES[name].columns]
            ddl = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in STATE_TABLES[name].columns)
            con.execute(f"CREATE TABLE {SCHEMA}.{name} ({ddl})")
            if rows:  # one statement over column arrays: executemany binds row by row (seconds)
                con.register("sw_rows", {c: np.array([row.get(c) for row in rows], dtype=object) for c in columns})
                casts = ", ".join(f"CAST({c.name} AS {SQL_TYPES[c.type]})" for c in STATE_TABLES[name].columns)
                con.execute(f"INSERT INTO {SCHEMA}.{name} SELECT {casts} FROM sw_rows")
                con.unregister("sw_rows")
    finally:
        con.close()


def state_table(name: str) -> exp.Table:
    return exp.table_(name, db=SCHEMA)


# --- the project ----------------------------------------------------------------------------


def write_project(root: Path) -> Project:
    config = {
        "sources": {
            "users": {"relation": "ref('app_users')", "id": "user_id", "traits": {"plan": "string"}},
            "events": {
                "relation": "ref('app_events')",
                "user_id": "user_id",
                "name": "event_name",
                "timestamp": "occurred_at",
            },
        }
    }
    segments: list[dict[str, Any]] = []
    for i, name in enumerate(SEGMENTS):
        rule: dict[str, Any] = {"trait": "plan", "eq": f"plan_{i}"}
        if i == 0:
            rule = {"all": [{"event": "order_completed", "within": "48h", "count": {"gte": 2}}, {"not": rule}]}
        segment = {"name": name, "description": f"Segment number {i}", "tags": [f"team_{i % 3}"], "rule": rule}
        segments.append(segment)
    segments[1]["description"] = HOSTILE_DESCRIPTION
    groups = [{"name": GROUP, "priority": SEGMENTS[:4], "fallback": FALLBACK}]
    (root / "segwise.yml").write_text(json.dumps(config))
    (root / "segments").mkdir()
    (root / "segments" / "all.yml").write_text(json.dumps({"segments": segments, "groups": groups}, indent=1))
    return load_project(root / "segwise.yml")


# --- reading the page back ------------------------------------------------------------------


class Tables(HTMLParser):
    """The text of every cell of every table with an id: {id: [[cell, ...], ...]} (header row first)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.current = dict(attrs).get("id")
            if self.current:
                self.tables[self.current] = []
        elif tag == "tr" and self.current:
            self.tables[self.current].append([])
        elif tag in ("td", "th") and self.current:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.current and self.cell is not None:
            self.tables[self.current][-1].append("".join(self.cell))
            self.cell = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def rows_by_first_cell(table: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row for row in table[1:]}


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def png_chunks(picture: bytes) -> set[bytes]:
    kinds, at = set(), len(PNG_SIGNATURE)
    while at < len(picture):
        (length,) = struct.unpack(">I", picture[at : at + 4])
        kinds.add(picture[at + 4 : at + 8])
        at += 12 + length
    return kinds


class CountingWarehouse(Warehouse):
    """The real DuckDB client, recording how many rows each query returned."""

    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.returned: list[tuple[str, int]] = []

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        rows = self.inner.query(sql)
        self.returned.append((sql, len(rows)))
        return rows

    def columns(self, relation: exp.Table) -> dict[str, str] | None:
        return self.inner.columns(relation)

    def close(self) -> None:
        self.inner.close()


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Report, State, CountingWarehouse]]:
    root = tmp_path_factory.mktemp("report")
    state = synthetic_state()
    write_database(root / "state.duckdb", state)
    project = write_project(root)
    warehouse = CountingWarehouse(DuckDBWarehouse({"path": str(root / "state.duckdb")}))
    with warehouse:
        report = build_report(project, warehouse, state_table, root / "out", target_name="prod <eu>")
        yield report, state, warehouse


@pytest.fixture(scope="module")
def page(built: tuple[Report, State, CountingWarehouse]) -> str:
    return built[0].html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tables(page: str) -> dict[str, list[list[str]]]:
    return Tables(page).tables


# --- the page and its pictures --------------------------------------------------------------


def test_the_report_is_one_offline_file_with_every_picture_inlined(
    built: tuple[Report, State, CountingWarehouse], page: str
) -> None:
    report = built[0]
    assert report.html.name == "report.html" and report.html.is_file()
    assert set(report.pictures) == {"sizes", "churn", "overlaps", "groups", "flows"}
    assert report.empty == ()
    assert "<script" not in page.lower()
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page, flags=re.IGNORECASE)
    assert links and all(link.startswith(("data:image/png;base64,", "#")) for link in links), links
    assert not re.search(r"https?://", page)
    inlined = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(inlined) == len(report.pictures)
    for key, path in report.pictures.items():
        assert path == report.html.parent / f"{key}.png"
        picture = path.read_bytes()
        assert base64.b64encode(picture).decode("ascii") in inlined, key
        width, height = png_size(path)
        assert 400 <= width <= 2000 and 200 <= height <= 3000, (key, width, height)
        pixels = imread(path)
        assert pixels.shape[:2] == (height, width) and pixels.std() > 0.01, key
        assert png_chunks(picture) == {b"IHDR", b"pHYs", b"IDAT", b"IEND"}, key  # no Software or date text


def test_pictures_are_deterministic() -> None:
    counts = [LabelCount(GROUP, label, 10 * (i + 1)) for i, label in enumerate(LABELS)]
    groups: GroupLabels = {GROUP: (LABELS, FALLBACK)}
    assert composition_chart(groups, counts) == composition_chart(groups, counts)


def test_the_tables_hold_the_synthetic_numbers(
    built: tuple[Report, State, CountingWarehouse], tables: dict[str, list[list[str]]]
) -> None:
    state = built[1]
    last = state.last_sizes()
    shown = rows_by_first_cell(tables["table-last-run"])
    assert set(shown) == set(SEGMENTS)
    for name, row in last.items():
        entered, exited = row["entered"], row["exited"]
        expected = [name, row["members"], entered, exited, entered - exited, row["control_members"]]
        assert shown[name] == [str(v) for v in expected]

    sizes = tables["table-sizes"]
    assert sizes[0][1:] == [f"{run:%Y-%m-%d %H:%M}" for run in RUNS]
    by_segment = rows_by_first_cell(sizes)
    for row in state.sizes:
        assert by_segment[row["segment"]][RUNS.index(row["evaluated_at"]) + 1] == str(row["members"])

    runs = tables["table-runs"]
    newest = runs[1]
    assert newest[0] == f"{RUNS[-1]:%Y-%m-%d %H:%M}"
    assert newest[1:] == [
        str(len(SEGMENTS)),
        *(str(sum(r[k] for r in last.values())) for k in ("members", "entered", "exited")),
    ]

    every, in_last_run = state.flows(), state.flows(RUNS[-1])
    flows = {(row[1], row[2]): row[3:] for row in tables["table-flows"][1:]}
    assert len(flows) == len(every)
    for (before, after), n in every.items():
        key = (before or "(none)", after or "(none)")
        assert flows[key] == [str(n), str(in_last_run.get((before, after), 0))]
    assert flows[(LABELS[0], "(none)")] == [str(every[(LABELS[0], None)]), str(every[(LABELS[0], None)])]

    labels = Counter(row["segment"] for row in state.membership)
    groups = {row[1]: row[2] for row in tables["table-groups"][1:]}
    assert groups == {label: str(labels[label]) for label in LABELS}

    pairs = tables["table-overlaps"][1:]
    best = max((o for o in state.overlaps if o["a_group"] is None), key=lambda o: o["jaccard"])
    assert pairs[0][2:5] == [str(best[k]) for k in ("shared", "a_members", "b_members")]
    assert pairs[0][5] == f"{best['jaccard']:.4f}"
    assert all(a in SEGMENTS and b in SEGMENTS for a, b, *_ in pairs)  # no group label overlaps

    definitions = rows_by_first_cell(tables["table-definitions"])
    assert len(definitions) == len(SEGMENTS)
    assert (
        definitions[SEGMENTS[0]][4]
        == "all of\n  event order_completed within 48h count >= 2\n  not\n    trait plan = 'plan_0'"
    )
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", built[0].html.read_text(encoding="utf-8")))
    assert facts["Runs"] == "6" and facts["Last run (T)"] == f"{RUNS[-1]:%Y-%m-%d %H:%M}"
    assert facts["Segments"] == "50 defined, 50 in the last run"


def test_names_are_escaped(page: str) -> None:
    assert FALLBACK not in page and HOSTILE_DESCRIPTION not in page and "prod <eu>" not in page
    assert "Other &lt;VIP&gt; &amp; &quot;friends&quot;" in page
    assert "Buyers &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends" in page
    assert "prod &lt;eu&gt;" in page


def test_only_aggregates_are_read(built: tuple[Report, State, CountingWarehouse]) -> None:
    state, warehouse = built[1], built[2]
    assert warehouse.returned
    assert all("user_id" not in sql.lower() for sql, _ in warehouse.returned)
    assert max(n for _, n in warehouse.returned) <= len(SEGMENTS) ** 2  # the overlaps, both orders
    of_users = [n for sql, n in warehouse.returned if "segment_group" in sql]  # grouped by label: a few rows
    assert len(of_users) == 3 and max(of_users) <= (len(LABELS) + 1) ** 2 < len(state.membership)


def test_only_the_largest_segments_are_charted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_CHARTED segments, histories and overlaps are read for the largest ones only."""
    state = synthetic_state()
    write_database(tmp_path / "state.duckdb", state)
    monkeypatch.setattr(report_data, "MAX_CHARTED", 10)
    with DuckDBWarehouse({"path": str(tmp_path / "state.duckdb")}) as warehouse:
        data = read_report_data(warehouse, state_table)
    largest = sorted(state.last_sizes().values(), key=lambda r: (-r["members"], r["segment"]))[:10]
    assert list(data.history) == [r["segment"] for r in largest]
    assert data.overlaps and {o.a for o in data.overlaps} | {o.b for o in data.overlaps} <= set(data.history)
    assert len(data.current) == len(SEGMENTS)


@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "bigquery"])
def test_the_queries_are_written_for_each_dialect(dialect: str) -> None:
    class Recorder(Warehouse):
        def __init__(self) -> None:
            self.dialect = dialect
            self.sql: list[str] = []

        def query(self, sql: str) -> list[tuple[Any, ...]]:
            self.sql.append(sql)
            return [(1, RUNS[0])] if "max(" in sql.lower() and "as_of" in sql.lower() and len(self.sql) == 1 else []

        def columns(self, relation: exp.Table) -> dict[str, str] | None:
            return {}

        def close(self) -> None:
            pass

    recorder = Recorder()
    read_report_data(recorder, state_table)
    assert len(recorder.sql) >= 6
    for sql in recorder.sql:
        sqlglot.parse_one(sql, read=dialect)  # raises on SQL the dialect cannot read


def test_missing_newer_tables_leave_their_sections_empty(tmp_path: Path) -> None:
    state = synthetic_state(segments=15)  # fewer sparklines: faster
    write_database(tmp_path / "old.duckdb", state, leave_out=("segment_overlaps", "segment_group_changes"))
    project = write_project(tmp_path)
    with DuckDBWarehouse({"path": str(tmp_path / "old.duckdb")}) as warehouse:
        report = build_report(project, warehouse, state_table, tmp_path / "out", target_name="dev")
    assert report.empty == ("overlaps", "flows")
    assert set(report.pictures) == {"sizes", "churn", "groups"}
    assert not (tmp_path / "out" / "overlaps.png").exists()
    page = report.html.read_text(encoding="utf-8")
    for table in ("segment_overlaps", "segment_group_changes"):
        assert f"the database has no {table} table. Run `segwise build` with this version" in page
    assert "table-last-run" in page and "table-definitions" in page


# --- a browser renders it -------------------------------------------------------------------


def chromium_or_skip() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found:
        return found
    if REQUIRE_ENGINES:
        pytest.fail(f"no Chromium at {CHROMIUM} (SEGWISE_REQUIRE_ENGINES=1)")
    pytest.skip(f"no Chromium at {CHROMIUM} to render the report")


def test_chromium_renders_the_report(built: tuple[Report, State, CountingWarehouse], tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    shot = tmp_path / "shot.png"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1400,3000",
        built[0].html.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert shot.is_file(), done.stderr.decode(errors="replace")[-2000:]
    assert png_size(shot) == (1400, 3000)
    pixels = imread(shot)[:, :, :3]
    colours = {tuple(p) for p in pixels[::7, ::7].reshape(-1, 3).round(2).tolist()}
    assert len(colours) > 20, "the screenshot is blank"
