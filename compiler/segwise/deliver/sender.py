"""POSTing one batch to one endpoint, with retries.

httpx sends (certificates always verified, redirects never followed: a signed POST goes to the
configured URL or nowhere); tenacity retries:

- connection errors, timeouts, HTTP 5xx, 408 and 429 are retried, up to `max_attempts`
  attempts in all, after an exponential backoff with full jitter (a random wait between 0 and
  base * 2^(attempt-1) seconds, at most `backoff_max`);
- a 429 or 503 with Retry-After (seconds, or an HTTP date) waits that long instead (at most
  `retry_after_cap`);
- any other 4xx (and a 3xx) is not retried: the request itself is wrong (a bad secret, a
  moved URL), and the endpoint stops for this run with its cursor where it was.

Every attempt is signed with its own timestamp, after the lease is renewed and a token is
taken from the endpoint's rate limiter.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential
from tenacity.wait import wait_base

from segwise.deliver.config import Endpoint
from segwise.deliver.errors import DeliveryError
from segwise.deliver.payload import Batch, headers
from segwise.deliver.ratelimit import TokenBucket
from segwise.deliver.signing import Secret

log = logging.getLogger("segwise.deliver")

RETRIED_STATUSES = frozenset({408, 429})  # and every 5xx
RETRY_AFTER_STATUSES = frozenset({429, 503})
ERROR_TEXT = 200  # characters of a response body kept in an error message


@dataclass(frozen=True)
class Backoff:
    base: float = 0.5  # seconds: the first retry waits up to base, the n-th up to base * 2^(n-1)
    max: float = 60.0  # seconds: the longest jittered wait
    retry_after_cap: float = 300.0  # seconds: the longest Retry-After honoured


class Retryable(Exception):
    """One failed attempt that another attempt may fix."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(DeliveryError):
    """The endpoint refused the request in a way retrying cannot fix (4xx, 3xx)."""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    attempts: int
    last_error: str | None = None


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from `now` (unix seconds): `120` or `Wed, 21 Oct 2015 07:28:00 GMT`."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class _Wait(wait_base):
    """Full jitter, unless the endpoint said how long to wait."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.jitter = wait_random_exponential(multiplier=backoff.base, max=backoff.max)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, Retryable) and error.retry_after is not None:
            return min(error.retry_after, self.backoff.retry_after_cap)
        return float(self.jitter(retry_state))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT else text[: ERROR_TEXT - 1] + "…"


class Sender:
    def __init__(
        self,
        endpoint: Endpoint,
        secret: Secret,
        client: httpx.Client,
        *,
        backoff: Backoff,
        renew: Callable[[], None],
        renew_every: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint, self.secret, self.client = endpoint, secret, client
        self.backoff, self.renew, self.clock, self.sleep = backoff, renew, clock, sleep
        self.renew_every = renew_every
        self.bucket = TokenBucket(endpoint.rate_limit, sleep=sleep)

    def send(self, batch: Batch) -> SendResult:
        """Deliver `batch`: ok after a 2xx; not ok after `max_attempts` retryable failures.
        Raises Rejected (not retryable) and LeaseLost (from `renew`)."""
        body = batch.body()
        retrying = Retrying(
            stop=stop_after_attempt(self.endpoint.max_attempts),
            wait=_Wait(self.backoff),
            retry=retry_if_exception_type(Retryable),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    self._attempt(batch, body)
        except Retryable as exc:
            return SendResult(False, attempts, str(exc))
        return SendResult(True, attempts)

    def _attempt(self, batch: Batch, body: bytes) -> None:
        self.renew()
        self.bucket.acquire()
        timestamp = int(self.clock())
        request_headers = headers(batch, body, self.secret, timestamp)
        try:
            response = self.client.post(
                self.endpoint.url, content=body, headers=request_headers, timeout=self.endpoint.timeout
            )
        except httpx.TimeoutException as exc:
            raise Retryable(f"timed out after {self.endpoint.timeout:g} s ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Retryable(f"{type(exc).__name__}: {_short(str(exc)) or 'connection failed'}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        text = f"HTTP {status} {response.reason_phrase}".rstrip()
        detail = _short(response.text) if response.content else ""
        message = f"{text}: {detail}" if detail else text
        if status >= 500 or status in RETRIED_STATUSES:
            wait = None
            if status in RETRY_AFTER_STATUSES:
                wait = retry_after_seconds(response.headers.get("Retry-After"), self.clock())
            raise Retryable(message, wait)
        if 300 <= status < 400:
            where = response.headers.get("Location", "")
            raise Rejected(
                f"endpoint {self.endpoint.name!r} answered {text} (to {_short(where.split('?')[0])}): "
                "signed requests are not redirected; configure the final url"
            )
        raise Rejected(
            f"endpoint {self.endpoint.name!r} rejected batch {batch.id[:12]} with {message}: not retried; "
            "the cursor stays, so the batch is sent again by the next run once the endpoint accepts it"
        )

    def _sleep(self, seconds: float) -> None:
        """Sleep, renewing the lease every `renew_every` seconds so a long Retry-After does not lose it."""
        while seconds > 0:
            step = min(seconds, self.renew_every)
            self.sleep(step)
            seconds -= step
            if seconds > 0:
                self.renew()

    def _before_sleep(self, state: RetryCallState) -> None:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.info(
            "%s: attempt %d of %d failed (%s); retrying in %.2f s",
            self.endpoint.name,
            state.attempt_number,
            self.endpoint.max_attempts,
            error,
            wait,
        )
