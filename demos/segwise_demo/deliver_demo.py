"""`segwise deliver` end to end, after `make demo`: the demo's segment changes sent to a local
webhook receiver (segwise_demo.receiver) that fails some requests on purpose, then checked.

    python -m segwise_demo.deliver_demo --project demos/ecommerce --database segwise.duckdb \\
        [--port 8765] [--flaky 0.2] [--deliveries PATH] [--out PATH]

It starts the receiver in a thread, resets the cursors of the file's endpoints (so the demo can
be run again), runs the real `segwise deliver` in the project directory with a random secret,
and checks that the changes the receiver stored are exactly those of segment_changes that each
endpoint asks for, each once. A second `segwise deliver` must then send nothing: the cursors
in segwise_deliveries are past every change. Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from ruamel.yaml import YAML

from segwise.config import Project
from segwise.deliver import Endpoint, load_deliveries
from segwise.errors import SegwiseError
from segwise.loading import load_project
from segwise_demo.receiver import Receiver

LOCAL_URL = re.compile(r"(http://(?:127\.0\.0\.1|localhost)):(\d+)(?=/)")
ChangeRow = tuple[str, str, str, str, str]  # id, segment, user_id, changed_at, change


@dataclass
class Run:
    returncode: int
    requests: int  # requests the receiver answered during this run
    stored: int  # changes the receiver stored (new ones) during this run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--project", type=Path, default=Path("demos/ecommerce"), help="the demo's dbt project")
    parser.add_argument("--database", type=Path, default=Path("segwise.duckdb"), help="built by `make demo`")
    parser.add_argument("--schema", default="main", help="the schema of the segwise tables")
    parser.add_argument("--deliveries", type=Path, help="the endpoints (default: PROJECT/deliveries.yml)")
    parser.add_argument("--port", type=int, default=8765, help="the receiver's port on 127.0.0.1; 0: any free one")
    parser.add_argument("--flaky", type=float, default=0.2, help="the share of requests the receiver fails on purpose")
    parser.add_argument("--seed", type=int, default=1, help="the receiver's random seed (which requests fail)")
    default_out = Path(os.environ.get("SEGWISE_DEMO_DATA", "data")) / "deliveries" / "received.jsonl"
    parser.add_argument("--out", type=Path, default=default_out, help="the receiver's store: a JSON line per change")
    args = parser.parse_args(argv)

    project_dir, database = args.project.resolve(), args.database.resolve()
    deliveries = (args.deliveries or project_dir / "deliveries.yml").resolve()
    if not database.is_file():
        parser.error(f"no database {database}: run `make demo` first")
    try:
        project = load_project(project_dir / "segwise.yml")
        endpoints = load_deliveries(deliveries, project).endpoints
    except SegwiseError as exc:
        print(exc, file=sys.stderr)
        return 2
    remote = [e.name for e in endpoints if not LOCAL_URL.match(e.url)]
    if remote:  # the demo's secret and its failures are for the local receiver only
        parser.error(
            f"{deliveries}: endpoints {', '.join(remote)} are not http://127.0.0.1:PORT/...; the demo "
            "sends only to its own receiver"
        )
    segwise = Path(sys.executable).parent / "segwise"  # the segwise of this python, as `make` runs it
    if not segwise.is_file():
        parser.error(f"no {segwise}: run this with the python of the virtualenv segwise is installed in")

    secret = secrets.token_hex(32)  # a fresh one per run; a real one lives in a secret store
    try:
        receiver = Receiver(secret, port=args.port, out=args.out.resolve(), flaky=args.flaky, seed=args.seed)
    except OSError as exc:
        print(
            f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}. Is another receiver (or an earlier "
            f"demo) still running? Pass --port with another port, or --port 0 for any free one.",
            file=sys.stderr,
        )
        return 2
    env = {**os.environ, "SEGWISE_DUCKDB_PATH": str(database), **{e.secret_env: secret for e in endpoints}}
    console = Console(soft_wrap=True)  # long lines stay whole; tables fit 80 columns

    names = [e.name for e in endpoints]
    with receiver, tempfile.TemporaryDirectory() as tmp:
        used = _pointed_at(deliveries, receiver.port, Path(tmp))
        try:
            _start_over(database, args.schema, names)
        except duckdb.Error as exc:  # DuckDB: one writer at a time (a build, a deliver, a CLI session)
            print(f"cannot reset the cursors in {database}: {exc}", file=sys.stderr)
            return 2
        _intro(console, receiver, deliveries, used, endpoints, args.flaky, args.seed)
        command = [str(segwise), "deliver", "--deliveries", _relative(used, project_dir)]
        first = _deliver(console, "first run", command, project_dir, env, receiver)
        _show_receiver(console, receiver, endpoints)
        _show_segments(console, receiver.stored, endpoints)
        _show_examples(receiver.stored)
        failed = sum(n for (_, outcome), n in receiver.stats.items() if outcome in ("throttled", "lost-answer"))
        print(
            f"first run: {first.stored:,} changes delivered; {first.requests} requests, {failed} failed on purpose, "
            f"{sum(receiver.repeats.values()):,} repeated changes dropped by id"
        )
        second = _deliver(console, "second run", command, project_dir, env, receiver)
        print(f"second run: {second.stored:,} changes delivered, {second.requests} requests")

    # The receiver's store against segment_changes, read after deliver finished.
    expected = _expected(database, args.schema, deliveries, project)
    cursors = _cursors(database, args.schema, names)
    stored: dict[str, set[ChangeRow]] = {name: set() for name in names}
    for change in receiver.stored:
        stored[change["endpoint"]].add(_row(change))
    checks: list[tuple[bool, str]] = [(first.returncode == 0, f"first run: segwise deliver exited {first.returncode}")]
    for endpoint in endpoints:
        (want, last), got = expected[endpoint.name], stored[endpoint.name]
        text = f"{endpoint.name}: stored {len(got):,} changes, segment_changes holds {len(want):,} ({_asks(endpoint)})"
        if got != want:
            text += f"; missing {len(want - got):,}, unexpected {len(got - want):,}"
        checks.append((got == want, text))
        cursor = cursors[endpoint.name]
        checks.append((cursor == last, f"{endpoint.name}: cursor in segwise_deliveries at its last change: {cursor}"))
    dead = _dead_letters(database, args.schema, names)
    checks.append((dead == 0, f"changes in segwise_delivery_dead_letters (all attempts failed): {dead}"))
    rejected = sum(n for (_, outcome), n in receiver.stats.items() if outcome.startswith("bad-"))
    checks.append((rejected == 0, f"requests rejected for a bad signature or document: {rejected}"))
    written = _written(receiver.out or args.out)
    twice = len(written) - len(set(written))
    checks.append((twice == 0 and len(written) == len(receiver.stored), f"changes stored twice: {twice}"))
    checks.append(
        (
            second.returncode == 0 and second.requests == 0,
            f"second run: {second.requests} requests, exit {second.returncode} (nothing new to send)",
        )
    )
    print("\nChecks (the receiver's changes against segment_changes, with SQL):")
    for ok, text in checks:
        print(f"  {'✓' if ok else '✗'} {text}")
    print(f"\nThe changes the receiver stored: {_relative(receiver.out or args.out, Path.cwd())} (one JSON line each)")
    print(
        "Again: make demo-deliver (it resets the endpoints' cursors first); more failures: "
        "make demo-deliver DELIVER_ARGS='--flaky 0.5'"
    )
    print(
        f"What would be sent, without sending: (cd {_relative(project_dir, Path.cwd())} && segwise deliver --dry-run)"
    )
    return 0 if all(ok for ok, _ in checks) else 1


def _pointed_at(deliveries: Path, port: int, tmp: Path) -> Path:
    """The deliveries file, or a copy in `tmp` whose local URLs use `port` (the receiver's)."""
    text = deliveries.read_text(encoding="utf-8")
    ports = {int(m.group(2)) for m in LOCAL_URL.finditer(text)}
    if ports <= {port}:
        return deliveries
    copy = tmp / deliveries.name
    copy.write_text(LOCAL_URL.sub(lambda m: f"{m.group(1)}:{port}", text), encoding="utf-8")
    return copy


def _start_over(database: Path, schema: str, endpoints: list[str]) -> None:
    """Reset the endpoints' cursors and drop their dead letters (docs/delivery.md, "Starting
    over"), so each run of the demo delivers the whole log again. No deliverer runs now."""
    con = duckdb.connect(str(database))
    try:
        tables = {
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
            ).fetchall()
        }
        if "segwise_deliveries" in tables:
            con.execute(
                f"UPDATE {schema}.segwise_deliveries SET last_changed_at = NULL, last_segment = NULL,"
                " last_user_id = NULL, last_change = NULL WHERE list_contains(?, endpoint)",
                [endpoints],
            )
        if "segwise_delivery_dead_letters" in tables:
            con.execute(
                f"DELETE FROM {schema}.segwise_delivery_dead_letters WHERE list_contains(?, endpoint)", [endpoints]
            )
    finally:
        con.close()


