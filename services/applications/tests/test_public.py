"""The portal's anonymous routes (/api/v1/public): open calls, one call, a dossier's status by its code. Served
without any token; nothing confidential (applicant, title, amounts of an application, bookkeeping) in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem, days

PUBLIC_CALL_FIELDS = {
    "id",
    "code",
    "title",
    "description",
    "opens_on",
    "closes_on",
    "is_open",
    "budget_vnd",
    "remaining_vnd",
    "support_rate_bp",
    "cap_per_project_vnd",
    "eligible_sectors",
    "criteria",
    "min_reviews",
    "pass_score_pct",
}
DOSSIER_FIELDS = {"dossier_code", "status", "egov_status", "egov_status_label", "received_at", "due_at", "decided_at"}


async def _all_public_calls(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/api/v1/public/calls", params=params)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def test_public_calls_are_those_not_yet_closed_by_closing_date(client: httpx.AsyncClient, world: World) -> None:
    closed = await world.call(opens_on=days(-40), closes_on=days(-1))
    closing_today = await world.call(opens_on=days(-5), closes_on=days(0))
    upcoming = await world.call(opens_on=days(10), closes_on=days(40))
    items = await _all_public_calls(client)
    ids = [c["id"] for c in items]
    assert len(ids) == len(set(ids))  # keyset pages: no repeats
    assert closed["id"] not in ids
    assert closing_today["id"] in ids and upcoming["id"] in ids
    assert all(c["closes_on"] >= days(0) for c in items)
    assert [(c["closes_on"], c["id"]) for c in items] == sorted((c["closes_on"], c["id"]) for c in items)
    by_id = {c["id"]: c for c in items}
    assert by_id[closing_today["id"]]["is_open"] is True and by_id[upcoming["id"]]["is_open"] is False
    for item in items:
        assert set(item) == PUBLIC_CALL_FIELDS
        assert all(set(c) == {"code", "name", "weight", "max_score"} for c in item["criteria"])


async def test_public_call_by_id_also_closed_and_same_meanings_as_the_staff_view(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    approved = await world.approved()
    staff = (await client.get(f"/api/v1/calls/{approved['call_id']}", headers=actors.officer())).json()
    response = await client.get(f"/api/v1/public/calls/{approved['call_id']}")
    assert response.status_code == 200, response.text
    public = response.json()
    assert set(public) == PUBLIC_CALL_FIELDS
    assert public == {name: staff[name] for name in PUBLIC_CALL_FIELDS}
    assert public["remaining_vnd"] < public["budget_vnd"]  # the committed figure shows only as what remains
    closed = await world.call(opens_on=days(-40), closes_on=days(-1))
    response = await client.get(f"/api/v1/public/calls/{closed['id']}")
    assert response.status_code == 200 and response.json()["is_open"] is False
    missing = await client.get("/api/v1/public/calls/0190f0f0-0000-7000-8000-000000000000")
    assert_problem(missing, 404)
    assert_problem(await client.get("/api/v1/public/calls/not-a-uuid"), 422)


async def test_public_dossier_status_only_status_and_dates(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.submitted()
    code = application["dossier_code"]
    response = await client.get(f"/api/v1/public/dossiers/{code}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == DOSSIER_FIELDS
    assert body["dossier_code"] == code and body["status"] == "under_review"
    assert body["egov_status"] == 4 and body["egov_status_label"] == "Đang xử lý"
    assert body["received_at"].endswith("+07:00") and body["due_at"] > body["received_at"]
    # The same due date as the application (and the e-gov look-up): one stored value, one calendar.
    assert application["due_at"] is not None
    assert dt.datetime.fromisoformat(body["due_at"]) == dt.datetime.fromisoformat(application["due_at"])
    assert body["decided_at"] is None
    text = response.text
    for secret in (
        application["enterprise_name"],
        application["enterprise_tax_code"],
        application["title"],
        str(application["requested_support_vnd"]),
        application["facility_name"],
    ):
        assert secret not in text, secret
    # It agrees with the e-government look-up (the same rules, not a copy).
    egov = (await client.get(f"/api/v1/integrations/dossiers/{code}", headers=actors.egov)).json()
    assert egov["status_code"] == body["egov_status"] and egov["status_label"] == body["egov_status_label"]

    decided = await world.act(
        await world.reviewed(application),
        "decision",
        actors.officer(9),
        json={"outcome": "reject", "reason": "Chưa đạt yêu cầu."},
    )
    body = (await client.get(f"/api/v1/public/dossiers/{code}")).json()
    assert body["status"] == "rejected" and body["egov_status"] == 10 and body["egov_status_label"] == "Đã trả kết quả"
    assert body["decided_at"] is not None and body["decided_at"].endswith("+07:00")
    assert decided["status"] == "rejected"


async def test_public_dossier_unknown_malformed_or_draft_is_404(client: httpx.AsyncClient, world: World) -> None:
    draft = await world.draft()
    assert draft["dossier_code"] is None
    for code in (
        "000.00.01.H26-991231-9999",
        "not-a-code",
        "000.00.01.H26-261301-0001",
        draft["id"],
        "%F0%9F%98%80",
        "x" * 300,
    ):
        assert_problem(await client.get(f"/api/v1/public/dossiers/{code}"), 404)
    # A control character is refused before any look-up, as in every path parameter (kit guard).
    refused = assert_problem(await client.get("/api/v1/public/dossiers/000.00.01.H26-261201-0001%00"), 422)
    assert refused["code"] == "control_characters"


async def test_public_routes_ignore_any_token(client: httpx.AsyncClient, world: World) -> None:
    application = await world.submitted()
    for headers in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        assert (await client.get("/api/v1/public/calls", headers=headers)).status_code == 200
        response = await client.get(f"/api/v1/public/dossiers/{application['dossier_code']}", headers=headers)
        assert response.status_code == 200, response.text
