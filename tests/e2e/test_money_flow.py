"""Programme money end to end (issue 15), through the gateway with real Keycloak tokens: a technology-transfer
project funded by two sources (a donor programme and the city budget) goes from the call to a verified, paid
balance — finance1 prepares each payment, officer1 approves it, finance1 records the treasury's confirmation — and
the payments are visible to the enterprise and arrive as signed webhooks at an e-government subscriber."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import HANOISTEEL, Api, assert_problem, if_match, poll, today
from test_egov import Receiver, documented_verifier, egov
from test_verification_flow import (
    application_in,
    approve_reporting_start,
    assign,
    case_of,
    conclude,
    declare,
    read_case,
    record,
    reporting_year,
)

DONOR = {
    "code": "donor-unido",
    "name": "Chương trình SXSH của UNIDO",
    "kind": "foreign_donor",
    "amount_vnd": 500_000_000,
}
CITY = {"code": "city-budget", "name": "Ngân sách thành phố Hà Nội", "kind": "city_budget", "amount_vnd": 9_500_000_000}
PAYMENT_EVENTS = ("application.payment_prepared", "application.payment_approved", "application.tranche_paid")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def pay_all(api: Api, application: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Every tranche of `kind` (one per source): prepared by finance1, approved by officer1, paid (finance1)."""
    paid = []
    for t in api.get(application)["tranches"]:
        if t["kind"] != kind:
            continue
        base = f"/api/v1/applications/{application['id']}/tranches/{t['id']}"
        prepared = api.client.post(f"{base}/prepare", headers=if_match(api.h("finance1"), t["version"]))
        assert prepared.status_code == 200, prepared.text
        # four-eyes at the edge too: finance may not approve (the gateway lets finance write, the service refuses)
        assert_problem(
            api.client.post(f"{base}/approve", headers=if_match(api.h("finance1"), prepared.json()["version"])), 403
        )
        approved = api.client.post(f"{base}/approve", headers=if_match(api.h("officer1"), prepared.json()["version"]))
        assert approved.status_code == 200, approved.text
        body = {"paid_on": today().isoformat(), "reference": f"KBNN-HN/{t['id'][-6:]}", "amount_vnd": t["amount_vnd"]}
        done = api.client.post(
            f"{base}/paid", json=body, headers=if_match(api.h("finance1"), approved.json()["version"])
        )
        assert done.status_code == 200, done.text
        paid.append(done.json())
    return paid


def test_a_technology_transfer_funded_by_two_sources_is_verified_and_paid(api: Api, receiver: Receiver) -> None:
    verify_webhook, _ = documented_verifier()
    subscription = api.client.post(
        "/api/v1/integrations/webhooks",
        headers=egov(api.tokens),
        json={"url": receiver.url, "event_types": ["application.*"], "description": "Một cửa"},
    )
    assert subscription.status_code == 201, subscription.text
    secret = subscription.json()["secret"]

    call = api.call(budget_vnd=10_000_000_000, support_types=["technology_transfer"], funding_sources=[DONOR, CITY])
    sources = api.client.get(f"/api/v1/calls/{call['id']}/funding-sources", headers=api.h("finance1")).json()
    assert [s["code"] for s in sources] == ["donor-unido", "city-budget"]

    application = api.approved(call, HANOISTEEL)
    assert application["support_type"] == "technology_transfer" and application["approved_support_vnd"] == 800_000_000
    funding = api.client.get(f"/api/v1/applications/{application['id']}/funding", headers=api.h(HANOISTEEL)).json()
    assert [(a["source_code"], a["amount_vnd"]) for a in funding["allocations"]] == [
        ("donor-unido", 500_000_000),
        ("city-budget", 300_000_000),
    ]
    advances = pay_all(api, application, "advance")
    assert sorted(a["paid_vnd"] for a in advances) == [90_000_000, 150_000_000]

    # the project: started, completed, verified by the verification service (verifier1, the ended months of 2026 at 90 %)
    current = api.get(application)
    current = api.act(current, "start", HANOISTEEL, json={"reason": "Đã ký hợp đồng với nhà cung cấp."})
    api.act(current, "completion", HANOISTEEL, json={"reason": "Đã nghiệm thu lắp đặt, vận hành."})
    case = case_of(api, application["id"])
    poll(lambda: read_case(api, case["id"])["ready_to_conclude"], what="the completion to reach verification")
    approve_reporting_start(api, case["id"])  # the months reported run before today's completion (issue 15 dates)
    assert assign(api, case["id"]).status_code == 200
    assert declare(api, case["id"]).status_code == 200
    record(api, case["id"], reporting_year(read_case(api, case["id"]), HANOISTEEL, 0.90))
    concluded = conclude(api, case["id"], review_note="Số liệu khớp hóa đơn EVN.")
    assert concluded.status_code == 200 and concluded.json()["verdict"] == "verified", concluded.text
    verified = application_in(api, application["id"], "verified")
    balances = {t["source_id"]: t for t in verified["tranches"] if t["kind"] == "balance"}
    assert sorted(t["amount_vnd"] for t in balances.values()) == [210_000_000, 350_000_000]
    assert {t["status"] for t in balances.values()} == {"payable"}

    pay_all(api, application, "balance")

    # the enterprise sees every payment, with its date and treasury reference; the books balance
    mine = api.get(application, HANOISTEEL)
    assert {(t["kind"], t["status"]) for t in mine["tranches"]} == {("advance", "paid"), ("balance", "paid")}
    assert all(t["paid_on"] == today().isoformat() and t["payment_reference"] for t in mine["tranches"])
    books = api.client.get(f"/api/v1/applications/{application['id']}/funding", headers=api.h(HANOISTEEL)).json()
    assert books["figures"]["paid_vnd"] == 800_000_000 and books["figures"]["outstanding_vnd"] == 0
    report = api.client.get(f"/api/v1/calls/{call['id']}/funding", headers=api.h("finance1")).json()
    by_code = {s["code"]: s["figures"] for s in report["sources"]}
    assert by_code["donor-unido"]["paid_vnd"] == 500_000_000 and by_code["city-budget"]["paid_vnd"] == 300_000_000
    assert_problem(api.client.get(f"/api/v1/calls/{call['id']}/funding", headers=api.h(HANOISTEEL)), 403)

    # the e-government subscriber received every payment step of the dossier, signed
    def payment_hooks() -> list[dict[str, Any]]:
        return [e for _, _, e in receiver.events(application["id"]) if e["type"] in PAYMENT_EVENTS]

    deadline = time.monotonic() + 30
    while len(payment_hooks()) < 12:  # 4 tranches × 3 steps
        assert time.monotonic() < deadline, f"only {len(payment_hooks())} payment webhooks within 30 s"
        time.sleep(0.2)
    for headers, body, event in receiver.events(application["id"]):
        if event["type"] in PAYMENT_EVENTS:
            assert verify_webhook(secret, headers, body) == event["id"]
    paid_hooks = [e["data"] for e in payment_hooks() if e["type"] == "application.tranche_paid"]
    assert sorted((d["source_code"], d["kind"], d["paid_vnd"]) for d in paid_hooks) == [
        ("city-budget", "advance", 90_000_000),
        ("city-budget", "balance", 210_000_000),
        ("donor-unido", "advance", 150_000_000),
        ("donor-unido", "balance", 350_000_000),
    ]
    assert all(d["dossier_code"] == application["dossier_code"] for d in paid_hooks)
    deleted = api.client.delete(f"/api/v1/integrations/webhooks/{subscription.json()['id']}", headers=egov(api.tokens))
    assert deleted.status_code == 204, deleted.text
