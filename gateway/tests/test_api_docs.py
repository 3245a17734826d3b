"""Issue 9, fault 10: /api/docs works offline (Swagger UI served by the gateway from the pinned package, nothing
from a CDN) and its Authorize button is set up for Keycloak's docs client with PKCE."""

from __future__ import annotations

import re

from gateway_helpers import RunningGateway

from cleanprod_gateway.control import DOCS_ASSETS

URL_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+""", re.IGNORECASE)


async def test_docs_page_references_only_gateway_served_assets(gw: RunningGateway) -> None:
    page = await gw.client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert not ABSOLUTE_URL.search(html), ABSOLUTE_URL.findall(html)  # no CDN, no validator badge
    assert '"validatorUrl": null' in html
    referenced = URL_ATTRIBUTE.findall(html)
    assert set(referenced) == {"/api/docs/assets/" + name for name in DOCS_ASSETS}
    for url in referenced:
        asset = await gw.client.get(url)
        name = url.rsplit("/", 1)[1]
        assert asset.status_code == 200, url
        assert asset.headers["content-type"] == DOCS_ASSETS[name], url
        assert len(asset.content) > 500, url
    bundle = await gw.client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content and b"usePkceWithAuthorizationCodeGrant" in bundle.content
    assert (await gw.client.get("/api/docs/assets/favicon-32x32.png")).content.startswith(b"\x89PNG")


async def test_other_package_files_are_not_served(gw: RunningGateway) -> None:
    for name in ("index.html", "swagger-ui.js.map", "../__init__.py", "swagger-initializer.js"):
        response = await gw.client.get("/api/docs/assets/" + name)
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/problem+json"


async def test_authorize_uses_the_docs_client_with_pkce(gw: RunningGateway) -> None:
    html = (await gw.client.get("/api/docs")).text
    assert (
        'ui.initOAuth({"clientId": "cleanprod-api-docs", "scopes": "openid", '
        '"usePkceWithAuthorizationCodeGrant": true})'
    ) in html
    assert "oauth2RedirectUrl: window.location.origin + '/api/docs/oauth2-redirect'" in html
    redirect = await gw.client.get("/api/docs/oauth2-redirect")
    assert redirect.status_code == 200 and redirect.headers["content-type"].startswith("text/html")
    assert "oauth2" in redirect.text and "opener" in redirect.text and not ABSOLUTE_URL.search(redirect.text)
    doc = (await gw.client.get("/api/openapi.json")).json()
    issuer = gw.gateway.settings.oidc_issuer
    flow = doc["components"]["securitySchemes"]["keycloak"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"{issuer}/protocol/openid-connect/auth"
    assert flow["tokenUrl"] == f"{issuer}/protocol/openid-connect/token"
    assert {"keycloak": ["openid"]} in doc["security"] and {"bearer": []} in doc["security"]
