"""Payment bookkeeping (issue 15) on a real PostgreSQL: payable → prepared by finance → approved by an officer →
paid (date, treasury/bank reference, amount); recoveries collected in parts; four-eyes; audit and events."""

from __future__ import annotations

from typing import Any

import httpx
from applications_helpers import TODAY, Actors, World, assert_problem, days, if_match
from fastapi import FastAPI
from sqlmodel import select

from cleanprod_contracts.v1.events import TrancheEvent
from cleanprod_kit.models import OutboxEvent


def url(application: dict[str, Any], tranche: dict[str, Any], step: str) -> str:
    return f"/api/v1/applications/{application['id']}/tranches/{tranche['id']}/{step}"


def tranche(application: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(t for t in application["tranches"] if t["kind"] == kind)


def paid_body(t: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"paid_on": TODAY.isoformat(), "reference": "KBNN-HN/2026/000123", "amount_vnd": t["amount_vnd"]} | overrides


async def step(
    client: httpx.AsyncClient,
    application: dict[str, Any],
    t: dict[str, Any],
    name: str,
    headers: dict[str, str],
    json: Any = None,
    expect: int = 200,
) -> dict[str, Any]:
    response = await client.post(url(application, t, name), json=json, headers=if_match(headers, t["version"]))
    assert response.status_code == expect, response.text
    return response.json()


async def pay(
    client: httpx.AsyncClient, actors: Actors, application: dict[str, Any], t: dict[str, Any]
) -> dict[str, Any]:
    """Prepared by finance 1, approved by officer 2, marked paid by finance 1."""
    t = await step(client, application, t, "prepare", actors.finance(1))
    t = await step(client, application, t, "approve", actors.officer(2))
    return await step(client, application, t, "paid", actors.finance(1), json=paid_body(t))


async def test_an_advance_goes_from_payable_to_paid_audited_evented_and_visible_to_the_enterprise(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    application = await world.approved()
    advance = tranche(application, "advance")
    assert (advance["status"], advance["amount_vnd"]) == ("payable", 240_000_000)
    prepared = await step(client, application, advance, "prepare", actors.finance(1))
    assert (prepared["status"], prepared["prepared_by_name"]) == ("prepared", "finance1")
    approved = await step(client, application, prepared, "approve", actors.officer(2))
    assert (approved["status"], approved["approved_by_name"]) == ("approved", "officer2")
    paid = await step(client, application, approved, "paid", actors.finance(1), json=paid_body(approved))
    assert (paid["status"], paid["paid_vnd"], paid["paid_on"], paid["payment_reference"]) == (
        "paid",
        240_000_000,
        TODAY.isoformat(),
        "KBNN-HN/2026/000123",
    )
    seen = await world.get(application, world.owner(application))
    assert tranche(seen, "advance")["status"] == "paid"
    history = (await client.get(f"/api/v1/applications/{application['id']}/history", headers=actors.officer())).json()
    steps = [
        (e["action"], e["from_status"], e["to_status"]) for e in history["items"] if e["action"].startswith("tranche_")
    ]
    assert steps == [
        ("tranche_payment_prepared", "payable", "prepared"),
        ("tranche_payment_approved", "prepared", "approved"),
        ("tranche_paid", "approved", "paid"),
    ]
    async with app_and_client[0].state.db.session() as session:
        rows = (
            await session.exec(
                select(OutboxEvent)
                .where(OutboxEvent.aggregate_id == application["id"], OutboxEvent.event_type.like("application.%"))  # type: ignore[attr-defined]
                .order_by(OutboxEvent.txid, OutboxEvent.seq)  # type: ignore[arg-type]
            )
        ).all()
    payments = [
        r
        for r in rows
        if r.event_type in ("application.payment_prepared", "application.payment_approved", "application.tranche_paid")
    ]
    assert [r.event_type for r in payments] == [
        "application.payment_prepared",
        "application.payment_approved",
        "application.tranche_paid",
    ]
    last = TrancheEvent.model_validate(payments[-1].payload)
    assert (last.tranche_status, last.paid_vnd, last.payment_reference, last.source_code) == (
        "paid",
        240_000_000,
        "KBNN-HN/2026/000123",
        "city-budget",
    )
    assert last.dossier_code == application["dossier_code"]


async def test_finance_cannot_approve_its_own_preparation(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.approved()
    both = actors.headers("finance", "officer", sub="finance-officer-1", username="ke.toan.truong")
    prepared = await step(client, application, tranche(application, "advance"), "prepare", both)
    response = await client.post(url(application, prepared, "approve"), headers=if_match(both, prepared["version"]))
    assert_problem(response, 403)
    assert response.json()["code"] == "preparer_cannot_approve"
    finance_only = await client.post(
        url(application, prepared, "approve"), headers=if_match(actors.finance(2), prepared["version"])
    )
    assert_problem(finance_only, 403)
    await step(client, application, prepared, "approve", actors.officer(2))  # another person may


async def test_the_officer_who_approved_cannot_mark_it_paid(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.approved()
    both = actors.headers("finance", "officer", sub="finance-officer-2", username="pho.phong")
    t = await step(client, application, tranche(application, "advance"), "prepare", actors.finance(1))
    t = await step(client, application, t, "approve", both)
    response = await client.post(url(application, t, "paid"), json=paid_body(t), headers=if_match(both, t["version"]))
    assert_problem(response, 403)
    assert response.json()["code"] == "approver_cannot_mark_paid"
    paid = await step(client, application, t, "paid", actors.finance(1), json=paid_body(t))  # the preparer may
    assert paid["status"] == "paid"


async def test_bad_payment_steps_are_refused_with_their_codes(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.approved()
    advance = tranche(application, "advance")
    balance = tranche(application, "balance")
    response = await client.post(
        url(application, balance, "prepare"), headers=if_match(actors.finance(), balance["version"])
    )
    assert_problem(response, 409)
    assert response.json()["code"] == "payment_step_not_allowed"
    response = await client.post(
        url(application, advance, "approve"), headers=if_match(actors.officer(2), advance["version"])
    )
    assert response.json()["code"] == "payment_step_not_allowed"
    response = await client.post(url(application, advance, "prepare"), headers=actors.finance())
    assert_problem(response, 428)
    t = await step(client, application, advance, "prepare", actors.finance())
    response = await client.post(
        url(application, t, "approve"), headers=if_match(actors.officer(2), advance["version"])
    )
    assert_problem(response, 412)
    t = await step(client, application, t, "approve", actors.officer(2))
    for body, code in (
        (paid_body(t, amount_vnd=t["amount_vnd"] - 1), "paid_amount_mismatch"),
        (paid_body(t, paid_on=days(1)), "future_date"),
        (paid_body(t, paid_on=days(-1)), "paid_before_approval"),
    ):
        response = await client.post(
            url(application, t, "paid"), json=body, headers=if_match(actors.finance(), t["version"])
        )
        assert_problem(response, 422)
        assert response.json()["errors"][0]["code"] == code, response.text
    response = await client.post(
        url(application, t, "paid"),
        json=paid_body(t, reference="x y"),
        headers=if_match(actors.finance(), t["version"]),
    )
    assert_problem(response, 422)
    stranger = await client.post(
        url(application, t, "paid"), json=paid_body(t), headers=if_match(world.owner(application), t["version"])
    )
    assert_problem(stranger, 403)
    unknown = await client.post(
        f"/api/v1/applications/{application['id']}/tranches/{application['id']}/prepare",
        headers=if_match(actors.finance(), 1),
    )
    assert_problem(unknown, 404)
    assert unknown.json()["code"] == "tranche_not_found"


async def test_a_recovery_is_collected_in_parts_never_beyond_what_is_due(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.completed()
    await pay(client, actors, application, tranche(application, "advance"))  # 240 M paid
    await world.conclude(application, "not_achieved", ratio=0.25)
    application = await world.get(application)
    recovery = tranche(application, "recovery")
    assert (recovery["status"], recovery["amount_vnd"]) == ("recovery_due", 180_000_000)  # ceil(240 M × 0.75)
    part = {"amount_vnd": 100_000_000, "collected_on": TODAY.isoformat(), "reference": "UNC-0001"}
    recovery = await step(client, application, recovery, "collections", actors.finance(), json=part)
    assert (recovery["status"], recovery["collected_vnd"]) == ("recovery_due", 100_000_000)
    too_much = await client.post(
        url(application, recovery, "collections"),
        json=part,
        headers=if_match(actors.finance(), recovery["version"]),
    )
    assert_problem(too_much, 409)
    assert too_much.json()["code"] == "collection_exceeds_recovery"
    rest = part | {"amount_vnd": 80_000_000, "reference": "UNC-0002"}
    recovery = await step(client, application, recovery, "collections", actors.finance(), json=rest)
    assert (recovery["status"], recovery["collected_vnd"]) == ("recovered", 180_000_000)
    funding = (await client.get(f"/api/v1/applications/{application['id']}/funding", headers=actors.finance())).json()
    f = funding["figures"]
    assert (f["awarded_vnd"], f["paid_vnd"], f["cancelled_vnd"], f["outstanding_vnd"]) == (
        800_000_000,
        240_000_000,
        560_000_000,
        0,
    )
    assert (f["recovery_raised_vnd"], f["recovered_vnd"], f["recovery_outstanding_vnd"]) == (
        180_000_000,
        180_000_000,
        0,
    )
    assert f["committed_vnd"] == 60_000_000  # what the enterprise keeps: 240 M − 180 M


async def test_the_payment_work_list_follows_each_step_and_is_for_finance_officers_and_auditors(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.approved()
    advance = tranche(application, "advance")

    async def listed(status: str | None, headers: dict[str, str]) -> list[dict[str, Any]]:
        """Every page of the list (other tests' tranches share the database), this application's items."""
        items, cursor = [], None
        while True:
            # Pages of one: the list joins three tables, and its cursor must come from the tranche's id.
            params = {"limit": 1, **({"status": status} if status else {}), **({"cursor": cursor} if cursor else {})}
            response = await client.get("/api/v1/applications/tranches", params=params, headers=headers)
            assert response.status_code == 200, response.text
            items += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if not cursor:
                return [i for i in items if i["application_id"] == application["id"]]

    payable = await listed("payable", actors.finance())
    assert [i["tranche"]["id"] for i in payable] == [advance["id"]]
    item = payable[0]
    assert (item["dossier_code"], item["enterprise_name"]) == (
        application["dossier_code"],
        application["enterprise_name"],
    )
    assert item["source_code"] and item["source_name"]
    advance = await step(client, application, advance, "prepare", actors.finance(1))
    assert await listed("payable", actors.finance()) == []
    assert [i["tranche"]["status"] for i in await listed("prepared", actors.officer())] == ["prepared"]
    default = await listed(None, actors.auditor)
    assert [i["tranche"]["id"] for i in default] == [advance["id"]]  # open steps by default (the balance is withheld)
    for headers in (actors.enterprise(application["enterprise_tax_code"]), actors.reviewer()):
        refused = await client.get("/api/v1/applications/tranches", headers=headers)
        assert_problem(refused, 403)
    bad = await client.get("/api/v1/applications/tranches", params={"status": "spent"}, headers=actors.finance())
    assert_problem(bad, 422)
