"""Rate limits shared by several gateways through a real Redis (Debian's redis-server, infra/redis_server.py): two
gateways together allow the configured per-client rate, not twice it; when Redis is down each gateway still limits
on its own (fail-open to per-process limits) and goes back to the shared counters when Redis answers again."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio
from gateway_helpers import RunningGateway, bearer, serve_gateway
from pydantic import ValidationError

from cleanprod_gateway.ratelimit import RateLimiter, SharedRateLimiter, shared_window
from cleanprod_kit.testing.issuer import TestIssuer
from infra.ports import free_port
from infra.redis_server import RedisServer, redis_available

RATE = 20.0  # per second, per client
BURST = 20


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not redis_available():
        pytest.fail(
            "these tests need Debian's redis-server: apt-get install -y redis-server (./cleanprod does as root)"
        )
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


def test_the_window_keeps_the_buckets_burst_and_average_rate() -> None:
    assert shared_window(50, 100) == (100, 2)  # the defaults: 100 requests per 2 s
    assert shared_window(1000, 1000) == (1000, 1)
    assert shared_window(0.5, 1) == (1, 2)
    amount, seconds = shared_window(7.5, 100)
    assert abs(amount / seconds - 7.5) < 0.1


def test_the_redis_url_is_checked_when_the_settings_are_read(make_settings) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError, match="GATEWAY_RATE_LIMIT_REDIS_URL"):
        make_settings(rate_limit_redis_url="http://127.0.0.1:6379")
    assert (
        make_settings(rate_limit_redis_url=" redis://10.0.0.5:6379/2 ").rate_limit_redis_url
        == "redis://10.0.0.5:6379/2"
    )
    assert make_settings().rate_limit_redis_url == ""


async def hammer(gateways: list[RunningGateway], headers: dict[str, str], seconds: float) -> list[tuple[float, int]]:
    """Requests as fast as four workers can send them, alternating between the gateways: (time, status) each."""
    results: list[tuple[float, int]] = []
    started = time.monotonic()

    async def worker(n: int) -> None:
        i = n
        while time.monotonic() - started < seconds:
            gateway = gateways[i % len(gateways)]
            i += 1
            response = await gateway.client.get("/api/v1/sectors", headers=headers)
            results.append((time.monotonic() - started, response.status_code))

    await asyncio.gather(*(worker(n) for n in range(4)))
    return results


def steady_rate(results: list[tuple[float, int]], start: float, end: float) -> float:
    """Requests let through per second between `start` and `end` (after the first burst)."""
    passed = sum(1 for at, status in results if start <= at < end and status == 200)
    return passed / (end - start)


async def test_two_gateways_sharing_redis_allow_the_configured_rate(
    make_settings, issuer: TestIssuer, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:  # noqa: ANN001
    settings = make_settings(
        rate_limit_per_second=RATE,
        rate_limit_burst=BURST,
        rate_limit_redis_url=redis_server.url,
        rate_limit_key_prefix=f"test-{uuid.uuid4().hex}",
        # This test is about sharing, not about a slow Redis: on a loaded machine (a whole suite on 2 cores) an
        # answer can take longer than the default 0.25 s, and each gateway would then rightly limit on its own.
        rate_limit_redis_timeout_seconds=5.0,
    )
    caplog.set_level(logging.WARNING, logger="cleanprod.gateway.ratelimit")
    async with serve_gateway(settings) as one, serve_gateway(settings) as two:
        assert isinstance(one.gateway.limiter, SharedRateLimiter)
        results = await hammer([one, two], bearer(issuer.token("officer", sub="shared-alice")), 5.0)
    assert not caplog.records, "a gateway fell back to limiting on its own: " + caplog.text
    statuses = {status for _, status in results}
    assert statuses == {200, 429}, statuses
    offered = len(results) / 5.0
    assert offered > 3 * RATE, f"only {offered:.0f} requests/s offered: the test cannot show a limit"
    rate = steady_rate(results, 1.0, 5.0)
    assert abs(rate - RATE) <= 0.1 * RATE, f"two gateways let {rate:.1f}/s through, configured {RATE}/s"


async def test_without_redis_each_gateway_allows_the_rate_on_its_own(make_settings, issuer: TestIssuer) -> None:  # noqa: ANN001
    """The fault the shared counters fix: two per-process gateways together let twice the rate through."""
    settings = make_settings(rate_limit_per_second=RATE, rate_limit_burst=BURST)
    async with serve_gateway(settings) as one, serve_gateway(settings) as two:
        assert isinstance(one.gateway.limiter, RateLimiter)
        results = await hammer([one, two], bearer(issuer.token("officer", sub="split-bob")), 4.0)
    rate = steady_rate(results, 1.0, 4.0)
    assert rate > 1.7 * RATE, f"{rate:.1f}/s"


async def test_redis_down_limits_per_process_then_shares_again(
    make_settings, issuer: TestIssuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:  # noqa: ANN001
    if not redis_available():
        pytest.fail("these tests need Debian's redis-server: apt-get install -y redis-server")
    server = RedisServer(free_port(), tmp_path / "redis")  # not started yet: Redis is down
    prefix = f"test-{uuid.uuid4().hex}"
    settings = make_settings(
        rate_limit_per_second=1.0,
        rate_limit_burst=3,
        rate_limit_redis_url=server.url,
        rate_limit_key_prefix=prefix,
        rate_limit_redis_retry_seconds=0.5,
    )
    carol = bearer(issuer.token("officer", sub="carol"))
    caplog.set_level(logging.WARNING, logger="cleanprod.gateway.ratelimit")
    try:
        async with serve_gateway(settings) as gw:
            # Redis down: answered, and limited by this process's bucket (burst 3), not refused and not unlimited.
            statuses = [(await gw.client.get("/api/v1/sectors", headers=carol)).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            outage = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
            assert len(outage) == 1  # once per outage, not per request
            server.start()
            await asyncio.sleep(0.6)  # past the retry interval
            dave = bearer(issuer.token("officer", sub="dave"))
            assert (await gw.client.get("/api/v1/sectors", headers=dave)).status_code == 200
            assert any("answers again" in r.getMessage() for r in caplog.records)
            client = redis.asyncio.Redis.from_url(server.url)
            try:
                keys = [k.decode() for k in await client.keys(f"{prefix}*")]
            finally:
                await client.aclose()
            assert any("dave" in k for k in keys), keys  # counted in Redis again
    finally:
        server.stop()
