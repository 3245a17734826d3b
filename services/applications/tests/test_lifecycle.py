"""The whole path, each role doing its part, and every arrow that is not drawn refused with 409."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from applications_helpers import Actors, World, assert_problem, if_match
from fastapi import FastAPI
from sqlmodel import select

from cleanprod_applications.domain.lifecycle import TRANSITIONS, Action, ApplicationStatus
from cleanprod_kit.models import OutboxEvent

DOSSIER = re.compile(r"^000\.00\.01\.H26-\d{6}-\d{4}$")


async def outbox_types(app: FastAPI, application_id: str) -> list[str]:
    async with app.state.db.session() as session:
        rows = await session.exec(
            select(OutboxEvent)
            .where(OutboxEvent.aggregate_type == "application", OutboxEvent.aggregate_id == application_id)
            .order_by(OutboxEvent.seq)
        )
        return [e.event_type for e in rows.all()]


async def outbox_payloads(app: FastAPI, application_id: str) -> list[dict[str, Any]]:
    async with app.state.db.session() as session:
        rows = await session.exec(
            select(OutboxEvent).where(OutboxEvent.aggregate_id == application_id).order_by(OutboxEvent.seq)
        )
        return [e.payload | {"_type": e.event_type} for e in rows.all()]


async def test_whole_path_from_draft_to_verified(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app = app_and_client[0]
    call = await world.call()
    owner = actors.enterprise(world.a.tax_code)

    draft = await world.draft(call)
    assert draft["status"] == "draft" and draft["dossier_code"] is None and draft["egov_status"] is None
    assert draft["enterprise_tax_code"] == world.a.tax_code and draft["enterprise_name"] == world.a.name
    assert draft["sector_code"] == "steel" and draft["facility_id"] == world.a.steel_facility

    submitted = await world.act(draft, "submit", owner, json={"reason": "Nộp hồ sơ trực tuyến"})
    assert submitted["status"] == "under_review"
    assert DOSSIER.match(submitted["dossier_code"]), submitted["dossier_code"]
    assert submitted["screening_reasons"] == [] and submitted["egov_status"] == 4

    for n in (1, 2):
        await world.assign(submitted, n)
        assert (await world.declare(submitted, n)).status_code == 201
        review = await world.score(submitted, n)
        assert review.status_code == 201 and review.json()["score_pct"] == 80.0
    reviewed = await world.get(submitted)
    assert reviewed["review_summary"]["counted"] == 2 and reviewed["review_summary"]["mean_score_pct"] == 80.0

    approved = await world.act(
        reviewed, "decision", actors.officer(9), json={"outcome": "approve", "reason": "Đạt 80 điểm, phù hợp mục tiêu."}
    )
    # min(requested 800M, 50 % × 2 000M, cap 2 000M, budget 10 000M) = 800M: the request itself
    assert approved["status"] == "approved" and approved["approved_support_vnd"] == 800_000_000
    assert approved["award_limit"] == "requested"
    tranches = {t["kind"]: t for t in approved["tranches"]}
    assert tranches["advance"] == tranches["advance"] | {"amount_vnd": 240_000_000, "status": "payable"}
    assert tranches["balance"]["planned_vnd"] == 560_000_000 and tranches["balance"]["status"] == "withheld"
    call_now = (await client.get(f"/api/v1/calls/{call['id']}", headers=owner)).json()
    assert call_now["committed_vnd"] == 800_000_000 and call_now["remaining_vnd"] == 9_200_000_000

    started = await world.act(approved, "start", owner, json={"reason": "Đã ký hợp đồng với nhà cung cấp."})
    assert started["status"] == "in_progress" and started["started_on"]
    completed = await world.act(started, "completion", owner, json={"reason": "Đã nghiệm thu lắp đặt."})
    assert completed["status"] == "completed"

    await world.conclude(completed, "verified")
    verified = await world.get(completed, owner)
    assert verified["status"] == "verified" and verified["egov_status"] == 10
    balance = {t["kind"]: t for t in verified["tranches"]}["balance"]
    assert balance["amount_vnd"] == 560_000_000 and balance["status"] == "payable"

    # every transition is in the history with actor, role and reason, and in the outbox exactly once
    history = (await client.get(f"/api/v1/applications/{draft['id']}/history", headers=actors.auditor)).json()
    moves = [
        (e["action"], e["from_status"], e["to_status"], e["actor_role"])
        for e in history["items"]
        if e["action"] in {a.value for a in Action}
    ]
    assert moves == [
        ("submit", "draft", "submitted", "enterprise"),
        ("screen_pass", "submitted", "under_review", "service"),
        ("decide_approve", "under_review", "approved", "officer"),
        ("start", "approved", "in_progress", "enterprise"),
        ("complete", "in_progress", "completed", "enterprise"),
        ("record_verified", "completed", "verified", "service"),
    ]
    by_action = {e["action"]: e for e in history["items"]}
    assert by_action["submit"]["reason"] == "Nộp hồ sơ trực tuyến"
    assert by_action["decide_approve"]["reason"] == "Đạt 80 điểm, phù hợp mục tiêu."
    assert by_action["decide_approve"]["actor_name"] == "officer9"
    assert all(e["request_id"] for e in history["items"])
    assert {"create", "assign_reviewer", "declare_conflict", "submit_review"} <= set(by_action)

    assert await outbox_types(app, draft["id"]) == [
        "application.submitted",
        "application.screening_passed",
        "application.approved",
        "application.started",
        "application.completed",
        "application.verified",
    ]
    approved_event = next(p for p in await outbox_payloads(app, draft["id"]) if p["_type"] == "application.approved")
    for field in (
        "application_id",
        "dossier_code",
        "facility_id",
        "enterprise_id",
        "enterprise_tax_code",
        "enterprise_name",
        "sector_code",
        "supplier",
        "claimed_savings",
        "claimed_overall_saving_pct",
        "approved_support_vnd",
        "implementation_start",
        "implementation_end",
        "call_code",
        "tranches",
    ):
        assert approved_event[field] not in (None, [], ""), field
    assert approved_event["claimed_savings"][0]["carrier"] == "electricity"

    # the enterprise's history view leaves out who reviewed it
    own_history = (await client.get(f"/api/v1/applications/{draft['id']}/history", headers=owner)).json()
    assert not {"assign_reviewer", "declare_conflict", "submit_review"} & {e["action"] for e in own_history["items"]}


async def test_not_achieved_reduces_the_balance_pro_rata(world: World, actors: Actors) -> None:
    completed = await world.completed()
    await world.conclude(completed, "not_achieved", ratio=0.75)
    result = await world.get(completed)
    assert result["status"] == "not_achieved" and result["achieved_ratio"] == 0.75
    tranches = {t["kind"]: t for t in result["tranches"]}
    # award 800M, advance 240M; balance 560M × 0.75 = 420M, nothing recovered
    assert tranches["balance"]["amount_vnd"] == 420_000_000 and tranches["balance"]["status"] == "payable"
    assert "recovery" not in tranches


async def test_below_threshold_recovers_the_advance_pro_rata_and_releases_budget(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    completed = await world.completed(call=call)
    await world.pay(completed)  # a recovery is of an advance that was paid (unpaid: test_unpaid_advance_…)
    await world.conclude(completed, "not_achieved", ratio=0.4)
    result = await world.get(completed)
    tranches = {t["kind"]: t for t in result["tranches"]}
    # ratio 0.4 < 0.5 threshold: no balance, recover ceil(240M × 0.6) = 144M; the enterprise keeps 96M
    assert tranches["balance"]["amount_vnd"] == 0 and tranches["balance"]["status"] == "cancelled"
    assert tranches["recovery"]["amount_vnd"] == 144_000_000 and tranches["recovery"]["status"] == "recovery_due"
    call_now = (await client.get(f"/api/v1/calls/{call['id']}", headers=actors.officer())).json()
    assert call_now["committed_vnd"] == 96_000_000


async def test_unpaid_advance_below_threshold_is_cut_not_recovered(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    """Nothing was paid, so nothing is recovered: the advance is cut to what the enterprise keeps (96 M of 240 M, as
    when it was paid) and the books count the cut as cancelled."""
    call = await world.call()
    completed = await world.completed(call=call)
    await world.conclude(completed, "not_achieved", ratio=0.4)
    result = await world.get(completed)
    tranches = {t["kind"]: t for t in result["tranches"]}
    assert "recovery" not in tranches
    assert (tranches["advance"]["status"], tranches["advance"]["amount_vnd"]) == ("payable", 96_000_000)
    assert tranches["balance"]["status"] == "cancelled"
    call_now = (await client.get(f"/api/v1/calls/{call['id']}", headers=actors.officer())).json()
    assert call_now["committed_vnd"] == 96_000_000
    funding = (await client.get(f"/api/v1/applications/{completed['id']}/funding", headers=actors.officer())).json()
    f = funding["figures"]
    assert (f["awarded_vnd"], f["paid_vnd"], f["cancelled_vnd"], f["outstanding_vnd"]) == (
        800_000_000,
        0,
        704_000_000,
        96_000_000,
    )
    assert (f["recovery_raised_vnd"], f["committed_vnd"]) == (0, 96_000_000)
    paid = await world.pay(completed)  # the cut advance is paid like any other
    assert (paid["status"], paid["paid_vnd"]) == ("paid", 96_000_000)


async def test_prepared_advance_with_nothing_to_keep_is_cancelled(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    """r = 0 with the payment order already approved: the advance is cancelled (no recovery, no payment), and the
    approved order cannot be marked paid any more."""
    completed = await world.completed()
    advance = next(t for t in completed["tranches"] if t["kind"] == "advance")
    advance = await world.tranche_step(completed, advance, "prepare", actors.finance(1))
    advance = await world.tranche_step(completed, advance, "approve", actors.officer(2))
    await world.conclude(completed, "not_achieved", ratio=0.0)
    result = await world.get(completed)
    tranches = {t["kind"]: t for t in result["tranches"]}
    assert "recovery" not in tranches
    cut = tranches["advance"]
    assert (cut["status"], cut["amount_vnd"], cut["approved_by_name"]) == ("cancelled", 0, None)
    late = await client.post(
        f"/api/v1/applications/{completed['id']}/tranches/{cut['id']}/paid",
        json={"paid_on": "2026-01-05", "reference": "KBNN-1", "amount_vnd": 240_000_000},
        headers=if_match(actors.finance(1), cut["version"]),
    )
    assert late.status_code == 409 and late.json()["code"] == "payment_step_not_allowed"
    funding = (await client.get(f"/api/v1/applications/{completed['id']}/funding", headers=actors.officer())).json()
    f = funding["figures"]
    assert (f["paid_vnd"], f["cancelled_vnd"], f["outstanding_vnd"], f["recovery_raised_vnd"]) == (
        0,
        800_000_000,
        0,
        0,
    )
    assert f["committed_vnd"] == 0


async def test_duplicate_event_id_changes_nothing(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    completed = await world.completed()
    first = await world.conclude(completed, "not_achieved", ratio=0.75)
    assert first.json()["duplicate"] is False
    before = await world.get(completed)
    again = await world.conclude(completed, "not_achieved", ratio=0.75, event_id=first.json()["id"])
    assert again.json()["duplicate"] is True
    after = await world.get(completed)
    assert after == before
    assert (await outbox_types(app_and_client[0], completed["id"])).count("application.not_achieved") == 1


async def test_verdict_before_completion_is_stored_and_applied_on_completion(world: World, actors: Actors) -> None:
    started = await world.in_progress()
    await world.conclude(started, "verified")
    assert (await world.get(started))["status"] == "in_progress"
    completed = await world.act(started, "completion", world.owner(started))
    assert completed["status"] == "verified"


async def test_verdict_for_a_final_application_is_acknowledged_and_ignored(world: World) -> None:
    verified = await world.at("verified")
    await world.conclude(verified, "not_achieved", ratio=0.1)
    assert (await world.get(verified))["status"] == "verified"


async def test_events_only_from_services_and_well_formed(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    envelope = {
        "id": "0190f4c2-3b1a-7c1d-9e2f-3a4b5c6d7e8f",
        "seq": 1,
        "type": "verification.concluded",
        "aggregate_type": "verification",
        "aggregate_id": "x",
        "occurred_at": "2026-11-28T10:00:00Z",
        "source": "verification",
        "data": {"application_id": "not-a-uuid", "verdict": "maybe"},
    }
    assert_problem(await client.post("/internal/events", json=envelope, headers=actors.officer()), 403)
    problem = assert_problem(await client.post("/internal/events", json=envelope, headers=actors.service), 422)
    assert {e["field"] for e in problem["errors"]} == {"data.application_id", "data.verdict"}


# ---- every arrow not drawn is a 409 -------------------------------------------------------------------------------

ROUTES: dict[Action, tuple[str, str, dict[str, Any] | None]] = {
    # action: (path, who, body)
    Action.SUBMIT: ("submit", "owner", None),
    Action.WITHDRAW: ("withdraw", "owner", None),
    Action.RESUBMIT: ("resubmit", "owner", None),
    Action.DECIDE_APPROVE: ("decision", "officer", {"outcome": "approve", "reason": "x"}),
    Action.DECIDE_REJECT: ("decision", "officer", {"outcome": "reject", "reason": "x"}),
    Action.REQUEST_CHANGES: ("decision", "officer", {"outcome": "request_changes", "reason": "x"}),
    Action.START: ("start", "owner", None),
    Action.COMPLETE: ("completion", "owner", None),
}
REACHABLE = [s for s in ApplicationStatus if s is not ApplicationStatus.SUBMITTED]  # screening is immediate
ILLEGAL = [(s, a) for s in REACHABLE for a in ROUTES if (s, a) not in TRANSITIONS]


@pytest.fixture(scope="module")
async def in_each_status(world: World) -> dict[ApplicationStatus, dict[str, Any]]:
    return {status: await world.at(status) for status in REACHABLE}


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
async def test_undrawn_transition_is_409(
    status: ApplicationStatus,
    action: Action,
    client: httpx.AsyncClient,
    world: World,
    actors: Actors,
    in_each_status: dict[ApplicationStatus, dict[str, Any]],
) -> None:
    application = in_each_status[status]
    path, who, body = ROUTES[action]
    headers = world.owner(application) if who == "owner" else actors.officer(9)
    response = await client.post(
        f"/api/v1/applications/{application['id']}/{path}", json=body, headers=if_match(headers, application["version"])
    )
    problem = assert_problem(response, 409, "illegal-transition")
    assert problem["status_now"] == status
    assert (await world.get(application))["status"] == status  # nothing moved


def test_the_table_covers_every_state_and_route() -> None:
    assert len(ILLEGAL) == len(REACHABLE) * len(ROUTES) - sum(
        1 for (s, a) in TRANSITIONS if a in ROUTES and s in REACHABLE
    )


async def test_outbox_holds_exactly_one_event_per_recorded_transition(
    client: httpx.AsyncClient,
    actors: Actors,
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
    in_each_status: dict[ApplicationStatus, dict[str, Any]],
) -> None:
    from cleanprod_applications.applications.flows import EVENT_TYPES

    for status, application in in_each_status.items():
        history = (
            await client.get(f"/api/v1/applications/{application['id']}/history", headers=actors.auditor)
        ).json()["items"]
        transitions = [EVENT_TYPES[Action(e["action"])] for e in history if e["action"] in {a.value for a in Action}]
        assert await outbox_types(app_and_client[0], application["id"]) == transitions, status
        assert all(e["actor_subject"] and e["actor_role"] and e["at"] for e in history)
