"""The portal on the real stack: log in through Keycloak's real login page with a cookie-keeping HTTP client
(GET a protected page → /login → Keycloak's form → POST the credentials → /auth/callback → session cookie),
and what the backend-for-frontend promises — no token ever reaches the browser, cookie flags, CSRF refusal,
token refresh, expired session → login → back to the page, logout ends the Keycloak session too."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest

from infra.devstack import Stack
from infra.keycloak_server import DEMO_PASSWORD

from .e2e_helpers import HANOISTEEL, Api
from .portal_helpers import Browser, log_in


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:2000]
    return match.group(1)


def _text(page: str) -> str:
    # Collapse layout whitespace only: the no-break spaces of "1.234 ₫" and "50 %" are part of the text.
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _log_in(browser: Browser, path: str, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    """Open `path`; on Keycloak's login page — in the portal's language (theme cleanprod) — type the credentials;
    return the portal page we land on."""
    return log_in(browser, path, username, password, login_page_says="Đăng nhập vào tài khoản")


def _session_rows(stack: Stack) -> list[tuple]:
    with psycopg.connect(stack.pg.dsn("cleanprod_portal")) as conn:
        return conn.execute(
            "SELECT username, access_token, refresh_token, id_token, access_expires_at "
            "FROM portal_sessions ORDER BY created_at"
        ).fetchall()


def _sql(stack: Stack, statement: str, *params: object) -> None:
    with psycopg.connect(stack.pg.dsn("cleanprod_portal")) as conn:
        conn.execute(statement, params)


@pytest.fixture
def portal_url(stack: Stack) -> str:
    return stack.url("portal")


def test_enterprise_logs_in_through_keycloak_and_no_token_reaches_the_browser(
    stack: Stack, portal_url: str, gateway: httpx.Client, tokens
) -> None:
    api = Api(gateway, tokens, stack)
    application = api.submitted(api.call())  # so the dashboard shows a real application with its status

    with Browser(portal_url) as browser:
        first = browser.get(portal_url + "/enterprise?tab=1")
        assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fenterprise%3Ftab%3D1"
        to_keycloak = browser.get(portal_url + first.headers["location"])
        assert to_keycloak.status_code == 303
        query = parse_qs(urlsplit(to_keycloak.headers["location"]).query)
        assert to_keycloak.headers["location"].startswith(stack.issuer + "/protocol/openid-connect/auth")
        assert query["code_challenge_method"] == ["S256"] and query["client_id"] == ["cleanprod-portal"]
        assert query["redirect_uri"] == [f"{portal_url}/auth/callback"]

        dashboard = _log_in(browser, "/enterprise?tab=1", HANOISTEEL)
        assert dashboard.status_code == 200, _text(dashboard.text)[:800]
        assert str(dashboard.url) == f"{portal_url}/enterprise?tab=1"  # back to the page asked for
        text = _text(dashboard.text)
        assert '<html lang="vi">' in dashboard.text
        assert "Hồ sơ của doanh nghiệp" in text and "Đăng xuất" in text and "Mã số thuế: 0100109106" in text
        own = gateway.get("/api/v1/enterprises", headers=tokens.headers(HANOISTEEL)).json()["items"][0]
        assert own["name"] in text  # the enterprise's registered name, with its diacritics
        table = text[text.index("Hồ sơ của doanh nghiệp") :]
        assert application["title"] in table and application["dossier_code"] in table, table[:1500]
        status_vi = {"submitted": "Đã nộp", "under_review": "Đang thẩm định"}[application["status"]]
        assert status_vi in table

        # The session cookie: opaque, HttpOnly, SameSite=Lax, not Secure on plain-http loopback (test env).
        session_cookie = next(c for c in browser.set_cookies if c.startswith("cp_session="))
        flags = [part.strip().lower() for part in session_cookie.split(";")]
        assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags and "path=/" in flags

        # English switch: a plain link, remembered for the session.
        english = browser.open("/language/en?next=%2Fenterprise")
        assert '<html lang="en">' in english.text and "Your applications" in english.text
        browser.open("/language/vi?next=%2Fenterprise")

        # No token anywhere the browser could see it: bodies, headers (incl. Location and Set-Cookie), cookies.
        rows = [r for r in _session_rows(stack) if r[0] == HANOISTEEL]
        assert rows, "the session row holds the tokens"
        secrets_ = [t for t in rows[-1][1:4] if t]
        assert len(secrets_) == 3
        seen = (
            [r.text for r in browser.portal_responses]
            + [f"{k}: {v}" for r in browser.portal_responses for k, v in r.headers.multi_items()]
            + [c.value or "" for c in browser.cookies.jar]
        )
        for token in secrets_:
            for piece in (token, token.split(".")[1] if token.count(".") == 2 else token):
                assert not any(piece in s for s in seen)


def test_csrf_refresh_expiry_and_logout(stack: Stack, portal_url: str) -> None:
    with Browser(portal_url) as browser:
        page = _log_in(browser, "/enterprise", HANOISTEEL)
        assert page.status_code == 200
        token = _csrf(page.text)

        # A cross-site form POST carries the cookie (SameSite=Lax does not cover every case) but not the token.
        refused = browser.post(portal_url + "/logout", data={})
        assert refused.status_code == 403 and "Không gửi được biểu mẫu" in _text(refused.text)
        wrong = browser.post(portal_url + "/logout", data={"csrf_token": "x" + token})
        assert wrong.status_code == 403
        assert browser.open("/enterprise").status_code == 200  # still logged in

        # The access token is refreshed on the request that needs it, shortly before it expires.
        cookie = browser.cookies["cp_session"]
        import hashlib

        id_hash = hashlib.sha256(cookie.encode()).hexdigest()
        before = _session_rows(stack)
        _sql(
            stack,
            "UPDATE portal_sessions SET access_expires_at = now() + interval '5 seconds' WHERE id_hash = %s",
            id_hash,
        )
        assert browser.open("/enterprise").status_code == 200
        with psycopg.connect(stack.pg.dsn("cleanprod_portal")) as conn:
            access, expires = conn.execute(
                "SELECT access_token, access_expires_at > now() + interval '60 seconds' "
                "FROM portal_sessions WHERE id_hash = %s",
                (id_hash,),
            ).fetchone()
        assert expires and access not in {r[1] for r in before}

        # An expired portal session: log in again (Keycloak's session still holds: no password) and come back.
        _sql(stack, "UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE id_hash = %s", id_hash)
        again = browser.get(portal_url + "/enterprise?after=expiry")
        assert again.status_code == 303 and again.headers["location"] == "/login?next=%2Fenterprise%3Fafter%3Dexpiry"
        back = browser.follow(again)
        assert back.status_code == 200 and str(back.url) == f"{portal_url}/enterprise?after=expiry"

        # Log out: the row is gone, the cookie cleared, and Keycloak's session ended (next login needs the password).
        token = _csrf(back.text)
        out = browser.post(portal_url + "/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"].startswith(
            stack.issuer + "/protocol/openid-connect/logout?"
        )
        assert "id_token_hint=" in out.headers["location"]
        home = browser.follow(out)
        assert home.status_code == 200 and str(home.url) == f"{portal_url}/"
        assert "cp_session" not in browser.cookies
        assert not [r for r in _session_rows(stack) if r[0] == HANOISTEEL and r[1] == access]
        login_page = browser.open("/enterprise")
        assert "kc-form-login" in login_page.text  # Keycloak asks for the password again
        browser.open("/language/en?next=%2F")
        english_login = browser.open("/login")
        assert "Sign in to your account" in english_login.text  # ui_locales=en from the portal's switch


def test_staff_get_their_landing_and_enterprise_pages_refuse_them(stack: Stack, portal_url: str) -> None:
    with Browser(portal_url) as browser:
        landing = _log_in(browser, "/login", "officer1")
        assert landing.status_code == 200 and str(landing.url) == f"{portal_url}/staff"
        # issue 14 turned the placeholder into the landing that sends each role to its screens
        assert "Tổng quan của cán bộ chương trình" in _text(landing.text) and 'href="/officer"' in landing.text
        refused = browser.open("/enterprise")
        assert refused.status_code == 403


def test_public_pages_read_the_anonymous_api(stack: Stack, portal_url: str, gateway: httpx.Client, tokens) -> None:
    api = Api(gateway, tokens, stack)
    call = api.call()
    application = api.submitted(call)
    with Browser(portal_url) as browser:
        listing = browser.open("/calls")
        assert listing.status_code == 200 and call["title"] in _text(listing.text)
        detail = browser.open(f"/calls/{call['id']}")
        text = _text(detail.text)
        assert detail.status_code == 200 and call["code"] in text and "Đang tiếp nhận hồ sơ" in text
        assert "2.000.000.000\u00a0₫" in text and "50\u00a0%" in text  # cap and rate, Vietnamese formatting
        sectors = {s["code"]: s for s in gateway.get("/api/v1/public/sectors").json()["items"]}
        assert sectors["steel"]["name_vi"] in text and sectors["beer"]["name_vi"] in text
        assert call["criteria"][0]["name"] in text
        english = browser.open(f"/language/en?next=%2Fcalls%2F{call['id']}")
        assert sectors["steel"]["name_en"] in _text(english.text) and "2,000,000,000\u00a0₫" in english.text
        browser.open("/language/vi?next=%2F")

        found = browser.open(f"/dossiers?code={application['dossier_code']}")
        text = _text(found.text)
        assert found.status_code == 200 and f"Hồ sơ {application['dossier_code']}" in text
        assert "Ngày tiếp nhận" in text and application["title"] not in text  # status and dates only
        unknown = browser.open("/dossiers?code=000.00.01.H26-010101-9999")
        assert unknown.status_code == 404 and "Không có hồ sơ nào mang mã này" in _text(unknown.text)
        malformed = browser.open("/dossiers?code=not-a-code")
        assert malformed.status_code == 422 and 'href="#f-code"' in malformed.text
        missing_call = browser.open("/calls/00000000-0000-0000-0000-000000000000")
        assert missing_call.status_code == 404 and "Không tìm thấy trang" in _text(missing_call.text)
        bad_id = browser.open("/calls/not-a-uuid")
        assert bad_id.status_code == 404
