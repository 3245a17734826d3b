"""Contract tests (issue 12) on the verification side, on real PostgreSQL:

- every event this service publishes is produced by its real code path (a case opened, verifiers assigned and
  replaced, the declaration, two conclusions), read back from the outbox and read by its consumer's code in
  the applications service — a producer and a consumer that disagree fail here;
- every registry read model is checked against the real registry's answer (in process, its own database): the
  answer validates, carries every field the model names, and the typed client returns the same model.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from verification_helpers import (
    Actors,
    Plant,
    assign,
    beer_plant,
    conclude,
    declare,
    new_verifier,
    open_case,
    record_months,
    steel_plant,
    steel_reporting,
)

from cleanprod_applications.grants.verdicts import parse as read_verdict
from cleanprod_applications.verifiers import events as applications_verifier_events
from cleanprod_contracts.base import ReadModel
from cleanprod_contracts.registry_client import RegistryClient
from cleanprod_contracts.testing import outbox_payloads, read_every
from cleanprod_contracts.v1 import events
from cleanprod_contracts.v1.registry import (
    BaselinePage,
    BaselinePeriod,
    Enterprise,
    Facility,
    FacilityWithEnterprise,
    Norm,
    Sector,
)
from cleanprod_kit.http import ServiceClient
from cleanprod_verification.config import VerificationSettings

PUBLISHED = sorted(t for t in events.EVENT_PAYLOADS if t.startswith("verification."))


async def concluded_case(client: httpx.AsyncClient, actors: Actors, plant: Plant, factor: float) -> dict[str, Any]:
    """A case taken through every step: opened, a verifier assigned then replaced, declared, measured, concluded."""
    case = await open_case(client, actors, plant, claimed=8.0)
    first, second = new_verifier("chuyen.gia"), new_verifier("kiem.dinh")
    assert (await assign(client, actors, case["id"], first)).status_code == 200
    assert (await assign(client, actors, case["id"], second)).status_code == 200  # replaces the first
    assert (await declare(client, actors, case["id"], second)).status_code == 200
    await record_months(client, actors, case["id"], second, steel_reporting(factor))
    response = await conclude(client, actors, case["id"], second)
    assert response.status_code == 200, response.text
    return case | {"verifier": second, "replaced": first}


@pytest.fixture(scope="module")
async def produced(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors, verification_settings: VerificationSettings
) -> dict[str, Any]:
    plant = await steel_plant(registry, actors)
    verified = await concluded_case(client, actors, plant, 0.9)  # 10 % saved of 8 % claimed
    short = await concluded_case(client, actors, plant, 0.97)  # 3 % of 8 %: not achieved
    by_type = await outbox_payloads(verification_settings.database_url, [verified["id"], short["id"]])
    return {"events": by_type, "cases": {verified["id"]: verified, short["id"]: short}}


@pytest.mark.parametrize("event_type", PUBLISHED)
async def test_every_published_event_follows_its_contract(produced: dict[str, Any], event_type: str) -> None:
    for read in read_every(produced["events"], event_type):
        assert str(read.model_dump()["verification_id"]) in produced["cases"]  # every one names its case


async def test_the_applications_service_reads_each_verdict_as_concluded(produced: dict[str, Any]) -> None:
    verdicts = {}
    for payload in produced["events"]["verification.concluded"]:
        data = read_verdict(payload)  # the applications consumer's own reading (422 problem if it cannot)
        case = produced["cases"][data.verification_id]
        assert str(data.application_id) == case["application_id"]
        verdicts[str(data.verdict)] = data.ratio()
    assert verdicts["verified"] is None  # a verified project is paid in full
    assert verdicts["not_achieved"] == pytest.approx(3.0 / 8.0, rel=1e-6)


async def test_the_applications_service_learns_the_current_verifier(produced: dict[str, Any]) -> None:
    model = applications_verifier_events.VerifierAssigned  # what its consumer validates with
    assert model is events.VerifierAssigned
    seen = []
    for payload in produced["events"]["verification.verifier_assigned"]:
        data = model.model_validate(payload)
        case = produced["cases"][data.verification_id]
        assert str(data.application_id) == case["application_id"]
        seen.append((data.verifier_subject, data.replaced_subject))
    for case in produced["cases"].values():
        first, second = case["replaced"].subject, case["verifier"].subject
        assert (first, None) in seen and (second, first) in seen


# ---- the registry's read models -----------------------------------------------------------------------------------


def assert_fits(model: type[ReadModel], body: dict[str, Any]) -> ReadModel:
    """The registry's answer validates with the read model and still sends every field the model names (a field
    the registry renamed would otherwise only show up as a default)."""
    missing = sorted(set(model.model_fields) - set(body))
    assert missing == [], f"the registry no longer sends {missing} that {model.__name__} reads"
    return model.model_validate(body)


@pytest.fixture(scope="module")
async def beer(registry: httpx.AsyncClient, actors: Actors) -> Plant:
    return await beer_plant(registry, actors)


@pytest.fixture(scope="module")
def typed(registry_http: ServiceClient) -> RegistryClient:
    return RegistryClient(registry_http, "http://registry.test", 10.0)


async def service_get(registry_http: ServiceClient, path: str, **params: Any) -> dict[str, Any]:
    response = await registry_http.get(f"http://registry.test{path}", params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


async def test_facility_read_model(registry_http: ServiceClient, typed: RegistryClient, beer: Plant) -> None:
    facility_id = uuid.UUID(beer.facility["id"])
    body = await service_get(registry_http, f"/api/v1/facilities/{facility_id}")
    read = assert_fits(Facility, body)
    assert read == await typed.facility(facility_id)
    assert (read.name, read.sector_code, read.products) == ("Nhà máy bia Long Biên", "beer", ["beer"])
    facts = await typed.facility_facts(facility_id)
    assert facts is not None and facts.enterprise_tax_code == beer.enterprise["tax_code"]
    # The one-call answer facility_facts reads: the same two records as their own endpoints give them.
    both = assert_fits(
        FacilityWithEnterprise, await service_get(registry_http, f"/internal/facilities/{facility_id}/facts")
    )
    enterprise = await service_get(registry_http, f"/api/v1/enterprises/{beer.enterprise['id']}")
    assert both == FacilityWithEnterprise(facility=read, enterprise=assert_fits(Enterprise, enterprise))
    assert facts.enterprise_name == "Công ty TNHH Bia Long Biên"


async def test_enterprise_read_model(registry_http: ServiceClient, typed: RegistryClient, beer: Plant) -> None:
    enterprise_id = uuid.UUID(beer.enterprise["id"])
    read = assert_fits(Enterprise, await service_get(registry_http, f"/api/v1/enterprises/{enterprise_id}"))
    assert read == await typed.enterprise(enterprise_id)
    assert read.name == "Công ty TNHH Bia Long Biên" and read.tax_code == beer.enterprise["tax_code"]


async def test_sector_read_model(registry_http: ServiceClient, typed: RegistryClient) -> None:
    read = assert_fits(Sector, await service_get(registry_http, "/api/v1/sectors/beer"))
    assert read == await typed.sector("beer")
    assert read.code == "beer" and read.name("vi") and read.name("en")


async def test_baseline_read_model(registry_http: ServiceClient, typed: RegistryClient, beer: Plant) -> None:
    facility_id = uuid.UUID(beer.facility["id"])
    body = await service_get(registry_http, f"/api/v1/facilities/{facility_id}/baselines", limit=200)
    page = assert_fits(BaselinePage, body)
    for item in body["items"]:
        assert_fits(BaselinePeriod, item)
    assert page.items == await typed.baselines(facility_id)
    assert [str(p.id) for p in page.items] == [b["id"] for b in beer.baseline]


async def test_norm_read_model(registry_http: ServiceClient, typed: RegistryClient) -> None:
    on = dt.date(2025, 6, 30)
    body = await service_get(
        registry_http, "/api/v1/norms/lookup", sector="beer", product="beer", on=on.isoformat(), capacity=15
    )
    read = assert_fits(Norm, body)
    lookup = await typed.norm(sector="beer", product="beer", on=on, capacity=15)
    assert lookup.found and (lookup.value, lookup.unit) == (read.value, read.unit) == (286.0, "MJ/hl")
    assert lookup.valid_from == read.valid_from.isoformat()
