"""The portal's own ASGI layer: one pure-ASGI middleware doing, for each HTTP request, what five did before it
(issue 13; each layer was a coroutine and a wrapped `send` per request, docs/performance.md "Portal pages"):

1. the session read started as soon as the request is in, and the answer of a page run on a guessed session
   held until the row confirms it (see `PortalLayer`);
2. the security headers on every answer (security.response_headers; `no-store` on everything but /static/);
3. the request's language from the `cp_lang` cookie (i18n);
4. the anonymous CSRF cookie, when the page rendered an anonymous form token (deps.current_session);
5. the 500 page for any unexpected exception, *inside* the layer, so it still gets the headers and the language
   (Starlette's own last-resort handler sits outside every middleware).

Outside it, in main: the kit's metrics and request id + access log layers, as in every service, and outermost
`ServerTiming` (the portal's own time on every answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.requests import Request, cookie_parser

from . import i18n, security
from .deps import _row_confirms
from .templating import error_page

log = logging.getLogger("cleanprod.portal")


async def _behind_a_turn(read):  # noqa: ANN001, ANN202
    await asyncio.sleep(0)  # what the page scheduled before its first wait (its gateway calls) runs first
    return await read


async def _no_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


class PortalLayer:
    """See the module. The session read: a request with a session cookie starts reading its row before the
    router and FastAPI prepare the route, so that round trip overlaps them — `deps.current_session` then awaits
    that read instead of starting one. Reads only: the checks (expiry, token refresh, role, CSRF) stay in deps.

    A `reads_only` page may not even wait for it: it starts on this process's last read of the same session
    (`SessionStore.guess`), and its answer is held here until the row is in. Is the row the same session (tokens,
    user, roles, language, CSRF token), the answer goes out; is it not (logged out, refreshed or changed on another
    replica, expired), the answer is dropped unsent and the page runs again, on the row itself — what the browser
    gets is what it would have got without the guess (a GET that only reads has no body to replay).

    When this process has a guess for the cookie, a GET's read starts one turn of the event loop later, behind what
    the page schedules first (a reads-only page: its gateway calls), so its CPU (pool checkout, the statement's
    send, ~0.1 ms) is no longer spent between the request's arrival and the first gateway call; the row is still
    in long before the gateway answers. Other GET pages await it at once, as before (without the overlap of its
    round trip with their routing, which the plain pages made short: routing.py)."""

    SKIP_SESSION = ("/static/", "/healthz", "/readyz")
    DEFER_WHEN_GUESSED = True

    def __init__(  # noqa: PLR0913
        self, app, *, cookie_name: str, default_language: str, keycloak_origin: str, hsts: bool, secure_cookies: bool
    ) -> None:  # noqa: ANN001 - ASGI app
        self.app = app
        self.cookie_name = cookie_name
        self.default_language = i18n.normalise(default_language) or i18n.DEFAULT_LANGUAGE
        self.headers = security.response_headers(keycloak_origin=keycloak_origin, hsts=hsts)
        self.cookie_suffix = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure_cookies else "")

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = [value.decode("latin-1") for name, value in scope["headers"] if name == b"cookie"]
        language = i18n.language_of_cookies(cookies, self.default_language)
        read = None
        if cookies and not scope["path"].startswith(self.SKIP_SESSION):
            session_id = cookie_parser(cookies[0]).get(self.cookie_name)
            if session_id:
                sessions = scope["app"].state.portal.sessions
                if self.DEFER_WHEN_GUESSED and scope["method"] == "GET" and sessions.seen(session_id):
                    # A reads-only page will start on the guess: its gateway calls go first, the read behind them.
                    read = asyncio.ensure_future(_behind_a_turn(sessions.load(session_id)))
                    scope.setdefault("state", {})["session_read"] = read
                else:
                    read = asyncio.ensure_future(sessions.load(session_id))
                    scope.setdefault("state", {})["session_read"] = read
                    await asyncio.sleep(0)  # let the read run up to its round trip (a task starts only at a yield)
        answer = _Answer(self, scope, read, send)
        try:
            await self._run(scope, receive, answer, language)
            if answer.dropped:
                # The page ran on a session the row did not confirm; it runs again on the row (the read is done,
                # so nothing is guessed now), and that answer goes out.
                kept = {key: scope["state"][key] for key in ("request_id",) if key in scope["state"]}
                scope["state"] = {"session_read": read, **kept}
                answer.held = False
                answer.dropped = False
                await self._run(scope, _no_body, answer, language)
        finally:
            if read is not None:  # a page that never asked for it (a 404) lets it finish; a failure is then
                with contextlib.suppress(Exception):  # the page's to show, or nobody's
                    await read

    async def _run(self, scope, receive, answer: _Answer, language: str) -> None:  # noqa: ANN001
        token = i18n.enter_language(language)
        answer.started = False
        try:
            await self.app(scope, receive, answer.send)
        except Exception as exc:  # noqa: BLE001 - the last resort: log it, show a page, never a stack trace
            log.exception("unexpected error", exc_info=exc)
            if answer.started:
                raise
            response = error_page(Request(scope), 500, "errors/500.html")
            await response(scope, receive, answer.send)
        finally:
            i18n.leave_language(token)


class _Answer:
    """The page's `send`: adds the headers and the anonymous CSRF cookie to the answer's start; when the page ran
    on a guessed session, the start waits for the row, and an answer the row does not confirm is dropped, all of it
    (`dropped`: the page must run again)."""

    def __init__(self, layer: PortalLayer, scope, read: asyncio.Future | None, send) -> None:  # noqa: ANN001
        self.layer = layer
        self.scope = scope
        self.read = read
        self.downstream = send
        self.held = read is not None
        self.dropped = False
        self.started = False

    async def send(self, message) -> None:  # noqa: ANN001
        if message["type"] == "http.response.start":
            self.started = True
            layer, state = self.layer, self.scope.get("state", {})
            headers = list(message.get("headers", []))
            cookie = state.get("new_anonymous_csrf_cookie")
            if cookie:
                headers.append((b"set-cookie", f"{security.ANON_CSRF_COOKIE}={cookie}{layer.cookie_suffix}".encode()))
            existing = {name.lower() for name, _value in headers}
            headers.extend(h for h in layer.headers if h[0] not in existing)
            if b"cache-control" not in existing and not self.scope["path"].startswith("/static/"):
                headers.append((b"cache-control", b"no-store"))  # pages show personal data
            message["headers"] = headers
            guess = state.get("session_guess") if self.held else None
            if guess is not None and not await _row_confirms(layer_sessions(self.scope), self.read, guess):
                self.dropped = True
                return
        elif self.dropped:
            return
        await self.downstream(message)


def layer_sessions(scope):  # noqa: ANN001, ANN201
    return scope["app"].state.portal.sessions


class ServerTiming:
    """`Server-Timing: app;dur=<ms>` on every HTTP answer (W3C Server Timing): the time from the request reaching
    the portal's application to the start of its answer — routing, the session, the gateway calls, rendering. A
    browser's developer tools show it; bench/portal_pages.py reads the portal's own time from it, apart from the
    client's loopback hop and its parsing of the page. It says how long, never what: no names, no figures."""

    def __init__(self, app) -> None:  # noqa: ANN001 - ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_timed(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                message["headers"] = [*message.get("headers", ()), (b"server-timing", took)]
            await send(message)

        await self.app(scope, receive, send_timed)
