"""The measured steps of the benchmark, each run in a process of its own by bench/run.py.

    python bench/steps.py STEP --db FILE [--as-of ISO] [--repeat N] [--work DIR]

prints one JSON object: the step's own timing (`seconds`, the best of `--repeat` runs where
a step repeats) and what it produced. The parent process reads the peak memory of the whole
process (ru_maxrss from wait4), so each figure is one step's alone.

    scan         the physical limit: one GROUP BY user, event name over the events, reading
                 user, name, time and every JSON property value some segment reads
    full         segwise's evaluation of all segments (compile_membership), executed as one query
    per_segment  each segment's standalone query (compile_segment), one after another, summed
    compile      validate + compile + generate for 1,000 segments (the 50, renamed and with
                 varied thresholds, 20 times)
    verify       (a check, not a figure) dbt's segment_membership equals a full evaluation
    overlaps     the overlaps query of the last dbt run (the statement that fills
                 segment_overlaps, read from dbt's target/run), on the membership it left
    backfill     `segwise backfill` of all segments at 30 daily instants before T (the sizes,
                 entries and exits per instant), one query
    overlaps_scale  the same query (the package's macro, compiled by dbt) for 200 segments and
                 a group of 5 labels over USERS synthetic users in about 8 segments each,
                 their segments following 4 hidden traits (as real segments follow behaviour)
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from ruamel.yaml import YAML

from segwise.config import JsonProperties, Project
from segwise.dbt import generate
from segwise.loading import load_project
from segwise.sql.dialects import TARGETS
from segwise.sql.plan import build_plan
from segwise.sql.query import compile_membership, compile_segment

BENCH = Path(__file__).resolve().parent
CONFIG = BENCH / "segwise.yml"
DUCKDB = TARGETS["duckdb"]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scan_sql(project: Project, as_of: datetime) -> str:
    """One aggregate pass over the events, grouped by user and name, reading the columns the
    segments read: user, name, time, and each JSON property from the events it is read for
    (the same values segwise's staging parses, nothing more)."""
    plan = build_plan(project, sorted(project.segments))
    ev = project.config.events
    assert isinstance(ev.properties, JsonProperties)
    reads = []
    for prop in plan.properties:
        names = ", ".join(_quote(n) for n in sorted(plan.property_events.get(prop, ())))
        value = f"json_extract_string({ev.properties.column}, {_quote('$.' + prop)})"
        reads.append(f"max(CASE WHEN {ev.name} IN ({names}) THEN {value} END) AS p_{prop}")
    return (
        f"SELECT {ev.user_id}, {ev.name}, count(*) AS events, min({ev.timestamp}) AS first_ts, "
        f"max({ev.timestamp}) AS last_ts, {', '.join(reads)} "
        f"FROM {'.'.join(project.config.events.relation.parts)} "  # type: ignore[union-attr]
        f"WHERE {ev.timestamp} <= TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}' "
        f"GROUP BY {ev.user_id}, {ev.name}"
    )


def _cpu() -> float:
    """CPU seconds (user + system) of this process so far, every DuckDB thread and every
    finished child process (generate's writers) included."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, float, int]:
    """Execute `sql` into a temporary table (every row and column materialised, nothing
    pruned away); (seconds, CPU seconds, rows)."""
    cpu = _cpu()
    started = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP TABLE bench_out AS {sql}")
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu
    row = con.execute("SELECT count(*) FROM bench_out").fetchone()
    assert row is not None
    return seconds, cpu, int(row[0])


def _best(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> dict[str, Any]:
    runs = [_run(con, sql) for _ in range(repeat)]
    best = min(runs)
    return {
        "seconds": best[0],
        "cpu_s": best[1],
        "runs": [round(s, 3) for s, _, _ in runs],
        "rows": best[2],
    }


def step_scan(db: Path, as_of: datetime, repeat: int) -> dict[str, Any]:
    project = load_project(CONFIG)
    with duckdb.connect(str(db)) as con:
        return _best(con, scan_sql(project, as_of), repeat)


def step_full(db: Path, as_of: datetime, repeat: int) -> dict[str, Any]:
    project = load_project(CONFIG)
    names = sorted(project.segments)
    sql = DUCKDB.sql(compile_membership(project, names, "duckdb", as_of))
    with duckdb.connect(str(db)) as con:
        out = _best(con, sql, repeat)
        sizes = con.execute("SELECT segment, count(*) FROM bench_out GROUP BY segment ORDER BY segment").fetchall()
    out["members"] = {name: n for name, n in sizes}
    out["segments"] = len(names)
    return out


def overlaps_sql(run_sql: str) -> str:
    """The SELECT of the statement that fills segment_overlaps in a run's SQL."""
    found = re.search(r'insert into \S*segment_overlaps"? \([^)]*\)\s*(with sw_items.*?)(;|\Z)', run_sql, re.S)
    assert found is not None, "no overlaps statement in the run's SQL"
    return found.group(1)


def step_overlaps(db: Path, run_file: Path, repeat: int) -> dict[str, Any]:
    sql = overlaps_sql(run_file.read_text())
    with duckdb.connect(str(db)) as con:
        out = _best(con, sql, repeat)
        row = con.execute(
            "SELECT (SELECT count(*) FROM segment_membership), (SELECT count(*) FROM segment_group_membership),"
            " (SELECT count(DISTINCT segment) FROM segment_membership)"
        ).fetchone()
    assert row is not None
    out.update({"membership_rows": row[0], "label_rows": row[1], "segments": row[2]})
    return out


def step_backfill(db: Path, as_of: datetime, days: int, repeat: int, only: list[str] | None) -> dict[str, Any]:
    from segwise.backfill import backfill_sizes_sql, instants_between

    project = load_project(CONFIG)
    names = sorted(only or project.segments)
    instants = instants_between(as_of - timedelta(days=days - 1), as_of, timedelta(days=1))
    sql = DUCKDB.sql(backfill_sizes_sql(project, names, "duckdb", instants))
    with duckdb.connect(str(db)) as con:
        out = _best(con, sql, repeat)
        last = con.execute(
            "SELECT segment, members FROM bench_out WHERE instant = (SELECT max(instant) FROM bench_out)"
        ).fetchall()
    out.update({"instants": len(instants), "segments": len(names), "members_at_t": dict(last)})
    return out


SCALE_SEGMENTS = 200
SCALE_LABELS = ["s0", "s1", "s2", "s3", "other"]  # the group's priority list, then its fallback


def step_overlaps_scale(db: Path, project_dir: Path, users: int, repeat: int) -> dict[str, Any]:
    """Overlaps of 200 segments (and a 5-label group) over `users` users."""
    items: list[list[str | None]] = [[None, f"s{k}"] for k in range(SCALE_SEGMENTS)]
    items += [["tier", label] for label in SCALE_LABELS]
    args = f"{json.dumps(items)}, 'scale_membership', 'scale_labels', 'current_timestamp'"
    inline = f"{{{{ segwise.overlaps_query({args}) }}}}"
    compiled = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "compile", "--quiet", "--inline", inline.replace("null", "none"),
         "--profiles-dir", str(project_dir.resolve())],
        cwd=project_dir, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    sql = compiled[compiled.index("with sw_items") :]
    with duckdb.connect(str(db)) as con:
        # user u has hidden traits h_j = hash(u, j) % 25; segment s holds the users whose trait
        # s % 4 satisfies (7 h + s) % 25 == 0: about 8 segments per user, at most 25^4 sets
        con.execute(
            "CREATE OR REPLACE TABLE scale_membership AS SELECT 's' || s AS segment, 'u' || u AS user_id"
            f" FROM range({users}) t(u), range({SCALE_SEGMENTS}) r(s)"
            " WHERE (7 * (hash(u, s % 4) % 25) + s) % 25 = 0"
        )
        priority = " ".join(
            f"WHEN bool_or(segment = '{label}') THEN '{label}'" for label in SCALE_LABELS[:-1]
        )  # the first segment of the priority list the user is in, else the fallback
        con.execute(
            "CREATE OR REPLACE TABLE scale_labels AS SELECT 'tier' AS group_name, user_id,"
            f" CASE {priority} ELSE 'other' END AS segment FROM scale_membership GROUP BY user_id"
        )
        rows = con.execute("SELECT count(*), count(DISTINCT user_id) FROM scale_membership").fetchone()
        assert rows is not None
        out = _best(con, sql, repeat)
        sets = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT list_sort(list(segment)) FROM scale_membership GROUP BY user_id)"
        ).fetchone()
        assert sets is not None
        con.execute("DROP TABLE scale_membership")
        con.execute("DROP TABLE scale_labels")
    out.update({"membership_rows": rows[0], "users": rows[1], "segments": SCALE_SEGMENTS, "distinct_sets": sets[0]})
    return out


