"""The segwise benchmark: every figure of BENCHMARKS.md, measured in one run.

    python bench/run.py --events 1000000 3000000 10000000 [--out bench/results.json]

For each size (events), on one DuckDB file under bench/work/:

1. generate users and events (bench/generate.py);
2. scan         the physical limit (bench/steps.py scan), best of 3;
3. full         segwise's evaluation of all 50 segments, one query (compile_membership), best of 3;
4. per_segment  the 50 standalone queries (compile_segment), one after another, summed;
5. dbt_full     `dbt build --full-refresh` of a dbt project that installs segwise as a
                package, end to end; also the segment_membership model's own time;
6. append 1% new events in the next hour (and a few changed users), then
   incremental  `dbt build` at T + 1h: the segwise_membership materialization's
                incremental run (the model's time; and the whole `dbt build`);
7. append 0.1% in the next 5 minutes, then
   incremental_small  `dbt build` at T + 1h 5min;
8. add_segment  one segment more (bench_added_segment), `dbt build` at T + 1h 6min.
9. overlaps     the statement that fills segment_overlaps (every two segments or group
                labels), from that run's SQL, on the membership it left, best of 3.

After each dbt run, a check (not a figure): segment_membership equals a full evaluation at
that T, row for row. Once per run: compile, validate + compile + generate for 1,000 segments.

Each step runs in a process of its own; its peak memory is that process's ru_maxrss (from
wait4), so the DuckDB engine's memory is included and no step inherits another's. Ratios
compare steps of the same run, on the same data and the same (busy or idle) machine, and
are repeated in CPU seconds as a check. results.json, from the largest size:

    full_over_scan          full / scan
    per_segment_over_full   per_segment / full
    incremental_over_full   the incremental model / the full-refresh model (both through the
                            materialization); incremental_over_full_sql: over `full`
    incremental_small_over_full   the +0.1% / T + 5 min run / the full-refresh model
    add_segment_over_full   the run after adding one segment / the full-refresh model
    growth_10x              full at N / full at N/10
    overlaps_s              the overlaps statement; overlaps_over_full over the full-refresh model
    backfill_30_days_s      `segwise backfill` of the 50 segments at 30 daily instants, one query;
                            backfill_30_days_over_full over `full` (30 single evaluations: 30)
    backfill_new_segment_30_days_s  one windowed segment (power_viewers) at 30 instants;
                            backfill_new_segment_30_over_1 over the same at one instant
    overlaps_200_segments_s the overlaps of 200 segments and a 5-label group over 10M synthetic
                            users (--overlaps-users), about 8 segments each
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(BENCH))

from generate import AS_OF, append_hour, generate  # noqa: E402

console = Console(highlight=False, width=132)


@dataclass
class Measure:
    """One step: its own timing (seconds, and CPU seconds over every thread), the process's
    wall time and peak memory."""

    seconds: float
    cpu_s: float
    wall_s: float
    peak_mb: float
    detail: dict[str, Any] = field(default_factory=dict)


# A minimal process between the benchmark and each measured command. Linux carries a
# process's peak RSS across fork and exec into the child's ru_maxrss, so the command is
# spawned from this small launcher, not from the benchmark process itself, and reaped with
# wait4 for its own rusage.
LAUNCHER = (
    "import os, sys\n"
    "pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "cpu = usage.ru_utime + usage.ru_stime\n"
    "open(sys.argv[1], 'w').write(f'{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {cpu}')\n"
)


def _measured(argv: list[str], log: Path, cwd: Path | None = None) -> tuple[str, float, float, float]:
    """Run argv (output to `log`); (output, wall seconds, peak RSS in MB, CPU seconds) of
    that process."""
    log.parent.mkdir(parents=True, exist_ok=True)
    usage = log.with_suffix(".rusage")
    with log.open("w+") as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, str(usage), *argv], cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    code, maxrss_kb, cpu = usage.read_text().split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (exit {code}), see {log}:\n{text[-3000:]}")
    return text, wall, int(maxrss_kb) / 1024, float(cpu)


def step(name: str, log: Path, *args: str) -> Measure:
    text, wall, peak, _ = _measured([sys.executable, str(BENCH / "steps.py"), name, *args], log)
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    return Measure(float(result["seconds"]), float(result["cpu_s"]), wall, peak, result)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S")


def dbt_project(root: Path, db: Path) -> None:
    """A dbt project installing segwise as a package (its own models disabled), its profile
    on the bench database, and the bench segments' generated models."""
    from segwise.dbt import generate as generation
    from segwise.loading import load_project

    root.mkdir(parents=True, exist_ok=True)
    (root / "packages.yml").write_text(json.dumps({"packages": [{"local": str(REPO)}]}))
    (root / "dbt_project.yml").write_text(
        "name: segwise_bench\nversion: '1.0'\nconfig-version: 2\nprofile: segwise_bench\nmodel-paths: ['models']\n"
    )
    output = {"type": "duckdb", "path": str(db), "schema": "main", "threads": 1}
    (root / "profiles.yml").write_text(json.dumps({"segwise_bench": {"target": "bench", "outputs": {"bench": output}}}))
    project = load_project(BENCH / "segwise.yml")
    generation.apply(generation.plan(project, root))
    _measured([str(BIN / "dbt"), "deps", "--project-dir", str(root), "--profiles-dir", str(root)], root / "deps.log")


