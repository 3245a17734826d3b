"""What the verification service asks the facility registry (over HTTP, with its own service token): the
facility and its enterprise, the facility's baseline periods (all pages), the sector and the norm in force —
through the one typed registry client of `cleanprod_contracts`, which returns the registry's read models.

Transient trouble (registry down, timeout, 5xx, the token refused, an unreadable answer) raises
``RegistryUnavailable`` — a 503 problem with Retry-After — so an event is retried by its sender and a person can
try again. Answers that are final (404: no such facility, no norm) are returned as such.
"""

from __future__ import annotations

from cleanprod_contracts.registry_client import HttpGetter, NormLookup, RegistryClient, RegistryUnavailable

__all__ = ["NormLookup", "RegistryClient", "RegistryUnavailable", "registry_client"]


def registry_client(http: HttpGetter | None, base_url: str, timeout: float) -> RegistryClient:
    return RegistryClient(http, base_url, timeout, credentials_hint="VERIFICATION_SERVICE_CLIENT_ID/SECRET")
