"""The app factory adds the routers' routes as the app's own flat list (kit `app.add_routes`, issue 16): served,
documented and overridable exactly as `include_router` would have them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel

from cleanprod_kit.app import add_routes


class Thing(BaseModel):
    code: str
    seen: list[str]


def _seen(request: Request) -> list[str]:
    """The dependencies that ran for this request, in order."""
    if not hasattr(request.state, "seen"):
        request.state.seen = []
    return request.state.seen  # type: ignore[no-any-return]


async def app_wide(request: Request) -> None:
    _seen(request).append("app")


async def router_wide(request: Request) -> None:
    _seen(request).append("router")


async def greeting() -> str:
    return "xin chào"


router = APIRouter(prefix="/api/v1/things", tags=["things"], dependencies=[Depends(router_wide)])


@router.get("/{code}", response_model=Thing, responses={404: {"description": "No such thing"}})
async def read_thing(code: str, request: Request) -> dict[str, Any]:
    """A thing by its code."""
    return {"code": code, "seen": list(_seen(request))}


@router.post("/{code}", status_code=201)
async def make_thing(code: str, word: str = Depends(greeting)) -> dict[str, str]:
    return {"code": code, "word": word}


def _app(add: Callable[[FastAPI, APIRouter], None]) -> FastAPI:
    app = FastAPI(title="kit", dependencies=[Depends(app_wide)])
    add(app, router)
    return app


async def test_flat_routes_are_served_documented_and_overridden_as_included_ones() -> None:
    included, flat = _app(lambda app, r: app.include_router(r)), _app(add_routes)
    assert flat.openapi() == included.openapi()
    assert not any(type(route).__name__ == "_IncludedRouter" for route in flat.router.routes)
    flat.dependency_overrides[greeting] = lambda: "tạm biệt"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=flat), base_url="http://kit") as client:
        read = await client.get("/api/v1/things/thep")
        made = await client.post("/api/v1/things/thep")
        wrong = await client.put("/api/v1/things/thep")
    assert read.json() == {"code": "thep", "seen": ["app", "router"]}  # app-wide, then the router's dependency
    assert made.status_code == 201 and made.json() == {"code": "thep", "word": "tạm biệt"}
    assert wrong.status_code == 405
