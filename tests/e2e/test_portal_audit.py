"""The auditor in the portal (issue 14), through the real stack: the audit search finds an enterprise's update
with old → new among the three services' entries, its CSV holds it, the auditor's pages offer nothing that
changes anything, and a forged POST is refused (portal and API)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import HANOISTEEL, Api, if_match
from portal_helpers import PortalUser, field_error, text_of

from infra.devstack import Stack

POST_FORM = re.compile(
    r'<form[^>]*method="post"[^>]*action="([^"]*)"|<form[^>]*action="([^"]*)"[^>]*method="post"', re.I
)


@pytest.fixture(scope="module")
def auditor(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), "auditor1", home="/audit")
    yield user
    user.close()


@pytest.fixture(scope="module")
def changed(api: Api) -> dict[str, Any]:
    """A draft whose title the enterprise changed: the update entry carries old → new."""
    draft = api.draft(api.call(title="Đợt kiểm thử tra cứu nhật ký"), HANOISTEEL)
    new_title = "Thu hồi nhiệt khói lò nung phôi – Sóc Sơn"
    response = api.client.patch(
        f"/api/v1/applications/{draft['id']}",
        json={"title": new_title},
        headers=if_match(api.h(HANOISTEEL), draft["version"]),
    )
    assert response.status_code == 200, response.text
    return {"draft": draft, "old": draft["title"], "new": new_title}


def post_forms(page: str) -> list[str]:
    return [a or b for a, b in POST_FORM.findall(page)]


def test_audit_search_finds_the_update_with_old_and_new(auditor: PortalUser, api: Api, changed: dict[str, Any]) -> None:
    page = auditor.get("/audit/search", params={"q": "thu hoi nhiet khoi soc son", "action": "update"})
    assert page.status_code == 200, page.text
    row = re.search(r'<tr id="audit-entry-applications-\d+">(.*?)</tr>', page.text, re.S)
    assert row, text_of(page.text)[:2000]
    shown = text_of(row[1])
    assert changed["draft"]["id"] in shown and "title" in shown
    assert f"{changed['old']} → {changed['new']}" in shown
    assert "Đã thay đổi" in shown and "Doanh nghiệp" in shown  # the action and the role in Vietnamese

    # English, and the merged list of the three services without a filter (newest first, a next page link):
    # more than a page of entries first (a fresh stack may hold fewer).
    padding = api.draft(api.call(title="Đợt kiểm thử phân trang nhật ký"), HANOISTEEL)
    for n in range(26):
        response = api.client.patch(
            f"/api/v1/applications/{padding['id']}",
            json={"title": f"Bản nháp số {n}"},
            headers=if_match(api.h(HANOISTEEL), padding["version"] + n),
        )
        assert response.status_code == 200, response.text
    auditor.get("/language/en", params={"next": "/audit"})  # the session keeps the language
    try:
        everything = auditor.get("/audit/search")
        assert everything.status_code == 200 and "Search the audit trail" in everything.text
        link = re.search(r'href="(/audit/search\?[^"]+)" rel="next" id="audit-next"', everything.text)
        assert link, text_of(everything.text)[-500:]
        second = auditor.get(link[1].replace("&amp;", "&"))
        assert second.status_code == 200
        first_ids = set(re.findall(r'id="audit-entry-([a-z]+-\d+)"', everything.text))
        second_ids = set(re.findall(r'id="audit-entry-([a-z]+-\d+)"', second.text))
        assert len(first_ids) == 25 and second_ids and not first_ids & second_ids
    finally:
        auditor.get("/language/vi", params={"next": "/audit"})


def test_audit_search_csv_holds_the_change(auditor: PortalUser, changed: dict[str, Any]) -> None:
    response = auditor.get("/audit/search.csv", params={"entity_id": changed["draft"]["id"]})
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    updates = [r for r in rows if r["Hành động"] == "update"]
    assert [u["Thay đổi (cũ → mới)"] for u in updates] == [f"title: {changed['old']} → {changed['new']}"]
    assert {r["Mã đối tượng"] for r in rows} == {changed["draft"]["id"]}


def test_a_bad_date_range_is_shown_next_to_the_field(auditor: PortalUser) -> None:
    page = auditor.get("/audit/search", params={"from": "2026-12-31", "to": "2026-01-01"})
    assert page.status_code == 422
    assert field_error(page.text, "f-to")
    typo = auditor.get("/audit/search", params={"from": "31/02/2026"})
    assert typo.status_code == 422 and field_error(typo.text, "f-from")


def test_the_auditor_sees_nothing_that_changes_anything_and_a_forged_post_is_refused(
    auditor: PortalUser, api: Api, changed: dict[str, Any]
) -> None:
    for path in ("/audit", "/audit/search", "/results", "/staff"):
        page = auditor.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert post_forms(page.text) == ["/logout"], (path, post_forms(page.text))
    # Forged: the enterprise's submit as the auditor → the portal's 403 page; the API refuses any write too.
    forged = auditor.post(f"/enterprise/applications/{changed['draft']['id']}/submit", {})
    assert forged.status_code == 403, forged.text[:500]
    for path in (f"/api/v1/applications/{changed['draft']['id']}/submit", "/api/v1/calls"):
        refused = api.client.post(path, json={}, headers=api.h("auditor1"))
        assert refused.status_code == 403, (path, refused.text)
    # The audit search is read-only for everyone: the gateway answers 405 before any role check.
    assert api.client.post("/api/v1/audit/applications", json={}, headers=api.h("auditor1")).status_code == 405
    # Other roles cannot open the audit search.
    enterprise = PortalUser(str(auditor.client.base_url), HANOISTEEL)
    try:
        assert enterprise.get("/audit/search").status_code == 403
    finally:
        enterprise.close()
