"""The `cleanprod` realm on a real Keycloak (infra/keycloak_server.py), started on free ports in a temporary folder.

Checks what the services and the gateway rely on: issuer, `aud` = cleanprod-api, realm roles, the `tax_code`
claim, service accounts, PKCE on the portal, genuinely expiring 5-second tokens, the registry's admin rights,
and that signing keys survive a restart.
"""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest

from infra.keycloak_server import (
    API_AUDIENCE,
    DEMO_PASSWORD,
    REALM_DIR,
    KeycloakInstance,
    client_secret,
    demo_users,
    ensure_keycloak,
    restart_keycloak,
    stop_keycloak,
)
from infra.ports import free_ports

# The contract, written out on purpose (not read back from the realm file).
EXPECTED_USERS = {
    "officer1": ("officer", None),
    "officer2": ("officer", None),
    "reviewer1": ("reviewer", None),
    "reviewer2": ("reviewer", None),
    "reviewer3": ("reviewer", None),
    "verifier1": ("verifier", None),
    "verifier2": ("verifier", None),
    "auditor1": ("auditor", None),
    "finance1": ("finance", None),
    "ent-hanoisteel": ("enterprise", "0100109106"),
    "ent-thanglong": ("enterprise", "0101243150"),
}
SERVICE_CLIENTS = {
    "svc-registry": "service",
    "svc-applications": "service",
    "svc-verification": "service",
    "svc-gateway": "service",
    "egov-demo": "egov",
}
ALL_ROLES = {"enterprise", "reviewer", "officer", "verifier", "finance", "auditor", "egov", "service"}
REALM_FILE = REALM_DIR / "realm-cleanprod.json"
# The portal's authorization request, without its redirect URI.
AUTHORIZE = {"client_id": "cleanprod-portal", "response_type": "code", "scope": "openid", "state": "s1"}
PKCE = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}


# ---------------------------------------------------------------------------------------------------------------
# Static checks of the realm file (no server needed)
# ---------------------------------------------------------------------------------------------------------------


def _realm() -> dict:
    return json.loads(REALM_FILE.read_text(encoding="utf-8"))


def test_realm_file_declares_the_contract() -> None:
    realm = _realm()
    assert realm["realm"] == "cleanprod"
    assert {r["name"] for r in realm["roles"]["realm"]} == ALL_ROLES
    assert realm["accessTokenLifespan"] == 300
    assert realm["bruteForceProtected"] is False
    assert realm["loginTheme"] == "cleanprod" and (REALM_DIR / "themes" / "cleanprod" / "login").is_dir()
    users = demo_users(REALM_FILE)
    assert {name: (u["roles"], u["tax_code"]) for name, u in users.items()} == {
        name: ([role], tax) for name, (role, tax) in EXPECTED_USERS.items()
    }
    clients = {c["clientId"]: c for c in realm["clients"]}
    for client in clients.values():  # every token the API sees must be addressed to it
        audiences = [
            m["config"]["included.custom.audience"]
            for m in client["protocolMappers"]
            if m["protocolMapper"] == "oidc-audience-mapper"
        ]
        assert audiences == [API_AUDIENCE], client["clientId"]
    assert clients["cleanprod-portal"]["attributes"]["pkce.code.challenge.method"] == "S256"
    assert clients["cleanprod-portal"]["directAccessGrantsEnabled"] is False
    # The portal is a backend-for-frontend: a confidential client whose secret comes from the environment.
    assert clients["cleanprod-portal"]["publicClient"] is False
    assert clients["cleanprod-portal"]["secret"] == "${CLEANPROD_PORTAL_SECRET:dev-cleanprod-portal-secret}"
    docs = clients["cleanprod-api-docs"]  # Swagger UI at the gateway's /api/docs (issue 9)
    assert docs["publicClient"] is True and docs["standardFlowEnabled"] is True
    assert docs["directAccessGrantsEnabled"] is False and docs["implicitFlowEnabled"] is False
    assert docs["attributes"]["pkce.code.challenge.method"] == "S256"
    assert "${CLEANPROD_API_DOCS_URL:http://127.0.0.1:18000}/api/docs/oauth2-redirect" in docs["redirectUris"]
    assert all(uri.endswith("/api/docs/oauth2-redirect") for uri in docs["redirectUris"])  # no wildcards
    assert clients["cleanprod-cli-shortlived"]["attributes"]["access.token.lifespan"] == "5"
    profile = realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0]
    attributes = {a["name"]: a for a in json.loads(profile["config"]["kc.user.profile.config"][0])["attributes"]}
    assert attributes["tax_code"]["permissions"]["edit"] == ["admin"]


