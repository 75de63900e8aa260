"""Member count of every segment on the demo data, with the segwise compiler, on DuckDB.

    python -m segwise_demo.sizes --data data [--config segwise.yml] [--as-of 2025-06-01T00:00:00]

The compiled SQL reads the tables `demo_users` and `demo_events`; here they are views over
`users.parquet` and every `events/batch_*.parquet`. As-of defaults to the data set's own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segwise.loading import load_project
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership
from segwise_demo import tables
from segwise_demo.timeline import parse_instant


def connect(data: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with demo_users and demo_events over the Parquet files."""
    con = duckdb.connect()
    users = tables.quote(str(data / "users.parquet"))
    events = tables.quote(str(data / "events" / "batch_*.parquet"))
    con.execute(f"CREATE VIEW demo_users AS SELECT * FROM read_parquet({users})")
    con.execute(f"CREATE VIEW demo_events AS SELECT * FROM read_parquet({events})")
    return con


def segment_sizes(data: Path, config: Path, as_of: datetime) -> tuple[int, dict[str, tuple[int, int]]]:
    """(universe size, segment -> (members, control members)) at as_of, in definition order."""
    project = load_project(config)
    names = list(project.segments)
    sql = get_target("duckdb").sql(compile_membership(project, names, "duckdb", as_of), pretty=False)
    with connect(data) as con:
        counted = con.execute(
            f"SELECT segment, count(*), count(*) FILTER (WHERE variant = 'control') FROM ({sql}) GROUP BY segment"
        ).fetchall()
        universe = con.execute(
            "SELECT count(*) FROM (SELECT CAST(user_id AS VARCHAR) FROM demo_users WHERE user_id IS NOT NULL "
            "UNION SELECT CAST(user_id AS VARCHAR) FROM demo_events WHERE user_id IS NOT NULL AND occurred_at <= ?)",
            [as_of],
        ).fetchone()
    assert universe is not None
    found = {str(name): (int(members), int(control)) for name, members, control in counted}
    return int(universe[0]), {name: found.get(name, (0, 0)) for name in names}


def format_sizes(universe: int, sizes: dict[str, tuple[int, int]]) -> str:
    width = max(len(name) for name in sizes)
    lines = [f"{'segment':<{width}}  {'members':>8}  {'share':>6}  {'control':>7}"]
    for name, (members, control) in sizes.items():
        share = members / universe if universe else 0.0
        lines.append(f"{name:<{width}}  {members:>8,}  {share:>6.1%}  {control or '':>7}")
    lines.append(f"{'(universe)':<{width}}  {universe:>8,}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segwise_demo.sizes", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="the generator's output directory")
    parser.add_argument("--config", type=Path, default=Path("segwise.yml"))
    parser.add_argument("--as-of", help="evaluation instant T (default: the data set's as-of)")
    args = parser.parse_args(argv)
    batch = args.data / "events" / "batch_0000.parquet"
    if not batch.exists():
        print(f"error: {batch} not found; run python -m segwise_demo.generate first", file=sys.stderr)
        return 2
    text = args.as_of or tables.read_metadata(batch).get("as_of")
    if text is None:
        print(f"error: {batch} records no as-of; give --as-of", file=sys.stderr)
        return 2
    as_of = datetime.fromtimestamp(parse_instant(text), UTC).replace(tzinfo=None)
    universe, sizes = segment_sizes(args.data, args.config, as_of)
    print(f"segment sizes at {as_of.isoformat()}")
    print(format_sizes(universe, sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
