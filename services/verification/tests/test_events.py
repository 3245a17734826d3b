"""Cases are opened by the applications service's events: the baseline and claim are frozen, duplicates do
nothing, a completion report makes the case ready to conclude, and bad or early events never block the sender."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from verification_helpers import (
    Actors,
    DownRegistry,
    application_event,
    assert_problem,
    case_of,
    post_event,
    steel_plant,
)

from cleanprod_kit.testing.fixtures import running
from cleanprod_verification.config import VerificationSettings
from cleanprod_verification.main import create_app


async def count_cases(app: FastAPI, application_id: str) -> int:
    async with app.state.db.session() as session:
        result = await session.exec(
            text("SELECT count(*) FROM verification_cases WHERE application_id = :a").bindparams(
                a=uuid.UUID(application_id)
            )
        )
        return int(result.scalar_one())


async def event_audit(app: FastAPI, event_id: str) -> Any:
    """The audit row the service wrote about an event it did not apply."""
    async with app.state.db.session() as session:
        return (
            await session.exec(
                text("SELECT action, reason FROM audit_log WHERE entity_type = 'event' AND entity_id = :e").bindparams(
                    e=event_id
                )
            )
        ).one()


async def test_approval_opens_a_case_with_the_frozen_baseline_and_claim(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
    app: FastAPI,
) -> None:
    plant = await steel_plant(registry, actors)
    envelope = application_event(plant, claimed=8.0, per_carrier={"electricity": 9.0, "coal_grade_3_4": 6.5})
    response = await post_event(client, actors, envelope)
    assert response.status_code == 200 and response.json() == {"id": envelope["id"], "duplicate": False}

    case = await case_of(client, actors, envelope["data"]["application_id"])
    assert case["status"] == "awaiting_assignment" and case["ready_to_conclude"] is False
    assert case["dossier_code"] == envelope["data"]["dossier_code"]
    assert case["facility"] == {
        "id": plant.facility["id"],
        "name": "Nhà máy cán thép Đông Anh",
        "sector_code": "steel",
        "products": ["hot rolling long products"],
        "capacity_quantity": 250000.0,
        "capacity_unit": "t/yr",
        "ward": "Xã Đông Anh",
        "district": "Huyện Đông Anh",
    }
    assert case["enterprise"]["tax_code"] == plant.enterprise["tax_code"]
    assert case["supplier"] == {"name": "Công ty TNHH Công nghệ Nhiệt Việt", "tax_code": "0109876543"}
    assert case["claim"] == {"overall_percent": 8.0, "per_carrier_percent": {"electricity": 9.0, "coal_grade_3_4": 6.5}}
    assert case["approved_support_vnd"] == 2_500_000_000
    frozen = case["baseline"]
    assert frozen["period_count"] == 12 and frozen["note"] is None
    assert [p["registry_id"] for p in frozen["periods"]] == [b["id"] for b in plant.baseline]
    assert frozen["periods"][0]["production"] == {"quantity": 800.0, "unit": "t"}
    assert frozen["periods"][0]["consumption"][0] == {"carrier": "electricity", "quantity": 605.0, "unit": "MWh"}

    history = (await client.get(f"/api/v1/verifications/{case['id']}/history", headers=actors.auditor)).json()["items"]
    assert [h["action"] for h in history] == ["open"]
    assert history[0]["actor_role"] == "service" and history[0]["details"]["baseline_periods"] == 12

    # The same event delivered again: acknowledged as a duplicate, nothing changes.
    again = await post_event(client, actors, envelope)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    # A new event id for the same application (a replay from the feed): still one case.
    replay = {**envelope, "id": str(uuid.uuid4())}
    assert (await post_event(client, actors, replay)).json()["duplicate"] is False
    assert await count_cases(app, envelope["data"]["application_id"]) == 1

    # The baseline is a copy: correcting it in the registry afterwards does not change the case.
    first = plant.baseline[0]
    body = {k: first[k] for k in ("period_start", "period_end", "production", "consumption", "estimated")}
    body["consumption"] = [{"carrier": "electricity", "quantity": 999.0, "unit": "MWh"}, first["consumption"][1]]
    changed = await registry.put(
        f"/api/v1/facilities/{plant.facility['id']}/baselines/{first['id']}",
        headers={**actors.officer, "If-Match": f'"{first["version"]}"'},
        json=body,
    )
    assert changed.status_code == 200, changed.text
    still = await case_of(client, actors, envelope["data"]["application_id"])
    assert still["baseline"]["periods"][0]["consumption"][0]["quantity"] == 605.0


async def test_completion_makes_the_case_ready(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await steel_plant(registry, actors)
    approved = application_event(plant)
    await post_event(client, actors, approved)
    completed = application_event(
        plant, event_type="application.completed", application_id=uuid.UUID(approved["data"]["application_id"])
    )
    assert (await post_event(client, actors, completed)).status_code == 200
    case = await case_of(client, actors, approved["data"]["application_id"])
    assert case["ready_to_conclude"] is True and case["completed_on"] == "2024-12-20"
    history = (await client.get(f"/api/v1/verifications/{case['id']}/history", headers=actors.officer)).json()["items"]
    assert [h["action"] for h in history] == ["open", "completion_reported"]


async def test_completion_without_the_approval_still_opens_the_case(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    plant = await steel_plant(registry, actors)
    completed = application_event(plant, event_type="application.completed")
    assert (await post_event(client, actors, completed)).status_code == 200
    case = await case_of(client, actors, completed["data"]["application_id"])
    assert case["ready_to_conclude"] is True and case["baseline"]["period_count"] == 12


async def test_an_assessment_opens_no_case_and_the_skip_is_recorded(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors, app: FastAPI
) -> None:
    """Issue 15: a cleaner-production assessment's savings are not verified (the support type says so in the
    event): neither its approval nor its completion opens a case; both are acknowledged and recorded."""
    plant = await steel_plant(registry, actors)
    approved = application_event(plant)
    approved["data"].update(support_type="cp_assessment", savings_verified=False)
    completed = application_event(plant, event_type="application.completed")
    completed["data"].update(
        application_id=approved["data"]["application_id"], support_type="cp_assessment", savings_verified=False
    )
    for envelope in (approved, completed):
        response = await post_event(client, actors, envelope)
        assert response.status_code == 200 and response.json()["duplicate"] is False
        row = await event_audit(app, envelope["id"])
        assert row.action == "no_case" and "cp_assessment" in row.reason
    assert await count_cases(app, approved["data"]["application_id"]) == 0
    verified = application_event(plant)  # the same producer, a technology transfer: a case as before
    assert (await post_event(client, actors, verified)).status_code == 200
    assert await count_cases(app, verified["data"]["application_id"]) == 1


async def test_other_payload_spellings_are_not_read(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors, app: FastAPI
) -> None:
    """Issue 12: the payload is the contract `ApplicationEvent`, no longer "several spellings accepted" — a
    payload in other words opens no case; it is acknowledged and recorded, naming what the contract missed."""
    plant = await steel_plant(registry, actors)
    envelope = application_event(plant)
    data: dict[str, Any] = envelope["data"]
    for key in ("claimed_overall_saving_pct", "claimed_savings", "supplier", "approved_support_vnd"):
        data.pop(key)
    data.update(
        claimed_savings_pct=7.5,
        claimed_savings_per_carrier={"electricity": 8.0},
        supplier_name="Công ty Thiết bị Nhiệt",
        supplier_tax_code="0101111111",
        approved_amount_vnd=900,
    )
    response = await post_event(client, actors, envelope)
    assert response.status_code == 200 and response.json()["duplicate"] is False
    assert await count_cases(app, data["application_id"]) == 0
    row = await event_audit(app, envelope["id"])
    assert row.action == "ignored"
    assert "claimed_overall_saving_pct (Field required)" in row.reason
    assert "claimed_savings_pct (Extra inputs are not permitted)" in row.reason


async def test_unreadable_event_is_acknowledged_and_recorded(
    client: httpx.AsyncClient, actors: Actors, app: FastAPI
) -> None:
    envelope = {
        "id": str(uuid.uuid4()),
        "seq": 7,
        "type": "application.approved",
        "aggregate_type": "application",
        "aggregate_id": "x",
        "occurred_at": "2026-01-05T03:00:00Z",
        "source": "applications",
        "data": {"dossier_code": "000.00.01.H26-260105-0001"},
    }
    response = await post_event(client, actors, envelope)
    assert response.status_code == 200 and response.json()["duplicate"] is False
    row = await event_audit(app, envelope["id"])
    assert row.action == "ignored" and "application_id" in row.reason


async def test_events_need_a_service_token(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await steel_plant(registry, actors)
    envelope = application_event(plant)
    assert_problem(await client.post("/internal/events", json=envelope, headers=actors.officer), 403)
    assert_problem(await client.post("/internal/events", json=envelope), 401)
    assert_problem(await client.post("/internal/events", json={"id": "nope"}, headers=actors.service), 422)


async def test_registry_down_fails_the_delivery_so_the_sender_retries(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
    app: FastAPI,
    verification_settings: VerificationSettings,
) -> None:
    plant = await steel_plant(registry, actors)
    envelope = application_event(plant)
    cut_off = create_app(verification_settings, service_client=DownRegistry())  # type: ignore[arg-type]
    async with running(cut_off) as other:
        problem = assert_problem(await post_event(other, actors, envelope), 503)
    assert "registry" in problem["detail"]
    assert await count_cases(app, envelope["data"]["application_id"]) == 0
    # the retry (same event id) is processed, not taken for a duplicate
    retried = await post_event(client, actors, envelope)
    assert retried.status_code == 200 and retried.json()["duplicate"] is False
    assert await count_cases(app, envelope["data"]["application_id"]) == 1


@pytest.mark.parametrize("status", ["awaiting_assignment", "concluded"])
async def test_list_filters_by_status(client: httpx.AsyncClient, actors: Actors, status: str) -> None:
    page = await client.get("/api/v1/verifications", params={"status": status, "limit": 200}, headers=actors.auditor)
    assert page.status_code == 200
    assert all(item["status"] == status for item in page.json()["items"])
    assert all(item["baseline"]["periods"] is None for item in page.json()["items"])
