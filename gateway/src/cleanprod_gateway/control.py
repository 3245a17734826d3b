"""The gateway's own endpoints (FastAPI, mounted only for these paths; the proxy path never enters FastAPI):
/api/openapi.json, /api/docs (+ its assets and OAuth2 redirect page), /api/v1/me, /healthz, /readyz.

Swagger UI is served from the pinned `swagger-ui-bundle` package, never from a CDN (the docs work offline), and
its Authorize button logs in at Keycloak with the public client `cleanprod-api-docs` (authorization code + PKCE
S256), whose redirect URI is this gateway's /api/docs/oauth2-redirect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from pydantic import BaseModel
from starlette.responses import FileResponse, HTMLResponse, JSONResponse
from swagger_ui_bundle import swagger_ui_path

from cleanprod_kit.errors import NotFound, Problem, install_problem_handlers

from .problems import too_many
from .tokens import TokenCache, extract_bearer

if TYPE_CHECKING:
    from .openapi import OpenAPICache
    from .ratelimit import Limiter
    from .settings import GatewaySettings

DOCS_ASSETS_PATH = "/api/docs/assets/"
# The Swagger UI files the docs page uses, with their media types (nothing else of the package is served).
DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
CONTROL_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/api/docs",
        "/api/docs/oauth2-redirect",
        "/api/v1/me",
        *(DOCS_ASSETS_PATH + name for name in DOCS_ASSETS),
    }
)


class Me(BaseModel):
    subject: str
    username: str | None
    roles: list[str]
    tax_code: str | None
    client_id: str | None
    expires_at: int | None


def create_control_app(
    *,
    settings: GatewaySettings,
    tokens: TokenCache,
    limiter: Limiter,
    openapi: OpenAPICache,
    readiness: Callable[[], Awaitable[dict[str, dict[str, Any]]]],
) -> FastAPI:
    """The endpoints with what they use: `tokens` and `limiter` (/api/v1/me, checked and limited as the proxied
    paths are), `openapi` (the merged document), `readiness` (the checks of /readyz)."""
    app = FastAPI(title="cleanprod gateway", version="1.0.0", docs_url=None, redoc_url=None, openapi_url=None)
    install_problem_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ok = all(c["status"] == "ok" for c in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
        )

    @app.get(
        "/api/v1/me",
        response_model=Me,
        tags=["gateway"],
        summary="Who am I (as the gateway sees the token)",
        responses={401: {"description": "Missing, invalid or expired bearer token"}},
    )
    async def me(request: Request) -> Me:
        client_ip = request.client.host if request.client else "unknown"
        try:
            verified = await tokens.verify(extract_bearer(_raw_header(request, b"authorization")))
        except Problem:
            await _limit(limiter, "ip:" + client_ip)
            raise
        await _limit(limiter, verified.rate_key)
        p = verified.principal
        exp = p.claims.get("exp")
        return Me(
            subject=p.subject,
            username=p.username,
            roles=sorted(p.roles),
            tax_code=p.tax_code,
            client_id=p.client_id,
            expires_at=int(exp) if isinstance(exp, int | float) else None,
        )

    @app.get("/api/openapi.json", include_in_schema=False)
    async def merged_openapi() -> JSONResponse:
        return JSONResponse(await openapi.get())

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="cleanprod API",
            swagger_js_url=DOCS_ASSETS_PATH + "swagger-ui-bundle.js",
            swagger_css_url=DOCS_ASSETS_PATH + "swagger-ui.css",
            swagger_favicon_url=DOCS_ASSETS_PATH + "favicon-32x32.png",
            oauth2_redirect_url="/api/docs/oauth2-redirect",
            init_oauth={
                "clientId": settings.docs_client_id,
                "scopes": "openid",
                "usePkceWithAuthorizationCodeGrant": True,
            },
            # validatorUrl null: no badge fetched from the public validator (the page works offline).
            swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
        )

    @app.get("/api/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        # The page of the same Swagger UI version as the bundle: it hands the code back to the docs window.
        return HTMLResponse(_OAUTH2_REDIRECT_HTML)

    @app.get(DOCS_ASSETS_PATH + "{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        # Only the names in DOCS_ASSETS reach here (CONTROL_PATHS); the version is pinned, so cache for a day.
        if name not in DOCS_ASSETS:
            raise NotFound(f"No documentation asset {name}.")
        return FileResponse(
            swagger_ui_path / name, media_type=DOCS_ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
        )

    return app


_OAUTH2_REDIRECT_HTML = (swagger_ui_path / "oauth2-redirect.html").read_text(encoding="utf-8")


def _raw_header(request: Request, name: bytes) -> bytes | None:
    for key, value in request.scope["headers"]:
        if key == name:
            return value
    return None


async def _limit(limiter: Limiter, key: str) -> None:
    wait = await limiter.acquire(key)
    if wait:
        raise too_many(wait)


def own_openapi(app: FastAPI) -> dict[str, Any]:
    from fastapi.openapi.utils import get_openapi

    from cleanprod_kit.openapi import decorate

    return decorate(get_openapi(title=app.title, version=app.version, routes=app.routes), list(app.routes))
