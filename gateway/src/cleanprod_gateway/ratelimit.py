"""Per-client token buckets (in-process; one gateway replica = one set of buckets).

Key: `azp:sub` of a verified token, or `ip:<address>` for requests without a valid token. Each bucket holds up
to `burst` tokens and refills at `rate` per second; a request takes one token or is refused with the number of
seconds until one is available (Retry-After). Idle buckets are dropped when the table grows past its bound
(an idle bucket is full again, so dropping it changes nothing)."""

from __future__ import annotations

import math
import time


class RateLimiter:
    __slots__ = ("rate", "burst", "max_clients", "_buckets")

    def __init__(self, rate: float, burst: int, max_clients: int = 100_000) -> None:
        self.rate = float(rate)
        self.burst = float(max(1, burst))
        self.max_clients = max_clients
        self._buckets: dict[str, list[float]] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> int:
        """0 if the request may go on, otherwise the whole seconds to wait (>= 1)."""
        if self.rate <= 0:
            return 0
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._prune(now)
            self._buckets[key] = [self.burst - 1.0, now]
            return 0
        tokens = bucket[0] + (now - bucket[1]) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0
        bucket[0] = tokens
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate
        idle = [k for k, (_, last) in self._buckets.items() if now - last >= full_after]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:  # still full of active clients: drop the oldest half
            for key in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
