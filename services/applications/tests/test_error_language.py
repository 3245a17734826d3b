"""One vocabulary of error codes, in English and Vietnamese (issue #13): every problem carries a top-level `code`,
every field error a `code` from the kit catalogue, and the texts follow Accept-Language (English by default)."""

from __future__ import annotations

import re

import httpx
from applications_helpers import Actors, World, application_body, assert_problem, if_match

VI = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}
VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
EXE = b"MZ\x90\x00" + b"\x00" * 200


async def test_a_bad_tax_code_in_vietnamese(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call = await world.call()
    body = application_body(
        call["id"],
        world.a.steel_facility,
        supplier={"name": "Công ty TNHH Thiết bị Nhiệt Hà Nội", "tax_code": "0100109107"},
    )
    headers = actors.enterprise(world.a.tax_code)
    vi = assert_problem(await client.post("/api/v1/applications", json=body, headers={**headers, **VI}), 422)
    assert vi["code"] == "validation_failed" and vi["title"] == "Dữ liệu không hợp lệ"
    assert VIETNAMESE.search(vi["detail"])
    (error,) = vi["errors"]
    assert error["field"] == "supplier.tax_code" and error["code"] == "invalid_tax_code"
    assert error["message"].startswith("Mã số thuế không hợp lệ")
    en = assert_problem(await client.post("/api/v1/applications", json=body, headers=headers), 422)
    (error,) = en["errors"]
    assert error["code"] == "invalid_tax_code" and en["title"] == "Unprocessable content"
    assert "tax code" in error["message"] and not error["message"].startswith("Value error")
    assert not VIETNAMESE.search(en["detail"] + error["message"])


async def test_validation_library_codes_become_project_codes(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    body = application_body(
        call["id"],
        world.a.steel_facility,
        title="",
        total_cost_vnd="nhiều",
        implementation_start="28/11/2026",
        is_admin=True,
    )
    problem = assert_problem(
        await client.post("/api/v1/applications", json=body, headers={**actors.enterprise(world.a.tax_code), **VI}), 422
    )
    codes = {e["field"]: e["code"] for e in problem["errors"]}
    assert codes == {
        "title": "too_short",
        "total_cost_vnd": "not_an_integer",
        "implementation_start": "strict_date",
        "is_admin": "unknown_field",
    }
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages["title"] == "Cần ít nhất 1 ký tự."
    assert messages["is_admin"].startswith("Trường không xác định")
    assert all(VIETNAMESE.search(m) for m in messages.values())


async def test_412_415_428_carry_codes(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    draft = await world.draft()
    owner = world.owner(draft)
    url = f"/api/v1/applications/{draft['id']}"
    missing = assert_problem(await client.patch(url, json={"title": "Mới"}, headers=owner), 428)
    assert missing["code"] == "if_match_required" and "If-Match" in missing["detail"]
    stale = assert_problem(await client.patch(url, json={"title": "Mới"}, headers={**if_match(owner, 7), **VI}), 412)
    assert stale["code"] == "stale_version" and stale["title"] == "Dữ liệu đã bị thay đổi"
    assert stale["detail"] == "Hồ sơ đã được người khác thay đổi; vui lòng tải lại và lưu lần nữa."
    upload = f"{url}/documents"
    exe = assert_problem(
        await client.post(upload, files={"file": ("bao-gia.pdf", EXE, "application/pdf")}, headers={**owner, **VI}), 415
    )
    assert exe["code"] == "unsupported_file_type" and "bao-gia.pdf" in exe["detail"]
    assert VIETNAMESE.search(exe["detail"])
    not_multipart = assert_problem(await client.post(upload, json={"file": "x"}, headers=owner), 415)
    assert not_multipart["code"] == "multipart_required"


async def test_domain_problems_in_both_languages(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    submitted = await world.submitted()
    url = f"/api/v1/applications/{submitted['id']}"
    owner = world.owner(submitted)
    en = assert_problem(
        await client.patch(url, json={"title": "x"}, headers=if_match(owner, submitted["version"])), 409, "not-editable"
    )
    vi = assert_problem(
        await client.patch(url, json={"title": "x"}, headers={**if_match(owner, submitted["version"]), **VI}), 409
    )
    assert en["code"] == vi["code"] == "not_editable"
    assert "'under_review'" in en["detail"] and "'under_review'" in vi["detail"]
    assert vi["detail"].startswith("Hồ sơ đang ở trạng thái") and vi["status_now"] == "under_review"
    illegal = assert_problem(
        await client.post(f"{url}/withdraw", headers={**if_match(owner, submitted["version"]), **VI}),
        409,
        "illegal-transition",
    )
    assert illegal["code"] == "invalid_transition" and illegal["title"] == "Không thể chuyển trạng thái"
    gone = assert_problem(
        await client.get(
            "/api/v1/applications/0190f0f0-0000-7000-8000-000000000000", headers={**actors.officer(), **VI}
        ),
        404,
    )
    assert gone["code"] == "application_not_found" and gone["detail"].startswith("Không tồn tại hồ sơ")
    nowhere = assert_problem(await client.get("/api/v1/nowhere", headers=VI), 404)
    assert nowhere["code"] == "not_found" and nowhere["title"] == "Không tìm thấy"
    method = assert_problem(await client.put("/api/v1/calls", json={}, headers=actors.officer()), 405)
    assert method["code"] == "method_not_allowed"
    unauthorized = assert_problem(await client.get("/api/v1/applications", headers=VI), 401)
    assert unauthorized["code"] == "unauthorized" and unauthorized["title"] == "Chưa xác thực"


async def test_submission_problems_in_vietnamese(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call = await world.call()
    created = await client.post(
        "/api/v1/applications",
        json={"call_id": call["id"], "facility_id": world.a.steel_facility},
        headers=actors.enterprise(world.a.tax_code),
    )
    draft = created.json()
    problem = assert_problem(
        await client.post(
            f"/api/v1/applications/{draft['id']}/submit", headers={**if_match(world.owner(draft), 1), **VI}
        ),
        422,
    )
    assert problem["code"] == "application_incomplete" and problem["title"] == "Hồ sơ chưa đầy đủ"
    assert problem["detail"].startswith("Hồ sơ chưa thể nộp") and "technology" in problem["detail"]
    assert {e["message"] for e in problem["errors"]} == {"Trường này là bắt buộc."}
    assert len(problem["errors"]) == 9
