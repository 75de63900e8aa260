"""A token bucket per endpoint: at most `rate` requests a second on average, with bursts of
up to `rate` requests (at least one)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.monotonic, self.sleep = monotonic, sleep
        self.updated = monotonic()

    def _refill(self) -> None:
        now = self.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def acquire(self) -> float:
        """Take one token, sleeping until there is one; the seconds slept."""
        slept = 0.0
        self._refill()
        while self.tokens < 1.0:
            wait = (1.0 - self.tokens) / self.rate
            self.sleep(wait)
            slept += wait
            self._refill()
        self.tokens -= 1.0
        return slept
