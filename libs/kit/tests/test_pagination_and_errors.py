from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from cleanprod_kit.errors import Conflict, Unprocessable, install_problem_handlers
from cleanprod_kit.pagination import decode_cursor, encode_cursor
from cleanprod_kit.requestid import RequestIdMiddleware, accept_or_create


def test_cursor_round_trip() -> None:
    values = [dt.date(2026, 11, 28), uuid.UUID(int=7), 42, "Hà Nội"]
    assert decode_cursor(encode_cursor(values), 4) == ["2026-11-28", str(uuid.UUID(int=7)), 42, "Hà Nội"]


@pytest.mark.parametrize("bad", ["", "!!!", encode_cursor([1]), encode_cursor([1, 2, 3]), "e30"])
def test_foreign_cursors_are_422(bad: str) -> None:
    with pytest.raises(Unprocessable):
        decode_cursor(bad, 2)


def test_request_ids_are_accepted_only_when_safe() -> None:
    assert accept_or_create("abc-123") == "abc-123"
    assert accept_or_create("bad id with spaces") != "bad id with spaces"
    assert len(accept_or_create(None)) == 32
    assert accept_or_create("x" * 500) != "x" * 500


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def create(body: Body) -> dict[str, str]:
        if body.name == "dup":
            raise Conflict("exists", errors=[{"field": "name", "message": "taken", "code": "duplicate"}])
        if body.name == "boom":
            raise RuntimeError("secret internals")
        return {"name": body.name}

    app.add_middleware(RequestIdMiddleware)
    return app


async def test_problem_details_for_every_kind_of_error() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.post("/things", json={"name": "Thép"}, headers={"X-Request-ID": "rid-1"})
        assert ok.json() == {"name": "Thép"} and ok.headers["x-request-id"] == "rid-1"

        conflict = await client.post("/things", json={"name": "dup"}, headers={"X-Request-ID": "rid-2"})
        body = conflict.json()
        assert conflict.status_code == 409 and conflict.headers["content-type"] == "application/problem+json"
        assert body["errors"][0]["field"] == "name" and body["request_id"] == "rid-2"
        assert body["instance"] == "/things"

        unknown = await client.post("/things", json={"name": "x", "role": "admin"})
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "role"

        malformed = await client.post("/things", content=b"{", headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400 and malformed.json()["type"].endswith("malformed-body")

        crash = await client.post("/things", json={"name": "boom"})
        assert crash.status_code == 500 and "secret internals" not in crash.text
        assert crash.headers["content-type"] == "application/problem+json"

        missing = await client.get("/nowhere")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
