"""Log in (authorization code + PKCE through Keycloak's page), the callback, log out (RP-initiated), and the
language switch."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from .. import i18n
from ..api import ApiUnavailable
from ..deps import OptionalUser, portal, safe_next
from ..templating import render
from .oidc import KeycloakUnavailable, LoginFailed, pkce_pair

router = APIRouter()
LOGIN_COOKIE = "cp_login"  # binds a started login to this browser (no login CSRF with someone else's code)


def _set_cookie(
    response: RedirectResponse, request: Request, name: str, value: str, *, max_age: int | None, http_only: bool = True
) -> None:
    settings = portal(request).settings
    response.set_cookie(
        name, value, max_age=max_age, httponly=http_only, samesite="lax", secure=settings.secure_cookies, path="/"
    )


@router.get("/login")
async def login(request: Request, user: OptionalUser, next: Annotated[str | None, Query()] = None) -> RedirectResponse:
    app = portal(request)
    if user is not None:
        return RedirectResponse(safe_next(next, user.home_path), status_code=303)
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(24)
    language = i18n.current_language()
    state = await app.sessions.start_login(
        code_verifier=verifier, nonce=nonce, next_path=safe_next(next, ""), language=language
    )
    response = RedirectResponse(
        app.keycloak.authorization_url(state=state, nonce=nonce, code_challenge=challenge, language=language),
        status_code=303,
    )
    _set_cookie(response, request, LOGIN_COOKIE, state, max_age=app.settings.login_state_seconds)
    return response


@router.get("/auth/callback")
async def callback(request: Request, code: str | None = None, state: str | None = None, error: str | None = None):  # noqa: ANN201
    app = portal(request)
    browser_state = request.cookies.get(LOGIN_COOKIE)
    pending = None
    if state and browser_state and secrets.compare_digest(state, browser_state):
        pending = await app.sessions.take_login(state)
    if error or not code or pending is None:
        # Cancelled on Keycloak's page, an old bookmark of the callback, or a login started in another browser.
        response = render(request, "errors/login_failed.html", status_code=400)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response
    try:
        tokens = await app.keycloak.exchange_code(code, pending["code_verifier"], pending["nonce"])
    except KeycloakUnavailable as exc:
        raise ApiUnavailable(503, "Keycloak unavailable") from exc
    except LoginFailed:
        response = render(request, "errors/login_failed.html", status_code=400)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response
    language = i18n.normalise(pending["language"]) or i18n.DEFAULT_LANGUAGE
    session_id, session = await app.sessions.create(tokens, language)
    response = RedirectResponse(pending["next_path"] or session.home_path, status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    _set_cookie(response, request, app.settings.session_cookie_name, session_id, max_age=None)
    _set_cookie(response, request, i18n.LANGUAGE_COOKIE, language, max_age=365 * 86400)
    return response


@router.post("/logout")
async def logout(request: Request, user: OptionalUser) -> RedirectResponse:
    app = portal(request)
    if user is None:
        response = RedirectResponse("/", status_code=303)
    else:
        await app.sessions.delete(user)
        # RP-initiated logout ends the Keycloak session too, then Keycloak sends the browser back home.
        response = RedirectResponse(app.keycloak.logout_url(user.id_token), status_code=303)
    response.delete_cookie(app.settings.session_cookie_name, path="/")
    return response


@router.get("/language/{code}")
async def switch_language(
    request: Request, code: str, user: OptionalUser, next: Annotated[str | None, Query()] = None
) -> RedirectResponse:
    """A plain link (works without JavaScript): remembers the choice in a cookie and in the session."""
    language = i18n.normalise(code) or i18n.DEFAULT_LANGUAGE
    if user is not None and user.language != language:
        await portal(request).sessions.set_language(user, language)
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    _set_cookie(response, request, i18n.LANGUAGE_COOKIE, language, max_age=365 * 86400)
    return response
