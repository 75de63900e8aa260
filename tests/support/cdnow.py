"""The CDNOW sample of Fader, Hardie and Lee (2005), read from the lifetimes wheel by path: 2,357
customers who first bought in the first quarter of 1997, their purchases through June 1998."""

from __future__ import annotations

import functools
import importlib.util
from datetime import date, datetime
from pathlib import Path

import pytest

WEEK = 7

History = tuple[int, float, float]  # x, t_x, T in weeks


def datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lifetimes (the `demo` extra) is not installed: it ships the CDNOW sample")
    return Path(spec.submodule_search_locations[0]) / "datasets"


@functools.cache
def _read() -> tuple[tuple[str, datetime], ...]:
    rows = []
    for line in (datasets() / "CDNOW_sample.txt").read_text().splitlines():
        _full_id, customer, day, cds, dollars = line.split()
        assert int(cds) >= 0 and float(dollars) >= 0
        rows.append((customer, datetime.strptime(day, "%Y%m%d")))
    return tuple(rows)


def cdnow_purchases() -> list[tuple[str, datetime]]:
    """(customer, purchase datetime) per line of CDNOW_sample.txt: whitespace-separated customer id
    in the full data set, customer id in the sample (1..2357), date YYYYMMDD, CDs, dollars."""
    return list(_read())


def cdnow_histories(purchases: list[tuple[str, datetime]], end: date) -> dict[str, History]:
    """Each customer's (x, t_x, T) in weeks, in plain Python: calendar days with a purchase up to
    `end`; T counts the days from the first purchase to `end` itself."""
    days: dict[str, set[date]] = {}
    for customer, when in purchases:
        if when.date() <= end:
            days.setdefault(customer, set()).add(when.date())
    return {c: (len(d) - 1, (max(d) - min(d)).days / WEEK, (end - min(d)).days / WEEK) for c, d in sorted(days.items())}
