"""The portal as a confidential OpenID Connect client of Keycloak: authorization code + PKCE (S256).

Plain httpx over the back channel. The ID token arrives straight from the token endpoint over the connection
the portal opened (OIDC Core 3.1.3.7 allows TLS to stand in for the signature check then); its issuer,
audience, expiry and nonce are still checked. Roles and tax code are read from the access token the same way:
the gateway and services verify its signature on every call anyway.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import jwt

from cleanprod_kit.auth import Principal

from ..config import PortalSettings
from ..sessions import PORTAL_ROLES, TokenSet


class LoginFailed(Exception):
    """Keycloak refused the code, or the tokens it sent are not for us."""


class KeycloakUnavailable(Exception):
    """Keycloak could not be reached or answered 5xx: try again later (the session is kept)."""


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False, "verify_aud": False, "verify_exp": False})


class KeycloakClient:
    def __init__(self, settings: PortalSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    def authorization_url(self, *, state: str, nonce: str, code_challenge: str, language: str) -> str:
        query = {
            "client_id": self.settings.oidc_client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": self.settings.redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "ui_locales": language,
        }
        return f"{self.settings.authorization_endpoint}?{urlencode(query)}"

    def logout_url(self, id_token: str | None) -> str:
        query = {"client_id": self.settings.oidc_client_id, "post_logout_redirect_uri": f"{self.settings.base_url}/"}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{self.settings.end_session_endpoint}?{urlencode(query)}"

    async def _token_request(self, data: dict[str, str]) -> httpx.Response:
        try:
            response = await self.http.post(
                self.settings.token_endpoint,
                data=data,
                auth=(self.settings.oidc_client_id, self.settings.oidc_client_secret),
                timeout=self.settings.oidc_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            raise KeycloakUnavailable(str(exc)) from exc
        if response.status_code >= 500:
            raise KeycloakUnavailable(f"token endpoint answered {response.status_code}")
        return response

    async def exchange_code(self, code: str, code_verifier: str, nonce: str) -> TokenSet:
        response = await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.settings.redirect_uri,
                "code_verifier": code_verifier,
            }
        )
        if response.status_code != 200:
            raise LoginFailed(f"token endpoint answered {response.status_code}")
        tokens = self._token_set(response.json())
        claims = _claims(tokens.id_token or "")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if (
            claims.get("iss") != self.settings.oidc_issuer.rstrip("/")
            or self.settings.oidc_client_id not in audiences
            or not secrets.compare_digest(str(claims.get("nonce", "")), nonce)
            or float(claims.get("exp", 0)) < datetime.now(UTC).timestamp()
        ):
            raise LoginFailed("the ID token is not for this login")
        return tokens

    async def refresh(self, refresh_token: str) -> TokenSet | None:
        """New tokens, or None when Keycloak no longer accepts the refresh token (its session ended); raises
        KeycloakUnavailable when it cannot answer (that must not log the user out)."""
        response = await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})
        if response.status_code != 200:
            return None
        return self._token_set(response.json())

    def _token_set(self, body: dict) -> TokenSet:
        at = datetime.now(UTC)
        access = body.get("access_token")
        if not access:
            raise LoginFailed("no access token")
        claims = _claims(access)
        refresh_in = body.get("refresh_expires_in")
        # Vietnamese order, family name first ("Đỗ Mạnh Hùng"), not Keycloak's `name` claim (given name first)
        name = Principal.from_claims(claims).full_name or claims.get("name") or claims.get("preferred_username", "")
        return TokenSet(
            access_token=access,
            access_expires_at=at + timedelta(seconds=int(body.get("expires_in", 60))),
            refresh_token=body.get("refresh_token"),
            refresh_expires_at=at + timedelta(seconds=int(refresh_in)) if refresh_in else None,
            id_token=body.get("id_token"),
            subject=str(claims.get("sub", "")),
            username=str(claims.get("preferred_username", "")),
            display_name=str(name),
            roles=sorted(r for r in (claims.get("realm_access") or {}).get("roles", []) if r in PORTAL_ROLES),
            tax_code=claims.get("tax_code"),
        )
