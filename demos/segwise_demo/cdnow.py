"""The real-data demo: CDNOW's purchase history in the demo's column layout.

    python -m segwise_demo.cdnow --out data/cdnow [--source PATH/CDNOW_master.txt]

CDNOW_master.txt (shipped by the `lifetimes` package, 0.11.3, in `lifetimes/datasets/`;
`pip install --no-deps lifetimes==0.11.3` is enough, this module only reads the file) holds
every purchase, January 1997 to June 1998, of the 23,570 customers who first bought at CDNOW
in the first quarter of 1997. Format: one header line, then one purchase per line,
whitespace-separated and CRLF-terminated:

     customer_id  date number_of_cds  dollar_value
     00001 19970101  1   11.77

Each purchase becomes an `order_completed` event at midnight UTC of its date, properties
`{"amount": 11.77, "quantity": 1}`, event id `cdnow-NNNNN` (the purchase's line number; a
customer can buy twice on one day), loaded_at = occurred_at. Each customer becomes a user
with signup_at = first purchase, updated_at = last purchase, lifetime_value = total spent,
and the other traits NULL.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from segwise_demo import tables
from segwise_demo.stream import Row
from segwise_demo.timeline import parse_instant
from segwise_demo.users import UserRow

FILE_NAME = "CDNOW_master.txt"
HEADER = ["customer_id", "date", "number_of_cds", "dollar_value"]
_AMOUNT = re.compile(r"\d+\.\d\d")


@dataclass(frozen=True, slots=True)
class Purchase:
    line: int
    customer: int
    day: int  # epoch seconds, midnight UTC
    quantity: int
    cents: int
    amount: str  # as written in the file, e.g. "11.77"


def find_source() -> Path | None:
    """CDNOW_master.txt inside the installed lifetimes package (found, not imported)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "datasets" / FILE_NAME
        if path.is_file():
            return path
    return None


def read_purchases(path: Path) -> list[Purchase]:
    lines = path.read_text(encoding="ascii").splitlines()
    if not lines or lines[0].split() != HEADER:
        raise ValueError(f"{path}: expected the header {' '.join(HEADER)!r}")
    purchases = []
    for number, line in enumerate(lines[1:], start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4 or not _AMOUNT.fullmatch(fields[3]) or len(fields[1]) != 8:
            raise ValueError(f"{path}:{number + 1}: cannot read {line!r}")
        customer, date, quantity, amount = fields
        day = parse_instant(f"{date[:4]}-{date[4:6]}-{date[6:]}")
        whole, cents = amount.split(".")
        purchases.append(Purchase(number, int(customer), day, int(quantity), int(whole) * 100 + int(cents), amount))
    return purchases


def to_rows(purchases: list[Purchase]) -> tuple[list[Row], list[UserRow]]:
    events: list[Row] = [
        (
            f"cdnow-{p.line:05d}",
            p.customer,
            "order_completed",
            p.day,
            p.day,
            f'{{"amount": {p.amount}, "quantity": {p.quantity}}}',
        )
        for p in purchases
    ]
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    spent: dict[int, int] = {}
    for p in purchases:
        first[p.customer] = min(first.get(p.customer, p.day), p.day)
        last[p.customer] = max(last.get(p.customer, p.day), p.day)
        spent[p.customer] = spent.get(p.customer, 0) + p.cents
    users: list[UserRow] = [
        (c, None, None, None, first[c], None, spent[c], None, None, None, last[c]) for c in sorted(first)
    ]
    return events, users


def convert(source: Path, out: Path) -> tuple[int, int]:
    """Write out/users.parquet and out/events/batch_0000.parquet; returns (purchases, customers)."""
    purchases = read_purchases(source)
    events, users = to_rows(purchases)
    metadata = {"generator": "segwise-demo/cdnow", "source": FILE_NAME, "batch": "0"}
    tables.write_users(users, out / "users.parquet", metadata)
    tables.write_events(events, out / "events" / "batch_0000.parquet", metadata)
    return len(events), len(users)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segwise_demo.cdnow", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/cdnow"))
    parser.add_argument("--source", type=Path, help=f"{FILE_NAME} (default: the one in the lifetimes package)")
    args = parser.parse_args(argv)
    source = args.source or find_source()
    if source is None:
        print(
            f"error: {FILE_NAME} not found; `pip install --no-deps lifetimes==0.11.3` or give --source",
            file=sys.stderr,
        )
        return 2
    try:
        purchases, customers = convert(source, args.out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{source}: {purchases:,} purchases of {customers:,} customers -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
