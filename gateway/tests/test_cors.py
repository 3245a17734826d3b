"""CORS on its own (cleanprod_gateway.cors): which origins, what a preflight answers, what answers get."""

from __future__ import annotations

from typing import Any

from cleanprod_gateway.cors import Cors

PORTAL = b"https://portal.example"


def _scope(method: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/api/v1/sectors", "headers": list(headers)}


class Sent(list):
    async def __call__(self, message: dict[str, Any]) -> None:
        self.append(message)


def test_only_listed_origins_are_allowed_and_trailing_slashes_do_not_matter() -> None:
    cors = Cors(["https://portal.example/"], allow_credentials=False, max_age_seconds=600)
    assert cors.enabled and cors.allows(PORTAL) and not cors.allows(b"https://evil.example")
    assert Cors(["*"], allow_credentials=False, max_age_seconds=600).allows(b"https://any.example")
    assert not Cors([], allow_credentials=False, max_age_seconds=600).enabled


def test_preflight_is_an_options_request_naming_a_method() -> None:
    assert Cors.is_preflight(_scope("OPTIONS", (b"access-control-request-method", b"POST")))
    assert not Cors.is_preflight(_scope("OPTIONS"))
    assert not Cors.is_preflight(_scope("GET", (b"access-control-request-method", b"POST")))


async def test_preflight_answer() -> None:
    cors = Cors([PORTAL.decode()], allow_credentials=True, max_age_seconds=600)
    sent = Sent()
    await cors.preflight(_scope("OPTIONS", (b"access-control-request-headers", b"if-match")), sent, PORTAL, "rid")
    start = sent[0]
    headers = dict(start["headers"])
    assert start["status"] == 204
    assert headers[b"access-control-allow-origin"] == PORTAL
    assert headers[b"access-control-allow-headers"] == b"if-match"  # what the browser asked for
    assert headers[b"access-control-max-age"] == b"600"
    assert headers[b"access-control-allow-credentials"] == b"true"
    assert headers[b"x-request-id"] == b"rid"


async def test_preflight_from_another_origin_is_refused() -> None:
    sent = Sent()
    cors = Cors([PORTAL.decode()], allow_credentials=False, max_age_seconds=600)
    await cors.preflight(_scope("OPTIONS"), sent, b"https://evil.example", "rid")
    assert sent[0]["status"] == 403
    assert b"origin_not_allowed" in sent[1]["body"]


async def test_answers_get_the_origin_and_exposed_headers() -> None:
    sent = Sent()
    send = Cors([PORTAL.decode()], allow_credentials=False, max_age_seconds=600).wrap(sent, PORTAL)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"etag", b'"1"')]})
    await send({"type": "http.response.body", "body": b"{}"})
    headers = dict(sent[0]["headers"])
    assert headers[b"etag"] == b'"1"'
    assert headers[b"access-control-allow-origin"] == PORTAL
    assert b"ETag" in headers[b"access-control-expose-headers"]
    assert b"access-control-allow-credentials" not in headers
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