def _deliver(
    console: Console, label: str, command: list[str], cwd: Path, env: dict[str, str], receiver: Receiver
) -> Run:
    """The real command, as a user runs it; what it prints, indented."""
    before, stored = receiver.stats.total(), len(receiver.stored)
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    shown = escape(" ".join(["segwise", *command[1:]]))  # a path may hold [brackets]
    console.print(
        f"\n[bold]$ {shown}[/bold]  [dim]({label}, in {cwd.name}/, {seconds:.1f} s, exit {done.returncode})[/dim]"
    )
    for line in (done.stdout + done.stderr).splitlines():
        console.print("  " + line, markup=False, highlight=False)
    return Run(done.returncode, receiver.stats.total() - before, len(receiver.stored) - stored)


def _expected(database: Path, schema: str, deliveries: Path, project: Project) -> dict[str, tuple[set[ChangeRow], str]]:
    """What each endpoint should have stored, from segment_changes with plain SQL: the file's
    segments plus those with its tags, its changes, reason 'data' unless it includes definitions;
    and where its cursor should be: at the last of them in delivery order."""
    document: Any = YAML(typ="safe").load(deliveries.read_text(encoding="utf-8"))
    con = duckdb.connect(str(database), read_only=True)
    try:
        expected: dict[str, tuple[set[ChangeRow], str]] = {}
        for entry in document["endpoints"]:
            tags = set(entry.get("tags") or [])
            segments = set(entry.get("segments") or []) | {
                s.name for s in project.segments.values() if tags & set(s.tags)
            }
            reasons = ["data", "definition"] if entry.get("include_definition_changes") else ["data"]
            rows = con.execute(
                f"SELECT segment, user_id, changed_at, change FROM {schema}.segment_changes"
                " WHERE list_contains(?, segment) AND list_contains(?, change) AND list_contains(?, reason)",
                [sorted(segments), list(entry.get("changes") or ["entered", "exited"]), reasons],
            ).fetchall()
            last = max(((at, segment, user_id, change) for segment, user_id, at, change in rows), default=None)
            expected[entry["name"]] = (
                {_keyed(segment, user_id, _iso(at), change) for segment, user_id, at, change in rows},
                _cursor_text(last),
            )
    finally:
        con.close()
    return expected