def dbt_build(root: Path, as_of: datetime, full_refresh: bool, log: Path) -> Measure:
    argv = [str(BIN / "dbt"), "build", "--project-dir", str(root), "--profiles-dir", str(root)]
    argv += ["--vars", json.dumps({"segwise_as_of": _iso(as_of)})]
    if full_refresh:
        argv.append("--full-refresh")
    _, wall, peak, cpu = _measured(argv, log, cwd=root)
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    nodes = {r["unique_id"]: r for r in results}
    failed = [uid for uid, r in nodes.items() if r["status"] not in ("success", "pass")]
    if failed:
        raise RuntimeError(f"dbt build: {failed} did not succeed, see {log}")
    model = nodes["model.segwise_bench.segment_membership"]
    tests = sum(r["execution_time"] for uid, r in nodes.items() if uid.startswith("test."))
    # CPU: the whole dbt process (parsing, every model and test), not the model alone.
    return Measure(float(model["execution_time"]), cpu, wall, peak, {"tests_s": tests, "nodes": len(nodes)})


ADDED_SEGMENT = {
    "name": "bench_added_segment",
    "description": "Added after the first runs: viewed a product 3+ times in the last 2 days",
    "rule": {"event": "product_viewed", "within": "2d", "count": {"gte": 3}},
}


def add_segment(root: Path) -> None:
    """Regenerate the bench project's models with one more segment (the bench's 50 plus one)."""
    from segwise.dbt import generate as generation
    from segwise.loading import load_project

    defs = root / "definitions"
    shutil.rmtree(defs, ignore_errors=True)
    shutil.copytree(BENCH / "segments", defs / "segments")
    shutil.copy(BENCH / "segwise.yml", defs / "segwise.yml")
    (defs / "segments" / "added.yml").write_text(json.dumps({"segments": [ADDED_SEGMENT]}))
    project = load_project(defs / "segwise.yml")
    generation.apply(generation.plan(project, root))


def _verify(db: Path, as_of: datetime, log: Path) -> int:
    """dbt's membership after a run, against a full evaluation at its T: the member rows."""
    m = step("verify", log, "--db", str(db), "--as-of", _iso(as_of))
    if m.detail["missing"] or m.detail["extra"]:
        raise RuntimeError(f"segment_membership differs from a full evaluation at {as_of}: {m.detail}")
    return int(m.detail["rows"])


