"""Time for the demo data: UTC instants as integer epoch seconds.

Integers keep the generator exact and fast; DuckDB turns them into TIMESTAMP when the
Parquet files are written. Every instant is a whole second, so two events of one visit never
share a timestamp (sequences need strictly later steps).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

MINUTE = 60
HOUR = 3600
DAY = 86_400
WEEK = 7 * DAY

DEFAULT_AS_OF = "2025-06-01T00:00:00"
SPAN_DAYS = 426  # about 14 months of history before as-of
FIRST_LOAD_AFTER_AS_OF = 6 * HOUR  # the first load also holds a few events after as-of


def parse_instant(text: str) -> int:
    """ISO date or date-time (UTC, or with an explicit offset) -> epoch seconds."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if value.microsecond:
        raise ValueError(f"{text!r}: give whole seconds")
    return calendar.timegm(value.timetuple())


def format_instant(epoch: int) -> str:
    """Epoch seconds -> `YYYY-MM-DDTHH:MM:SS` (UTC)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class Timeline:
    """The evaluation instant T the demo is built around, and what follows from it.

    History starts SPAN_DAYS before T. The first load (batch 0) holds every event loaded by
    T + 6 h, so a few events lie after T; each later batch covers the next N hours of loads.
    """

    as_of: int

    @property
    def start(self) -> int:
        return self.as_of - SPAN_DAYS * DAY

    @property
    def first_load(self) -> int:
        return self.as_of + FIRST_LOAD_AFTER_AS_OF
