"""Per-client rate limits: `burst` requests at once, `rate` per second on average.

Key: `azp:sub` of a verified token, or `ip:<address>` for requests without a valid token. `acquire(key)` answers 0
(go on) or the whole seconds to wait (>= 1, the 429's Retry-After). Two backends (docs/gateway.md "Rate limits"):

- `RateLimiter` — a token bucket in this process (no `GATEWAY_RATE_LIMIT_REDIS_URL`: one gateway process). Each
  bucket holds up to `burst` tokens and refills at `rate` per second. Idle buckets are dropped when the table grows
  past its bound (an idle bucket is full again, so dropping it changes nothing).
- `SharedRateLimiter` — counters in Redis shared by every gateway replica, through the `limits` library's
  sliding-window counter (one atomic Lua script per request, Redis's own clock): `burst` requests per window of
  `burst / rate` seconds, so the same largest burst and the same average rate as the bucket. While Redis cannot be
  reached it falls back to this process's token bucket (fail-open to per-process limits, never unlimited) and
  says so in the log once per outage.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Protocol

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from .settings import GatewaySettings

log = logging.getLogger("cleanprod.gateway.ratelimit")


class Limiter(Protocol):
    async def acquire(self, key: str) -> int: ...

    async def close(self) -> None: ...


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

    async def acquire(self, key: str) -> int:
        return self.take(key)

    async def close(self) -> None:
        pass

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


def shared_window(rate: float, burst: int) -> tuple[int, int]:
    """(amount, seconds) of the sliding window equivalent to a bucket of `burst` refilled at `rate`/s: a window of
    burst/rate seconds (whole seconds, at least 1) holding rate x window requests."""
    seconds = max(1, round(max(1, burst) / rate))
    return max(1, round(rate * seconds)), seconds


class SharedRateLimiter:
    """The limit counted in Redis for every gateway replica together (module docstring)."""

    def __init__(
        self,
        url: str,
        rate: float,
        burst: int,
        *,
        fallback: RateLimiter,
        key_prefix: str = "cleanprod:ratelimit",
        timeout_seconds: float = 0.25,
        retry_seconds: float = 5.0,
    ) -> None:
        self.rate = float(rate)
        amount, seconds = shared_window(rate, burst) if rate > 0 else (1, 1)
        self.item = RateLimitItemPerSecond(amount, seconds)
        self.fallback = fallback
        self.retry_seconds = retry_seconds
        self._pool = ConnectionPool.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        storage = RedisStorage(
            "async+" + url,
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix=key_prefix,
            connection_pool=self._pool,
        )
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._down_until = 0.0  # while Redis is known to be down: the fallback, without waiting for a timeout
        self._outage = False

    async def acquire(self, key: str) -> int:
        if self.rate <= 0:
            return 0
        if self._down_until and time.monotonic() < self._down_until:
            return self.fallback.take(key)
        try:
            if await self._strategy.hit(self.item, key):
                wait = 0
            else:
                stats = await self._strategy.get_window_stats(self.item, key)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
        except (StorageError, RedisError, OSError, TimeoutError) as exc:
            return self._unreachable(exc, key)
        if self._outage:
            self._outage, self._down_until = False, 0.0
            log.warning("rate limits: Redis answers again; limits are shared by the gateways again")
        return wait

    def _unreachable(self, exc: Exception, key: str) -> int:
        self._down_until = time.monotonic() + self.retry_seconds
        if not self._outage:
            self._outage = True
            log.warning(
                "rate limits: Redis cannot be reached (%s); each gateway process limits on its own until it answers "
                "(retried every %g s)",
                exc.__class__.__name__,
                self.retry_seconds,
            )
        return self.fallback.take(key)

    async def close(self) -> None:
        await self._pool.disconnect()


def rate_limiter(settings: GatewaySettings) -> Limiter:
    """Shared in Redis when `GATEWAY_RATE_LIMIT_REDIS_URL` is set, else this process's token buckets."""
    local = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst, settings.rate_limit_max_clients)
    if not settings.rate_limit_redis_url:
        return local
    return SharedRateLimiter(
        settings.rate_limit_redis_url,
        settings.rate_limit_per_second,
        settings.rate_limit_burst,
        fallback=local,
        key_prefix=settings.rate_limit_key_prefix,
        timeout_seconds=settings.rate_limit_redis_timeout_seconds,
        retry_seconds=settings.rate_limit_redis_retry_seconds,
    )
