"""Graceful shutdown of a real process: the gateway started as `./cleanprod up` starts it (uvicorn, its own
process), a burst of requests, SIGTERM in the middle. Every request the gateway had accepted — every one that
reached the upstream, among them slow ones still being answered when the signal came — gets its whole answer;
connections opened after the signal are refused; the process exits cleanly (docs/observability.md "Shutdown")."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_upstream import Upstream

from cleanprod_kit.testing.issuer import TestIssuer
from infra.ports import free_port
from infra.processes import spawn, stop, uvicorn_command, wait_http

SLOW = 8  # requests still waiting for the upstream when SIGTERM comes
SLOW_SECONDS = 2.0


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream("registry").start()
    yield server
    server.stop()


@pytest.fixture
def gateway(upstream: Upstream, issuer: TestIssuer, tmp_path: Path) -> Iterator[tuple[Any, str, Path]]:
    port = free_port()
    env = {
        "GATEWAY_REGISTRY_URL": upstream.url,
        "GATEWAY_APPLICATIONS_URL": upstream.url,
        "GATEWAY_VERIFICATION_URL": upstream.url,
        "GATEWAY_OIDC_ISSUER": issuer.issuer,
        "GATEWAY_OIDC_JWKS_URL": issuer.jwks_url,
        "GATEWAY_RATE_LIMIT_PER_SECOND": "0",  # the burst is not what this test limits
        "GATEWAY_METRICS_PORT": str(free_port()),
        "GATEWAY_LOG_LEVEL": "INFO",
    }
    command = uvicorn_command("cleanprod_gateway.main:create_app", port, "--timeout-graceful-shutdown", "10")
    process = spawn(command, env=env, log_file=tmp_path / "gateway.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", process, timeout=60)
        yield process, url, tmp_path / "gateway.log"
    finally:
        stop(process)


def reached_upstream(upstream: Upstream) -> set[str]:
    return {
        value for record in list(upstream.requests) for name, value in record["headers"] if name == "x-request-id"
    }


async def refused_soon(url: str, timeout: float = 1.5) -> float:
    """Seconds until a new connection to `url` is refused (the listening socket closed)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            async with httpx.AsyncClient(timeout=0.5) as fresh:
                await fresh.get(f"{url}/healthz")
        except httpx.ConnectError:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"new connections still accepted {timeout} s after SIGTERM")


async def test_sigterm_during_a_burst_answers_every_accepted_request(
    gateway: tuple[Any, str, Path], upstream: Upstream, issuer: TestIssuer
) -> None:
    process, url, log_file = gateway
    headers = {"Authorization": f"Bearer {issuer.token('officer')}"}
    answered: dict[str, httpx.Response] = {}
    failed: dict[str, Exception] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(rid: str, path: str) -> None:
            try:
                response = await client.get(path, headers={**headers, "X-Request-ID": rid})
                answered[rid] = response
            except httpx.HTTPError as exc:
                failed[rid] = exc

        slow = [
            asyncio.create_task(one(f"slow-{n}", f"/api/v1/sectors/slow?delay={SLOW_SECONDS}")) for n in range(SLOW)
        ]
        burst_running = True

        async def burst(worker: int) -> None:
            n = 0
            while burst_running:
                await one(f"fast-{worker}-{n}", f"/api/v1/sectors?n={n}")
                n += 1

        workers = [asyncio.create_task(burst(w)) for w in range(16)]
        deadline = time.monotonic() + 20
        while len({r for r in reached_upstream(upstream) if r.startswith("slow-")}) < SLOW:
            assert time.monotonic() < deadline, "the slow requests did not reach the upstream"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the burst is well under way
        before_signal = len(answered)
        signalled = time.monotonic()
        os.kill(process.pid, signal.SIGTERM)

        refused_after = await refused_soon(url)
        still_waiting = [t for t in slow if not t.done()]
        await asyncio.sleep(0.3)
        burst_running = False
        await asyncio.gather(*slow, *workers)

    exit_code = await asyncio.to_thread(process.wait, 15)
    log = log_file.read_text(errors="replace")
    # uvicorn finishes its shutdown, then ends by the signal it caught (exit status -15 here), as a process should.
    assert exit_code in (0, -signal.SIGTERM), log[-3000:]
    assert "Application shutdown complete" in log and "Finished server process" in log
    # The slow ones were in the gateway's hands when the signal came, and still pending when new connections were
    # already refused: they were finished, not cut.
    assert refused_after < SLOW_SECONDS and len(still_waiting) == SLOW
    for n in range(SLOW):
        response = answered.get(f"slow-{n}")
        assert response is not None, failed.get(f"slow-{n}")
        assert response.status_code == 200 and response.json() == {"slow": True}
    assert time.monotonic() - signalled >= SLOW_SECONDS - 0.5  # the process waited for them
    # Every request that reached the upstream was accepted by the gateway: each got its whole answer.
    accepted = reached_upstream(upstream)
    cut = sorted(rid for rid in accepted if rid not in answered)
    assert not cut, {rid: repr(failed.get(rid)) for rid in cut[:5]}
    for rid in accepted:
        assert answered[rid].status_code == 200, (rid, answered[rid].text)
        answered[rid].json()  # complete JSON
    # The burst crossed the signal: answers before it, refusals after it.
    assert before_signal > 0 and failed
    assert all(isinstance(exc, httpx.TransportError) for exc in failed.values())
