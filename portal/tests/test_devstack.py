"""`./cleanprod up` prints the portal first, with the demo logins to try; the e2e stack runs the portal on its
own port with its own database and the confidential client's secret."""

from __future__ import annotations

from pathlib import Path

from infra.devstack import Ports, Stack, _banner
from infra.keycloak_server import client_secret


def test_banner_starts_with_the_portal_and_its_demo_logins(tmp_path: Path) -> None:
    lines = [line for line in _banner(Stack(tmp_path)).splitlines() if line.strip()]
    assert lines[0] == "cleanprod is running"
    assert lines[1].split()[:2] == ["Portal", "http://127.0.0.1:18200/"]
    assert "ent-hanoisteel" in lines[2] and "ent-thanglong" in lines[2] and "officer1" in lines[3]
    assert "Demo@2026" in lines[4]


def test_portal_environment(tmp_path: Path) -> None:
    stack = Stack(tmp_path, Ports.free(), environment="test")
    env = stack.portal_env()
    assert env["PORTAL_PUBLIC_BASE_URL"] == stack.url("portal") != stack.url("gateway")
    assert env["PORTAL_GATEWAY_URL"] == stack.url("gateway")
    assert env["PORTAL_DATABASE_URL"].endswith("/cleanprod_portal")
    assert env["PORTAL_OIDC_ISSUER"] == stack.issuer and env["PORTAL_OIDC_CLIENT_SECRET"] == client_secret(
        "cleanprod-portal"
    )
    assert len(set(vars(stack.ports).values())) == len(vars(stack.ports))  # every part on its own port
