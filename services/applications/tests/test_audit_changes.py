"""What changed (issue #14): an update's audit entry carries the old and the new value of every changed field, in
the kit's one shape (`changes [{field, old, new}]`), and the history answers the kit's paged audit records."""

from __future__ import annotations

import httpx
from applications_helpers import Actors, World, if_match
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_kit.audit import AuditRecord
from cleanprod_kit.models import AuditEntry


async def test_patch_of_two_fields_is_one_entry_with_both_changes(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    draft = await world.draft()
    owner = world.owner(draft)
    new_title = "Thu hồi nhiệt khí thải lò nung để sấy phôi thép"
    response = await client.patch(
        f"/api/v1/applications/{draft['id']}",
        headers=if_match(owner, draft["version"]),
        json={"title": new_title, "requested_support_vnd": 750_000_000},
    )
    assert response.status_code == 200, response.text
    history = (await client.get(f"/api/v1/applications/{draft['id']}/history", headers=actors.officer())).json()
    updates = [e for e in history["items"] if e["action"] == "update"]
    assert len(updates) == 1
    changes = {c["field"]: (c["old"], c["new"]) for c in updates[0]["changes"]}
    assert changes == {"title": (draft["title"], new_title), "requested_support_vnd": (800_000_000, 750_000_000)}
    assert updates[0]["details"]["changes"] == updates[0]["changes"]
    # The kit's record shape, with the service's older status names kept alongside.
    assert updates[0]["from_state"] == updates[0]["from_status"] == "draft"
    assert updates[0]["entity_type"] == "application" and updates[0]["entity_id"] == draft["id"]
    # The enterprise sees its own changes too (an officer sees what it changed when it resubmits).
    own = (await client.get(f"/api/v1/applications/{draft['id']}/history", headers=owner)).json()["items"]
    assert [e["changes"] for e in own if e["action"] == "update"] == [updates[0]["changes"]]


async def test_supplier_and_claims_changes_are_recorded_old_to_new(client: httpx.AsyncClient, world: World) -> None:
    draft = await world.draft()
    response = await client.patch(
        f"/api/v1/applications/{draft['id']}",
        headers=if_match(world.owner(draft), draft["version"]),
        json={"supplier": None, "claimed_overall_saving_pct": 9.25},
    )
    assert response.status_code == 200, response.text
    history = (await client.get(f"/api/v1/applications/{draft['id']}/history", headers=world.owner(draft))).json()
    [update] = [e for e in history["items"] if e["action"] == "update"]
    changes = {c["field"]: (c["old"], c["new"]) for c in update["changes"]}
    assert changes["supplier_name"] == (draft["supplier"]["name"], None)
    assert changes["supplier_tax_code"] == (draft["supplier"]["tax_code"], None)
    old_pct, new_pct = changes["claimed_overall_saving_pct"]
    assert float(old_pct) == 8.5 and float(new_pct) == 9.25
    assert "version" not in changes and "updated_at" not in changes


async def test_call_update_records_old_and_new(
    client: httpx.AsyncClient, world: World, actors: Actors, settings: ApplicationsSettings
) -> None:
    call = await world.call()
    response = await client.patch(
        f"/api/v1/calls/{call['id']}",
        headers=if_match(actors.officer(), call["version"]),
        json={"title": "Đợt hỗ trợ bổ sung năm 2026", "budget_vnd": 12_000_000_000},
    )
    assert response.status_code == 200, response.text
    engine = create_async_engine(settings.database_url)
    try:
        async with AsyncSession(engine) as session:
            entries = (
                await session.exec(
                    select(AuditEntry).where(
                        AuditEntry.entity_type == "call",
                        AuditEntry.entity_id == call["id"],
                        AuditEntry.action == "update",
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    [entry] = entries
    record = AuditRecord.of(entry)
    assert {(c.field, c.old, c.new) for c in record.changes} == {
        ("title", call["title"], "Đợt hỗ trợ bổ sung năm 2026"),
        ("budget_vnd", 10_000_000_000, 12_000_000_000),
    }
