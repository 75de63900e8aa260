"""Scalar building blocks of rules: value types, durations, instants, source locations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class ValueType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"


# A literal after validation: its Python type matches the ValueType it is compared with
# (str, float, bool, naive-UTC datetime). Numbers are floats: the warehouse compares doubles.
Value = str | float | bool | datetime


@dataclass(frozen=True)
class Location:
    """Where a node came from, for error messages and `explain`. Never part of equality."""

    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION_RE = re.compile(r"^(\d+)([smhdw])$")


@dataclass(frozen=True, order=True)
class Duration:
    """A fixed length of time. Kept in seconds: `48h` and `2d` are the same duration."""

    seconds: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = DURATION_RE.match(text)
        if match is None:
            raise ValueError(f"bad duration {text!r}: use an integer and a unit s, m, h, d or w (e.g. 90m, 48h, 30d)")
        return cls(int(match.group(1)) * UNIT_SECONDS[match.group(2)])

    def parts(self) -> tuple[int, str]:
        """The largest unit among s/m/h/d that divides evenly: (48, 'HOUR') for 48h."""
        for unit, size in (("DAY", 86400), ("HOUR", 3600), ("MINUTE", 60)):
            if self.seconds % size == 0 and self.seconds:
                return self.seconds // size, unit
        return self.seconds, "SECOND"

    def __str__(self) -> str:
        for suffix, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
            if self.seconds and self.seconds % size == 0:
                return f"{self.seconds // size}{suffix}"
        return f"{self.seconds}s"


ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$")


def parse_iso(text: str) -> datetime:
    """`2025-01-31` or `2025-01-31T08:00:00`, UTC, as a naive datetime."""
    if not ISO_RE.match(text):
        raise ValueError(f"bad timestamp {text!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)")
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"bad timestamp {text!r}: {exc}") from None


def format_iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def format_iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`: `2025-01-31T06:00:00Z`, microseconds only when there are
    some; a naive value is taken as UTC, an aware one converted."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = format_iso(value)
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"