def step_per_segment(db: Path, as_of: datetime) -> dict[str, Any]:
    project = load_project(CONFIG)
    names = sorted(project.segments)
    queries = {name: DUCKDB.sql(compile_segment(project, name, "duckdb", as_of)) for name in names}
    each: dict[str, float] = {}
    cpu = 0.0
    members: dict[str, int] = {}
    with duckdb.connect(str(db)) as con:
        for name, sql in queries.items():
            each[name], used, members[name] = _run(con, sql)
            cpu += used
    slowest = sorted(each.items(), key=lambda kv: -kv[1])[:5]
    return {
        "seconds": sum(each.values()),
        "cpu_s": cpu,
        "segments": len(each),
        "each": {k: round(v, 3) for k, v in each.items()},
        "slowest": [[k, round(v, 3)] for k, v in slowest],
        "members": members,
    }


def step_verify(db: Path, as_of: datetime) -> dict[str, Any]:
    """Not a figure: the dbt-maintained `segment_membership` against a full evaluation at the
    same T, row for row (the incremental invariant, checked at benchmark scale)."""
    project = load_project(CONFIG)
    sql = DUCKDB.sql(compile_membership(project, sorted(project.segments), "duckdb", as_of))
    with duckdb.connect(str(db)) as con:
        seconds, cpu, rows = _run(con, sql)
        kept = "SELECT segment, user_id, variant FROM main.segment_membership"
        fresh = "SELECT segment, user_id, variant FROM bench_out"
        missing = con.execute(f"SELECT count(*) FROM ({fresh} EXCEPT ALL {kept})").fetchone()
        extra = con.execute(f"SELECT count(*) FROM ({kept} EXCEPT ALL {fresh})").fetchone()
    assert missing is not None and extra is not None
    return {"seconds": seconds, "cpu_s": cpu, "rows": rows, "missing": int(missing[0]), "extra": int(extra[0])}


