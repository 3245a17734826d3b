"""Payments in the portal (issue 15), through the real stack: finance1 finds the approved application's advance on the
"Thanh toán" work list and prepares it; finance1 is refused the approval (the message next to the button); officer1
approves it from the case's tranches tab; finance1 marks it paid — a date in the future and a wrong amount are shown
at their fields in the user's language — and the enterprise sees the payment (source, date, reference) on its
application page. vi and en."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from e2e_helpers import HANOISTEEL, Api, today, tranches
from portal_helpers import PortalUser, field_error, text_of

from infra.devstack import Stack

VERSION = re.compile(r'name="version" value="(\d+)"')
TEXTS = {
    "vi": {
        "prepared": "Đã lập lệnh chi",
        "approved": "Đã duyệt chi",
        "forbidden": "không có quyền",
        "future": "tương lai",
        "amount": "phải bằng số tiền",
        "paid": "Đã chi",
        "source": "Ngân sách thành phố",
    },
    "en": {
        "prepared": "The payment is prepared",
        "approved": "The payment is approved",
        "forbidden": "needs one of the roles",
        "future": "future",
        "amount": "must be the tranche's amount",
        "paid": "Paid",
        "source": "Ngân sách thành phố",
    },
}


@pytest.fixture(params=["vi", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def people(stack: Stack, language: str) -> Iterator[dict[str, PortalUser]]:
    users = {
        "finance": PortalUser(stack.url("portal"), "finance1", language=language, home="/payments"),
        "officer": PortalUser(stack.url("portal"), "officer1", language=language, home="/staff"),
        "enterprise": PortalUser(stack.url("portal"), HANOISTEEL, language=language),
    }
    yield users
    for user in users.values():
        user.close()


def take(user: PortalUser, path: str, data: dict[str, str]) -> tuple[int, str]:
    """Post a step form as the browser does; after the redirect (post/redirect/get) the page it lands on."""
    response = user.post(path, data)
    if response.status_code == 303:
        landed = user.get(response.headers["location"])
        return landed.status_code, landed.text
    return response.status_code, response.text


def version_on(page: str) -> str:
    found = VERSION.search(page)
    assert found, "the step form carries the tranche's version"
    return found[1]


def test_finance_prepares_an_officer_approves_finance_marks_paid_and_the_enterprise_sees_it(
    people: dict[str, PortalUser], api: Api, language: str
) -> None:
    texts = TEXTS[language]
    finance, officer, enterprise = people["finance"], people["officer"], people["enterprise"]
    application = api.approved(api.call(title="Đợt hỗ trợ – thanh toán qua cổng (kiểm thử)"), HANOISTEEL)
    advance = tranches(application)["advance"]
    page_path = f"/payments/{application['id']}/{advance['id']}"

    # the work list: the advance waits in "to prepare", with its dossier and source
    listed = finance.get("/payments")
    assert listed.status_code == 200
    section = re.search(r'<section id="section-payable".*?</section>', listed.text, re.S)[0]
    row = re.search(rf'<tr data-tranche="{advance["id"]}">.*?</tr>', section, re.S)[0]
    assert application["dossier_code"] in row and texts["source"] in text_of(row)
    assert "240.000.000" in row if language == "vi" else "240,000,000" in row

    # finance prepares
    page = finance.get(page_path)
    assert 'id="take-step"' in page.text
    status, done = take(finance, f"{page_path}/prepare", {"version": version_on(page.text)})
    assert status == 200 and texts["prepared"] in text_of(done)
    assert tranches(api.get(application))["advance"]["status"] == "prepared"

    # finance is not offered the approval, and a forged one is refused next to the button
    page = finance.get(page_path)
    assert 'id="take-step"' not in page.text and 'id="no-step"' in page.text
    current = str(tranches(api.get(application))["advance"]["version"])
    status, forged = take(finance, f"{page_path}/approve", {"version": current})
    assert status == 403
    message = re.search(r'id="f-step">(.*?)</p>', forged, re.S)
    assert message and texts["forbidden"] in text_of(message[1]).lower()

    # officer1 approves from the case's tranches tab
    tab = officer.get(f"/officer/applications/{application['id']}/tranches")
    assert f'id="approve-{advance["id"]}"' in tab.text
    page = officer.get(page_path)
    status, approved = take(officer, f"{page_path}/approve", {"version": version_on(page.text)})
    assert status == 200 and texts["approved"] in text_of(approved)

    # finance marks it paid: each error at its field, in the user's language, what was typed kept
    page = finance.get(page_path)
    version = version_on(page.text)
    typed = {"version": version, "reference": "KBNN-HN/2026/7"}
    status, wrong = take(finance, f"{page_path}/paid", {**typed, "paid_on": today().isoformat(), "amount_vnd": "1"})
    assert status == 422 and texts["amount"] in (field_error(wrong, "f-amount_vnd") or "").lower()
    assert 'value="KBNN-HN/2026/7"' in wrong
    future = today().replace(year=today().year + 1).isoformat()
    status, wrong = take(finance, f"{page_path}/paid", {**typed, "paid_on": future, "amount_vnd": "240.000.000"})
    assert status == 422 and texts["future"] in (field_error(wrong, "f-paid_on") or "").lower()
    status, paid = take(
        finance, f"{page_path}/paid", {**typed, "paid_on": today().isoformat(), "amount_vnd": "240.000.000"}
    )
    assert status == 200, text_of(paid)[:500]
    stored = tranches(api.get(application))["advance"]
    assert (stored["status"], stored["paid_vnd"], stored["payment_reference"]) == (
        "paid",
        240_000_000,
        "KBNN-HN/2026/7",
    )
    assert f'data-tranche="{advance["id"]}"' not in finance.get("/payments").text  # off the work list

    # the enterprise sees the payment on its application page
    own = enterprise.get(f"/enterprise/applications/{application['id']}")
    row = re.search(r'<tr id="tranche-advance".*?</tr>', own.text, re.S)[0]
    shown = text_of(row)
    assert texts["paid"] in shown and "KBNN-HN/2026/7" in shown and texts["source"] in shown
    assert today().strftime("%d/%m/%Y") in shown


def test_an_officer_adds_a_funding_source_and_reads_the_money_per_source(
    people: dict[str, PortalUser], api: Api, language: str
) -> None:
    officer, finance = people["officer"], people["finance"]
    call = api.call(title="Đợt hỗ trợ – nguồn kinh phí qua cổng (kiểm thử)")
    application = api.approved(call, HANOISTEEL)
    path = f"/officer/calls/{call['id']}/funding"
    page = officer.get(path)
    assert page.status_code == 200
    row = re.search(r'<tr data-figure="committed_vnd">.*?</tr>', page.text, re.S)[0]
    committed = re.search(r'<td class="numeric" data-source="city-budget">(.*?)</td>', row, re.S)[1]
    assert committed.replace(".", "").replace(",", "").replace("\xa0₫", "").strip() == str(
        application["approved_support_vnd"]
    )
    assert 'data-type="technology_transfer"' in page.text

    # a wrong amount is shown at its field; then the donor programme is added and the budget grows by its amount
    form = {"version": version_on(page.text), "code": "donor-unido", "name": "Chương trình SXSH của UNIDO"}
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)[1]
    status, wrong = take(
        officer,
        f"/officer/calls/{call['id']}/funding-sources",
        {**form, "idempotency_key": key, "kind": "foreign_donor", "amount_vnd": "năm trăm"},
    )
    assert status == 422 and field_error(wrong, "f-amount_vnd")
    status, added = take(
        officer,
        f"/officer/calls/{call['id']}/funding-sources",
        {**form, "idempotency_key": key, "kind": "foreign_donor", "amount_vnd": "500.000.000"},
    )
    assert status == 200 and 'id="source-added"' in added
    assert 'id="source-donor-unido"' in added and "Chương trình SXSH của UNIDO" in added
    assert api.get_call(call["id"])["budget_vnd"] == call["budget_vnd"] + 500_000_000

    # a source changed: the city budget below what it committed is refused at the field; the donor's raised
    listing = officer.get(f"/officer/calls/{call['id']}/funding").text
    city_link = re.search(r'href="([^"]+/edit)" id="edit-source-city-budget"', listing)[1]
    page = officer.get(city_link)
    city = {"version": version_on(page.text), "name": "Ngân sách thành phố", "conditions": "", "amount_vnd": "1"}
    status, low = take(officer, city_link, city)
    message = field_error(low, "f-amount_vnd") or ""
    assert status == 409 and str(application["approved_support_vnd"]) in re.sub(r"\D", "", message), message
    donor_link = re.search(r'href="([^"]+/edit)" id="edit-source-donor-unido"', listing)[1]
    page = officer.get(donor_link)
    donor = {"version": version_on(page.text), "name": "Chương trình SXSH của UNIDO (giai đoạn 2)", "conditions": ""}
    status, changed = take(officer, donor_link, {**donor, "amount_vnd": "600.000.000"})
    assert status == 200 and 'id="source-changed"' in changed and "(giai đoạn 2)" in changed
    assert api.get_call(call["id"])["budget_vnd"] == call["budget_vnd"] + 600_000_000

    # finance reads the same report from its menu, without the form
    listing = finance.get("/payments/calls")
    assert f'id="funding-{call["code"]}"' in listing.text
    report = finance.get(path)
    assert (
        report.status_code == 200 and 'id="source-donor-unido"' in report.text and 'id="add-source"' not in report.text
    )
