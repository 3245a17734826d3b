"""The upstream relay: an aiohttp keep-alive pool to the services; a request's body streamed up and its answer
streamed down; a request the upstream dropped on a pooled connection sent once more on a new one; an upstream
that fails answered as 502/504 problem+json.

Two aiohttp settings are made through private names, because aiohttp has no public switch for them and the
public ways cost measurably on every request (both kept here, in one place, with the reason):
- `_ProxyRequest._skip_auto_headers` (see the class);
- `ClientSession._retry_connection = False`: aiohttp would retry idempotent requests once itself, on another
  pooled (possibly as stale) connection; the relay decides instead (`_may_retry`) and retries on a new one.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

import aiohttp
from multidict import CIMultiDict
from starlette.types import Receive
from yarl import URL

from cleanprod_kit.errors import Problem

from . import problems
from .exchange import Exchange
from .forwarding import Headers
from .headers import RESPONSE_DROP
from .settings import GatewaySettings

log = logging.getLogger("cleanprod.gateway")

_RESPONSE_DROP = frozenset(n.encode() for n in RESPONSE_DROP)
_SKIP_AUTO = ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")
_SKIP_AUTO_MULTIDICT = CIMultiDict((name, None) for name in _SKIP_AUTO)
# Errors that mean "the upstream closed or reset the connection" (not "could not connect").
_STALE_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})
_DROPPED = (aiohttp.ServerDisconnectedError, aiohttp.ClientConnectionResetError, aiohttp.ClientOSError)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

# Whether the connection the current request went out on had carried a request before (it came from the
# keep-alive pool): only then can "the upstream closed it without answering" mean a stale connection.
_reused_connection: ContextVar[bool] = ContextVar("cleanprod_gateway_reused_connection", default=False)
_used_protocols: weakref.WeakSet[Any] = weakref.WeakSet()


class _ProxyRequest(aiohttp.ClientRequest):
    """aiohttp adds Accept, Accept-Encoding and User-Agent to requests that lack them; a proxy must add nothing
    (an added `Accept-Encoding: gzip` would make upstreams compress for clients that never asked). The stock way,
    `skip_auto_headers`, rebuilds a sorted multidict and copies the headers on every request (~5 % of the
    gateway's CPU per request, measured); this does the same with one precomputed mapping."""

    def update_auto_headers(self, skip_auto_headers: object) -> None:
        self._skip_auto_headers = _SKIP_AUTO_MULTIDICT  # read later: no Content-Type is invented for bodies

    async def send(self, conn: Any) -> aiohttp.ClientResponse:
        protocol = conn.protocol
        _reused_connection.set(protocol in _used_protocols)
        _used_protocols.add(protocol)
        return await super().send(conn)


class ClientGone(Exception):
    """The client disconnected while its request body was being streamed."""


class UpstreamBroken(Exception):
    """The upstream failed after the response had started: the client connection is aborted."""


def _session(connector: aiohttp.TCPConnector, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        request_class=_ProxyRequest,
        raise_for_status=False,
    )


class Relay:
    """The connections to the upstream services and the relaying of one request over them."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.small = settings.small_body_bytes  # bodies up to this size are read at once (and kept for a retry)
        self.timeout = aiohttp.ClientTimeout(
            total=None,
            connect=settings.connect_timeout,
            sock_connect=settings.connect_timeout,
            sock_read=settings.read_timeout,
        )
        self.session: aiohttp.ClientSession | None = None
        self._fresh_session: aiohttp.ClientSession | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def started(self) -> bool:
        return self.session is not None

    def start(self) -> None:
        s = self.settings
        self.session = _session(
            aiohttp.TCPConnector(
                limit=s.pool_size,
                limit_per_host=s.pool_size_per_host,
                keepalive_timeout=s.upstream_keepalive_seconds,
                ttl_dns_cache=300,
            ),
            self.timeout,
        )
        self.session._retry_connection = False  # noqa: SLF001 - see the module's docstring
        # Retries after a dropped pooled connection go through a connector that never reuses a connection.
        self._fresh_session = _session(
            aiohttp.TCPConnector(limit=s.pool_size, force_close=True, ttl_dns_cache=300), self.timeout
        )

    async def close(self) -> None:
        for session in (self.session, self._fresh_session):
            if session is not None:
                await session.close()
        self.session = self._fresh_session = None

    # ---------------------------------------------------------------- the gateway's own requests

    async def fetch_json(self, url: str, timeout_seconds: float) -> Any:
        assert self.session is not None
        timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        async with self.session.get(url, timeout=timeout, headers={"accept": "application/json"}) as response:
            response.raise_for_status()
            return await response.json(content_type=None)

    async def probe(self, url: str, timeout_seconds: float) -> dict[str, Any]:
        """Whether `url` answers 200 within the timeout (for /readyz)."""
        assert self.session is not None
        started = time.perf_counter()
        try:
            async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=timeout_seconds)) as response:
                await response.read()
                ok = response.status == 200
                result: dict[str, Any] = {"status": "ok" if ok else "failing", "http_status": response.status}
        except (TimeoutError, aiohttp.ClientError) as exc:
            result = {"status": "unreachable", "error": type(exc).__name__}
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        return result

    # ---------------------------------------------------------------- proxying

    async def forward(
        self, ex: Exchange, receive: Receive, service: str, target: str, headers: Headers, has_body: bool
    ) -> None:
        """Send the request to `target` (the upstream URL, already encoded) and relay the answer to the client."""
        body = _RequestBody(receive, self.small) if has_body else None
        try:
            response = await self._send(ex, service, URL(target, encoded=True), headers, body)
        except TimeoutError:  # aiohttp's connect and read timeouts both derive from it
            log.warning("upstream %s timed out: %s %s", service, ex.method, ex.path)
            await ex.fail(problems.upstream_timeout(service))
            return
        except ClientGone:
            ex.status = 499
            return
        except aiohttp.ClientConnectorError as exc:
            log.warning("upstream %s unreachable: %s", service, exc)
            await ex.fail(problems.upstream_unreachable(service))
            return
        except (aiohttp.ClientError, ValueError) as exc:
            log.warning("upstream %s failed: %r", service, exc)
            await ex.fail(problems.upstream_invalid(service))
            return
        try:
            await self._answer(ex, receive, response, service, body_done=body is None or body.done)
        finally:
            response.release()

    async def _send(
        self, ex: Exchange, service: str, url: URL, headers: Headers, body: _RequestBody | None
    ) -> aiohttp.ClientResponse:
        if self.session is None:  # used without lifespan (e.g. a bare ASGI transport in a test)
            self.start()
        assert self.session is not None and self._fresh_session is not None
        _reused_connection.set(False)

        async def send(session: aiohttp.ClientSession) -> aiohttp.ClientResponse:
            # `body.iterate()` anew each time: a retry replays what the first attempt read, then the rest.
            return await session.request(
                ex.method,
                url,
                headers=headers,
                data=body.iterate() if body else None,
                allow_redirects=False,
                auto_decompress=False,
            )

        try:
            return await send(self.session)
        except _DROPPED as exc:
            if not _may_retry(exc, ex.method, headers, body):
                raise
            # The upstream had closed this pooled connection (e.g. uvicorn after an unhandled error): the
            # request goes once more, on a new connection.
            log.info(
                "upstream %s dropped a pooled connection (%r); retrying %s %s on a new one",
                service,
                exc,
                ex.method,
                ex.path,
            )
            return await send(self._fresh_session)

    async def _answer(
        self, ex: Exchange, receive: Receive, response: aiohttp.ClientResponse, service: str, *, body_done: bool
    ) -> None:
        headers = [(name.lower(), value) for name, value in response.raw_headers if name.lower() not in _RESPONSE_DROP]
        headers.append((b"x-request-id", ex.request_id.encode("latin-1")))
        status = response.status
        length = response.content_length
        no_body = ex.head or status in (204, 304) or 100 <= status < 200
        if no_body or (length is not None and length <= self.small):
            await self._answer_at_once(ex, response, service, headers, no_body=no_body)
        else:
            await _stream_answer(ex, receive, response, service, headers, body_done=body_done)

    @staticmethod
    async def _answer_at_once(
        ex: Exchange,
        response: aiohttp.ClientResponse,
        service: str,
        headers: list[tuple[bytes, bytes]],
        *,
        no_body: bool,
    ) -> None:
        # Small answers (the common case): one read, one send.
        try:
            body = b"" if no_body else await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            problem: Problem = (
                problems.upstream_timeout(service)
                if isinstance(exc, TimeoutError)
                else problems.upstream_broke_off(service)
            )
            log.warning("upstream %s failed while answering: %r", service, exc)
            await ex.fail(problem)
            return
        ex.status = response.status
        await ex.send({"type": "http.response.start", "status": response.status, "headers": headers})
        await ex.send({"type": "http.response.body", "body": body, "more_body": False})


async def _stream_answer(
    ex: Exchange,
    receive: Receive,
    response: aiohttp.ClientResponse,
    service: str,
    headers: list[tuple[bytes, bytes]],
    *,
    body_done: bool,
) -> None:
    """Large or unknown length: streamed. The client going away stops the upstream read too."""
    ex.status = response.status
    await ex.send({"type": "http.response.start", "status": response.status, "headers": headers})
    watcher = asyncio.ensure_future(_wait_disconnect(receive)) if body_done else None
    try:
        async for chunk in response.content.iter_any():
            if watcher is not None and watcher.done():
                response.close()
                ex.status = 499
                return
            await ex.send({"type": "http.response.body", "body": chunk, "more_body": True})
    except (TimeoutError, aiohttp.ClientError) as exc:
        response.close()
        log.warning("upstream %s broke off a streamed answer: %r", service, exc)
        raise UpstreamBroken(f"upstream {service} failed mid-response") from exc
    finally:
        if watcher is not None:
            watcher.cancel()
    await ex.send({"type": "http.response.body", "body": b"", "more_body": False})


def _may_retry(exc: Exception, method: str, headers: Headers, body: _RequestBody | None) -> bool:
    """A request is sent again (once) only if the upstream dropped a *pooled* connection without answering, the
    body can be replayed (none, not read yet, or small and kept), and a second delivery is harmless: an idempotent
    method, or a request with an Idempotency-Key (the service answers a replay with the first response). A
    connection that was opened for this request and failed is a real fault: 502."""
    if isinstance(exc, aiohttp.ClientConnectorError):  # could not connect at all: not a stale connection
        return False
    if isinstance(exc, aiohttp.ClientOSError) and exc.errno not in _STALE_ERRNOS:
        return False
    if not _reused_connection.get() or (body is not None and not body.replayable):
        return False
    return method in IDEMPOTENT_METHODS or any(name == "idempotency-key" for name, _ in headers)


class _RequestBody:
    """The client's request body streamed to aiohttp. The chunks read are kept while they total at most `limit`
    bytes, so a retry can send the body again; a larger body cannot be replayed once its reading has begun."""

    __slots__ = ("receive", "limit", "done", "kept", "size")

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.done = False  # the whole body has been read from the client
        self.kept: list[bytes] | None = []  # None: too large to keep
        self.size = 0

    @property
    def replayable(self) -> bool:
        return self.kept is not None

    async def iterate(self) -> AsyncIterator[bytes]:
        for chunk in list(self.kept or ()):  # what an earlier attempt read
            yield chunk
        while not self.done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            if not message.get("more_body", False):
                self.done = True
            if chunk:
                self._keep(chunk)
                yield chunk

    def _keep(self, chunk: bytes) -> None:
        if self.kept is not None:
            self.size += len(chunk)
            if self.size <= self.limit:
                self.kept.append(chunk)
            else:
                self.kept = None


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
