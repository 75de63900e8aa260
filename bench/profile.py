"""Where a query's time goes, CTE by CTE: DuckDB's JSON profile, its operators' CPU time
summed by the CTE that contains them.

    # the model query of the last `dbt build` of a bench size (after `make bench`: the
    # incremental run), as dbt compiled it, with T and the watermarks filled in
    .venv/bin/python bench/profile.py --db bench/work/events_10000000/bench.duckdb \\
        --sql bench/work/events_10000000/project/target/compiled/segwise_bench/models/segwise/segment_membership.sql

    # segwise's full evaluation of the bench segments at T (what `steps.py full` runs)
    .venv/bin/python bench/profile.py --db bench/work/events_10000000/bench.duckdb --full

A materialized CTE is a `CTE` operator whose first child computes it; every other operator
counts for the innermost CTE around it, or for the final SELECT. CTEs DuckDB inlines count
where they are read.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from segwise.loading import load_project
from segwise.sql.dialects import get_target
from segwise.sql.query import compile_membership

BENCH = Path(__file__).resolve().parent


def by_cte(plan: dict[str, Any]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)

    def visit(node: dict[str, Any], label: str) -> None:
        children = node.get("children", [])
        if node.get("type") == "CTE":
            name = node.get("extra_info", {}).get("CTE Name", "?")
            totals[name] += float(node.get("timing") or 0.0)
            if children:
                visit(children[0], name)
            for child in children[1:]:
                visit(child, label)
            return
        totals[label] += float(node.get("timing") or 0.0)
        for child in children:
            visit(child, label)

    for root in plan.get("operator", []):
        visit(root, "(final select)")
    return dict(totals)


def profile(db: Path, sql: str) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.json"
        con = duckdb.connect(str(db), read_only=True)
        con.execute("PRAGMA enable_profiling='json'")
        con.execute(f"PRAGMA profiling_output='{out}'")
        started = time.perf_counter()
        con.execute(f"CREATE TEMP TABLE sw_profiled AS {sql}")
        wall = time.perf_counter() - started
        con.execute("PRAGMA disable_profiling")
        con.close()
        return wall, by_cte(json.loads(out.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--sql", type=Path, help="a file holding one SELECT")
    query.add_argument("--full", action="store_true", help="the full evaluation of the bench segments")
    parser.add_argument("--as-of", default="2025-06-01T00:00:00", help="T for --full")
    args = parser.parse_args()
    if args.full:
        project = load_project(BENCH / "segwise.yml")
        tree = compile_membership(project, sorted(project.segments), "duckdb", datetime.fromisoformat(args.as_of))
        sql = get_target("duckdb").sql(tree, copy=False)
    else:
        sql = args.sql.read_text()
    wall, totals = profile(args.db, sql.strip().rstrip(";"))
    cpu = sum(totals.values())
    print(f"wall {wall:.2f} s, operator CPU {cpu:.2f} s")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        if seconds >= 0.005 * cpu:
            print(f"  {name:<28} {seconds:7.2f} s  {100 * seconds / cpu:5.1f}%")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
