"""Signing a request body, and checking a signature on the receiving side.

    Segwise-Timestamp: 1738303200
    Segwise-Signature: v1=<hex HMAC-SHA256(secret, "1738303200." + body)>

The secret is held in a `Secret`, whose repr and str never show it, so it cannot reach a log
line, an exception or a traceback's locals through formatting.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds: receivers reject older (and later) timestamps


class Secret:
    """A signing secret. `reveal()` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes) -> None:
        self._value = value.encode("utf-8") if isinstance(value, str) else bytes(value)

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:  # never pickled into a multiprocessing queue or a cache
        raise TypeError("a Secret cannot be pickled")


def _key(secret: Secret | str | bytes) -> bytes:
    if isinstance(secret, Secret):
        return secret.reveal()
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def signature(secret: Secret | str | bytes, timestamp: int | str, body: bytes | str) -> str:
    """The Segwise-Signature header value: `v1=` + hex HMAC-SHA256(secret, f"{timestamp}.{body}")."""
    message = str(timestamp).encode("ascii") + b"." + _as_bytes(body)
    return f"{SCHEME}=" + hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: Secret | str | bytes,
    timestamp: int | str | None,
    body: bytes | str,
    header: str | None,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """True when `header` (Segwise-Signature) signs `body` with `timestamp` (Segwise-Timestamp)
    under `secret`, and the timestamp is within `tolerance` seconds of `now` (unix seconds):
    older requests may be replays, and a receiver should answer them 4xx.

    `header` may hold several comma-separated signatures (`v1=...,v1=...`); one match suffices.
    Comparison is in constant time."""
    if header is None or timestamp is None:
        return False
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    expected = signature(secret, sent_at, body)
    return any(hmac.compare_digest(expected.encode(), part.strip().encode()) for part in header.split(","))