def _runs(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT as_of, mode, reevaluated_users FROM segwise_runs ORDER BY as_of").fetchall()


def measure_size(events: int, work: Path, repeat: int, per_segment: bool) -> dict[str, Any]:
    here = work / f"events_{events}"
    if here.exists():
        shutil.rmtree(here)
    here.mkdir(parents=True)
    db = here / "bench.duckdb"
    started = time.perf_counter()
    shape = generate(db, events)
    generated = time.perf_counter() - started
    console.print(f"[bold]{events:,} events[/], {shape['users']:,} users: generated in {generated:.1f} s")
    steps: dict[str, Measure] = {}
    logs = here / "logs"
    as_of = ["--db", str(db), "--as-of", _iso(AS_OF)]
    steps["scan"] = step("scan", logs / "scan.log", *as_of, "--repeat", str(repeat))
    console.print(f"  scan         {steps['scan'].seconds:8.2f} s")
    steps["full"] = step("full", logs / "full.log", *as_of, "--repeat", str(repeat))
    console.print(f"  full         {steps['full'].seconds:8.2f} s")
    if per_segment:
        steps["per_segment"] = step("per_segment", logs / "per_segment.log", *as_of)
        console.print(f"  per_segment  {steps['per_segment'].seconds:8.2f} s")
    root = here / "project"
    dbt_project(root, db)
    steps["dbt_full"] = dbt_build(root, AS_OF, True, logs / "dbt_full.log")
    console.print(f"  dbt full     {steps['dbt_full'].wall_s:8.2f} s (model {steps['dbt_full'].seconds:.2f} s)")
    checks = {"full": _verify(db, AS_OF, logs / "verify_full.log")}
    t1 = append_hour(db)
    steps["incremental"] = dbt_build(root, t1, False, logs / "dbt_incremental.log")
    inc = steps["incremental"]
    console.print(f"  incremental  {inc.seconds:8.2f} s (dbt build {inc.wall_s:.2f} s)")
    checks["incremental"] = _verify(db, t1, logs / "verify_incremental.log")
    t2 = append_hour(db, fraction=0.001, as_of=t1, span=timedelta(minutes=5))
    steps["incremental_small"] = dbt_build(root, t2, False, logs / "dbt_incremental_small.log")
    small = steps["incremental_small"]
    console.print(f"  incr. small  {small.seconds:8.2f} s (dbt build {small.wall_s:.2f} s)")
    checks["incremental_small"] = _verify(db, t2, logs / "verify_incremental_small.log")
    t3 = t2 + timedelta(minutes=1)
    add_segment(root)
    steps["add_segment"] = dbt_build(root, t3, False, logs / "dbt_add_segment.log")
    added = steps["add_segment"]
    console.print(f"  add segment  {added.seconds:8.2f} s (dbt build {added.wall_s:.2f} s)")
    run_sql = next((root / "target" / "run").rglob("segment_membership.sql"))
    steps["overlaps"] = step("overlaps", logs / "overlaps.log", "--db", str(db), "--run-sql", str(run_sql),
                             "--repeat", str(repeat))  # fmt: skip
    console.print(f"  overlaps     {steps['overlaps'].seconds:8.2f} s ({steps['overlaps'].detail['rows']:,} pairs)")
    runs = _runs(db)
    modes = [r[1] for r in runs]
    assert modes[:3] == ["full", "incremental", "incremental"], f"unexpected run modes: {runs}"
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(DISTINCT user_id) FROM events),"
            " (SELECT count(*) FROM segment_membership)"
        ).fetchone()
    assert row is not None
    return {
        "events": events,
        "users": shape["users"],
        "users_with_events": int(row[1]),
        "members": int(row[2]),
        "generate_s": round(generated, 2),
        "reevaluated_users": {
            "full": int(runs[0][2]),
            "incremental": int(runs[1][2]),
            "incremental_small": int(runs[2][2]),
            "add_segment": int(runs[3][2]),
        },
        "add_segment_mode": modes[3],
        "membership_equals_full_evaluation": checks,
        "steps": {
            name: {
                "seconds": round(m.seconds, 3),
                "cpu_s": round(m.cpu_s, 2),
                "wall_s": round(m.wall_s, 3),
                "peak_mb": round(m.peak_mb, 1),
            }
            | {
                k: v
                for k, v in m.detail.items()
                if k in ("runs", "tests_s", "slowest", "rows", "membership_rows", "label_rows", "segments")
            }
            for name, m in steps.items()
        },
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "sqlglot": version("sqlglot"),
        "load_average_at_start": list(os.getloadavg()),
    }


TARGETS = {  # key: (bound, "max" or "min")
    "full_over_scan": (3.0, "max"),
    "per_segment_over_full": (10.0, "min"),
    "incremental_over_full": (0.1, "max"),
    "incremental_small_over_full": (0.03, "max"),
    "add_segment_over_full": (0.25, "max"),
    "compile_1000_s": (5.0, "max"),
    "growth_10x": (12.0, "max"),
}


