"""What every browser test uses (issue 13): a Playwright page on the real portal with the checks every page gets.

`Ui.seen()` is called after every page the test reaches (the `goto`, `login`, `logout`, `switch_language` helpers
call it themselves; after a click that navigates, call `ui.seen("name")`). For every page it
- keeps a full-page screenshot: test-artifacts/screenshots/<test>/<nn>-<name>.png;
- runs axe-core (the copy shipped in the pinned axe-playwright-python wheel; no CDN) and fails on any serious or
  critical violation of a portal page, and on invisible text (1:1 contrast, which axe files as "needs review") (Keycloak's own pages are reported, not failed: not our markup);
- checks UTF-8 (`document.characterSet`), `<html lang>` for the language in use, that the header reads
  "Sở Công Thương Hà Nội" (vi) / "Hanoi Department of Industry and Trade" (en) and that no text is mojibake;
- notes the access and refresh tokens the portal holds (its session table) so the fixture can search the whole
  recorded traffic (HAR) for them when the test ends.
A test that leaves a portal page unchecked fails at teardown, so "every page visited" stays true.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page, Response

from infra.devstack import Stack
from infra.keycloak_server import DEMO_PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
HARS = ARTIFACTS / "har"

HEADER_DEPARTMENT = {"vi": "Sở Công Thương Hà Nội", "en": "Hanoi Department of Industry and Trade"}
BLOCKING_IMPACTS = ("serious", "critical")
# UTF-8 bytes shown as Latin-1/Windows-1252 ("Sá»Ÿ", "Ã¡"), or the replacement character.
MOJIBAKE = re.compile("\ufffd|Ã[\u0080-\u00bf]|á»|Ä‘|Æ°")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
# Keycloak's `typ` claim: access tokens are "Bearer", refresh tokens "Refresh"/"Offline"; ID tokens ("ID") and
# its own session cookie are not tokens the portal must keep from the browser.
SECRET_TOKEN_TYPES = ("Bearer", "Refresh", "Offline")


def slug(text: str, limit: int = 60) -> str:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", lambda m: m.group(0)[:8], text)
    return (re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "home")[:limit]


def format_violations(violations: list[dict[str, Any]]) -> str:
    """axe's answer as lines a person can act on: rule, impact, what to fix, and the elements concerned."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"][:6]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary[:300]}")
        if len(v["nodes"]) > 6:
            lines.append(f"    … and {len(v['nodes']) - 6} more elements")
    return "\n".join(lines)


def jwt_type(candidate: str) -> str | None:
    """The `typ` claim of a JWT-shaped string, or None if it does not decode."""
    try:
        payload = candidate.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, IndexError):
        return None
    return claims.get("typ") if isinstance(claims, dict) else None


