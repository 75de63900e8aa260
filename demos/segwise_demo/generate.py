"""Command line: write the demo data set, or append the next load to it.

    python -m segwise_demo.generate --out data [--users 10000] [--seed 42] [--as-of 2025-06-01T00:00:00]
    python -m segwise_demo.generate --out data --append-hours 24

The first form writes `users.parquet` and `events/batch_0000.parquet` (and removes older
batches). The second adds `events/batch_NNNN.parquet` with the events loaded in the N hours
after the previous batch (new events, late arrivals of older ones, duplicate deliveries) and
rewrites `users.parquet` with that period's changes. Seed, user count and as-of of an
append come from the existing files' metadata.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from segwise_demo import tables
from segwise_demo.catalog import Mailings
from segwise_demo.personas import ghost_count, make_persona
from segwise_demo.stream import Row, Window, user_batch
from segwise_demo.timeline import DEFAULT_AS_OF, HOUR, Timeline, format_instant, parse_instant
from segwise_demo.users import UserRow, base_user, user_changes

GENERATOR = "segwise-demo/1"
DEFAULT_USERS = 10_000
DEFAULT_SEED = 42


@dataclass(frozen=True, slots=True)
class Params:
    users: int
    seed: int
    as_of: int

    def metadata(self) -> dict[str, str]:
        return {
            "generator": GENERATOR,
            "users": str(self.users),
            "seed": str(self.seed),
            "as_of": format_instant(self.as_of),
        }


def batch_path(out: Path, batch: int) -> Path:
    return out / "events" / f"batch_{batch:04d}.parquet"


def existing_batches(out: Path) -> list[Path]:
    return sorted((out / "events").glob("batch_[0-9][0-9][0-9][0-9].parquet"))


class Simulation:
    """Every user's events loaded in `window`, streamed (the rows are never all in memory).

    Iterating `rows()` also fills `users` (the base users rows) and `orders` (user id ->
    (cents, last loaded_at) of the orders first delivered in the window).
    """

    def __init__(self, params: Params, window: Window) -> None:
        self.params = params
        self.window = window
        self.users: list[UserRow] = []
        self.orders: dict[int, tuple[int, int]] = {}

    def rows(self) -> Iterator[Row]:
        params, timeline = self.params, Timeline(self.params.as_of)
        mailings = Mailings.between(timeline.start, self.window.until)
        for user_id in range(1, params.users + ghost_count(params.users) + 1):
            persona = make_persona(params.seed, user_id, timeline)
            batch = user_batch(params.seed, persona, mailings, self.window)
            yield from batch.rows
            if batch.last_order_loaded is not None:
                self.orders[user_id] = (batch.spend_cents, batch.last_order_loaded)
            if user_id <= params.users:
                row = base_user(params.seed, persona, timeline, batch.spend_cents, batch.last_order_loaded)
                self.users.append(row)


def generate(out: Path, params: Params) -> Path:
    """Write users.parquet and events/batch_0000.parquet; returns the batch path."""
    if params.users < 1:
        raise ValueError("--users must be at least 1")
    timeline = Timeline(params.as_of)
    window = Window(None, timeline.first_load)
    for stale in [*existing_batches(out), *(out / "events").glob("*.partial")]:
        stale.unlink()
    metadata = params.metadata() | {"batch": "0", "loaded_until": format_instant(window.until)}
    simulation = Simulation(params, window)
    target = batch_path(out, 0)
    tables.write_events(simulation.rows(), target, metadata)
    tables.write_users(simulation.users, out / "users.parquet", metadata)
    return target


def read_params(out: Path) -> tuple[Params, int, int]:
    """(params, number of the next batch, loaded_until of the latest batch) of an existing data set."""
    batches = existing_batches(out)
    if not batches or not (out / "users.parquet").exists():
        raise ValueError(f"{out}: no demo data to append to; run without --append-hours first")
    expected = [batch_path(out, i) for i in range(len(batches))]
    if batches != expected:
        raise ValueError(f"{out / 'events'}: batch files are not numbered 0000..{len(batches) - 1:04d}")
    meta = tables.read_metadata(batches[-1])
    if meta.get("generator") != GENERATOR:
        raise ValueError(f"{batches[-1]}: not written by {GENERATOR}")
    params = Params(users=int(meta["users"]), seed=int(meta["seed"]), as_of=parse_instant(meta["as_of"]))
    return params, len(batches), parse_instant(meta["loaded_until"])


def append(out: Path, hours: int) -> Path:
    """Add the next batch: everything loaded in the `hours` after the previous one."""
    if hours < 1:
        raise ValueError("--append-hours must be at least 1")
    params, batch, after = read_params(out)
    window = Window(after, after + hours * HOUR)
    metadata = params.metadata() | {
        "batch": str(batch),
        "loaded_after": format_instant(after),
        "loaded_until": format_instant(window.until),
    }
    simulation = Simulation(params, window)
    target = batch_path(out, batch)
    tables.write_events(simulation.rows(), target, metadata)
    state = tables.read_user_state(out / "users.parquet")
    changes = user_changes(params.seed, batch, state, simulation.orders, after, window.until)
    tables.rewrite_users(out / "users.parquet", changes, metadata)
    print(f"users changed: {len(changes)}")
    return target


def summary(out: Path, batch: Path, as_of: int) -> str:
    """Counts that show the data has the promised shape."""
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW u AS SELECT * FROM read_parquet({tables.quote(str(out / 'users.parquet'))})")
        con.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet({tables.quote(str(batch))})")
        earlier = [str(path) for path in existing_batches(out) if path != batch]
        con.execute(
            "CREATE VIEW earlier AS SELECT event_id FROM "
            + (f"read_parquet([{', '.join(map(tables.quote, earlier))}])" if earlier else "e WHERE false")
        )
        row = con.execute(
            """
            SELECT count(*), count(DISTINCT event_id),
                   count(*) FILTER (WHERE loaded_at > occurred_at + INTERVAL 1 HOUR),
                   count(*) FILTER (WHERE occurred_at > make_timestamp(CAST(? AS BIGINT) * 1000000)),
                   count(*) FILTER (WHERE user_id NOT IN (SELECT user_id FROM u)),
                   count(*) FILTER (WHERE event_id IN (SELECT event_id FROM earlier)),
                   count(DISTINCT user_id), min(occurred_at), max(occurred_at), min(loaded_at), max(loaded_at)
            FROM e
            """,
            [as_of],
        ).fetchone()
        users = con.execute("SELECT count(*) FROM u").fetchone()
    assert row is not None and users is not None
    rows, ids, late, after, unknown, again, people, first, last, first_load, last_load = row
    return "\n".join(
        [
            f"{out / 'users.parquet'}: {users[0]:,} users",
            f"{batch}: {rows:,} rows, {ids:,} distinct event ids ({rows - ids:,} duplicate deliveries), "
            f"{people:,} users; re-deliveries of events in earlier batches: {again:,}",
            f"  late arrivals (loaded > 1 h after occurring): {late:,}; after as-of: {after:,}; "
            f"user not in users.parquet: {unknown:,}",
            f"  occurred {first} .. {last}; loaded {first_load} .. {last_load}",
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m segwise_demo.generate",
        description="Write the segwise demo data (users.parquet, events/batch_NNNN.parquet), deterministically.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory, e.g. data")
    parser.add_argument("--users", type=int, help=f"users in users.parquet (default {DEFAULT_USERS:,})")
    parser.add_argument("--seed", type=int, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--as-of", help=f"evaluation instant T the data ends around, UTC (default {DEFAULT_AS_OF})")
    parser.add_argument(
        "--append-hours",
        type=int,
        metavar="N",
        help="append the next batch: the N hours of loads after the latest one (seed etc. from the existing files)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        if args.append_hours is not None:
            recorded, _, _ = read_params(args.out)
            given = {"--users": (args.users, recorded.users), "--seed": (args.seed, recorded.seed)}
            if args.as_of is not None:
                given["--as-of"] = (parse_instant(args.as_of), recorded.as_of)
            for flag, (value, kept) in given.items():
                if value is not None and value != kept:
                    raise ValueError(f"{flag} differs from the existing data set's ({kept}); appending keeps it")
            target = append(args.out, args.append_hours)
            as_of = recorded.as_of
        else:
            params = Params(
                users=DEFAULT_USERS if args.users is None else args.users,
                seed=DEFAULT_SEED if args.seed is None else args.seed,
                as_of=parse_instant(args.as_of or DEFAULT_AS_OF),
            )
            target = generate(args.out, params)
            as_of = params.as_of
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(args.out, target, as_of))
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