# ---------------------------------------------------------------------------------------------------------------
# Against a real server
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> KeycloakInstance:
    data_dir = tmp_path_factory.mktemp("keycloak-test")
    http_port, management_port = free_ports(2)
    instance = ensure_keycloak(data_dir, http_port, management_port, stop_with_parent=True)
    yield instance
    stop_keycloak(data_dir)


@pytest.fixture(scope="module")
def http() -> httpx.Client:
    with httpx.Client(timeout=30) as client:
        yield client


def _jwks(http: httpx.Client, kc: KeycloakInstance) -> dict[str, jwt.PyJWK]:
    keys = http.get(kc.jwks_url).raise_for_status().json()["keys"]
    return {k["kid"]: jwt.PyJWK(k) for k in keys if k.get("use") == "sig" and k["alg"] == "RS256"}


def _verify(token: str, keys: dict[str, jwt.PyJWK], kc: KeycloakInstance, **options: object) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(
        token, keys[kid], algorithms=["RS256"], audience=API_AUDIENCE, issuer=kc.issuer, options=options or None
    )


def _password_grant(
    http: httpx.Client,
    kc: KeycloakInstance,
    username: str,
    password: str = DEMO_PASSWORD,
    client_id: str = "cleanprod-cli",
) -> httpx.Response:
    return http.post(
        kc.token_url,
        data={
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password,
            "scope": "openid",
        },
    )


def _client_credentials(
    http: httpx.Client, kc: KeycloakInstance, client_id: str, secret: str | None = None
) -> httpx.Response:
    return http.post(
        kc.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret if secret is not None else client_secret(client_id),
        },
    )


def _code_exchange(http: httpx.Client, kc: KeycloakInstance, secret: str) -> httpx.Response:
    """The portal's authorization-code exchange at the token endpoint, with a made-up code."""
    return http.post(
        kc.token_url,
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "redirect_uri": "http://127.0.0.1:18200/auth/callback",
            "client_id": "cleanprod-portal",
            "client_secret": secret,
        },
    )


