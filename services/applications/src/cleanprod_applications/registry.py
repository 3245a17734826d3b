"""What the applications service asks the registry (over HTTP, with its own client-credentials token):
who owns a facility, which sector it is in, and the owning enterprise's name."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from fastapi import Request

from cleanprod_kit.upstream import Upstream, UpstreamUnavailable

log = logging.getLogger("cleanprod.applications.registry")


@dataclass(frozen=True)
class FacilityFacts:
    facility_id: uuid.UUID
    facility_name: str
    facility_status: str
    sector_code: str
    enterprise_id: uuid.UUID
    enterprise_tax_code: str
    enterprise_name: str


def _registry(request: Request) -> Upstream:
    settings = request.app.state.settings
    return Upstream(request.app.state.service_client, settings.registry_url, name="facility registry",
                    timeout=settings.registry_timeout_seconds,
                    credentials_hint="APPLICATIONS_SERVICE_CLIENT_ID/SECRET")


async def facility_facts(request: Request, facility_id: uuid.UUID) -> FacilityFacts | None:
    """The facility and its enterprise as the registry knows them; None if the registry has no such facility."""
    registry = _registry(request)
    path = f"/api/v1/facilities/{facility_id}"
    response = await registry.get(path)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        log.error("registry refused a facility lookup", extra={"path": path, "status": response.status_code})
        raise UpstreamUnavailable("The facility registry could not answer; try again later.")
    facility = registry.json_object(response, path)
    enterprise_path = f"/api/v1/enterprises/{facility.get('enterprise_id')}"
    response = await registry.get(enterprise_path)
    if response.status_code != 200:
        log.error("registry refused an enterprise lookup", extra={"path": enterprise_path,
                                                                  "status": response.status_code})
        raise UpstreamUnavailable("The facility registry could not answer; try again later.")
    enterprise = registry.json_object(response, enterprise_path)
    try:
        return FacilityFacts(
            facility_id=uuid.UUID(str(facility["id"])), facility_name=str(facility["name"]),
            facility_status=str(facility.get("status", "active")), sector_code=str(facility["sector_code"]),
            enterprise_id=uuid.UUID(str(facility["enterprise_id"])),
            enterprise_tax_code=str(facility.get("enterprise_tax_code") or enterprise["tax_code"]),
            enterprise_name=str(enterprise["name"]),
        )
    except (KeyError, ValueError, TypeError):
        log.error("registry answer lacks expected fields", extra={"path": path})
        raise UpstreamUnavailable("The facility registry gave an unreadable answer; try again later.") from None
