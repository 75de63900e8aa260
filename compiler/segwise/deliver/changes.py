"""One row of `segment_changes` as delivery sees it, and the identifiers derived from it.

The delivery order is the key (changed_at, segment, user_id, change), unique in the change log;
a cursor is the key of the last change an endpoint acknowledged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from segwise.rules.values import format_iso_z as iso_z

ChangeKey = tuple[datetime, str, str, str]  # changed_at (naive UTC), segment, user_id, change


def utc_naive(value: datetime) -> datetime:
    """An instant as naive UTC (the warehouse's TIMESTAMP); aware values are converted."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def change_id(segment: str, user_id: str, changed_at: datetime, change: str) -> str:
    """The idempotency key of one change: sha256 hex of `segment|user_id|changed_at ISO|change`."""
    text = f"{segment}|{user_id}|{iso_z(changed_at)}|{change}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Change:
    segment: str
    user_id: str
    changed_at: datetime  # naive UTC
    change: str  # entered | exited
    reason: str  # data | definition

    @property
    def key(self) -> ChangeKey:
        return (self.changed_at, self.segment, self.user_id, self.change)

    @property
    def id(self) -> str:
        return change_id(self.segment, self.user_id, self.changed_at, self.change)

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "segment": self.segment,
            "user_id": self.user_id,
            "change": self.change,
            "changed_at": iso_z(self.changed_at),
            "reason": self.reason,
        }


def batch_id(changes: list[Change]) -> str:
    """A batch's id (its Idempotency-Key): sha256 hex of the first and the last change id,
    joined by '|'. The same cursor and configuration form the same batch again, so a batch
    sent again after a crash carries the id it had."""
    if not changes:
        raise ValueError("an empty batch has no id")
    return hashlib.sha256(f"{changes[0].id}|{changes[-1].id}".encode()).hexdigest()
