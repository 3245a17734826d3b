"""Graceful shutdown of a real process: the gateway started as `./cleanprod up` starts it (uvicorn, its own
process), a burst of requests, SIGTERM in the middle. Every request the gateway had accepted — every one that
reached the upstream, among them slow ones still being answered when the signal came — gets its whole answer;
connections opened after the signal are refused; the process exits cleanly (docs/observability.md "Shutdown")."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_upstream import Upstream

from cleanprod_kit.testing.data import random_tax_code
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
    return {value for record in list(upstream.requests) for name, value in record["headers"] if name == "x-request-id"}


async def refused_soon(url: str, timeout: float = 1.5) -> float:
    """Seconds until a new connection to `url` is refused (the listening socket closed). A connection the kernel
    had already queued when the socket closed is dropped unanswered instead: that is a refusal too — its request
    never reached the application."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            async with httpx.AsyncClient(timeout=0.5) as fresh:
                await fresh.get(f"{url}/healthz")
        except (httpx.ConnectError, httpx.RemoteProtocolError):
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


# ---- leases: a real service process gives its outbox claim back when it is stopped ------------------------------


class TokenEndpoint:
    """Keycloak's token endpoint as the service's client-credentials grant calls it, answering with a test
    issuer's service token (the service tests' stand-in for Keycloak, over real HTTP)."""

    def __init__(self, issuer: TestIssuer) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                token = issuer.client_token("svc-registry", "service")
                body = json.dumps({"access_token": token, "expires_in": 300, "token_type": "Bearer"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HangingSubscriber:
    """Takes the event's POST and never answers: the delivery is in flight for as long as the test wants."""

    def __init__(self) -> None:
        self.received = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            self.received.set()
            try:
                await reader.read()  # until the sender gives up and closes
            finally:
                writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/internal/events"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
def registry_database(make_database: Callable[[str, str], str]) -> str:
    from cleanprod_registry.config import MIGRATIONS

    return make_database("registry_shutdown", MIGRATIONS)


async def outbox_state(database_url: str) -> list[tuple[Any, Any, Any]]:
    from sqlalchemy import text

    from cleanprod_kit.db import Database

    db = Database(database_url, pool_size=1, max_overflow=0)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT published_at, next_attempt_at, now() FROM outbox_events ORDER BY seq")
            )
            return [tuple(row) for row in rows]
    finally:
        await db.dispose()


async def test_sigterm_gives_the_outbox_claim_back(registry_database: str, issuer: TestIssuer, tmp_path: Path) -> None:
    subscriber = HangingSubscriber()
    tokens = TokenEndpoint(issuer)
    port = free_port()
    env = {
        "REGISTRY_DATABASE_URL": registry_database,
        "REGISTRY_OIDC_ISSUER": issuer.issuer,
        "REGISTRY_OIDC_JWKS_URL": issuer.jwks_url,
        "REGISTRY_OIDC_SERVER_URL": tokens.url,  # where the client-credentials grant goes
        "REGISTRY_SERVICE_CLIENT_ID": "svc-registry",
        "REGISTRY_SERVICE_CLIENT_SECRET": "test",
        "REGISTRY_EVENT_SUBSCRIBERS": await subscriber.start(),
        "REGISTRY_LOG_LEVEL": "INFO",
    }
    command = uvicorn_command("cleanprod_registry.main:create_app", port, "--timeout-graceful-shutdown", "10")
    process = spawn(command, env=env, log_file=tmp_path / "registry.log")
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_http, f"{url}/healthz", process, 60)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            response = await client.post(  # emits registry.enterprise.registered
                "/api/v1/enterprises",
                headers={"Authorization": f"Bearer {issuer.token('officer')}"},
                json={
                    "tax_code": random_tax_code(),
                    "name": "Công ty TNHH Dệt Nhuộm Hà Đông",
                    "legal_form": "llc_multi_member",
                    "size_class": "small",
                    "address": "Khu công nghiệp Phú Nghĩa, Hà Nội",
                    "ward": "Xã Phú Nghĩa",
                    "district": "Huyện Chương Mỹ",
                },
            )
            assert response.status_code == 201, response.text
        await asyncio.wait_for(subscriber.received.wait(), 30)  # claimed and being delivered
        (published, due, now), *_ = await outbox_state(registry_database)
        assert published is None and due > now + dt.timedelta(seconds=60)  # the claim: ahead by claim_seconds

        os.kill(process.pid, signal.SIGTERM)
        exit_code = await asyncio.to_thread(process.wait, 30)
        log = (tmp_path / "registry.log").read_text(errors="replace")
        assert exit_code in (0, -signal.SIGTERM), log[-3000:]
        assert "Application shutdown complete" in log
        (published, due, now), *_ = await outbox_state(registry_database)
        assert published is None and (due is None or due <= now)  # given back: due again at once, elsewhere
    finally:
        stop(process)
        await subscriber.stop()
        tokens.close()
