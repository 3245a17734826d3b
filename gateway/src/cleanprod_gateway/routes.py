"""The one route table: public path prefix -> upstream service, and the coarse role rules per prefix.

Coarse rules only decide whether a role may reach a part of the API at all; every service verifies the token
again and does its own fine-grained, object-level checks (an enterprise sees only its own records, a reviewer
only assigned applications, ...).

Decisions:
- Reads are GET/HEAD/OPTIONS; every other method is a write.
- `auditor` is in every read set and in no write set: auditors read everything and change nothing.
- `egov` (city e-government systems) reaches /api/v1/integrations and may read /api/v1/calls.
- `service` (service accounts that call each other on the internal network) is in no set: a service-account
  token presented at the public gateway is refused, so a leaked service credential cannot be used from outside.
  Service-to-service calls go directly to the services, never through the gateway.
- `public` routes (the portal's pages for anyone: open calls, a dossier's status by its code, the sectors) are
  read without a token: the gateway neither verifies nor forwards one sent to them (the services serve them
  without any role check, and no token reaches them); writes on them still need a token and no role may write.
- Only the prefixes below are routed; anything else (including the services' /internal/* endpoints, their own
  /openapi.json, /docs, /healthz, /readyz) is not reachable through the gateway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cleanprod_kit.roles import OVERSIGHT, STAFF_READERS, Role

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Roles no route admits, by decision (above): service accounts never come through the public gateway.
REFUSED_ROLES = frozenset({Role.SERVICE})


@dataclass(frozen=True)
class Route:
    prefix: str  # e.g. "/api/v1/enterprises"
    service: str  # key into GatewaySettings.upstreams
    read_roles: frozenset[str]
    write_roles: frozenset[str]
    public: bool = False  # reads need no token (see above)

    def anonymous(self, method: str) -> bool:
        return self.public and method in READ_METHODS

    def allowed(self, method: str) -> frozenset[str]:
        return self.read_roles if method in READ_METHODS else self.write_roles


def _r(prefix: str, service: str, read: set[Role] | frozenset[Role], write: set[Role] | frozenset[Role]) -> Route:
    return Route(prefix, service, frozenset(read), frozenset(write))


def _public(prefix: str, service: str) -> Route:
    return Route(prefix, service, frozenset(), frozenset(), public=True)


ROUTES: tuple[Route, ...] = (
    # registry: enterprises register themselves and their facilities/baselines; officers manage sectors and norms.
    _r("/api/v1/enterprises", "registry", STAFF_READERS, {Role.ENTERPRISE, Role.OFFICER}),
    _r("/api/v1/facilities", "registry", STAFF_READERS, {Role.ENTERPRISE, Role.OFFICER}),
    _r("/api/v1/sectors", "registry", STAFF_READERS, {Role.OFFICER}),
    _r("/api/v1/norms", "registry", STAFF_READERS, {Role.OFFICER}),
    # who can be assigned: reviewers and verifiers by role (Keycloak), for officers (and auditors reading)
    _r("/api/v1/staff", "registry", OVERSIGHT, set()),
    # applications: officers open calls; enterprises apply, reviewers review, officers decide.
    # The one-stop portal may show open programme rounds, so e-government clients read calls too.
    _r("/api/v1/calls", "applications", STAFF_READERS | {Role.EGOV}, {Role.OFFICER}),
    # Verifiers write here only to attach their measurement evidence to the application they verify.
    _r(
        "/api/v1/applications",
        "applications",
        STAFF_READERS,
        {Role.ENTERPRISE, Role.REVIEWER, Role.OFFICER, Role.VERIFIER},
    ),
    # Handbooks library: officers publish; staff read every handbook, anyone the published ones (public prefix).
    _r("/api/v1/handbooks", "applications", STAFF_READERS, {Role.OFFICER}),
    _r("/api/v1/integrations", "applications", OVERSIGHT | {Role.EGOV}, {Role.EGOV, Role.OFFICER}),
    # Each person's own notifications and preferences: every role that logs in (marking read and opting out of an
    # optional kind change only the caller's own inbox, so auditors may do it too).
    _r("/api/v1/notifications", "applications", STAFF_READERS | {Role.FINANCE}, STAFF_READERS | {Role.FINANCE}),
    _r(
        "/api/v1/notification-preferences",
        "applications",
        STAFF_READERS | {Role.FINANCE},
        STAFF_READERS | {Role.FINANCE},
    ),
    # verification: verifiers measure and conclude, officers assign; enterprises may read their own results.
    _r("/api/v1/verifications", "verification", STAFF_READERS, {Role.VERIFIER, Role.OFFICER}),
    # The programme summary is read-only, for the Department's officers and the auditors.
    _r("/api/v1/programme", "verification", OVERSIGHT, set()),
    # The audit search: one prefix per service (each serves its own entries); the portal merges them by time.
    _r("/api/v1/audit/registry", "registry", OVERSIGHT, set()),
    _r("/api/v1/audit/applications", "applications", OVERSIGHT, set()),
    _r("/api/v1/audit/verification", "verification", OVERSIGHT, set()),
    # The portal's public pages (no login): open calls, a dossier's status by its code, the sector list.
    _public("/api/v1/public/calls", "applications"),
    _public("/api/v1/public/dossiers", "applications"),
    _public("/api/v1/public/sectors", "registry"),
    # The programme's results (aggregates only; small groups suppressed by the verification service).
    _public("/api/v1/public/results", "verification"),
    # Verified projects their enterprises consented to show (applications service).
    _public("/api/v1/public/showcase", "applications"),
    _public("/api/v1/public/handbooks", "applications"),
)


class RouteTable:
    """Precompiled prefix matching: one regex over the segment after /api/v1/, then a dict lookup."""

    def __init__(self, routes: tuple[Route, ...] = ROUTES) -> None:
        self.routes = routes
        self._by_prefix = {r.prefix: r for r in routes}
        alternatives = "|".join(re.escape(r.prefix) for r in sorted(routes, key=lambda r: -len(r.prefix)))
        self._pattern = re.compile(rf"({alternatives})(?:/|$)")

    def match(self, path: str) -> Route | None:
        m = self._pattern.match(path)
        if m is None:
            return None
        return self._by_prefix[m.group(1)]

    def public_prefixes(self) -> tuple[str, ...]:
        return tuple(r.prefix for r in self.routes if r.public)

    def prefixes_for(self, service: str) -> tuple[str, ...]:
        return tuple(r.prefix for r in self.routes if r.service == service)

    def services(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for r in self.routes:
            seen.setdefault(r.service, None)
        return tuple(seen)


def has_dot_segment(path: str) -> bool:
    """`/a/../b` or `/a/./b` (after percent-decoding): refused, so a prefix check cannot be walked around."""
    if "." not in path:
        return False
    return any(seg in (".", "..") for seg in path.split("/"))
