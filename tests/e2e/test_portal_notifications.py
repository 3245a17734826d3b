"""Notifications in the portal (issue 10), through the real stack: the header's bell (a plain link on every page,
its unread count fetched by htmx after the page), the list with "open" (marks read and goes to the page it is
about), "mark as read", "mark all as read", and the preferences (statutory kinds locked). vi and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import THANGLONG, Api, poll
from portal_helpers import PortalUser, text_of

from infra.devstack import Stack

BELL_COUNT = re.compile(r'id="bell-count">(\d+)<')
RECEIVED = {"vi": "Đã tiếp nhận hồ sơ", "en": "received"}
NOTHING_UNREAD = {"vi": "Không có thông báo chưa đọc.", "en": "Nothing unread. You are up to date."}


@pytest.fixture(scope="module")
def call(api: Api) -> dict[str, Any]:
    return api.call(title="Đợt hỗ trợ – thông báo (kiểm thử)")


@pytest.fixture(params=["vi", "en"])
def enterprise(request: pytest.FixtureRequest, stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), THANGLONG, language=request.param)
    user.language = request.param  # type: ignore[attr-defined]
    yield user
    user.close()


def unread(user: PortalUser) -> int:
    fragment = user.get("/notifications/bell")
    assert fragment.status_code == 200 and 'id="bell"' in fragment.text
    match = BELL_COUNT.search(fragment.text)
    return int(match[1]) if match else 0


def test_bell_list_open_and_mark_read(enterprise: PortalUser, api: Api, call: dict[str, Any], stack: Stack) -> None:
    language = enterprise.language  # type: ignore[attr-defined]
    page = enterprise.get("/enterprise")
    # Every page has the bell as a link; the count comes after the page (htmx), so the page waits for no count.
    assert re.search(r'<a id="bell"[^>]*href="/notifications"[^>]*hx-get="/notifications/bell"', page.text)
    enterprise.post("/notifications/read-all")
    assert unread(enterprise) == 0

    application = api.submitted(call, THANGLONG)
    assert poll(lambda: unread(enterprise) == 1 or None, what="the receipt's notification") is True
    listing = enterprise.get("/notifications")
    item = re.search(r'id="notification-([0-9a-f-]{36})"', listing.text)
    assert item, listing.text[:2000]
    shown = text_of(listing.text)
    assert application["dossier_code"] in shown and RECEIVED[language] in shown

    opened = enterprise.post(
        f"/notifications/{item[1]}/read", {"open": "1", "link": f"/enterprise/applications/{application['id']}"}
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"/enterprise/applications/{application['id']}"
    assert unread(enterprise) == 0
    # A link that leaves the site is not followed.
    away = enterprise.post(f"/notifications/{item[1]}/read", {"open": "1", "link": "https://evil.example/"})
    assert away.status_code == 303 and away.headers["location"] == "/notifications"

    sent = api.client.post(
        f"/api/v1/applications/{application['id']}/messages",
        json={"body": "Sở đã nhận hồ sơ, đề nghị theo dõi tin nhắn.", "visibility": "shared"},
        headers=api.h("officer1"),
    )
    assert sent.status_code == 201, sent.text
    assert unread(enterprise) == 1
    assert "Sở đã nhận hồ sơ" in text_of(enterprise.get("/notifications?unread=true").text)
    assert enterprise.post("/notifications/read-all").status_code == 303
    assert unread(enterprise) == 0
    assert NOTHING_UNREAD[language] in text_of(enterprise.get("/notifications?unread=true").text)
    # Another user's notification id is not found (the API's 404 → the portal's 404 page).
    officer = PortalUser(stack.url("portal"), "officer1", home="/staff")
    try:
        assert officer.post(f"/notifications/{item[1]}/read").status_code == 404
    finally:
        officer.close()


def test_preferences_statutory_locked(enterprise: PortalUser) -> None:
    page = enterprise.get("/notifications/preferences")
    assert page.status_code == 200
    statutory = re.search(r'<input[^>]*id="f-decision_made-email"[^>]*>', page.text)
    assert statutory and "disabled" in statutory[0] and "checked" in statutory[0]
    optional = re.search(r'<input[^>]*id="f-message_received-email"[^>]*>', page.text)
    assert optional and "disabled" not in optional[0]
    kinds = re.findall(r'id="preference-([a-z_]+)"', page.text)
    # Only what can reach an enterprise: never the reviewers', officers' or verifiers' kinds.
    assert {"decision_made", "message_received", "supplement_requested"} <= set(kinds)
    assert not {"review_assigned", "webhook_dead_lettered", "verifier_assigned"} & set(kinds)
    ticked = {f"{k}.in_app": "on" for k in kinds} | {f"{k}.email": "on" for k in kinds if k != "message_received"}
    # A forged "off" for a statutory kind is not sent: statutory kinds stay on whatever the form says.
    ticked.pop("decision_made.email")
    saved = enterprise.post("/notifications/preferences", ticked)
    assert saved.status_code == 303
    again = enterprise.get(saved.headers["location"])
    assert 'id="preferences-saved"' in again.text
    optional = re.search(r'<input[^>]*id="f-message_received-email"[^>]*>', again.text)
    assert optional and "checked" not in optional[0]
    statutory = re.search(r'<input[^>]*id="f-decision_made-email"[^>]*>', again.text)
    assert statutory and "checked" in statutory[0]
    # Back on for the other tests of the session.
    everything = {f"{k}.{c}": "on" for k in kinds for c in ("in_app", "email")}
    assert enterprise.post("/notifications/preferences", everything).status_code == 303


def test_preferences_offer_each_role_its_own_kinds(stack: Stack) -> None:
    """A reviewer is asked about reviews only; an auditor, whom nothing is sent to, sees that there is nothing to set."""
    reviewer = PortalUser(stack.url("portal"), "reviewer2", home="/staff")
    try:
        kinds = set(re.findall(r'id="preference-([a-z_]+)"', reviewer.get("/notifications/preferences").text))
        assert kinds == {"review_assigned", "review_due_soon", "review_overdue"}
    finally:
        reviewer.close()
    auditor = PortalUser(stack.url("portal"), "auditor1", home="/staff")
    try:
        page = auditor.get("/notifications/preferences")
        assert page.status_code == 200 and 'id="preferences-none"' in page.text
        assert 'id="preferences-form"' not in page.text
    finally:
        auditor.close()
