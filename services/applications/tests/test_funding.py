"""Support types and funding sources (issue 15) on a real PostgreSQL: the type's rules, a budget made of sources,
awards split across them, and no source ever over-committed under concurrent decisions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem, if_match
from fastapi import FastAPI
from sqlmodel import select

from cleanprod_applications.funding.models import AwardAllocation, FundingSource
from cleanprod_kit.audit import AuditRecord
from cleanprod_kit.models import AuditEntry

DONOR = {"code": "donor-sida", "name": "Chương trình tài trợ SIDA", "kind": "foreign_donor"}
CITY = {"code": "city-budget", "name": "Ngân sách thành phố", "kind": "city_budget"}


def sources(donor_vnd: int, city_vnd: int, **donor: Any) -> dict[str, Any]:
    return {
        "budget_vnd": donor_vnd + city_vnd,
        "funding_sources": [{**DONOR, "amount_vnd": donor_vnd, **donor}, {**CITY, "amount_vnd": city_vnd}],
    }


async def _funding(client: httpx.AsyncClient, actors: Actors, call: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/api/v1/calls/{call['id']}/funding", headers=actors.officer())
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_call_without_sources_has_its_budget_as_one_city_budget_source(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    assert call["support_types"] == ["technology_transfer"]
    listed = (await client.get(f"/api/v1/calls/{call['id']}/funding-sources", headers=actors.officer())).json()
    assert [(s["code"], s["kind"], s["amount_vnd"]) for s in listed] == [("city-budget", "city_budget", 10**10)]


async def test_the_budget_is_the_sum_of_its_sources(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call = await world.call(**sources(3_000_000_000, 7_000_000_000))
    assert call["budget_vnd"] == 10_000_000_000
    listed = (await client.get(f"/api/v1/calls/{call['id']}/funding-sources", headers=actors.officer())).json()
    assert [(s["code"], s["rank"]) for s in listed] == [("donor-sida", 0), ("city-budget", 1)]
    from applications_helpers import call_body

    wrong = call_body(**sources(3_000_000_000, 7_000_000_000)) | {"budget_vnd": 9_000_000_000}
    response = await client.post("/api/v1/calls", json=wrong, headers=actors.officer())
    assert_problem(response, 422)
    assert "budget_not_sum_of_sources" in response.text
    # A PATCH of the budget of a call made of several sources is refused; of a one-source call it resizes it.
    response = await client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"budget_vnd": 11_000_000_000},
        headers=if_match(actors.officer(), call["version"]),
    )
    assert_problem(response, 409)
    assert response.json()["code"] == "budget_set_by_sources"


async def test_an_award_larger_than_the_donor_has_left_is_split_over_two_sources(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call(**sources(500_000_000, 9_500_000_000))
    application = await world.approved(call=call)  # 800 M: 500 M from the donor, 300 M from the city budget
    funding = (await client.get(f"/api/v1/applications/{application['id']}/funding", headers=actors.officer())).json()
    assert [(a["source_code"], a["amount_vnd"]) for a in funding["allocations"]] == [
        ("donor-sida", 500_000_000),
        ("city-budget", 300_000_000),
    ]
    tranches = application["tranches"]
    advances = sorted(t["amount_vnd"] for t in tranches if t["kind"] == "advance")
    assert advances == [90_000_000, 150_000_000]  # 30 % of each source's part
    assert len({t["source_id"] for t in tranches}) == 2
    report = await _funding(client, actors, call)
    by_code = {s["code"]: s for s in report["sources"]}
    assert by_code["donor-sida"]["committed_vnd"] == 500_000_000 and by_code["donor-sida"]["remaining_vnd"] == 0
    assert by_code["city-budget"]["figures"]["outstanding_vnd"] == 300_000_000
    assert report["figures"]["awarded_vnd"] == 800_000_000 == report["figures"]["committed_vnd"]


async def test_twenty_decisions_at_once_against_a_donor_source_for_ten(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    """The must-show: the donor can fund ten awards of 800 M and the city budget five more; 20 officers' approvals
    at once → exactly 10 funded from the donor, 5 from the city, 5 refused, no source ever above its amount."""
    call = await world.call(**sources(8_000_000_000, 4_000_000_000))
    applications = await asyncio.gather(*[world.reviewed(call=call) for _ in range(20)])
    results = await asyncio.gather(
        *[
            client.post(
                f"/api/v1/applications/{a['id']}/decision",
                json={"outcome": "approve", "reason": "Đạt"},
                headers=if_match(actors.officer(9), a["version"]),
            )
            for a in applications
        ]
    )
    codes = [r.status_code for r in results]
    assert codes.count(200) == 15 and codes.count(409) == 5, codes
    async with app_and_client[0].state.db.session() as session:
        rows = (await session.exec(select(FundingSource).where(FundingSource.call_id == call["id"]))).all()
        by_code = {s.code: s for s in rows}
        donor, city = by_code["donor-sida"], by_code["city-budget"]
        donor_parts = (await session.exec(select(AwardAllocation).where(AwardAllocation.source_id == donor.id))).all()
        city_parts = (await session.exec(select(AwardAllocation).where(AwardAllocation.source_id == city.id))).all()
    assert donor.committed_vnd == donor.amount_vnd == 8_000_000_000
    assert city.committed_vnd == city.amount_vnd == 4_000_000_000
    assert len(donor_parts) == 10 and {p.amount_vnd for p in donor_parts} == {800_000_000}
    assert len(city_parts) == 5 and {p.amount_vnd for p in city_parts} == {800_000_000}
    report = await _funding(client, actors, call)
    assert all(s["remaining_vnd"] == 0 for s in report["sources"])


async def test_a_source_funds_only_its_support_types(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call = await world.call(
        support_types=["technology_transfer", "cp_assessment"],
        **sources(5_000_000_000, 5_000_000_000, support_types=["technology_transfer"]),
    )
    application = await world.approved(call=call, support_type="cp_assessment", requested_support_vnd=150_000_000)
    funding = (await client.get(f"/api/v1/applications/{application['id']}/funding", headers=actors.officer())).json()
    assert [a["source_code"] for a in funding["allocations"]] == ["city-budget"]


async def test_a_call_funds_only_its_support_types(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call = await world.call()
    response = await client.post(
        "/api/v1/applications",
        json={"call_id": call["id"], "facility_id": world.a.steel_facility, "support_type": "replication"},
        headers=actors.enterprise(world.a.tax_code),
    )
    assert_problem(response, 422)
    assert response.json()["errors"][0]["code"] == "support_type_not_funded"


async def _savings_verified(app: FastAPI, application_id: str) -> dict[str, bool]:
    """Each event type of the application → the `savings_verified` its payload says (what verification reads)."""
    from sqlalchemy import text

    async with app.state.db.session() as session:
        rows = await session.exec(
            text("SELECT event_type, payload FROM outbox_events WHERE aggregate_id = :id").bindparams(id=application_id)
        )
        return {row.event_type: row.payload.get("savings_verified") for row in rows}


async def test_an_assessment_is_capped_by_its_type_and_paid_on_completion_with_the_consultant_report(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    call = await world.call(support_types=["cp_assessment"])
    application = await world.in_progress(call=call, support_type="cp_assessment")
    assert application["approved_support_vnd"] == 200_000_000  # the type's cap, below the call's 2 000 M
    assert application["award_limit"] == "cap"
    response = await client.post(
        f"/api/v1/applications/{application['id']}/completion",
        json={"reason": "Đã hoàn thành đánh giá."},
        headers=if_match(world.owner(application), application["version"]),
    )
    assert_problem(response, 422)
    assert response.json()["errors"] == [
        {"field": "documents", "code": "document_required", "message": "Attach a document of kind consultant_report."}
    ]
    upload = await client.post(
        f"/api/v1/applications/{application['id']}/documents",
        files={
            "file": (
                "bao-cao-danh-gia.pdf",
                b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n",
                "application/pdf",
            )
        },
        data={"kind": "consultant_report"},
        headers=world.owner(application),
    )
    assert upload.status_code == 201, upload.text
    application = await world.get(application)
    completed = await world.act(application, "completion", world.owner(application), json={"reason": "Xong."})
    assert completed["status"] == "completed"
    balance = next(t for t in completed["tranches"] if t["kind"] == "balance")
    assert (balance["status"], balance["amount_vnd"]) == ("payable", 140_000_000)
    # Its events tell the verification service there is nothing to verify (it opens no case).
    told = await _savings_verified(app_and_client[0], application["id"])
    assert told["application.approved"] is False and told["application.completed"] is False
    other = await world.approved()
    assert (await _savings_verified(app_and_client[0], other["id"]))["application.approved"] is True
    # A verdict for an assessment (nothing to verify) changes nothing and is recorded as ignored.
    await world.conclude(completed, "not_achieved", ratio=0.1)
    after = await world.get(completed)
    assert after["status"] == "completed" and after["tranches"] == completed["tranches"]
    history = (await client.get(f"/api/v1/applications/{completed['id']}/history", headers=actors.officer())).json()
    assert history["items"][-1]["action"] == "verdict_ignored"


async def test_a_replication_needs_the_model_s_specification_to_be_submitted(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call(support_types=["replication"])
    draft = await world.draft(call, support_type="replication")
    response = await client.post(
        f"/api/v1/applications/{draft['id']}/submit", headers=if_match(world.owner(draft), draft["version"])
    )
    assert_problem(response, 422)
    assert response.json()["code"] == "documents_missing"
    assert [e["code"] for e in response.json()["errors"]] == ["document_required"]


async def test_an_officer_adds_a_source_and_the_budget_grows_by_it(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call(budget_vnd=800_000_000)
    await world.approved(call=call)  # the city budget is used up
    url = f"/api/v1/calls/{call['id']}/funding-sources"
    body = {**DONOR, "amount_vnd": 1_600_000_000, "conditions": "Chỉ hỗ trợ thiết bị nhập khẩu từ EU."}
    stale = await client.post(url, json=body, headers=if_match(actors.officer(), call["version"] - 1))
    assert_problem(stale, 412)
    call = (await client.get(f"/api/v1/calls/{call['id']}", headers=actors.officer())).json()
    added = await client.post(url, json=body, headers=if_match(actors.officer(), call["version"]))
    assert added.status_code == 201, added.text
    assert (added.json()["code"], added.json()["rank"], added.json()["remaining_vnd"]) == (
        "donor-sida",
        1,
        1_600_000_000,
    )
    again = await client.post(url, json=body, headers=if_match(actors.officer(), call["version"] + 1))
    assert_problem(again, 409)
    assert again.json()["code"] == "duplicate_source_code"
    refused = await client.post(url, json=body, headers=if_match(actors.enterprise(world.a.tax_code), 1))
    assert_problem(refused, 403)
    grown = (await client.get(f"/api/v1/calls/{call['id']}", headers=actors.officer())).json()
    assert (grown["budget_vnd"], grown["remaining_vnd"]) == (2_400_000_000, 1_600_000_000)
    funded = await world.approved(call=call)
    funding = (await client.get(f"/api/v1/applications/{funded['id']}/funding", headers=actors.officer())).json()
    assert [a["source_code"] for a in funding["allocations"]] == ["donor-sida"]


async def test_an_officer_changes_a_source_and_never_below_what_it_committed(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    call = await world.call(**sources(500_000_000, 9_500_000_000))
    await world.approved(call=call)  # 500 M committed from the donor, 300 M from the city budget
    call = (await client.get(f"/api/v1/calls/{call['id']}", headers=actors.officer())).json()
    donor = next(s for s in await _sources(client, actors, call) if s["code"] == "donor-sida")
    url = f"/api/v1/calls/{call['id']}/funding-sources/{donor['id']}"
    below = await client.patch(
        url, json={"amount_vnd": 400_000_000}, headers=if_match(actors.officer(), call["version"])
    )
    assert_problem(below, 409)
    assert below.json()["code"] == "source_below_committed"
    assert below.json()["errors"][0]["field"] == "amount_vnd"
    stale = await client.patch(url, json={"name": "SIDA"}, headers=if_match(actors.officer(), call["version"] - 1))
    assert_problem(stale, 412)
    change = {"amount_vnd": 700_000_000, "name": "Chương trình SIDA giai đoạn 2", "conditions": "Thiết bị từ EU."}
    changed = await client.patch(url, json=change, headers=if_match(actors.officer(), call["version"]))
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == f'"{call["version"] + 1}"'  # the call's new version
    body = changed.json()
    assert (body["name"], body["amount_vnd"], body["remaining_vnd"], body["code"]) == (
        "Chương trình SIDA giai đoạn 2",
        700_000_000,
        200_000_000,
        "donor-sida",
    )
    grown = (await client.get(f"/api/v1/calls/{call['id']}", headers=actors.officer())).json()
    assert grown["budget_vnd"] == 10_200_000_000 and grown["committed_vnd"] == 800_000_000
    for headers in (actors.finance(), actors.enterprise(world.a.tax_code)):
        assert_problem(await client.patch(url, json={"name": "x"}, headers=if_match(headers, grown["version"])), 403)
    unknown = await client.patch(
        f"/api/v1/calls/{call['id']}/funding-sources/{call['id']}",
        json={"name": "x"},
        headers=if_match(actors.officer(), grown["version"]),
    )
    assert_problem(unknown, 404)
    async with app_and_client[0].state.db.session() as session:
        (entry,) = (
            await session.exec(
                select(AuditEntry).where(
                    AuditEntry.entity_type == "call",
                    AuditEntry.entity_id == call["id"],
                    AuditEntry.action == "update_funding_source",
                )
            )
        ).all()
    changes = {(c.field, c.old, c.new) for c in AuditRecord.of(entry).changes}
    assert ("amount_vnd", 500_000_000, 700_000_000) in changes and ("name", DONOR["name"], change["name"]) in changes


async def _sources(client: httpx.AsyncClient, actors: Actors, call: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/calls/{call['id']}/funding-sources", headers=actors.officer())
    assert response.status_code == 200, response.text
    return response.json()
