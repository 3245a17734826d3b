"""Issue 9, fault 5: "one user's 500 becomes another user's 502". An upstream that closes its keep-alive
connection after an error answer (uvicorn does after an unhandled exception) must not cost the *next* request:
the gateway honours `Connection: close`, and a request the upstream dropped on a pooled connection before
answering is sent once more on a new connection (idempotent methods, or an Idempotency-Key)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import APIRouter, Request
from gateway_helpers import RunningGateway, bearer, serve_gateway
from gateway_upstream import free_port

from cleanprod_kit.app import create_service_app
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.servers import serving, start_in_thread, stop_thread


class ClosingUpstream:
    """A raw HTTP/1.1 server on loopback. `/…/ok` answers 200 and keeps the connection; `/…/fail` answers 500
    and then closes the connection: with `mode="late"` 50 ms later without saying so (as uvicorn does after
    logging an exception; a request the gateway wrote meanwhile is never read and the socket is reset), with
    `mode="announced"` at once after `Connection: close`."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.received: list[tuple[str, str, int]] = []  # (method, path, connection number)
        self._ids = itertools.count(1)
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ClosingUpstream:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = next(self._ids)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = next(
                    (int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:")), 0
                )
                if length:
                    await reader.readexactly(length)
                self.received.append((method, path, connection))
                if path.endswith("/fail"):
                    body = b'{"error": "boom"}'
                    extra = b"connection: close\r\n" if self.mode == "announced" else b""
                    writer.write(
                        b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n%s\r\n%s" % (len(body), extra, body)
                    )
                    await writer.drain()
                    if self.mode == "late":
                        await asyncio.sleep(0.05)
                    return
                body = b'{"connection": %d}' % connection
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(body), body)
                )
                await writer.drain()
        finally:
            writer.close()


