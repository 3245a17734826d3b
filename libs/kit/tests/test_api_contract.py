"""What the API says about itself matches what it does (findings of the Schemathesis run, tests/e2e): a 405 names
every method of the resource, and an Idempotency-Key is exactly what its documented pattern allows."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.requests import Request

from cleanprod_kit.errors import Unprocessable, install_problem_handlers
from cleanprod_kit.idempotency import KEY_PATTERN, idempotency_key


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter(prefix="/api/v1/things")

    @router.get("/{thing_id}")
    async def read(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @router.patch("/{thing_id}")
    async def change(thing_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(thing_id)}

    @router.get("/export")  # a static path beside /{thing_id}
    async def export() -> dict[str, str]:
        return {}

    @router.post("/{thing_id}/submit")
    async def submit(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app.include_router(router)
    return app


async def test_405_allow_names_every_method_of_the_resource() -> None:
    # Starlette answers from the first route whose path matches: `Allow: GET` although PATCH exists too.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        for method in ("OPTIONS", "DELETE", "PUT"):
            response = await client.request(method, "/api/v1/things/1")
            assert response.status_code == 405
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["allow"] == "GET, PATCH"
        action = await client.get("/api/v1/things/1/submit")
        assert action.status_code == 405 and action.headers["allow"] == "POST"
        # The static /export is its own resource: only GET, although /{thing_id} (id "export") has PATCH, and a
        # PATCH there is 405 — not a 422 about "export" not being an id.
        options = await client.options("/api/v1/things/export")
        assert options.status_code == 405 and options.headers["allow"] == "GET"
        patched = await client.patch("/api/v1/things/export")
        assert patched.status_code == 405 and patched.headers["allow"] == "GET"
        assert patched.json()["code"] == "method_not_allowed" and patched.json()["type"].endswith("method-not-allowed")


def _request(key: str) -> Request:
    return Request(
        {"type": "http", "method": "POST", "path": "/", "headers": [(b"idempotency-key", key.encode("latin-1"))]}
    )


@pytest.mark.parametrize("key", ["a", "create-0100109106", "~!#$%&'*+-.^_`|", "x" * 255])
def test_idempotency_keys_the_pattern_allows_are_accepted(key: str) -> None:
    assert re.fullmatch(KEY_PATTERN.strip("^$"), key)
    assert idempotency_key(_request(key)) == key


@pytest.mark.parametrize("key", ["", "two words", "x" * 256, "caf\xe9", "\xa0nbsp", "tab\there"])
def test_idempotency_keys_outside_the_pattern_are_422(key: str) -> None:
    assert not re.fullmatch(KEY_PATTERN.strip("^$"), key)
    with pytest.raises(Unprocessable) as refused:
        idempotency_key(_request(key))
    assert refused.value.errors[0]["field"] == "header.Idempotency-Key"
