"""Supplement requests: an officer's itemised request on a dossier under review (e-gov 5, clock stopped, no
decision meanwhile), answered item by item by the enterprise (text and/or a document of the application); the
last answer returns the dossier to processing (e-gov 4) with its clock running again. Audited and evented."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem, if_match
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.holiday_calendar import default_calendar

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ITEMS = [
    {"needed": "Báo cáo kiểm toán năng lượng năm 2025 có chữ ký"},
    {"needed": "Báo giá thiết bị lò cảm ứng của nhà cung cấp"},
]


async def events_of(settings: ApplicationsSettings, application_id: str) -> list[dict[str, Any]]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT event_type, payload FROM outbox_events WHERE aggregate_id = :id ORDER BY seq"),
                {"id": application_id},
            )
            return [{"type": r.event_type, "data": r.payload} for r in rows]
    finally:
        await engine.dispose()


def base(application: dict[str, Any]) -> str:
    return f"/api/v1/applications/{application['id']}/supplement-requests"


async def open_request(
    client: httpx.AsyncClient, actors: Actors, application: dict[str, Any], items: list[dict[str, str]] = ITEMS
) -> httpx.Response:
    return await client.post(
        base(application),
        json={"items": items, "note": "Đề nghị bổ sung trong 10 ngày."},
        headers=if_match(actors.officer(), application["version"]),
    )


async def test_request_answer_item_by_item_and_back_to_processing(
    client: httpx.AsyncClient, world: World, actors: Actors, settings: ApplicationsSettings
) -> None:
    application = await world.reviewed()
    owner = world.owner(application)
    response = await open_request(client, actors, application)
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["status"] == "open" and [i["needed"] for i in request["items"]] == [i["needed"] for i in ITEMS]
    waiting = await world.get(application, owner)
    assert waiting["status"] == "under_review" and waiting["egov_status"] == 5
    assert waiting["open_supplement_id"] == request["id"]
    assert waiting["due_at"] is None and waiting["clock_stopped_at"] is not None
    assert waiting["version"] == application["version"] + 1
    lookup = (await client.get(f"/api/v1/integrations/dossiers/{waiting['dossier_code']}", headers=actors.egov)).json()
    assert lookup["status_code"] == 5 and lookup["due_date"] is None
    public = (await client.get(f"/api/v1/public/dossiers/{waiting['dossier_code']}")).json()
    assert public["egov_status"] == 5 and public["egov_status_label"] == "Yêu cầu bổ sung giấy tờ"

    # Meanwhile: no decision, no second request.
    decision = await client.post(
        f"/api/v1/applications/{application['id']}/decision",
        json={"outcome": "approve", "reason": "x"},
        headers={**if_match(actors.officer(9), waiting["version"]), "Accept-Language": "vi"},
    )
    body = assert_problem(decision, 409)
    assert body["code"] == "supplement_open" and body["title"] == "Hồ sơ đang chờ bổ sung"
    assert assert_problem(await open_request(client, actors, waiting), 409)["code"] == "supplement_already_open"

    # The enterprise may attach the asked-for document while the dossier is under review.
    upload = await client.post(
        f"/api/v1/applications/{application['id']}/documents",
        data={"kind": "quotation"},
        files={"file": ("Báo giá.pdf", PDF, "application/pdf")},
        headers=owner,
    )
    assert upload.status_code == 201, upload.text
    document = upload.json()
    first, second = request["items"]
    url = f"{base(application)}/{request['id']}/items"
    answered = await client.post(f"{url}/{first['id']}/answer", json={"answer": "Đã gửi bản có chữ ký."}, headers=owner)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "open" and (await world.get(application))["egov_status"] == 5
    again = await client.post(f"{url}/{first['id']}/answer", json={"answer": "lần nữa"}, headers=owner)
    assert assert_problem(again, 409)["code"] == "supplement_item_answered"
    other = await world.draft()
    foreign = (
        await client.post(
            f"/api/v1/applications/{other['id']}/documents",
            files={"file": ("x.pdf", PDF, "application/pdf")},
            headers=world.owner(other),
        )
    ).json()
    wrong = await client.post(f"{url}/{second['id']}/answer", json={"document_id": foreign["id"]}, headers=owner)
    assert assert_problem(wrong, 422)["errors"][0]["code"] == "supplement_document_unknown"
    empty = await client.post(f"{url}/{second['id']}/answer", json={}, headers=owner)
    assert assert_problem(empty, 422)["code"] == "supplement_answer_empty"
    assert_problem(
        await client.post(f"{url}/{second['id']}/answer", json={"answer": "x"}, headers=actors.officer()), 403
    )
    stranger = actors.enterprise(world.b.tax_code)
    assert_problem(await client.post(f"{url}/{second['id']}/answer", json={"answer": "x"}, headers=stranger), 404)

    last = await client.post(
        f"{url}/{second['id']}/answer",
        json={"document_id": document["id"], "answer": "Báo giá đính kèm."},
        headers=owner,
    )
    assert last.status_code == 200, last.text
    closed = last.json()
    assert closed["status"] == "answered" and closed["answered_at"] is not None
    assert closed["items"][1]["document_id"] == document["id"]
    back = await world.get(application)
    assert back["status"] == "under_review" and back["egov_status"] == 4 and back["open_supplement_id"] is None
    assert back["clock_stopped_at"] is None and back["due_at"] is not None
    # Same Hanoi day: no working day used before the stop, so 30 days counted again from the answer.
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            stops = (
                await connection.execute(
                    text("SELECT clock_stops FROM applications WHERE id = :id"), {"id": application["id"]}
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    restarted = dt.datetime.fromisoformat(stops[-1]["restarted_at"])
    used = default_calendar().working_days_between(
        dt.datetime.fromisoformat(back["first_submitted_at"]), dt.datetime.fromisoformat(stops[-1]["stopped_at"])
    )
    assert dt.datetime.fromisoformat(back["due_at"]) == default_calendar().add_working_days(
        restarted, settings.processing_days - used
    )

    # Audited (the enterprise sees it too) and evented, with the items.
    history = (
        await client.get(f"/api/v1/applications/{application['id']}/history", params={"limit": 200}, headers=owner)
    ).json()["items"]
    actions = [e["action"] for e in history if "supplement" in e["action"]]
    assert actions == [
        "request_supplement",
        "answer_supplement_item",
        "answer_supplement_item",
        "supplement_answered",
    ], actions
    events = [e for e in await events_of(settings, application["id"]) if "supplement" in e["type"]]
    assert [e["type"] for e in events] == ["application.supplement_requested", "application.supplement_answered"]
    assert events[0]["data"]["egov_status"] == 5 and events[1]["data"]["egov_status"] == 4
    assert [i["needed"] for i in events[0]["data"]["supplement"]["items"]] == [i["needed"] for i in ITEMS]
    listed = (await client.get(base(application), headers=owner)).json()
    assert [r["status"] for r in listed] == ["answered"]

    # Processing goes on: the officer decides on the current version.
    decided = await world.act(back, "decision", actors.officer(9), json={"outcome": "approve", "reason": "Đạt."})
    assert decided["status"] == "approved"


async def test_only_under_review_and_only_officers(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    draft = await world.draft()
    assert assert_problem(await open_request(client, actors, draft), 409)["code"] == "not_under_review"
    application = await world.submitted()
    refused = await client.post(
        base(application), json={"items": ITEMS}, headers=if_match(world.owner(application), application["version"])
    )
    assert_problem(refused, 403)
    assert_problem(await client.post(base(application), json={"items": ITEMS}, headers=actors.officer()), 428)
    for bad in ({"items": []}, {"items": [{"needed": ""}]}, {"items": ITEMS, "extra": 1}, {}):
        response = await client.post(
            base(application), json=bad, headers=if_match(actors.officer(), application["version"])
        )
        assert_problem(response, 422)
    assert (await world.get(application))["egov_status"] == 4
