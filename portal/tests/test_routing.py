"""Plain pages (routing.py): routes with only the portal's kind of parameters are answered without FastAPI's
dependency solver — the same answers, dependencies in FastAPI's order and once per request; anything else keeps
FastAPI's handler."""

# No `from __future__ import annotations`: the dependencies are local to build_app, FastAPI reads the real objects.
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from cleanprod_portal.routing import answer_plain_pages


class Refused(Exception):
    pass


def build_app() -> tuple[FastAPI, list[str]]:
    calls: list[str] = []

    async def session(request: Request) -> str:
        calls.append("session")
        return request.headers.get("x-user", "")

    async def user(name: Annotated[str, Depends(session)]) -> str:
        calls.append("user")
        if not name:
            raise Refused()
        return name

    async def app_wide(request: Request, name: Annotated[str, Depends(session)]) -> None:
        calls.append("app-wide")

    app = FastAPI(dependencies=[Depends(app_wide)])

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return PlainTextResponse("log in", status_code=303, headers={"location": "/login"})

    @app.get("/things/{thing_id}")
    async def thing(request: Request, thing_id: str, name: Annotated[str, Depends(user)]) -> HTMLResponse:
        calls.append("page")
        return HTMLResponse(f"{name}:{thing_id}:{request.url.path}")

    @app.get("/search")
    async def search(name: Annotated[str, Depends(user)], q: Annotated[str, Query()] = "") -> HTMLResponse:
        return HTMLResponse(f"{name}:{q}")

    @app.get("/data")
    async def data(name: Annotated[str, Depends(user)]) -> dict:
        return {"name": name}

    app.state.user_dependency = user
    return app, calls


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal.test")


def test_the_benched_pages_and_most_others_of_the_portal_are_plain(settings) -> None:  # noqa: ANN001
    from cleanprod_portal.main import create_app

    plain = create_app(settings).state.plain_pages
    assert {"/enterprise", "/enterprise/applications/{application_id}", "/healthz"} <= set(plain)
    assert "/calls" not in plain  # its filters are query parameters: FastAPI's handler


def test_only_routes_with_the_portals_kind_of_parameters_are_plain() -> None:
    app, _calls = build_app()
    assert answer_plain_pages(app) == ["/things/{thing_id}"]  # /search has a query parameter, /data answers a dict


async def test_a_plain_page_answers_what_fastapi_answers_with_each_dependency_once_in_order() -> None:
    answers = {}
    for plain in (False, True):
        app, calls = build_app()
        if plain:
            answer_plain_pages(app)
        async with client(app) as http:
            page = await http.get("/things/Hà-Nội", headers={"x-user": "an"})
            refused = await http.get("/things/1")
            other = await http.get("/search?q=lò", headers={"x-user": "an"})
        answers[plain] = (page.status_code, page.text, refused.status_code, refused.text, other.text, calls)
    assert answers[True] == answers[False]
    status, text, refused_status, refused_text, other, calls = answers[True]
    assert (status, text, refused_status, refused_text, other) == (
        200,
        "an:Hà-Nội:/things/Hà-Nội",
        303,
        "log in",
        "an:lò",
    )
    # The first request: the app-wide dependency first, the session once (cached), then the user and the page.
    assert calls[:4] == ["session", "app-wide", "user", "page"]


async def test_dependency_overrides_are_honoured_by_sending_the_route_back_to_fastapi() -> None:
    app, _calls = build_app()
    answer_plain_pages(app)

    async def stand_in() -> str:
        return "override"

    async with client(app) as http:
        assert (await http.get("/things/1", headers={"x-user": "an"})).text == "an:1:/things/1"
        app.dependency_overrides[app.state.user_dependency] = stand_in
        assert (await http.get("/things/1")).text == "override:1:/things/1"