def summary(sizes: list[dict[str, Any]], compile_step: Measure) -> dict[str, Any]:
    top = sizes[-1]
    s = top["steps"]
    full = s["full"]["seconds"]
    out: dict[str, Any] = {
        "events": top["events"],
        "scan_s": s["scan"]["seconds"],
        "per_segment_s": s.get("per_segment", {}).get("seconds"),
        "full_s": full,
        "incremental_s": s["incremental"]["seconds"],
        "compile_1000_s": round(compile_step.seconds, 3),
        "dbt_full_s": s["dbt_full"]["wall_s"],
        "dbt_full_model_s": s["dbt_full"]["seconds"],
        "incremental_dbt_build_s": s["incremental"]["wall_s"],
        "incremental_small_s": s["incremental_small"]["seconds"],
        "add_segment_s": s["add_segment"]["seconds"],
        "overlaps_s": s["overlaps"]["seconds"],
    }
    out["overlaps_over_full"] = round(out["overlaps_s"] / out["dbt_full_model_s"], 3)
    out["full_over_scan"] = round(full / out["scan_s"], 3)
    out["per_segment_over_full"] = round(out["per_segment_s"] / full, 2) if out["per_segment_s"] else None
    # Like for like: the materialization's incremental run over its full-refresh run.
    out["incremental_over_full"] = round(out["incremental_s"] / out["dbt_full_model_s"], 3)
    out["incremental_over_full_sql"] = round(out["incremental_s"] / full, 3)
    out["incremental_small_over_full"] = round(out["incremental_small_s"] / out["dbt_full_model_s"], 3)
    out["add_segment_over_full"] = round(out["add_segment_s"] / out["dbt_full_model_s"], 3)
    tenth = [z for z in sizes if z["events"] * 10 == top["events"]]
    out["growth_10x"] = round(full / tenth[0]["steps"]["full"]["seconds"], 2) if tenth else None
    # The same ratios in CPU seconds (every DuckDB thread): a check on the wall-clock ones,
    # less sensitive to whatever else the machine was doing at the time.
    cpu = {name: m["cpu_s"] for name, m in s.items()}
    out["cpu_ratios"] = {
        "full_over_scan": round(cpu["full"] / cpu["scan"], 3),
        "per_segment_over_full": round(cpu["per_segment"] / cpu["full"], 2) if "per_segment" in cpu else None,
        "growth_10x": round(cpu["full"] / tenth[0]["steps"]["full"]["cpu_s"], 2) if tenth else None,
    }
    out["peak_mb"] = {name: m["peak_mb"] for name, m in s.items()} | {"compile_1000": round(compile_step.peak_mb, 1)}
    out["targets"] = {
        key: {
            "value": out[key],
            "target": f"{'<=' if kind == 'max' else '>='} {bound:g}",
            "met": None if out[key] is None else (out[key] <= bound if kind == "max" else out[key] >= bound),
        }
        for key, (bound, kind) in TARGETS.items()
    }
    return out