@asynccontextmanager
async def crashing_uvicorn() -> AsyncIterator[str]:
    """A real uvicorn (httptools) whose app answers 500 and then raises, exactly what Starlette's
    ServerErrorMiddleware does with an unhandled exception: uvicorn logs it and closes the connection."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        status = 500 if scope["path"].endswith("/fail") else 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})
        if status == 500:
            raise RuntimeError("unhandled error in the service (test)")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="critical", http="httptools", loop="none", lifespan="off"
        )
    )
    async with serving(server, "crashing uvicorn"):
        yield f"http://127.0.0.1:{port}"


async def _alternate(
    gw: RunningGateway, token: str, send: Callable[..., Any] | None = None, rounds: int = 10
) -> list[int]:
    """`rounds` × (a request that fails upstream, then another user's normal request); the statuses of the
    normal ones."""
    statuses = []
    for _ in range(rounds):
        failed = await gw.client.get("/api/v1/sectors/fail", headers=bearer(token))
        assert failed.status_code == 500, failed.text
        statuses.append((await (send or _get_ok)(gw)).status_code)
    return statuses


async def _get_ok(gw: RunningGateway) -> Any:
    return await gw.client.get("/api/v1/sectors/ok", headers=gw.other_user)  # type: ignore[attr-defined]


@pytest.fixture
def gateway_for(make_settings: Any, issuer: TestIssuer) -> Any:
    @asynccontextmanager
    async def start(upstream_url: str) -> AsyncIterator[RunningGateway]:
        async with serve_gateway(make_settings(registry_url=upstream_url, read_timeout=5.0)) as running:
            running.other_user = bearer(issuer.token("officer", sub="the-next-user"))  # type: ignore[attr-defined]
            yield running

    return start


def _next_requests() -> Callable[[RunningGateway], Any]:
    """The other users' requests, in turn: reads and writes (with bodies) a retry may safely repeat."""
    kinds = itertools.cycle(
        [
            lambda gw: gw.client.get("/api/v1/sectors/ok", headers=gw.other_user),
            lambda gw: gw.client.put("/api/v1/sectors/ok", json={"name": "Thép"}, headers=gw.other_user),
            lambda gw: gw.client.post(
                "/api/v1/sectors/ok",
                json={"name": "Bia Hà Nội"},
                headers={**gw.other_user, "Idempotency-Key": f"k-{next(_keys)}"},
            ),
            lambda gw: gw.client.delete("/api/v1/sectors/ok", headers=gw.other_user),
        ]
    )
    return lambda gw: next(kinds)(gw)


_keys = itertools.count()


@pytest.mark.parametrize("mode", ["late", "announced"])
async def test_the_request_after_an_error_is_answered(gateway_for: Any, issuer: TestIssuer, mode: str) -> None:
    async with ClosingUpstream(mode) as upstream, gateway_for(upstream.url) as gw:
        statuses = await _alternate(gw, issuer.token("officer", sub="unlucky"), _next_requests())
        assert statuses == [200] * 10  # 20 alternating requests: every one after an error answered normally
        # Each normal request was handled exactly once by the upstream (a retry never duplicates one).
        assert len([p for _, p, _ in upstream.received if p.endswith("/ok")]) == 10


async def test_after_a_real_uvicorn_closes_on_an_unhandled_error(gateway_for: Any, issuer: TestIssuer) -> None:
    async with crashing_uvicorn() as url, gateway_for(url) as gw:
        assert await _alternate(gw, issuer.token("officer", sub="unlucky")) == [200] * 10


async def test_a_post_without_idempotency_key_is_never_sent_twice(gateway_for: Any, issuer: TestIssuer) -> None:
    """A POST the upstream dropped might have been applied: without an Idempotency-Key it is not repeated (502),
    and the upstream saw each one at most once."""
    async with ClosingUpstream("late") as upstream, gateway_for(upstream.url) as gw:

        async def post(gw: RunningGateway) -> Any:
            return await gw.client.post("/api/v1/sectors/ok", json={"name": "Giấy"}, headers=gw.other_user)

        statuses = await _alternate(gw, issuer.token("officer", sub="unlucky"), post, rounds=3)
        assert set(statuses) <= {200, 502}
        posts = [p for m, p, _ in upstream.received if m == "POST" and p.endswith("/ok")]
        assert len(posts) == statuses.count(200)


async def test_a_large_streamed_body_is_not_replayed(gateway_for: Any, issuer: TestIssuer) -> None:
    """A PUT whose body is bigger than what the gateway keeps (64 KiB) cannot be sent again once reading began."""
    async with ClosingUpstream("late") as upstream, gateway_for(upstream.url) as gw:

        async def big_put(gw: RunningGateway) -> Any:
            return await gw.client.put("/api/v1/sectors/ok", content=b"x" * (256 * 1024), headers=gw.other_user)

        statuses = await _alternate(gw, issuer.token("officer", sub="unlucky"), big_put, rounds=2)
        assert set(statuses) <= {200, 502}
        assert len([p for m, p, _ in upstream.received if m == "PUT"]) == statuses.count(200)


async def test_an_unreachable_upstream_is_not_retried_into_a_hang(gateway_for: Any, issuer: TestIssuer) -> None:
    async with gateway_for(f"http://127.0.0.1:{free_port()}") as gw:
        response = await gw.client.get("/api/v1/sectors/ok", headers=gw.other_user)
        assert response.status_code == 502


class KitService:
    """A service built by the kit's create_service_app, served by uvicorn + httptools in its own thread (its own
    event loop, as a separate process would be), with a route that fails with an unhandled exception."""

    def __init__(self, issuer: TestIssuer) -> None:
        router = APIRouter()
        self.writes = 0

        @router.get("/api/v1/sectors/fail")
        async def fail() -> None:
            raise RuntimeError("a bug in the service (test)")

        @router.post("/api/v1/sectors/ok")
        async def write(request: Request) -> dict[str, int]:
            self.writes += 1
            return {"size": len(await request.body())}

        settings = ServiceSettings(**service_settings_for(issuer, service_name="kit-svc", log_level="CRITICAL"))
        app = create_service_app(settings, title="kit service", routers=[router])
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="critical",
                http="httptools",
                loop="asyncio",
                lifespan="on",
            )
        )

    def __enter__(self) -> str:
        self.thread = start_in_thread(self.server, "service", timeout=20)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        stop_thread(self.server, self.thread)


async def test_behind_a_kit_service_the_next_write_is_answered(gateway_for: Any, issuer: TestIssuer) -> None:
    """The root fix: the kit's 500 says `Connection: close`, so the gateway never reuses that connection — even a
    POST without an Idempotency-Key (which is never replayed) after another user's 500 is answered."""
    service = KitService(issuer)
    with service as url:
        async with gateway_for(url) as gw:

            async def post(gw: RunningGateway) -> Any:
                return await gw.client.post("/api/v1/sectors/ok", json={"name": "Dệt may"}, headers=gw.other_user)

            statuses = await _alternate(gw, issuer.token("officer", sub="unlucky"), post, rounds=10)
    assert statuses == [200] * 10 and service.writes == 10
