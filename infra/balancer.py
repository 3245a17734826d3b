"""A tiny round-robin HTTP load balancer on loopback, for the replicated dev stack (`CLEANPROD_REPLICAS=2`,
devstack.py): one process listens on one front port per replicated part (each service, the gateway, the portal)
and hands each *request* — not each connection, so a client that keeps its connection alive still reaches every
replica — to the next replica of that part, streaming both ways.

A replica that refuses the connection is skipped (the request goes to the next one) as long as nothing of the
request body has been sent yet; when no replica accepts, the answer is a 503 problem+json (`service_unavailable`,
`Retry-After: 1`), as an ingress would give. Headers pass through unchanged (`Host` included, so redirects and
cookies name the front port), except the hop-by-hop ones, and each value without the whitespace around it (RFC 9110
§5.5: it is not part of the value; a client may still send `Authorization: Bearer `, which the outbound HTTP/1.1
encoder would refuse). A request that still cannot be written out (a control character in a header) is the
client's fault: 400 problem+json, not a 502 blamed on a replica. In production the cluster's Service / Ingress does this
(docs/architecture.md "Several replicas").

    python -m infra.balancer --listen 18101=127.0.0.1:28101,127.0.0.1:28102 --listen 18000=…
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import uvicorn

from .ports import HOST

log = logging.getLogger("cleanprod.balancer")

# RFC 9110 §7.6.1 hop-by-hop headers (and the length/encoding the two hops each frame themselves).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


class _KeepNoCookies(DefaultCookiePolicy):
    """httpx clients keep the cookies they are sent: this one is shared by every caller, so it keeps none."""

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False


class Pool:
    """The replicas of one part, taken in turn."""

    def __init__(self, backends: Sequence[str]) -> None:
        if not backends:
            raise ValueError("a pool needs at least one backend")
        self.backends = list(backends)
        self._turn: Iterator[int] = itertools.cycle(range(len(self.backends)))

    def order(self) -> list[str]:
        """Every backend once, starting with the one whose turn it is."""
        first = next(self._turn)
        return self.backends[first:] + self.backends[:first]


def _problem(status: int, path: str, headers: Mapping[bytes, bytes]) -> bytes:
    from cleanprod_kit import messages
    from cleanprod_kit.errors import BadGateway, BadRequest, ServiceUnavailable

    language = messages.preferred_language(headers.get(b"accept-language", b"").decode("latin-1") or None)
    problem = {503: ServiceUnavailable, 400: BadRequest}.get(status, BadGateway)()
    return json.dumps(problem.to_body(path, language), ensure_ascii=False).encode()


class Balancer:
    """The ASGI app: the pool is chosen by the port the request came in on."""

    def __init__(self, pools: Mapping[int, Pool]) -> None:
        self.pools = dict(pools)
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:  # websockets: none of the parts serves them
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # No read timeout: exports and long polls take what they take; the parts time themselves out.
                self.client = httpx.AsyncClient(
                    timeout=httpx.Timeout(None, connect=2.0),
                    # Idle sockets dropped well before the replicas' (uvicorn's) 5 s keep-alive ends: reusing one
                    # the replica is closing at that moment broke requests off (502s in a Schemathesis run).
                    limits=httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=2.0),
                    follow_redirects=False,
                    trust_env=False,
                    cookies=CookieJar(policy=_KeepNoCookies()),  # a client's cookies must never reach another
                )
                self.client.headers.clear()  # add nothing of httpx's own (User-Agent, Accept, …)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        upstream, failed = await self._forward(scope, receive)
        if upstream is None:
            content = _problem(failed, scope["path"], dict(scope["headers"]))
            await send(
                {
                    "type": "http.response.start",
                    "status": failed,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(content)).encode()),
                        *([(b"retry-after", b"1")] if failed == 503 else []),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": content})
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": upstream.status_code,
                    "headers": [(k, v) for k, v in upstream.headers.raw if k.lower() not in HOP_BY_HOP],
                }
            )
            async for chunk in upstream.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await upstream.aclose()

    async def _forward(self, scope: dict[str, Any], receive: Any) -> tuple[httpx.Response | None, int]:
        """The answer of the first replica (in turn) that takes the request, or the status to answer instead:
        503 when none took the connection, 502 when one took it and broke off, 400 when the request cannot be
        written out at all."""
        assert self.client is not None
        pool = self.pools[scope["server"][1]]
        headers = [(k, v.strip(b" \t")) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
        names = {k.lower() for k, _ in scope["headers"]}
        has_body = b"content-length" in names or b"transfer-encoding" in names
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        body_started = False

        async def body() -> AsyncIterator[bytes]:
            nonlocal body_started
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body_started = True
                if message.get("body"):
                    yield message["body"]
                if not message.get("more_body"):
                    return

        for backend in pool.order():
            request = self.client.build_request(
                scope["method"], f"http://{backend}{target}", headers=headers, content=body() if has_body else None
            )
            try:
                return await self.client.send(request, stream=True), 0
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if body_started:
                    return None, 503  # part of the body is gone: it cannot be replayed to another replica
            except httpx.LocalProtocolError as exc:  # the request itself cannot be written out: no replica could
                log.info("request refused before forwarding: %s", exc)
                return None, 400
            except httpx.TransportError as exc:  # the replica took the request and broke off
                log.warning("replica %s broke off: %s", backend, exc)
                return None, 502
        return None, 503


def parse_listen(values: Sequence[str]) -> dict[int, Pool]:
    """`PORT=HOST:PORT,HOST:PORT` per front port."""
    pools: dict[int, Pool] = {}
    for value in values:
        front, _, backends = value.partition("=")
        pools[int(front)] = Pool([b.strip() for b in backends.split(",") if b.strip()])
    return pools


def serve(pools: Mapping[int, Pool]) -> None:
    sockets = []
    for port in pools:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sockets.append(sock)
    config = uvicorn.Config(
        Balancer(pools),
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=5,
    )
    asyncio.run(uvicorn.Server(config).serve(sockets=sockets))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Round-robin HTTP load balancer on loopback (dev stack).")
    parser.add_argument("--listen", action="append", required=True, help="FRONT_PORT=HOST:PORT,HOST:PORT")
    serve(parse_listen(parser.parse_args(argv).listen))


if __name__ == "__main__":
    main()
