"""The request a batch becomes: the JSON body (schema `segwise.changes.v1`, docs/delivery.md)
and its headers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from segwise.deliver.changes import Change, batch_id
from segwise.deliver.signing import Secret, signature

SCHEMA = "segwise.changes.v1"


@dataclass(frozen=True)
class Batch:
    endpoint: str
    changes: tuple[Change, ...]

    @property
    def id(self) -> str:
        return batch_id(list(self.changes))

    @property
    def size(self) -> int:
        return len(self.changes)

    def document(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "endpoint": self.endpoint,
            "batch": {"id": self.id, "size": self.size},
            "changes": [change.as_json() for change in self.changes],
        }

    def body(self) -> bytes:
        """The exact bytes sent and signed: compact JSON, UTF-8."""
        return json.dumps(self.document(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def headers(batch: Batch, body: bytes, secret: Secret, timestamp: int) -> dict[str, str]:
    """The request headers; each attempt signs afresh with its own timestamp."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "segwise-deliver",
        "Idempotency-Key": batch.id,
        "Segwise-Timestamp": str(timestamp),
        "Segwise-Signature": signature(secret, timestamp, body),
    }
