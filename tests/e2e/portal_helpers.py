"""A person using the portal without a browser: an httpx client that logs in on Keycloak's real login page
(authorization code + PKCE through the portal), keeps the session cookie, and posts forms with the page's CSRF
token — what a browser does, for tests that read the rendered HTML."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from infra import keycloak_server

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KC_FORM = re.compile(r'<form[^>]+id="kc-form-login"[^>]+action="([^"]+)"', re.S)


class PortalUser:
    def __init__(self, base_url: str, username: str, password: str = keycloak_server.DEMO_PASSWORD,
                 language: str = "vi", home: str = "/enterprise") -> None:
        self.username = username
        self.home = home  # where the login lands (staff: /staff or their own screens)
        self.client = httpx.Client(base_url=base_url, timeout=60, follow_redirects=False)
        self.client.cookies.set("cp_lang", language)
        self.csrf = ""
        self._login(password)

    def _login(self, password: str) -> None:
        response = self.client.get("/login", params={"next": self.home})
        assert response.status_code == 303, response.text
        with httpx.Client(timeout=60) as keycloak:
            # Keycloak marks its login cookies Secure (also on http://127.0.0.1, which browsers treat as a secure
            # context); httpx would not send them back over http, so they are carried by hand.
            page = keycloak.get(response.headers["location"])
            cookies = "; ".join(c.split(";", 1)[0] for c in page.headers.get_list("set-cookie"))
            match = _KC_FORM.search(page.text)
            assert match, page.text[:2000]
            answer = keycloak.post(html.unescape(match[1]), data={"username": self.username, "password": password},
                                   headers={"Cookie": cookies})
        assert answer.status_code in (302, 303), answer.text[:2000]
        callback = self.client.get(answer.headers["location"])
        assert callback.status_code == 303, callback.text
        home = self.get(callback.headers["location"])
        assert home.status_code == 200, home.text

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

    def upload(self, path: str, filename: str, content: bytes, content_type: str, kind: str = "other",
               **kw: Any) -> httpx.Response:
        response = self.client.post(path, data={"csrf_token": self.csrf, "kind": kind},
                                    files={"file": (filename, content, content_type)}, **kw)
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
