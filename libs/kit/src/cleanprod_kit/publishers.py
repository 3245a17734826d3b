"""Who may publish which event: the one table every `POST /internal/events` consumer checks.

An event moves money or opens cases, so it is accepted only from the service account of the service that
publishes its type, decided from the token's client (`azp`, the Keycloak client id) — never from the `source`
written in the body. The gateway's account, e-government clients and any other client publish nothing.

Client ids are deployment settings (`<P>EVENT_PUBLISHER_CLIENTS`, service name → client id, JSON); the table of
event types below is code, because it says which service writes which events (a test per service checks that
every `emit(...)` in its source is listed here with that service as publisher).
"""

from __future__ import annotations

from collections.abc import Mapping

from .auth import Principal
from .errors import Forbidden

DEFAULT_PUBLISHER_CLIENTS: dict[str, str] = {
    "registry": "svc-registry",
    "applications": "svc-applications",
    "verification": "svc-verification",
}
"""Publishing service → its Keycloak client id (the realm's names; `event_publisher_clients` overrides)."""

EVENT_PUBLISHERS: tuple[tuple[str, str], ...] = (
    ("registry.*", "registry"),  # registry.enterprise.*, registry.facility.*, registry.baseline.*, …
    ("call.*", "applications"),  # call.created, call.updated
    ("application.*", "applications"),  # one per lifecycle transition, and the payment steps of its tranches
    ("verification.*", "verification"),  # opened, verifier_assigned, verifier_declared, concluded
)
"""Event type (exact, or a prefix written `prefix.*`) → the service that publishes it."""


def _matches(pattern: str, event_type: str) -> bool:
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1]) and len(event_type) > len(pattern) - 1
    return event_type == pattern


def publisher_of(event_type: str) -> str | None:
    """The service that publishes `event_type` (an exact entry wins over a prefix), None when nobody does."""
    best: tuple[int, str] | None = None
    for pattern, service in EVENT_PUBLISHERS:
        if _matches(pattern, event_type):
            rank = 1_000 if not pattern.endswith(".*") else len(pattern)
            if best is None or rank > best[0]:
                best = (rank, service)
    return best[1] if best else None


def merged_clients(configured: Mapping[str, str] | None) -> dict[str, str]:
    """The defaults with a deployment's overrides; refuses unknown services and one client for two services."""
    clients = {**DEFAULT_PUBLISHER_CLIENTS, **(configured or {})}
    unknown = sorted(set(clients) - set(DEFAULT_PUBLISHER_CLIENTS))
    if unknown:
        raise ValueError(
            f"unknown publishing service(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_PUBLISHER_CLIENTS)}"
        )
    if len(set(clients.values())) != len(clients):
        raise ValueError("each publishing service needs its own client id")
    return clients


def event_publisher_not_allowed(detail: str) -> Forbidden:
    return Forbidden(
        detail,
        title="Event publisher not allowed",
        slug="event-publisher-not-allowed",
        code="event_publisher_not_allowed",
    )


def ensure_service_account(principal: Principal) -> Principal:
    """Only service accounts publish; checked before the body is even read."""
    if not principal.has("service"):
        raise event_publisher_not_allowed(
            f"Only service accounts publish events; this token (client '{principal.client_id or '?'}') has no "
            "'service' role."
        )
    return principal


def accepted_source(event_type: str, principal: Principal, clients: Mapping[str, str]) -> str:
    """The publishing service's name when `principal` is that service's account; 403 problem otherwise.

    The name returned is the event's `source` from then on (handlers record it as the actor)."""
    service = publisher_of(event_type)
    if service is None:
        raise event_publisher_not_allowed(f"No service publishes events of type '{event_type}'.")
    expected = clients.get(service)
    ensure_service_account(principal)
    if not principal.client_id or principal.client_id != expected:
        raise event_publisher_not_allowed(
            f"Events of type '{event_type}' are accepted only from the {service} service's account; "
            f"client '{principal.client_id or '?'}' may not publish them."
        )
    return service
