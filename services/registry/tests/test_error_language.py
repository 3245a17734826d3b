"""Registry problems carry catalogue codes and answer in Vietnamese when Accept-Language prefers it."""

from __future__ import annotations

import httpx
from registry_helpers import Actors, enterprise_body


async def test_bad_enterprise_tax_code_in_vietnamese_and_english(client: httpx.AsyncClient, actors: Actors) -> None:
    body = enterprise_body(tax_code="0100109107")  # wrong check digit
    vi = await client.post("/api/v1/enterprises", json=body, headers={**actors.officer, "Accept-Language": "vi"})
    assert vi.status_code == 422 and vi.headers["content-type"].startswith("application/problem+json")
    problem = vi.json()
    assert problem["code"] == "validation_failed" and problem["title"] == "Dữ liệu không hợp lệ"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("tax_code", "invalid_tax_code")]
    assert problem["errors"][0]["message"].startswith("Mã số thuế không hợp lệ")
    en = (await client.post("/api/v1/enterprises", json=body, headers=actors.officer)).json()
    assert en["errors"][0]["code"] == "invalid_tax_code"
    assert "not a valid Vietnamese tax code" in en["errors"][0]["message"]
    assert not en["errors"][0]["message"].startswith("Value error")


async def test_registry_domain_problems_have_codes(client: httpx.AsyncClient, actors: Actors) -> None:
    unknown = await client.get("/api/v1/sectors/khong-co", headers={**actors.auditor, "Accept-Language": "vi"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "record_not_found" and unknown.json()["title"] == "Không tìm thấy"
    norm = await client.get(
        "/api/v1/norms/lookup",
        params={"sector": "steel", "product": "không có", "on": "2027-03-01"},
        headers={**actors.auditor, "Accept-Language": "vi"},
    )
    assert norm.status_code == 404 and norm.json()["code"] == "norm_not_found"
    assert norm.json()["detail"].startswith("Không có định mức nào cho ngành 'steel'")
    assert "01/03/2027" in norm.json()["detail"]
