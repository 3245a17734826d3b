"""The enterprise's application page asks the gateway everything at once: what needs only the application's id
beside the application, what the application names as soon as it is in (answers recorded from the real API)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse

ANSWERS: dict = json.loads((Path(__file__).parent / "application_page_answers.json").read_text(encoding="utf-8"))
APPLICATION = next(v for k, v in ANSWERS.items() if k.count("/") == 2 and k.startswith("/applications/"))
APP_ID = APPLICATION["id"]
BY_ID_ONLY = {f"/applications/{APP_ID}/{tail}" for tail in ("history", "documents", "messages")}


def recorded_gateway(seen: list[str]) -> FastAPI:
    app = FastAPI()
    by_id_only_in = asyncio.Event()

    @app.get("/api/v1/{path:path}")
    async def answer(path: str) -> JSONResponse:
        key = f"/{path}"
        seen.append(key)
        if BY_ID_ONLY <= set(seen):
            by_id_only_in.set()
        if key == f"/applications/{APP_ID}":
            # The application is answered only once the three calls that need just its id have come in: they are
            # asked beside it (a page asking them after it would wait here until the guard below fails it).
            await asyncio.wait_for(by_id_only_in.wait(), 10)
        if key not in ANSWERS:
            return JSONResponse({"title": "Not found", "status": 404}, 404, media_type="application/problem+json")
        return JSONResponse(ANSWERS[key])

    return app


async def test_the_page_asks_what_needs_only_the_id_beside_the_application(make_client, log_in) -> None:
    seen: list[str] = []
    async with make_client(recorded_gateway(seen)) as client:
        await log_in(client)
        page = await client.get(f"/enterprise/applications/{APP_ID}")
    assert page.status_code == 200
    assert APPLICATION["title"] in page.text and APPLICATION["dossier_code"] in page.text
    assert page.text.count('class="timeline__item') == 3  # created, submitted, screening passed
    call = f"/calls/{APPLICATION['call_id']}"
    supplements = f"/applications/{APP_ID}/supplement-requests"  # under review: it may have some
    assert sorted(seen) == sorted([f"/applications/{APP_ID}", *BY_ID_ONLY, call, supplements])
    assert min(seen.index(call), seen.index(supplements)) >= 4  # after the application came back


async def test_a_malformed_id_asks_nothing_and_another_enterprises_application_is_not_found(
    make_client, log_in
) -> None:
    seen: list[str] = []
    async with make_client(recorded_gateway(seen)) as client:
        await log_in(client)
        malformed = await client.get("/enterprise/applications/not-an-id")
        assert seen == []
        other = await client.get("/enterprise/applications/01a2335a-0000-7000-8000-000000000000")
    assert malformed.status_code == 404 and other.status_code == 404
    assert "Không tìm thấy trang" in other.text