def _iso(at: datetime) -> str:
    """changed_at as the payload writes it: UTC with Z, fractional seconds only when not zero."""
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{at.microsecond:06d}Z" if at.microsecond else text + "Z"


def _keyed(segment: str, user_id: str, changed_at: str, change: str) -> ChangeRow:
    """The row with its id computed as docs/delivery.md defines it, so a wrong id fails the check."""
    change_id = hashlib.sha256(f"{segment}|{user_id}|{changed_at}|{change}".encode()).hexdigest()
    return (change_id, segment, user_id, changed_at, change)


def _row(change: dict[str, Any]) -> ChangeRow:
    return (change["id"], change["segment"], change["user_id"], change["changed_at"], change["change"])


def _written(path: Path) -> list[tuple[str, str]]:
    """(endpoint, change id) of each line of the receiver's file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(change["endpoint"], change["id"]) for change in map(json.loads, lines)]


def _cursors(database: Path, schema: str, endpoints: list[str]) -> dict[str, str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            "SELECT endpoint, last_changed_at, last_segment, last_user_id, last_change"
            f" FROM {schema}.segwise_deliveries WHERE list_contains(?, endpoint)",
            [endpoints],
        ).fetchall()
    except duckdb.CatalogException:  # no run got as far as creating it
        rows = []
    finally:
        con.close()
    found = {name: _cursor_text(None if at is None else (at, *rest)) for name, at, *rest in rows}
    return {name: found.get(name, "none") for name in endpoints}


def _dead_letters(database: Path, schema: str, endpoints: list[str]) -> int:
    con = duckdb.connect(str(database), read_only=True)
    try:
        row = con.execute(
            f"SELECT count(*) FROM {schema}.segwise_delivery_dead_letters WHERE list_contains(?, endpoint)", [endpoints]
        ).fetchone()
    except duckdb.CatalogException:  # no run got as far as creating it
        row = (0,)
    finally:
        con.close()
    return int(row[0]) if row else 0


def _cursor_text(key: tuple[datetime, str, str, str] | None) -> str:
    """A cursor as `segwise deliver` prints it."""
    return "at the start of the log" if key is None else f"{_iso(key[0])} {key[1]} {key[2]} {key[3]}"


def _asks(endpoint: Endpoint) -> str:
    reason = "all reasons" if endpoint.include_definition_changes else "reason data"
    return f"{len(endpoint.segments)} segments, {' and '.join(endpoint.changes)}, {reason}"


def _relative(path: Path, to: Path) -> str:
    try:
        return str(path.relative_to(to))
    except ValueError:
        return str(path)


def _intro(
    console: Console,
    receiver: Receiver,
    deliveries: Path,
    used: Path,
    endpoints: Sequence[Endpoint],
    flaky: float,
    seed: int,
) -> None:
    console.print("[bold]segwise deliver → a local webhook receiver[/bold] (demos/segwise_demo/receiver.py)")
    failing = f"fails {flaky:.0%} of requests on purpose (429, or 503 after storing; seed {seed})" if flaky else ""
    console.print(
        f"  receiver:  {receiver.url('<endpoint>')}, checks signatures, drops repeats by change id; {failing}",
        markup=False,
        highlight=False,
    )
    variables = sorted({e.secret_env for e in endpoints})
    console.print(f"  secret:    a random one for this run, in ${', $'.join(variables)}", markup=False, highlight=False)
    copy = f" (a copy using port {receiver.port})" if used != deliveries else ""
    console.print(
        f"  endpoints: {_relative(deliveries, Path.cwd())}{copy}: {', '.join(e.name for e in endpoints)};"
        " cursors reset to the start of the log",
        markup=False,
        highlight=False,
    )


def _show_receiver(console: Console, receiver: Receiver, endpoints: Sequence[Endpoint]) -> None:
    table = Table(
        title="What the receiver answered",
        caption="200: a batch accepted; 429: slow down, before storing; 503: after storing, so the batch comes again",
    )
    table.add_column("endpoint", no_wrap=True)
    for name in ("requests", "429", "503", "200", "changes stored", "repeats dropped"):
        table.add_column(name, justify="right")
    for endpoint in endpoints:
        stats = {outcome: n for (name, outcome), n in receiver.stats.items() if name == endpoint.name}
        stored = sum(1 for change in receiver.stored if change["endpoint"] == endpoint.name)
        table.add_row(
            endpoint.name,
            f"{sum(stats.values()):,}",
            f"{stats.get('throttled', 0):,}",
            f"{stats.get('lost-answer', 0):,}",
            f"{stats.get('ok', 0):,}",
            f"{stored:,}",
            f"{receiver.repeats[endpoint.name]:,}",
        )
    console.print()
    console.print(table)


def _show_segments(console: Console, stored: list[dict[str, Any]], endpoints: Sequence[Endpoint]) -> None:
    """Per endpoint and segment, the entries and exits stored; blank where it did not ask for them."""
    counts = Counter((change["endpoint"], change["segment"], change["change"]) for change in stored)
    table = Table(title="Changes stored, per endpoint and segment")
    for name in ("endpoint", "segment", "entered", "exited"):
        table.add_column(name, justify="right" if name in ("entered", "exited") else "left")
    for endpoint in endpoints:
        for segment in sorted(endpoint.segments):
            cells = [
                f"{counts[endpoint.name, segment, c]:,}" if c in endpoint.changes else "" for c in ("entered", "exited")
            ]
            table.add_row(endpoint.name, segment, *cells)
    console.print(table)


def _show_examples(stored: list[dict[str, Any]]) -> None:
    """One entry and one exit, as they came in a payload's `changes`."""
    examples = [next((c for c in stored if c["change"] == kind), None) for kind in ("entered", "exited")]
    print("Two of the changes stored (as in a payload's `changes`, plus the endpoint they came to):")
    for change in examples:
        if change is not None:
            print("  " + json.dumps(change))


if __name__ == "__main__":
    raise SystemExit(main())
