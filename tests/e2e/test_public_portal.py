"""The portal's public pages through the real gateway without any token (issue #13): open calls, a call, the
sectors and a dossier's status by its code; a token sent along (even a bogus one) is ignored, never a 401."""

from __future__ import annotations

from typing import Any

import httpx
from e2e_helpers import HANOISTEEL, Api, assert_problem, days

BOGUS = {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.bm90LWEtc2lnbmF0dXJl"}


def test_open_calls_and_one_call_without_a_token(api: Api, gateway: httpx.Client) -> None:
    open_call = api.call()
    closed = api.call(opens_on=days(-30), closes_on=days(-1))
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        response = gateway.get("/api/v1/public/calls", params=params)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    ids = [c["id"] for c in items]
    assert open_call["id"] in ids and closed["id"] not in ids
    assert "version" not in items[0] and "committed_vnd" not in items[0]
    for headers in ({}, BOGUS, api.h("officer1")):
        one = gateway.get(f"/api/v1/public/calls/{closed['id']}", headers=headers)
        assert one.status_code == 200, one.text
        assert one.json()["code"] == closed["code"] and one.json()["is_open"] is False


def test_sectors_without_a_token(gateway: httpx.Client) -> None:
    response = gateway.get("/api/v1/public/sectors", headers=BOGUS)
    assert response.status_code == 200, response.text
    codes = {s["code"] for s in response.json()["items"]}
    assert {"steel", "beer"} <= codes
    # The staff route still needs a token.
    assert_problem(gateway.get("/api/v1/sectors"), 401)


def test_dossier_status_by_code_without_a_token(api: Api, gateway: httpx.Client) -> None:
    application = api.submitted(api.call(), HANOISTEEL)
    code = application["dossier_code"]
    for headers in ({}, BOGUS):
        response = gateway.get(f"/api/v1/public/dossiers/{code}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["dossier_code"] == code and body["status"] == "under_review"
        assert body["egov_status"] == 4 and body["egov_status_label"] == "Đang xử lý"
        assert application["enterprise_name"] not in response.text and application["title"] not in response.text
    assert_problem(gateway.get("/api/v1/public/dossiers/000.00.01.H26-991231-9999"), 404)
    assert_problem(gateway.get("/api/v1/public/dossiers/khong-phai-ma"), 404)
    # Writes on the public prefix do not exist (nobody may write there): 405, with or without a token.
    assert_problem(gateway.post("/api/v1/public/calls", json={}), 405)


def test_problems_through_the_gateway_in_vietnamese(api: Api, gateway: httpx.Client) -> None:
    vi = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"}
    missing = assert_problem(gateway.get("/api/v1/public/dossiers/000.00.01.H26-991231-9999", headers=vi), 404)
    assert missing["code"] == "dossier_not_found"
    assert missing["detail"] == "Không có hồ sơ nào mang mã 000.00.01.H26-991231-9999."
    call = api.call()
    body = {
        "call_id": call["id"],
        "facility_id": api.facility(HANOISTEEL)["id"],
        "supplier": {"name": "Công ty TNHH Thiết bị Nhiệt Hà Nội", "tax_code": "0100109107"},
    }
    refused = assert_problem(gateway.post("/api/v1/applications", json=body, headers=api.h(HANOISTEEL, **vi)), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("supplier.tax_code", "invalid_tax_code")]
    assert refused["errors"][0]["message"].startswith("Mã số thuế không hợp lệ")
    unauthorized = assert_problem(gateway.get("/api/v1/applications", headers=vi), 401)
    assert unauthorized["code"] == "unauthorized" and unauthorized["title"] == "Chưa xác thực"
    # Save as you go through the gateway: a draft with only the call and the facility.
    draft = gateway.post(
        "/api/v1/applications",
        json={"call_id": call["id"], "facility_id": api.facility(HANOISTEEL)["id"]},
        headers=api.h(HANOISTEEL),
    )
    assert draft.status_code == 201, draft.text
    assert "technology" in draft.json()["missing_fields"]
