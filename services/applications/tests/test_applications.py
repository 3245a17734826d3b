"""Drafts: ownership checked with the real registry, edits only while the enterprise holds the pen, screening on
submission, and who may read what."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from applications_helpers import Actors, World, application_body, assert_problem, days, if_match, service_tokens

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.main import create_app
from cleanprod_kit.testing.fixtures import running
from cleanprod_kit.testing.issuer import TestIssuer


async def test_enterprise_cannot_apply_for_another_enterprises_facility(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    body = application_body(call["id"], world.b.steel_facility)
    response = await client.post("/api/v1/applications", json=body, headers=actors.enterprise(world.a.tax_code))
    problem = assert_problem(response, 404)
    assert problem["errors"][0]["field"] == "facility_id"
    unknown = application_body(call["id"], str(uuid.uuid4()))
    assert_problem(
        await client.post("/api/v1/applications", json=unknown, headers=actors.enterprise(world.a.tax_code)), 404
    )


async def test_only_enterprise_staff_with_a_tax_code_create(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    body = application_body(call["id"], world.a.steel_facility)
    assert_problem(await client.post("/api/v1/applications", json=body, headers=actors.officer()), 403)
    assert_problem(await client.post("/api/v1/applications", json=body, headers=actors.headers("enterprise")), 403)


async def test_registry_unreachable_is_503(
    settings: ApplicationsSettings, issuer: TestIssuer, world: World, actors: Actors
) -> None:
    call = await world.call()
    cut_off = settings.model_copy(update={"registry_url": "http://127.0.0.1:9", "registry_timeout_seconds": 2})
    async with running(create_app(cut_off, token_source=service_tokens(issuer))) as http:  # type: ignore[arg-type]
        response = await http.post(
            "/api/v1/applications",
            json=application_body(call["id"], world.a.steel_facility),
            headers=actors.enterprise(world.a.tax_code),
        )
    problem = assert_problem(response, 503)
    assert "registry" in problem["detail"] and response.headers["retry-after"]


async def test_draft_copies_registry_facts_and_idempotency_key_creates_one(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    body = application_body(call["id"], world.a.steel_facility)
    headers = {**actors.enterprise(world.a.tax_code), "Idempotency-Key": str(uuid.uuid4())}
    responses = await asyncio.gather(
        *[client.post("/api/v1/applications", json=body, headers=headers) for _ in range(5)]
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    listed = await client.get("/api/v1/applications", params={"call_id": call["id"]}, headers=actors.officer())
    assert len(listed.json()["items"]) == 1
    draft = listed.json()["items"][0]
    assert draft["enterprise_id"] == world.a.id and draft["enterprise_name"] == world.a.name
    assert draft["facility_name"].startswith("Nhà máy cán thép") and draft["sector_code"] == "steel"
    reused = await client.post("/api/v1/applications", json={**body, "title": "Khác"}, headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused")


async def test_edit_only_while_draft_or_changes_requested(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    draft = await world.draft()
    url = f"/api/v1/applications/{draft['id']}"
    owner = world.owner(draft)
    assert_problem(await client.patch(url, json={"title": "Mới"}, headers=owner), 428)
    edited = await client.patch(
        url, json={"title": "Lắp biến tần cho quạt hút", "supplier": None}, headers=if_match(owner, 1)
    )
    assert edited.status_code == 200 and edited.json()["title"] == "Lắp biến tần cho quạt hút"
    assert edited.json()["supplier"] is None and edited.headers["etag"] == '"2"'
    assert_problem(await client.patch(url, json={"eligible_cost_vnd": 9_000_000_000}, headers=if_match(owner, 2)), 422)
    assert_problem(await client.patch(url, json={"call_id": str(uuid.uuid4())}, headers=if_match(owner, 2)), 422)
    other = actors.enterprise(world.b.tax_code)
    assert_problem(await client.patch(url, json={"title": "x"}, headers=if_match(other, 2)), 404)
    assert_problem(await client.patch(url, json={"title": "x"}, headers=if_match(actors.officer(), 2)), 403)

    submitted = await world.act(edited.json(), "submit", owner)
    assert_problem(
        await client.patch(url, json={"title": "x"}, headers=if_match(owner, submitted["version"])), 409, "not-editable"
    )

    sent_back = await world.reviewed(submitted)
    sent_back = await world.decide(sent_back, "request_changes", "Bổ sung báo giá của nhà cung cấp.")
    assert sent_back["status"] == "changes_requested" and sent_back["egov_status"] == 5
    fixed = await client.patch(
        url, json={"requested_support_vnd": 700_000_000}, headers=if_match(owner, sent_back["version"])
    )
    assert fixed.status_code == 200
    resubmitted = await world.act(fixed.json(), "resubmit", owner)
    assert resubmitted["status"] == "under_review" and resubmitted["dossier_code"] == submitted["dossier_code"]


async def test_screening_lists_every_reason(world: World) -> None:
    call = await world.call(support_rate_bp=3_000, cap_per_project_vnd=500_000_000)
    # paper is not eligible; 800M > 30 % × 2 000M = 600M; 800M > cap 500M
    draft = await world.draft(call, facility=world.a.paper_facility)
    result = await world.act(draft, "submit", world.owner(draft))
    assert result["status"] == "ineligible" and result["egov_status"] == 3 and result["dossier_code"]
    codes = {r["code"] for r in result["screening_reasons"]}
    assert codes == {"sector_not_eligible", "request_exceeds_support_rate", "request_exceeds_cap"}
    assert all(r["message"] for r in result["screening_reasons"])


async def test_closed_call(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    closed = await world.call(opens_on=days(-40), closes_on=days(-1))
    response = await client.post(
        "/api/v1/applications",
        json=application_body(closed["id"], world.a.steel_facility),
        headers=actors.enterprise(world.a.tax_code),
    )
    assert assert_problem(response, 422)["errors"][0]["code"] == "call_closed"

    call = await world.call()
    draft = await world.draft(call)
    closing = await client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"opens_on": days(-30), "closes_on": days(-1)},
        headers=if_match(actors.officer(), call["version"]),
    )
    assert closing.status_code == 200
    result = await world.act(draft, "submit", world.owner(draft))
    assert result["status"] == "ineligible"
    assert [r["code"] for r in result["screening_reasons"]] == ["call_closed"]


async def test_read_rules(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await world.submitted()
    url = f"/api/v1/applications/{application['id']}"
    # a verifier reads only what is assigned to them (issue 9): first nothing, then this application
    assert_problem(await client.get(url, headers=actors.verifier_n(41)), 404)
    assert (await world.assign_verifier(application, "verifier-41")).status_code == 200
    for headers in (world.owner(application), actors.officer(), actors.auditor, actors.verifier_n(41), actors.service):
        assert (await client.get(url, headers=headers)).status_code == 200
    assert_problem(await client.get(url, headers=actors.enterprise(world.b.tax_code)), 404)
    assert_problem(await client.get(url, headers=actors.reviewer(7)), 404)
    assert_problem(await client.get(url, headers=actors.egov), 403)
    await world.assign(application, 7)
    seen = await client.get(url, headers=actors.reviewer(7))
    assert seen.status_code == 200 and seen.json()["review_summary"] is None
    assert (await client.get(url, headers=actors.officer())).json()["review_summary"]["assigned"] == 1
    assert_problem(await client.get(f"/api/v1/applications/{uuid.uuid4()}", headers=actors.officer()), 404)
    assert_problem(await client.get("/api/v1/applications/not-a-uuid", headers=actors.officer()), 422)


async def test_lists_are_filtered_by_visibility_and_query(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    mine = await world.draft(call)
    theirs = await world.draft(call, enterprise=world.b)
    submitted = await world.act(mine, "submit", world.owner(mine))

    def ids(response: httpx.Response) -> set[str]:
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()["items"]}

    params = {"call_id": call["id"]}
    assert ids(await client.get("/api/v1/applications", params=params, headers=world.owner(mine))) == {mine["id"]}
    assert ids(await client.get("/api/v1/applications", params=params, headers=actors.auditor)) == {
        mine["id"],
        theirs["id"],
    }
    assert ids(await client.get("/api/v1/applications", params=params, headers=actors.reviewer(8))) == set()
    await world.assign(submitted, 8)
    assert ids(await client.get("/api/v1/applications", params=params, headers=actors.reviewer(8))) == {mine["id"]}
    by_code = await client.get(
        "/api/v1/applications", params={"dossier_code": submitted["dossier_code"]}, headers=actors.officer()
    )
    assert ids(by_code) == {mine["id"]}
    by_status = await client.get("/api/v1/applications", params={**params, "status": "draft"}, headers=actors.officer())
    assert ids(by_status) == {theirs["id"]}
    by_tax = await client.get(
        "/api/v1/applications", params={**params, "tax_code": world.b.tax_code}, headers=actors.officer()
    )
    assert ids(by_tax) == {theirs["id"]}
    by_enterprise = await client.get(
        "/api/v1/applications", params={**params, "enterprise_id": world.a.id}, headers=actors.officer()
    )
    assert ids(by_enterprise) == {mine["id"]}
    by_sector = await client.get(
        "/api/v1/applications", params={**params, "sector_code": mine["sector_code"]}, headers=actors.officer()
    )
    assert ids(by_sector) == {a["id"] for a in (mine, theirs) if a["sector_code"] == mine["sector_code"]}
    assert (
        ids(
            await client.get(
                "/api/v1/applications", params={**params, "sector_code": "no_such_sector"}, headers=actors.officer()
            )
        )
        == set()
    )
    folded = await client.get(
        "/api/v1/applications", params={**params, "q": "giay phu thuong"}, headers=actors.officer()
    )
    assert ids(folded) == {theirs["id"]}
    page = await client.get("/api/v1/applications", params={**params, "limit": 1}, headers=actors.officer())
    rest = await client.get(
        "/api/v1/applications",
        params={**params, "limit": 1, "cursor": page.json()["next_cursor"]},
        headers=actors.officer(),
    )
    assert ids(page) | ids(rest) == {mine["id"], theirs["id"]} and rest.json()["next_cursor"] is None
    assert_problem(
        await client.get("/api/v1/applications", params={"status": "dreaming"}, headers=actors.officer()), 422
    )
    assert_problem(await client.get("/api/v1/applications", headers=actors.egov), 403)


async def test_withdraw_only_from_draft(world: World) -> None:
    draft = await world.draft()
    withdrawn = await world.act(draft, "withdraw", world.owner(draft), json={"reason": "Đổi phương án công nghệ."})
    assert withdrawn["status"] == "withdrawn" and withdrawn["allowed_actions"] == []
