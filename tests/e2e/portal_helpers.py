"""A person using the portal without a browser: an httpx client that logs in on Keycloak's real login page
(authorization code + PKCE through the portal), keeps the session cookie, and posts forms with the page's CSRF
token — what a browser does, for tests that read the rendered HTML.

`Browser` is the one cookie-keeping client (also tests/e2e/test_portal.py's, which checks the login flow itself);
`log_in` drives Keycloak's login form; `PortalUser` is a logged-in person with the CSRF token of the last page.
(Real Chromium: tests/browser/browser_helpers.Ui.login.)"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from infra import keycloak_server

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KC_FORM = re.compile(r'<form[^>]+id="kc-form-login"[^>]+action="([^"]+)"', re.S)


class Browser(httpx.Client):
    """httpx with a browser's cookie rules on http://127.0.0.1: cookies go by host whatever the port, and
    Keycloak's `Secure` ones go back too (browsers treat loopback as a secure context; Python's cookie jar would
    withhold them over plain http). Redirects are not followed by themselves (`follow`, `open` do); with `record`
    every answer of the portal and its Set-Cookie headers are kept (to search them for tokens)."""

    def __init__(self, portal_url: str, language: str | None = None, *, record: bool = True) -> None:
        super().__init__(base_url=portal_url, follow_redirects=False, timeout=60)
        self.portal_url = portal_url.rstrip("/")
        self.record = record
        self.portal_responses: list[httpx.Response] = []
        self.set_cookies: list[str] = []
        if language:
            self.cookies.set("cp_lang", language, domain=urlsplit(portal_url).hostname or "")

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = super().send(request, **kwargs)
        for cookie in self.cookies.jar:
            cookie.secure = False
        if self.record and str(request.url).startswith(self.portal_url):
            response.read()
            self.portal_responses.append(response)
            self.set_cookies += response.headers.get_list("set-cookie")
        return response

    def follow(self, response: httpx.Response, limit: int = 10) -> httpx.Response:
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307):
                return response
            response = self.get(response.headers["location"])  # a path is the portal's (base_url)
        raise AssertionError("too many redirects")

    def open(self, path: str) -> httpx.Response:
        return self.follow(self.get(path))


def log_in(
    browser: Browser,
    path: str,
    username: str,
    password: str = keycloak_server.DEMO_PASSWORD,
    *,
    login_page_says: str | None = None,
) -> httpx.Response:
    """Open `path` (a protected page, or /login?next=…); on Keycloak's login page type the credentials; return the
    portal page the redirects end on. `login_page_says`: a text Keycloak's page must show (its language)."""
    page = browser.open(path)
    match = _KC_FORM.search(page.text)
    assert match, (page.status_code, str(page.url), page.text[:1000])
    if login_page_says:
        assert login_page_says in page.text, page.text[:2000]
    answer = browser.post(html.unescape(match[1]), data={"username": username, "password": password})
    assert answer.status_code in (302, 303), answer.text[:2000]
    return browser.follow(answer)


class PortalUser:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str = keycloak_server.DEMO_PASSWORD,
        language: str = "vi",
        home: str = "/enterprise",
    ) -> None:
        self.username = username
        self.home = home  # where the login lands (staff: /staff or their own screens)
        self.client = Browser(base_url, language, record=False)
        self.csrf = ""
        landed = log_in(self.client, "/login?next=" + quote(home, safe=""), username, password)
        assert landed.status_code == 200, (landed.status_code, landed.url, landed.text[:1000])
        self._remember_csrf(landed)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        response = self.client.get(path, **kw)
        self._remember_csrf(response)
        return response

    def _remember_csrf(self, response: httpx.Response) -> None:
        match = _CSRF.search(response.text) if "text/html" in response.headers.get("content-type", "") else None
        if match:
            self.csrf = match[1]

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        """A form POST with the CSRF token first (as the portal's forms put it)."""
        response = self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kw)
        self._remember_csrf(response)
        return response

    def upload(
        self, path: str, filename: str, content: bytes, content_type: str, kind: str = "other", **kw: Any
    ) -> httpx.Response:
        response = self.client.post(
            path, data={"csrf_token": self.csrf, "kind": kind}, files={"file": (filename, content, content_type)}, **kw
        )
        self._remember_csrf(response)
        return response

    def close(self) -> None:
        self.client.close()


def text_of(page: str) -> str:
    """The page's visible text roughly (tags dropped, entities decoded, whitespace collapsed)."""
    without = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", without))).strip()  # no-break spaces kept


def field_error(page: str, field_id: str) -> str | None:
    """The error message shown next to the field with this id (its `<id>-error` element), or None."""
    match = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>(.*?)</p>', page, re.S)
    return text_of(match[1]).replace("Lỗi:", "").replace("Error:", "").strip() if match else None
