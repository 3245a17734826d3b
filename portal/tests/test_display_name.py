"""The signed-in person's name as the header shows it: Vietnamese order, family name first."""

from __future__ import annotations

import httpx
import jwt

from cleanprod_portal.auth.oidc import KeycloakClient
from cleanprod_portal.config import PortalSettings


def _token_set(claims: dict[str, str]):  # noqa: ANN202 - the portal's TokenSet
    client = KeycloakClient(PortalSettings(), httpx.AsyncClient())
    access = jwt.encode({"sub": "u1", **claims}, "not-checked-here", algorithm="HS256")
    return client._token_set({"access_token": access, "expires_in": 300})


def test_family_name_comes_first_as_in_vietnamese() -> None:
    tokens = _token_set(
        {"given_name": "Mạnh Hùng", "family_name": "Đỗ", "name": "Mạnh Hùng Đỗ", "preferred_username": "ent-hanoisteel"}
    )
    assert tokens.display_name == "Đỗ Mạnh Hùng"


def test_an_account_without_a_profile_name_shows_its_login() -> None:
    assert _token_set({"preferred_username": "egov-demo"}).display_name == "egov-demo"
