"""Issue 9 ("hardening") at the edges, on the real processes with real Keycloak tokens:

- fault 2: two `Authorization` headers (a service token first, an enterprise token last) are refused by the
  gateway and by each service itself — they once returned every enterprise through the public gateway;
- fault 10: the Swagger UI at /api/docs completes an authorization-code + PKCE login at Keycloak with its docs
  client and the gateway's redirect URI, and the token it gets is accepted by the gateway.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any

import httpx
import pytest

from infra import keycloak_server
from infra.devstack import Stack

PROBLEM = "application/problem+json"
DOCS_CLIENT = "cleanprod-api-docs"
LOGIN_FORM = re.compile(r"""<form[^>]*\bid="kc-form-login"[^>]*>""", re.S)
ACTION = re.compile(r"""\baction="([^"]+)\"""")


def _assert_duplicate(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "duplicate_header" and body["header"] == "Authorization", body
    assert "Authorization" in body["detail"]


def test_a_service_token_and_an_enterprise_token_together_are_refused(
    gateway: httpx.Client, tokens, stack: Stack
) -> None:
    service = tokens.client("svc-registry")
    enterprise = tokens.password("ent-hanoisteel")
    # Alone, the enterprise sees its own enterprise only, and the service token is refused at the gateway.
    mine = gateway.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {enterprise}"})
    assert [e["tax_code"] for e in mine.json()["items"]] == ["0100109106"]
    assert gateway.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {service}"}).status_code == 403
    for pair in ((service, enterprise), (enterprise, service)):
        headers = [("Authorization", f"Bearer {pair[0]}"), ("Authorization", f"Bearer {pair[1]}")]
        _assert_duplicate(gateway.get("/api/v1/enterprises", params={"limit": 200}, headers=headers))
        _assert_duplicate(gateway.get("/api/v1/me", headers=headers))
    joined = {"Authorization": f"Bearer {service}, Bearer {enterprise}"}
    _assert_duplicate(gateway.get("/api/v1/enterprises", headers=joined))


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("registry", "/api/v1/enterprises"),
        ("applications", "/api/v1/calls"),
        ("verification", "/api/v1/verifications"),
    ],
)
def test_each_service_refuses_two_authorization_headers(tokens, stack: Stack, service: str, path: str) -> None:
    service_token, enterprise = tokens.client(f"svc-{service}"), tokens.password("ent-hanoisteel")
    with httpx.Client(base_url=stack.url(service), timeout=30) as direct:
        assert direct.get(path, headers={"Authorization": f"Bearer {enterprise}"}).status_code == 200
        headers = [("Authorization", f"Bearer {service_token}"), ("Authorization", f"Bearer {enterprise}")]
        _assert_duplicate(direct.get(path, headers=headers))


# ------------------------------------------------------------------ Swagger UI login (authorization code + PKCE)


class _Browser:
    """httpx with a browser's cookie rule for loopback: http://127.0.0.1 is a secure context, so Keycloak's
    `Secure` session cookies go back to it (Python's cookie jar would withhold them over plain http)."""

    def __init__(self) -> None:
        self.client = httpx.Client(timeout=30, follow_redirects=False)
        self.cookies: dict[str, str] = {}

    def __enter__(self) -> _Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.client.request(method, url, headers=headers, **kwargs)
        self.cookies.update({cookie.name: cookie.value or "" for cookie in response.cookies.jar})
        self.client.cookies.clear()
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _auth_params(redirect_uri: str, challenge: str, state: str) -> dict[str, str]:
    return {
        "client_id": DOCS_CLIENT,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def test_swagger_ui_login_with_pkce_gives_a_token_the_gateway_accepts(gateway: httpx.Client, stack: Stack) -> None:
    auth_url = f"{stack.issuer}/protocol/openid-connect/auth"
    token_url = f"{stack.issuer}/protocol/openid-connect/token"
    origin = stack.url("gateway")
    redirect_uri = f"{origin}/api/docs/oauth2-redirect"
    # What the docs page tells Swagger UI (same client, same redirect page, PKCE on).
    page = gateway.get("/api/docs").text
    assert f'"clientId": "{DOCS_CLIENT}"' in page and '"usePkceWithAuthorizationCodeGrant": true' in page
    scheme = gateway.get("/api/openapi.json").json()["components"]["securitySchemes"]["keycloak"]
    assert scheme["flows"]["authorizationCode"]["authorizationUrl"] == auth_url

    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(12)
    with _Browser() as browser:
        login = browser.get(auth_url, params=_auth_params(redirect_uri, challenge, state))
        assert login.status_code == 200, login.text[:500]
        form = LOGIN_FORM.search(login.text)
        assert form, "no Keycloak login form"
        action = html.unescape(ACTION.search(form.group(0)).group(1))
        done = browser.post(
            action, data={"username": "ent-hanoisteel", "password": keycloak_server.DEMO_PASSWORD, "credentialId": ""}
        )
        assert done.status_code == 302, done.text[:500]
        location = httpx.URL(done.headers["location"])
        assert str(location).startswith(redirect_uri + "?"), location
        assert location.params["state"] == state
        code = location.params["code"]
        landing = browser.get(str(location))  # the gateway's redirect page that hands the code to Swagger UI
        assert landing.status_code == 200 and landing.headers["content-type"].startswith("text/html")

        # Swagger UI exchanges the code from the browser: Keycloak must allow the gateway's origin (CORS).
        exchange = {
            "grant_type": "authorization_code",
            "client_id": DOCS_CLIENT,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        wrong = browser.post(token_url, data={**exchange, "code_verifier": _pkce()[0]}, headers={"Origin": origin})
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text
        # A failed exchange burns the code in Keycloak; log in again (the SSO cookie skips the form).
        verifier, challenge = _pkce()
        again = browser.get(auth_url, params=_auth_params(redirect_uri, challenge, state))
        assert again.status_code == 302, again.text[:300]
        code = httpx.URL(again.headers["location"]).params["code"]
        tokens = browser.post(
            token_url, data={**exchange, "code": code, "code_verifier": verifier}, headers={"Origin": origin}
        )
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers.get("access-control-allow-origin") == origin
    access = tokens.json()["access_token"]

    me = gateway.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "ent-hanoisteel" and me.json()["client_id"] == DOCS_CLIENT
    assert me.json()["tax_code"] == "0100109106"
    mine = gateway.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {access}"})
    assert mine.status_code == 200 and [e["tax_code"] for e in mine.json()["items"]] == ["0100109106"]


def test_the_docs_client_insists_on_pkce_and_its_redirect_uri(stack: Stack) -> None:
    auth_url = f"{stack.issuer}/protocol/openid-connect/auth"
    redirect_uri = f"{stack.url('gateway')}/api/docs/oauth2-redirect"
    _, challenge = _pkce()
    params = _auth_params(redirect_uri, challenge, "s")
    with _Browser() as browser:
        no_pkce = {k: v for k, v in params.items() if not k.startswith("code_challenge")}
        refused = browser.get(auth_url, params=no_pkce)
        assert refused.status_code == 302 and "error=invalid_request" in refused.headers["location"]
        plain = browser.get(auth_url, params={**params, "code_challenge": "x" * 43, "code_challenge_method": "plain"})
        assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]
        for other in (
            "http://evil.example/api/docs/oauth2-redirect",
            redirect_uri.replace("/api/docs/", "/api/v1/"),
            "http://127.0.0.1:1/api/docs/oauth2-redirect",
        ):
            elsewhere = browser.get(auth_url, params={**params, "redirect_uri": other})
            assert elsewhere.status_code == 400 and "redirect_uri" in elsewhere.text, other
