"""What the demo's `dbt build` left in the warehouse: each segment's size and a few members,
read from the DuckDB tables segwise maintains.

    python -m segwise_demo.summary [--database segwise.duckdb] [--project demos/ecommerce] [--sample 3]

It ends with where the database is and what to try next.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", default="segwise.duckdb")
    parser.add_argument("--schema", default="main")
    parser.add_argument("--sample", type=int, default=3, help="members shown per segment")
    parser.add_argument("--project", default="demos/ecommerce", help="the demo's dbt project (for the next steps)")
    args = parser.parse_args(argv)

    con = duckdb.connect(args.database, read_only=True)
    s = args.schema
    run = con.execute(
        f"SELECT as_of, mode, reevaluated_users FROM {s}.segwise_runs ORDER BY as_of DESC LIMIT 1"
    ).fetchone()
    if run is None:
        raise SystemExit("no segwise run found: run `dbt build` first")
    as_of, mode, users = run
    rows = con.execute(
        f"""
        SELECT d.segment, d.description, coalesce(z.members, 0), coalesce(z.entered, 0), coalesce(z.exited, 0),
               coalesce(z.control_members, 0)
        FROM {s}.segment_definitions d
        LEFT JOIN {s}.segment_sizes z ON z.segment = d.segment AND z.evaluated_at = ?
        ORDER BY d.segment
        """,
        [as_of],
    ).fetchall()
    samples: dict[str, list[str]] = {}
    for segment, user_id in con.execute(
        f"""
        SELECT segment, user_id FROM (
          SELECT segment, user_id, row_number() OVER (PARTITION BY segment ORDER BY length(user_id), user_id) AS n
          FROM {s}.segment_membership) WHERE n <= ?
        """,
        [args.sample],
    ).fetchall():
        samples.setdefault(segment, []).append(user_id)

    table = Table(title=f"segwise: {len(rows)} segments at T = {as_of} ({mode} run, {users:,} users evaluated)")
    for name, justify in [
        ("segment", "left"),
        ("members", "right"),
        ("entered", "right"),
        ("exited", "right"),
        ("control", "right"),
        ("e.g. users", "left"),
        ("description", "left"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for segment, description, members, entered, exited, control in rows:
        table.add_row(
            segment,
            f"{members:,}",
            f"{entered:,}",
            f"{exited:,}",
            f"{control:,}" if control else "",
            ", ".join(samples.get(segment, [])),
            description,
        )
    Console(width=200).print(table)
    print(_run_line(con, s))
    groups = con.execute(
        f"SELECT group_name, segment, count(*) FROM {s}.segment_group_membership GROUP BY 1, 2 ORDER BY 1, 3 DESC"
    ).fetchall()
    for group, label, count in groups:
        print(f"group {group}: {label:<20} {count:>8,}")
    print(
        _next_steps(
            Path(args.database).resolve(), args.project, as_of.isoformat(), rows[-1][0] if rows else "<segment>"
        )
    )


REASONS = [
    ("new_event_users", "new events"),
    ("window_edge_users", "window edges"),
    ("changed_users", "changed users rows"),
    ("time_trait_users", "time-based traits"),
    ("rfm_users", "RFM scores"),
    ("prediction_users", "predictions"),
]


def _run_line(con: duckdb.DuckDBPyConnection, schema: str) -> str:
    """What the last run touched: how many users it re-evaluated, and why (segwise_runs)."""
    columns = ", ".join(c for c, _ in REASONS)
    row = con.execute(
        f"SELECT mode, why, reevaluated_users, store, store_rows_added, changes, {columns},"
        f" (SELECT max(reevaluated_users) FROM {schema}.segwise_runs WHERE mode = 'full')"
        f" FROM {schema}.segwise_runs ORDER BY as_of DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    mode, why, users, store, added, changes, *counts, everyone = row
    line = f"The run: {mode} ({why}), {users:,}"
    if mode == "incremental":
        found = [f"{n:,} {label}" for (_, label), n in zip(REASONS, counts, strict=True) if n]
        line += f" of {everyone or 0:,} users re-evaluated: " + (", ".join(found) or "nothing new")
    else:
        line += " users evaluated"
    return line + f"; {changes:,} entries and exits; event store {store}, {added:,} rows written."


def _next_steps(database: Path, project: str, as_of: str, segment: str) -> str:
    connect = f"duckdb.connect('{database}', read_only=True)"
    return f"""
The database: {database}
Next, after `source .venv/bin/activate`:
  python -c "import duckdb; {connect}.sql('from segment_changes limit 5').show()"
  duckdb -readonly {database}                    # the DuckDB CLI, if you have it
  (cd {project} && segwise preview {segment} --as-of {as_of})     # who is in it
  (cd {project} && segwise explain {segment} 1 --as-of {as_of})   # why user 1 is in it, or not
  make demo-incremental HOURS=6                  # the next 6 hours of events, an incremental run
Queries for analysts: README.md, "Querying the results".
"""


if __name__ == "__main__":
    main()
