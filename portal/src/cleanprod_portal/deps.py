"""FastAPI dependencies every route uses: the browser's session, "must be logged in (with this role)", the API
client bound to the user, and the app-wide CSRF check."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request

from cleanprod_kit.requestid import current_request_id

from . import i18n, security
from .api import Api, ApiUnavailable
from .auth.oidc import KeycloakUnavailable
from .config import PortalSettings
from .sessions import PortalSession, SessionStore, now


class LoginRequired(Exception):
    """No (live) session on a protected page: redirect to /login and come back to `next_path` afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def login_url(self) -> str:
        return "/login?" + urlencode({"next": self.next_path})


class RoleRequired(Exception):
    """Logged in, but this page is for another role (→ 403 page)."""


@dataclass
class Portal:
    """What the app holds for the routes (set in `create_app`)."""

    settings: PortalSettings
    sessions: SessionStore
    keycloak: object  # auth.oidc.KeycloakClient
    gateway_http: object  # httpx.AsyncClient with base_url = the gateway


def portal(request: Request) -> Portal:
    return request.app.state.portal


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: '/enterprise?x=1' yes; '//evil', 'https://evil', '/\\evil' no."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2000:
        return default
    if any(c in value for c in "\r\n\t") or "\\" in value:
        return default
    return value


READS_ONLY = "reads_only"


def reads_only(endpoint):  # noqa: ANN001, ANN201 - a decorator for route functions
    """Marks a GET page that only reads (its own API calls are GETs, it writes nothing): it may start on the session
    this process saw last for the cookie while the row is read, so its API calls need not wait for the database;
    its answer is held until the row confirms that session (middleware.PortalLayer)."""
    setattr(endpoint, READS_ONLY, True)
    return endpoint


def _guessed_session(request: Request, read: asyncio.Future) -> PortalSession | None:
    """The session a reads-only page may start on, or None (then the page waits for the row as any other)."""
    if read.done() or request.method != "GET":
        return None
    if not getattr(getattr(request.scope.get("route"), "endpoint", None), READS_ONLY, False):
        return None
    app = portal(request)
    guess = app.sessions.guess(request.cookies.get(app.settings.session_cookie_name))
    margin = timedelta(seconds=app.settings.token_refresh_margin_seconds)
    if guess is None or guess.access_expires_at - now() <= margin:  # a refresh is due: that needs the row
        return None
    return guess


async def _row_confirms(sessions: SessionStore, read: asyncio.Future, guess: PortalSession) -> bool:
    try:
        return guess.same_as(await read)
    except Exception:  # noqa: BLE001 - no row read, nothing confirmed; and no more guesses for this session, so
        sessions.recent.forget(guess.id_hash)  # the page asked again meets the failure itself (no 303 loop)
        return False


async def current_session(request: Request) -> PortalSession | None:
    """The browser's session (loaded once per request, token refreshed if about to expire), or None."""
    if hasattr(request.state, "portal_session"):
        return request.state.portal_session
    app = portal(request)
    read_ahead = getattr(request.state, "session_read", None)
    if read_ahead is not None:
        session = _guessed_session(request, read_ahead)
        if session is not None:
            request.state.session_guess = session  # PortalLayer holds the answer until the row confirms it
        else:
            session = await read_ahead
    else:
        session = await app.sessions.load(request.cookies.get(app.settings.session_cookie_name))
    if session is not None:
        try:
            session = await app.sessions.refresh_if_needed(
                session, timedelta(seconds=app.settings.token_refresh_margin_seconds), app.keycloak.refresh
            )
        except KeycloakUnavailable as exc:
            # Keycloak is down for a moment: keep the session; use the current token while it still lives.
            if session.access_expires_at <= now():
                raise ApiUnavailable(503, "Keycloak unavailable") from exc
    request.state.portal_session = session
    if session is not None:
        request.state.csrf_token = session.csrf_token
        if i18n.LANGUAGE_COOKIE not in request.cookies:  # the cookie went away: the session remembers the choice
            i18n.set_language(session.language)
    else:
        cookie = request.cookies.get(security.ANON_CSRF_COOKIE)
        if not cookie:
            cookie = security.new_anonymous_cookie()
            request.state.new_anonymous_csrf_cookie = cookie  # set on the response by the middleware in main
        request.state.anonymous_csrf_cookie = cookie
        request.state.csrf_token = security.anonymous_token(app.settings.secret_key, cookie)
    return session


async def session_confirmed(request: Request) -> bool:
    """Whether the session this request runs on is the row's (always, unless a reads-only page started on a
    guess that the row has not confirmed)."""
    guess = getattr(request.state, "session_guess", None)
    read = getattr(request.state, "session_read", None)
    return guess is None or read is None or await _row_confirms(portal(request).sessions, read, guess)


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


async def require_user(request: Request) -> PortalSession:
    session = await current_session(request)
    if session is None:
        # An htmx request asks from an already loaded page: send the user back to that page after login.
        came_from = request.headers.get("hx-current-url")
        next_path = _here(request)
        if came_from and request.method != "GET":
            from urllib.parse import urlsplit

            parts = urlsplit(came_from)
            next_path = parts.path + (f"?{parts.query}" if parts.query else "")
        raise LoginRequired(safe_next(next_path))
    return session


def require_role(*roles: str):  # noqa: ANN201 - a dependency factory
    async def check(session: Annotated[PortalSession, Depends(require_user)]) -> PortalSession:
        if not any(role in session.roles for role in roles):
            raise RoleRequired()
        return session

    return check


async def api_client(request: Request) -> Api:
    """The gateway client for this request: with the user's (fresh) token when logged in, anonymous otherwise."""
    session = await current_session(request)
    return Api(portal(request).gateway_http, session.access_token if session else None, current_request_id())


async def csrf_protect(request: Request) -> None:
    """App-wide: every state-changing request must carry the right CSRF token."""
    session = await current_session(request)
    if request.method in security.SAFE_METHODS:
        return
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    if getattr(endpoint, security.CHECKS_CSRF_ITSELF, False):
        return  # a streamed upload: the route checks the token before it passes anything on (see documents.py)
    if session is None and request.url.path == "/logout":
        return  # nothing to log out of: harmless, and an expired session must not show a 403 on "log out"
    given = await security.submitted_token(request)
    if session is not None:
        expected = session.csrf_token
    else:
        cookie = request.cookies.get(security.ANON_CSRF_COOKIE)
        expected = security.anonymous_token(portal(request).settings.secret_key, cookie) if cookie else None
    if not security.tokens_match(expected, given):
        raise security.CsrfRefused()


User = Annotated[PortalSession, Depends(require_user)]
OptionalUser = Annotated[PortalSession | None, Depends(current_session)]
ApiClient = Annotated[Api, Depends(api_client)]
Enterprise = Annotated[PortalSession, Depends(require_role("enterprise"))]
