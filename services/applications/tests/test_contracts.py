"""Contract tests (issue 12) on the applications side, on real PostgreSQL: every event this service publishes is
produced by its real code path (calls created and changed, applications taken along every arrow of the lifecycle,
a supplement request asked and answered), read back from the outbox and read with its contract model — and the
two the verification service consumes (`application.approved`, `application.completed`) by the verification
consumer's own mapping, which must find the producer's values. A producer and a consumer that disagree fail here.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from applications_helpers import TODAY, Actors, World, if_match

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_contracts.testing import outbox_payloads, read_every
from cleanprod_contracts.v1 import events
from cleanprod_verification.cases.events import APPROVED, COMPLETED, application_facts

PUBLISHED = sorted(t for t in events.EVENT_PAYLOADS if t.startswith(("application.", "call.")))


async def supplement_asked_and_answered(client: httpx.AsyncClient, world: World, actors: Actors) -> dict[str, Any]:
    application = await world.reviewed()
    asked = await client.post(
        f"/api/v1/applications/{application['id']}/supplement-requests",
        json={"items": [{"needed": "Báo giá thiết bị của nhà cung cấp"}], "note": "Bổ sung."},
        headers=if_match(actors.officer(), application["version"]),
    )
    assert asked.status_code == 201, asked.text
    request = asked.json()
    answered = await client.post(
        f"/api/v1/applications/{application['id']}/supplement-requests/{request['id']}"
        f"/items/{request['items'][0]['id']}/answer",
        json={"answer": "Đã gửi báo giá."},
        headers=world.owner(application),
    )
    assert answered.status_code == 200, answered.text
    return application


@pytest.fixture(scope="module")
async def produced(
    client: httpx.AsyncClient, world: World, actors: Actors, settings: ApplicationsSettings
) -> dict[str, Any]:
    call = await world.call()
    changed = await client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"title": "Đợt hỗ trợ năm 2026 (điều chỉnh)"},
        headers=if_match(actors.officer(), call["version"]),
    )
    assert changed.status_code == 200, changed.text
    applications = [
        await world.at(status) for status in ("withdrawn", "ineligible", "rejected", "verified", "not_achieved")
    ]
    sent_back = await world.at("changes_requested")
    applications.append(await world.act(sent_back, "resubmit", world.owner(sent_back)))
    applications.append(await supplement_asked_and_answered(client, world, actors))
    applications.append(await paid_and_recovered(world, actors))
    by_type = await outbox_payloads(settings.database_url, [call["id"], *(a["id"] for a in applications)])
    final = {a["id"]: await world.get(a) for a in applications}
    return {"events": by_type, "applications": final}


async def paid_and_recovered(world: World, actors: Actors) -> dict[str, Any]:
    """An advance paid (prepared, approved, paid), then a recovery raised and collected in part."""
    application = await world.completed()
    await world.pay(application)
    await world.conclude(application, "not_achieved", ratio=0.25)
    recovery = next(t for t in (await world.get(application))["tranches"] if t["kind"] == "recovery")
    part = {"amount_vnd": 1_000_000, "collected_on": TODAY.isoformat(), "reference": "UNC-0001"}
    await world.tranche_step(application, recovery, "collections", actors.finance(), json=part)
    return application


@pytest.mark.parametrize("event_type", PUBLISHED)
async def test_every_published_event_follows_its_contract(produced: dict[str, Any], event_type: str) -> None:
    read_every(produced["events"], event_type)


CARRIED_ON = {
    "screening_reasons": {"application.screening_passed", "application.screening_failed"},
    "review_score_pct": {"application.approved", "application.rejected", "application.changes_requested"},
    "verification": {"application.verified", "application.not_achieved"},
    "supplement": {"application.supplement_requested", "application.supplement_answered"},
}
"""The fields of `ApplicationEvent` that only some events carry → those events."""


@pytest.mark.parametrize("field", list(CARRIED_ON))
async def test_a_field_of_some_events_is_on_those_and_no_others(produced: dict[str, Any], field: str) -> None:
    assert set(CARRIED_ON) == {n for n, f in events.ApplicationEvent.model_fields.items() if not f.is_required()}
    for event_type, payloads in produced["events"].items():
        if event_type.startswith("application."):
            carried = [field in p for p in payloads]
            assert all(carried) if event_type in CARRIED_ON[field] else not any(carried), event_type


@pytest.mark.parametrize("event_type", [APPROVED, COMPLETED])
async def test_the_verification_service_reads_what_a_case_needs(produced: dict[str, Any], event_type: str) -> None:
    for payload in produced["events"][event_type]:
        facts = application_facts(payload)  # the verification consumer's own reading
        application = produced["applications"][str(facts.application_id)]
        assert str(facts.facility_id) == application["facility_id"]
        assert facts.dossier_code == application["dossier_code"]
        assert facts.enterprise_tax_code == application["enterprise_tax_code"]
        assert facts.claimed_overall_pct == application["claimed_overall_saving_pct"]
        assert facts.claimed_per_carrier == {c["carrier"]: c["saving_pct"] for c in application["claimed_savings"]}
        assert facts.approved_support_vnd == application["approved_support_vnd"]
        assert facts.supplier_name == (application["supplier"] or {}).get("name")
        assert facts.notes == []
        if event_type == COMPLETED:
            assert facts.completed_on is not None and facts.completed_on.isoformat() == application["completed_on"]
