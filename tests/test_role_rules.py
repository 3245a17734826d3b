"""The gateway's route table and the services' role rules agree (issue 12, "one owner per rule").

Each service's FastAPI app is built in-process and only its route table is read (no database, nothing started).
For every service route the gateway can reach — its path under a gateway prefix routed to that service:
- every role its `require_roles(...)` admits for a method is admitted by the gateway's rule for that prefix and
  method, or is a role the gateway refuses on purpose (`routes.REFUSED_ROLES`: service accounts);
- it needs a token (depends on `authenticate`) unless its prefix is public; on a public prefix it is a read that
  needs none (the gateway forwards no token there).
And across the two: every role named is a `cleanprod_kit.roles.Role`; every /api/ route of a service is routed by
the gateway to that service; every gateway prefix serves at least one service route for each kind of method
(read, write) it lets through.

A route without `require_roles` (any signed-in caller; its code checks the objects, e.g. the list of calls) has
no role rule to compare: the gateway's coarse rule is then the only one. The checks are plain functions returning
the disagreements as sentences, and each is also run against a deliberately wrong table (the `*_is_reported`
tests), so none of them passes by finding nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from cleanprod_gateway.routes import READ_METHODS, REFUSED_ROLES, ROUTES, Route, RouteTable
from cleanprod_kit.auth import authenticate
from cleanprod_kit.roles import Role

TABLE = RouteTable()


@dataclass(frozen=True)
class ServiceRoute:
    service: str
    method: str
    path: str
    roles: frozenset[str] | None  # what require_roles admits; None: no role rule
    authenticated: bool  # depends on `authenticate` (a bearer token is verified)

    @property
    def kind(self) -> str:
        return "read" if self.method in READ_METHODS else "write"

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def routes_of(service: str, app: FastAPI) -> list[ServiceRoute]:
    found = []
    for route in iter_route_contexts(app.routes):  # included routers are nested: walk their effective routes
        if not isinstance(route.original_route, APIRoute):
            continue
        calls = list(_calls(route.dependant))
        rules = [c.roles for c in calls if isinstance(getattr(c, "roles", None), frozenset)]
        roles = frozenset.intersection(*rules) if rules else None  # several require_roles: all must hold
        found += [
            ServiceRoute(service, method, route.path, roles, authenticate in calls) for method in sorted(route.methods)
        ]
    return found


def _sorted(roles: Iterable[str]) -> list[str]:
    return sorted(str(role) for role in roles)  # plain names in messages, also for Role members


def reachable(routes: Iterable[ServiceRoute], table: RouteTable) -> Iterator[tuple[ServiceRoute, Route]]:
    for route in routes:
        gateway_route = table.match(route.path)
        if gateway_route is not None and gateway_route.service == route.service:
            yield route, gateway_route


# ------------------------------------------------------------------------------------------------ the checks


def roles_refused_by_the_gateway(routes: Iterable[ServiceRoute], table: RouteTable) -> list[str]:
    found = []
    for route, gateway_route in reachable(routes, table):
        if route.roles is None or gateway_route.public:
            continue
        allowed = gateway_route.allowed(route.method)
        lost = route.roles - allowed - REFUSED_ROLES
        if lost:
            found.append(
                f"{route} admits {_sorted(lost)}, but the gateway's {route.kind} rule for "
                f"{gateway_route.prefix} admits only {_sorted(allowed)}"
            )
    return found


def token_disagreements(routes: Iterable[ServiceRoute], table: RouteTable) -> list[str]:
    found = []
    for route, gateway_route in reachable(routes, table):
        if gateway_route.public and route.kind == "write":
            found.append(
                f"{route} is a write under the public prefix {gateway_route.prefix}: the gateway lets "
                "no write through there"
            )
        elif gateway_route.public and route.authenticated:
            found.append(
                f"{route} needs a token, but the gateway reads {gateway_route.prefix} anonymously and forwards none"
            )
        elif not gateway_route.public and not route.authenticated:
            found.append(f"{route} verifies no token, though {gateway_route.prefix} is not public")
    return found


def unknown_roles(routes: Iterable[ServiceRoute], table: RouteTable) -> list[str]:
    known = set(Role)
    found = [
        f"{route} names roles outside cleanprod_kit.roles.Role: {_sorted(route.roles - known)}"
        for route in routes
        if route.roles is not None and route.roles - known
    ]
    for r in table.routes:
        if strangers := (r.read_roles | r.write_roles) - known:
            found.append(
                f"the gateway's rule for {r.prefix} names roles outside cleanprod_kit.roles.Role: {_sorted(strangers)}"
            )
    return found


def unrouted(routes: Iterable[ServiceRoute], table: RouteTable) -> list[str]:
    found = []
    for route in routes:
        if not route.path.startswith("/api/"):
            continue  # /internal/*, /healthz, /readyz: not for the public gateway
        gateway_route = table.match(route.path)
        if gateway_route is None:
            found.append(f"{route} is under no gateway prefix")
        elif gateway_route.service != route.service:
            found.append(f"{route}: the gateway sends {gateway_route.prefix} to {gateway_route.service}")
    return found


def idle_prefixes(routes: Iterable[ServiceRoute], table: RouteTable) -> list[str]:
    served = {(gateway_route.prefix, route.kind) for route, gateway_route in reachable(routes, table)}
    found = []
    for r in table.routes:
        kinds = ["read"] if r.public or r.read_roles else []
        kinds += ["write"] if r.write_roles else []
        found += [
            f"the gateway lets {kind}s through {r.prefix} ({r.service}), but no {r.service} route serves them"
            for kind in kinds
            if (r.prefix, kind) not in served
        ]
    return found


CHECKS = [roles_refused_by_the_gateway, token_disagreements, unknown_roles, unrouted, idle_prefixes]


# ------------------------------------------------------------------------------------------------ the tests


@pytest.fixture(scope="module")
def service_routes() -> list[ServiceRoute]:
    found = []
    for service in TABLE.services():
        app = importlib.import_module(f"cleanprod_{service}.main").create_app()
        found += routes_of(service, app)
    return found


def test_the_services_have_role_rules_to_compare(service_routes: list[ServiceRoute]) -> None:
    # Guards the inspection itself: if require_roles stopped being readable, every check below would pass.
    ruled = [r for r in service_routes if r.roles is not None]
    assert {r.service for r in ruled} == set(TABLE.services())
    assert len(ruled) > 50, len(ruled)
    assert any(r.roles == {Role.VERIFIER} and r.path.endswith("/conclude") for r in ruled)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_gateway_and_services_agree(check: Callable[..., list[str]], service_routes: list[ServiceRoute]) -> None:
    disagreements = check(service_routes, TABLE)
    assert not disagreements, "the gateway's route table and the services disagree:\n" + "\n".join(disagreements)


def _table_with(prefix: str, **changes: Any) -> RouteTable:
    return RouteTable(tuple(replace(r, **changes) if r.prefix == prefix else r for r in ROUTES))


def test_a_role_the_gateway_refuses_is_reported(service_routes: list[ServiceRoute]) -> None:
    narrowed = _table_with("/api/v1/enterprises", write_roles=frozenset({Role.OFFICER}))
    found = roles_refused_by_the_gateway(service_routes, narrowed)
    assert (
        "registry POST /api/v1/enterprises admits ['enterprise'], but the gateway's write rule for "
        "/api/v1/enterprises admits only ['officer']" in found
    ), found


def test_a_service_route_the_gateway_does_not_route_is_reported(service_routes: list[ServiceRoute]) -> None:
    without_staff = RouteTable(tuple(r for r in ROUTES if r.prefix != "/api/v1/staff"))
    assert "registry GET /api/v1/staff is under no gateway prefix" in unrouted(service_routes, without_staff)
    moved = _table_with("/api/v1/staff", service="applications")
    assert "registry GET /api/v1/staff: the gateway sends /api/v1/staff to applications" in unrouted(
        service_routes, moved
    )
    # ... and the gateway prefix then serves nothing of the service it names
    assert any("/api/v1/staff (applications)" in s for s in idle_prefixes(service_routes, moved))


def test_a_public_prefix_over_token_routes_is_reported(service_routes: list[ServiceRoute]) -> None:
    opened = _table_with("/api/v1/programme", public=True)
    found = token_disagreements(service_routes, opened)
    assert (
        "verification GET /api/v1/programme/summary needs a token, but the gateway reads /api/v1/programme "
        "anonymously and forwards none" in found
    ), found


def test_a_write_rule_without_write_routes_is_reported(service_routes: list[ServiceRoute]) -> None:
    widened = _table_with("/api/v1/programme", write_roles=frozenset({Role.OFFICER}))
    assert idle_prefixes(service_routes, widened) == [
        "the gateway lets writes through /api/v1/programme (verification), but no verification route serves them"
    ]


def test_an_unknown_role_name_is_reported() -> None:
    typo = ServiceRoute("registry", "GET", "/api/v1/sectors", frozenset({"oficer"}), authenticated=True)
    assert unknown_roles([typo], TABLE) == [
        "registry GET /api/v1/sectors names roles outside cleanprod_kit.roles.Role: ['oficer']"
    ]
