"""What the applications service asks the registry (over HTTP, with its own client-credentials token):
who owns a facility, which sector it is in, and the owning enterprise's name."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from cleanprod_kit.errors import Problem, ServiceUnavailable

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


def _unavailable(detail: str) -> ServiceUnavailable:
    return ServiceUnavailable(detail, headers={"Retry-After": "5"})


async def _get(request: Request, path: str) -> httpx.Response:
    client = request.app.state.service_client
    settings = request.app.state.settings
    if client is None:
        raise _unavailable("The facility registry cannot be asked: this service has no service credentials "
                           "configured (APPLICATIONS_SERVICE_CLIENT_ID/SECRET).")
    try:
        return await client.get(f"{settings.registry_url}{path}", timeout=settings.registry_timeout_seconds)
    except Problem:
        raise
    except Exception as exc:  # noqa: BLE001 - connection refused, timeout, token endpoint down: all "try later"
        log.warning("registry call failed", extra={"path": path, "error": f"{type(exc).__name__}: {exc}"})
        raise _unavailable("The facility registry is not reachable right now; try again in a moment.") from None


def _json(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        log.error("registry answered something that is not a JSON object", extra={"path": path})
        raise _unavailable("The facility registry gave an unreadable answer; try again later.")
    return body


async def facility_facts(request: Request, facility_id: uuid.UUID) -> FacilityFacts | None:
    """The facility and its enterprise as the registry knows them; None if the registry has no such facility."""
    path = f"/api/v1/facilities/{facility_id}"
    response = await _get(request, path)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        log.error("registry refused a facility lookup", extra={"path": path, "status": response.status_code})
        raise _unavailable("The facility registry could not answer; try again later.")
    facility = _json(response, path)
    enterprise_path = f"/api/v1/enterprises/{facility.get('enterprise_id')}"
    response = await _get(request, enterprise_path)
    if response.status_code != 200:
        log.error("registry refused an enterprise lookup", extra={"path": enterprise_path,
                                                                  "status": response.status_code})
        raise _unavailable("The facility registry could not answer; try again later.")
    enterprise = _json(response, enterprise_path)
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
        raise _unavailable("The facility registry gave an unreadable answer; try again later.") from None