@dataclass
class Ui:
    """One browser context (one person) on the portal."""

    page: Page
    stack: Stack
    shots: Path
    language: str = "vi"
    har: Path | None = None  # where the context records the traffic (written when the context closes)
    count: int = 0
    unchecked: list[str] = field(default_factory=list)  # main-frame navigations not yet passed through seen()
    portal_tokens: set[str] = field(
        default_factory=set, repr=False
    )  # every access/refresh token the portal held meanwhile
    external_violations: dict[str, str] = field(default_factory=dict)  # Keycloak pages: reported only
    csp_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._navigated)
        self.page.on("console", self._console)

    # ---- addresses -------------------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return self.stack.url("portal")

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def path(self) -> str:
        """Where the browser is now, as a portal path with query ('' when not on the portal)."""
        parts = urlsplit(self.page.url)
        if not self.page.url.startswith(self.base):
            return ""
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def on_portal(self) -> bool:
        return self.page.url.startswith(self.base + "/") or self.page.url == self.base

    # ---- navigation with the checks --------------------------------------------------------------------------
    def goto(self, path: str, name: str | None = None, *, expect_status: int | None = 200) -> Response | None:
        response = self.page.goto(self.url(path))
        if expect_status is not None:
            assert response is not None and response.status == expect_status, (
                f"GET {path}: {response and response.status}, expected {expect_status}"
            )
        self.seen(name)
        return response

    def seen(self, name: str | None = None) -> None:
        """The checks of every page (see the module docstring), on the page the browser shows now."""
        page = self.page
        page.wait_for_load_state("load")
        self.count += 1
        on_portal = self.on_portal()
        if name is None:
            keycloak = page.url.startswith(self.stack.issuer.rpartition("/realms/")[0])
            name = (
                slug(urlsplit(page.url).path)
                if on_portal
                else (("keycloak-" if keycloak else "other-site-") + slug(page.title()))
            )
        label = name
        shot = self.shots / f"{self.count:02d}-{slug(label)}.png"
        # caret="initial": hiding the caret injects a <style> the portal's CSP (rightly) refuses.
        page.screenshot(path=str(shot), full_page=True, caret="initial")
        where = f"{page.url} (screenshot {shot.relative_to(REPO_ROOT)})"
        violations = self.axe()
        if on_portal:
            charset, lang = page.evaluate("() => [document.characterSet, document.documentElement.lang]")
            assert charset == "UTF-8", f"characterSet {charset} on {where}"
            assert lang == self.language, f'<html lang="{lang}">, expected {self.language} on {where}'
            text = page.inner_text("body")
            assert HEADER_DEPARTMENT[self.language] in text, f"header not rendered in {self.language} on {where}"
            bad = MOJIBAKE.search(text)
            assert bad is None, f"mojibake {text[max(bad.start() - 30, 0) : bad.end() + 30]!r} on {where}"
            assert not violations, f"axe: serious/critical violations on {where}\n{format_violations(violations)}"
        elif violations:
            self.external_violations[where] = format_violations(violations)
        self.note_portal_tokens()
        self.unchecked.clear()

    def axe(self) -> list[dict[str, Any]]:
        """Serious and critical axe-core violations of the current page. Injected through the DevTools protocol
        (page.evaluate), which the page's Content-Security-Policy does not govern — the CSP stays enforced."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(AXE_SCRIPT)
        result = self.page.evaluate("() => axe.run(document)")
        blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
        # axe files text with a 1:1 contrast (white on white: invisible) under "needs review", not violations.
        for v in result["incomplete"]:
            invisible = [
                n for n in v["nodes"] if any("1:1 contrast ratio" in c.get("message", "") for c in n.get("any", []))
            ]
            if v["id"] == "color-contrast" and invisible:
                blocking.append({**v, "nodes": invisible, "help": v["help"] + " (text is invisible: 1:1)"})
        return blocking

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame and frame.url.startswith(self.base):
            self.unchecked.append(frame.url)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_errors.append(f"{self.page.url}: {message.text}")

    # ---- the portal's tokens (to prove none reaches the browser) ---------------------------------------------
    def note_portal_tokens(self) -> None:
        with psycopg.connect(self.stack.pg.dsn("cleanprod_portal")) as conn:
            rows = conn.execute("SELECT access_token, refresh_token FROM portal_sessions").fetchall()
        self.portal_tokens.update(token for row in rows for token in row if token)

    def settle(self) -> None:
        """Wait until htmx has no request in flight and its swap has settled (a change-triggered refresh)."""
        self.page.wait_for_timeout(50)
        self.page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")

    # ---- people ----------------------------------------------------------------------------------------------
    def login(
        self,
        username: str,
        password: str = DEMO_PASSWORD,
        *,
        new_password: str | None = None,
        next_path: str | None = None,
    ) -> None:
        """Log in through Keycloak's real login page: from the header link, or from /login?next=… when given.
        When Keycloak asks for a new password (first login with a one-time password), sets `new_password`."""
        if next_path is None:
            if not self.on_portal():
                self.goto("/")
            self.page.locator(".site-header__tools").get_by_role(
                "link", name={"vi": "Đăng nhập", "en": "Log in"}[self.language]
            ).click()
        else:
            self.page.goto(self.url("/login?next=" + quote(next_path)))
        self.keycloak_login(username, password, new_password=new_password)

    def keycloak_login(self, username: str, password: str = DEMO_PASSWORD, *, new_password: str | None = None) -> None:
        """Fill Keycloak's login form (the browser is on it) and come back to the portal."""
        page = self.page
        page.locator("#username").wait_for()
        self.seen("keycloak-login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.locator("#kc-login").click()
        changed = False
        for _ in range(200):  # Keycloak → /auth/callback → the portal, or Keycloak's "update password" page
            if self.on_portal():
                break
            if not changed and page.locator("#password-new").count():
                assert new_password, f"Keycloak asks {username} for a new password"
                self.seen("keycloak-update-password")
                page.fill("#password-new", new_password)
                page.fill("#password-confirm", new_password)
                page.locator("#password-confirm").press("Enter")
                changed = True
            page.wait_for_timeout(100)
        else:
            raise AssertionError(
                f"login of {username} did not come back to the portal; Keycloak shows: {page.inner_text('body')[:800]}"
            )
        page.wait_for_load_state("load")
        self.seen()

    def logout(self) -> None:
        """The header's "log out" button: ends the portal session and Keycloak's, and comes back home."""
        with self.page.expect_navigation(url=f"{self.base}/**"):
            self.page.locator(".site-header__tools").get_by_role(
                "button", name={"vi": "Đăng xuất", "en": "Log out"}[self.language]
            ).click()
        self.page.wait_for_url(f"{self.base}/", timeout=20_000)
        self.seen("logged-out")

    def switch_language(self, language: str) -> None:
        """The header's language link (a plain link: works without JavaScript); stays on the same page."""
        name = {"vi": "Tiếng Việt", "en": "English"}[language]
        before = self.path
        self.page.locator(".site-header__tools").get_by_role("link", name=name).click()
        self.page.wait_for_load_state("load")
        self.language = language
        assert self.path == before, f"language switch moved from {before} to {self.path}"
        self.seen(f"language-{language}")


# ---- what the browser saw (a HAR per test, with bodies) ----------------------------------------------------------
def har_texts(har_path: Path) -> list[tuple[str, str]]:
    """(where, text) for every URL, header, cookie and body of every request/response the browser made."""
    log = json.loads(har_path.read_text(encoding="utf-8"))["log"]
    texts: list[tuple[str, str]] = []
    for entry in log["entries"]:
        request, response = entry["request"], entry["response"]
        where = f"{request['method']} {request['url']} → {response['status']}"
        texts.append((f"{where} (URL)", request["url"]))
        for side, message in (("request", request), ("response", response)):
            for header in message.get("headers", []):
                texts.append((f"{where} ({side} header {header['name']})", header["value"]))
            for cookie in message.get("cookies", []):
                texts.append((f"{where} ({side} cookie {cookie['name']})", cookie["value"]))
        if response.get("redirectURL"):
            texts.append((f"{where} (redirect)", response["redirectURL"]))
        content = response.get("content", {})
        body = content.get("text") or ""
        if body and content.get("encoding") == "base64":
            body = base64.b64decode(body).decode("utf-8", "replace")
        texts.append((f"{where} (body)", body))
    return texts


def token_leaks(texts: list[tuple[str, str]], portal_tokens: set[str]) -> list[str]:
    """Where an access or refresh token shows up: one the portal holds (exact match), or any JWT-shaped string
    whose `typ` says access/refresh token."""
    found = []
    for where, text in texts:
        if any(token in text for token in portal_tokens):
            found.append(f"a token of the portal's session table in {where}")
        for candidate in JWT.findall(text):
            kind = jwt_type(candidate)
            if kind in SECRET_TOKEN_TYPES:
                found.append(f"a Keycloak {kind} token in {where}")
    return found


# ---- another web site (cross-site requests) ----------------------------------------------------------------------
class OtherSite:
    """A page served from another origin on loopback (`with OtherSite(html) as site: site.url`): what a hostile
    site would serve. `host` "127.0.0.1" is another origin but the same site as the portal (cookies go along);
    "localhost" is another site (SameSite=Lax cookies stay home)."""

    def __init__(self, html: str, host: str = "127.0.0.1") -> None:
        import http.server
        import threading

        body = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtherSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def auto_submitting_form(action: str, fields: dict[str, str]) -> str:
    """A page that POSTs a form to `action` as soon as it loads (no CSRF token: the other site cannot know it)."""
    import html

    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Win a prize</title></head><body>'
        f'<form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
        f'<script>document.getElementById("f").submit()</script></body></html>'
    )


def session_cookie(page: Page, name: str = "cp_session") -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == name), None)
