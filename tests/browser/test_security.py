"""The portal's browser-facing security in real Chromium (issue 13): CSRF from another site, no token ever in
what the browser sees, an expired session back to the same page after login, and one enterprise cannot open
another's pages by URL."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable

import psycopg
import pytest
from browser_helpers import (
    JWT,
    OtherSite,
    Ui,
    auto_submitting_form,
    har_texts,
    jwt_type,
    session_cookie,
    token_leaks,
)
from e2e_helpers import HANOISTEEL, THANGLONG, Api

CSRF_TITLE = "Không gửi được biểu mẫu"
NOT_FOUND_TITLE = "Không tìm thấy trang"


def _portal_db(ui: Ui) -> psycopg.Connection:
    return psycopg.connect(ui.stack.pg.dsn("cleanprod_portal"), autocommit=True)


def _facility_names(api: Api, enterprise: str = HANOISTEEL) -> list[str]:
    page = api.client.get("/api/v1/facilities", params={"limit": 200}, headers=api.h(enterprise))
    assert page.status_code == 200, page.text
    return [f["name"] for f in page.json()["items"]]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["same-site-other-origin", "cross-site"])
def test_a_form_posted_from_another_site_is_refused(ui: Ui, api: Api, host: str) -> None:
    """127.0.0.1 on another port is another origin of the same site: the browser sends the session cookie along,
    so only the CSRF token stops the request. localhost is another site: SameSite=Lax keeps the cookie home too."""
    ui.goto("/")
    ui.login(HANOISTEEL, next_path="/enterprise/facilities")
    name = f"Nhà máy giả mạo {uuid.uuid4().hex[:6]}"
    facility = api.facility(HANOISTEEL)
    attack = auto_submitting_form(
        ui.url("/enterprise/facilities/new"),
        {
            "enterprise_id": str(facility.get("enterprise_id", "")),
            "name": name,
            "sector_code": "steel",
            "address": "Số 1 đường Giả Mạo",
            "ward": "Phường Giả Mạo",
        },
    )
    with OtherSite(attack, host) as site:
        with ui.page.expect_response(
            lambda r: r.request.method == "POST" and "/enterprise/facilities/new" in r.url
        ) as posted:
            ui.page.goto(site.url)
        ui.page.wait_for_url(ui.url("/enterprise/facilities/new"))
    assert posted.value.status == 403
    assert posted.value.request.headers.get("origin") == site.url.rstrip("/")
    ui.seen("csrf-refused")
    assert ui.page.locator("h1").inner_text() == CSRF_TITLE
    assert name not in _facility_names(api)

    # The log-out form: from the same site refused (403); from another site no cookie comes along, so there is
    # nothing to log out of (the portal just goes home). Either way the user is still logged in.
    with OtherSite(auto_submitting_form(ui.url("/logout"), {}), host) as site:
        with ui.page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/logout")) as posted:
            ui.page.goto(site.url)
        ui.page.wait_for_url(ui.url("/logout" if host == "127.0.0.1" else "/"))
    assert posted.value.status == (403 if host == "127.0.0.1" else 303)
    ui.seen("csrf-refused-logout")
    ui.goto("/enterprise", "still-logged-in")
    assert ui.path == "/enterprise"


def test_no_access_or_refresh_token_reaches_the_browser(ui: Ui, api: Api) -> None:
    """Every response the browser got during a session (pages, htmx partials, scripts, CSS, redirects, Keycloak's
    pages) — bodies, headers, cookies, URLs — holds none of the tokens the portal's session table held."""
    ui.goto("/")
    ui.login(HANOISTEEL)
    facility = api.facility(HANOISTEEL)
    for path in (
        "/enterprise",
        "/enterprise/facilities",
        f"/enterprise/facilities/{facility['id']}",
        f"/enterprise/facilities/{facility['id']}/baselines",
        "/enterprise/applications",
        "/enterprise/profile",
        "/calls",
    ):
        ui.goto(path)
    # an htmx request too (the baseline period form, refused: nothing filled in)
    ui.goto(f"/enterprise/facilities/{facility['id']}/baselines", "baselines-again")
    with ui.page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        ui.page.locator("#add-period").click()
    ui.page.locator("#baselines .error-summary").wait_for()
    ui.seen("baseline-form-refused")

    with _portal_db(ui) as conn:
        access, refresh = conn.execute(
            "SELECT access_token, refresh_token FROM portal_sessions WHERE id_hash = %s",
            (hashlib.sha256(session_cookie(ui.page).encode()).hexdigest(),),
        ).fetchone()
    assert jwt_type(access) == "Bearer" and jwt_type(refresh) in ("Refresh", "Offline")
    browser_cookies = ui.page.context.cookies()
    script_cookies = ui.page.evaluate("() => document.cookie")
    ui.logout()
    ui.page.context.close()  # writes the HAR
    texts = har_texts(ui.har)

    assert {c["name"] for c in browser_cookies} >= {"cp_session"}
    session = next(c for c in browser_cookies if c["name"] == "cp_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and "cp_session" not in script_cookies
    for cookie in browser_cookies:
        assert not JWT.search(cookie["value"]) or jwt_type(JWT.search(cookie["value"]).group(0)) not in (
            "Bearer",
            "Refresh",
            "Offline",
        ), cookie["name"]
    bodies = [text for where, text in texts if where.endswith("(body)") and "/enterprise" in where]
    assert any("0100109106" in body for body in bodies)  # the recording holds the pages themselves
    assert len(texts) > 50
    assert token_leaks(texts, {access, refresh} | ui.portal_tokens) == []


def _expire(ui: Ui) -> None:
    with _portal_db(ui) as conn:
        updated = conn.execute(
            "UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE id_hash = %s",
            (hashlib.sha256(session_cookie(ui.page).encode()).hexdigest(),),
        )
        assert updated.rowcount == 1


def test_an_expired_session_logs_in_again_and_returns_to_the_page(ui: Ui, api: Api) -> None:
    facility = api.facility(HANOISTEEL)
    page = f"/enterprise/facilities/{facility['id']}/baselines"
    ui.goto("/")
    ui.login(HANOISTEEL, next_path=page)
    assert ui.path == page
    first_cookie = session_cookie(ui.page)

    # The portal session ends while Keycloak's is still alive: through Keycloak and straight back.
    _expire(ui)
    ui.page.reload()
    ui.page.wait_for_url(ui.url(page))
    ui.seen("back-after-silent-login")
    assert session_cookie(ui.page) != first_cookie

    # Both ended (Keycloak's cookies gone too): Keycloak's login page, then back to the same page.
    _expire(ui)
    ui.page.context.clear_cookies(name=re.compile(r"^(KEYCLOAK_|AUTH_SESSION_ID|KC_)"))
    ui.page.reload()
    ui.keycloak_login(HANOISTEEL)
    assert ui.path == page
    assert ui.page.locator("h1").inner_text().endswith("Số liệu nền")


def test_an_enterprise_cannot_open_another_enterprises_pages(new_ui: Callable[..., Ui], api: Api) -> None:
    facility = api.facility(HANOISTEEL)
    draft = api.draft(api.call())
    pages = [
        f"/enterprise/facilities/{facility['id']}",
        f"/enterprise/facilities/{facility['id']}/edit",
        f"/enterprise/facilities/{facility['id']}/baselines",
        f"/enterprise/applications/{draft['id']}",
        f"/enterprise/applications/{draft['id']}/tasks",
        f"/enterprise/applications/{draft['id']}/steps/costs",
        f"/enterprise/applications/{draft['id']}/documents",
        f"/enterprise/applications/{draft['id']}/check",
    ]

    owner = new_ui("owner")
    owner.goto("/")
    owner.login(HANOISTEEL)
    for path in pages:  # the addresses are right: the owner opens each of them
        owner.goto(path)

    other = new_ui("other")
    other.goto("/")
    other.login(THANGLONG)
    for path in pages:
        other.goto(path, f"not-found-{path.rsplit('/', 1)[-1][:8]}", expect_status=404)
        assert other.page.locator("h1").inner_text() == NOT_FOUND_TITLE
        assert facility["name"] not in other.page.inner_text("body")
        assert (draft.get("title") or "—") not in other.page.inner_text("body")