def table(sizes: list[dict[str, Any]], compile_step: Measure, result: dict[str, Any]) -> None:
    t = Table(title="segwise benchmark: 50 segments on DuckDB (seconds; peak memory of the step's process)")
    t.add_column("events", justify="right")
    rows = [
        ("scan", "scan (physical limit)"),
        ("full", "full: all 50, one query"),
        ("per_segment", "per-segment: 50 queries"),
        ("dbt_full", "dbt build --full-refresh"),
        ("incremental", "incremental (+1%, T+1h)"),
        ("incremental_small", "incremental (+0.1%, T+5min)"),
        ("add_segment", "one segment added"),
        ("overlaps", "overlaps"),
    ]
    for _, label in rows:
        t.add_column(label, justify="right")
    for z in sizes:
        cells = [f"{z['events']:,}"]
        for key, _ in rows:
            m = z["steps"].get(key)
            if m is None:
                cells.append("-")
            elif key == "dbt_full":
                cells.append(f"{m['wall_s']:.2f} (model {m['seconds']:.2f})\n{m['peak_mb']:.0f} MB")
            elif key in ("incremental", "incremental_small", "add_segment"):
                cells.append(f"{m['seconds']:.2f} (build {m['wall_s']:.2f})\n{m['peak_mb']:.0f} MB")
            else:
                cells.append(f"{m['seconds']:.2f}\n{m['peak_mb']:.0f} MB")
        t.add_row(*cells)
    console.print(t)
    c = compile_step.detail
    console.print(
        f"compile, 1,000 segments: {compile_step.seconds:.2f} s (validate {c['validate_s']:.2f}, compile"
        f" {c['compile_s']:.2f}, generate {c['generate_s']:.2f}), {compile_step.peak_mb:.0f} MB"
    )
    r = Table(title=f"targets at {result['events']:,} events")
    for col in ("ratio", "value", "target", "met"):
        r.add_column(col)
    for key, target in result["targets"].items():
        met = target["met"]
        r.add_row(key, str(target["value"]), target["target"], "-" if met is None else ("yes" if met else "[red]NO[/]"))
    console.print(r)
    console.print(
        f"incremental over full: {result['incremental_over_full']} (model over model);"
        f" {result['incremental_over_full_sql']} over the direct full query"
    )
    console.print(f"the same ratios in CPU seconds: {result['cpu_ratios']}")
    scale = result["overlaps_200_segments"]
    console.print(
        f"overlaps after the last run: {result['overlaps_s']:.2f} s ({result['overlaps_over_full']} of a full run);"
        f" 200 segments over {scale['users']:,} users ({scale['membership_rows']:,} memberships,"
        f" {scale['distinct_sets']:,} distinct sets): {result['overlaps_200_segments_s']:.2f} s"
    )
    console.print(
        f"backfill of 50 segments at 30 daily instants: {result['backfill_30_days_s']:.2f} s,"
        f" {result['backfill_30_days_over_full']} single evaluations (one per instant: 30); one new windowed"
        f" segment at 30 instants: {result['backfill_new_segment_30_days_s']:.2f} s,"
        f" {result['backfill_new_segment_30_over_1']} times one instant"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    parser.add_argument("--work", type=Path, default=BENCH / "work")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for scan and full")
    parser.add_argument("--no-per-segment", action="store_true", help="skip the 50 standalone queries")
    parser.add_argument("--overlaps-users", type=int, default=10_000_000, help="users of the overlaps at scale")
    args = parser.parse_args()
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    started = time.perf_counter()
    info = machine()
    sizes = [measure_size(n, args.work, args.repeat, not args.no_per_segment) for n in sorted(args.events)]
    compile_step = step("compile", args.work / "compile.log", "--as-of", _iso(AS_OF))
    top = args.work / f"events_{max(args.events)}"
    extra = {
        "backfill_30_days": step("backfill", top / "logs" / "backfill.log", "--db", str(top / "bench.duckdb"),
                                 "--as-of", _iso(AS_OF), "--days", "30"),
        # a new segment's history: one windowed segment, which reads only its own events
        "backfill_new_segment_30_days": step("backfill", top / "logs" / "backfill_new_30.log", "--db",
                                             str(top / "bench.duckdb"), "--as-of", _iso(AS_OF), "--days", "30",
                                             "--segments", "power_viewers"),
        "backfill_new_segment_1_day": step("backfill", top / "logs" / "backfill_new_1.log", "--db",
                                           str(top / "bench.duckdb"), "--as-of", _iso(AS_OF), "--days", "1",
                                           "--segments", "power_viewers", "--repeat", "3"),
        "overlaps_scale": step("overlaps_scale", top / "logs" / "overlaps_scale.log", "--db", str(top / "bench.duckdb"),
                               "--project", str(top / "project"), "--users", str(args.overlaps_users)),
    }  # fmt: skip
    for name, m in extra.items():
        console.print(f"  {name:<17} {m.seconds:8.2f} s, {m.peak_mb:.0f} MB")
    result = summary(sizes, compile_step)
    sizes[-1]["steps"] |= {
        name: {"seconds": round(m.seconds, 3), "cpu_s": round(m.cpu_s, 2), "wall_s": round(m.wall_s, 3),
               "peak_mb": round(m.peak_mb, 1)}
        | {k: v for k, v in m.detail.items() if k in ("rows", "instants", "membership_rows", "users", "distinct_sets")}
        for name, m in extra.items()
    }  # fmt: skip
    result["backfill_30_days_s"] = round(extra["backfill_30_days"].seconds, 3)
    result["backfill_30_days_over_full"] = round(extra["backfill_30_days"].seconds / result["full_s"], 2)
    new_30, new_1 = extra["backfill_new_segment_30_days"].seconds, extra["backfill_new_segment_1_day"].seconds
    result["backfill_new_segment_30_days_s"] = round(new_30, 3)
    result["backfill_new_segment_30_over_1"] = round(new_30 / new_1, 2)
    result["overlaps_200_segments_s"] = round(extra["overlaps_scale"].seconds, 3)
    result["overlaps_200_segments"] = {
        k: extra["overlaps_scale"].detail[k] for k in ("users", "membership_rows", "distinct_sets", "rows")
    }
    table(sizes, compile_step, result)
    result |= {
        "segments": 50,
        "sizes": sizes,
        "compile_1000": {k: v for k, v in compile_step.detail.items() if k != "seconds"}
        | {"seconds": round(compile_step.seconds, 3), "peak_mb": round(compile_step.peak_mb, 1)},
        "machine": info,
        "command": os.environ.get("BENCH_COMMAND") or " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    console.print(f"wrote {args.out} ({result['elapsed_s']:.0f} s in all)")


if __name__ == "__main__":
    main()
