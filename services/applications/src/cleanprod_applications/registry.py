"""What the applications service asks the registry (over HTTP, with its own client-credentials token): who owns
a facility, which sector it is in, and the owning enterprise's name — through the one typed registry client of
`cleanprod_contracts` (503 problem when the registry cannot answer)."""

from __future__ import annotations

import uuid

from fastapi import Request

from cleanprod_contracts.registry_client import FacilityFacts, RegistryClient

__all__ = ["FacilityFacts", "facility_facts", "registry_client"]


def registry_client(request: Request) -> RegistryClient:
    """The registry as this service reaches it (its settings, its service token)."""
    settings = request.app.state.settings
    return RegistryClient(
        request.app.state.service_client,
        settings.registry_url,
        settings.registry_timeout_seconds,
        credentials_hint="APPLICATIONS_SERVICE_CLIENT_ID/SECRET",
    )


async def facility_facts(request: Request, facility_id: uuid.UUID) -> FacilityFacts | None:
    """The facility and its enterprise as the registry knows them; None if the registry has no such facility."""
    return await registry_client(request).facility_facts(facility_id)