@pytest.mark.e2e
def test_discovery_document(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    doc = http.get(keycloak.well_known_url).raise_for_status().json()
    assert doc["issuer"] == keycloak.issuer == f"http://127.0.0.1:{keycloak.http_port}/realms/cleanprod"
    assert doc["jwks_uri"] == keycloak.jwks_url
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    health = http.get(f"{keycloak.management_url}/health/ready").json()
    assert health["status"] == "UP"


@pytest.mark.e2e
@pytest.mark.parametrize("username", sorted(EXPECTED_USERS))
def test_password_grant_for_every_demo_user(keycloak: KeycloakInstance, http: httpx.Client, username: str) -> None:
    role, tax_code = EXPECTED_USERS[username]
    response = _password_grant(http, keycloak, username)
    assert response.status_code == 200, response.text
    body = response.json()
    claims = _verify(body["access_token"], _jwks(http, keycloak), keycloak)
    assert claims["exp"] - claims["iat"] == 300  # (`expires_in` may already read 299)
    assert claims["iss"] == keycloak.issuer
    assert API_AUDIENCE in claims["aud"]
    assert claims["azp"] == "cleanprod-cli"
    assert claims["preferred_username"] == username
    roles = set(claims["realm_access"]["roles"])
    assert role in roles
    assert not (roles & ALL_ROLES) - {role}, f"{username} holds more than its one business role: {roles}"
    assert claims.get("tax_code") == tax_code  # exact for enterprises, absent for everybody else
    assert claims["given_name"] and claims["family_name"]
    assert any(ord(ch) > 127 for ch in claims["given_name"] + claims["family_name"])  # Vietnamese diacritics


@pytest.mark.e2e
def test_tax_code_in_id_token_and_userinfo(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    body = _password_grant(http, keycloak, "ent-thanglong").raise_for_status().json()
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_claims["tax_code"] == "0101243150"
    assert id_claims["aud"] == "cleanprod-cli"  # the API audience goes into access tokens only
    userinfo = (
        http.get(
            f"{keycloak.issuer}/protocol/openid-connect/userinfo",
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )
        .raise_for_status()
        .json()
    )
    assert userinfo["tax_code"] == "0101243150"


@pytest.mark.e2e
def test_wrong_password_is_refused(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    response = _password_grant(http, keycloak, "officer1", "not-the-password")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"
    assert _password_grant(http, keycloak, "officer1").status_code == 200  # no lock-out in dev


@pytest.mark.e2e
@pytest.mark.parametrize("client_id", sorted(SERVICE_CLIENTS))
def test_client_credentials_for_service_clients(keycloak: KeycloakInstance, http: httpx.Client, client_id: str) -> None:
    response = _client_credentials(http, keycloak, client_id)
    assert response.status_code == 200, response.text
    claims = _verify(response.json()["access_token"], _jwks(http, keycloak), keycloak)
    assert API_AUDIENCE in claims["aud"]
    assert claims["azp"] == client_id
    roles = set(claims["realm_access"]["roles"])
    assert SERVICE_CLIENTS[client_id] in roles
    assert not (roles & ALL_ROLES) - {SERVICE_CLIENTS[client_id]}
    assert "tax_code" not in claims


@pytest.mark.e2e
def test_wrong_client_secret_is_refused(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    response = _client_credentials(http, keycloak, "svc-gateway", "wrong-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.e2e
def test_portal_requires_pkce_and_has_no_password_grant(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    auth_url = f"{keycloak.issuer}/protocol/openid-connect/auth"
    params = {**AUTHORIZE, "redirect_uri": "http://localhost:5173/callback"}
    without = http.get(auth_url, params=params, follow_redirects=False)
    assert without.status_code == 302
    assert "error=invalid_request" in without.headers["location"]
    assert "code_challenge_method" in httpx.URL(without.headers["location"]).params.get("error_description", "")
    with_pkce = http.get(
        auth_url,
        params={**params, **PKCE},
        follow_redirects=False,
    )
    assert with_pkce.status_code == 200 and "kc-form-login" in with_pkce.text  # the login page
    plain = http.get(
        auth_url,
        params={**params, "code_challenge": "x" * 43, "code_challenge_method": "plain"},
        follow_redirects=False,
    )
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]
    assert _password_grant(http, keycloak, "officer1", client_id="cleanprod-portal").status_code in (400, 401)


@pytest.mark.e2e
def test_portal_is_confidential_and_takes_loopback_callbacks_on_any_port(
    keycloak: KeycloakInstance, http: httpx.Client
) -> None:
    auth_url = f"{keycloak.issuer}/protocol/openid-connect/auth"
    base = {**AUTHORIZE, **PKCE}
    for redirect in ("http://127.0.0.1:18200/auth/callback", f"http://127.0.0.1:{free_ports(1)[0]}/auth/callback"):
        page = http.get(auth_url, params={**base, "redirect_uri": redirect}, follow_redirects=False)
        assert page.status_code == 200 and "kc-form-login" in page.text, redirect
    for foreign in (
        "http://127.0.0.1:18200/elsewhere",
        "http://evil.example/auth/callback",
        "http://localhost:4444/auth/callback",
    ):
        refused = http.get(auth_url, params={**base, "redirect_uri": foreign}, follow_redirects=False)
        assert refused.status_code == 400 and "kc-form-login" not in refused.text, foreign
    # Confidential: the token endpoint wants the secret (a wrong one is refused, the right one authenticates).
    wrong = _code_exchange(http, keycloak, "wrong")
    assert wrong.status_code == 401
    right = _code_exchange(http, keycloak, client_secret("cleanprod-portal"))
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant"  # authenticated; bad code
    logout_url = f"{keycloak.issuer}/protocol/openid-connect/logout"
    home = f"http://127.0.0.1:{free_ports(1)[0]}/"
    logout = http.get(
        logout_url, follow_redirects=False, params={"client_id": "cleanprod-portal", "post_logout_redirect_uri": home}
    )
    assert logout.status_code == 302 and logout.headers["location"] == home  # no session left: straight back
    elsewhere = http.get(
        logout_url,
        follow_redirects=False,
        params={"client_id": "cleanprod-portal", "post_logout_redirect_uri": "http://evil.example/"},
    )
    assert elsewhere.status_code == 400


@pytest.mark.e2e
def test_login_pages_speak_vietnamese_first(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    auth_url = f"{keycloak.issuer}/protocol/openid-connect/auth"
    params = {**AUTHORIZE, "redirect_uri": "http://127.0.0.1:18200/auth/callback", **PKCE}
    with httpx.Client(timeout=30) as browser:  # fresh cookies: no locale remembered from another test
        vietnamese = browser.get(auth_url, params=params)
        assert vietnamese.status_code == 200 and 'id="kc-form-login"' in vietnamese.text
        assert "Đăng nhập vào tài khoản" in vietnamese.text and "Mật khẩu" in vietnamese.text
        assert 'lang="vi"' in vietnamese.text and 'id="kc-login"' in vietnamese.text  # ids stay Keycloak's
    with httpx.Client(timeout=30) as browser:
        english = browser.get(auth_url, params={**params, "ui_locales": "en"})
        assert "Sign in to your account" in english.text and "Đăng nhập vào tài khoản" not in english.text


@pytest.mark.e2e
def test_short_lived_client_gives_genuinely_expiring_tokens(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    body = _password_grant(http, keycloak, "officer2", client_id="cleanprod-cli-shortlived").raise_for_status().json()
    assert body["expires_in"] <= 5
    keys = _jwks(http, keycloak)
    claims = _verify(body["access_token"], keys, keycloak)
    assert claims["exp"] - claims["iat"] == 5
    time.sleep(max(0.0, claims["exp"] - time.time()) + 1.5)
    with pytest.raises(jwt.ExpiredSignatureError):
        _verify(body["access_token"], keys, keycloak)
    userinfo = http.get(
        f"{keycloak.issuer}/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert userinfo.status_code == 401  # Keycloak agrees it expired


@pytest.mark.e2e
def test_registry_service_account_creates_enterprise_logins(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
    from keycloak.exceptions import KeycloakError

    connection = KeycloakOpenIDConnection(
        server_url=keycloak.base_url,
        realm_name="cleanprod",
        user_realm_name="cleanprod",
        client_id="svc-registry",
        client_secret_key=client_secret("svc-registry"),
    )
    admin = KeycloakAdmin(connection=connection)
    user_id = admin.create_user(
        {
            "username": "ent-test-0100109106",
            "enabled": True,
            "emailVerified": True,
            "email": "ketoan@hoaphat-test.example",
            "firstName": "Thị Mai",
            "lastName": "Phan",
            "attributes": {"tax_code": ["0100109106"]},
            "requiredActions": [],
        }
    )
    try:
        assert admin.get_user(user_id)["attributes"]["tax_code"] == ["0100109106"]
        # Realm roles are mapped from the user's "available roles" (the role endpoints need view-realm).
        available = {role["name"]: role for role in admin.get_available_realm_roles_of_user(user_id)}
        admin.assign_realm_roles(user_id, [available["enterprise"]])
        admin.set_user_password(user_id, "Enterprise@2026", temporary=False)

        # The declarative user profile validates the attribute...
        with pytest.raises(KeycloakError) as bad:
            admin.update_user(
                user_id,
                {
                    "email": "ketoan@hoaphat-test.example",
                    "firstName": "Thị Mai",
                    "lastName": "Phan",
                    "attributes": {"tax_code": ["12345"]},
                },
            )
        assert bad.value.response_code == 400

        body = _password_grant(http, keycloak, "ent-test-0100109106", "Enterprise@2026").raise_for_status().json()
        claims = _verify(body["access_token"], _jwks(http, keycloak), keycloak)
        assert claims["tax_code"] == "0100109106"
        assert "enterprise" in claims["realm_access"]["roles"]

        # ...and users cannot change their own tax code through the account API.
        account_url = f"{keycloak.issuer}/account/"
        headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"}
        me = http.get(account_url, headers=headers).raise_for_status().json()
        me["attributes"]["tax_code"] = ["0101243150"]
        refused = http.post(account_url, headers=headers, json=me)
        assert refused.status_code == 400
        assert "read-only" in refused.text
        assert admin.get_user(user_id)["attributes"]["tax_code"] == ["0100109106"]
    finally:
        admin.delete_user(user_id)


@pytest.mark.e2e
def test_other_services_cannot_manage_users(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    token = _client_credentials(http, keycloak, "svc-applications").raise_for_status().json()["access_token"]
    response = http.get(f"{keycloak.admin_url}/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


@pytest.mark.e2e
def test_tokens_survive_a_stop_and_keys_survive_a_restart(keycloak: KeycloakInstance, http: httpx.Client) -> None:
    """Runs last in this module: it stops and restarts the module's server (same data, same ports)."""
    keys_before = _jwks(http, keycloak)
    body = _password_grant(http, keycloak, "auditor1").raise_for_status().json()

    stop_keycloak(keycloak)
    with pytest.raises(httpx.ConnectError):
        http.get(keycloak.well_known_url)
    claims = _verify(body["access_token"], keys_before, keycloak)  # verification is local: still fine
    assert "auditor" in claims["realm_access"]["roles"]

    restarted = restart_keycloak(keycloak, stop_with_parent=True)
    assert restarted.issuer == keycloak.issuer
    assert set(_jwks(http, restarted)) == set(keys_before)  # the dev database kept the realm's signing keys
    _verify(body["access_token"], _jwks(http, restarted), restarted)
    refreshed = http.post(
        restarted.token_url,
        data={"grant_type": "refresh_token", "client_id": "cleanprod-cli", "refresh_token": body["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text  # user sessions are persisted too (Keycloak 26)