def _vary(node: Any, k: int) -> Any:
    """A copy of a rule with every segment reference renamed to copy k and every numeric
    comparison bound moved by k (so the 20 copies are 20 different definitions)."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "in_segment":
                out[key] = f"{value}_v{k}"
            elif key in ("gt", "gte", "lt", "lte") and isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = value + k
            else:
                out[key] = _vary(value, k)
        return out
    if isinstance(node, list):
        return [_vary(item, k) for item in node]
    return node


def thousand_segments(root: Path, copies: int = 20) -> int:
    """Write a project of `copies` x the bench segments under `root`; the segment count."""
    yaml = YAML(typ="safe")
    shutil.copy(CONFIG, root / "segwise.yml")
    out_dir = root / "segments"
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted((BENCH / "segments").glob("*.yml")):
        doc = yaml.load(path.read_text())
        for k in range(copies):
            segments = []
            for seg in doc.get("segments", []):
                seg = copy.deepcopy(seg)
                seg["name"] = f"{seg['name']}_v{k}"
                seg["rule"] = _vary(seg["rule"], k)
                segments.append(seg)
            groups = [
                {**g, "name": f"{g['name']}_v{k}", "priority": [f"{p}_v{k}" for p in g["priority"]]}
                for g in doc.get("groups", [])
            ]
            count += len(segments)
            with (out_dir / f"{path.stem}_v{k}.yml").open("w") as f:
                yaml.dump({"segments": segments, "groups": groups}, f)
    return count


def step_compile(as_of: datetime) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="segwise-bench-") as tmp:
        root = Path(tmp)
        n = thousand_segments(root)
        cpu = _cpu()
        started = time.perf_counter()
        project = load_project(root / "segwise.yml")
        validated = time.perf_counter()
        sql = DUCKDB.sql(compile_membership(project, sorted(project.segments), "duckdb", as_of), copy=False)
        compiled = time.perf_counter()
        written = generate.plan(project, root)
        generate.apply(written)
        generated = time.perf_counter()
        return {
            "seconds": generated - started,
            "cpu_s": _cpu() - cpu,
            "segments": len(project.segments),
            "written_segments": n,
            "validate_s": validated - started,
            "compile_s": compiled - validated,
            "generate_s": generated - compiled,
            "sql_chars": len(sql),
            "files": len(written.write),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "step", choices=["scan", "full", "per_segment", "compile", "verify", "overlaps", "overlaps_scale", "backfill"]
    )
    parser.add_argument("--days", type=int, default=30, help="backfill: daily instants up to T")
    parser.add_argument("--segments", nargs="+", help="backfill: these segments (default: all)")
    parser.add_argument("--project", type=Path, help="overlaps_scale: a dbt project that installs segwise")
    parser.add_argument("--users", type=int, default=10_000_000, help="overlaps_scale: synthetic users")
    parser.add_argument("--run-sql", type=Path, help="overlaps: the SQL dbt ran for segment_membership")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--as-of", default="2025-06-01T00:00:00")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    as_of = datetime.fromisoformat(args.as_of)
    if args.step == "compile":
        result = step_compile(as_of)
    else:
        assert args.db is not None, "--db is required"
        if args.step == "scan":
            result = step_scan(args.db, as_of, args.repeat)
        elif args.step == "full":
            result = step_full(args.db, as_of, args.repeat)
        elif args.step == "verify":
            result = step_verify(args.db, as_of)
        elif args.step == "overlaps":
            result = step_overlaps(args.db, args.run_sql, args.repeat)
        elif args.step == "backfill":
            result = step_backfill(args.db, as_of, args.days, args.repeat, args.segments)
        elif args.step == "overlaps_scale":
            result = step_overlaps_scale(args.db, args.project, args.users, args.repeat)
        else:
            result = step_per_segment(args.db, as_of)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
