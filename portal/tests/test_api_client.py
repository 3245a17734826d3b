"""The gateway client: problem+json → field errors and summary, 412 → changed meanwhile, transport trouble →
unavailable; the user's token and language go with every call. The gateway here is a real HTTP app over
httpx's ASGI transport answering like the kit's problem handlers do."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cleanprod_portal import api as api_module
from cleanprod_portal import i18n
from cleanprod_portal.api import Api, ApiUnavailable, ChangedMeanwhile, Conflict, FieldErrors, NotFound

PROBLEM = "application/problem+json"
RECORD = {
    "title": "Thu hồi nhiệt khí thải – lò nung số 2",
    "budget_vnd": 9_000_000_000_000_000_000,
    "share": 0.125,
    "missing_fields": ["documents.technical_proposal"],
    "open_supplement_id": None,
    "eligible": True,
}


def gateway() -> FastAPI:
    app = FastAPI()

    @app.patch("/api/v1/applications/{application_id}")
    async def patch(application_id: str, request: Request) -> JSONResponse:
        if request.headers.get("if-match") == '"3"':
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Precondition failed",
                    "status": 412,
                    "detail": "The record changed (version 4)",
                    "code": "stale_version",
                },
                status_code=412,
                media_type=PROBLEM,
            )
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Unprocessable",
                "status": 422,
                "detail": "Some fields are invalid: title, claimed_savings.0.saving_pct",
                "errors": [
                    {"field": "title", "message": "Nhập tên dự án", "code": "required"},
                    {"field": "claimed_savings.0.saving_pct", "message": "Tối đa 100", "code": "max"},
                    {"field": "title", "message": "second message for the same field", "code": "x"},
                ],
            },
            status_code=422,
            media_type=PROBLEM,
        )

    @app.get("/api/v1/echo")
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(
            {"authorization": request.headers.get("authorization"), "language": request.headers.get("accept-language")},
            headers={"ETag": '"7"'},
        )

    @app.get("/api/v1/missing")
    async def missing() -> JSONResponse:
        return JSONResponse({"title": "Not found", "status": 404}, status_code=404, media_type=PROBLEM)

    @app.post("/api/v1/conflict")
    async def conflict() -> JSONResponse:
        return JSONResponse(
            {"title": "Conflict", "status": 409, "detail": "Cannot submit a withdrawn application"},
            status_code=409,
            media_type=PROBLEM,
        )

    @app.get("/api/v1/broken")
    async def broken() -> JSONResponse:
        return JSONResponse({"title": "Bad gateway", "status": 502}, status_code=502, media_type=PROBLEM)

    @app.get("/api/v1/record")
    async def record() -> JSONResponse:
        return JSONResponse(RECORD, media_type="application/json; charset=utf-8")

    @app.get("/api/v1/pages")
    async def pages(cursor: str | None = None) -> dict:
        return {"items": [1, 2], "next_cursor": "c2"} if cursor is None else {"items": [3], "next_cursor": None}

    return app


@pytest.fixture
def client() -> Api:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway()), base_url="http://gw")
    return Api(http, access_token="user-token", request_id="rid-1")


async def test_field_errors_map_each_field_to_its_message(client: Api) -> None:
    with pytest.raises(FieldErrors) as caught:
        await client.patch("/applications/a1", {"title": ""})
    problem = caught.value
    assert problem.status == 422
    assert problem.errors == {"title": "Nhập tên dự án", "claimed_savings.0.saving_pct": "Tối đa 100"}
    assert problem.summary.startswith("Some fields are invalid")


async def test_stale_version_is_changed_meanwhile(client: Api) -> None:
    with pytest.raises(ChangedMeanwhile) as caught:
        await client.patch("/applications/a1", {"title": "x"}, if_match='"3"')
    assert caught.value.status == 412 and caught.value.code == "stale_version"


async def test_other_statuses_have_their_own_exceptions(client: Api) -> None:
    with pytest.raises(NotFound):
        await client.get("/missing")
    with pytest.raises(Conflict) as caught:
        await client.post("/conflict", {})
    assert caught.value.summary == "Cannot submit a withdrawn application"
    with pytest.raises(ApiUnavailable):
        await client.get("/broken")


async def test_unreachable_gateway_is_unavailable() -> None:
    http = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ApiUnavailable):
        await Api(http).get("/anything")


async def test_token_language_and_etag(client: Api) -> None:
    i18n.set_language("en")
    try:
        result = await client.get_with_etag("/echo")
    finally:
        i18n.set_language("vi")
    assert result.data == {"authorization": "Bearer user-token", "language": "en"}
    assert result.etag == '"7"'
    assert (await client.get("/echo"))["language"] == "vi"


async def test_answers_are_decoded_as_the_json_they_are(client: Api) -> None:
    assert await client.get("/record") == RECORD  # diacritics, a 19-digit amount, a float, null and true


async def test_all_pages_follows_cursors(client: Api) -> None:
    assert await client.all_pages("/pages") == [1, 2, 3]


def test_problem_without_json_body_still_maps() -> None:
    response = httpx.Response(400, text="not json")
    problem = api_module.problem_from_response(response)
    assert isinstance(problem, FieldErrors) and problem.errors == {}
