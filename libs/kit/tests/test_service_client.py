"""The service client's cheaper path (aiohttp under `ServiceClient.get`/`post`, issue 16) sends what httpx sends —
the same URL encoding, JSON body, service token and request id — and answers an `httpx.Response` as httpx does,
its failures raised as httpx's own; anything it does not cover goes through httpx, as before. Against a real
uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from cleanprod_kit.http import ServiceClient
from cleanprod_kit.requestid import request_id_var
from cleanprod_kit.testing.servers import serving
from infra.ports import free_port

seen: list[dict[str, Any]] = []


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Records each request (method, raw path and query, headers, body) and answers by path."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen.append(
        {
            "method": scope["method"],
            "target": scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b""),
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
            "body": body,
        }
    )
    path = scope["path"]
    if path == "/slow":
        await asyncio.sleep(1.0)
    answer = json.dumps({"tên": "Công ty Thép Hà Nội", "path": path}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"x-thing", b"1")]
    status = 503 if path == "/down" else 200
    if path == "/gz":
        answer = gzip.compress(answer)
        headers.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture
async def base() -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(echo, host="127.0.0.1", port=port, log_level="warning", lifespan="off", loop="none")
    async with serving(uvicorn.Server(config), "echo"):
        yield f"http://127.0.0.1:{port}"


async def token() -> str:
    return "service-token"


async def _both(base: str, call: Any) -> tuple[dict[str, Any], dict[str, Any], httpx.Response, httpx.Response]:
    """The same call through the cheaper path and through httpx: what the server saw of each, and the answers."""
    fast, plain = ServiceClient(token), ServiceClient(token)
    plain.through_httpx()
    try:
        seen.clear()
        fast_answer = await call(fast)
        plain_answer = await call(plain)
    finally:
        await fast.aclose()
        await plain.aclose()
    return seen[0], seen[1], fast_answer, plain_answer


async def test_a_get_and_a_post_send_what_httpx_sends_and_answer_as_it_does(base: str) -> None:
    params = {"q": "thép hà nội", "size": 20, "flag": True, "ids": ["a b", "c&d"], "none": None}
    reset = request_id_var.set("rid-42")
    try:
        fast, plain, fast_answer, plain_answer = await _both(
            base, lambda client: client.get(f"{base}/facilities/x%2Fy", params=params, timeout=5)
        )
        fast_post, plain_post, posted, plain_posted = await _both(
            base, lambda client: client.post(f"{base}/internal/events", json={"tên": "Hà Nội", "n": [1.5, None]})
        )
    finally:
        request_id_var.reset(reset)
    assert "user-agent" not in fast["headers"] and "python-httpx" in plain["headers"]["user-agent"]  # aiohttp's
    assert fast["target"] == plain["target"]  # httpx's encoding of the path and the query
    assert b"q=th%C3%A9p+h%C3%A0+n%E1%BB%99i" in fast["target"]
    for name in ("authorization", "x-request-id"):
        assert fast["headers"][name] == plain["headers"][name]
    assert fast["headers"]["authorization"] == "Bearer service-token" and fast["headers"]["x-request-id"] == "rid-42"
    assert (fast_post["method"], fast_post["body"]) == ("POST", plain_post["body"])  # the same JSON bytes
    assert fast_post["headers"]["content-type"] == plain_post["headers"]["content-type"] == "application/json"
    for ours, theirs in ((fast_answer, plain_answer), (posted, plain_posted)):
        assert isinstance(ours, httpx.Response) and ours.status_code == theirs.status_code == 200
        assert ours.json() == theirs.json() and ours.json()["tên"] == "Công ty Thép Hà Nội"
        assert ours.headers["x-thing"] == "1" and ours.request.url == theirs.request.url


async def test_a_compressed_answer_an_error_status_and_unreachable_or_slow_servers(base: str) -> None:
    client = ServiceClient(token)
    try:
        gz = await client.get(f"{base}/gz")
        assert gz.json()["path"] == "/gz" and "content-encoding" not in gz.headers  # decoded once
        down = await client.get(f"{base}/down")
        assert down.status_code == 503  # an answer, for the caller to interpret (upstream.py)
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{free_port()}/x")
        with pytest.raises(httpx.TimeoutException):
            await client.get(f"{base}/slow", timeout=0.2)
    finally:
        await client.aclose()


async def test_what_the_cheaper_path_does_not_cover_goes_through_httpx(base: str) -> None:
    calls: list[str] = []

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            calls.append(f"{request.method} {request.url.path} {request.headers['authorization']}")
            return httpx.Response(200, json={})

    class InProcess(ServiceClient):  # as the tests' in-process clients: a transport of their own
        def __init__(self) -> None:
            super().__init__(token)
            self._client = httpx.AsyncClient(transport=Recording(), event_hooks={"request": [self._authorise]})

    client = InProcess()
    try:
        await client.get(f"{base}/a", params={"x": 1})
        await client.post(f"{base}/b", json={})
    finally:
        await client.aclose()
    assert calls == ["GET /a Bearer service-token", "POST /b Bearer service-token"]

    direct = ServiceClient(token)
    try:
        seen.clear()
        await direct.post(f"{base}/form", data={"a": "1"})  # not a JSON post: httpx
        await direct.request("PUT", f"{base}/put", json={})
        assert [s["method"] for s in seen] == ["POST", "PUT"] and seen[0]["body"] == b"a=1"
    finally:
        await direct.aclose()
