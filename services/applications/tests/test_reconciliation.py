"""The books always balance (issue 15): after a random sequence of decisions, payment steps, verdicts and recovery
collections over several applications funded by two sources, every reconciliation identity holds per application,
per source and per call, and no source is above its amount or below zero. Property-based (Hypothesis), on the real
service and PostgreSQL: each example is a fresh call walked through the API."""

from __future__ import annotations

from typing import Any

import httpx
from applications_helpers import TODAY, Actors, World, if_match
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

RATIOS = (0.0, 0.25, 0.49, 0.5, 0.8, 1.0)
NEXT_STEP = {"payable": "prepare", "prepared": "approve", "approved": "paid"}


async def _take_next_step(client: httpx.AsyncClient, actors: Actors, application: dict[str, Any], kind: str) -> None:
    """One payment step further for each tranche of `kind` (prepare → approve → paid; nothing once paid or
    cancelled), each by a different person than the step before (four-eyes)."""
    fresh = (await client.get(f"/api/v1/applications/{application['id']}", headers=actors.officer())).json()
    for t in fresh["tranches"]:
        step = NEXT_STEP.get(t["status"]) if t["kind"] == kind else None
        if step is None:
            continue
        headers = actors.officer(2) if step == "approve" else actors.finance(1)
        body = {"paid_on": TODAY.isoformat(), "reference": "KBNN-001", "amount_vnd": t["amount_vnd"]}
        response = await client.post(
            f"/api/v1/applications/{application['id']}/tranches/{t['id']}/{step}",
            json=body if step == "paid" else None,
            headers=if_match(headers, t["version"]),
        )
        assert response.status_code == 200, response.text


async def _collect(client: httpx.AsyncClient, actors: Actors, application: dict[str, Any], share: float) -> None:
    fresh = (await client.get(f"/api/v1/applications/{application['id']}", headers=actors.officer())).json()
    for t in fresh["tranches"]:
        if t["kind"] != "recovery" or t["status"] != "recovery_due":
            continue
        due = t["amount_vnd"] - t["collected_vnd"]
        part = max(1, min(due, int(t["amount_vnd"] * share)))
        response = await client.post(
            f"/api/v1/applications/{application['id']}/tranches/{t['id']}/collections",
            json={"amount_vnd": part, "collected_on": TODAY.isoformat(), "reference": "UNC-1"},
            headers=if_match(actors.finance(), t["version"]),
        )
        assert response.status_code == 200, response.text


def _plan(data: st.DataObject) -> list[str]:
    """One application's steps in order: rejected, or approved then (some of) the project's steps with payment
    steps interleaved."""
    if data.draw(st.integers(0, 4), label="outcome") == 0:
        return ["reject"]
    project = ["start", "complete"]
    if data.draw(st.booleans(), label="verdict"):
        project.append(f"verdict:{data.draw(st.sampled_from(RATIOS), label='ratio')}")
    plan = ["approve", *project]
    for _ in range(data.draw(st.integers(0, 3), label="advance steps")):
        plan.insert(data.draw(st.integers(1, len(plan)), label="advance step at"), "advance")
    if plan[-1].startswith("verdict"):
        plan += ["balance"] * data.draw(st.integers(0, 3), label="balance steps")
        plan += [f"collect:{data.draw(st.sampled_from((0.3, 0.5, 1.0)))}" for _ in range(data.draw(st.integers(0, 2)))]
    return plan


async def _run(world: World, actors: Actors, application: dict[str, Any], op: str) -> dict[str, Any]:
    client = world.client
    fresh = await world.get(application)
    if op in ("approve", "reject"):
        return await world.decide(fresh, op, "Quyết định theo kết quả thẩm định.")
    if op == "start":
        return await world.act(fresh, "start", world.owner(fresh), json={"reason": "Bắt đầu."})
    if op == "complete":
        return await world.act(fresh, "completion", world.owner(fresh), json={"reason": "Hoàn thành."})
    if op.startswith("verdict:"):
        ratio = float(op.split(":")[1])
        await world.conclude(
            fresh, "verified" if ratio == 1.0 else "not_achieved", ratio=None if ratio == 1.0 else ratio
        )
    elif op in ("advance", "balance"):
        await _take_next_step(client, actors, fresh, op)
    elif op.startswith("collect:"):
        await _collect(client, actors, fresh, float(op.split(":")[1]))
    return fresh


def _balanced(f: dict[str, int], where: str) -> None:
    assert f["awarded_vnd"] == f["paid_vnd"] + f["cancelled_vnd"] + f["outstanding_vnd"], where
    assert f["recovery_raised_vnd"] == f["recovered_vnd"] + f["recovery_outstanding_vnd"], where
    assert f["committed_vnd"] == f["paid_vnd"] + f["outstanding_vnd"] - f["recovery_raised_vnd"], where
    assert all(v >= 0 for v in f.values()), (where, f)
    assert f["recovered_vnd"] <= f["recovery_raised_vnd"] <= f["paid_vnd"] + f["outstanding_vnd"], (where, f)
    assert f["recovery_raised_vnd"] <= f["paid_vnd"], (where, f)  # only money paid out is ever recovered


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_paid_plus_cancelled_plus_outstanding_is_awarded_after_any_sequence(
    client: httpx.AsyncClient, world: World, actors: Actors, data: st.DataObject
) -> None:
    donor = data.draw(st.sampled_from((300_000_000, 800_000_000, 1_100_000_000)), label="donor amount")
    call = await world.call(
        budget_vnd=donor + 5_000_000_000,
        funding_sources=[
            {"code": "donor", "name": "Nhà tài trợ", "kind": "foreign_donor", "amount_vnd": donor},
            {"code": "city-budget", "name": "Ngân sách thành phố", "kind": "city_budget", "amount_vnd": 5_000_000_000},
        ],
    )
    applications = [await world.reviewed(call=call) for _ in range(data.draw(st.integers(1, 3), label="applications"))]
    queues = [_plan(data) for _ in applications]
    while any(queues):
        i = data.draw(st.sampled_from([n for n, q in enumerate(queues) if q]), label="next application")
        await _run(world, actors, applications[i], queues[i].pop(0))

    officer = actors.officer()
    total_awarded = 0
    for application in applications:
        stored = await world.get(application)
        funding = (await client.get(f"/api/v1/applications/{application['id']}/funding", headers=officer)).json()
        _balanced(funding["figures"], f"application {application['id']}")
        for code, figures in funding["by_source"].items():
            _balanced(figures, f"application {application['id']} source {code}")
        assert funding["awarded_vnd"] == funding["figures"]["awarded_vnd"] == (stored["approved_support_vnd"] or 0)
        total_awarded += funding["awarded_vnd"]
    report = (await client.get(f"/api/v1/calls/{call['id']}/funding", headers=officer)).json()
    _balanced(report["figures"], "call")
    assert report["figures"]["awarded_vnd"] == total_awarded
    committed = 0
    for source in report["sources"]:
        _balanced(source["figures"], f"source {source['code']}")
        assert source["committed_vnd"] == source["figures"]["committed_vnd"], source  # stored = recomputed
        assert 0 <= source["committed_vnd"] <= source["amount_vnd"]
        committed += source["committed_vnd"]
    stored_call = (await client.get(f"/api/v1/calls/{call['id']}", headers=officer)).json()
    assert stored_call["committed_vnd"] == committed == report["figures"]["committed_vnd"]
    for key in report["figures"]:
        assert report["figures"][key] == sum(s["figures"][key] for s in report["sources"]), key
