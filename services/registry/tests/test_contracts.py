"""Contract tests (issue 12) on the registry side, on real PostgreSQL: every event the registry publishes is
produced by its real code path (an enterprise and a facility registered and changed, a baseline period recorded,
a norm created), read back from the outbox and read with its contract model (`cleanprod_contracts.v1.events`).
Its read models are checked against its real answers where they are read: services/verification/tests/test_contracts.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from registry_helpers import Actors, baseline_body, create_enterprise, create_facility

from cleanprod_contracts.testing import outbox_payloads, read_every
from cleanprod_contracts.v1 import events

PUBLISHED = sorted(t for t in events.EVENT_PAYLOADS if t.startswith("registry."))


def if_match(actors: Actors, record: dict[str, Any]) -> dict[str, str]:
    return {**actors.officer, "If-Match": f'"{record["version"]}"'}


@pytest.fixture(scope="module")
async def produced(client: httpx.AsyncClient, actors: Actors, registry_db_url: str) -> dict[str, Any]:
    enterprise = await create_enterprise(client, actors)
    changed = await client.patch(
        f"/api/v1/enterprises/{enterprise['id']}",
        json={"name": "Công ty Thép Đông Anh"},
        headers=if_match(actors, enterprise),
    )
    assert changed.status_code == 200, changed.text
    facility = await create_facility(client, actors, enterprise["id"])
    changed = await client.patch(
        f"/api/v1/facilities/{facility['id']}", json={"district": "Huyện Sóc Sơn"}, headers=if_match(actors, facility)
    )
    assert changed.status_code == 200, changed.text
    period = baseline_body("2023-01-01", "2023-01-31", production=800, electricity=(605, "MWh"))
    recorded = await client.post(f"/api/v1/facilities/{facility['id']}/baselines", json=period, headers=actors.officer)
    assert recorded.status_code == 201, recorded.text
    norm = await client.post(
        "/api/v1/norms",
        headers=actors.officer,
        json={
            "circular": "99/2099/TT-BCT",
            "sector_code": "steel",
            "product": f"thép hợp đồng {uuid.uuid4().hex[:8]}",
            "unit": "kWh/t",
            "value": 120,
            "valid_from": "2026-01-01",
            "valid_to": "2030-12-31",
        },
    )
    assert norm.status_code == 201, norm.text
    by_type = await outbox_payloads(registry_db_url, [enterprise["id"], facility["id"], norm.json()["id"]])
    return {
        "events": by_type,
        "enterprise": enterprise,
        "facility": facility,
        "baseline": recorded.json(),
        "norm": norm.json(),
    }


@pytest.mark.parametrize("event_type", PUBLISHED)
async def test_every_published_event_follows_its_contract(produced: dict[str, Any], event_type: str) -> None:
    read_every(produced["events"], event_type)


async def test_the_events_name_the_records_they_are_about(produced: dict[str, Any]) -> None:
    read = {t: read_every(produced["events"], t) for t in produced["events"]}
    (registered,) = read["registry.enterprise.registered"]
    assert isinstance(registered, events.EnterpriseRegistered)
    assert (str(registered.id), registered.tax_code) == (
        produced["enterprise"]["id"],
        produced["enterprise"]["tax_code"],
    )
    (updated,) = read["registry.facility.updated"]
    assert isinstance(updated, events.FacilityUpdated) and updated.fields == ["district"]
    (baseline,) = read["registry.baseline.recorded"]
    assert isinstance(baseline, events.BaselineRecorded)
    assert (str(baseline.facility_id), str(baseline.baseline_id)) == (
        produced["facility"]["id"],
        produced["baseline"]["id"],
    )
    (norm,) = read["registry.norm.created"]
    assert isinstance(norm, events.NormCreated) and norm.product == produced["norm"]["product"]
